"""Smoke tests that drive the real widgets with the mouse and keyboard."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from recist_app.recist import Criteria
from recist_app.ui.panels.lesion_table import LesionColumn
from recist_app.ui.viewer.measure_tool import Tool
from recist_app.ui.viewer.slice_view import PRESET_KEYS
from tests.ui.conftest import LESION_SLICE
from tests.ui.gestures import CENTER, NO_MODIFIER, drag, draw_bidirectional

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from recist_app.ui.main_window import MainWindow


def _current_cell(window: MainWindow, row: int = 0) -> str:
    model = window.lesion_panel.model
    return str(model.index(row, LesionColumn.CURRENT).data())


def test_drag_measures_one_undo_step_and_undo_empties_the_table(
    qtbot: QtBot, window: MainWindow
) -> None:
    view = window.slice_view
    view.set_slice_index(LESION_SLICE)
    draw_bidirectional(view, radius_mm=12.0)

    stack = window.document.undo_stack
    assert stack.count() == 1
    assert window.lesion_panel.model.rowCount() == 1
    measurement = window.document.reading.timepoints[0].measurements[0]
    assert measurement.long_axis_mm == pytest.approx(24.0, abs=1.0)
    assert measurement.short_axis_mm == pytest.approx(18.0, abs=1.0)
    assert _current_cell(window).startswith(f"{measurement.long_axis_mm:.1f} mm")
    assert measurement.geometry is not None
    assert measurement.geometry.sop_instance_uid.endswith(f".{LESION_SLICE + 1}")
    assert len(view.overlays) == 1

    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert stack.count() == 1
    assert stack.index() == 0
    assert window.lesion_panel.model.rowCount() == 0
    assert len(view.overlays) == 0


def test_dragging_a_handle_edits_in_one_undo_step(
    qtbot: QtBot, window: MainWindow
) -> None:
    view = window.slice_view
    view.set_slice_index(LESION_SLICE)
    draw_bidirectional(view, radius_mm=12.0)
    overlay = view.overlays[0]
    assert overlay.long_axis_ij is not None
    end = overlay.long_axis_ij[1]
    drag(view, end, (end[0] - 8.0, end[1]))  # 8 px x 0.75 mm shorter
    stack = window.document.undo_stack
    assert stack.count() == 2
    assert stack.undoText().startswith("Edit T01")
    measurement = window.document.reading.timepoints[0].measurements[0]
    assert measurement.long_axis_mm == pytest.approx(18.0, abs=1.0)


def test_line_on_a_lymph_node_is_its_short_axis(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = window.lesion_panel
    panel.organ_combo.setCurrentText("lymph node")
    assert panel.node_check.isChecked()
    window.set_tool(Tool.LINE)
    view = window.slice_view
    view.set_slice_index(LESION_SLICE)
    drag(view, (CENTER, CENTER - 12), (CENTER, CENTER + 12))
    measurement = window.document.reading.timepoints[0].measurements[0]
    assert measurement.long_axis_mm is None
    assert measurement.short_axis_mm == pytest.approx(24.0, abs=1.0)


def test_wheel_scrolls_and_updates_the_slice_label(
    qtbot: QtBot, window: MainWindow
) -> None:
    view = window.slice_view
    start = view.slice_index
    assert view.slice_text() == f"Slice {start + 1} / 16"
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    center = QPointF(view.width() / 2, view.height() / 2)
    event = QWheelEvent(
        center,
        view.mapToGlobal(center),
        QPoint(),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        NO_MODIFIER,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view, event)
    assert view.slice_index == start + 1
    assert view.slice_text() == f"Slice {start + 2} / 16"
    qtbot.waitUntil(  # the status line follows on the next turn of the loop
        lambda: window.slice_label.text().startswith(f"Slice {start + 2} / 16")
    )
    QTest.keyClick(view, Qt.Key.Key_Up)
    QTest.keyClick(view, Qt.Key.Key_Up)
    assert view.slice_index == start - 1


def test_number_keys_apply_window_presets(qtbot: QtBot, window: MainWindow) -> None:
    view = window.slice_view
    for number, preset in enumerate(PRESET_KEYS[:3], start=1):
        QTest.keyClick(view, getattr(Qt.Key, f"Key_{number}"))
        assert view.window_level == (preset.center, preset.width)
        assert view.window_text() == f"W {preset.width:.0f}  L {preset.center:.0f}"


def test_right_drag_changes_window(qtbot: QtBot, window: MainWindow) -> None:
    view = window.slice_view
    center, width = view.window_level
    start = QPoint(view.width() // 2, view.height() // 2)
    QTest.mousePress(view, Qt.MouseButton.RightButton, NO_MODIFIER, start)
    QTest.mouseMove(view, start + QPoint(40, 20))
    QTest.mouseRelease(
        view,
        Qt.MouseButton.RightButton,
        NO_MODIFIER,
        start + QPoint(40, 20),
    )
    new_center, new_width = view.window_level
    assert new_width > width
    assert new_center > center


def test_response_after_baseline_and_follow_up(
    qtbot: QtBot, window: MainWindow
) -> None:
    view = window.slice_view
    view.set_slice_index(LESION_SLICE)
    draw_bidirectional(view, radius_mm=12.0)
    text = window.response_panel.text()
    assert "Baseline sum" in text

    window.document.set_visit("WEEK 8")
    assert (
        window.lesion_panel.model.headerData(
            LesionColumn.PRIOR, Qt.Orientation.Horizontal
        )
        == "Baseline"
    )
    view.set_slice_index(LESION_SLICE)
    # The baseline measurement of the selected lesion is shown as a hint.
    assert [o.hint for o in view.overlays] == [True]
    draw_bidirectional(view, radius_mm=7.5)
    measurement = window.document.reading.timepoint("WEEK 8").measurement("T01")
    assert measurement is not None
    assert measurement.long_axis_mm == pytest.approx(15.0, abs=1.0)
    panel = window.response_panel
    assert panel.cell("Overall", Criteria.RECIST_1_1) == "PR"
    assert panel.cell("Overall", Criteria.IRECIST) == "iPR"
    # 15 mm from 24 mm is -37.5 % (-9.0 mm), give or take the drawing's pixel.
    change = panel.cell("Change from baseline", Criteria.RECIST_1_1)
    match = re.fullmatch(r"(-\d+\.\d) % \((-\d+\.\d) mm\)", change)
    assert match is not None, change
    percent, millimetres = match.groups()
    assert float(percent) == pytest.approx(-37.5, abs=4.0)
    assert float(millimetres) == pytest.approx(-9.0, abs=1.0)
    # PR needs confirmation at a later visit; until then SD is the best (G2, G4).
    assert panel.cell("Best overall", Criteria.RECIST_1_1) == "SD (unconfirmed)"
    # No viable diameters drawn: mRECIST cannot assess the target (J1).
    assert panel.cell("Target", Criteria.MRECIST) == "NE"
    assert window.document.undo_stack.count() == 2


def test_selecting_a_lesion_jumps_to_its_slice(
    qtbot: QtBot, window: MainWindow
) -> None:
    view = window.slice_view
    view.set_slice_index(LESION_SLICE)
    draw_bidirectional(view, radius_mm=12.0)
    window.document.select_lesion("")
    view.set_slice_index(0)
    window.lesion_panel.table.selectRow(0)
    assert window.document.selected_lesion_id == "T01"
    assert view.slice_index == LESION_SLICE


def test_follow_up_shows_the_prior_beside_it_with_linked_scrolling(
    qtbot: QtBot, window: MainWindow
) -> None:
    view, prior = window.slice_view, window.prior_view
    assert [prior.volume] == [None]  # baseline has no prior: nothing to compare
    view.set_slice_index(LESION_SLICE)
    draw_bidirectional(view, radius_mm=12.0)
    window.document.set_visit("WEEK 8")
    assert prior.volume is window.volume_at("BASELINE")
    view.set_slice_index(3)
    assert prior.slice_index == 3
    prior.set_slice_index(5)
    assert view.slice_index == 5
    # Selecting the lesion shows it in both views; the prior shows its mark.
    window.document.select_lesion("")
    window.lesion_panel.table.selectRow(0)
    assert view.slice_index == LESION_SLICE
    assert prior.slice_index == LESION_SLICE
    assert [o.lesion_id for o in prior.overlays] == ["T01"]
    assert not prior.overlays[0].hint
