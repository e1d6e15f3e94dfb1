"""Start-up: ``recist-app`` to its first painted window vs a bare PySide6 window.

Each start is a fresh Python process (as a user starts the app), timed from the
moment the benchmark launches it until the child reports the first paint event of
its main window; the child then quits. The peer, measured in the same run and
alternating with the app so both see the same machine load, is a process that
imports PySide6, creates a ``QApplication`` and shows an empty ``QMainWindow``.
Both children share the same preamble (an event filter on the application that
reports the first ``Paint`` of a main window); the app child then calls the
``recist-app`` entry point exactly as the command does, on a fresh SQLite
database.

The app's first window is the launcher's start window
(:mod:`recist_app.ui.launcher`); the workstation's own window (database open,
every panel built) takes its place, and its first paint is printed too. Also
printed: the heavy modules the app has imported by the time of its first paint
(matplotlib, lifelines, scipy, highdicom, SimpleITK, pydicom, alembic,
scikit-image).

Goal (issue 23): ``recist-app`` first paint <= 3 x the bare window's.

Usage: ``python benchmarks/bench_startup.py [--repeats N]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_RATIO = 3.0
HEAVY = (
    "matplotlib",
    "lifelines",
    "scipy",
    "highdicom",
    "SimpleITK",
    "pydicom",
    "alembic",
    "skimage",
)

CHILD = r"""
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

app = QApplication(sys.argv[:1])


class FirstPaint(QObject):
    first = True

    def eventFilter(self, obj, event):
        if (
            event.type() == QEvent.Type.Paint
            and isinstance(obj, QWidget)
            and isinstance(obj.window(), QMainWindow)
        ):
            ready = sys.argv[1] == "bare" or type(obj.window()).__name__ == "MainWindow"
            if self.first or ready:
                heavy = sorted(m for m in HEAVY if m in sys.modules)
                print("painted " + ",".join(heavy), flush=True)
                self.first = False
            if ready:
                print("ready", flush=True)
                QTimer.singleShot(0, app.quit)
        return False


HEAVY = sys.argv[3].split(",")
first_paint = FirstPaint()
app.installEventFilter(first_paint)
if sys.argv[1] == "bare":
    window = QMainWindow()
    window.resize(1280, 800)
    window.show()
    app.exec()
else:
    from recist_app.cli.main import main

    main(["--database", sys.argv[2]])
"""


def _start(kind: str, database_url: str, home: str) -> tuple[float, float, str]:
    """Seconds to the first painted window and to the workstation's, and the
    heavy modules loaded at the first paint."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=home)
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, kind, database_url, ",".join(HEAVY)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert process.stdout is not None
    first: float | None = None
    loaded = ""
    for line in process.stdout:
        if line.startswith("painted") and first is None:
            first = time.perf_counter() - start
            loaded = line.removeprefix("painted").strip()
        elif line.startswith("ready") and first is not None:
            ready = time.perf_counter() - start
            process.wait(timeout=60)
            return first, ready, loaded
    process.wait(timeout=60)
    raise SystemExit(
        f"{kind}: the window was never painted (exit {process.returncode})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        url = f"sqlite:///{Path(folder) / 'readings.db'}"
        _start("app", url, folder)  # creates the database and warms the file cache
        _start("bare", url, folder)
        bare: list[float] = []
        first: list[float] = []
        ready: list[float] = []
        loaded = ""
        for _ in range(args.repeats):
            bare.append(_start("bare", url, folder)[0])
            first_s, ready_s, loaded = _start("app", url, folder)
            first.append(first_s)
            ready.append(ready_s)
    bare_s = statistics.median(bare)
    first_s, ready_s = statistics.median(first), statistics.median(ready)
    ratio = first_s / bare_s
    print(f"starts: {args.repeats} each, alternating (median; fresh processes)")
    print(f"bare PySide6 QMainWindow (peer):   {bare_s:6.3f} s to first paint")
    print(f"recist-app, first window painted:  {first_s:6.3f} s")
    print(f"recist-app, workstation painted:   {ready_s:6.3f} s (database open)")
    print(
        f"first window / bare:               {ratio:6.2f} x  "
        f"(goal <= {GOAL_RATIO:.0f} x: {'met' if ratio <= GOAL_RATIO else 'NOT met'})"
    )
    print(f"workstation / bare:                {ready_s / bare_s:6.2f} x")
    print(f"heavy modules loaded before the first paint: {loaded or 'none'}")


if __name__ == "__main__":
    main()
