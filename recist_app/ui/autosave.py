"""Autosave off the GUI thread: every edit reaches the database, in order.

The document hands each reading it applies to :meth:`AutosaveWriter.save`, which
returns at once. One writer thread (a :class:`~recist_app.ui.background.TaskRunner`)
saves through the :class:`~recist_app.workflows.reading_session.ReadingSession`:

- saves keep their order, and a reading waiting to be written is replaced by a
  newer one (each save is the whole reading, so the newest includes every edit);
- an edit is never lost: when a save fails, the reading stays pending and is
  written by the next save or by :meth:`AutosaveWriter.flush` (closing the window
  flushes and asks before anything unsaved is dropped);
- signing and amending run on the same thread, after the saves before them;
- a busy shared database only delays "saving…": the window never waits on it.

The status (``saving``, ``saved``, ``failed`` with the one-line reason) is what the
status bar shows.
"""

from __future__ import annotations

import threading
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from recist_app.ui.background import TaskRunner

if TYPE_CHECKING:
    from collections.abc import Callable

    from recist_app.recist import Assessment, Reading
    from recist_app.ui.background import TaskContext
    from recist_app.workflows.reading_session import ReadingRecord, ReadingSession

__all__ = ["AutosaveWriter", "SaveState"]


class SaveState(StrEnum):
    """Where the open reading stands with the database."""

    SAVED = "saved"
    SAVING = "saving"
    FAILED = "failed"


class AutosaveWriter(QObject):
    """Saves the readings it is given on a writer thread, newest wins.

    Signals
    -------
    state_changed(SaveState, str)
        ``saving``, ``saved`` or ``failed`` with the reason (one line).
    saved(object)
        The reading that was just stored (GUI thread).
    """

    state_changed = Signal(object, str)
    saved = Signal(object)

    def __init__(self, session: ReadingSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._runner = TaskRunner("autosave", self)
        self._lock = threading.Lock()
        self._pending: tuple[Reading, Assessment | None] | None = None
        self._scheduled = False
        self._state = SaveState.SAVED
        self._message = ""

    @property
    def state(self) -> SaveState:
        """The latest state reported (GUI thread)."""
        return self._state

    @property
    def message(self) -> str:
        """Why the last save failed (``""`` unless :attr:`state` is ``failed``)."""
        return self._message

    @property
    def has_unsaved(self) -> bool:
        """Whether a reading waits to be written (or failed to be)."""
        with self._lock:
            return self._pending is not None

    def save(self, reading: Reading, assessment: Assessment | None = None) -> None:
        """Write ``reading`` soon (returns at once); it replaces any pending one."""
        with self._lock:
            self._pending = (reading, assessment)
            schedule = not self._scheduled
            self._scheduled = True
        self._set_state(SaveState.SAVING, "")
        if schedule:
            self._runner.submit(
                self._write, done=self._written, failed=self._failed, name="autosave"
            )

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Write what is pending now and wait; return whether all is saved.

        Called before leaving a reading (another patient, closing the window).
        """
        with self._lock:
            pending = self._pending is not None and not self._scheduled
            if pending:
                self._scheduled = True
        if pending:
            self._runner.submit(
                self._write, done=self._written, failed=self._failed, name="autosave"
            )
        if not self._runner.wait_idle(timeout_s):
            return False
        return not self.has_unsaved

    def after_saves(
        self,
        action: Callable[[ReadingSession], ReadingRecord],
        *,
        done: Callable[[ReadingRecord], None],
        failed: Callable[[str], None],
        name: str,
    ) -> None:
        """Run ``action(session)`` (sign, amend) on the writer, after pending saves.

        A failed save first fails the action too: nothing is signed that the
        database does not hold.
        """

        def run(_context: TaskContext) -> ReadingRecord:
            self._write_pending()
            return action(self.session)

        self._runner.submit(run, done=done, failed=failed, name=name)

    def shutdown(self) -> None:
        """Stop the writer thread (after :meth:`flush`)."""
        self._runner.shutdown()

    # ------------------------------------------------------------ writer thread
    def _write(self, _context: TaskContext) -> Reading | None:
        with self._lock:
            self._scheduled = False
        return self._write_pending()

    def _write_pending(self) -> Reading | None:
        with self._lock:
            item = self._pending
        if item is None:
            return None
        reading, assessment = item
        self.session.save(reading, assessment=assessment)
        with self._lock:
            if self._pending is item:  # nothing newer arrived meanwhile
                self._pending = None
        return reading

    # ------------------------------------------------------------ GUI thread
    def _written(self, reading: Any) -> None:
        if reading is not None:
            self.saved.emit(reading)
        if not self.has_unsaved:
            self._set_state(SaveState.SAVED, "")

    def _failed(self, message: str) -> None:
        self._set_state(SaveState.FAILED, message)

    def _set_state(self, state: SaveState, message: str) -> None:
        if (state, message) == (self._state, self._message):
            return
        self._state, self._message = state, message
        self.state_changed.emit(state, message)
