"""A long session quits cleanly (issue 18: aborts on quit after long use)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_long_session_of_scrolling_drawing_and_switching_quits_with_exit_0() -> None:
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONFAULTHANDLER="1")
    result = subprocess.run(
        [sys.executable, "-m", "tests.ui.soak", "--minutes", "0.5"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Fatal Python error" not in result.stderr
    assert "soak: quit cleanly" in result.stdout
    summary = result.stdout.splitlines()[0]
    for step in ("scroll", "draw", "undo", "visit", "patient"):
        assert f"{step} " in summary


def test_the_soak_answers_a_message_box_and_goes_on(qtbot: QtBot) -> None:
    """A warning the app shows mid-session is read and closed, not left waiting.

    A modal box left open held a 30-minute soak until it was killed; the driver
    answers it OK, as a reader would, and reports its text.
    """
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    from tests.ui.soak import close_modal_dialog

    seen: list[str] = []
    closer = QTimer()
    closer.setInterval(50)
    closer.timeout.connect(lambda: close_modal_dialog(seen))
    closer.start()
    # should the driver not answer, fail after 3 s rather than wait for ever
    QTimer.singleShot(3000, _reject_open_dialog)
    answer = QMessageBox.warning(None, "Measurement not recorded", "line too short")
    closer.stop()
    assert answer == QMessageBox.StandardButton.Ok
    assert seen == ["Measurement not recorded: line too short"]


def _reject_open_dialog() -> None:
    from PySide6.QtWidgets import QApplication, QDialog

    widget = QApplication.activeModalWidget()
    if isinstance(widget, QDialog):
        widget.reject()
