"""RECIST 1.1, iRECIST and mRECIST side by side, driven through the real widgets."""

from __future__ import annotations

import dataclasses
import datetime
import re
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from recist_app.recist import (
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    TimePoint,
    assess,
)
from recist_app.ui.document import ReadingDocument
from recist_app.ui.main_window import MainWindow
from recist_app.ui.panels.history_panel import lesion_history
from recist_app.ui.panels.lesion_table import LesionColumn
from recist_app.ui.panels.response_panel import SETTINGS_KEY
from recist_app.ui.viewer.measure_tool import Tool
from tests.ui.conftest import (
    BASELINE_SERIES,
    FOLLOW_UP_SERIES,
    LESION_SLICE,
    disc_volume,
)
from tests.ui.gestures import CENTER, drag, draw_bidirectional

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot


ALL = (Criteria.RECIST_1_1, Criteria.IRECIST, Criteria.MRECIST)


def _mm(text: str) -> float:
    """The first millimetre figure of a cell (drawings are within a pixel)."""
    match = re.match(r"(-?\d+\.\d) mm", text)
    assert match is not None, text
    return float(match.group(1))


def _viable(window: MainWindow, length_mm: float) -> None:
    """Drag a horizontal viable line of ``length_mm`` (0.75 mm columns)."""
    window.set_tool(Tool.VIABLE)
    half = length_mm / 0.75 / 2
    drag(window.slice_view, (CENTER - half, CENTER + 4), (CENTER + half, CENTER + 4))
    window.set_tool(Tool.BIDIRECTIONAL)


def _read_pr_under_mrecist_only(window: MainWindow) -> None:
    """Baseline 24 mm (viable 20 mm); week 8: 20 mm (viable 10 mm), same lesion."""
    view = window.slice_view
    view.set_slice_index(LESION_SLICE)
    draw_bidirectional(view, radius_mm=12.0)
    _viable(window, 20.0)
    window.document.set_visit("WEEK 8")
    view.set_slice_index(LESION_SLICE)
    draw_bidirectional(view, radius_mm=10.0)  # 20 mm: -17 %, SD by RECIST 1.1
    _viable(window, 10.0)  # viable -50 %: PR by mRECIST


def test_three_columns_show_what_each_criteria_computes(
    qtbot: QtBot, window: MainWindow
) -> None:
    _read_pr_under_mrecist_only(window)
    panel = window.response_panel
    assert panel.shown_criteria() == ALL
    headers = [
        panel.table.horizontalHeaderItem(c).text()  # type: ignore[union-attr]
        for c in range(panel.table.columnCount())
    ]
    assert headers == ["RECIST 1.1", "iRECIST", "mRECIST"]
    assert [panel.cell("Overall", c) for c in ALL] == ["SD", "iSD", "PR"]
    assert [panel.cell("Target", c) for c in ALL] == ["SD", "iSD", "PR"]

    reading = window.document.reading
    for criteria in ALL:
        engine = assess(dataclasses.replace(reading, criteria=criteria))
        week_8 = engine.timepoint("WEEK 8")
        assert panel.cell("Overall", criteria) == str(week_8.overall_response)
        assert panel.cell("New lesions", criteria) == str(week_8.new_lesions)
        assert panel.cell("Best so far", criteria) == (
            week_8.best_overall_response_so_far.value
        )
        assert panel.cell("Target sum", criteria).startswith(
            f"{week_8.sum_of_diameters_mm:.1f} mm"
        )

    # The mRECIST sum is the viable one: 10 mm, -50 % from 20 mm.
    assert panel.cell("Target sum", Criteria.MRECIST).endswith("mm viable")
    change = panel.cell("Change from baseline", Criteria.MRECIST)
    match = re.match(r"(-\d+\.\d) %", change)
    assert match is not None, change
    assert float(match.group(1)) == pytest.approx(-50.0, abs=5.0)
    # Each column explains itself, citing the rules.
    text = panel.text()
    assert "mRECIST" in text
    assert "→ PR (C2)" in text
    assert "→ SD (C4)" in text

    # The lesion table shows both diameters at the follow-up.
    model = window.lesion_panel.model
    assert _mm(str(model.index(0, LesionColumn.CURRENT).data())) == pytest.approx(
        20.0, abs=1.0
    )
    viable = str(model.index(0, LesionColumn.VIABLE).data())
    assert float(viable.split()[0]) == pytest.approx(10.0, abs=1.0)

    # Undo the follow-up viable line: mRECIST can no longer assess the target.
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert panel.cell("Target", Criteria.MRECIST) == "NE"
    assert panel.cell("Overall", Criteria.RECIST_1_1) == "SD"


def test_baseline_columns_add_the_mrecist_eligibility_warning(
    qtbot: QtBot, window: MainWindow
) -> None:
    view = window.slice_view
    view.set_slice_index(LESION_SLICE)
    draw_bidirectional(view, radius_mm=12.0)
    panel = window.response_panel
    assert _mm(panel.cell("Baseline sum", Criteria.RECIST_1_1)) == pytest.approx(
        24.0, abs=1.0
    )
    assert panel.cell("Baseline sum", Criteria.MRECIST) == "—"
    assert panel.cell("Conformance", Criteria.MRECIST) == "1 warning(s)"
    assert "mRECIST adds" in panel.text()
    assert "J2: T01 viable" in panel.text()
    _viable(window, 20.0)
    viable_sum = panel.cell("Baseline sum", Criteria.MRECIST)
    assert viable_sum.endswith(" mm viable")
    assert _mm(viable_sum) == pytest.approx(20.0, abs=1.0)
    assert panel.cell("Conformance", Criteria.MRECIST) == "0 warning(s)"


def test_columns_shown_follow_the_setting(
    qtbot: QtBot, document: ReadingDocument, tmp_path: Path
) -> None:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    volumes = {
        BASELINE_SERIES: disc_volume(BASELINE_SERIES, radius_mm=12.0),
        FOLLOW_UP_SERIES: disc_volume(FOLLOW_UP_SERIES, radius_mm=7.5),
    }
    window = MainWindow(document, volumes, settings=settings)
    qtbot.addWidget(window)
    window.show()
    panel = window.response_panel
    own = panel.criteria_checks[Criteria.RECIST_1_1]
    assert not own.isEnabled()  # the reading's own criteria always shows
    check = panel.criteria_checks[Criteria.IRECIST]
    QTest.mouseClick(check, Qt.MouseButton.LeftButton)
    assert not check.isChecked()
    assert panel.shown_criteria() == (Criteria.RECIST_1_1, Criteria.MRECIST)
    assert panel.table.columnCount() == 2
    with pytest.raises(KeyError):
        panel.cell("Baseline sum", Criteria.IRECIST)
    assert settings.value(SETTINGS_KEY) == "RECIST 1.1,mRECIST"

    again = MainWindow(document, volumes, settings=settings)
    qtbot.addWidget(again)
    assert again.response_panel.shown_criteria() == (
        Criteria.RECIST_1_1,
        Criteria.MRECIST,
    )


def test_new_lesion_diameters_and_flags_count_per_criteria(
    qtbot: QtBot, window: MainWindow
) -> None:
    view = window.slice_view
    view.set_slice_index(LESION_SLICE)
    draw_bidirectional(view, radius_mm=12.0)
    _viable(window, 20.0)
    document = window.document
    document.set_visit("WEEK 8")
    view.set_slice_index(LESION_SLICE)
    draw_bidirectional(view, radius_mm=10.0)
    _viable(window, 15.0)
    # Nothing selected: the drawing creates a new lesion with its diameters.
    document.select_lesion("")
    view.set_slice_index(LESION_SLICE - 2)
    draw_bidirectional(view, radius_mm=7.5)  # 15 x 11.25 mm
    (observation,) = document.reading.timepoint("WEEK 8").new_lesions
    assert observation.lesion_id == "N01"
    assert observation.long_axis_mm == pytest.approx(15.0, abs=1.0)
    assert observation.short_axis_mm == pytest.approx(11.25, abs=1.0)
    panel = window.lesion_panel
    row = panel.model.row_of("N01")
    assert re.fullmatch(
        r"unequivocal, \d+\.\d × \d+\.\d mm",
        str(panel.model.index(row, LesionColumn.CURRENT).data()),
    )
    response = window.response_panel
    assert _mm(response.cell("New-lesion sum", Criteria.IRECIST)) == pytest.approx(
        15.0, abs=1.0
    )
    assert [response.cell("Overall", c) for c in ALL] == ["PD", "iUPD", "PD"]

    # Equivocal by the reader, typical HCC pattern: PD only under mRECIST (J5).
    panel.set_state("N01", "equivocal")
    flags = panel.flags_box
    assert flags.isVisibleTo(panel)
    assert (
        flags.title()
        == f"New lesion N01 at Week 8: {observation.long_axis_mm:.1f}"
        + (f" × {observation.short_axis_mm:.1f} mm")
    )
    assert [response.cell("New lesions", c) for c in ALL] == ["EQUIVOCAL"] * 3
    flags.pattern_combo.setCurrentIndex(1)
    flags.pattern_combo.activated.emit(1)  # as when the reader picks it
    assert document.undo_stack.undoText() == (
        "Set N01 vascular pattern typical at WEEK 8"
    )
    assert [response.cell("New lesions", c) for c in ALL] == [
        "EQUIVOCAL",
        "EQUIVOCAL",
        "UNEQUIVOCAL",
    ]
    assert response.cell("Overall", Criteria.MRECIST) == "PD"

    # Re-measuring the new lesion keeps its state and flags.
    (overlay,) = [o for o in view.overlays if o.lesion_id == "N01"]
    assert overlay.long_axis_ij is not None
    end = overlay.long_axis_ij[1]
    drag(view, end, (end[0] + 4.0, end[1]))
    (observation,) = document.reading.timepoint("WEEK 8").new_lesions
    assert observation.state.value == "equivocal"
    assert observation.typical_vascular_pattern is True
    assert observation.long_axis_mm == pytest.approx(18.0, abs=1.0)

    # A target selected: the flags box is out of the way.
    document.select_lesion("T01")
    assert not flags.isVisibleTo(panel)


def test_cytology_flag_decides_ascites_progression_under_mrecist(
    qtbot: QtBot, window: MainWindow
) -> None:
    view = window.slice_view
    view.set_slice_index(LESION_SLICE)
    draw_bidirectional(view, radius_mm=12.0)
    _viable(window, 20.0)
    panel = window.lesion_panel
    panel.organ_combo.setCurrentText("peritoneum")
    panel.location_combo.setCurrentText("ascites")
    assert panel.add_lesion(LesionRole.NON_TARGET, panel.template()) == "NT01"
    document = window.document
    document.set_visit("WEEK 8")
    view.set_slice_index(LESION_SLICE)
    document.select_lesion("T01")
    draw_bidirectional(view, radius_mm=12.0)
    _viable(window, 20.0)
    panel.set_state("NT01", NonTargetState.UNEQUIVOCAL_PROGRESSION.value)
    document.select_lesion("NT01")
    response = window.response_panel
    assert response.cell("Non-target", Criteria.RECIST_1_1) == "PD"
    assert response.cell("Non-target", Criteria.MRECIST) == "NON-CR/NON-PD"
    assert "not cytologically proven neoplastic" in response.text()

    check = panel.flags_box.cytology_check
    assert check.isVisibleTo(panel)
    QTest.mouseClick(check, Qt.MouseButton.LeftButton)
    assert check.isChecked()
    assert document.undo_stack.undoText() == "Set NT01 cytology confirmed at WEEK 8"
    assert response.cell("Non-target", Criteria.MRECIST) == "PD"
    assert str(
        panel.model.index(panel.model.row_of("NT01"), LesionColumn.CURRENT).data()
    ) == ("unequivocal progression, cytology +")
    # A change of state keeps the flag.
    panel.set_state("NT01", NonTargetState.PRESENT.value)
    assessment = document.reading.timepoint("WEEK 8").non_target[0]
    assert assessment.cytology_confirmed

    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not check.isChecked()
    assert response.cell("Non-target", Criteria.MRECIST) == "NON-CR/NON-PD"

    # A signed reading cannot be changed from the flags either.
    document.set_signature("signed by dr-test at 2024-03-05 09:00 UTC")
    assert not check.isEnabled()
    assert not window.tool_actions[Tool.VIABLE].isEnabled()


def _three_visit_window(qtbot: QtBot) -> MainWindow:
    """T01 (viable measured) and NT01 read at baseline, week 8 and week 14."""

    def t01(long_mm: float) -> Measurement:
        return Measurement(
            lesion_id="T01", long_axis_mm=long_mm, viable_long_axis_mm=long_mm - 5
        )

    present = (NonTargetAssessment(lesion_id="NT01"),)
    reading = Reading(
        patient_id="UI-TEST",
        lesions=(
            Lesion(lesion_id="T01", role=LesionRole.TARGET, organ="liver"),
            Lesion(lesion_id="NT01", role=LesionRole.NON_TARGET, organ="bone"),
        ),
        timepoints=(
            TimePoint(
                visit="BASELINE",
                date=datetime.date(2024, 1, 8),
                is_baseline=True,
                series_instance_uid=BASELINE_SERIES,
                measurements=(t01(40.0),),
                non_target=present,
            ),
            TimePoint(
                visit="WEEK 8",
                date=datetime.date(2024, 3, 4),
                series_instance_uid=FOLLOW_UP_SERIES,
                measurements=(t01(40.0),),
                non_target=present,
            ),
            TimePoint(
                visit="WEEK 14",
                date=datetime.date(2024, 4, 15),
                series_instance_uid=FOLLOW_UP_SERIES,
                measurements=(t01(40.0),),
                non_target=present,
            ),
        ),
    )
    volumes = {
        BASELINE_SERIES: disc_volume(BASELINE_SERIES, radius_mm=12.0),
        FOLLOW_UP_SERIES: disc_volume(FOLLOW_UP_SERIES, radius_mm=7.5),
    }
    window = MainWindow(ReadingDocument(reading), volumes)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    # Ctrl+Z reaches the undo action only in the active window.
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    return window


def _set_state_through_the_combo(window: MainWindow, lesion_id: str, value: str) -> str:
    """Pick ``value`` in the state combo of ``lesion_id`` and press Set state."""
    window.document.select_lesion(lesion_id)
    panel = window.lesion_panel
    values = [panel.state_combo.itemData(i) for i in range(panel.state_combo.count())]
    index = values.index(value)
    panel.state_combo.setCurrentIndex(index)
    QTest.mouseClick(panel.state_button, Qt.MouseButton.LeftButton)
    return panel.state_combo.itemText(index)


def test_H2_further_increase_of_a_non_target_is_recorded_in_the_panel(
    qtbot: QtBot,
) -> None:
    window = _three_visit_window(qtbot)
    document = window.document
    panel = window.lesion_panel
    response = window.response_panel
    document.select_lesion("NT01")
    offered = [panel.state_combo.itemData(i) for i in range(panel.state_combo.count())]
    assert NonTargetState.FURTHER_INCREASE.value not in offered  # not at baseline

    document.set_visit("WEEK 8")
    _set_state_through_the_combo(
        window, "NT01", NonTargetState.UNEQUIVOCAL_PROGRESSION.value
    )
    assert [response.cell("Overall", c) for c in ALL] == ["PD", "iUPD", "PD"]

    document.set_visit("WEEK 14")
    label = _set_state_through_the_combo(
        window, "NT01", NonTargetState.UNEQUIVOCAL_PROGRESSION.value
    )
    assert label == "unequivocal progression"
    assert response.cell("Overall", Criteria.IRECIST) == "iUPD"  # unchanged
    label = _set_state_through_the_combo(
        window, "NT01", NonTargetState.FURTHER_INCREASE.value
    )
    assert label == "further increase since iUPD (iRECIST)"
    assert document.undo_stack.undoText() == "Set NT01 further increase at WEEK 14"
    (assessment,) = document.reading.timepoint("WEEK 14").non_target
    assert assessment.state is NonTargetState.FURTHER_INCREASE
    assert [response.cell("Overall", c) for c in ALL] == ["PD", "iCPD", "PD"]
    assert "further increase of non-target NT01" in response.text()
    row = panel.model.row_of("NT01")
    assert panel.model.index(row, LesionColumn.CURRENT).data() == "further increase"

    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert response.cell("Overall", Criteria.IRECIST) == "iUPD"
    _set_state_through_the_combo(window, "NT01", NonTargetState.PRESENT.value)
    assert response.cell("Overall", Criteria.IRECIST) == "iSD"  # reset (H3)


def test_J4_cytology_flag_of_a_new_effusion_is_set_under_the_table(
    qtbot: QtBot,
) -> None:
    window = _three_visit_window(qtbot)
    document = window.document
    panel = window.lesion_panel
    response = window.response_panel
    document.set_visit("WEEK 8")
    panel.role_combo.setCurrentIndex(panel.role_combo.findData("new"))
    panel.organ_combo.setCurrentText("pleura")
    panel.location_combo.setCurrentText("right effusion")
    QTest.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert document.reading.lesion("N01").location == "right effusion"
    document.select_lesion("N01")
    assert [response.cell("New lesions", c) for c in ALL] == [
        "UNEQUIVOCAL",
        "UNEQUIVOCAL",
        "EQUIVOCAL",
    ]
    assert [response.cell("Overall", c) for c in ALL] == ["PD", "iUPD", "SD"]
    assert "is not cytologically proven neoplastic: not PD (J4)" in response.text()

    check = panel.flags_box.cytology_check
    assert check.isVisibleTo(panel)
    assert not check.isChecked()
    QTest.mouseClick(check, Qt.MouseButton.LeftButton)
    assert document.undo_stack.undoText() == "Set N01 cytology confirmed at WEEK 8"
    (observation,) = document.reading.timepoint("WEEK 8").new_lesions
    assert observation.cytology_confirmed
    assert response.cell("New lesions", Criteria.MRECIST) == "UNEQUIVOCAL"
    assert response.cell("Overall", Criteria.MRECIST) == "PD"
    row = panel.model.row_of("N01")
    assert panel.model.index(row, LesionColumn.CURRENT).data() == (
        "unequivocal, cytology +"
    )
    # Equivocal or not, the flag stays with the lesion.
    panel.set_state("N01", "equivocal")
    assert document.reading.timepoint("WEEK 8").new_lesions[0].cytology_confirmed
    assert response.cell("Overall", Criteria.MRECIST) == "PD"

    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not check.isChecked()
    assert response.cell("Overall", Criteria.MRECIST) == "SD"


def test_A8_a_visit_not_read_shows_not_read_in_every_column(
    qtbot: QtBot, window: MainWindow
) -> None:
    # the two visits have no finding: not read, never "NED"
    panel = window.response_panel
    assert [panel.cell("Disease status", c) for c in ALL] == ["not read"] * 3
    assert [panel.cell("Best overall", c) for c in ALL] == ["not read"] * 3
    window.document.set_visit("WEEK 8")
    assert [panel.cell("Overall", c) for c in ALL] == ["not read"] * 3
    assert [panel.cell("New lesions", c) for c in ALL] == ["—"] * 3
    history = lesion_history(window.document.reading, window.document.assessment)
    assert history.responses == ("not read", "not read")
