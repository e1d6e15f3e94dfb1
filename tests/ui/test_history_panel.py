"""Lesion history: lesion × visit table and the plot over time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import Qt

from recist_app.recist import LesionRole
from recist_app.ui.panels.history_panel import LesionHistory, lesion_history
from tests.ui.conftest import LESION_SLICE
from tests.ui.gestures import draw_bidirectional

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from recist_app.ui.main_window import MainWindow


def _cell(window: MainWindow, row: int, column: int) -> str:
    model = window.history_panel.model
    return str(model.index(row, column).data())


def _column_of_rows(window: MainWindow, column: int) -> list[str]:
    model = window.history_panel.model
    return [_cell(window, row, column) for row in range(model.rowCount())]


def test_two_visits_fill_the_table_and_plot_the_sum_and_each_target(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = window.history_panel
    assert panel.line_count() == 1  # only the (empty) sum before any target
    view = window.slice_view
    view.set_slice_index(LESION_SLICE)
    draw_bidirectional(view, radius_mm=12.0)
    window.document.select_lesion("")
    window.lesion_panel.organ_combo.setCurrentText("lung")
    window.lesion_panel.node_check.setChecked(False)
    draw_bidirectional(view, radius_mm=5.0)  # a second target (T02)
    window.document.set_visit("WEEK 8")
    window.document.select_lesion("T01")
    view.set_slice_index(LESION_SLICE)
    draw_bidirectional(view, radius_mm=7.5)
    window.lesion_panel.set_state("T02", "disappeared")

    reading = window.document.reading
    baseline = reading.timepoint("BASELINE").measurement("T01")
    week_8 = reading.timepoint("WEEK 8").measurement("T01")
    assert baseline is not None
    assert week_8 is not None
    assert baseline.long_axis_mm is not None
    assert week_8.long_axis_mm is not None
    model = panel.model
    assert model.columnCount() == 3
    header = model.headerData(1, Qt.Orientation.Horizontal)
    assert header == "Baseline\n2024-01-08"
    labels = _column_of_rows(window, 0)
    assert labels[0].startswith("T01")
    assert labels[1].startswith("T02")
    assert labels[-2:] == ["Sum of diameters", "Overall response"]
    assert _cell(window, 0, 1) == f"{baseline.long_axis_mm:.1f}"
    assert _cell(window, 0, 2) == f"{week_8.long_axis_mm:.1f}"
    assert _cell(window, 1, 2) == "disappeared (0 mm)"
    history = lesion_history(reading, window.document.assessment)
    baseline_sum, week_8_sum = history.sums_mm
    assert baseline_sum is not None
    assert week_8_sum is not None
    assert week_8_sum == pytest.approx(week_8.long_axis_mm, abs=0.001)
    assert _cell(window, len(labels) - 2, 2) == f"{week_8_sum:.1f}"
    overall = str(window.document.assessment.timepoint("WEEK 8").overall_response)
    assert _cell(window, len(labels) - 1, 2) == overall
    # The sum and one line per target; the response is written at the point.
    assert panel.line_count() == 3
    texts = [text.get_text() for text in panel.axes.texts]
    assert texts == [overall]


def test_history_follows_undo(qtbot: QtBot, window: MainWindow) -> None:
    view = window.slice_view
    view.set_slice_index(LESION_SLICE)
    draw_bidirectional(view, radius_mm=12.0)
    assert window.history_panel.model.rowCount() == 3  # T01, sum, response
    assert window.history_panel.line_count() == 2
    window.document.undo_stack.undo()
    assert window.history_panel.model.rowCount() == 2
    assert window.history_panel.line_count() == 1


def test_history_refreshes_only_from_reading_changed(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = window.history_panel.model
    calls: list[object] = []
    original = model.set_history

    def spy(history: LesionHistory) -> None:
        calls.append(history)
        original(history)

    monkeypatch.setattr(model, "set_history", spy)
    window.document.set_visit("WEEK 8")
    window.document.select_lesion("")
    assert calls == []
    panel = window.lesion_panel
    panel.add_lesion(LesionRole.TARGET, panel.template())
    assert len(calls) == 1
