from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from recist_app.recist import (
    Criteria,
    LesionRole,
    MeasurementState,
    NonTargetState,
    Response,
    ResponseParameters,
    assess,
)
from recist_app.ui.panels.lesion_table import LesionColumn, LesionTableModel
from recist_app.ui.vocabulary import load_vocabulary
from tests.recist.builders import Visit, build, target

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from recist_app.ui.main_window import MainWindow


def test_vocabulary_has_organs_and_a_lymph_node_entry() -> None:
    terms = load_vocabulary()
    organs = {term.organ: term for term in terms}
    assert "liver" in organs
    assert organs["lymph node"].lymph_node


def test_add_lesions_through_the_panel(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.lesion_panel
    panel.role_combo.setCurrentIndex(panel.role_combo.findData("non-target"))
    panel.organ_combo.setCurrentText("portal vein")
    QTest.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    panel.role_combo.setCurrentIndex(panel.role_combo.findData("target"))
    panel.organ_combo.setCurrentText("liver")
    panel.location_combo.setCurrentText("segment VII")
    QTest.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)

    reading = window.document.reading
    assert [lesion.lesion_id for lesion in reading.lesions] == ["NT01", "T01"]
    assert reading.lesion("T01").location == "segment VII"
    assert reading.timepoints[0].non_target_state("NT01") is NonTargetState.PRESENT
    assert window.document.undo_stack.count() == 2
    assert panel.model.index(0, LesionColumn.CURRENT).data() == "present"
    assert window.document.selected_lesion_id == "T01"


def test_baseline_warnings_are_live_and_cite_their_rule(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = window.lesion_panel
    for _ in range(3):
        panel.add_lesion(LesionRole.TARGET, panel.template())
    texts = [
        panel.warnings_list.item(i).text() for i in range(panel.warnings_list.count())
    ]
    # Three liver targets break the two-per-organ rule.
    assert any("A3" in text for text in texts)
    window.document.undo_stack.undo()
    texts = [
        panel.warnings_list.item(i).text() for i in range(panel.warnings_list.count())
    ]
    assert not any("A3" in text for text in texts)


def test_follow_up_states_from_the_panel(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.lesion_panel
    panel.add_lesion(LesionRole.TARGET, panel.template())
    window.document.set_visit("WEEK 8")
    window.document.select_lesion("T01")
    values = [panel.state_combo.itemData(i) for i in range(panel.state_combo.count())]
    assert MeasurementState.DISAPPEARED.value in values
    panel.state_combo.setCurrentIndex(values.index(MeasurementState.DISAPPEARED.value))
    QTest.mouseClick(panel.state_button, Qt.MouseButton.LeftButton)
    measurement = window.document.reading.timepoint("WEEK 8").measurement("T01")
    assert measurement is not None
    assert measurement.state is MeasurementState.DISAPPEARED
    assert panel.model.index(0, LesionColumn.CURRENT).data() == "disappeared (0 mm)"


def test_new_lesion_at_follow_up_is_unequivocal_then_equivocal(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = window.lesion_panel
    window.document.set_visit("WEEK 8")
    lesion_id = panel.add_lesion(LesionRole.NEW, panel.template())
    assert lesion_id == "N01"
    assert "UNEQUIVOCAL" in window.response_panel.text()
    panel.set_state("N01", "equivocal")
    assert panel.model.index(0, LesionColumn.CURRENT).data() == "equivocal"


def test_new_lesion_at_baseline_is_refused_with_a_message(
    qtbot: QtBot, window: MainWindow, monkeypatch: object
) -> None:
    shown: list[str] = []
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(  # type: ignore[attr-defined]
        QMessageBox,
        "warning",
        lambda _parent, _title, text: shown.append(text),
    )
    panel = window.lesion_panel
    panel.role_combo.setCurrentIndex(panel.role_combo.findData("new"))
    QTest.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert shown == ["new lesions are added at a follow-up visit, not at baseline"]
    assert window.document.undo_stack.count() == 0


def test_editing_the_organ_cell_is_one_undo_step(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = window.lesion_panel
    panel.add_lesion(LesionRole.TARGET, panel.template())
    index = panel.model.index(0, LesionColumn.ORGAN)
    assert panel.model.setData(index, "lung")
    assert window.document.reading.lesion("T01").organ == "lung"
    assert window.document.undo_stack.undoText() == "Set organ of T01 to lung"


def test_B2_too_small_target_shows_the_counted_5mm_from_the_assessment(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = window.lesion_panel
    panel.add_lesion(LesionRole.TARGET, panel.template())
    window.document.set_visit("WEEK 8")
    panel.set_state("T01", MeasurementState.TOO_SMALL.value)
    (counted,) = window.document.assessment.timepoint("WEEK 8").target_diameters
    assert counted.diameter_mm == 5.0
    shown = "too small (5.0 mm)"
    assert panel.model.index(0, LesionColumn.CURRENT).data() == shown
    history = window.history_panel.model
    assert history.index(0, 2).data() == shown
    assert window.response_panel.cell("T01", Criteria.RECIST_1_1) == shown


@pytest.mark.parametrize(
    ("too_small_mm", "shown"),
    [(5.0, "too small (5.0 mm)"), (3.5, "too small (3.5 mm)")],
)
def test_B2_the_table_shows_the_assessment_value_not_a_fixed_5mm(
    qtbot: QtBot, too_small_mm: float, shown: str
) -> None:
    reading = build(
        [target("T01"), target("T02", node=True)],
        [Visit(0, {"T01": 40.0, "T02": 20.0}), Visit(42, {"T01": "too_small"})],
        params=ResponseParameters(too_small_mm=too_small_mm),
    )
    model = LesionTableModel()
    model.set_reading(reading, assess(reading), "DAY 42")
    assert model.index(0, LesionColumn.PRIOR).data() == "40.0 mm"
    assert model.index(1, LesionColumn.PRIOR).data() == "20.0 mm"
    assert model.index(0, LesionColumn.CURRENT).data() == shown
    assert model.index(1, LesionColumn.CURRENT).data() == "—"  # not recorded (B4)


def test_A8_no_disease_at_baseline_is_the_readers_explicit_action(
    qtbot: QtBot, window: MainWindow
) -> None:
    from recist_app.ui.panels.lesion_panel import (
        NO_DISEASE_AT_BASELINE,
        NO_DISEASE_AT_VISIT,
    )

    panel = window.lesion_panel
    document = window.document
    # An empty baseline is not read, never "no disease".
    empty = document.assessment
    assert not empty.baseline.read
    assert empty.baseline.overall_response is None
    check = panel.no_disease_check
    assert check.text() == NO_DISEASE_AT_BASELINE
    assert check.isEnabled()
    assert not check.isChecked()
    check.click()  # as a mouse click on its box
    assert document.reading.timepoint("BASELINE").no_disease
    assert document.assessment.baseline.overall_response is Response.NED
    assert document.undo_stack.count() == 1
    document.set_visit("WEEK 8")
    assert check.text() == NO_DISEASE_AT_VISIT
    assert not check.isChecked()
    assert document.assessment.timepoints[0].overall_response is None  # not read
    # Adding a target is disease: the baseline's "no disease" goes in that step,
    # and the box no longer applies.
    document.set_visit("BASELINE")
    panel.add_lesion(LesionRole.TARGET, panel.template())
    assert not document.reading.timepoint("BASELINE").no_disease
    assert not check.isChecked()
    assert not check.isEnabled()
    document.undo_stack.undo()
    assert document.reading.timepoint("BASELINE").no_disease
    assert check.isChecked()
