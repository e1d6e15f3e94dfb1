"""A 2-D slice viewer: windowed slice, navigation, overlays and measurement tools.

The view paints one slice of an :class:`~recist_app.imaging.volume.ImageVolume` as
a uint8 ``QImage`` in millimetre proportions (non-square pixels look right). View
state (slice, window, zoom, pan) lives here and changes directly; measurements leave
as :class:`~recist_app.ui.viewer.measure_tool.DrawnMeasurement` through the
``measurement_drawn`` signal and come back, after the document changed, as
overlays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from recist_app.imaging import (
    WINDOW_PRESETS,
    WindowPreset,
    apply_window,
    series_window_presets,
)
from recist_app.ui.viewer.measure_tool import (
    AxisName,
    DrawnMeasurement,
    Handle,
    MeasurementOverlay,
    MeasureTool,
    PointIJ,
    Segment,
    Tool,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    from recist_app.imaging import ImageVolume

__all__ = ["PRESET_KEYS", "SliceView", "orientation_label"]

PRESET_KEYS: tuple[WindowPreset, ...] = tuple(WINDOW_PRESETS.values())
"""Window presets on the number keys 1, 2, ... in this order."""

_HANDLE_RADIUS_PX = 7.0
_ZOOM_STEP = 1.15
_SELECTED = QColor(255, 214, 10)
_MEASURED = QColor(64, 224, 160)
_HINT = QColor(255, 140, 60)
_PREVIEW = QColor(90, 200, 255)
_VIABLE = QColor(255, 80, 200)  # mRECIST viable (arterially enhancing) long axis
_TEXT = QColor(235, 235, 235)


def orientation_label(vector: npt.NDArray[np.float64]) -> str:
    """Patient direction letters (LPS) of a unit vector, strongest first.

    >>> import numpy as np
    >>> orientation_label(np.array([1.0, 0.0, 0.0]))
    'L'
    >>> orientation_label(np.array([0.0, -0.8, 0.6]))
    'AS'
    """
    letters = (("R", "L"), ("A", "P"), ("I", "S"))
    order = np.argsort(-np.abs(vector))
    text = ""
    for axis in order:
        if abs(float(vector[axis])) > 0.25:
            text += letters[axis][1 if vector[axis] > 0 else 0]
    return text


@dataclass(slots=True)
class _ViewState:
    slice_index: int = 0
    center: float = 40.0
    width: float = 400.0
    scale: float = 1.0  # widget pixels per mm
    offset_x: float = 0.0
    offset_y: float = 0.0


class SliceView(QWidget):
    """Shows one slice with text overlays, measurements and the drawing tools.

    Signals
    -------
    slice_changed(int)
        The slice index changed.
    window_changed(float, float)
        Window centre and width (modality units) changed.
    measurement_drawn(DrawnMeasurement)
        A drawing or a handle edit finished (mouse release).
    """

    slice_changed = Signal(int)
    window_changed = Signal(float, float)
    measurement_drawn = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setMinimumSize(200, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._volume: ImageVolume | None = None
        self._title_lines: tuple[str, ...] = ()
        self._state = _ViewState()
        self._overlays: tuple[MeasurementOverlay, ...] = ()
        self._tool = MeasureTool()
        self._image: QImage | None = None
        self._image_key: tuple[int, float, float] | None = None
        self._drag_button = Qt.MouseButton.NoButton
        self._drag_last = QPointF()
        self._fitted = False
        self._loading_text = ""

    # ---------------------------------------------------------------- content
    @property
    def volume(self) -> ImageVolume | None:
        """The volume shown (``None`` before one is set)."""
        return self._volume

    def set_volume(
        self, volume: ImageVolume | None, *, title_lines: Sequence[str] = ()
    ) -> None:
        """Show ``volume`` at its middle slice with its own (or soft-tissue) window."""
        self._volume = volume
        self._title_lines = tuple(title_lines)
        self._tool.cancel()
        self._image_key = None
        if volume is not None:
            self._tool.row_spacing_mm = volume.row_spacing_mm
            self._tool.column_spacing_mm = volume.column_spacing_mm
            own = series_window_presets(volume)
            preset = own[0] if own else WINDOW_PRESETS["soft tissue"]
            self._state.center, self._state.width = preset.center, preset.width
            self._state.slice_index = volume.slice_count // 2
            self.fit()
            self.slice_changed.emit(self._state.slice_index)
            self.window_changed.emit(self._state.center, self._state.width)
        self.update()

    def replace_volume(self, volume: ImageVolume) -> None:
        """Swap in ``volume`` (same geometry) keeping slice, window, zoom and pan.

        Background loading shows a volume while it fills in, then hands over the
        finished one; the reader's view must not jump when it arrives.
        """
        self._volume = volume
        self.refresh_pixels()

    def refresh_pixels(self) -> None:
        """Repaint from the voxels (more slices of a loading volume were read)."""
        self._image_key = None
        self.update()

    @property
    def loading_text(self) -> str:
        """The loading note painted at the bottom centre (``""`` when loaded)."""
        return self._loading_text

    def set_loading_text(self, text: str) -> None:
        """Show ``text`` (e.g. ``"Loading 40 %"``) at the bottom centre."""
        if text != self._loading_text:
            self._loading_text = text
            self.update()

    def set_overlays(self, overlays: Sequence[MeasurementOverlay]) -> None:
        """Replace the measurements drawn on the slices."""
        self._overlays = tuple(overlays)
        self.update()

    @property
    def overlays(self) -> tuple[MeasurementOverlay, ...]:
        """The measurements currently drawn."""
        return self._overlays

    # ---------------------------------------------------------------- tools
    @property
    def tool(self) -> Tool:
        """What a left drag does."""
        return self._tool.tool

    def set_tool(self, tool: Tool) -> None:
        """Choose the left-drag tool; cancels a drawing in progress."""
        self._tool.cancel()
        self._tool.tool = tool
        cursor = (
            Qt.CursorShape.OpenHandCursor
            if tool is Tool.NAVIGATE
            else (Qt.CursorShape.CrossCursor)
        )
        self.setCursor(cursor)
        self.update()

    # ---------------------------------------------------------------- slices
    @property
    def slice_index(self) -> int:
        """Index ``k`` of the slice shown."""
        return self._state.slice_index

    def set_slice_index(self, index: int) -> None:
        """Show slice ``index`` (clamped to the volume)."""
        if self._volume is None:
            return
        index = max(0, min(self._volume.slice_count - 1, index))
        if index == self._state.slice_index:
            return
        self._state.slice_index = index
        self.slice_changed.emit(index)
        self.update()

    def step_slices(self, steps: int) -> None:
        """Move ``steps`` slices (negative goes back)."""
        self.set_slice_index(self._state.slice_index + steps)

    def slice_position_mm(self) -> float | None:
        """Position of the shown slice along the slice normal, in mm."""
        if self._volume is None:
            return None
        origin = self._volume.slice_origins_lps_mm[self._state.slice_index]
        return float(np.dot(origin, self._volume.slice_normal))

    def slice_text(self) -> str:
        """``Slice k / n`` as shown in the top-right corner."""
        if self._volume is None:
            return ""
        return f"Slice {self._state.slice_index + 1} / {self._volume.slice_count}"

    # ---------------------------------------------------------------- window
    @property
    def window_level(self) -> tuple[float, float]:
        """Window ``(centre, width)`` in modality units."""
        return (self._state.center, self._state.width)

    def set_window(self, center: float, width: float) -> None:
        """Set window centre and width (width at least 1)."""
        width = max(1.0, width)
        if (center, width) == self.window_level:
            return
        self._state.center, self._state.width = center, width
        self.window_changed.emit(center, width)
        self.update()

    def apply_preset(self, number: int) -> None:
        """Apply window preset ``number`` (1-based, as on the keyboard)."""
        if 1 <= number <= len(PRESET_KEYS):
            preset = PRESET_KEYS[number - 1]
            self.set_window(preset.center, preset.width)

    def window_text(self) -> str:
        """``W 400 L 40`` as shown in the bottom-left corner."""
        return f"W {self._state.width:.0f}  L {self._state.center:.0f}"

    # ---------------------------------------------------------------- zoom/pan
    def _image_size_mm(self) -> tuple[float, float]:
        volume = self._volume
        if volume is None:
            return (1.0, 1.0)
        return (
            volume.columns * volume.column_spacing_mm,
            volume.rows * volume.row_spacing_mm,
        )

    def fit(self) -> None:
        """Fit the whole slice into the view, centred."""
        width_mm, height_mm = self._image_size_mm()
        scale = min(self.width() / width_mm, self.height() / height_mm)
        state = self._state
        state.scale = max(scale, 1e-3)
        state.offset_x = (self.width() - width_mm * state.scale) / 2
        state.offset_y = (self.height() - height_mm * state.scale) / 2
        self._fitted = True
        self.update()

    @property
    def zoom(self) -> float:
        """Widget pixels per millimetre."""
        return self._state.scale

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by ``factor`` keeping the point under ``anchor`` fixed."""
        state = self._state
        anchor = (
            anchor
            if anchor is not None
            else QPointF(self.width() / 2, self.height() / 2)
        )
        new_scale = min(200.0, max(0.02, state.scale * factor))
        ratio = new_scale / state.scale
        state.offset_x = anchor.x() - (anchor.x() - state.offset_x) * ratio
        state.offset_y = anchor.y() - (anchor.y() - state.offset_y) * ratio
        state.scale = new_scale
        self._fitted = False
        self.update()

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the image by ``(dx, dy)`` widget pixels."""
        self._state.offset_x += dx
        self._state.offset_y += dy
        self._fitted = False
        self.update()

    # ---------------------------------------------------------------- mapping
    def _transform(self) -> QTransform:
        state = self._state
        return QTransform(
            state.scale, 0, 0, state.scale, state.offset_x, state.offset_y
        )

    def image_to_widget(self, point: PointIJ) -> QPointF:
        """Widget position of pixel-centre coordinates ``(i, j)``."""
        volume = self._volume
        column_mm = volume.column_spacing_mm if volume is not None else 1.0
        row_mm = volume.row_spacing_mm if volume is not None else 1.0
        state = self._state
        return QPointF(
            state.offset_x + (point[0] + 0.5) * column_mm * state.scale,
            state.offset_y + (point[1] + 0.5) * row_mm * state.scale,
        )

    def widget_to_image(self, point: QPointF) -> PointIJ:
        """Pixel-centre coordinates ``(i, j)`` under a widget position."""
        volume = self._volume
        column_mm = volume.column_spacing_mm if volume is not None else 1.0
        row_mm = volume.row_spacing_mm if volume is not None else 1.0
        state = self._state
        return (
            (point.x() - state.offset_x) / (state.scale * column_mm) - 0.5,
            (point.y() - state.offset_y) / (state.scale * row_mm) - 0.5,
        )

    # ---------------------------------------------------------------- events
    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep a fitted image fitted."""
        if self._fitted:
            self.fit()
        super().resizeEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Scroll slices; zoom with Ctrl."""
        steps = event.angleDelta().y() / 120
        if steps == 0:
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_by(_ZOOM_STEP**steps, event.position())
        else:
            # Wheel towards the user (negative) goes to the next slice, as in PACS.
            self.step_slices(
                -round(steps) if abs(steps) >= 1 else (-1 if steps > 0 else 1)
            )
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Slices, presets, fit and cancel from the keyboard."""
        key = Qt.Key(event.key())
        steps = {
            Qt.Key.Key_Up: -1,
            Qt.Key.Key_Left: -1,
            Qt.Key.Key_Down: 1,
            Qt.Key.Key_Right: 1,
            Qt.Key.Key_PageUp: -10,
            Qt.Key.Key_PageDown: 10,
        }
        if key in steps:
            self.step_slices(steps[key])
        elif key == Qt.Key.Key_Home:
            self.set_slice_index(0)
        elif key == Qt.Key.Key_End and self._volume is not None:
            self.set_slice_index(self._volume.slice_count - 1)
        elif Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
            self.apply_preset(key - Qt.Key.Key_0)
        elif key == Qt.Key.Key_F:
            self.fit()
        elif key == Qt.Key.Key_Escape and self._tool.busy:
            self._tool.cancel()
            self.update()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def _hit_handle(
        self, position: QPointF
    ) -> tuple[Handle, MeasurementOverlay] | None:
        best: tuple[float, Handle, MeasurementOverlay] | None = None
        for overlay in self._overlays:
            if overlay.hint or overlay.slice_index != self._state.slice_index:
                continue
            for axis, segment in (
                (AxisName.LONG, overlay.long_axis_ij),
                (AxisName.SHORT, overlay.short_axis_ij),
                (AxisName.VIABLE, overlay.viable_axis_ij),
            ):
                if segment is None:
                    continue
                for end, point in enumerate(segment):
                    where = self.image_to_widget(point)
                    distance = math.hypot(
                        where.x() - position.x(), where.y() - position.y()
                    )
                    if distance <= _HANDLE_RADIUS_PX and (
                        best is None or distance < best[0]
                    ):
                        handle = Handle(lesion_id=overlay.lesion_id, axis=axis, end=end)
                        best = (distance, handle, overlay)
        return None if best is None else (best[1], best[2])

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Start a drawing, a handle edit, a pan or a window drag."""
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        button = event.button()
        position = event.position()
        self._drag_last = position
        if self._volume is None:
            return
        if button == Qt.MouseButton.LeftButton and not (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            hit = (
                self._hit_handle(position)
                if self._tool.tool is not Tool.NAVIGATE
                else None
            )
            handle, overlay = hit if hit is not None else (None, None)
            if self._tool.press(
                self.widget_to_image(position),
                self._state.slice_index,
                handle=handle,
                overlay=overlay,
            ):
                self._drag_button = button
                self.update()
                return
        if button in (
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.RightButton,
        ):
            self._drag_button = button
            event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Follow the drag."""
        position = event.position()
        dx = position.x() - self._drag_last.x()
        dy = position.y() - self._drag_last.y()
        self._drag_last = position
        button = self._drag_button
        if button == Qt.MouseButton.NoButton:
            return
        if self._tool.busy and button == Qt.MouseButton.LeftButton:
            self._tool.move(self.widget_to_image(position))
        elif button == Qt.MouseButton.RightButton:
            # Horizontal drag widens the window, vertical drag raises the level.
            sensitivity = max(self._state.width, 10.0) / 256
            self.set_window(
                self._state.center + dy * sensitivity,
                self._state.width + dx * sensitivity,
            )
        else:
            self.pan_by(dx, dy)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """Finish the gesture; a measurement leaves as a signal."""
        button = self._drag_button
        self._drag_button = Qt.MouseButton.NoButton
        if button != Qt.MouseButton.LeftButton or event.button() != button:
            return
        drawn = self._tool.release(
            self.widget_to_image(event.position()), self._state.slice_index
        )
        self.update()
        if isinstance(drawn, DrawnMeasurement):
            self.measurement_drawn.emit(drawn)

    # ---------------------------------------------------------------- painting
    def _slice_image(self) -> QImage | None:
        volume = self._volume
        if volume is None:
            return None
        key = (self._state.slice_index, self._state.center, self._state.width)
        if self._image is None or self._image_key != key:
            pixels = apply_window(
                volume.voxels[self._state.slice_index],
                self._state.center,
                self._state.width,
                rescale_slope=volume.rescale_slope,
                rescale_intercept=volume.rescale_intercept,
            )
            pixels = np.ascontiguousarray(pixels)
            height, width = pixels.shape
            # copy(): the QImage must own its bytes once ``pixels`` is gone.
            self._image = QImage(
                pixels.data, width, height, width, QImage.Format.Format_Grayscale8
            ).copy()
            self._image_key = key
        return self._image

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint slice, overlays, preview and text."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0))
        image = self._slice_image()
        if image is None:
            painter.setPen(_TEXT)
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                self._loading_text or "No image loaded",
            )
            painter.end()
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom < 2)
        painter.save()
        painter.setTransform(self._transform())
        width_mm, height_mm = self._image_size_mm()
        painter.drawImage(QRectF(0, 0, width_mm, height_mm), image)
        painter.restore()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for overlay in self._overlays:
            if overlay.slice_index == self._state.slice_index:
                self._paint_overlay(painter, overlay)
        self._paint_preview(painter)
        self._paint_text(painter)
        painter.end()

    def _paint_segment(
        self,
        painter: QPainter,
        segment: Segment,
        color: QColor,
        *,
        dashed: bool,
        handles: bool,
    ) -> None:
        pen = QPen(color, 1.6)
        if dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        start, end = (self.image_to_widget(p) for p in segment)
        painter.drawLine(start, end)
        if handles:
            for point in (start, end):
                painter.drawEllipse(point, 3.5, 3.5)

    def _paint_label(
        self, painter: QPainter, anchor: QPointF, text: str, color: QColor
    ) -> None:
        painter.setFont(QFont(self.font().family(), 10, QFont.Weight.Bold))
        metrics = painter.fontMetrics()
        box = QRectF(metrics.boundingRect(text)).adjusted(-3, -1, 3, 1)
        box.moveTopLeft(QPointF(anchor.x() + 8, anchor.y() - box.height() / 2))
        box.moveRight(min(box.right(), self.width() - 2))
        painter.fillRect(box, QColor(0, 0, 0, 150))
        painter.setPen(color)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_overlay(self, painter: QPainter, overlay: MeasurementOverlay) -> None:
        color = _HINT if overlay.hint else _SELECTED if overlay.selected else _MEASURED
        if overlay.viable_axis_ij is not None:
            color = _VIABLE
        if overlay.color is not None:
            color = QColor(overlay.color)
        anchor: QPointF | None = None
        for segment in (
            overlay.long_axis_ij,
            overlay.short_axis_ij,
            overlay.viable_axis_ij,
        ):
            if segment is None:
                continue
            self._paint_segment(
                painter, segment, color, dashed=overlay.hint, handles=not overlay.hint
            )
            ends = [self.image_to_widget(p) for p in segment]
            right = max(ends, key=lambda p: p.x())
            if anchor is None:
                anchor = right
        if anchor is not None:
            self._paint_label(painter, anchor, overlay.label, color)

    def _paint_preview(self, painter: QPainter) -> None:
        long_axis, short_axis = self._tool.preview(self._state.slice_index)
        viable = self._tool.drawing_viable
        color = _VIABLE if viable else _PREVIEW
        parts: list[str] = []
        anchor: QPointF | None = None
        for segment in (long_axis, short_axis):
            if segment is None:
                continue
            self._paint_segment(painter, segment, color, dashed=False, handles=True)
            parts.append(f"{self._tool.length_mm(segment):.1f}")
            if anchor is None:
                anchor = max(
                    (self.image_to_widget(p) for p in segment), key=lambda p: p.x()
                )
        if anchor is not None:
            text = ("viable " if viable else "") + " × ".join(parts) + " mm"
            self._paint_label(painter, anchor, text, color)

    def _paint_text(self, painter: QPainter) -> None:
        volume = self._volume
        if volume is None:
            return
        painter.setFont(QFont(self.font().family(), 9))
        painter.setPen(_TEXT)
        margin = 8
        area = self.rect().adjusted(margin, margin, -margin, -margin)
        painter.drawText(
            area,
            Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft,
            "\n".join(self._title_lines),
        )
        position = self.slice_position_mm()
        top_right = [self.slice_text()]
        if position is not None:
            top_right.append(f"Pos {position:.1f} mm")
        if volume.slice_thickness_mm is not None:
            top_right.append(f"Thk {volume.slice_thickness_mm:.1f} mm")
        painter.drawText(
            area,
            Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight,
            "\n".join(top_right),
        )
        painter.drawText(
            area,
            Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft,
            f"{self.window_text()}\nZoom {self.zoom * volume.column_spacing_mm:.2f}×",
        )
        if self._loading_text:
            painter.drawText(
                area.adjusted(0, 0, 0, -22),  # above the orientation letter
                Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter,
                self._loading_text,
            )
        self._paint_orientation(painter)
        self._paint_scale_bar(painter)

    def _paint_orientation(self, painter: QPainter) -> None:
        volume = self._volume
        if volume is None:
            return
        painter.setFont(QFont(self.font().family(), 11, QFont.Weight.Bold))
        painter.setPen(QColor(255, 220, 120))
        right = orientation_label(volume.direction[:, 0])
        down = orientation_label(volume.direction[:, 1])
        left = orientation_label(-volume.direction[:, 0])
        up = orientation_label(-volume.direction[:, 1])
        area = self.rect().adjusted(6, 6, -6, -6)
        painter.drawText(
            area, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, left
        )
        painter.drawText(
            area, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, right
        )
        painter.drawText(
            area, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter, up
        )
        painter.drawText(
            area, Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter, down
        )

    def _paint_scale_bar(self, painter: QPainter) -> None:
        target_px = self.width() / 6
        length_mm = 1.0
        for candidate in (1, 2, 5, 10, 20, 50, 100, 200, 500):
            if candidate * self.zoom <= target_px:
                length_mm = float(candidate)
        length_px = length_mm * self.zoom
        x_end = self.width() - 14.0
        y = self.height() - 34.0
        pen = QPen(_TEXT, 2)
        painter.setPen(pen)
        painter.drawLine(QPointF(x_end - length_px, y), QPointF(x_end, y))
        for x in (x_end - length_px, x_end):
            painter.drawLine(QPointF(x, y - 4), QPointF(x, y + 4))
        painter.setFont(QFont(self.font().family(), 9))
        painter.drawText(
            QRectF(x_end - length_px - 40, y + 4, length_px + 40, 18),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
            f"{length_mm:.0f} mm",
        )
