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

import platformdirs
from PySide6.QtCore import QCoreApplication, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from recist_app.recist import Reading
from recist_app.store import open_store
from recist_app.ui.demo import DemoPatient, open_demo_patient
from recist_app.ui.error_dialog import describe_error
from recist_app.ui.main_window import MainWindow
from recist_app.ui.reading_store import StoreSaver, login_name, open_document

__all__ = ["demo_folder", "run_workstation"]

_ORGANIZATION = "recist_app"
_APPLICATION = "recist-app"


def demo_folder() -> Path:
    """Where the demo patient is generated (the user data folder)."""
    return Path(platformdirs.user_data_dir(_APPLICATION)) / "demo"


def _load_demo_with_progress(app: QApplication) -> DemoPatient:
    """Generate/load the demo in a worker thread while a progress dialog shows."""
    dialog = QProgressDialog("Preparing the demo patient…", "", 0, 0)
    dialog.setCancelButton(None)
    dialog.setWindowTitle("recist_app")
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    dialog.show()
    messages: list[str] = []
    result: list[DemoPatient] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            result.append(open_demo_patient(demo_folder(), progress=messages.append))
        except Exception as error:
            errors.append(error)

    worker = threading.Thread(target=work, name="demo-loader", daemon=True)
    worker.start()
    timer = QTimer()
    timer.setInterval(50)

    def poll() -> None:
        if messages:
            dialog.setLabelText(messages[-1])
        if not worker.is_alive():
            timer.stop()
            dialog.close()
            app.exit(0)

    timer.timeout.connect(poll)
    timer.start()
    app.exec()
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
        try:
            if demo:
                patient = _load_demo_with_progress(app)
                reading, volumes = patient.reading, patient.volumes
            else:
                reading, volumes = Reading(patient_id="NEW-PATIENT"), {}
        except Exception as error:
            QMessageBox.critical(
                None, "recist_app", f"Cannot open the demo: {describe_error(error)}"
            )
            return 2
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
        window = MainWindow(
            document, volumes, settings=QSettings(), reading_store=saver
        )
        window.show()
        return int(app.exec())
