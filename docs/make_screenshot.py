"""Regenerate ``docs/screenshot.png``: the workstation on the demo patient.

Run from the repository root::

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshot.py

The demo patient is generated (first time) in the user data folder; the reading is
made of the phantom's known lesions at every visit, pushed through the document
(one undo step each) and autosaved to a throw-away SQLite database, as a reader
would do. The window shows Week 16 beside Week 8 with T01 selected.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from recist_app.app import demo_folder
from recist_app.recist import (
    AxisGeometry,
    Lesion,
    LesionRole,
    Measurement,
    MeasurementGeometry,
    NewLesionObservation,
    NewLesionState,
    NonTargetAssessment,
    Reading,
    add_lesion,
    record_measurement,
    record_new_lesion,
    record_non_target,
)
from recist_app.store import open_store
from recist_app.ui.demo import ensure_demo_data, open_demo_patient
from recist_app.ui.main_window import MainWindow
from recist_app.ui.reading_store import StoreSaver, open_document

OUT = Path(__file__).with_name("screenshot.png")
SHOWN_VISIT = "WEEK 16"


def _geometry(study: dict[str, Any], found: dict[str, Any]) -> MeasurementGeometry:
    """Long axis left-right and short axis front-back through the lesion centre."""
    x, y, z = found["center_lps_mm"]
    half_long, half_short = found["long_axis_mm"] / 2, found["short_axis_mm"] / 2
    return MeasurementGeometry(
        series_instance_uid=study["series_instance_uid"],
        sop_instance_uid=found["sop_instance_uid"],
        long_axis=AxisGeometry(
            start_lps_mm=(x - half_long, y, z), end_lps_mm=(x + half_long, y, z)
        ),
        short_axis=AxisGeometry(
            start_lps_mm=(x, y - half_short, z), end_lps_mm=(x, y + half_short, z)
        ),
    )


def _steps(reading: Reading, truth: dict[str, Any]) -> list[tuple[Reading, str]]:
    """Every reader gesture as (reading after it, undo text)."""
    steps: list[tuple[Reading, str]] = []
    roles = {lesion["lesion_id"]: lesion for lesion in truth["lesions"]}
    for lesion in truth["lesions"]:
        if lesion["role"] == "new":
            continue
        reading = add_lesion(
            reading,
            Lesion(
                lesion_id=lesion["lesion_id"],
                role=LesionRole(lesion["role"]),
                organ=lesion["organ"],
                location=lesion["location"],
                is_lymph_node=lesion["is_lymph_node"],
            ),
        )
        steps.append((reading, f"Add {lesion['lesion_id']}"))
    for study in truth["studies"]:
        visit = study["visit"]
        for found in study["lesions"]:
            lesion_id = found["lesion_id"]
            role = roles[lesion_id]["role"]
            if role == "target":
                reading = record_measurement(
                    reading,
                    visit,
                    Measurement(
                        lesion_id=lesion_id,
                        long_axis_mm=found["long_axis_mm"],
                        short_axis_mm=found["short_axis_mm"],
                        geometry=_geometry(study, found),
                    ),
                )
            elif role == "non-target":
                reading = record_non_target(
                    reading, visit, NonTargetAssessment(lesion_id=lesion_id)
                )
            else:
                lesion = roles[lesion_id]
                reading = add_lesion(
                    reading,
                    Lesion(
                        lesion_id=lesion_id,
                        role=LesionRole.NEW,
                        organ=lesion["organ"],
                        location=lesion["location"],
                    ),
                )
                reading = record_new_lesion(
                    reading,
                    visit,
                    NewLesionObservation(
                        lesion_id=lesion_id,
                        state=NewLesionState.UNEQUIVOCAL,
                        long_axis_mm=found["long_axis_mm"],
                    ),
                )
            steps.append((reading, f"Measure {lesion_id} at {visit}"))
    return steps


def main() -> int:
    """Build the window, grab it and write ``docs/screenshot.png``."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    folder = demo_folder()
    truth = ensure_demo_data(folder)
    patient = open_demo_patient(folder)
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_store(f"sqlite:///{Path(tmp) / 'readings.sqlite3'}") as store,
    ):
        saver = StoreSaver(store, user="dr-demo")
        document = open_document(patient.reading, saver)
        window = MainWindow(document, patient.volumes, reading_store=saver)
        window.resize(1800, 1100)
        window.show()
        for after, text in _steps(document.reading, truth):
            document.replace(after, text)
        assert store.load_reading(patient.reading.patient_id) == document.reading
        document.set_visit(SHOWN_VISIT)
        document.select_lesion("T01")
        for _ in range(5):
            app.processEvents()
        window.history_panel.canvas.draw()  # type: ignore[no-untyped-call]
        app.processEvents()
        window.grab().save(str(OUT))
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
