"""File → Import reading…: the file dialog, the replace question and the error box
are answered by monkeypatching their statics; the window shows what was imported."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

import pytest
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from recist_app.exchange import reading_to_dict, write_reading_file
from recist_app.recist import Lesion, LesionRole, Measurement, Reading
from recist_app.store import ReadingStatus, Store
from tests.ui.conftest import LESION_SLICE, two_visit_reading, wait_saved
from tests.ui.gestures import draw_bidirectional

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from recist_app.ui.main_window import MainWindow

YES = QMessageBox.StandardButton.Yes
NO = QMessageBox.StandardButton.No


def _read_reading(long_axis_mm: float) -> Reading:
    """UI-TEST read at both visits (no geometry: the test volumes are not indexed)."""
    base = two_visit_reading()
    lesion = Lesion(lesion_id="T01", role=LesionRole.TARGET, organ="liver")
    return dataclasses.replace(
        base,
        lesions=(lesion,),
        timepoints=tuple(
            dataclasses.replace(
                timepoint,
                measurements=(Measurement(lesion_id="T01", long_axis_mm=size),),
            )
            for timepoint, size in zip(
                base.timepoints, (long_axis_mm, long_axis_mm / 2), strict=True
            )
        ),
    )


def _choose(monkeypatch: pytest.MonkeyPatch, *paths: Path) -> None:
    monkeypatch.setattr(
        QFileDialog,
        "getOpenFileNames",
        lambda *_args, **_kwargs: ([str(p) for p in paths], "Reading files (*.json)"),
    )


def _answer(monkeypatch: pytest.MonkeyPatch, answer: object) -> list[str]:
    asked: list[str] = []

    def question(_parent: object, _title: str, text: str, *_args: object) -> object:
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def _warnings(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(
        QMessageBox,
        "warning",
        lambda _parent, title, text, *_args: shown.append((title, text)),
    )
    return shown


def _import_from_file_menu(qtbot: QtBot, window: MainWindow) -> None:
    """Choose File → Import reading… and wait until the import has run."""
    file_menu = window.menuBar().actions()[0].menu()
    assert isinstance(file_menu, QMenu)
    [action] = [a for a in file_menu.actions() if a.text() == "&Import reading…"]
    assert action.isEnabled()
    importer = window.reading_importer
    assert importer is not None
    with qtbot.waitSignal(importer.finished, timeout=30_000):
        action.trigger()


def test_importing_the_open_patients_reading_shows_it(
    qtbot: QtBot,
    stored_window: MainWindow,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "UI-TEST.reading.json"
    reading = _read_reading(40.0)
    write_reading_file(reading, path)
    _choose(monkeypatch, path)
    shown = _warnings(monkeypatch)
    _import_from_file_menu(qtbot, stored_window)

    assert shown == []
    assert store.readings.load("UI-TEST") == reading
    assert stored_window.document.reading == reading
    assert "1 file: 1 imported" in stored_window.statusBar().currentMessage()
    model = stored_window.lesion_panel.model
    cells = [
        str(model.index(row, column).data())
        for row in range(model.rowCount())
        for column in range(model.columnCount())
    ]
    assert "T01" in cells
    assert any("40" in cell for cell in cells)
    assert stored_window.visit_combo.count() == 2
    # The undo history starts from the imported reading: nothing to undo.
    assert not stored_window.undo_action.isEnabled()


def test_a_differing_file_replaces_the_reading_only_when_the_user_agrees(
    qtbot: QtBot,
    stored_window: MainWindow,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored_window.slice_view.set_slice_index(LESION_SLICE)
    draw_bidirectional(stored_window.slice_view, radius_mm=12.0)
    measured = stored_window.document.reading
    wait_saved(qtbot, stored_window)
    assert store.readings.load("UI-TEST") == measured  # autosaved
    path = tmp_path / "other.reading.json"
    write_reading_file(_read_reading(33.0), path)
    _choose(monkeypatch, path)
    shown = _warnings(monkeypatch)

    asked = _answer(monkeypatch, NO)
    _import_from_file_menu(qtbot, stored_window)
    assert len(asked) == 1
    assert "differ from readings already in the database" in asked[0]
    assert store.readings.load("UI-TEST") == measured
    assert stored_window.document.reading == measured
    assert shown == []  # declining is not an error

    _answer(monkeypatch, YES)
    _import_from_file_menu(qtbot, stored_window)
    assert store.readings.load("UI-TEST") == _read_reading(33.0)
    assert stored_window.document.reading == _read_reading(33.0)
    assert store.audit.trail(limit=1)[0].action == "replace"
    assert store.audit.trail(limit=1)[0].user == "dr-test"
    assert shown == []


def test_a_signed_file_opens_locked(
    qtbot: QtBot,
    stored_window: MainWindow,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = reading_to_dict(_read_reading(40.0))
    data["sign_off"] = {
        "status": "signed",
        "signed_by": "dr-remote",
        "signed_at": "2024-04-02T08:00:00+00:00",
        "version": 1,
    }
    path = tmp_path / "signed.reading.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    _choose(monkeypatch, path)
    _import_from_file_menu(qtbot, stored_window)
    assert store.readings.record("UI-TEST").status is ReadingStatus.SIGNED
    assert stored_window.document.locked
    assert stored_window.signature_label.text().startswith("🔒 Signed by dr-remote")
    assert stored_window.amend_action.isEnabled()


def test_a_bad_file_is_one_line_in_the_error_box_and_imports_nothing(
    qtbot: QtBot,
    stored_window: MainWindow,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A measurement drawn on images the database has not indexed.
    stored_window.slice_view.set_slice_index(LESION_SLICE)
    draw_bidirectional(stored_window.slice_view, radius_mm=12.0)
    drawn = dataclasses.replace(stored_window.document.reading, reader="dr-other")
    bad = tmp_path / "drawn.reading.json"
    write_reading_file(drawn, bad)
    good = tmp_path / "good.reading.json"
    write_reading_file(dataclasses.replace(_read_reading(40.0), patient_id="P2"), good)
    _choose(monkeypatch, bad, good)
    shown = _warnings(monkeypatch)
    _import_from_file_menu(qtbot, stored_window)

    [(title, text)] = shown
    assert title == "Reading not imported"
    assert "\n" not in text
    assert str(bad) in text
    assert "visit BASELINE" in text
    assert "lesion T01" in text
    assert "is not in the database" in text
    assert [r.reader for r in store.readings.list("UI-TEST")] == [""]
    assert [r.patient_id for r in store.readings.list("P2")] == ["P2"]
    assert "2 files: 1 imported" in stored_window.statusBar().currentMessage()


def test_without_a_database_the_action_is_off(window: MainWindow) -> None:
    assert not window.import_reading_action.isEnabled()
