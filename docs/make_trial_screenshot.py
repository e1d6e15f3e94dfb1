"""Regenerate ``docs/trial-view.png``: the trial view on the simulated trial.

Run from the repository root::

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_trial_screenshot.py

The 76-patient simulated trial (``recist-app simulate-trial``, default seed) is
saved reading by reading into a throw-away SQLite database, its clinical CSV and
adverse events are imported, its biomarker file is chosen, and Trial → Endpoints is
computed under RECIST 1.1 with the safety table and the forest plot in front.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from recist_app.endpoints import (
    adverse_events_csv_text,
    biomarkers_csv_text,
    simulate_trial,
    write_clinical_csv,
)
from recist_app.ui.trial import TrialWindow
from recist_app.workflows.database import open_database
from recist_app.workflows.endpoints import import_clinical_data

OUT = Path(__file__).resolve().parent / "trial-view.png"


def main() -> int:
    """Build the database, open the trial view, wait for it, grab it."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'trial.sqlite3'}"
        trial = simulate_trial(76)
        with open_database(url) as store:
            for reading in trial.readings:
                store.readings.save(reading, user="demo")
            clinical = Path(folder) / "clinical.csv"
            write_clinical_csv(trial.clinical, clinical)
            events = Path(folder) / "adverse_events.csv"
            events.write_text(adverse_events_csv_text(trial.adverse_events))
            biomarkers = Path(folder) / "biomarkers.csv"
            if trial.biomarkers is not None:
                biomarkers.write_text(biomarkers_csv_text(trial.biomarkers))
            import_clinical_data(
                store, clinical_csv=clinical, adverse_events_csv=events, user="demo"
            )
            window = TrialWindow(store, user="demo")
            window.resize(1500, 940)
            window.show()
            window.wait()
            window.biomarkers_csv = biomarkers
            window.biomarkers_button.setText(f"Biomarkers: {biomarkers.name}")
            window.computed.connect(app.quit)
            window.recompute()
            app.exec()
            window.table_tabs.setCurrentWidget(window.safety_view)
            window.plot_tabs.setCurrentWidget(window.canvases["forest"])
            window.subjects_view.selectRow(4)
            for _ in range(5):
                app.processEvents()
            window.grab().save(str(OUT))
            window.close()
            window.deleteLater()
            app.processEvents()
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
