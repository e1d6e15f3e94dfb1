"""The composition root: store opened, reading reopened, autosave wired."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication, QMessageBox, QTableWidget

from recist_app.recist import Reading
from recist_app.store import open_store
from recist_app.ui import launcher
from recist_app.ui import workstation as app_module
from recist_app.ui.launcher import StartWindow
from recist_app.ui.main_window import MainWindow
from recist_app.workflows.demo import DEMO_PATIENTS, set_up_demo_patients

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from pytestqt.qtbot import QtBot


def test_workstation_reopens_the_stored_reading_and_autosaves(
    qapp: QApplication, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = Reading(patient_id="NEW-PATIENT")
    with open_store(database_url) as store:
        store.readings.save(stored, user="dr-earlier")
    windows: list[MainWindow] = []

    def spy(*args: object, **kwargs: object) -> MainWindow:
        window = MainWindow(*args, **kwargs)  # type: ignore[arg-type]
        windows.append(window)
        return window

    monkeypatch.setattr(app_module, "MainWindow", spy)
    monkeypatch.setattr(QApplication, "exec", lambda *_args: 0)
    assert launcher.run_workstation(demo=False, database_url=database_url) == 0
    # the start window (issue 23) gave way to the workstation's
    assert not [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, StartWindow) and w.isVisible()
    ]
    (window,) = windows
    assert window.session is not None
    assert window.session.record is not None  # reopened from the database
    assert window.document.reading == stored
    window.hide()  # not close(): that would write the user's QSettings
    window.deleteLater()


def test_unusable_database_is_one_clear_line(
    qapp: QApplication, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "critical", lambda _parent, _title, text: shown.append(text)
    )
    status = launcher.run_workstation(demo=False, database_url="nosuch://x")
    assert status == 2
    assert len(shown) == 1
    assert shown[0].startswith("Cannot open the reading database: ")
    assert "\n" not in shown[0]


def test_demo_opens_on_the_read_patient_with_the_unread_one_listed(
    qapp: QApplication,
    qtbot: QtBot,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # issue 10: `--demo` sets up two patients and opens on the one already read
    small = functools.partial(
        set_up_demo_patients,
        matrix=96,
        pixel_size_mm=4.2,
        noise_hu=0.0,
        slice_count=30,
        slice_spacing_mm=10.0,
    )
    monkeypatch.setattr(app_module, "set_up_demo_patients", small)
    monkeypatch.setattr(app_module, "demo_folder", lambda: tmp_path / "demo")
    windows: list[MainWindow] = []

    def spy(*args: object, **kwargs: object) -> MainWindow:
        window = MainWindow(*args, **kwargs)  # type: ignore[arg-type]
        windows.append(window)
        return window

    monkeypatch.setattr(app_module, "MainWindow", spy)
    shown_at_once: list[bool] = []
    clinical: list[str] = []

    def run_until_the_demo_is_open(*_args: object) -> int:
        # The window shows at once; the demo is prepared behind it (issue 18).
        shown_at_once.append(windows[0].isVisible())
        qtbot.waitUntil(
            lambda: (
                windows[0].document.reading.patient_id == DEMO_PATIENTS[0].patient_id
            ),
            timeout=120_000,
        )
        session = windows[0].session
        assert session is not None
        clinical.extend(r.patient_id for r in session.store.clinical.records())
        return 0

    monkeypatch.setattr(QApplication, "exec", run_until_the_demo_is_open)

    assert launcher.run_workstation(demo=True, database_url=database_url) == 0

    assert shown_at_once == [True]
    # Trial → Endpoints has clinical rows to show for the demo patients.
    assert clinical == [spec.patient_id for spec in DEMO_PATIENTS]
    (window,) = windows
    reading = window.document.reading
    assert reading.patient_id == DEMO_PATIENTS[0].patient_id
    assert [lesion.lesion_id for lesion in reading.lesions] == [
        "T01",
        "T02",
        "T03",
        "NT01",
        "N01",
    ]
    assert window.patients_dock is not None
    assert window.patients_dock.browser.patient_ids() == [
        spec.patient_id for spec in DEMO_PATIENTS
    ]
    # the series load in the background; then the last visit's lines are drawn
    loader = window.volume_loader
    assert loader is not None
    qtbot.waitUntil(lambda: not loader.pending, timeout=20_000)
    window.document.set_visit("WEEK 24")
    assert {o.lesion_id for o in window.slice_view.overlays} >= {"T01"}
    panel = window.response_panel
    overall = panel.table.item(_row(panel.table, "Overall"), 0)
    assert overall is not None
    assert overall.text() == "PD"
    window.hide()
    window.deleteLater()


def _row(table: QTableWidget, label: str) -> int:
    for row in range(table.rowCount()):
        header = table.verticalHeaderItem(row)
        if header is not None and header.text() == label:
            return row
    raise AssertionError(f"no row {label!r}")


FIRST_PAINT = r"""
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

app = QApplication(sys.argv[:1])
seen = []


class Spy(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and isinstance(obj, QWidget):
            window = obj.window()
            kind = type(window).__name__
            if isinstance(window, QMainWindow) and kind not in seen:
                seen.append(kind)
                heavy = [m for m in HEAVY if m in sys.modules]
                print(kind, ",".join(heavy), flush=True)
                if kind == "MainWindow":
                    QTimer.singleShot(0, app.quit)
        return False


HEAVY = ["recist_app.ui.main_window", "numpy", "sqlalchemy", "pydicom"]
spy = Spy()
app.installEventFilter(spy)
from recist_app.cli.main import main

sys.exit(main(["--database", sys.argv[1]]))
"""


def test_a_window_is_painted_before_the_workstation_is_imported(
    tmp_path: Path,
) -> None:
    # issue 23: `recist-app` shows a window at once; the heavy imports and the
    # database come behind it, and the workstation's window then takes its place
    import os
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'readings.db'}"
    done = subprocess.run(
        [sys.executable, "-c", FIRST_PAINT, url],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path)),
        check=False,
    )
    lines = [line.split(" ") for line in done.stdout.splitlines()]
    assert [line[0] for line in lines] == ["StartWindow", "MainWindow"], done.stderr
    assert lines[0][1:] == [""]  # nothing heavy when the first window painted
    assert "recist_app.ui.main_window" in lines[1][1]
