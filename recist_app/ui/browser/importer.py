"""Import a DICOM folder into the database with a progress dialog that can cancel.

The scan runs in the background (:func:`recist_app.workflows.images.import_dicom`);
the dialog shows files scanned and its Cancel button stops the scan. Indexing
happens in one transaction after the scan, so a cancelled import writes nothing
and an earlier import stays as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from recist_app.ui.background import TaskRunner
from recist_app.workflows.images import import_dicom

if TYPE_CHECKING:
    from recist_app.ui.background import Task
    from recist_app.workflows.database import Store
    from recist_app.workflows.images import ImportSummary

__all__ = ["DicomImporter"]


class DicomImporter(QObject):
    """Runs one import at a time behind a ``QProgressDialog``.

    Signals
    -------
    finished(ImportSummary)
        The folder was indexed (the summary says what changed).
    cancelled(str)
        The reader cancelled; nothing was written. The text names the folder.
    failed(str)
        The import failed; one line naming the folder.
    """

    finished = Signal(object)
    cancelled = Signal(str)
    failed = Signal(str)

    def __init__(self, store: Store, *, user: str, parent: QWidget) -> None:
        super().__init__(parent)
        self._store = store
        self._user = user
        self._parent = parent
        self._runner = TaskRunner("dicom-import", self)
        self._task: Task[ImportSummary] | None = None
        self._folder = Path()
        self.dialog: QProgressDialog | None = None

    @property
    def busy(self) -> bool:
        """Whether an import is running."""
        return self._task is not None

    def start(self, folder: Path) -> bool:
        """Import ``folder`` in the background; False if one is already running."""
        if self._task is not None:
            return False
        self._folder = folder
        dialog = QProgressDialog(f"Scanning {folder}…", "Cancel", 0, 0, self._parent)
        dialog.setWindowTitle("Import DICOM folder")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(0)
        dialog.canceled.connect(self.cancel)
        dialog.show()
        self.dialog = dialog
        self._task = self._runner.submit(
            lambda context: import_dicom(
                self._store,
                folder,
                user=self._user,
                progress=lambda done, total: context.progress((done, total)),
                cancel=context.token,
            ),
            done=self._finished,
            failed=lambda message: self._end(
                lambda: self.failed.emit(f"{folder}: {message}")
            ),
            cancelled=lambda: self._end(lambda: self.cancelled.emit(str(folder))),
            progress=self._show_progress,
            name=f"importing {folder}",
        )
        return True

    def cancel(self) -> None:
        """Stop the running scan (the dialog's Cancel button)."""
        if self._task is not None:
            self._task.cancel()
        if self.dialog is not None:
            self.dialog.setLabelText("Cancelling…")

    def wait(self, timeout_s: float = 30.0) -> None:
        """Block until the import thread ended (closing the window)."""
        if self._task is not None:
            self._task.wait(timeout_s)

    def _show_progress(self, report: Any) -> None:
        done, total = report
        dialog = self.dialog
        if dialog is None:
            return
        dialog.setMaximum(max(total, 1))
        dialog.setValue(min(done, max(total, 1)))
        if done >= total:
            dialog.setLabelText(f"Indexing {total} files…")
        else:
            dialog.setLabelText(f"Scanning {self._folder}: {done} of {total} files")

    def _finished(self, summary: ImportSummary) -> None:
        self._end(lambda: self.finished.emit(summary))

    def _end(self, report: Any) -> None:
        self._task = None
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
        report()
