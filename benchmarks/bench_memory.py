"""Memory with four visits open side by side, and patient switches that release it.

The two demo patients are generated at full size (four visits each of
512 x 512 x 300 CT, about 1.3 GB of DICOM), indexed into a fresh SQLite
database, and opened in the workstation's main window as a reader has it
(1920x1080, layout 2x2, each viewport on another visit: baseline, week 8,
week 16 beside the current week 24). The window loads every series of the
patient in the background, as it does for a reader.

* peak: the process's peak resident memory (``VmHWM``, reset through
  ``/proc/self/clear_refs`` once the empty window is up) while the first patient
  opens and all four volumes load, minus the resident memory of the same window
  before (Qt, NumPy, the database: what the app uses with no patient open),
  against the voxel bytes of the four volumes measured in the same run (the
  peer: what holding the images needs at the least).
* switches: ten switches between the two patients, each waiting until every
  series is loaded and the background registrations have ended (one running
  when the patient changed cannot be interrupted); after each, whether the
  previous patient's volumes are gone (weak references, after
  ``gc.collect()``) and the resident memory.

Goals (issue 23): peak <= volumes + 25 %; every switch releases the previous
patient's volumes, resident memory does not grow over the ten switches.

Linux only (``/proc``). Usage:
``python benchmarks/bench_memory.py [--keep DIR] [--slices N] [--switches N]``
(``--keep`` reuses generated studies: generating takes minutes).
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GOAL_PEAK = 1.25
MB = 1024 * 1024


def _status_kb(field: str) -> int:
    """A ``/proc/self/status`` memory figure in kB (``VmRSS``, ``VmHWM``)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise SystemExit(f"/proc/self/status has no {field}: Linux only")


def _reset_peak() -> None:
    """Make ``VmHWM`` start again from the current resident memory."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
        handle.write("5")


def _generate(folder: Path, slices: int) -> str:
    """Write and index both demo patients at full size; return the database URL."""
    from recist_app.recist import Reading
    from recist_app.workflows.database import open_database
    from recist_app.workflows.demo import set_up_demo_patients
    from recist_app.workflows.reading_session import ReadingSession
    from recist_app.workflows.visits import assign_visits, in_date_order
    from recist_app.workflows.worklist import patient_studies

    url = f"sqlite:///{folder / 'readings.db'}"
    if (folder / "ready").exists():
        return url
    started = time.perf_counter()
    with open_database(url) as store:
        patients = set_up_demo_patients(
            folder / "demo",
            store,
            user="bench",
            matrix=512,
            slice_count=slices,
            slice_spacing_mm=max(1.0, 300.0 / slices),
            progress=lambda line: print(f"  {line}", file=sys.stderr, flush=True),
        )
        # The unread patient gets its four visits, as a reader starting it would.
        studies = patient_studies(store, patients.unread_patient_id)
        unread = Reading(patient_id=patients.unread_patient_id, reader=patients.reader)
        ReadingSession(store, user="bench").save(
            assign_visits(unread, studies, in_date_order(studies))
        )
    (folder / "ready").write_text(patients.reader + "\n", encoding="utf-8")
    print(
        f"generated and indexed in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return url


def _wait_loaded(app: Any, window: Any, patient_id: str, timeout_s: float) -> None:
    """Run the event loop until every series of the open patient is loaded."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        app.processEvents()
        reading = window.document.reading
        visits = [t.visit for t in reading.timepoints if t.series_instance_uid]
        if (
            reading.patient_id == patient_id
            and visits
            and all(window.volume_at(visit) is not None for visit in visits)
            and not window.volume_loader.pending
        ):
            return
        time.sleep(0.01)
    raise SystemExit(f"{patient_id}: series not loaded in {timeout_s:.0f} s")


def _wait_idle(app: Any, window: Any, timeout_s: float) -> None:
    """Run the event loop until no registration or prediction job is left."""
    deadline = time.monotonic() + timeout_s
    while window.auto.registration_runner.busy and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(5):
        app.processEvents()


def _volumes(window: Any) -> list[Any]:
    reading = window.document.reading
    found = [window.volume_at(t.visit) for t in reading.timepoints]
    return [v for v in found if v is not None]


def _child(url: str, switches: int) -> None:
    """Measure in this fresh process (nothing generated or imported before)."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from recist_app.ui.workstation import open_workstation
    from recist_app.workflows.database import open_database
    from recist_app.workflows.demo import DEMO_PATIENTS

    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings_file = Path(tempfile.mkdtemp(prefix="bench-memory-")) / "settings.ini"
    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    first, second = (spec.patient_id for spec in DEMO_PATIENTS)
    reader = (
        (Path(url.removeprefix("sqlite:///")).parent / "ready")
        .read_text(encoding="utf-8")
        .strip()
    )
    with open_database(url) as store:
        window = open_workstation(store, demo=False, settings=settings)
        window.resize(1920, 1080)
        window.show()
        window.set_layout("2x2")
        for _ in range(20):
            app.processEvents()
        gc.collect()
        empty_kb = _status_kb("VmRSS")
        _reset_peak()
        window.open_patient(first, reader=reader)
        visits = [t.visit for t in window.document.reading.timepoints]
        window.document.set_visit(visits[-1])
        for viewport, visit in zip(
            (window.viewports[0], window.viewports[2], window.viewports[3]),
            visits[:-1],
            strict=False,
        ):
            window.set_viewport_source(viewport, f"visit:{visit}")
        _wait_loaded(app, window, first, 600)
        peak_kb = _status_kb("VmHWM")
        volumes = _volumes(window)
        volume_bytes = sum(int(v.voxels.nbytes) for v in volumes)
        shapes = sorted({tuple(v.voxels.shape) for v in volumes})
        dtypes = sorted({str(v.voxels.dtype) for v in volumes})
        count = len(volumes)
        del volumes  # the benchmark must not be what keeps them
        peak_bytes = (peak_kb - empty_kb) * 1024
        ratio = peak_bytes / volume_bytes
        print(f"window, no patient open:      {empty_kb * 1024 / MB:8.0f} MB resident")
        print(
            f"volumes (peer):               {volume_bytes / MB:8.0f} MB "
            f"({count} x {shapes} {','.join(dtypes)})"
        )
        print(f"peak while opening, above it: {peak_bytes / MB:8.0f} MB")
        print(
            f"peak / volumes:               {ratio:8.2f} x  (goal <= {GOAL_PEAK} x: "
            f"{'met' if ratio <= GOAL_PEAK else 'NOT met'})"
        )
        print(f"whole process peak:           {peak_kb * 1024 / MB:8.0f} MB")
        resident: list[float] = []
        released = 0
        for number in range(switches):
            previous = [weakref.ref(v.voxels) for v in _volumes(window)]
            patient = second if number % 2 == 0 else first
            window.open_patient(patient, reader=reader)
            _wait_loaded(app, window, patient, 600)
            # a registration running when the patient changed cannot be
            # interrupted (SimpleITK): its volumes go when it ends
            _wait_idle(app, window, 120)
            for _ in range(5):  # queued repaints and signals let go of the old
                app.processEvents()
            gc.collect()
            if all(ref() is None for ref in previous):
                released += 1
            resident.append(_status_kb("VmRSS") * 1024 / MB)
        print(
            f"switches: {switches}; previous patient's volumes released after "
            f"{released} of {switches}"
        )
        print(
            "resident after each switch (MB): " + " ".join(f"{r:.0f}" for r in resident)
        )
        growth = resident[-1] - resident[1] if len(resident) > 2 else 0.0
        per_switch = growth / max(len(resident) - 2, 1)
        limit = 0.05 * volume_bytes / MB
        print(
            f"growth from switch 2 to {switches}: {growth:+.0f} MB "
            f"({per_switch:+.1f} MB a switch; "
            f"{'within' if growth <= limit else 'OVER'} 5 % of the volumes)"
        )
        window.hide()
        window.deleteLater()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", type=Path, help="folder to generate into and reuse")
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--switches", type=int, default=10)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.switches)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        # Generated in a process of its own: its memory must not count.
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; sys.path.insert(0, sys.argv[1]);"
                "from benchmarks.bench_memory import _generate;"
                "from pathlib import Path;"
                "print(_generate(Path(sys.argv[2]), int(sys.argv[3])))",
                str(ROOT),
                str(folder),
                str(args.slices),
            ],
            check=True,
        )
        url = f"sqlite:///{folder / 'readings.db'}"
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                url,
                "--switches",
                str(args.switches),
            ],
            check=False,
        )
        return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
