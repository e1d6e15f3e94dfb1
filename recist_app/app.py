"""Composition root: builds the QApplication, the store, the document and the window.

The reading database is opened from ``--database URL`` (the CLI passes
``$RECIST_APP_DATABASE_URL`` when the option is absent), else the store's SQLite file
in the user data folder. The patient's stored reading is reopened when there is one,
and every change is saved to it the moment it is made.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from recist_app.exchange import set_up_demo_patients
from recist_app.recist import Reading
from recist_app.store import open_store
from recist_app.ui.error_dialog import describe_error
from recist_app.ui.main_window import MainWindow
from recist_app.ui.reading_store import StoreSaver, login_name, open_document

if TYPE_CHECKING:
    from recist_app.exchange import DemoPatients
    from recist_app.store import Store

__all__ = ["demo_folder", "run_workstation"]

_ORGANIZATION = "recist_app"
_APPLICATION = "recist-app"


def demo_folder() -> Path:
    """Where the demo patients are generated (the user data folder)."""
    return Path(platformdirs.user_data_dir(_APPLICATION)) / "demo-patients"


def _set_up_demo_with_progress(store: Store) -> DemoPatients:
    """Generate/import the demo patients in a worker thread behind a progress dialog.

    The first run writes both patients' studies (about half a minute); later runs
    find them in place and only check the database.
    """
    dialog = QProgressDialog("Preparing the demo patients…", "", 0, 0)
    dialog.setCancelButton(None)
    dialog.setWindowTitle("recist_app")
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(500)
    messages: list[str] = []
    result: list[DemoPatients] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            result.append(
                set_up_demo_patients(
                    demo_folder(), store, user=login_name(), progress=messages.append
                )
            )
        except Exception as error:
            errors.append(error)

    worker = threading.Thread(target=work, name="demo-set-up", daemon=True)
    worker.start()
    # A local event loop (not app.exec/app.exit, which would leave the
    # application's quit flag set for the main loop) keeps the dialog painted.
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(50)

    def poll() -> None:
        if messages:
            dialog.setLabelText(messages[-1])
        if not worker.is_alive():
            timer.stop()
            dialog.close()
            loop.quit()

    timer.timeout.connect(poll)
    timer.start()
    loop.exec()
    worker.join()
    if errors:
        raise errors[0]
    return result[0]


def run_workstation(demo: bool, database_url: str | None) -> int:
    """Open the workstation (on the demo patient with ``demo``); return exit code."""
    QCoreApplication.setOrganizationName(_ORGANIZATION)
    QCoreApplication.setApplicationName(_APPLICATION)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    try:
        store = open_store(database_url or None)
    except Exception as error:
        QMessageBox.critical(
            None,
            "recist_app",
            f"Cannot open the reading database: {describe_error(error)}",
        )
        return 2
    with store:
        reading = Reading(patient_id="NEW-PATIENT")
        if demo:
            # Two patients: one read through all visits (imported from its reading
            # file), one unread; the window opens on the read one and loads its
            # series in the background.
            try:
                patients = _set_up_demo_with_progress(store)
            except Exception as error:
                QMessageBox.critical(
                    None, "recist_app", f"Cannot open the demo: {describe_error(error)}"
                )
                return 2
            reading = Reading(
                patient_id=patients.read_patient_id, reader=patients.reader
            )
        saver = StoreSaver(store, user=login_name())
        try:
            document = open_document(reading, saver)
        except Exception as error:
            QMessageBox.critical(
                None,
                "recist_app",
                f"Cannot open the stored reading: {describe_error(error)}",
            )
            return 2
        window = MainWindow(document, {}, settings=QSettings(), reading_store=saver)
        window.show()
        return int(app.exec())
