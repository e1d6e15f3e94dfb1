"""The workstation a radiologist reads in all day (issue 18), driven by mouse and keys.

Role-aware drawing, clamped and checked lines, the State box, sign-off
completeness, hotkeys whatever has the focus, the viewport layout at 1366×768 and
1920×1080, choosing the comparison visit, jump-to-lesion centring, the MPR
crosshair in mm, fixed-width Undo/Redo, the reader identity and W/L per series.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QMessageBox,
    QScrollArea,
    QToolButton,
    QWidget,
)

from recist_app.imaging import ImageVolume
from recist_app.recist import LesionRole, MeasurementState
from recist_app.ui.main_window import MainWindow
from recist_app.ui.viewer.measure_tool import Tool
from recist_app.ui.viewer.viewport import VISIT_MIME_TYPE
from recist_app.workflows.vocabulary import remembered_reader
from tests.ui.conftest import (
    BASELINE_SERIES,
    COLUMN_SPACING_MM,
    FOLLOW_UP_SERIES,
    LESION_SLICE,
    ROW_SPACING_MM,
    SLICES,
    disc_volume,
)
from tests.ui.gestures import NO_MODIFIER, drag, draw_bidirectional, widget_point

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from recist_app.store import Store
    from recist_app.ui.document import ReadingDocument

FIELD_MM = 64 * COLUMN_SPACING_MM  # the test image is 48 mm wide


def _warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, _title, text: shown.append(text)
    )
    return shown


def _measure_baseline(window: MainWindow) -> None:
    window.slice_view.set_slice_index(LESION_SLICE)
    draw_bidirectional(window.slice_view, radius_mm=12.0)


# ------------------------------------------------------------ role-aware drawing
def test_drawing_with_the_non_target_role_creates_a_non_target_that_keeps_its_place(
    window: MainWindow,
) -> None:
    window.set_tool(Tool.LINE)
    window.lesion_panel.set_role(LesionRole.NON_TARGET)
    window.slice_view.set_slice_index(LESION_SLICE)
    drag(window.slice_view, (20.0, 32.0), (44.0, 32.0))
    reading = window.document.reading
    assert [(x.lesion_id, x.role) for x in reading.lesions] == [
        ("NT01", LesionRole.NON_TARGET)
    ]
    (assessment,) = reading.timepoint("BASELINE").non_target
    assert assessment.state.value == "present"
    assert assessment.geometry is not None
    assert not reading.timepoint("BASELINE").measurements  # not a target (T04)
    assert [o.lesion_id for o in window.slice_view.overlays] == ["NT01"]
    # It can be jumped to later from anywhere.
    window.document.select_lesion("")
    window.slice_view.set_slice_index(0)
    window.document.select_lesion("NT01")
    assert window.slice_view.slice_index == LESION_SLICE


def test_drawing_at_a_follow_up_with_the_new_role_creates_a_new_lesion(
    window: MainWindow,
) -> None:
    window.set_tool(Tool.LINE)
    window.document.set_visit("WEEK 8")
    assert window.lesion_panel.role() is LesionRole.NEW  # targets: baseline only
    window.slice_view.set_slice_index(LESION_SLICE)
    drag(window.slice_view, (24.0, 32.0), (40.0, 32.0))
    (lesion,) = window.document.reading.lesions
    assert (lesion.lesion_id, lesion.role) == ("N01", LesionRole.NEW)


# ------------------------------------------------------------ measurement checks
def test_a_line_dragged_out_of_the_viewer_ends_on_the_image_edge(
    window: MainWindow,
) -> None:
    window.set_tool(Tool.LINE)
    view = window.slice_view
    view.set_slice_index(LESION_SLICE)
    start = widget_point(view, 32.0, 32.0)
    outside = QPoint(-400, start.y())  # across the black border and beyond
    QTest.mousePress(view, Qt.MouseButton.LeftButton, NO_MODIFIER, start)
    QTest.mouseMove(view, QPoint(start.x() - 100, start.y()))
    QTest.mouseMove(view, outside)
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, NO_MODIFIER, outside)
    (measurement,) = window.document.reading.timepoint("BASELINE").measurements
    assert measurement.long_axis_mm is not None
    # From the centre to the left edge of the image: half the field of view.
    assert measurement.long_axis_mm == pytest.approx(FIELD_MM / 2 + 0.375, abs=0.8)
    assert measurement.long_axis_mm <= FIELD_MM


def test_a_two_pixel_jitter_is_refused_with_one_line(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = _warnings(monkeypatch)
    window.set_tool(Tool.LINE)
    window.slice_view.set_slice_index(LESION_SLICE)
    drag(window.slice_view, (32.0, 32.0), (33.5, 32.0))  # 1.1 mm, 1.5 px
    assert window.document.reading.lesions == ()
    assert len(shown) == 1
    assert "mm long, shorter than 2 mm: not recorded" in shown[0]
    assert "\n" not in shown[0]


def _volume_with_air(series_uid: str) -> ImageVolume:
    volume = disc_volume(series_uid, radius_mm=12.0)
    voxels = np.array(volume.voxels)
    voxels[:, :, :12] = 24  # -1000 HU: outside the body on the left
    return ImageVolume(
        voxels=voxels,
        spacing_mm=(COLUMN_SPACING_MM, ROW_SPACING_MM, 5.0),
        slice_origins_lps_mm=volume.slice_origins_lps_mm,
        direction=np.eye(3),
        rescale_intercept=-1024.0,
        sop_instance_uids=volume.sop_instance_uids,
        series_instance_uid=series_uid,
        patient_id="UI-TEST",
        modality="CT",
        series_description="with air",
        slice_thickness_mm=5.0,
    )


def test_a_line_that_leaves_the_body_is_recorded_with_a_warning(
    qtbot: QtBot, document: ReadingDocument
) -> None:
    window = MainWindow(document, {BASELINE_SERIES: _volume_with_air(BASELINE_SERIES)})
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    window.set_tool(Tool.LINE)
    window.slice_view.set_slice_index(LESION_SLICE)
    drag(window.slice_view, (2.0, 32.0), (40.0, 32.0))
    assert window.document.reading.timepoint("BASELINE").measurements
    (warning,) = window.controller.last_warnings
    assert warning.startswith("visit BASELINE, lesion T01: the long axis ends outside")
    assert "⚠" in window.statusBar().currentMessage()


# ------------------------------------------------------------ the State box
def test_the_state_box_shows_the_current_state_and_every_state(
    window: MainWindow,
) -> None:
    _measure_baseline(window)
    panel = window.lesion_panel
    assert panel.state_label.text().startswith("T01 at Baseline: measured")
    window.document.set_visit("WEEK 8")
    window.document.select_lesion("T01")
    assert panel.state_label.text() == "T01 at Week 8: not recorded"
    states = {panel.state_combo.itemData(i) for i in range(panel.state_combo.count())}
    assert {state.value for state in MeasurementState} <= states  # split, merged
    panel.set_state("T01", MeasurementState.TOO_SMALL.value)
    assert panel.state_label.text() == "T01 at Week 8: too small to measure (5 mm)"
    assert panel.state_combo.currentData() == MeasurementState.TOO_SMALL.value
    window.slice_view.set_slice_index(LESION_SLICE)
    draw_bidirectional(window.slice_view, radius_mm=7.5)  # measured again
    assert panel.state_label.text().startswith("T01 at Week 8: measured")
    assert panel.state_combo.currentData() == MeasurementState.MEASURED.value


# ------------------------------------------------------------ sign-off
def test_sign_off_lists_what_is_incomplete_and_names_the_signer(
    stored_window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    _measure_baseline(stored_window)
    asked: list[str] = []

    def question(_parent: object, _title: str, text: str, *_args: object) -> object:
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", question)
    assert not stored_window.sign_reading()
    (text,) = asked
    assert "incomplete" in text
    assert "visit WEEK 8: no lesion recorded (unread follow-up)" in text
    assert "as dr-test" in text
    assert not stored_window.document.locked


def test_the_reader_identity_is_remembered_and_shown_in_the_title(
    stored_window: MainWindow,
) -> None:
    assert stored_window.set_reader_identity("  Dr  Ada Reader ")
    assert remembered_reader() == "Dr Ada Reader"
    assert stored_window.session is not None
    assert stored_window.session.user == "Dr Ada Reader"
    assert "reader: Dr Ada Reader" in stored_window.windowTitle()


# ------------------------------------------------------------ hotkeys
def test_hotkeys_scroll_the_images_whatever_has_the_focus(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    combo = window.visit_combo
    combo.setFocus()
    visit = window.document.visit
    QTest.keyClick(combo, Qt.Key.Key_End)
    assert window.document.visit == visit  # the combo did not change the visit
    assert window.slice_view.slice_index == SLICES - 1
    QTest.keyClick(combo, Qt.Key.Key_Home)
    QTest.keyClick(combo, Qt.Key.Key_Down)
    assert window.document.visit == visit
    assert window.slice_view.slice_index == 1
    table = window.lesion_panel.table
    table.setFocus()
    QTest.keyClick(table, Qt.Key.Key_2)  # preset 2 from the lesion table
    from recist_app.ui.viewer.slice_view import PRESET_KEYS

    assert window.slice_view.window_level == (
        PRESET_KEYS[1].center,
        PRESET_KEYS[1].width,
    )


def test_escape_and_a_click_on_empty_table_space_deselect(
    qtbot: QtBot, window: MainWindow
) -> None:
    _measure_baseline(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    assert window.document.selected_lesion_id == "T01"
    QTest.keyClick(window.slice_view, Qt.Key.Key_Escape)
    assert window.document.selected_lesion_id == ""
    window.document.select_lesion("T01")
    table = window.lesion_panel.table
    empty = QPoint(10, table.viewport().height() - 5)
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, NO_MODIFIER, empty)
    assert window.document.selected_lesion_id == ""


def test_next_and_previous_lesion_keys(qtbot: QtBot, window: MainWindow) -> None:
    _measure_baseline(window)
    window.lesion_panel.add_lesion(
        LesionRole.NON_TARGET, window.lesion_panel.template()
    )
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.document.select_lesion("T01")
    QTest.keyClick(window.lesion_panel.table, Qt.Key.Key_Period)
    assert window.document.selected_lesion_id == "NT01"
    QTest.keyClick(window.visit_combo, Qt.Key.Key_Comma)
    assert window.document.selected_lesion_id == "T01"


# ------------------------------------------------------------ layout
def _in_window(window: MainWindow, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
def test_the_layout_fits_without_overlap(
    qtbot: QtBot, stored_window: MainWindow, width: int, height: int
) -> None:
    window = stored_window
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width and window.height() == height)
    QApplication.processEvents()
    assert window.minimumSizeHint().width() <= width
    assert window.minimumSizeHint().height() <= height
    for mode in ("1x2", "2x2"):
        window.set_layout(mode)
        QApplication.processEvents()
        parts: list[QWidget] = [
            window.toolbar,
            window.series_strip,
            window.side_dock,
            window.statusBar(),
            *(v for v in window.viewports if v.isVisible()),
        ]
        rects = [_in_window(window, part) for part in parts]
        inside = window.rect()
        for part, rect in zip(parts, rects, strict=True):
            assert inside.contains(rect), type(part).__name__
        for (a, ra), (b, rb) in itertools.combinations(
            zip(parts, rects, strict=True), 2
        ):
            assert not ra.intersects(rb), (type(a).__name__, type(b).__name__)
    # The side panel never scrolls sideways, a lesion selected at a follow-up
    # included (its state line is the longest text; issue 18 left it cut at 1366)
    reading_scroll = window.side_tabs.widget(0)
    assert isinstance(reading_scroll, QScrollArea)
    for visit in ("BASELINE", window.document.reading.timepoints[-1].visit):
        window.document.set_visit(visit)
        window.lesion_panel.table.selectRow(0)
        QApplication.processEvents()
        content = reading_scroll.widget()
        assert content is not None
        assert content.minimumSizeHint().width() <= reading_scroll.viewport().width()
        assert not reading_scroll.horizontalScrollBar().isVisible()
    # The images take most of the screen; the side panel keeps its two parts apart.
    images = sum(v.width() * v.height() for v in window.viewports if v.isVisible())
    assert images >= 0.45 * width * height
    lesions = _in_window(window, window.lesion_panel.table)
    responses = _in_window(window, window.response_panel)
    assert not lesions.intersects(responses)
    assert not window.history_panel.isVisible()  # on demand: its own tab
    window.history_action.trigger()
    assert window.history_panel.isVisible()
    assert not window.response_panel.isVisible()


# ------------------------------------------------------------ comparison and jump
def test_any_visit_can_be_put_beside_the_current_one(
    window: MainWindow,
) -> None:
    _measure_baseline(window)
    window.document.set_visit("WEEK 8")
    window.set_layout("2x2")
    third = window.viewports[2]
    combo = third.combo
    combo.setCurrentIndex(combo.findData("baseline"))
    combo.activated.emit(combo.currentIndex())
    assert third.view.volume is window.volume_at("BASELINE")
    # Drag a series thumbnail onto the fourth viewport.
    fourth = window.viewports[3]
    data = QMimeData()
    data.setData(VISIT_MIME_TYPE, b"WEEK 8")
    enter = QDragEnterEvent(
        QPoint(20, 20),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    assert QApplication.sendEvent(fourth, enter)
    assert enter.isAccepted()  # a viewport takes a visit from the strip
    drop = QDropEvent(
        QPointF(20, 20),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(fourth, drop)
    assert fourth.source == "visit:WEEK 8"
    assert fourth.view.volume is window.volume_at("WEEK 8")
    assert window.series_strip.visits() == ["BASELINE", "WEEK 8"]


def test_the_prior_hint_comes_from_the_last_visit_that_measured_the_lesion(
    qtbot: QtBot, document: ReadingDocument
) -> None:
    import dataclasses
    import datetime

    from recist_app.recist import TimePoint, add_timepoint

    third = "1.2.826.0.1.3680043.8.498.300"
    reading = add_timepoint(
        document.reading,
        TimePoint(
            visit="WEEK 16",
            date=datetime.date(2024, 5, 1),
            series_instance_uid=third,
            slice_thickness_mm=5.0,
        ),
    )
    document.load(dataclasses.replace(reading))
    volumes = {
        BASELINE_SERIES: disc_volume(BASELINE_SERIES, 12.0),
        FOLLOW_UP_SERIES: disc_volume(FOLLOW_UP_SERIES, 7.5),
        third: disc_volume(third, 7.0),
    }
    window = MainWindow(document, volumes)
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    _measure_baseline(window)
    window.document.set_visit("WEEK 16")  # Week 8 was not read
    window.document.select_lesion("T01")
    hints = [o for o in window.slice_view.overlays if o.hint]
    assert [h.label.split(":")[0] for h in hints] == ["T01 BASELINE"]


def test_jump_to_a_lesion_centres_it_in_every_viewport(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.set_tool(Tool.LINE)
    view = window.slice_view
    view.set_slice_index(LESION_SLICE)
    drag(view, (6.0, 10.0), (20.0, 10.0))  # off centre, upper left
    window.document.set_visit("WEEK 8")
    view.set_slice_index(LESION_SLICE)
    drag(view, (8.0, 12.0), (18.0, 12.0))
    for viewport in window.viewports[:2]:
        viewport.view.zoom_by(3.0)
    window.document.select_lesion("")
    window.document.select_lesion("T01")
    for viewport, middle in (
        (window.viewports[1], (13.0, 12.0)),
        (window.viewports[0], (13.0, 10.0)),
    ):
        shown = viewport.view
        assert shown.slice_index == LESION_SLICE
        where = shown.image_to_widget(middle)
        # Within 2 px: the view's height may change by a pixel or two after
        # the jump (the status line), which moves its centre by half that.
        assert where.x() == pytest.approx(shown.width() / 2, abs=2.0)
        assert where.y() == pytest.approx(shown.height() / 2, abs=2.0)
    # Pan away, click the selected row again: it jumps again.
    view.pan_by(120, -80)
    table = window.lesion_panel.table
    row = table.visualRect(window.lesion_panel.model.index(0, 0)).center()
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, NO_MODIFIER, row)
    assert view.volume is not None
    point = window._lesion_point(view.volume, "T01", "WEEK 8")
    assert point is not None
    where = view.image_to_widget((point[0], point[1]))
    assert where.x() == pytest.approx(view.width() / 2, abs=1.0)


# ------------------------------------------------------------ MPR
def test_the_mpr_crosshair_follows_the_axial_slice_in_mm(window: MainWindow) -> None:
    window.set_layout("2x2")
    coronal = window.viewports[2].coronal
    sagittal = window.viewports[3].sagittal
    assert coronal.isVisible()
    assert sagittal.isVisible()
    view = window.slice_view
    view.set_slice_index(LESION_SLICE)
    for mpr in (coronal, sagittal):
        position = mpr.cursor_lps_mm()
        assert position is not None
        assert position[2] == pytest.approx(5.0 * LESION_SLICE)  # slice z in mm
    # A click on the slice moves the crosshair in-plane, in mm.
    QTest.mouseClick(
        view,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ShiftModifier,
        widget_point(view, 40.0, 20.0),
    )
    position = coronal.cursor_lps_mm()
    assert position is not None
    assert position[0] == pytest.approx(40.0 * COLUMN_SPACING_MM, abs=0.5)
    assert position[1] == pytest.approx(20.0 * ROW_SPACING_MM, abs=0.5)
    # A click in the coronal reformat moves the axial view to that slice.
    point = coronal.crosshair_widget_point()
    assert point is not None
    frame_top = point.y() - (SLICES - 1 - LESION_SLICE) * 0  # same row: same slice
    QTest.mouseClick(coronal, Qt.MouseButton.LeftButton, NO_MODIFIER, point.toPoint())
    assert view.slice_index == LESION_SLICE
    assert frame_top == point.y()


# ------------------------------------------------------------ controls
def test_undo_and_redo_keep_their_width_and_say_what_they_do(
    window: MainWindow,
) -> None:
    toolbar = window.toolbar
    undo = toolbar.widgetForAction(window.undo_action)
    assert isinstance(undo, QToolButton)
    before = undo.sizeHint().width()
    _measure_baseline(window)
    assert undo.sizeHint().width() == before
    assert window.undo_action.text() == "&Undo"
    assert window.undo_action.toolTip().startswith("Undo Add T01")


def test_window_level_is_kept_per_series_across_visit_changes(
    window: MainWindow,
) -> None:
    window.slice_view.set_window(60.0, 350.0)
    window.document.set_visit("WEEK 8")
    window.slice_view.set_window(-600.0, 1500.0)
    window.document.set_visit("BASELINE")
    assert window.slice_view.window_level == (60.0, 350.0)
    window.document.set_visit("WEEK 8")
    assert window.slice_view.window_level == (-600.0, 1500.0)


def test_linked_zoom_copies_the_zoom_to_the_comparison(window: MainWindow) -> None:
    window.document.set_visit("WEEK 8")
    window.link_zoom_action.setChecked(True)
    window.slice_view.zoom_by(2.5)
    assert window.prior_view.zoom == pytest.approx(window.slice_view.zoom)


def test_the_layout_and_comparisons_are_remembered(
    qtbot: QtBot, document: ReadingDocument, tmp_path: object
) -> None:
    from PySide6.QtCore import QSettings

    settings = QSettings(str(tmp_path) + "/layout.ini", QSettings.Format.IniFormat)
    volumes = {
        BASELINE_SERIES: disc_volume(BASELINE_SERIES, 12.0),
        FOLLOW_UP_SERIES: disc_volume(FOLLOW_UP_SERIES, 7.5),
    }
    first = MainWindow(document, volumes, settings=settings)
    qtbot.addWidget(first)
    first.set_layout("2x2")
    first.set_viewport_source(first.viewports[2], "baseline")
    first.close()
    again = MainWindow(document, volumes, settings=settings)
    qtbot.addWidget(again)
    assert again.layout_mode == "2x2"
    assert again.viewports[2].source == "baseline"


def test_store_is_untouched_by_viewing(stored_window: MainWindow, store: Store) -> None:
    stored_window.set_layout("2x2")
    stored_window.document.set_visit("WEEK 8")
    assert stored_window.document.undo_stack.count() == 0
