"""File → Import reading…: reading files into the database from the workstation.

The same import as ``recist-app reading import``
(:func:`~recist_app.exchange.import_reading_files`): one transaction per file,
geometry checked against the indexed images, sign-off kept. A file that differs
from a reading already stored is replaced only when the user agrees (the audit
trail records it); other refusals are shown through
:mod:`recist_app.ui.error_dialog`. When the open reading was imported or replaced,
the window reloads it from the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox

from recist_app.exchange import ExchangeError, ReadingImportReport, import_reading_files
from recist_app.ui.error_dialog import show_error
from recist_app.ui.reading_store import signature_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from recist_app.exchange import ReadingFileImport, ReadingImportFailure
    from recist_app.ui.main_window import MainWindow

__all__ = ["import_reading_paths", "import_readings_dialog", "reading_import_action"]

_FILTER = "Reading files (*.json);;All files (*)"


def reading_import_action(window: MainWindow) -> QAction:
    """The File menu's "Import reading…" action for ``window``."""
    action = QAction("&Import reading…", window)
    action.setToolTip("Import recist-reading/1 files into the reading database")
    action.setEnabled(window.reading_store is not None)
    action.triggered.connect(lambda _checked=False: import_readings_dialog(window))
    return action


def import_readings_dialog(window: MainWindow) -> ReadingImportReport | None:
    """Ask for reading files, then import them; ``None`` when cancelled."""
    if window.reading_store is None:
        return None
    names, _filter = QFileDialog.getOpenFileNames(
        window, "Import reading files", str(Path.home()), _FILTER
    )
    if not names:
        return None
    return import_reading_paths(window, [Path(name) for name in names])


def import_reading_paths(
    window: MainWindow, paths: Sequence[Path]
) -> ReadingImportReport | None:
    """Import ``paths`` into the window's database, asking before replacing.

    Refused files are shown in one message box (one line per file); the status
    bar gets the summary. Returns the report (``None`` without a database).
    """
    saver = window.reading_store
    if saver is None:
        return None
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        report = import_reading_files(saver.store, paths, user=saver.user)
    finally:
        QGuiApplication.restoreOverrideCursor()
    conflicts = [failure for failure in report.failures if failure.conflict]
    refused = [failure for failure in report.failures if not failure.conflict]
    imported = list(report.imported)
    if conflicts and _replace_confirmed(window, conflicts):
        replaced = import_reading_files(
            saver.store, [f.path for f in conflicts], user=saver.user, replace=True
        )
        imported += replaced.imported
        refused += replaced.failures
        conflicts = []
    report = ReadingImportReport(
        imported=tuple(imported), failures=(*conflicts, *refused)
    )
    _reload_if_open(window, report.imported)
    window.statusBar().showMessage(report.summary(), 10_000)
    if refused:
        title = (
            "Reading not imported"
            if len(refused) == 1
            else f"{len(refused)} reading files not imported"
        )
        show_error(window, title, ExchangeError("; ".join(f.message for f in refused)))
    return report


def _replace_confirmed(
    window: MainWindow, conflicts: Sequence[ReadingImportFailure]
) -> bool:
    names = "\n".join(f"• {failure.message}" for failure in conflicts)
    answer = QMessageBox.question(
        window,
        "Replace stored readings?",
        f"{len(conflicts)} file(s) differ from readings already in the database:"
        f"\n\n{names}\n\nReplace them with the files? The audit trail records "
        "the replacement, who made it and each file's SHA-256.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def _reload_if_open(window: MainWindow, imported: Sequence[ReadingFileImport]) -> None:
    """Reload the open reading from the database if an import changed it."""
    saver = window.reading_store
    reading = window.document.reading
    if saver is None or not any(
        item.outcome.value != "unchanged"
        and (item.record.patient_id, item.record.criteria, item.record.reader)
        == (reading.patient_id, reading.criteria, reading.reader)
        for item in imported
    ):
        return
    window.document.load(saver.reopen(reading))
    window.document.set_signature(signature_text(saver.record))
