"""Autosave: the database holds exactly what the workstation shows, written off the
GUI thread, in order, and nothing acknowledged is lost."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from recist_app.store import Store, StoreBusyError, open_store
from recist_app.ui.document import open_document
from recist_app.workflows.reading_session import ReadingSession
from tests.ui.conftest import LESION_SLICE, two_visit_reading, wait_saved
from tests.ui.gestures import draw_bidirectional

if TYPE_CHECKING:
    import pytest
    from pytestqt.qtbot import QtBot

    from recist_app.recist import Reading
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
    wait_saved(qtbot, window)
    assert _stored(store, measured) == measured
    assert document.undo_stack.isClean()
    assert not window.isWindowModified()

    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert document.reading == two_visit_reading()
    assert window.lesion_panel.model.rowCount() == 0
    wait_saved(qtbot, window)
    assert _stored(store, measured) == document.reading

    document.undo_stack.redo()
    wait_saved(qtbot, window)
    assert _stored(store, measured) == measured == document.reading
    # Every change is in the audit trail under the reader at the keyboard.
    assert {entry.user for entry in store.audit.trail("UI-TEST")} == {"dr-test"}


def test_reopening_the_patient_shows_what_was_measured_last_time(
    qtbot: QtBot, stored_window: MainWindow, database_url: str
) -> None:
    stored_window.slice_view.set_slice_index(LESION_SLICE)
    draw_bidirectional(stored_window.slice_view, radius_mm=12.0)
    measured = stored_window.document.reading
    wait_saved(qtbot, stored_window)
    with open_store(database_url) as again:
        document = open_document(two_visit_reading(), ReadingSession(again, user="x"))
        assert document.reading == measured
        assert document.undo_stack.count() == 0


def test_a_patient_new_to_the_database_opens_as_given(
    qapp: object, session: ReadingSession
) -> None:
    document = open_document(two_visit_reading(), session)
    assert document.reading == two_visit_reading()
    assert session.record is None


def test_failed_save_shows_one_line_keeps_the_change_and_saves_it_later(
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
    expected = "⚠ Could not save: database sqlite:///x is busy: another program writes"
    qtbot.waitUntil(lambda: window.save_label.text() == expected, timeout=10_000)
    assert window.isWindowModified()
    assert window.writer is not None
    assert window.writer.has_unsaved

    monkeypatch.undo()
    assert window.writer.flush()  # the pending reading is written after all
    qtbot.waitUntil(lambda: window.save_label.text() == "✓ Saved", timeout=10_000)
    assert _stored(store, document.reading) == document.reading
    assert not window.isWindowModified()


def test_a_busy_database_never_freezes_the_window(
    qtbot: QtBot,
    stored_window: MainWindow,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = stored_window
    release = threading.Event()
    real_save = store.readings.save

    def slow(*args: object, **kwargs: object) -> object:
        release.wait(20)  # another workstation holds the write lock
        return real_save(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store.readings, "save", slow)
    window.slice_view.set_slice_index(LESION_SLICE)
    started = time.perf_counter()
    draw_bidirectional(window.slice_view, radius_mm=12.0)
    document = window.document
    document.undo_stack.undo()
    document.undo_stack.redo()
    assert time.perf_counter() - started < 5  # the edits did not wait for the disk
    assert window.save_label.text() == "Saving…"
    release.set()
    wait_saved(qtbot, window)
    assert _stored(store, document.reading) == document.reading


def test_closing_waits_for_pending_saves(
    qtbot: QtBot, stored_window: MainWindow, store: Store
) -> None:
    window = stored_window
    window.slice_view.set_slice_index(LESION_SLICE)
    draw_bidirectional(window.slice_view, radius_mm=12.0)
    measured = window.document.reading
    window.close()
    assert _stored(store, measured) == measured
