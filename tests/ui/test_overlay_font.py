"""The viewer's overlay text follows the widget's font (fonts are cached per paint)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest
from PySide6.QtGui import QFont, QFontDatabase, QImage

from recist_app.ui.viewer.slice_view import SliceView
from tests.ui.conftest import BASELINE_SERIES, disc_volume

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot


def _pixels(view: SliceView) -> np.ndarray:
    image = view.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    bits = np.frombuffer(image.constBits(), np.uint32)
    return bits.reshape(image.height(), image.bytesPerLine() // 4).copy()


def test_changing_the_widget_font_changes_the_overlay_text(qtbot: QtBot) -> None:
    families = set(QFontDatabase.families())
    if not {"DejaVu Sans", "DejaVu Serif"} <= families:
        pytest.skip("needs the DejaVu Sans and Serif fonts (Debian fonts-dejavu)")
    view = SliceView()
    qtbot.addWidget(view)
    view.setFont(QFont("DejaVu Sans"))
    view.resize(400, 400)
    view.set_volume(disc_volume(BASELINE_SERIES, radius_mm=12.0), title_lines=("ABC",))
    view.show()
    qtbot.waitExposed(view)
    sans = _pixels(view)
    view.setFont(QFont("DejaVu Serif"))
    serif = _pixels(view)
    text_corner = (slice(0, 40), slice(0, 120))  # the title, top left
    assert not np.array_equal(sans[text_corner], serif[text_corner])
    view.setFont(QFont("DejaVu Sans"))
    assert np.array_equal(_pixels(view), sans)  # and back, as first painted
