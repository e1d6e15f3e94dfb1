"""Regenerate ``docs/screenshot.png``: the workstation on the read demo patient.

Run from the repository root::

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshot.py

It goes the way ``recist-app --demo`` goes: the two demo patients are set up
(generated the first time in the user data folder) in a throw-away SQLite
database, the read patient's reading is imported from its reading file, and the
window opens on it and loads its series in the background. The grab shows Week 24
beside Week 16 with T01 selected: measurements on the images, the lesion table, the
response panel (PD with the new lesion) and the lesion history.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from recist_app.recist import Reading
from recist_app.ui.document import open_document
from recist_app.ui.main_window import MainWindow
from recist_app.ui.workstation import demo_folder
from recist_app.workflows.database import open_database
from recist_app.workflows.demo import set_up_demo_patients
from recist_app.workflows.reading_session import ReadingSession

OUT = Path(__file__).with_name("screenshot.png")
SHOWN_VISIT = "WEEK 24"
SELECTED = "T01"


def main() -> int:
    """Build the window as ``--demo`` does, grab it and write the PNG."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_database(f"sqlite:///{Path(tmp) / 'readings.sqlite3'}") as store,
    ):
        patients = set_up_demo_patients(
            demo_folder(), store, user="dr-demo", progress=print
        )
        document = open_document(
            Reading(patient_id=patients.read_patient_id, reader=patients.reader),
            ReadingSession(store, user="dr-demo"),
        )
        window = MainWindow(document, {})
        window.resize(1800, 1100)
        window.show()
        document.set_visit(SHOWN_VISIT)
        loader = window.volume_loader
        deadline = time.monotonic() + 120
        while loader is not None and loader.pending and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)
        document.select_lesion(SELECTED)
        for _ in range(10):
            app.processEvents()
        window.history_panel.canvas.draw()  # type: ignore[no-untyped-call]
        app.processEvents()
        window.grab().save(str(OUT))
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
