"""Import a DICOM folder into the database with a progress dialog that can cancel.

The scan runs in a worker thread; the dialog shows files scanned and its Cancel
button stops the scan. Indexing happens in one transaction after the scan, so a
cancelled import writes nothing and an earlier import stays as it was.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from recist_app.imaging import CancelToken, LoadCancelledError
from recist_app.ui.error_dialog import describe_error

if TYPE_CHECKING:
    from recist_app.store import ImportSummary, Store

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
    _progressed = Signal(int, int)
    _ended = Signal(str, object)

    def __init__(self, store: Store, *, user: str, parent: QWidget) -> None:
        super().__init__(parent)
        self._store = store
        self._user = user
        self._parent = parent
        self._thread: threading.Thread | None = None
        self._token = CancelToken()
        self._folder = Path()
        self.dialog: QProgressDialog | None = None
        self._progressed.connect(self._show_progress)
        self._ended.connect(self._end)

    @property
    def busy(self) -> bool:
        """Whether an import is running."""
        return self._thread is not None

    def start(self, folder: Path) -> bool:
        """Import ``folder`` in the background; False if one is already running."""
        if self._thread is not None:
            return False
        self._folder = folder
        self._token = CancelToken()
        dialog = QProgressDialog(f"Scanning {folder}…", "Cancel", 0, 0, self._parent)
        dialog.setWindowTitle("Import DICOM folder")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(0)
        dialog.canceled.connect(self.cancel)
        dialog.show()
        self.dialog = dialog
        self._thread = threading.Thread(
            target=self._run,
            args=(folder, self._token),
            name="dicom-import",
            daemon=True,
        )
        self._thread.start()
        return True

    def cancel(self) -> None:
        """Stop the running scan (the dialog's Cancel button)."""
        self._token.cancel()
        if self.dialog is not None:
            self.dialog.setLabelText("Cancelling…")

    def wait(self, timeout_s: float = 30.0) -> None:
        """Block until the worker thread ended (closing the window)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)

    def _run(self, folder: Path, token: CancelToken) -> None:
        try:
            summary = self._store.images.import_folder(
                folder,
                user=self._user,
                progress=lambda done, total: self._progressed.emit(done, total),
                cancel=token,
            )
        except LoadCancelledError:
            self._ended.emit("cancelled", None)
        except Exception as error:
            self._ended.emit("failed", f"{folder}: {describe_error(error)}")
        else:
            self._ended.emit("finished", summary)

    def _show_progress(self, done: int, total: int) -> None:
        dialog = self.dialog
        if dialog is None or self._token.cancelled:
            return
        dialog.setMaximum(max(total, 1))
        dialog.setValue(min(done, max(total, 1)))
        if done >= total:
            dialog.setLabelText(f"Indexing {total} files…")
        else:
            dialog.setLabelText(f"Scanning {self._folder}: {done} of {total} files")

    def _end(self, outcome: str, value: object) -> None:
        if self._thread is not None:
            self._thread.join()
        self._thread = None
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
        if outcome == "finished":
            summary: ImportSummary = value  # type: ignore[assignment]
            self.finished.emit(summary)
        elif outcome == "cancelled":
            self.cancelled.emit(str(self._folder))
        else:
            self.failed.emit(str(value))
