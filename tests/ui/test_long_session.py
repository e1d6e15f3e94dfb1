"""A long session quits cleanly (issue 18: aborts on quit after long use)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
