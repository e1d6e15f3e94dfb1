"""The composition root: store opened, reading reopened, autosave wired."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication, QMessageBox

from recist_app import app as app_module
from recist_app.recist import Reading
from recist_app.store import open_store
from recist_app.ui.main_window import MainWindow

if TYPE_CHECKING:
    import pytest


def test_workstation_reopens_the_stored_reading_and_autosaves(
    qapp: QApplication, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = Reading(patient_id="NEW-PATIENT")
    with open_store(database_url) as store:
        store.save_reading(stored, user="dr-earlier")
    windows: list[MainWindow] = []

    def spy(*args: object, **kwargs: object) -> MainWindow:
        window = MainWindow(*args, **kwargs)  # type: ignore[arg-type]
        windows.append(window)
        return window

    monkeypatch.setattr(app_module, "MainWindow", spy)
    monkeypatch.setattr(QApplication, "exec", lambda *_args: 0)
    assert app_module.run_workstation(demo=False, database_url=database_url) == 0
    (window,) = windows
    assert window.reading_store is not None
    assert window.reading_store.record is not None  # reopened from the database
    assert window.document.reading == stored
    window.hide()  # not close(): that would write the user's QSettings
    window.deleteLater()


def test_unusable_database_is_one_clear_line(
    qapp: QApplication, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "critical", lambda _parent, _title, text: shown.append(text)
    )
    status = app_module.run_workstation(demo=False, database_url="nosuch://x")
    assert status == 2
    assert len(shown) == 1
    assert shown[0].startswith("Cannot open the reading database: ")
    assert "\n" not in shown[0]
