from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, cast

from recist_app.recist import (
    Assessment,
    Lesion,
    LesionRole,
    Reading,
    add_lesion,
    assess,
)
from recist_app.ui.autosave import AutosaveWriter, SaveState
from recist_app.ui.document import ReadingDocument
from tests.ui.conftest import two_visit_reading

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from recist_app.workflows.reading_session import ReadingSession


def _with_target(reading: Reading) -> Reading:
    lesion = Lesion(lesion_id="T01", role=LesionRole.TARGET, organ="liver")
    return add_lesion(reading, lesion)


def test_replace_pushes_one_step_and_emits_once(document: ReadingDocument) -> None:
    seen: list[Reading] = []
    document.reading_changed.connect(lambda reading, _assessment: seen.append(reading))
    after = _with_target(document.reading)
    assert document.replace(after, "Add target T01")
    assert document.undo_stack.count() == 1
    assert document.undo_stack.undoText() == "Add target T01"
    assert document.reading == after
    assert seen == [after]


def test_no_op_is_never_pushed(document: ReadingDocument) -> None:
    assert not document.replace(document.reading, "nothing")
    same = dataclasses.replace(document.reading)
    assert not document.replace(same, "still nothing")
    assert document.undo_stack.count() == 0


def test_undo_and_redo_restore_snapshots_and_assessment(
    document: ReadingDocument,
) -> None:
    before = document.reading
    after = _with_target(before)
    document.replace(after, "Add target T01")
    document.undo_stack.undo()
    assert document.reading == before
    assert document.assessment.baseline.target_count == 0
    document.undo_stack.redo()
    assert document.reading == after
    assert document.assessment.baseline.target_count == 1


class _RecordingSession:
    """Stands in for the ReadingSession behind the autosave writer."""

    def __init__(self, fail: bool = False) -> None:
        self.saved: list[Reading] = []
        self.assessments: list[Assessment | None] = []
        self.fail = fail

    def save(self, reading: Reading, *, assessment: Assessment | None = None) -> None:
        if self.fail:
            raise OSError("disk full")
        self.saved.append(reading)
        self.assessments.append(assessment)


def _autosaving(session: _RecordingSession) -> ReadingDocument:
    writer = AutosaveWriter(cast("ReadingSession", session))
    return ReadingDocument(two_visit_reading(), saver=writer)


def test_every_change_and_undo_is_autosaved_newest_last(qtbot: QtBot) -> None:
    session = _RecordingSession()
    document = _autosaving(session)
    after = _with_target(document.reading)
    document.replace(after, "Add target T01")
    document.undo_stack.undo()
    assert document.saver is not None
    assert document.saver.flush()
    # In order; a reading still waiting when a newer one came may be skipped.
    assert session.saved in ([after, two_visit_reading()], [two_visit_reading()])
    qtbot.waitUntil(document.undo_stack.isClean)


def test_autosave_hands_the_store_the_assessment_already_computed(
    qtbot: QtBot,
) -> None:
    session = _RecordingSession()
    document = _autosaving(session)
    after = _with_target(document.reading)
    document.replace(after, "Add target T01")
    assert document.saver is not None
    assert document.saver.flush()
    assert session.assessments == [assess(after)]
    assert session.assessments[0] is document.assessment


def test_failed_autosave_is_reported_and_the_change_kept(qtbot: QtBot) -> None:
    document = _autosaving(_RecordingSession(fail=True))
    states: list[tuple[SaveState, str]] = []
    document.save_state_changed.connect(lambda *state: states.append(state))
    after = _with_target(document.reading)
    document.replace(after, "Add target T01")
    qtbot.waitUntil(lambda: bool(states) and states[-1][0] is SaveState.FAILED)
    assert document.reading == after
    assert states == [(SaveState.SAVING, ""), (SaveState.FAILED, "disk full")]
    assert not document.undo_stack.isClean()


def test_load_clears_history_and_selection(document: ReadingDocument) -> None:
    document.replace(_with_target(document.reading), "Add target T01")
    document.select_lesion("T01")
    document.set_visit("WEEK 8")
    document.load(two_visit_reading())
    assert document.undo_stack.count() == 0
    assert document.selected_lesion_id == ""
    assert document.visit == "BASELINE"


def test_undoing_a_lesion_clears_its_selection(document: ReadingDocument) -> None:
    document.replace(_with_target(document.reading), "Add target T01")
    document.select_lesion("T01")
    document.undo_stack.undo()
    assert document.selected_lesion_id == ""
