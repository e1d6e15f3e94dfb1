"""The open reading: its snapshot, the derived assessment and the undo stack."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from recist_app.recist import Assessment, Reading, assess
from recist_app.ui.commands import ReplaceReadingCommand
from recist_app.ui.error_dialog import describe_error

__all__ = ["DocumentLockedError", "ReadingDocument", "ReadingSaver"]


class DocumentLockedError(Exception):
    """A change was asked of a signed (locked) reading."""


class ReadingSaver(Protocol):
    """Where every applied reading is saved (autosave); the store implements it."""

    def save(self, reading: Reading, assessment: Assessment | None = None) -> None:
        """Persist ``reading``; raise on failure.

        ``assessment`` is ``assess(reading)``, already computed by the document.
        """


class ReadingDocument(QObject):
    """Current :class:`Reading` plus its :class:`Assessment` and a ``QUndoStack``.

    Document state changes only through :meth:`replace`, which pushes one
    :class:`ReplaceReadingCommand`. With a ``saver`` every redo and undo is saved
    the moment it is applied; the undo stack is clean exactly when the last
    change was saved (STYLE.md 4.5: "save calls setClean()"). View state that
    several widgets share (the visit being read, the selected lesion) lives here
    too, but changes directly, without undo (STYLE.md 4.2 rule 5).

    Signals
    -------
    reading_changed(Reading, Assessment)
        After every redo/undo and after :meth:`load`.
    visit_changed(str)
        The visit being read changed.
    selection_changed(str)
        The selected lesion id changed (``""`` for none).
    save_failed(str)
        Autosave raised; the message is one line.
    lock_changed(str)
        The reading was signed (the signature, e.g. ``"signed by dr-a at …"``) or
        reopened for changes (``""``).
    """

    reading_changed = Signal(object, object)
    visit_changed = Signal(str)
    selection_changed = Signal(str)
    save_failed = Signal(str)
    lock_changed = Signal(str)

    def __init__(
        self,
        reading: Reading,
        *,
        saver: ReadingSaver | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._saver = saver
        self._reading = reading
        self._assessment = assess(reading)
        self._visit = reading.timepoints[0].visit if reading.timepoints else ""
        self._selected_lesion_id = ""
        self._last_save_failed = False
        self._signature = ""
        self.undo_stack.indexChanged.connect(self._mark_saved)

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
        self.undo_stack.push(ReplaceReadingCommand(self, before, after, text))
        return True

    def load(self, reading: Reading) -> None:
        """Open another reading: clears the undo history (STYLE.md 4.5)."""
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
            try:
                self._saver.save(reading, self._assessment)
            except Exception as error:
                self._last_save_failed = True
                self.save_failed.emit(f"Autosave failed: {describe_error(error)}")
            else:
                self._last_save_failed = False
        self.reading_changed.emit(self._reading, self._assessment)

    def _mark_saved(self, _index: int) -> None:
        # The stack moves its index after redo()/undo() returns, so the clean
        # state can only be set here, not from apply_reading.
        if self._saver is None:
            return
        if self._last_save_failed:
            self.undo_stack.resetClean()  # unsaved until a later save succeeds
        else:
            self.undo_stack.setClean()

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
