"""Overlay text that stays legible on any image: light text with a dark shadow.

A one-pixel shadow below-right and above-left (two extra draws, not eight: the
text is painted on every scroll step) keeps light text readable on white bone
and on black air alike.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter

__all__ = ["draw_outlined_text"]

_OUTLINE = QColor(0, 0, 0, 220)
_TEXT = QColor(235, 235, 235)
_OFFSETS = ((1, 1), (-1, -1))


def draw_outlined_text(
    painter: QPainter,
    area: QRectF,
    alignment: Qt.AlignmentFlag,
    text: str,
    color: QColor | None = None,
) -> None:
    """Draw ``text`` in ``area`` over a one-pixel dark shadow on two sides."""
    painter.save()
    painter.setPen(_OUTLINE)
    for dx, dy in _OFFSETS:
        painter.drawText(area.translated(QPointF(dx, dy)), alignment, text)
    painter.setPen(color if color is not None else _TEXT)
    painter.drawText(area, alignment, text)
    painter.restore()
