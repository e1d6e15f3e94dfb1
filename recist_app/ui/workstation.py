"""Composition root: the QApplication, the database, the document and the window.

The reading database is opened from ``--database URL`` (else
``$RECIST_APP_DATABASE_URL``, else the SQLite file in the user data folder). The
patient's stored reading is reopened when there is one, and every change is saved
to it by the autosave writer the moment it is made. ``recist-app`` (no
subcommand) imports this module by name, so the headless commands never load Qt.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from recist_app.recist import ReaderRole, Reading
from recist_app.ui.background import TaskRunner
from recist_app.ui.document import open_document
from recist_app.ui.main_window import ROLE_SETTING, MainWindow
from recist_app.workflows.database import open_database
from recist_app.workflows.demo import set_up_demo_patients
from recist_app.workflows.errors import WorkflowError, describe_error
from recist_app.workflows.reading_session import ReadingSession
from recist_app.workflows.vocabulary import (
    READER_ROLE_ENV,
    current_role,
    current_user,
    parse_reader_role,
)

if TYPE_CHECKING:
    from recist_app.workflows.database import Store
    from recist_app.workflows.demo import DemoPatients

__all__ = ["demo_folder", "open_workstation", "run_workstation"]

_ORGANIZATION = "recist_app"
_APPLICATION = "recist-app"


def demo_folder() -> Path:
    """Where the demo patients are generated (the user data folder)."""
    return Path(platformdirs.user_data_dir(_APPLICATION)) / "demo-patients"


def _set_up_demo_with_progress(store: Store, user: str) -> DemoPatients:
    """Generate/import the demo patients in the background behind a progress dialog.

    The first run writes both patients' studies (about half a minute); later runs
    find them in place and only check the database.

    Raises
    ------
    RuntimeError
        The set-up failed; the message is its one line.
    """
    dialog = QProgressDialog("Preparing the demo patients…", "", 0, 0)
    dialog.setCancelButton(None)
    dialog.setWindowTitle("recist_app")
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(500)
    outcome: list[DemoPatients | str] = []
    # A local event loop (not app.exec/app.exit, which would leave the
    # application's quit flag set for the main loop) keeps the dialog painted.
    loop = QEventLoop()

    def finish(value: DemoPatients | str) -> None:
        outcome.append(value)
        dialog.close()
        loop.quit()

    runner = TaskRunner("demo-set-up")
    runner.submit(
        lambda context: set_up_demo_patients(
            demo_folder(), store, user=user, progress=context.progress
        ),
        done=finish,
        failed=finish,
        progress=lambda text: dialog.setLabelText(str(text)),
    )
    loop.exec()
    runner.shutdown()
    if isinstance(outcome[0], str):
        raise RuntimeError(outcome[0])
    return outcome[0]


def open_workstation(
    store: Store, *, demo: bool, settings: QSettings | None = None
) -> MainWindow:
    """The main window on ``store``, as ``recist-app`` opens it (not shown yet).

    With ``demo`` the two demo patients are set up first and the window opens on
    the read one. The reader is :func:`~recist_app.workflows.vocabulary.current_user`.

    Raises
    ------
    RuntimeError
        The demo could not be set up (its one-line reason).
    StoreError
        The stored reading cannot be opened.
    """
    user = current_user()
    role = remembered_role(settings)
    reading = Reading(patient_id="NEW-PATIENT")
    if demo:
        # Two patients: one read through all visits (imported from its reading
        # file), one unread; the window opens on the read one and loads its
        # series in the background.
        patients = _set_up_demo_with_progress(store, user)
        reading = Reading(patient_id=patients.read_patient_id, reader=patients.reader)
    document = open_document(reading, ReadingSession(store, user=user, role=role))
    return MainWindow(document, {}, settings=settings)


def remembered_role(settings: QSettings | None) -> ReaderRole:
    """The role the workstation remembers, else ``$RECIST_APP_READER_ROLE``."""
    stored = None if settings is None else settings.value(ROLE_SETTING)
    if stored:
        try:
            return parse_reader_role(str(stored))
        except WorkflowError:
            pass
    return current_role()


def role_unknown(settings: QSettings | None) -> bool:
    """Whether nobody said who is reading: nothing remembered, nothing set."""
    remembered = None if settings is None else settings.value(ROLE_SETTING)
    return not remembered and not os.environ.get(READER_ROLE_ENV)


def run_workstation(demo: bool, database_url: str | None) -> int:
    """Open the workstation (on the demo patient with ``demo``); return exit code."""
    QCoreApplication.setOrganizationName(_ORGANIZATION)
    QCoreApplication.setApplicationName(_APPLICATION)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    try:
        store = open_database(database_url)
    except Exception as error:
        QMessageBox.critical(
            None,
            "recist_app",
            f"Cannot open the reading database: {describe_error(error)}",
        )
        return 2
    with store:
        settings = QSettings()
        try:
            window = open_workstation(store, demo=demo, settings=settings)
        except Exception as error:
            what = "the demo" if demo else "the stored reading"
            QMessageBox.critical(
                None, "recist_app", f"Cannot open {what}: {describe_error(error)}"
            )
            return 2
        window.show()
        if role_unknown(settings):
            # the first time: ask who is reading once the window is up
            # (Reading → Reading role…; the answer is remembered)
            QTimer.singleShot(0, window.choose_role)
        return int(app.exec())
