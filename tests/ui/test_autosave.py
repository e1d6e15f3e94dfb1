"""Autosave: the database holds exactly what the workstation shows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from recist_app.store import Store, StoreBusyError, open_store
from recist_app.ui.reading_store import StoreSaver, open_document
from tests.ui.conftest import LESION_SLICE, two_visit_reading
from tests.ui.gestures import draw_bidirectional

if TYPE_CHECKING:
    import pytest
    from pytestqt.qtbot import QtBot

    from recist_app.recist import Reading
    from recist_app.store import ReadingRecord
    from recist_app.ui.main_window import MainWindow


def _stored(store: Store, reading: Reading) -> Reading:
    return store.readings.load(reading.patient_id, reading.criteria, reading.reader)


def test_drag_is_saved_and_undo_and_redo_update_the_store(
    qtbot: QtBot, stored_window: MainWindow, store: Store
) -> None:
    window = stored_window
    document = window.document
    window.slice_view.set_slice_index(LESION_SLICE)
    draw_bidirectional(window.slice_view, radius_mm=12.0)
    measured = document.reading
    assert measured.timepoints[0].measurements
    assert _stored(store, measured) == measured
    assert document.undo_stack.isClean()
    assert not window.isWindowModified()
    assert window.save_label.text() == "✓ Saved"

    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert document.reading == two_visit_reading()
    assert _stored(store, measured) == document.reading
    assert window.lesion_panel.model.rowCount() == 0

    document.undo_stack.redo()
    assert _stored(store, measured) == measured == document.reading
    # Every change is in the audit trail under the reader at the keyboard.
    assert {entry.user for entry in store.audit.trail("UI-TEST")} == {"dr-test"}


def test_reopening_the_patient_shows_what_was_measured_last_time(
    qtbot: QtBot, stored_window: MainWindow, database_url: str
) -> None:
    stored_window.slice_view.set_slice_index(LESION_SLICE)
    draw_bidirectional(stored_window.slice_view, radius_mm=12.0)
    measured = stored_window.document.reading
    with open_store(database_url) as again:
        document = open_document(two_visit_reading(), StoreSaver(again, user="x"))
        assert document.reading == measured
        assert document.undo_stack.count() == 0


def test_a_patient_new_to_the_database_opens_as_given(saver: StoreSaver) -> None:
    document = open_document(two_visit_reading(), saver)
    assert document.reading == two_visit_reading()
    assert saver.record is None


def test_failed_save_shows_one_line_and_keeps_the_change(
    qtbot: QtBot,
    stored_window: MainWindow,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = stored_window

    def busy(*_args: object, **_kwargs: object) -> None:
        raise StoreBusyError("database sqlite:///x is busy: another program\n writes")

    monkeypatch.setattr(store.readings, "save", busy)
    window.slice_view.set_slice_index(LESION_SLICE)
    draw_bidirectional(window.slice_view, radius_mm=12.0)
    document = window.document
    assert document.reading.timepoints[0].measurements  # kept in the document
    assert window.lesion_panel.model.rowCount() == 1
    text = window.save_label.text()
    assert text == (
        "⚠ Autosave failed: database sqlite:///x is busy: another program writes"
    )
    assert "\n" not in text
    assert window.isWindowModified()

    monkeypatch.undo()
    document.undo_stack.undo()
    document.undo_stack.redo()  # the next change saves it after all
    assert _stored(store, document.reading) == document.reading
    assert window.save_label.text() == "✓ Saved"
    assert not window.isWindowModified()


def test_autosave_hands_the_store_the_reading_saved_last(
    qtbot: QtBot,
    stored_window: MainWindow,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = stored_window
    document = window.document
    calls: list[tuple[Reading, dict[str, Any], ReadingRecord]] = []
    save = store.readings.save

    def spy(reading: Reading, **options: Any) -> ReadingRecord:
        record = save(reading, **options)
        calls.append((reading, options, record))
        return record

    monkeypatch.setattr(store.readings, "save", spy)
    opened = document.reading
    window.slice_view.set_slice_index(LESION_SLICE)
    draw_bidirectional(window.slice_view, radius_mm=12.0)
    document.undo_stack.undo()
    (measured, first, first_record), (undone, second, _record) = calls
    # New to the database: the first save diffs against what is stored.
    assert first["base"] is None
    assert first["assessment"] is not None
    # Then the store is handed the reading it saved last, and its revision.
    assert second["base"] is measured
    assert second["base_revision"] == first_record.revision
    assert second["assessment"] is document.assessment
    assert undone == opened == _stored(store, opened)
