"""The Auto tool, Enter at a follow-up and anatomy-linked scrolling, by mouse and keys.

The demo phantom moves between visits (``DEMO_POSES``: a few cm of shift, a few
degrees of roll, breathing), so table-position linking is wrong and every
lesion is somewhere else at each follow-up; the ground truth says where.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from recist_app.cli.main import main
from recist_app.exchange.demo_reading import unread_reading_from_ground_truth
from recist_app.imaging import GROUND_TRUTH_NAME, lps_mm_to_index, write_demo_data
from recist_app.recist import MeasurementMethod
from recist_app.ui.document import ReadingDocument
from recist_app.ui.main_window import MainWindow
from recist_app.ui.viewer.measure_tool import Tool
from recist_app.workflows.measure import series_in_folder

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from recist_app.imaging import ImageVolume
    from recist_app.ui.viewer.slice_view import SliceView

pytestmark = pytest.mark.slow  # a 256 x 256 x 40 phantom per visit, registrations

PHANTOM: dict[str, Any] = {
    "matrix": 256,
    "pixel_size_mm": 1.5625,
    "slice_count": 40,
    "slice_spacing_mm": 7.5,
    "moving": True,
}
NONE = Qt.KeyboardModifier.NoModifier


@pytest.fixture(scope="module")
def phantom(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, Any], dict[str, ImageVolume]]:
    folder = tmp_path_factory.mktemp("moved-demo")
    write_demo_data(folder, **PHANTOM)
    truth = json.loads((folder / GROUND_TRUTH_NAME).read_text())
    truth["root"] = str(folder)
    volumes = {}
    for study in truth["studies"]:
        volume = series_in_folder(folder / study["folder"])
        volumes[volume.series_instance_uid] = volume
    return truth, volumes


def lesion_truth(truth: dict[str, Any], visit: int, lesion_id: str) -> dict[str, Any]:
    found = [
        x for x in truth["studies"][visit]["lesions"] if x["lesion_id"] == lesion_id
    ]
    return dict(found[0])


@pytest.fixture
def window(
    qtbot: QtBot,
    phantom: tuple[dict[str, Any], dict[str, ImageVolume]],
    monkeypatch: pytest.MonkeyPatch,
) -> MainWindow:
    truth, volumes = phantom

    def no_dialog(*args: object, **_kwargs: object) -> object:
        raise AssertionError(f"a dialog opened: {args[1:]}")

    for name in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, no_dialog)
    document = ReadingDocument(unread_reading_from_ground_truth(truth))
    main = MainWindow(document, volumes)
    qtbot.addWidget(main)
    main.resize(1600, 1000)
    main.show()
    qtbot.waitExposed(main)
    main.activateWindow()
    return main


def point_of(view: SliceView, center_lps_mm: list[float]) -> tuple[float, float, int]:
    assert view.volume is not None
    i, j, k = (float(v) for v in lps_mm_to_index(view.volume, center_lps_mm))
    return i, j, round(k)


def click(view: SliceView, i: float, j: float) -> None:
    where = view.image_to_widget((i, j)).toPoint()
    QTest.mouseClick(view, Qt.MouseButton.LeftButton, NONE, where)


def auto_click_at(qtbot: QtBot, window: MainWindow, center: list[float]) -> str:
    """Scroll to the lesion's slice, click it with the Auto tool, wait for it."""
    view = window.slice_view
    i, j, k = point_of(view, center)
    view.set_slice_index(k)
    with qtbot.waitSignal(window.auto.finished, timeout=20_000) as finished:
        click(view, i, j)
    return str(finished.args[0])


def test_auto_click_measures_a_target_in_one_undo_step(
    qtbot: QtBot, window: MainWindow, phantom: tuple[dict[str, Any], Any]
) -> None:
    truth, _volumes = phantom
    stack = window.document.undo_stack
    QTest.keyClick(window.slice_view, Qt.Key.Key_M)
    assert window.slice_view.tool is Tool.AUTO
    assert window.tool_actions[Tool.AUTO].isChecked()
    lung = lesion_truth(truth, 0, "T03")  # a 16 mm lung nodule
    lesion_id = auto_click_at(qtbot, window, lung["center_lps_mm"])

    assert lesion_id == "T01"  # the first target of this reading
    measurement = window.document.reading.timepoint("BASELINE").measurement("T01")
    assert measurement is not None
    assert measurement.geometry is not None
    assert measurement.long_axis_mm == pytest.approx(lung["long_axis_mm"], abs=1.0)
    assert measurement.geometry.method is MeasurementMethod.SEMI_AUTOMATIC
    model = window.lesion_panel.model
    assert model.row_of("T01") >= 0
    # the outline on every slice it covers, the view on its greatest long axis
    outlines = window.slice_view.outlines
    assert len(outlines) >= 1
    assert window.slice_view.slice_index in outlines
    assert stack.count() == 1
    stack.undo()
    assert window.document.reading.lesions == ()
    assert window.slice_view.outlines == {}


def test_esc_cancels_a_run_and_drops_its_result(
    qtbot: QtBot, window: MainWindow, phantom: tuple[dict[str, Any], Any]
) -> None:
    truth, _volumes = phantom
    window.set_tool(Tool.AUTO)
    view = window.slice_view
    i, j, k = point_of(view, lesion_truth(truth, 0, "T03")["center_lps_mm"])
    view.set_slice_index(k)
    click(view, i, j)
    running = [window.auto.busy]
    QTest.keyClick(view, Qt.Key.Key_Escape)
    running.append(window.auto.busy)
    assert running == [True, False]
    assert window.auto.measure_runner.wait_idle(20)
    qtbot.wait(50)  # the dropped result would arrive now
    assert window.document.reading.lesions == ()
    assert window.document.undo_stack.count() == 0
    assert "cancelled" in window.auto.last_message


def test_a_click_in_air_says_so_in_one_status_line_and_creates_nothing(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.set_tool(Tool.AUTO)
    view = window.slice_view
    with qtbot.waitSignal(window.auto.finished, timeout=20_000) as finished:
        click(view, 4.0, 4.0)  # the corner of the image: air
    assert finished.args == [""]
    message = window.statusBar().currentMessage()
    assert message.startswith("Auto: ")
    assert "\n" not in message
    assert "no lesion" in message
    assert window.document.reading.lesions == ()
    assert window.document.undo_stack.count() == 0


def test_a_handle_drag_corrects_it_in_one_undo_step(
    qtbot: QtBot, window: MainWindow, phantom: tuple[dict[str, Any], Any]
) -> None:
    truth, _volumes = phantom
    window.set_tool(Tool.AUTO)
    auto_click_at(qtbot, window, lesion_truth(truth, 0, "T03")["center_lps_mm"])
    view = window.slice_view
    overlay = next(o for o in view.overlays if o.lesion_id == "T01")
    assert overlay.long_axis_ij is not None
    start, end = overlay.long_axis_ij
    moved = (end[0] + 2.0 * np.sign(end[0] - start[0]), end[1])
    first = view.image_to_widget(end).toPoint()
    last = view.image_to_widget(moved).toPoint()
    QTest.mousePress(view, Qt.MouseButton.LeftButton, NONE, first)
    QTest.mouseMove(view, last)
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, NONE, last)

    measurement = window.document.reading.timepoint("BASELINE").measurement("T01")
    assert measurement is not None
    assert measurement.geometry is not None
    assert measurement.geometry.method is MeasurementMethod.SEMI_AUTOMATIC_CORRECTED
    stack = window.document.undo_stack
    assert stack.count() == 2
    stack.undo()
    measurement = window.document.reading.timepoint("BASELINE").measurement("T01")
    assert measurement is not None
    assert measurement.geometry is not None
    assert measurement.geometry.method is MeasurementMethod.SEMI_AUTOMATIC


def test_enter_at_a_moved_follow_up_measures_the_selected_lesion_there(
    qtbot: QtBot, window: MainWindow, phantom: tuple[dict[str, Any], Any]
) -> None:
    truth, _volumes = phantom
    window.set_tool(Tool.AUTO)
    auto_click_at(qtbot, window, lesion_truth(truth, 0, "T03")["center_lps_mm"])
    baseline_slice = window.slice_view.slice_index
    window.document.set_visit("WEEK 8")
    qtbot.waitUntil(lambda: bool(window.slice_view.markers), timeout=30_000)
    marker = window.slice_view.markers[0]
    assert marker.label == "T01?"
    week8 = lesion_truth(truth, 1, "T03")
    i, j, k = point_of(window.slice_view, week8["center_lps_mm"])
    assert abs(marker.slice_index - k) <= 1
    assert np.hypot(marker.point_ij[0] - i, marker.point_ij[1] - j) < 3.0
    # selecting it jumps to where it is predicted, not where the baseline had it
    window.document.select_lesion("T01")
    assert abs(window.slice_view.slice_index - k) <= 1
    stack = window.document.undo_stack
    before = stack.count()
    table = window.lesion_panel.table
    table.setFocus()  # the reader clicked its row
    with qtbot.waitSignal(window.auto.finished, timeout=30_000) as finished:
        QTest.keyClick(table, Qt.Key.Key_Return)
    assert finished.args == ["T01"]
    measurement = window.document.reading.timepoint("WEEK 8").measurement("T01")
    assert measurement is not None
    assert measurement.geometry is not None
    assert measurement.long_axis_mm == pytest.approx(week8["long_axis_mm"], abs=1.0)
    assert measurement.geometry.method is MeasurementMethod.SEMI_AUTOMATIC
    assert abs(window.slice_view.slice_index - k) <= 1
    assert window.slice_view.markers == ()  # measured now: no prediction shown
    assert stack.count() == before + 1
    stack.undo()
    assert window.document.reading.timepoint("WEEK 8").measurement("T01") is None
    assert baseline_slice >= 0


def test_enter_stays_with_buttons_and_drop_downs(
    qtbot: QtBot, window: MainWindow, phantom: tuple[dict[str, Any], Any]
) -> None:
    truth, _volumes = phantom
    window.document.set_visit("WEEK 8")
    assert not window.handle_hotkey(Qt.Key.Key_Return)  # nothing selected: not ours
    window.document.set_visit("BASELINE")
    window.set_tool(Tool.AUTO)
    auto_click_at(qtbot, window, lesion_truth(truth, 0, "T03")["center_lps_mm"])
    window.document.set_visit("WEEK 8")
    window.document.select_lesion("T01")
    panel = window.lesion_panel
    for widget in (panel.state_button, panel.state_combo, panel.organ_combo):
        widget.setFocus()
        QTest.keyClick(widget, Qt.Key.Key_Return)
        assert not window.auto.busy, widget
        assert not window.takes_enter_from(widget)
    assert window.takes_enter_from(panel.table.viewport())
    assert window.takes_enter_from(window.slice_view)
    QApplication.processEvents()
    assert window.document.reading.timepoint("WEEK 8").measurement("T01") is None


def test_scrolling_is_linked_by_anatomy_once_registered(
    qtbot: QtBot, window: MainWindow, phantom: tuple[dict[str, Any], Any]
) -> None:
    truth, _volumes = phantom
    window.set_layout("1x2")
    window.set_viewport_source(window.viewports[0], "baseline")
    window.document.set_visit("WEEK 16")
    qtbot.waitUntil(lambda: len(window.auto.registrations) >= 1, timeout=30_000)
    node_now = lesion_truth(truth, 2, "T02")  # beside the aorta: no breathing
    node_then = lesion_truth(truth, 0, "T02")
    view, prior = window.slice_view, window.prior_view
    i, j, k = point_of(view, node_now["center_lps_mm"])
    view.center_on((i, j))
    view.set_slice_index(k + 1)
    view.set_slice_index(k)
    qtbot.wait(10)
    assert prior.volume is not None
    _i, _j, wanted = point_of(prior, node_then["center_lps_mm"])
    table = MainWindow._nearest_slice(prior.volume, view.slice_position_mm() or 0.0)
    assert table != wanted  # the patient moved: table position is wrong
    assert abs(prior.slice_index - wanted) <= 1
    assert prior.slice_index != table


def test_a_drag_refines_the_last_result_in_the_same_undo_step(
    qtbot: QtBot, window: MainWindow, phantom: tuple[dict[str, Any], Any]
) -> None:
    truth, _volumes = phantom
    window.set_tool(Tool.AUTO)
    lesion = lesion_truth(truth, 0, "T02")  # the node beside the aorta
    window.lesion_panel.node_check.setChecked(True)
    auto_click_at(qtbot, window, lesion["center_lps_mm"])
    view = window.slice_view
    i, j, _k = point_of(view, lesion["center_lps_mm"])
    stack = window.document.undo_stack
    assert stack.count() == 1
    # inward: from 10 px out to 2 px out: a tighter band
    first = view.image_to_widget((i + 10, j)).toPoint()
    last = view.image_to_widget((i + 2, j)).toPoint()
    with qtbot.waitSignal(window.auto.finished, timeout=20_000) as finished:
        QTest.mousePress(view, Qt.MouseButton.LeftButton, NONE, first)
        QTest.mouseMove(view, last)
        QTest.mouseRelease(view, Qt.MouseButton.LeftButton, NONE, last)
    assert finished.args == ["T01"]
    assert window.auto.tolerance_scale == pytest.approx(0.3)  # 2 / 10, held at 0.3
    assert stack.count() == 1  # the refined result replaced the first one
    lesions = window.document.reading.lesions
    assert [x.lesion_id for x in lesions] == ["T01"]
    assert lesions[0].is_lymph_node
    measured = window.document.reading.timepoint("BASELINE").measurement("T01")
    assert measured is not None
    assert measured.geometry is not None
    assert measured.geometry.method is MeasurementMethod.SEMI_AUTOMATIC
    stack.undo()
    assert window.document.reading.lesions == ()


def test_enter_and_propagate_measure_give_the_same_measurement(
    qtbot: QtBot,
    window: MainWindow,
    phantom: tuple[dict[str, Any], Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The workstation's Enter and ``propagate --measure``: one workflow."""
    truth, _volumes = phantom
    window.set_tool(Tool.AUTO)
    auto_click_at(qtbot, window, lesion_truth(truth, 0, "T03")["center_lps_mm"])
    baseline = window.document.reading.timepoint("BASELINE").measurement("T01")
    assert baseline is not None
    assert baseline.geometry is not None
    assert baseline.geometry.long_axis is not None
    axis = baseline.geometry.long_axis
    x, y, z = (float(v) for v in np.mean([axis.start_lps_mm, axis.end_lps_mm], 0))
    window.document.set_visit("WEEK 8")
    window.document.select_lesion("T01")
    with qtbot.waitSignal(window.auto.finished, timeout=30_000):
        assert window.auto.accept()
    measured = window.document.reading.timepoint("WEEK 8").measurement("T01")
    assert measured is not None

    root = Path(truth["root"])
    folders = [str(root / study["folder"]) for study in truth["studies"][:2]]
    assert (
        main(
            [
                "propagate",
                *folders,
                f"--at={x},{y},{z}",
                "--measure",
                "--format",
                "json",
            ]
        )
        == 0
    )
    answer = json.loads(capsys.readouterr().out)["measurement"]
    assert measured.long_axis_mm == pytest.approx(answer["long_axis_mm"], abs=0.06)
    assert measured.short_axis_mm == pytest.approx(answer["short_axis_mm"], abs=0.06)
    assert measured.geometry is not None
    assert measured.geometry.sop_instance_uid == answer["sop_instance_uid"]


def test_another_patient_drops_the_registrations_that_hold_its_images(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    # issue 23's memory benchmark: each registration holds both volumes; ten
    # patient switches kept gigabytes until these were dropped
    from recist_app.workflows import measure as measure_workflow

    window.set_layout("1x2")
    window.set_viewport_source(window.viewports[0], "baseline")
    window.document.set_visit("WEEK 8")
    qtbot.waitUntil(lambda: len(window.auto.registrations) >= 1, timeout=30_000)
    assert measure_workflow._cache
    window.auto.forget_patient()
    assert window.auto.registrations == {}
    assert window.auto.predictions == {}
    assert not measure_workflow._cache
    # a registration that ends after the switch is not kept either
    fixed = window.volume_at("BASELINE")
    moving = window.volume_at("WEEK 16")
    assert fixed is not None
    assert moving is not None
    real = getattr(measure_workflow, "register_series")  # noqa: B009 (not exported)

    def switched_meanwhile(*args: Any, **kwargs: Any) -> Any:
        measure_workflow.forget_registrations()  # the patient changes now
        return real(*args, **kwargs)

    monkeypatch.setattr(measure_workflow, "register_series", switched_meanwhile)
    measure_workflow.registration_for(fixed, moving)
    assert not measure_workflow._cache


def test_a_finished_background_job_lets_go_of_its_data(qtbot: QtBot) -> None:
    # the worker thread no longer keeps the last job (and what it holds)
    # while it waits for the next one
    import gc
    import weakref

    from recist_app.ui.background import TaskRunner

    runner = TaskRunner("test")
    data = np.zeros(1000)
    ref = weakref.ref(data)
    results: list[float] = []

    def job(_context: object, d: np.ndarray = data) -> float:
        return float(d.sum())

    task = runner.submit(job, done=results.append)
    del data, job
    qtbot.waitUntil(lambda: results == [0.0], timeout=10_000)
    del task
    gc.collect()
    qtbot.waitUntil(lambda: ref() is None, timeout=5_000)
    runner.shutdown()
