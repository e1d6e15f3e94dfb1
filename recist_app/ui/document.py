"""The open reading: its snapshot, the derived assessment and the undo stack."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from recist_app.recist import Assessment, Reading, assess
from recist_app.ui.autosave import AutosaveWriter, SaveState
from recist_app.ui.commands import ReplaceReadingCommand
from recist_app.ui.errors import DocumentLockedError

if TYPE_CHECKING:
    from recist_app.workflows.reading_session import ReadingSession

__all__ = ["DocumentLockedError", "ReadingDocument", "open_document"]


class ReadingDocument(QObject):
    """Current :class:`Reading` plus its :class:`Assessment` and a ``QUndoStack``.

    Document state changes only through :meth:`replace`, which pushes one
    :class:`ReplaceReadingCommand`. With a ``saver`` every redo and undo is handed
    to the autosave writer the moment it is applied (the writer saves it off the
    GUI thread); the undo stack becomes clean when the writer reports the reading
    shown as saved (docs/architecture.md: "save calls setClean()"). View state
    that several widgets share (the visit being read, the selected lesion) lives
    here too, but changes directly, without undo.

    Signals
    -------
    reading_changed(Reading, Assessment)
        After every redo/undo and after :meth:`load`.
    visit_changed(str)
        The visit being read changed.
    selection_changed(str)
        The selected lesion id changed (``""`` for none).
    save_state_changed(SaveState, str)
        The autosave writer is saving, has saved the reading shown, or could not
        save (with the reason, one line).
    lock_changed(str)
        The reading was signed (the signature, e.g. ``"signed by dr-a at …"``) or
        reopened for changes (``""``).
    """

    reading_changed = Signal(object, object)
    visit_changed = Signal(str)
    selection_changed = Signal(str)
    save_state_changed = Signal(object, str)
    lock_changed = Signal(str)

    def __init__(
        self,
        reading: Reading,
        *,
        saver: AutosaveWriter | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._saver = saver
        self._reading = reading
        self._assessment = assess(reading)
        self._visit = reading.timepoints[0].visit if reading.timepoints else ""
        self._selected_lesion_id = ""
        self._signature = ""
        if saver is not None:
            saver.saved.connect(self._saved)
            saver.state_changed.connect(self._save_state_changed)

    # ------------------------------------------------------------ document state
    @property
    def reading(self) -> Reading:
        """The current reading snapshot."""
        return self._reading

    @property
    def assessment(self) -> Assessment:
        """``assess(reading)``, recomputed on every change."""
        return self._assessment

    def replace(self, after: Reading, text: str) -> bool:
        """Push one undo step that replaces the reading; ignore a no-op.

        Returns whether a command was pushed.

        Raises
        ------
        DocumentLockedError
            The reading is signed; it must be amended first.
        """
        if self._signature:
            raise DocumentLockedError(
                f"the reading is {self._signature}; amend it to make changes"
            )
        before = self._reading
        if after == before:
            return False
        self.undo_stack.push(
            ReplaceReadingCommand(self.apply_reading, before, after, text)
        )
        return True

    def load(self, reading: Reading) -> None:
        """Open another reading: clears the undo history (house rules: undo)."""
        self.undo_stack.clear()
        self._visit = reading.timepoints[0].visit if reading.timepoints else ""
        self._selected_lesion_id = ""
        self.apply_reading(reading, save=False)
        self.undo_stack.setClean()
        self.visit_changed.emit(self._visit)
        self.selection_changed.emit("")

    def apply_reading(self, reading: Reading, *, save: bool = True) -> None:
        """Make ``reading`` current. Only undo commands and :meth:`load` call this."""
        self._reading = reading
        self._assessment = assess(reading)
        visits = [t.visit for t in reading.timepoints]
        if self._visit not in visits:  # gone, or the first visit was just added
            visit = visits[0] if visits else ""
            if visit != self._visit:
                self._visit = visit
                self.visit_changed.emit(visit)
        if self._selected_lesion_id and not any(
            lesion.lesion_id == self._selected_lesion_id for lesion in reading.lesions
        ):
            self._selected_lesion_id = ""
            self.selection_changed.emit("")
        if save and self._saver is not None:
            self._saver.save(reading, self._assessment)
        self.reading_changed.emit(self._reading, self._assessment)

    @property
    def saver(self) -> AutosaveWriter | None:
        """The autosave writer (``None``: the reading is not kept in a database)."""
        return self._saver

    def _saved(self, reading: Reading) -> None:
        # The writer stored ``reading``; if it is still the one shown, the stack's
        # current index is what the database holds.
        if reading is self._reading:
            self.undo_stack.setClean()

    def _save_state_changed(self, state: SaveState, message: str) -> None:
        if state is SaveState.FAILED:
            self.undo_stack.resetClean()  # unsaved until a later save succeeds
        self.save_state_changed.emit(state, message)

    # ------------------------------------------------------------ signature
    @property
    def signature(self) -> str:
        """``"signed by … at …"`` while the reading is signed, else ``""``."""
        return self._signature

    @property
    def locked(self) -> bool:
        """Whether the reading is signed, so nothing may change it."""
        return bool(self._signature)

    def set_signature(self, signature: str) -> None:
        """Lock the document as signed (``signature``) or unlock it (``""``).

        Signing happens in the store, not on the undo stack: a signature cannot
        be undone, only amended with a reason.
        """
        if signature == self._signature:
            return
        self._signature = signature
        self.lock_changed.emit(signature)

    # ------------------------------------------------------------ view state
    @property
    def visit(self) -> str:
        """The visit being read (``""`` when the reading has no timepoints)."""
        return self._visit

    def set_visit(self, visit: str) -> None:
        """Switch the visit being read."""
        if visit == self._visit:
            return
        self._reading.timepoint(visit)  # KeyError for an unknown visit
        self._visit = visit
        self.visit_changed.emit(visit)

    @property
    def selected_lesion_id(self) -> str:
        """The selected lesion id, ``""`` for none."""
        return self._selected_lesion_id

    def select_lesion(self, lesion_id: str) -> None:
        """Select a lesion (``""`` clears the selection)."""
        if lesion_id == self._selected_lesion_id:
            return
        self._selected_lesion_id = lesion_id
        self.selection_changed.emit(lesion_id)


def open_document(reading: Reading, session: ReadingSession) -> ReadingDocument:
    """A document on the stored version of ``reading`` that autosaves to ``session``.

    The demo patient (or any reading opened again) comes back as it was last
    saved, locked if it is signed; a reading the database has never seen opens
    as given.
    """
    document = ReadingDocument(session.open(reading), saver=AutosaveWriter(session))
    document.set_signature(session.signature)
    return document
