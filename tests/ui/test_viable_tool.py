"""The viable-diameter tool (mRECIST J1) driven with the mouse and keyboard."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from recist_app.exchange import read_reading_file
from recist_app.recist import Criteria, Measurement
from recist_app.store import open_store
from recist_app.ui.document import open_document
from recist_app.ui.main_window import SHORTCUTS
from recist_app.ui.panels.lesion_table import LesionColumn
from recist_app.ui.viewer.measure_tool import Tool
from recist_app.workflows.reading_session import ReadingSession
from tests.ui.conftest import LESION_SLICE, _show_window, two_visit_reading, wait_saved
from tests.ui.gestures import CENTER, drag, draw_bidirectional, widget_point

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from recist_app.store import Store
    from recist_app.ui.main_window import MainWindow

# A horizontal viable line 4 rows below the centre, clear of the axes' handles;
# 20 columns x 0.75 mm = 15 mm.
VIABLE_START = (CENTER - 10.0, CENTER + 4.0)
VIABLE_END = (CENTER + 10.0, CENTER + 4.0)
VIABLE_MM = 15.0


def _mm_values(text: str) -> list[float]:
    return [float(value) for value in re.findall(r"\d+\.\d", text)]


def _measurement(window: MainWindow, visit: str = "BASELINE") -> Measurement:
    measurement = window.document.reading.timepoint(visit).measurement("T01")
    assert measurement is not None
    return measurement


def _measure_with_viable(window: MainWindow) -> None:
    view = window.slice_view
    view.set_slice_index(LESION_SLICE)
    draw_bidirectional(view, radius_mm=12.0)  # 24 x 18 mm, selects T01
    QTest.keyClick(window, Qt.Key.Key_A)  # the viable tool's shortcut
    assert view.tool is Tool.VIABLE
    drag(view, VIABLE_START, VIABLE_END)


def _is_viable_colour(red: int, green: int, blue: int) -> bool:
    return red > 200 and green < 150 and blue > 150


def test_viable_line_is_recorded_shown_and_undone(
    qtbot: QtBot, window: MainWindow
) -> None:
    _measure_with_viable(window)
    stack = window.document.undo_stack
    assert stack.count() == 2
    assert stack.undoText() == "Viable T01 (15.0 mm) at BASELINE"
    measurement = _measurement(window)
    assert measurement.long_axis_mm == pytest.approx(24.0, abs=1.0)
    assert measurement.viable_long_axis_mm == pytest.approx(VIABLE_MM, abs=1.0)
    assert measurement.viable_geometry is not None
    assert measurement.viable_geometry.sop_instance_uid.endswith(f".{LESION_SLICE + 1}")

    # The lesion table shows both diameters, each within 1 mm of what was drawn.
    model = window.lesion_panel.model
    assert model.headerData(LesionColumn.VIABLE, Qt.Orientation.Horizontal) == (
        "Viable"
    )
    current = _mm_values(str(model.index(0, LesionColumn.CURRENT).data()))
    viable = _mm_values(str(model.index(0, LesionColumn.VIABLE).data()))
    assert current[0] == pytest.approx(24.0, abs=1.0)
    assert viable == [pytest.approx(VIABLE_MM, abs=1.0)]

    # Drawn in its own colour, with its own label.
    view = window.slice_view
    (overlay,) = [o for o in view.overlays if o.viable_axis_ij is not None]
    assert overlay.label == f"T01 viable {measurement.viable_long_axis_mm:.1f} mm"
    image = view.grab().toImage()
    middle = widget_point(view, CENTER, VIABLE_START[1])
    colours = [
        image.pixelColor(middle.x() + dx, middle.y() + dy)
        for dx in (-1, 0, 1)
        for dy in (-1, 0, 1)
    ]
    assert any(_is_viable_colour(c.red(), c.green(), c.blue()) for c in colours)
    start = widget_point(view, CENTER, CENTER)  # on the long axis: not viable
    assert not _is_viable_colour(
        *(getattr(image.pixelColor(start), n)() for n in ("red", "green", "blue"))
    )

    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    measurement = _measurement(window)
    assert measurement.viable_long_axis_mm is None
    assert measurement.viable_geometry is None
    assert measurement.long_axis_mm == pytest.approx(24.0, abs=1.0)
    assert model.index(0, LesionColumn.VIABLE).data() == "—"
    assert [o.viable_axis_ij for o in view.overlays] == [None]


def test_dragging_the_viable_handle_is_one_undo_step_and_axes_keep_it(
    qtbot: QtBot, window: MainWindow
) -> None:
    _measure_with_viable(window)
    view = window.slice_view
    (overlay,) = [o for o in view.overlays if o.viable_axis_ij is not None]
    assert overlay.viable_axis_ij is not None
    end = overlay.viable_axis_ij[1]
    drag(view, end, (end[0] + 4.0, end[1]))  # 4 px x 0.75 mm = 3 mm longer
    stack = window.document.undo_stack
    assert stack.count() == 3
    assert stack.undoText().startswith("Edit viable T01")
    assert _measurement(window).viable_long_axis_mm == pytest.approx(18.0, abs=1.0)

    # Re-measuring the long axis by its handle keeps the viable diameter.
    (main,) = [o for o in view.overlays if o.long_axis_ij is not None]
    assert main.long_axis_ij is not None
    long_end = main.long_axis_ij[1]
    drag(view, long_end, (long_end[0] - 4.0, long_end[1]))
    measurement = _measurement(window)
    assert stack.count() == 4
    assert measurement.long_axis_mm == pytest.approx(21.0, abs=1.0)
    assert measurement.viable_long_axis_mm == pytest.approx(18.0, abs=1.0)


@pytest.fixture
def warnings_shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, _title, text: shown.append(text)
    )
    return shown


def test_viable_line_needs_a_selected_non_nodal_target(
    qtbot: QtBot, window: MainWindow, warnings_shown: list[str]
) -> None:
    view = window.slice_view
    view.set_slice_index(LESION_SLICE)
    window.set_tool(Tool.VIABLE)
    drag(view, VIABLE_START, VIABLE_END)
    assert warnings_shown == [
        "select the target lesion first: the viable diameter (mRECIST) belongs "
        "to a target"
    ]
    panel = window.lesion_panel
    panel.organ_combo.setCurrentText("lymph node")
    window.set_tool(Tool.LINE)
    drag(view, (CENTER, CENTER - 12), (CENTER, CENTER + 12))  # node T01
    window.set_tool(Tool.VIABLE)
    drag(view, VIABLE_START, VIABLE_END)
    assert warnings_shown[1] == (
        "lesion T01: lymph nodes keep their short axis under mRECIST (J4); "
        "they have no viable diameter"
    )
    assert window.document.undo_stack.count() == 1


def test_viable_geometry_round_trips_through_the_reading_file(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    _measure_with_viable(window)
    path = tmp_path / "UI-TEST.reading.json"
    assert window.export_reading(path)
    assert read_reading_file(path) == window.document.reading


def test_autosave_keeps_the_viable_diameter(
    qtbot: QtBot, stored_window: MainWindow, store: Store, database_url: str
) -> None:
    _measure_with_viable(stored_window)
    drawn = _measurement(stored_window)
    assert drawn.viable_geometry is not None
    wait_saved(qtbot, stored_window)
    stored = store.readings.load("UI-TEST", Criteria.RECIST_1_1, "")
    measurement = stored.timepoint("BASELINE").measurement("T01")
    assert measurement is not None
    assert measurement.viable_long_axis_mm == pytest.approx(VIABLE_MM, abs=1.0)
    assert measurement.viable_geometry == drawn.viable_geometry

    # Reopened from the database, the line is drawn where it was.
    (before,) = [
        o for o in stored_window.slice_view.overlays if o.viable_axis_ij is not None
    ]
    with open_store(database_url) as again:
        session = ReadingSession(again, user="dr-test")
        reopened = _show_window(qtbot, open_document(two_visit_reading(), session))
        assert reopened.document.reading == stored_window.document.reading
        reopened.slice_view.set_slice_index(LESION_SLICE)
        (after,) = [
            o for o in reopened.slice_view.overlays if o.viable_axis_ij is not None
        ]
        assert after.viable_axis_ij == before.viable_axis_ij
        assert after.label == before.label
        reopened.close()


def test_the_shortcut_list_names_the_viable_tool() -> None:
    keys = dict(SHORTCUTS)
    assert "viable" in keys["A"]
