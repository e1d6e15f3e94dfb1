"""The central-review role in the workstation: title bar, remembered, blinded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import QSettings, Qt

from recist_app.recist import Criteria, ReaderRole, Reading
from recist_app.store import open_store
from recist_app.ui.browser.patient_browser import PatientBrowser
from recist_app.ui.main_window import ROLE_SETTING
from recist_app.ui.workstation import open_workstation, remembered_role, role_unknown
from recist_app.workflows.errors import WorkflowError
from recist_app.workflows.reading_session import ReadingSession
from tests.workflows.central import sized_reading, store_read

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from recist_app.store import Store

PR = (50.0, 30.0, 30.0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'readings.sqlite3'}") as opened:
        yield opened


def test_the_role_is_remembered_and_shown_in_the_title_bar(
    qtbot: Any, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECIST_APP_USER", "dr-one")
    monkeypatch.delenv("RECIST_APP_READER_ROLE", raising=False)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue(ROLE_SETTING, "reader 1")
    window = open_workstation(store, demo=False, settings=settings)
    qtbot.addWidget(window)
    assert window.session is not None
    assert window.session.role is ReaderRole.READER_1
    assert "dr-one as reader 1" in window.windowTitle()
    window.set_role(ReaderRole.ADJUDICATOR)
    assert "dr-one as adjudicator" in window.windowTitle()
    assert settings.value(ROLE_SETTING) == "adjudicator"
    assert remembered_role(settings) is ReaderRole.ADJUDICATOR
    window.close()


def test_a_primary_reader_cannot_open_the_other_readers_draft(store: Store) -> None:
    store_read(store, "P-1", ReaderRole.READER_1, PR, sign=False)
    store_read(store, "P-1", ReaderRole.READER_2, PR, sign=False)
    blinded = ReadingSession(store, user="dr-one", role=ReaderRole.READER_1)
    other = Reading(patient_id="P-1", criteria=Criteria.RECIST_1_1, reader="dr-two")
    with pytest.raises(WorkflowError, match="blinded: as reader 1"):
        blinded.open(other)
    own = Reading(patient_id="P-1", criteria=Criteria.RECIST_1_1, reader="dr-one")
    assert blinded.open(own).reader == "dr-one"


def test_a_new_reading_is_saved_with_the_readers_role(store: Store) -> None:
    session = ReadingSession(store, user="dr-two", role=ReaderRole.READER_2)
    session.save(sized_reading("P-9", "dr-two", PR))
    assert store.readings.record("P-9", Criteria.RECIST_1_1, "dr-two").reader_role is (
        ReaderRole.READER_2
    )


def test_the_patient_list_shows_each_readers_status_and_the_discordance(
    qtbot: Any, store: Store
) -> None:
    store_read(store, "P-1", ReaderRole.READER_1, PR)
    store_read(store, "P-1", ReaderRole.READER_2, (50.0, 45.0, 45.0))
    store_read(store, "P-2", ReaderRole.READER_1, PR, sign=False)
    browser = PatientBrowser(store)
    qtbot.addWidget(browser)
    browser.refresh()
    expected = {
        "P-1": "reader 1 signed, reader 2 signed; discordant: BOR PR vs SD; "
        "adjudication pending",
        "P-2": "reader 1 draft, reader 2 not started",
    }
    qtbot.waitUntil(lambda: browser.central_review == expected, timeout=10_000)
    items = {}
    for index in range(browser.tree.topLevelItemCount()):
        item = browser.tree.topLevelItem(index)
        assert item is not None
        items[item.data(0, Qt.ItemDataRole.UserRole)] = item
    for patient, text in expected.items():
        assert items[patient].text(0).endswith(text)
        assert items[patient].toolTip(0) == text
    browser.shutdown()


def test_the_role_is_asked_only_when_nobody_said_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: object
) -> None:
    monkeypatch.delenv("RECIST_APP_READER_ROLE", raising=False)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    assert role_unknown(settings)
    monkeypatch.setenv("RECIST_APP_READER_ROLE", "reader 2")
    assert not role_unknown(settings)
    assert remembered_role(settings) is ReaderRole.READER_2
    monkeypatch.delenv("RECIST_APP_READER_ROLE")
    settings.setValue(ROLE_SETTING, "adjudicator")
    assert not role_unknown(settings)


def test_reading_role_asks_without_blocking_and_remembers(
    qtbot: Any, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECIST_APP_USER", "dr-two")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = open_workstation(store, demo=False, settings=settings)
    qtbot.addWidget(window)
    window.show()
    dialog = window.choose_role()
    assert dialog is not None
    assert dialog.isVisible()
    dialog.setTextValue("reader 2")
    dialog.accept()
    assert window.session is not None
    assert window.session.role is ReaderRole.READER_2
    assert settings.value(ROLE_SETTING) == "reader 2"
    assert "dr-two as reader 2" in window.windowTitle()
    window.close()


def test_the_first_start_asks_name_and_role_in_one_question(
    qtbot: Any, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # issue 18 left the name unasked at the first start ("(name not set)");
    # one dialog now asks the name and the role, and OK needs a name
    from PySide6.QtWidgets import QDialogButtonBox

    monkeypatch.setenv("RECIST_APP_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("RECIST_APP_USER", raising=False)
    monkeypatch.delenv("RECIST_APP_READER_ROLE", raising=False)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = open_workstation(store, demo=False, settings=settings)
    qtbot.addWidget(window)
    window.show()
    assert "(name not set)" in window.windowTitle()
    dialog = window.ask_who_reads()
    assert dialog.isVisible()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert dialog.name_edit.text() == ""
    assert not ok.isEnabled()
    qtbot.keyClicks(dialog.name_edit, "  Dr  A. Reader ")
    assert ok.isEnabled()
    dialog.role_box.setCurrentText("reader 2")
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert window.session is not None
    assert window.session.user == "Dr A. Reader"
    assert window.session.role is ReaderRole.READER_2
    assert settings.value(ROLE_SETTING) == "reader 2"
    assert "reader: Dr A. Reader as reader 2" in window.windowTitle()
    assert "(name not set)" not in window.windowTitle()
    assert window.reader_name_set()
    window.close()
