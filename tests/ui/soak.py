"""A long reading session driven like a reader would, then a clean quit.

``python -m tests.ui.soak --minutes 30`` (``make soak``) scrolls, draws, undoes
and redoes, switches visits, layouts and patients on the demo patients for the
given time, then closes the window and quits the app; the exit status is 0 only
if every step worked and the quit was clean. The quit-time aborts of issue 18
(``none_dealloc`` / ``bool_dealloc``, exit 134) would end it with a signal
instead. ``tests/ui/test_long_session.py`` runs it for seconds in a subprocess.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _drag(view: object, start: tuple[float, float], end: tuple[float, float]) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from recist_app.ui.viewer.slice_view import SliceView

    assert isinstance(view, SliceView)
    first = view.image_to_widget(start).toPoint()
    last = view.image_to_widget(end).toPoint()
    none = Qt.KeyboardModifier.NoModifier
    QTest.mousePress(view, Qt.MouseButton.LeftButton, none, first)
    QTest.mouseMove(view, (first + last) / 2)
    QTest.mouseMove(view, last)
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, none, last)


def close_modal_dialog(seen: list[str]) -> None:
    """Close the app's open modal dialog, as a reader would; note what it said.

    A message box is answered OK and its title and text go into ``seen``; any
    other modal dialog is cancelled.
    """
    from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

    widget = QApplication.activeModalWidget()
    if isinstance(widget, QMessageBox):
        seen.append(f"{widget.windowTitle()}: {widget.text()}")
        for button in widget.buttons():  # OK (the box's accepting button)
            if widget.buttonRole(button) == QMessageBox.ButtonRole.AcceptRole:
                button.click()
                break
        else:
            widget.reject()
    elif isinstance(widget, QDialog):
        seen.append(f"{widget.windowTitle()} (dialog, cancelled)")
        widget.reject()


def run(
    minutes: float, folder: Path, *, seed: int = 18, dialogs: list[str] | None = None
) -> dict[str, int]:
    """Drive the workstation for ``minutes``; return how often each step ran.

    A message box the app opens on the way (a warning about what a step did) is
    read into ``dialogs`` and closed with OK, as a reader would: it must not
    hold the session (a modal box left open stopped a 30-minute run).
    """
    from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from recist_app.ui.background import shutdown_all_runners
    from recist_app.ui.workstation import open_workstation
    from recist_app.workflows.database import open_database
    from recist_app.workflows.demo import set_up_demo_patients

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.aboutToQuit.connect(shutdown_all_runners)
    counts: dict[str, int] = {}
    random_steps = random.Random(seed)
    seen = dialogs if dialogs is not None else []
    closer = QTimer()
    closer.setInterval(250)  # runs inside a static QMessageBox call's loop too
    closer.timeout.connect(lambda: close_modal_dialog(seen))
    closer.start()
    with open_database(f"sqlite:///{folder / 'readings.sqlite3'}") as store:
        patients = set_up_demo_patients(
            folder / "demo",
            store,
            user="soak",
            matrix=128,
            pixel_size_mm=3.2,
            slice_count=40,
            slice_spacing_mm=7.5,
        )
        window = open_workstation(store, demo=False)
        window.resize(1366, 768)
        window.show()
        window.open_patient(patients.read_patient_id, reader=patients.reader)
        ids = [patients.read_patient_id, patients.unread_patient_id]
        deadline = time.monotonic() + minutes * 60

        def step(name: str) -> None:
            counts[name] = counts.get(name, 0) + 1

        while time.monotonic() < deadline:
            app.processEvents()
            view = window.slice_view
            volume = view.volume
            choice = random_steps.random()
            if volume is None:
                time.sleep(0.02)
                step("wait")
                continue
            if choice < 0.35:
                delta = random_steps.choice((-120, 120))
                center = QPointF(view.width() / 2, view.height() / 2)
                event = QWheelEvent(
                    center,
                    view.mapToGlobal(center),
                    QPoint(0, 0),
                    QPoint(0, delta),
                    Qt.MouseButton.NoButton,
                    Qt.KeyboardModifier.NoModifier,
                    Qt.ScrollPhase.NoScrollPhase,
                    False,
                )
                QApplication.sendEvent(view, event)
                step("scroll")
            elif choice < 0.5 and not window.document.locked:
                middle_i, middle_j = volume.columns / 2, volume.rows / 2
                span = random_steps.uniform(6, 20)
                window.document.select_lesion("")
                _drag(view, (middle_i - span, middle_j), (middle_i + span, middle_j))
                step("draw")
            elif choice < 0.62:
                window.document.undo_stack.undo()
                step("undo")
            elif choice < 0.7:
                window.document.undo_stack.redo()
                step("redo")
            elif choice < 0.8:
                visits = [t.visit for t in window.document.reading.timepoints]
                if visits:
                    window.document.set_visit(random_steps.choice(visits))
                step("visit")
            elif choice < 0.86:
                key = random_steps.choice(
                    (Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_2, Qt.Key.Key_Period)
                )
                QTest.keyClick(window.visit_combo, key)
                step("hotkey")
            elif choice < 0.92:
                window.set_layout(random_steps.choice(("1x1", "1x2", "2x2")))
                step("layout")
            elif choice < 0.96:
                window.open_patient(random_steps.choice(ids))
                step("patient")
            else:
                time.sleep(0.05)
                step("idle")
        window.close()
        app.processEvents()
        window.deleteLater()
        app.processEvents()
    closer.stop()
    shutdown_all_runners()
    return counts


def main(argv: list[str] | None = None) -> int:
    """Run the soak; print what it did; exit 0 when it quit cleanly."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args(argv)
    started = time.monotonic()
    dialogs: list[str] = []
    with tempfile.TemporaryDirectory(prefix="recist-soak-") as name:
        counts = run(args.minutes, Path(name), seed=args.seed, dialogs=dialogs)
    elapsed = time.monotonic() - started
    done = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    sys.stdout.write(
        f"soak: {elapsed / 60:.1f} min, {sum(counts.values())} steps ({done})\n"
    )
    for text, count in sorted(Counter(dialogs).items()):
        sys.stdout.write(f"soak: message box closed {count} x: {text}\n")
    sys.stdout.write("soak: quit cleanly\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
