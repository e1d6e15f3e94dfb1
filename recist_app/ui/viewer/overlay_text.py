"""Overlay text that stays legible on any image: light text with a dark shadow.

A one-pixel shadow below-right and above-left (two extra draws, not eight: the
text is painted on every scroll step) keeps light text readable on white bone
and on black air alike. Each text is laid out once (:class:`QStaticText`,
cached by text, font and alignment) and then only drawn: laying text out again
on every scroll step was most of the overlay's cost (issue 18's ``bench_view``).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QStaticText, QTextOption, QTransform

__all__ = ["draw_outlined_text", "draw_text"]

_OUTLINE = QColor(0, 0, 0, 220)
_TEXT = QColor(235, 235, 235)
_OFFSETS = ((1, 1), (-1, -1))
_CACHE_SIZE = 256
_laid_out: dict[tuple[str, str, int, float], QStaticText] = {}


def _static_text(
    painter: QPainter, text: str, alignment: Qt.AlignmentFlag, width: float
) -> QStaticText:
    """``text`` laid out once for the painter's font, lines aligned in ``width``."""
    font = painter.font()
    key = (text, font.key(), int(alignment.value), width)
    found = _laid_out.get(key)
    if found is None:
        if len(_laid_out) >= _CACHE_SIZE:
            _laid_out.clear()
        found = QStaticText(text.replace("\n", "\u2028"))  # lines, as drawText
        found.setTextFormat(Qt.TextFormat.PlainText)
        found.setTextWidth(width)
        option = QTextOption()
        option.setAlignment(alignment & Qt.AlignmentFlag.AlignHorizontal_Mask)
        option.setWrapMode(QTextOption.WrapMode.NoWrap)
        found.setTextOption(option)
        found.prepare(QTransform(), font)
        _laid_out[key] = found
    return found


def _origin(
    laid_out: QStaticText, area: QRectF, alignment: Qt.AlignmentFlag
) -> QPointF:
    """Top-left corner of ``laid_out`` placed in ``area`` by ``alignment``."""
    if alignment & Qt.AlignmentFlag.AlignBottom:
        top = area.bottom() - laid_out.size().height()
    elif alignment & Qt.AlignmentFlag.AlignVCenter:
        top = area.center().y() - laid_out.size().height() / 2
    else:
        top = area.top()
    return QPointF(area.left(), top)


def draw_outlined_text(
    painter: QPainter,
    area: QRectF,
    alignment: Qt.AlignmentFlag,
    text: str,
    color: QColor | None = None,
) -> None:
    """Draw ``text`` in ``area`` over a one-pixel dark shadow on two sides."""
    laid_out = _static_text(painter, text, alignment, area.width())
    origin = _origin(laid_out, area, alignment)
    pen = painter.pen()  # kept by hand: save()/restore() copy the whole state
    painter.setPen(_OUTLINE)
    for dx, dy in _OFFSETS:
        painter.drawStaticText(origin + QPointF(dx, dy), laid_out)
    painter.setPen(color if color is not None else _TEXT)
    painter.drawStaticText(origin, laid_out)
    painter.setPen(pen)


def draw_text(
    painter: QPainter, area: QRectF, alignment: Qt.AlignmentFlag, text: str
) -> None:
    """Draw ``text`` in ``area`` with the painter's pen, laid out once."""
    laid_out = _static_text(painter, text, alignment, area.width())
    painter.drawStaticText(_origin(laid_out, area, alignment), laid_out)
