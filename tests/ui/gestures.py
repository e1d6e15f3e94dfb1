"""Mouse gestures on a :class:`SliceView`, shared by the widget tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

if TYPE_CHECKING:
    from recist_app.ui.viewer.slice_view import SliceView

CENTER = 32.0
NO_MODIFIER = Qt.KeyboardModifier.NoModifier


def widget_point(view: SliceView, i: float, j: float) -> QPoint:
    return view.image_to_widget((i, j)).toPoint()


def drag(view: SliceView, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Left drag from image point ``start`` to ``end`` (column i, row j)."""
    first, last = widget_point(view, *start), widget_point(view, *end)
    middle = (first + last) / 2
    QTest.mousePress(view, Qt.MouseButton.LeftButton, NO_MODIFIER, first)
    QTest.mouseMove(view, middle)
    QTest.mouseMove(view, last)
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, NO_MODIFIER, last)


def draw_bidirectional(view: SliceView, radius_mm: float) -> None:
    """Long axis across the disc horizontally, a shorter vertical short axis."""
    half_i = radius_mm / 0.75
    half_j = 0.75 * radius_mm / 1.0
    drag(view, (CENTER - half_i, CENTER), (CENTER + half_i, CENTER))
    drag(view, (CENTER, CENTER - half_j), (CENTER, CENTER + half_j))
