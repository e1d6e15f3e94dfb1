from __future__ import annotations

import math

import pytest

from recist_app.ui.viewer.measure_tool import AxisName, Handle, MeasureTool, Tool


def _tool(column_mm: float = 0.5, row_mm: float = 1.0) -> MeasureTool:
    tool = MeasureTool()
    tool.column_spacing_mm = column_mm
    tool.row_spacing_mm = row_mm
    return tool


def _dot_mm(tool: MeasureTool, a: tuple, b: tuple) -> float:  # type: ignore[type-arg]
    ax = (a[1][0] - a[0][0]) * tool.column_spacing_mm
    ay = (a[1][1] - a[0][1]) * tool.row_spacing_mm
    bx = (b[1][0] - b[0][0]) * tool.column_spacing_mm
    by = (b[1][1] - b[0][1]) * tool.row_spacing_mm
    return float(ax * bx + ay * by)


def test_line_tool_emits_on_release() -> None:
    tool = _tool()
    tool.tool = Tool.LINE
    tool.press((0.0, 0.0), 3)
    tool.move((10.0, 0.0))
    drawn = tool.release((20.0, 0.0), 3)
    assert drawn is not None
    assert drawn.short_axis_ij is None
    assert tool.length_mm(drawn.long_axis_ij) == pytest.approx(10.0)


def test_bidirectional_short_axis_is_perpendicular_in_mm_with_non_square_pixels() -> (
    None
):
    tool = _tool(column_mm=0.5, row_mm=1.0)
    assert tool.press((0.0, 0.0), 0)
    assert tool.release((40.0, 10.0), 0) is None  # long axis waits for its short axis
    tool.press((20.0, 5.0), 0)
    drawn = tool.release((18.0, 12.0), 0)
    assert drawn is not None
    assert drawn.short_axis_ij is not None
    assert _dot_mm(tool, drawn.long_axis_ij, drawn.short_axis_ij) == pytest.approx(
        0.0, abs=1e-9
    )


def test_a_click_is_not_a_measurement() -> None:
    tool = _tool()
    tool.tool = Tool.LINE
    tool.press((5.0, 5.0), 0)
    assert tool.release((5.5, 5.0), 0) is None


def test_longer_axis_becomes_the_long_axis() -> None:
    tool = _tool(column_mm=1.0, row_mm=1.0)
    tool.press((0.0, 0.0), 0)
    tool.release((10.0, 0.0), 0)
    tool.press((5.0, -15.0), 0)
    drawn = tool.release((5.0, 15.0), 0)
    assert drawn is not None
    assert tool.length_mm(drawn.long_axis_ij) == pytest.approx(30.0)


def test_moving_a_long_axis_end_keeps_the_short_axis_perpendicular() -> None:
    from recist_app.ui.viewer.measure_tool import MeasurementOverlay

    tool = _tool(column_mm=1.0, row_mm=1.0)
    overlay = MeasurementOverlay(
        lesion_id="T01",
        slice_index=2,
        long_axis_ij=((0.0, 0.0), (20.0, 0.0)),
        short_axis_ij=((10.0, -4.0), (10.0, 4.0)),
        label="T01",
    )
    handle = Handle(lesion_id="T01", axis=AxisName.LONG, end=1)
    tool.press((20.0, 0.0), 2, handle=handle, overlay=overlay)
    drawn = tool.release((0.0, 20.0), 2)
    assert drawn is not None
    assert drawn.lesion_id == "T01"
    assert drawn.short_axis_ij is not None
    assert tool.length_mm(drawn.short_axis_ij) == pytest.approx(8.0)
    assert _dot_mm(tool, drawn.long_axis_ij, drawn.short_axis_ij) == pytest.approx(
        0.0, abs=1e-9
    )
    assert tool.length_mm(drawn.long_axis_ij) == pytest.approx(math.hypot(20, 0))
