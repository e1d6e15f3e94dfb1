"""Painting never drops references to None (issue 18's quit-time aborts).

PySide6 6.12.0's void QPainter calls each released one reference to None; on
Python 3.11 (None is not immortal before 3.12) a long session then died with
``Fatal Python error: none_dealloc`` (exit 134). pyproject.toml excludes it; this
test fails on any Qt binding that does it again. On Python >= 3.12 None is
immortal and its count does not move at all.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from recist_app.ui.viewer.slice_view import SliceView
from tests.ui.conftest import BASELINE_SERIES, disc_volume

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

PAINTS = 200


def test_painting_the_viewer_keeps_the_references_to_none(qtbot: QtBot) -> None:
    view = SliceView()
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    view.set_volume(disc_volume(BASELINE_SERIES, radius_mm=12.0))
    view.repaint()
    before = sys.getrefcount(None)
    for step in range(PAINTS):
        view.set_slice_index(step % 16)
        view.repaint()
    lost = before - sys.getrefcount(None)
    # One lost reference per QPainter call was about 40 per paint.
    assert lost < PAINTS // 4, f"{lost} references to None lost in {PAINTS} paints"
