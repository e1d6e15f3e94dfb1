"""Test-suite wide configuration.

Qt must run headless in CI, so the platform is set before anything imports Qt.
Tests under ``tests/ui`` are marked ``gui`` so ``pytest -m "not gui"`` is a fast loop.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_UI_DIR = Path(__file__).parent / "ui"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _UI_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.gui)
