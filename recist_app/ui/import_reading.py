"""File → Import reading…: reading files into the database from the workstation.

The same import as ``recist-app reading import``
(:func:`recist_app.workflows.reading_import.import_reading_files`), run in the
background: one transaction per file, geometry checked against the indexed
images, sign-off kept. A file that differs from a reading already stored is
replaced only when the user agrees (the audit trail records it); other refusals
are shown in one message box. The main window reloads the open reading when an
import changed it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from recist_app.ui.background import TaskRunner
from recist_app.ui.error_dialog import show_message
from recist_app.workflows.reading_import import (
    ReadingImportReport,
    import_reading_files,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from recist_app.ui.autosave import AutosaveWriter
    from recist_app.ui.background import TaskContext
    from recist_app.workflows.database import Store
    from recist_app.workflows.reading_import import ReadingImportFailure

__all__ = ["ReadingImporter"]

_FILTER = "Reading files (*.json);;All files (*)"


class ReadingImporter(QObject):
    """Imports reading files in the background, asking before replacing.

    Signals
    -------
    finished(ReadingImportReport)
        Every file was tried (refusals are already shown); the window reloads
        the open reading if the report changed it.
    """

    finished = Signal(object)

    def __init__(
        self,
        store: Store,
        *,
        user: str,
        parent: QWidget,
        writer: AutosaveWriter | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._user = user
        self._writer = writer
        self._parent = parent
        self._runner = TaskRunner("reading-import", self)

    def choose_and_import(self) -> bool:
        """Ask for reading files, then import them; False when cancelled."""
        names, _filter = QFileDialog.getOpenFileNames(
            self._parent, "Import reading files", str(Path.home()), _FILTER
        )
        if not names:
            return False
        self.import_paths([Path(name) for name in names])
        return True

    def import_paths(self, paths: Sequence[Path]) -> None:
        """Import ``paths`` in the background; ``finished`` follows.

        The open reading's pending saves are written first, so an import that
        replaces it starts from what the database holds.
        """
        writer = self._writer

        def job(_context: TaskContext) -> ReadingImportReport:
            if writer is not None:
                writer.flush()
            return import_reading_files(self._store, paths, user=self._user)

        self._runner.submit(
            job,
            done=self._first_pass,
            failed=lambda message: show_message(
                self._parent, "Reading not imported", message
            ),
            name="importing reading files",
        )

    def wait(self, timeout_s: float = 30.0) -> bool:
        """Block until the imports queued so far have run (tests, closing)."""
        return self._runner.wait_idle(timeout_s)

    def _first_pass(self, report: ReadingImportReport) -> None:
        conflicts = report.conflicts
        if not conflicts or not self._replace_confirmed(conflicts):
            self._report(report)
            return
        self._runner.submit(
            lambda _context: import_reading_files(
                self._store, [f.path for f in conflicts], user=self._user, replace=True
            ),
            done=lambda replaced: self._report(
                ReadingImportReport(
                    imported=(*report.imported, *replaced.imported),
                    failures=(
                        *(f for f in report.failures if not f.conflict),
                        *replaced.failures,
                    ),
                )
            ),
            failed=lambda message: show_message(
                self._parent, "Reading not replaced", message
            ),
            name="replacing readings",
        )

    def _replace_confirmed(self, conflicts: Sequence[ReadingImportFailure]) -> bool:
        names = "\n".join(f"• {failure.message}" for failure in conflicts)
        answer = QMessageBox.question(
            self._parent,
            "Replace stored readings?",
            f"{len(conflicts)} file(s) differ from readings already in the "
            f"database:\n\n{names}\n\nReplace them with the files? The audit trail "
            "records the replacement, who made it and each file's SHA-256.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _report(self, report: ReadingImportReport) -> None:
        refused = [failure for failure in report.failures if not failure.conflict]
        if refused:
            title = (
                "Reading not imported"
                if len(refused) == 1
                else f"{len(refused)} reading files not imported"
            )
            show_message(self._parent, title, "; ".join(f.message for f in refused))
        self.finished.emit(report)
