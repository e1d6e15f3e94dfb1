"""A full read of DEMO-HCC-002 with the Auto tool and Enter, counting the actions.

The same read as ``test_full_read.py`` (four visits of a patient who lies
differently at each one, five lesions, signed), done the way issue 19 lets a
reader do it: at the baseline one Auto click per lesion, at each follow-up a
click on the lesion's row and Enter. The reader checks every result against the
images (here: the phantom's truth) and corrects it the way a reader would: a
result within 1 mm is kept; one a few mm off gets its handles
dragged to the lesion's edges (two drags); a segmentation that leaked is undone
(Ctrl+Z) and drawn by hand with the bidirectional tool. The README reports the
count next to the manual read's.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from recist_app.imaging import GROUND_TRUTH_NAME, lps_mm_to_index
from recist_app.recist import LesionRole, MeasurementMethod
from recist_app.store import ReadingStatus
from recist_app.ui.viewer.measure_tool import Tool
from recist_app.ui.workstation import open_workstation
from recist_app.workflows.database import open_database
from recist_app.workflows.demo import set_up_demo_patients
from tests.ui.test_full_read import NONE, Reader

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from recist_app.ui.main_window import MainWindow

PHANTOM: dict[str, Any] = {
    # As the manual read's (40 slices of 7.5 mm, so as many wheel notches), at
    # 1.56 mm pixels: click-to-measure needs a lesion more than a few pixels wide.
    "matrix": 256,
    "pixel_size_mm": 1.5625,
    "slice_count": 40,
    "slice_spacing_mm": 7.5,
}
KEEP_MM = 1.0
"""A result this close to the lesion's size is kept as it is (the PR at week 8
is a 30.3 % decrease: a reader who let 1.5 mm pass could call it SD)."""

AUTO_READ_ACTIONS = 123
"""What the read below takes (the README reports it)."""


class AutoReader(Reader):
    """A reader with the Auto tool: clicks, Enter, and the corrections needed."""

    def __init__(self, window: MainWindow, qtbot: QtBot) -> None:
        super().__init__(window)
        self.qtbot = qtbot
        self.corrected: list[str] = []
        self.redrawn: list[str] = []
        self.failed: list[str] = []
        self.retried: list[str] = []

    def _wait(self, action: Any) -> str:
        with self.qtbot.waitSignal(self.window.auto.finished, timeout=60_000) as done:
            action()
        return str(done.args[0])

    def auto_click(self, lesion: dict[str, Any], *, off_centre: float = 0.0) -> str:
        """Scroll to the lesion's slice and click it with the Auto tool.

        ``off_centre``: that share of the long axis away from the centre (a
        second try elsewhere in a heterogeneous lesion).
        """
        view = self.window.slice_view
        assert view.volume is not None
        point = np.asarray(lesion["center_lps_mm"]) + off_centre * float(
            lesion["long_axis_mm"]
        ) * np.asarray(lesion["long_axis_direction_lps"])
        i, j, k = lps_mm_to_index(view.volume, point)
        self.scroll_to(view, round(float(k)))
        where = view.image_to_widget((float(i), float(j))).toPoint()

        def press() -> None:
            QTest.mouseClick(view, Qt.MouseButton.LeftButton, NONE, where)

        self.actions["click"] += 1
        return self._wait(press)

    def enter(self) -> str:
        """Enter on the lesion table: measure the selected lesion where predicted."""
        table = self.window.lesion_panel.table

        def press() -> None:
            QTest.keyClick(table, Qt.Key.Key_Return)

        self.actions["key"] += 1
        return self._wait(press)

    def _off(self, lesion_id: str, lesion: dict[str, Any], visit: str) -> float:
        """How far the recorded diameter is from the lesion's (inf: none)."""
        timepoint = self.window.document.reading.timepoint(visit)
        node = lesion_id == "T02"
        measured: Any = timepoint.measurement(lesion_id) or next(
            (o for o in timepoint.new_lesions if o.lesion_id == lesion_id), None
        )
        value = None
        if measured is not None:
            value = measured.short_axis_mm if node else measured.long_axis_mm
        wanted = float(lesion["short_axis_mm" if node else "long_axis_mm"])
        return abs(value - wanted) if value is not None else float("inf")

    def check(self, lesion_id: str, lesion: dict[str, Any], visit: str) -> None:
        """Look at the result; correct it or draw it by hand as a reader would.

        Not found or leaked: one more Auto click elsewhere in the lesion (the
        selected lesion is re-measured), then a handle correction or, failing
        that, undo and draw by hand.
        """
        window = self.window
        if self._off(lesion_id, lesion, visit) > 8.0:
            self.retried.append(f"{visit} {lesion_id}")
            known = [x.lesion_id for x in window.document.reading.lesions]
            if lesion_id in known and window.document.selected_lesion_id != lesion_id:
                self.click_row(lesion_id)
            self.auto_click(lesion, off_centre=-0.3)
        timepoint = window.document.reading.timepoint(visit)
        node = lesion_id == "T02"
        measured: Any = timepoint.measurement(lesion_id) or next(
            (o for o in timepoint.new_lesions if o.lesion_id == lesion_id), None
        )
        wanted = float(lesion["short_axis_mm" if node else "long_axis_mm"])
        value = None
        if measured is not None:
            value = measured.short_axis_mm if node else measured.long_axis_mm
        if value is not None and abs(value - wanted) <= KEEP_MM:
            return
        if value is not None and abs(value - wanted) <= 8.0:
            self._drag_axis_to(lesion_id, lesion, "short" if node else "long")
            self.corrected.append(f"{visit} {lesion_id}")
            return
        # leaked or lost: undo it and draw it by hand
        if measured is not None and measured.geometry is not None:
            self.key(Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
            assert measured not in (
                *window.document.reading.timepoint(visit).measurements,
                *window.document.reading.timepoint(visit).new_lesions,
            )
        self.key(Qt.Key.Key_B)
        self.measure(lesion)
        self.key(Qt.Key.Key_M)
        self.redrawn.append(f"{visit} {lesion_id}")

    def _drag_axis_to(self, lesion_id: str, lesion: dict[str, Any], axis: str) -> None:
        view = self.window.slice_view
        volume = view.volume
        assert volume is not None
        overlay = next(o for o in view.overlays if o.lesion_id == lesion_id)
        if view.slice_index != overlay.slice_index:
            self.scroll_to(view, overlay.slice_index)
        center = np.asarray(lesion["center_lps_mm"])
        half = float(lesion[f"{axis}_axis_mm"]) / 2
        direction = np.asarray(lesion[f"{axis}_axis_direction_lps"])
        ends = lps_mm_to_index(
            volume, np.array([center - half * direction, center + half * direction])
        )
        # each handle to the lesion's edge nearest to it
        for index in (0, 1):
            overlay = next(o for o in view.overlays if o.lesion_id == lesion_id)
            segment = overlay.long_axis_ij if axis == "long" else overlay.short_axis_ij
            assert segment is not None
            handle = segment[index]
            target = min(
                ends[:, :2], key=lambda p: np.hypot(p[0] - handle[0], p[1] - handle[1])
            )
            self.drag(view, np.asarray(handle), target)


@pytest.mark.slow
def test_a_full_read_of_demo_hcc_002_with_auto_and_enter(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problems: list[str] = []
    monkeypatch.setattr(
        QMessageBox,
        "warning",
        lambda _p, title, text: problems.append(f"{title}: {text}"),
    )
    with open_database(f"sqlite:///{tmp_path / 'readings.sqlite3'}") as store:
        patients = set_up_demo_patients(
            tmp_path / "demo", store, user="setup", **PHANTOM
        )
        truth = json.loads(
            (
                tmp_path / "demo" / patients.unread_patient_id / GROUND_TRUTH_NAME
            ).read_text()
        )
        assert truth["studies"][1]["pose"]["shift_lps_mm"] != [0.0, 0.0, 0.0]
        window = open_workstation(store, demo=False)
        qtbot.addWidget(window)
        window.resize(1366, 768)
        window.show()
        qtbot.waitExposed(window)
        assert window.open_patient(patients.unread_patient_id, reader=patients.reader)
        loader = window.volume_loader
        assert loader is not None
        qtbot.waitUntil(lambda: not loader.pending, timeout=60_000)
        window.activateWindow()
        reader = AutoReader(window, qtbot)
        panel = window.lesion_panel
        studies = truth["studies"]
        by_visit = [{x["lesion_id"]: x for x in study["lesions"]} for study in studies]
        # ---- baseline: one Auto click per lesion
        reader.key(Qt.Key.Key_M)
        assert window.slice_view.tool is Tool.AUTO
        for lesion_id in ("T01", "T02", "T03"):
            lesion = by_visit[0][lesion_id]
            if window.document.selected_lesion_id:
                reader.key(Qt.Key.Key_Escape)
            reader.choose(panel.organ_combo, lesion["organ"])
            reader.auto_click(lesion)
            reader.check(lesion_id, lesion, "BASELINE")
        reader.key(Qt.Key.Key_Escape)  # nothing selected: the next one is new
        reader.choose(panel.role_combo, "Non-target")
        reader.choose(panel.organ_combo, "lung")
        assert reader.auto_click(by_visit[0]["NT01"]) == "NT01"
        # ---- follow-ups: the lesion's row, Enter, a look
        for visit_index in (1, 2, 3):
            reader.key(Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
            visit = studies[visit_index]["visit"]
            assert window.document.visit == visit
            for lesion_id in ("T01", "T02", "T03", "NT01"):
                reader.click_row(lesion_id)
                got = reader.enter()
                # a failure is one status line; the reader then draws it by hand
                assert got in (lesion_id, ""), got
                if not got:
                    assert window.auto.last_message.startswith("Auto: ")
                    assert lesion_id != "NT01", window.auto.last_message
                    reader.failed.append(f"{visit} {lesion_id}")
                if lesion_id != "NT01":
                    reader.check(lesion_id, by_visit[visit_index][lesion_id], visit)
            if "N01" in by_visit[visit_index]:
                reader.key(Qt.Key.Key_Escape)
                reader.choose(panel.role_combo, "New lesion")
                assert panel.role() is LesionRole.NEW
                reader.choose(panel.organ_combo, "liver")
                reader.auto_click(by_visit[visit_index]["N01"])
                reader.check("N01", by_visit[visit_index]["N01"], visit)
        # ---- sign: Ctrl+Shift+S, then Yes
        asked = reader.sign(qtbot, monkeypatch)

        assert problems == []
        reading = window.document.reading
        assert [(x.lesion_id, x.role.value) for x in reading.lesions] == [
            ("T01", "target"),
            ("T02", "target"),
            ("T03", "target"),
            ("NT01", "non-target"),
            ("N01", "new"),
        ]
        methods: dict[str, int] = {}
        for timepoint, lesions in zip(reading.timepoints, by_visit, strict=True):
            for measurement in timepoint.measurements:
                expected = lesions[measurement.lesion_id]
                node = measurement.lesion_id == "T02"
                measured = (
                    measurement.short_axis_mm if node else measurement.long_axis_mm
                )
                wanted = expected["short_axis_mm" if node else "long_axis_mm"]
                assert measured == pytest.approx(wanted, abs=KEEP_MM), (
                    timepoint.visit,
                    measurement.lesion_id,
                )
                assert measurement.geometry is not None
                method = measurement.geometry.method.value
                methods[method] = methods.get(method, 0) + 1
            assert [a.lesion_id for a in timepoint.non_target] == ["NT01"]
        assert methods.get(MeasurementMethod.SEMI_AUTOMATIC.value, 0) >= 6
        assessment = window.document.assessment
        # Week 8 is a 30.3 % decrease from the baseline in the phantom's truth:
        # right on PR's 30 %. Measurements each within a millimetre of the truth
        # may land either side (this read: 75.7 -> 53.0 mm, 29.99 %, SD).
        responses = [str(t.overall_response) for t in assessment.timepoints]
        assert responses[0] in ("PR", "SD")
        assert responses[1:] == ["PR", "PD"]
        sums = [assessment.baseline.sum_of_diameters_mm] + [
            t.sum_of_diameters_mm for t in assessment.timepoints
        ]
        assert sums[0] is not None
        assert sums[1] is not None
        assert 100 * (1 - sums[1] / sums[0]) == pytest.approx(30.3, abs=0.5)
        assert "incomplete" not in asked[0]
        assert store.readings.record(
            patients.unread_patient_id, reader=patients.reader
        ).status is (ReadingStatus.SIGNED)
        counts = ", ".join(f"{n} {c}" for n, c in reader.actions.items())
        sys.stdout.write(
            f"\nfull read of DEMO-HCC-002 with Auto and Enter: {reader.total} user "
            f"actions ({counts}); methods {methods}; corrected by handles "
            f"{reader.corrected}; not found {reader.failed}; clicked again "
            f"{reader.retried}; drawn by hand "
            f"{reader.redrawn}; responses {responses}, sums {sums}\n"
        )
        assert reader.total == AUTO_READ_ACTIONS
        window.close()
