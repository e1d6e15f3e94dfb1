"""Signing locks the reading in the database and in the workstation; amending
reopens it with a reason. Dialogs are answered by monkeypatching their statics."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from recist_app.store import ReadingStatus, Store
from recist_app.ui import sign_off
from recist_app.ui.document import DocumentLockedError, open_document
from recist_app.ui.sign_off import ReasonDialog
from recist_app.ui.viewer.measure_tool import Tool
from recist_app.workflows.reading_session import ReadingSession
from tests.ui.conftest import LESION_SLICE, two_visit_reading, wait_saved
from tests.ui.gestures import draw_bidirectional

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from recist_app.ui.main_window import MainWindow

YES = QMessageBox.StandardButton.Yes
NO = QMessageBox.StandardButton.No


def _answer_question(monkeypatch: pytest.MonkeyPatch, answer: object) -> list[str]:
    asked: list[str] = []

    def question(_parent: object, _title: str, text: str, *_args: object) -> object:
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def _answer_reason(
    monkeypatch: pytest.MonkeyPatch, reason: str, accepted: bool = True
) -> None:
    monkeypatch.setattr(
        sign_off,
        "ask_reason",
        lambda *_args, **_kwargs: reason.strip() if accepted else None,
    )


def _measure_baseline(window: MainWindow) -> None:
    window.slice_view.set_slice_index(LESION_SLICE)
    draw_bidirectional(window.slice_view, radius_mm=12.0)


def test_sign_locks_the_reading_in_the_store_and_the_window(
    qtbot: QtBot,
    stored_window: MainWindow,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = stored_window
    _measure_baseline(window)
    measured = window.document.reading
    asked = _answer_question(monkeypatch, YES)
    window.sign_action.trigger()
    qtbot.waitUntil(lambda: window.document.locked, timeout=10_000)

    assert len(asked) == 1
    assert "dr-test" in asked[0]
    record = store.readings.record("UI-TEST")
    assert record.status is ReadingStatus.SIGNED
    assert record.signed_by == "dr-test"
    assert store.signing.history("UI-TEST")[0].reading == measured
    document = window.document
    assert document.locked
    assert document.signature.startswith("signed by dr-test at ")
    assert f"— {document.signature}" in window.windowTitle()
    assert window.signature_label.text().startswith("🔒 Signed by dr-test at ")
    # The chain head at sign-off, to write down (audit verify --expect-head).
    head = store.audit.head()
    assert window.statusBar().currentMessage() == (
        f"Reading {document.signature}; audit trail head {head}"
    )
    assert store.audit.verify(expect_heads=[head]).ok
    # Every edit path is off; navigation stays.
    assert window.slice_view.tool is Tool.NAVIGATE
    assert not window.tool_actions[Tool.BIDIRECTIONAL].isEnabled()
    assert not window.tool_actions[Tool.LINE].isEnabled()
    assert window.tool_actions[Tool.NAVIGATE].isEnabled()
    assert not window.undo_action.isEnabled()
    assert not window.redo_action.isEnabled()
    assert not window.lesion_panel.new_box.isEnabled()
    assert not window.sign_action.isEnabled()
    assert window.amend_action.isEnabled()
    # A drag now pans instead of measuring, and nothing can push a change.
    count = document.undo_stack.count()
    draw_bidirectional(window.slice_view, radius_mm=5.0)
    assert document.undo_stack.count() == count
    assert document.reading == measured
    with pytest.raises(DocumentLockedError, match="amend it"):
        document.replace(two_visit_reading(), "anything")


def test_declining_the_confirmation_signs_nothing(
    qtbot: QtBot,
    stored_window: MainWindow,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _measure_baseline(stored_window)
    _answer_question(monkeypatch, NO)
    stored_window.sign_action.trigger()
    wait_saved(qtbot, stored_window)
    assert store.readings.record("UI-TEST").status is ReadingStatus.DRAFT
    assert not stored_window.document.locked
    assert stored_window.tool_actions[Tool.BIDIRECTIONAL].isEnabled()


def test_amend_asks_a_reason_and_unlocks(
    qtbot: QtBot,
    stored_window: MainWindow,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = stored_window
    _measure_baseline(window)
    _answer_question(monkeypatch, YES)
    window.sign_action.trigger()
    qtbot.waitUntil(lambda: window.document.locked, timeout=10_000)

    _answer_reason(monkeypatch, "  ", accepted=False)  # cancelled: stays signed
    window.amend_action.trigger()
    assert window.document.locked

    _answer_reason(monkeypatch, "T01 long axis misplaced")
    window.amend_action.trigger()
    qtbot.waitUntil(lambda: not window.document.locked, timeout=10_000)
    record = store.readings.record("UI-TEST")
    assert record.status is ReadingStatus.DRAFT
    assert record.amendment_reason == "T01 long axis misplaced"
    document = window.document
    assert not document.locked
    assert "(RECIST 1.1) — reader: dr-test" in window.windowTitle()
    assert window.signature_label.text() == ""
    assert window.slice_view.tool is Tool.BIDIRECTIONAL  # the tool before signing
    assert window.lesion_panel.new_box.isEnabled()
    assert window.undo_action.isEnabled()
    assert window.sign_action.isEnabled()
    assert not window.amend_action.isEnabled()
    # Changes are saved again, audited with the amendment's reason.
    document.undo_stack.undo()
    wait_saved(qtbot, window)
    assert store.readings.load("UI-TEST") == document.reading
    assert store.audit.trail("UI-TEST", limit=1)[0].reason == (
        "amendment: T01 long axis misplaced"
    )


def test_amend_with_an_empty_reason_keeps_the_dialog_open(
    qtbot: QtBot,
    stored_window: MainWindow,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _measure_baseline(stored_window)
    _answer_question(monkeypatch, YES)
    stored_window.sign_action.trigger()
    qtbot.waitUntil(lambda: stored_window.document.locked, timeout=10_000)
    seen: dict[str, object] = {}

    def answer() -> None:
        dialog = next(
            w for w in QApplication.topLevelWidgets() if isinstance(w, ReasonDialog)
        )
        dialog.setTextValue("   ")
        dialog.accept()  # OK with an empty reason: the dialog stays open
        seen["open_after_empty_ok"] = dialog.isVisible()
        seen["label"] = dialog.labelText()
        dialog.setTextValue("T01 measured on the wrong slice")
        dialog.accept()

    QTimer.singleShot(0, answer)
    assert stored_window.amend_action.isEnabled()
    stored_window.amend_action.trigger()
    assert seen["open_after_empty_ok"] is True
    assert "reason is required" in str(seen["label"])
    qtbot.waitUntil(lambda: not stored_window.document.locked, timeout=10_000)
    record = store.readings.record("UI-TEST")
    assert record.status is ReadingStatus.DRAFT
    assert record.amendment_reason == "T01 measured on the wrong slice"


def test_amend_cancelled_stays_locked(
    qtbot: QtBot,
    stored_window: MainWindow,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _measure_baseline(stored_window)
    _answer_question(monkeypatch, YES)
    stored_window.sign_action.trigger()
    qtbot.waitUntil(lambda: stored_window.document.locked, timeout=10_000)

    def cancel() -> None:
        dialog = next(
            w for w in QApplication.topLevelWidgets() if isinstance(w, ReasonDialog)
        )
        dialog.reject()

    QTimer.singleShot(0, cancel)
    assert not stored_window.amend_reading()
    assert stored_window.document.locked
    assert store.readings.record("UI-TEST").status is ReadingStatus.SIGNED


def test_a_signed_reading_reopens_locked(
    qtbot: QtBot,
    stored_window: MainWindow,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _measure_baseline(stored_window)
    _answer_question(monkeypatch, YES)
    stored_window.sign_action.trigger()
    qtbot.waitUntil(lambda: stored_window.document.locked, timeout=10_000)
    document = open_document(two_visit_reading(), ReadingSession(store, user="dr-b"))
    assert document.locked
    assert document.signature == stored_window.document.signature
