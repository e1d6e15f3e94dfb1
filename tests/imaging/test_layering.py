"""The imaging layer imports no Qt and no other recist_app layer."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = (
    "PySide6",
    "recist_app.recist",
    "recist_app.store",
    "recist_app.ui",
    "recist_app.exchange",
    "recist_app.endpoints",
)


def test_importing_imaging_pulls_in_no_forbidden_module() -> None:
    code = (
        "import sys, recist_app.imaging, recist_app.imaging.phantom;"
        f"bad = [m for m in sys.modules if m.startswith({FORBIDDEN!r})];"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert result.stdout.strip() == ""
