"""Regenerate ``docs/trial-view.png``: the trial view on the simulated trial.

Run from the repository root::

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_trial_screenshot.py

The 76-patient simulated trial (``recist-app simulate-trial``, default seed) is
saved reading by reading into a throw-away SQLite database, its clinical CSV is
imported, and Trial → Endpoints is computed under RECIST 1.1 with the Kaplan–Meier
PFS plot in front.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from recist_app.endpoints import simulate_trial, write_clinical_csv
from recist_app.ui.trial import TrialWindow
from recist_app.workflows.database import open_database
from recist_app.workflows.endpoints import import_clinical

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
            import_clinical(store, clinical, user="demo")
            window = TrialWindow(store, user="demo")
            window.resize(1500, 940)
            window.show()
            window.computed.connect(app.quit)
            app.exec()
            window.plot_tabs.setCurrentIndex(3)  # Kaplan–Meier PFS
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
