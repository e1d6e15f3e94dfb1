"""The Auto tool's screenshot: DEMO-HCC-002 read with Auto clicks and Enter.

Run under a real X display (``make screenshots`` starts Xvfb and runs it after
the workstation screenshots)::

    DISPLAY=:99 .venv/bin/python docs/make_auto_screenshot.py docs/auto-1920x1080.png

It sets up the demo in a temporary database, opens DEMO-HCC-002 (unread), marks
its baseline lesions with one Auto click each (where the phantom's truth says
they are), moves to Week 8 (the patient lies differently), accepts T02 with
Enter and leaves the others' predicted positions (``T01?``, ``T03?``) marked,
the baseline beside it linked by anatomy, then saves the window.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEventLoop, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from recist_app.imaging import GROUND_TRUTH_NAME, lps_mm_to_index
from recist_app.ui.viewer.measure_tool import Tool
from recist_app.ui.workstation import open_workstation
from recist_app.workflows.database import open_database
from recist_app.workflows.demo import set_up_demo_patients

NONE = Qt.KeyboardModifier.NoModifier


def wait_until(app: QApplication, condition: Any, timeout_s: float = 120.0) -> None:
    """Run the event loop until ``condition()`` holds."""
    loop_ms = 50
    for _ in range(int(timeout_s * 1000 / loop_ms)):
        if condition():
            return
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, loop_ms)
        QTest.qWait(loop_ms)
    raise TimeoutError("the workstation did not get there in time")


def main(out: str) -> None:
    """Set up, read with Auto and Enter, save the window as ``out``."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    work = Path(tempfile.mkdtemp(prefix="recist-auto-shot-"))
    with open_database(f"sqlite:///{work / 'readings.sqlite3'}") as store:
        patients = set_up_demo_patients(work / "demo", store, user="screenshot")
        folder = work / "demo" / patients.unread_patient_id
        truth = json.loads((folder / GROUND_TRUTH_NAME).read_text())
        window = open_workstation(store, demo=False)
        window.showMaximized()
        assert window.open_patient(patients.unread_patient_id, reader=patients.reader)
        loader = window.volume_loader
        assert loader is not None
        wait_until(app, lambda: not loader.pending)
        window.set_layout("1x2")
        window.set_viewport_source(window.viewports[0], "baseline")
        window.set_tool(Tool.AUTO)
        view = window.slice_view
        panel = window.lesion_panel
        baseline = {x["lesion_id"]: x for x in truth["studies"][0]["lesions"]}
        for lesion_id, off in (("T01", -0.3), ("T02", 0.0), ("T03", 0.0)):
            lesion = baseline[lesion_id]
            window.document.select_lesion("")
            panel.organ_combo.setCurrentText(lesion["organ"])
            point = np.asarray(lesion["center_lps_mm"]) + off * float(
                lesion["long_axis_mm"]
            ) * np.asarray(lesion["long_axis_direction_lps"])
            assert view.volume is not None
            i, j, k = (float(v) for v in lps_mm_to_index(view.volume, point))
            view.set_slice_index(round(k))
            clicked: list[str] = []
            window.auto.finished.connect(clicked.append)
            where = view.image_to_widget((i, j)).toPoint()
            QTest.mouseClick(view, Qt.MouseButton.LeftButton, NONE, where)
            wait_until(app, lambda seen=clicked: bool(seen))
            window.auto.finished.disconnect(clicked.append)
            sys.stdout.write(f"{lesion_id}: {window.auto.last_message}\n")
        window.document.set_visit("WEEK 8")
        wait_until(app, lambda: len(view.markers) >= 3)
        window.document.select_lesion("T02")
        done: list[str] = []
        window.auto.finished.connect(done.append)
        assert window.auto.accept()
        wait_until(app, lambda: bool(done))
        sys.stdout.write(f"Enter: {window.auto.last_message}\n")
        for viewport in window.viewports[:2]:  # close enough to see the outline
            viewport.view.zoom_by(2.2)
        window.show_lesion("T02")
        QTest.qWait(1500)
        window.grab().save(out)
        sys.stdout.write(f"{out}\n")
        window.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/auto-1920x1080.png")
