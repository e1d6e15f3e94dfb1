"""File → Open from PACS… and File → Send report to PACS… of the main window.

:func:`add_pacs_actions` adds both actions to the window's File menu (disabled
without a reading database). Open from PACS retrieves a patient's studies
(:class:`~recist_app.ui.pacs.open_dialog.OpenFromPacsDialog`), refreshes the
patient list and opens the patient through ``MainWindow.open_patient``; Send
report to PACS sends the open reading's SR
(:class:`~recist_app.ui.pacs.send_dialog.SendReportDialog`). The PACS settings
file is read each time a dialog opens, so a server added to it shows at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from recist_app.ui.error_dialog import show_error
from recist_app.ui.export_dialog import volume_files
from recist_app.ui.pacs.open_dialog import OpenFromPacsDialog
from recist_app.ui.pacs.send_dialog import SendReportDialog
from recist_app.workflows.pacs import default_download_folder, load_pacs_settings

if TYPE_CHECKING:
    from pathlib import Path

    from recist_app.imaging import ImageVolume
    from recist_app.ui.main_window import MainWindow
    from recist_app.workflows.pacs import PacsImport

__all__ = ["add_pacs_actions", "open_from_pacs", "send_report_to_pacs"]


def add_pacs_actions(window: MainWindow) -> tuple[QAction, QAction]:
    """Add File → Open from PACS… and Send report to PACS…; return both actions."""
    open_action = QAction("Open from &PACS…", window)
    open_action.setToolTip("Find a patient's studies on a PACS, retrieve and open them")
    open_action.triggered.connect(lambda: open_from_pacs(window))
    send_action = QAction("Send report to PA&CS…", window)
    send_action.setToolTip("Store the reading's DICOM SR in each visit's study")
    send_action.triggered.connect(lambda: send_report_to_pacs(window))
    has_store = window.session is not None
    open_action.setEnabled(has_store)
    send_action.setEnabled(has_store)
    menu = window.file_menu
    actions = menu.actions()
    dock = window.patients_dock
    after_import = (
        actions[actions.index(dock.import_action) + 1]
        if dock is not None and dock.import_action in actions
        else window.import_reading_action
    )
    menu.insertAction(after_import, open_action)
    actions = menu.actions()
    export_index = actions.index(window.exports_action)
    menu.insertAction(actions[export_index + 1], send_action)
    return open_action, send_action


def open_from_pacs(window: MainWindow) -> OpenFromPacsDialog | None:
    """Show the Open from PACS dialog over ``window`` (``None``: no database)."""
    session = window.session
    if session is None:
        return None
    try:
        settings = load_pacs_settings()
    except Exception as error:
        show_error(window, "Open from PACS", error)
        return None
    dialog = OpenFromPacsDialog(
        session.store,
        user=session.user,
        settings=settings,
        download_folder=default_download_folder(settings),
        parent=window,
    )
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.retrieved.connect(
        lambda patient_id, result: _retrieved(window, dialog, patient_id, result)
    )
    dialog.show()
    return dialog


def _retrieved(
    window: MainWindow,
    dialog: OpenFromPacsDialog,
    patient_id: str,
    result: PacsImport,
) -> None:
    if window.patients_dock is not None:
        window.patients_dock.browser.refresh()
    if window.open_patient(patient_id):
        dialog.accept()
    window.statusBar().showMessage(f"Retrieved: {result}", 15_000)
    summary = result.summary
    if summary.rejected or summary.notes or summary.skipped:
        # As a folder import: every file not indexed, with its reason.
        box = QMessageBox(window)
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle("Retrieved from PACS")
        box.setText(str(result))
        box.setDetailedText(
            "\n".join(
                (*summary.notes, *result.skipped, *summary.skipped, *summary.rejected)
            )
        )
        box.open()


def _loaded_images(window: MainWindow) -> dict[str, Path]:
    volumes: dict[str, ImageVolume] = {}
    for timepoint in window.document.reading.timepoints:
        volume = window.volume_at(timepoint.visit)
        if volume is not None:
            volumes[volume.series_instance_uid] = volume
    return volume_files(volumes)


def send_report_to_pacs(window: MainWindow) -> SendReportDialog | None:
    """Show the Send report to PACS dialog over ``window`` (``None``: no database)."""
    writer = window.writer
    if writer is None:
        return None
    try:
        settings = load_pacs_settings()
    except Exception as error:
        show_error(window, "Send report to PACS", error)
        return None
    dialog = SendReportDialog(
        window.document,
        writer,
        lambda: _loaded_images(window),
        settings=settings,
        parent=window,
    )
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
