"""A full read of DEMO-HCC-002 by mouse and keys, counting the reader's actions.

Four visits, five lesions (three targets, a non-target, a new lesion at Week 24),
every line drawn on the images where the phantom's truth says the lesion is, then
signed. The README reports the count of user actions this takes (a click, a key
press, a drag, one notch of the wheel each).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from recist_app.imaging import GROUND_TRUTH_NAME, lps_mm_to_index
from recist_app.recist import LesionRole
from recist_app.store import ReadingStatus
from recist_app.ui.workstation import open_workstation
from recist_app.workflows.database import open_database
from recist_app.workflows.demo import set_up_demo_patients

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from recist_app.ui.main_window import MainWindow
    from recist_app.ui.viewer.slice_view import SliceView

SMALL: dict[str, Any] = {
    "matrix": 128,
    "pixel_size_mm": 3.125,
    "slice_count": 40,
    "slice_spacing_mm": 7.5,
}
NONE = Qt.KeyboardModifier.NoModifier


class Reader:
    """Drives the window as a reader does and counts every action."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.actions: dict[str, int] = {"click": 0, "key": 0, "drag": 0, "wheel": 0}

    def key(self, key: Qt.Key, modifier: Qt.KeyboardModifier = NONE) -> None:
        focus = QApplication.focusWidget() or self.window.slice_view
        QTest.keyClick(focus, key, modifier)
        self.actions["key"] += 1

    def sign(self, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> list[str]:
        """Ctrl+Shift+S, then Yes; returns what the sign-off question said."""
        asked: list[str] = []

        def yes(_parent: object, _title: str, text: str, *_args: object) -> object:
            asked.append(text)
            self.actions["click"] += 1
            return QMessageBox.StandardButton.Yes

        monkeypatch.setattr(QMessageBox, "question", yes)
        self.key(
            Qt.Key.Key_S,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
        qtbot.waitUntil(lambda: self.window.document.locked, timeout=20_000)
        return asked

    def choose(self, combo: Any, text: str) -> None:
        """Open a drop-down and pick ``text`` (two clicks)."""
        index = combo.findText(text)
        shown = [combo.itemText(i) for i in range(combo.count())]
        assert index >= 0, (text, shown, self.window.document.selected_lesion_id)
        combo.setCurrentIndex(index)
        combo.activated.emit(index)
        self.actions["click"] += 2

    def click_row(self, lesion_id: str) -> None:
        panel = self.window.lesion_panel
        table = panel.table
        row = panel.model.row_of(lesion_id)
        index = panel.model.index(row, 0)
        if not table.viewport().rect().contains(table.visualRect(index)):
            table.scrollTo(index)  # the wheel over the lesion table
            self.actions["wheel"] += 1
        point = table.visualRect(index).center()
        QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, NONE, point)
        self.actions["click"] += 1

    def scroll_to(self, view: SliceView, k: int) -> None:
        """Wheel to slice ``k``, one notch per slice."""
        center = QPointF(view.width() / 2, view.height() / 2)
        while view.slice_index != k:
            delta = -120 if k > view.slice_index else 120
            event = QWheelEvent(
                center,
                view.mapToGlobal(center),
                QPoint(),
                QPoint(0, delta),
                Qt.MouseButton.NoButton,
                NONE,
                Qt.ScrollPhase.NoScrollPhase,
                False,
            )
            QApplication.sendEvent(view, event)
            self.actions["wheel"] += 1

    def drag(self, view: SliceView, start: np.ndarray, end: np.ndarray) -> None:
        first = view.image_to_widget((float(start[0]), float(start[1]))).toPoint()
        last = view.image_to_widget((float(end[0]), float(end[1]))).toPoint()
        QTest.mousePress(view, Qt.MouseButton.LeftButton, NONE, first)
        QTest.mouseMove(view, (first + last) / 2)
        QTest.mouseMove(view, last)
        QTest.mouseRelease(view, Qt.MouseButton.LeftButton, NONE, last)
        self.actions["drag"] += 1

    def measure(self, lesion: dict[str, Any], *, bidirectional: bool = True) -> None:
        """Scroll to the lesion's slice and draw its axes from the truth."""
        view = self.window.slice_view
        volume = view.volume
        assert volume is not None
        center = np.asarray(lesion["center_lps_mm"])
        ends = []
        for axis in ("long", "short")[: 2 if bidirectional else 1]:
            half = float(lesion[f"{axis}_axis_mm"]) / 2
            direction = np.asarray(lesion[f"{axis}_axis_direction_lps"])
            ends.append(
                lps_mm_to_index(
                    volume,
                    np.array([center - half * direction, center + half * direction]),
                )
            )
        self.scroll_to(view, round(float(ends[0][0][2])))
        for points in ends:
            self.drag(view, points[0][:2], points[1][:2])

    @property
    def total(self) -> int:
        return sum(self.actions.values())


@pytest.mark.slow
def test_a_full_read_of_demo_hcc_002_by_mouse_and_keys(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problems: list[str] = []
    monkeypatch.setattr(
        QMessageBox,
        "warning",
        lambda _p, title, text: problems.append(f"{title}: {text}"),
    )
    with open_database(f"sqlite:///{tmp_path / 'readings.sqlite3'}") as store:
        patients = set_up_demo_patients(tmp_path / "demo", store, user="setup", **SMALL)
        truth = json.loads(
            (
                tmp_path / "demo" / patients.unread_patient_id / GROUND_TRUTH_NAME
            ).read_text()
        )
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
        reader = Reader(window)
        panel = window.lesion_panel
        studies = truth["studies"]
        by_visit = [{x["lesion_id"]: x for x in study["lesions"]} for study in studies]
        # ---- baseline: three targets, one non-target, on the images
        reader.key(Qt.Key.Key_B)  # bidirectional tool
        for lesion_id in ("T01", "T02", "T03"):
            lesion = by_visit[0][lesion_id]
            reader.key(
                Qt.Key.Key_Escape
            ) if window.document.selected_lesion_id else None
            reader.choose(panel.organ_combo, lesion["organ"])
            reader.measure(lesion)
        reader.key(Qt.Key.Key_Escape)  # nothing selected: the next line is a new lesion
        reader.choose(panel.role_combo, "Non-target")
        reader.choose(panel.organ_combo, "lung")
        reader.key(Qt.Key.Key_L)  # one line marks where it is
        reader.measure(by_visit[0]["NT01"], bidirectional=False)
        reader.key(Qt.Key.Key_B)
        # ---- follow-ups: re-measure each target, say the non-target is present
        for visit_index in (1, 2, 3):
            reader.key(Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
            assert window.document.visit == studies[visit_index]["visit"]
            for lesion_id in ("T01", "T02", "T03"):
                reader.click_row(lesion_id)  # jumps to it in every viewport
                reader.measure(by_visit[visit_index][lesion_id])
            reader.click_row("NT01")
            reader.choose(panel.state_combo, "present")
            QTest.mouseClick(panel.state_button, Qt.MouseButton.LeftButton)
            reader.actions["click"] += 1
            if "N01" in by_visit[visit_index]:
                reader.key(Qt.Key.Key_Escape)
                reader.choose(panel.role_combo, "New lesion")
                assert panel.role() is LesionRole.NEW
                reader.choose(panel.organ_combo, "liver")
                reader.measure(by_visit[visit_index]["N01"])
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
        for timepoint, lesions in zip(reading.timepoints, by_visit, strict=True):
            for measurement in timepoint.measurements:
                expected = lesions[measurement.lesion_id]
                node = measurement.lesion_id == "T02"
                measured = (
                    measurement.short_axis_mm if node else measurement.long_axis_mm
                )
                wanted = expected["short_axis_mm" if node else "long_axis_mm"]
                assert measured == pytest.approx(wanted, abs=1.5), (
                    timepoint.visit,
                    measurement.lesion_id,
                )
        assessment = window.document.assessment
        assert [str(t.overall_response) for t in assessment.timepoints] == [
            "PR",
            "PR",
            "PD",
        ]
        assert "incomplete" not in asked[0]
        assert store.readings.record(
            patients.unread_patient_id, reader=patients.reader
        ).status is (ReadingStatus.SIGNED)
        counts = ", ".join(f"{n} {c}" for n, c in reader.actions.items())
        sys.stdout.write(
            f"\nfull read of DEMO-HCC-002: {reader.total} user actions ({counts})\n"
        )
        window.close()
