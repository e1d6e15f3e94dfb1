"""Composition root: the database, the document and the main window.

The reading database is opened from ``--database URL`` (else
``$RECIST_APP_DATABASE_URL``, else the SQLite file in the user data folder). The
patient's stored reading is reopened when there is one, and every change is saved
to it by the autosave writer the moment it is made. :mod:`recist_app.ui.launcher`
imports this module once its start window is painted (the heavy imports live
here, behind a window the reader already sees).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from recist_app.recist import ReaderRole, Reading
from recist_app.ui.background import TaskRunner
from recist_app.ui.document import open_document
from recist_app.ui.error_dialog import show_message
from recist_app.ui.launcher import APPLICATION
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
    from recist_app.ui.launcher import StartWindow
    from recist_app.workflows.database import Store
    from recist_app.workflows.demo import DemoPatients

__all__ = ["demo_folder", "open_after_start", "open_workstation"]


def demo_folder() -> Path:
    """Where the demo patients are generated (the user data folder)."""
    return Path(platformdirs.user_data_dir(APPLICATION)) / "demo-patients"


def _prepare_demo(window: MainWindow, store: Store, user: str) -> TaskRunner:
    """Set up the demo patients in the background; open the read one when ready.

    The window shows at once (issue 18: no 15-60 s of nothing): the progress is
    written in the viewer and the status bar, and the read demo patient opens
    when the set-up is done. The first run writes both patients' studies; later
    runs find them in place and only check the database.
    """
    runner = TaskRunner("demo-set-up", window)
    text = "Preparing the demo patients…"
    window.slice_view.set_loading_text(text)
    window.statusBar().showMessage(text)

    def progress(value: object) -> None:
        window.slice_view.set_loading_text(f"{text}\n{value}")
        window.statusBar().showMessage(f"{text} {value}")

    def done(patients: DemoPatients) -> None:
        window.slice_view.set_loading_text("")
        window.statusBar().clearMessage()
        window.open_patient(patients.read_patient_id, reader=patients.reader)

    def failed(message: str) -> None:
        window.slice_view.set_loading_text("The demo could not be prepared")
        show_message(window, "Demo not prepared", message)

    runner.submit(
        lambda context: set_up_demo_patients(
            demo_folder(), store, user=user, progress=context.progress
        ),
        done=done,
        failed=failed,
        progress=progress,
        name="demo-set-up",
    )
    return runner


def open_workstation(
    store: Store, *, demo: bool, settings: QSettings | None = None
) -> MainWindow:
    """The main window on ``store``, as ``recist-app`` opens it (not shown yet).

    With ``demo`` the two demo patients are set up in the background and the
    window switches to the read one when they are ready. Without, it reopens
    the patient and visit worked on last (``settings``). The reader is
    :func:`~recist_app.workflows.vocabulary.current_user`.

    Raises
    ------
    StoreError
        The stored reading cannot be opened.
    """
    user = current_user()
    role = remembered_role(settings)
    reading = Reading(patient_id="NEW-PATIENT")
    last_patient = settings.value("last_patient", "") if settings is not None else ""
    last_visit = settings.value("last_visit", "") if settings is not None else ""
    if not demo and isinstance(last_patient, str) and last_patient.strip():
        reading = Reading(patient_id=last_patient.strip())
    document = open_document(reading, ReadingSession(store, user=user, role=role))
    window = MainWindow(document, {}, settings=settings)
    visits = [t.visit for t in document.reading.timepoints]
    if not demo and isinstance(last_visit, str) and last_visit in visits:
        document.set_visit(last_visit)
    if demo:
        _prepare_demo(window, store, user)
    return window


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


def open_after_start(
    app: QApplication, start: StartWindow, *, demo: bool, database_url: str | None
) -> int:
    """Open the database and the main window in place of ``start``; run the app.

    Called by :func:`recist_app.ui.launcher.run_workstation` once the start
    window is on the screen. Returns the exit code: 2 (after one clear message)
    when the database or the stored reading cannot be opened.
    """
    start.say("Opening the reading database…")
    try:
        store = open_database(database_url)
    except Exception as error:
        start.hide()
        QMessageBox.critical(
            None,
            "recist_app",
            f"Cannot open the reading database: {describe_error(error)}",
        )
        return 2
    with store:
        settings = QSettings()
        start.say("Opening the reading…")
        try:
            window = open_workstation(store, demo=demo, settings=settings)
        except Exception as error:
            start.hide()
            QMessageBox.critical(
                None,
                "recist_app",
                f"Cannot open the stored reading: {describe_error(error)}",
            )
            return 2
        window.showMaximized()  # reading tools open on the whole screen
        start.close()
        if role_unknown(settings) or not window.reader_name_set():
            # the first time: ask who is reading (name and role) once the window
            # is up; both are remembered (Reading menu to change them)
            QTimer.singleShot(0, window.ask_who_reads)
        return int(app.exec())
