"""A 2-D slice viewer: windowed slice, navigation, overlays and measurement tools.

The view paints one slice of an :class:`~recist_app.imaging.volume.ImageVolume` as
a uint8 ``QImage`` in millimetre proportions (non-square pixels look right). View
state (slice, window, zoom, pan) lives here and changes directly; measurements leave
as :class:`~recist_app.ui.viewer.measure_tool.DrawnMeasurement` through the
``measurement_drawn`` signal and come back, after the document changed, as
overlays.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
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
    window_table_parts,
)
from recist_app.ui.viewer.measure_tool import (
    AxisName,
    DrawnMeasurement,
    Handle,
    MeasurementOverlay,
    MeasureTool,
    PointIJ,
    PositionMarker,
    Segment,
    Tool,
)
from recist_app.ui.viewer.overlay_text import draw_outlined_text, draw_text

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
_OUTLINE = QColor(90, 200, 255)  # click-to-measure's segmentation outline
_PREDICTED = QColor(255, 170, 60)  # a lesion's predicted position at a follow-up
_TEXT = QColor(235, 235, 235)
_LETTERS = QColor(255, 220, 120)  # the orientation letters at the edges
# Overlay text alignments, combined once (enum arithmetic costs on every paint).
_TOP_LEFT = Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft
_TOP_RIGHT = Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight
_TOP_CENTER = Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter
_BOTTOM_LEFT = Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft
_BOTTOM_CENTER = Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter
_LEFT_MIDDLE = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_RIGHT_MIDDLE = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


@functools.lru_cache(maxsize=64)
def _rgb32_table(
    dtype: str, center: float, width: float, slope: float, intercept: float
) -> tuple[int, npt.NDArray[np.uint32]]:
    """The window's lookup table as opaque grey RGB32 pixels, and its origin.

    Entry 0 is black, the last entry white, and entry ``k`` between them is the
    window at stored value ``origin + k``. Looked up with ``stored - origin``
    clipped to the table (:meth:`SliceView._slice_image`), every stored value
    below the window lands on black and every one above it on white, so the
    table holds the window's own entries only: about 400 for a 400 HU window
    (1.6 kB), not all 65,536 of an int16 (256 kB). Every window/level drag step
    builds a new table; a full one cost a quarter of a millisecond in the step,
    most of it page faults on fresh memory and the caches it evicted (issue 18).
    """
    first, last, grey = window_table_parts(
        dtype, center, width, rescale_slope=slope, rescale_intercept=intercept
    )
    table = np.empty(last - first + 2, dtype=np.uint32)
    table[0] = 0xFF000000
    inside = table[1:-1]
    np.multiply(grey, _GREY_TO_RGB, out=inside, dtype=np.uint32)
    np.bitwise_or(inside, _OPAQUE, out=inside)
    table[-1] = 0xFFFFFFFF
    table.setflags(write=False)
    return int(np.iinfo(np.dtype(dtype)).min) + first - 1, table


_GREY_TO_RGB = np.uint32(0x010101)
_OPAQUE = np.uint32(0xFF000000)


@functools.lru_cache(maxsize=16)
def _edge_labels(direction: bytes) -> tuple[str, str, str, str]:
    """Left, right, top and bottom letters of an image (computed once per plane).

    ``direction`` is the volume's 3x3 float64 direction matrix as bytes (a
    cheap, hashable key looked up on every paint).
    """
    matrix = np.frombuffer(direction, dtype=np.float64).reshape(3, 3)
    across, down = matrix[:, 0], matrix[:, 1]
    return (
        orientation_label(-across),
        orientation_label(across),
        orientation_label(-down),
        orientation_label(down),
    )


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
    zoom_changed()
        Zoom or pan changed (by the reader or :meth:`fit`).
    point_chosen(float, float)
        The reader pressed the left button on the image: pixel ``(i, j)``.
    window_changed(float, float)
        Window centre and width (modality units) changed.
    measurement_drawn(DrawnMeasurement)
        A drawing or a handle edit finished (mouse release).
    auto_clicked(AutoClick)
        The Auto tool was clicked (or dragged) on the image.
    """

    slice_changed = Signal(int)
    window_changed = Signal(float, float)
    measurement_drawn = Signal(object)
    auto_clicked = Signal(object)
    zoom_changed = Signal()
    point_chosen = Signal(float, float)

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
        self._fonts: dict[tuple[int, bool], QFont] = {}
        self._overlays: tuple[MeasurementOverlay, ...] = ()
        self._outlines: dict[int, npt.NDArray[np.float64]] = {}
        self._outline_polygons: dict[int, QPolygonF] = {}
        self._markers: tuple[PositionMarker, ...] = ()
        self._busy = False
        self._tool = MeasureTool()
        self._image: QImage | None = None
        self._pixels: npt.NDArray[Any] | None = None
        self._buffers: dict[str, npt.NDArray[Any]] = {}
        self._flip = False
        self._image_key: tuple[float, ...] | None = None
        self._drag_button = Qt.MouseButton.NoButton
        self._drag_last = QPointF()
        self._fitted = False
        self._loading_text = ""
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(0)
        self._later.timeout.connect(self.update)

    # ---------------------------------------------------------------- content
    @property
    def volume(self) -> ImageVolume | None:
        """The volume shown (``None`` before one is set)."""
        return self._volume

    def _overlay_font(self, point_size: int, *, bold: bool = False) -> QFont:
        """The widget's font family at ``point_size``, made once per font change."""
        font = self._fonts.get((point_size, bold))
        if font is None:
            font = QFont(self.font().family(), point_size)
            if bold:
                font.setWeight(QFont.Weight.Bold)
            self._fonts[point_size, bold] = font
        return font

    def changeEvent(self, event: QEvent) -> None:
        """Forget the overlay fonts when the widget's font changes."""
        if event.type() == QEvent.Type.FontChange:
            self._fonts.clear()
        super().changeEvent(event)

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

    def set_outlines(self, outlines: dict[int, npt.NDArray[np.float64]]) -> None:
        """Outline to draw on each slice: slice -> ``(N, 2)`` pixel ``(i, j)``.

        Click-to-measure's segmentation, shown on every slice it covers.
        """
        self._outlines = dict(outlines)
        # Built once, in pixel-centre coordinates: painting scales them with
        # the image (no per-point conversion on every scroll step).
        self._outline_polygons = {
            k: QPolygonF([QPointF(float(i) + 0.5, float(j) + 0.5) for i, j in points])
            for k, points in self._outlines.items()
            if len(points) >= 2
        }
        self.update()

    @property
    def outlines(self) -> dict[int, npt.NDArray[np.float64]]:
        """The segmentation outlines drawn, by slice."""
        return dict(self._outlines)

    def set_markers(self, markers: Sequence[PositionMarker]) -> None:
        """Replace the predicted lesion positions drawn on the slices."""
        self._markers = tuple(markers)
        self.update()

    @property
    def markers(self) -> tuple[PositionMarker, ...]:
        """The predicted lesion positions drawn."""
        return self._markers

    def set_busy(self, busy: bool) -> None:
        """A busy cursor while click-to-measure runs (the view stays usable)."""
        if busy == self._busy:
            return
        self._busy = busy
        self.set_tool(self._tool.tool)

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
            Qt.CursorShape.BusyCursor
            if self._busy
            else Qt.CursorShape.OpenHandCursor
            if tool is Tool.NAVIGATE
            else Qt.CursorShape.CrossCursor
        )
        self.setCursor(cursor)
        self.update()

    # ---------------------------------------------------------------- slices
    @property
    def slice_index(self) -> int:
        """Index ``k`` of the slice shown."""
        return self._state.slice_index

    def set_slice_index(self, index: int, *, deferred: bool = False) -> None:
        """Show slice ``index`` (clamped to the volume).

        ``deferred`` paints it on the next turn of the event loop: a view that
        follows another one scrolled does not hold up that one's paint.
        """
        if self._volume is None:
            return
        index = max(0, min(self._volume.slice_count - 1, index))
        if index == self._state.slice_index:
            return
        self._state.slice_index = index
        self.slice_changed.emit(index)
        if deferred:
            self._later.start()
        else:
            self.update()

    def step_slices(self, steps: int) -> None:
        """Move ``steps`` slices (negative goes back)."""
        self.set_slice_index(self._state.slice_index + steps)

    def slice_position_mm(self) -> float | None:
        """Position of the shown slice along the slice normal, in mm."""
        if self._volume is None:
            return None
        return float(self._volume.slice_heights_mm[self._state.slice_index])

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

    def set_window(
        self, center: float, width: float, *, deferred: bool = False
    ) -> None:
        """Set window centre and width (width at least 1).

        ``deferred`` paints on the next turn of the event loop (a linked view).
        """
        width = max(1.0, width)
        if (center, width) == self.window_level:
            return
        self._state.center, self._state.width = center, width
        self.window_changed.emit(center, width)
        if deferred:
            self._later.start()
        else:
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
        self.zoom_changed.emit()

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
        self.zoom_changed.emit()

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the image by ``(dx, dy)`` widget pixels."""
        self._state.offset_x += dx
        self._state.offset_y += dy
        self._fitted = False
        self.update()
        self.zoom_changed.emit()

    def view_center_mm(self) -> tuple[float, float]:
        """The image point (mm from the image's corner) at the view's centre."""
        state = self._state
        return (
            (self.width() / 2 - state.offset_x) / state.scale,
            (self.height() / 2 - state.offset_y) / state.scale,
        )

    def set_zoom_and_center(self, scale: float, center_mm: tuple[float, float]) -> None:
        """Show ``scale`` widget pixels per mm with ``center_mm`` at the centre.

        Linked zoom copies one view's zoom and centre to the others; no signal.
        """
        state = self._state
        state.scale = min(200.0, max(0.02, scale))
        state.offset_x = self.width() / 2 - center_mm[0] * state.scale
        state.offset_y = self.height() / 2 - center_mm[1] * state.scale
        self._fitted = False
        self.update()

    def center_on(self, point: PointIJ) -> None:
        """Pan so that pixel ``(i, j)`` is at the centre of the view (zoom kept)."""
        volume = self._volume
        if volume is None:
            return
        where = self.image_to_widget(point)
        self.pan_by(self.width() / 2 - where.x(), self.height() / 2 - where.y())

    def image_point_at_center(self) -> PointIJ:
        """Pixel ``(i, j)`` at the centre of the view."""
        return self.widget_to_image(QPointF(self.width() / 2, self.height() / 2))

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

    def clamped_image_point(self, point: QPointF) -> PointIJ:
        """:meth:`widget_to_image`, held inside the image (its pixel edges).

        Drawing uses it: an end point dragged over the black border or out of
        the viewer stays on the image's edge, never beyond the field of view.
        """
        i, j = self.widget_to_image(point)
        volume = self._volume
        if volume is None:
            return (i, j)
        return (
            min(max(i, -0.5), volume.columns - 0.5),
            min(max(j, -0.5), volume.rows - 0.5),
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
        if self.handle_key(Qt.Key(event.key())):
            event.accept()
        else:
            super().keyPressEvent(event)

    def handle_key(self, key: Qt.Key) -> bool:
        """Do what ``key`` does in the viewer; False when it means nothing here.

        The main window sends its global hotkeys here whatever has the focus.
        """
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
            self.cancel_drawing()
        else:
            return False
        return True

    @property
    def drawing(self) -> bool:
        """Whether a drawing or handle edit is in progress."""
        return self._tool.busy

    def cancel_drawing(self) -> None:
        """Drop the drawing in progress (Esc)."""
        self._tool.cancel()
        self._drag_button = Qt.MouseButton.NoButton
        self.update()

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
        if button == Qt.MouseButton.LeftButton:
            self.point_chosen.emit(*self.clamped_image_point(position))
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
                self.clamped_image_point(position),
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
            self._tool.move(self.clamped_image_point(position))
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
            self.clamped_image_point(event.position()), self._state.slice_index
        )
        self.update()
        if isinstance(drawn, DrawnMeasurement):
            self.measurement_drawn.emit(
                dataclasses.replace(drawn, screen_px_per_mm=self.zoom)
            )
        auto = self._tool.take_auto_click()
        if auto is not None:
            self.auto_clicked.emit(auto)

    # ---------------------------------------------------------------- painting
    def _visible_block(self) -> tuple[int, int, int, int]:
        """Columns ``i0:i1`` and rows ``j0:j1`` of the slice that the view shows.

        Two pixels of margin keep the bilinear interpolation right at the edge;
        zoomed in, only this block is windowed and drawn.
        """
        volume = self._volume
        assert volume is not None
        first = self.widget_to_image(QPointF(0, 0))
        last = self.widget_to_image(QPointF(self.width(), self.height()))
        i0 = max(0, math.floor(min(first[0], last[0])) - 2)
        j0 = max(0, math.floor(min(first[1], last[1])) - 2)
        i1 = min(volume.columns, math.ceil(max(first[0], last[0])) + 3)
        j1 = min(volume.rows, math.ceil(max(first[1], last[1])) + 3)
        if i1 <= i0 or j1 <= j0:
            return (0, 0, 0, 0)
        return (i0, i1, j0, j1)

    def _buffer(
        self, name: str, dtype: type[np.generic], height: int, width: int
    ) -> npt.NDArray[Any]:
        """A ``height x width`` array of ``dtype`` in the view's buffer ``name``.

        The buffer holds a whole slice of the volume (or more, if a block was
        ever larger), so panning and zooming reuse it too.
        """
        needed = height * width
        flat = self._buffers.get(name)
        if flat is None or flat.dtype != dtype or flat.size < needed:
            volume = self._volume
            whole = volume.rows * volume.columns if volume is not None else 0
            flat = np.empty(max(needed, whole), dtype=dtype)
            self._buffers[name] = flat
        return flat[:needed].reshape(height, width)

    def _slice_image(self) -> tuple[QImage, tuple[int, int, int, int]] | None:
        volume = self._volume
        if volume is None:
            return None
        block = self._visible_block()
        key: tuple[float, ...] = (
            self._state.slice_index,
            self._state.center,
            self._state.width,
            *block,
        )
        if self._image is not None and self._image_key == key:
            return self._image, block
        i0, i1, j0, j1 = block
        stored = volume.voxels[self._state.slice_index, j0:j1, i0:i1]
        if stored.dtype.kind in "iu" and stored.dtype.itemsize <= 2:
            # One table lookup straight to 32-bit pixels: Qt scales RGB32 with
            # bilinear interpolation about twice as fast as Gray8.
            origin, table = _rgb32_table(
                stored.dtype.str,
                self._state.center,
                self._state.width,
                volume.rescale_slope,
                volume.rescale_intercept,
            )
            height, width = stored.shape
            # The indices (intp, what take() gathers with) and the pixels go
            # into buffers kept between steps: fresh arrays of this size cost
            # page faults on many steps. The pixels alternate between two, so
            # the image shown until now keeps its bytes while the next is made.
            index = self._buffer("index", np.intp, height, width)
            np.subtract(stored, np.intp(origin), out=index)
            self._flip = not self._flip
            rgb = self._buffer(f"rgb{int(self._flip)}", np.uint32, height, width)
            # clip: below the window -> entry 0 (black), above -> the last (white)
            np.take(table, index, out=rgb, mode="clip")
            self._pixels = rgb  # the QImage below reads these bytes
            self._image = QImage(
                rgb.data, width, height, 4 * width, QImage.Format.Format_RGB32
            )
        else:
            pixels = np.ascontiguousarray(
                apply_window(
                    stored,
                    self._state.center,
                    self._state.width,
                    rescale_slope=volume.rescale_slope,
                    rescale_intercept=volume.rescale_intercept,
                )
            )
            height, width = pixels.shape
            # copy(): the QImage must own its bytes once ``pixels`` is gone.
            self._image = QImage(
                pixels.data, width, height, width, QImage.Format.Format_Grayscale8
            ).copy()
        self._image_key = key
        return self._image, block

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint slice, overlays, preview and text."""
        painter = QPainter(self)
        shown = self._slice_image()
        if shown is None:
            painter.fillRect(self.rect(), QColor(0, 0, 0))
            painter.setPen(_TEXT)
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                self._loading_text or "No image loaded",
            )
            painter.end()
            return
        # Bilinear interpolation at every zoom (issue 18): blocky pixels at high
        # zoom hide edges rather than show them.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.save()
        painter.setTransform(self._transform())
        image, (i0, i1, j0, j1) = shown
        volume = self._volume
        assert volume is not None
        column_mm, row_mm = volume.column_spacing_mm, volume.row_spacing_mm
        target = QRectF(
            i0 * column_mm, j0 * row_mm, (i1 - i0) * column_mm, (j1 - j0) * row_mm
        )
        # Black around the image only where the image leaves room (zoomed in,
        # it covers the viewport: a full fill would be a tenth of the step).
        if not painter.transform().mapRect(target).contains(QRectF(self.rect())):
            painter.save()
            painter.resetTransform()
            painter.fillRect(self.rect(), QColor(0, 0, 0))
            painter.restore()
        painter.drawImage(target, image)
        painter.restore()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_outline(painter)
        self._paint_markers(painter)
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
        painter.setFont(self._overlay_font(10, bold=True))
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
            if overlay.viable_axis_ij is not None:
                # Below the lesion's own label, which anchors at the same line.
                anchor = QPointF(anchor.x(), anchor.y() + 18)
            self._paint_label(painter, anchor, overlay.label, color)

    def _paint_outline(self, painter: QPainter) -> None:
        polygon = self._outline_polygons.get(self._state.slice_index)
        volume = self._volume
        if polygon is None or volume is None:
            return
        pen = QPen(_OUTLINE, 1.4)
        pen.setCosmetic(True)  # 1.4 screen pixels at any zoom
        painter.save()
        painter.setTransform(
            QTransform.fromScale(volume.column_spacing_mm, volume.row_spacing_mm)
            * self._transform()
        )
        painter.setPen(pen)
        painter.drawPolygon(polygon)
        painter.restore()

    def _paint_markers(self, painter: QPainter) -> None:
        k = self._state.slice_index
        for marker in self._markers:
            distance = abs(marker.slice_index - k)
            if distance > 1:
                continue
            color = QColor(_PREDICTED)
            if distance:
                color.setAlpha(110)  # a slice away: faint, so it is found
            pen = QPen(color, 1.6)
            pen.setStyle(Qt.PenStyle.DashLine if distance else Qt.PenStyle.SolidLine)
            painter.setPen(pen)
            center = self.image_to_widget(marker.point_ij)
            radius = 11.0
            painter.drawEllipse(center, radius, radius)
            x, y = center.x(), center.y()
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                painter.drawLine(
                    QPointF(x + dx * radius * 0.4, y + dy * radius * 0.4),
                    QPointF(x + dx * radius * 1.6, y + dy * radius * 1.6),
                )
            label_at = QPointF(x + radius + 4, y)
            self._paint_label(painter, label_at, marker.label, color)

    def _paint_preview(self, painter: QPainter) -> None:
        auto = self._tool.auto_drag()
        if auto is not None and auto[0] != auto[1]:
            pen = QPen(_PREVIEW, 1.2)
            pen.setStyle(Qt.PenStyle.DotLine)
            painter.setPen(pen)
            painter.drawLine(*(self.image_to_widget(p) for p in auto))
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
        painter.setFont(self._overlay_font(9))
        margin = 8
        area = QRectF(self.rect().adjusted(margin, margin, -margin, -margin))
        draw_outlined_text(
            painter,
            area,
            _TOP_LEFT,
            "\n".join(self._title_lines),
        )
        position = self.slice_position_mm()
        top_right = [self.slice_text()]
        if position is not None:
            top_right.append(f"Pos {position:.1f} mm")
        if volume.slice_thickness_mm is not None:
            top_right.append(f"Thk {volume.slice_thickness_mm:.1f} mm")
        draw_outlined_text(
            painter,
            area,
            _TOP_RIGHT,
            "\n".join(top_right),
        )
        draw_outlined_text(
            painter,
            area,
            _BOTTOM_LEFT,
            f"{self.window_text()}\nZoom {self.zoom * volume.column_spacing_mm:.2f}×",
        )
        if self._loading_text:
            draw_outlined_text(
                painter,
                area.adjusted(0, 0, 0, -22),  # above the orientation letter
                _BOTTOM_CENTER,
                self._loading_text,
            )
        self._paint_orientation(painter)
        self._paint_scale_bar(painter)

    def _paint_orientation(self, painter: QPainter) -> None:
        volume = self._volume
        if volume is None:
            return
        painter.setFont(self._overlay_font(11, bold=True))
        letters = _LETTERS
        left, right, up, down = _edge_labels(volume.direction.tobytes())
        area = QRectF(self.rect().adjusted(6, 6, -6, -6))
        draw_outlined_text(
            painter,
            area,
            _LEFT_MIDDLE,
            left,
            letters,
        )
        draw_outlined_text(
            painter,
            area,
            _RIGHT_MIDDLE,
            right,
            letters,
        )
        draw_outlined_text(
            painter,
            area,
            _TOP_CENTER,
            up,
            letters,
        )
        draw_outlined_text(
            painter,
            area,
            _BOTTOM_CENTER,
            down,
            letters,
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
        painter.setFont(self._overlay_font(9))
        draw_text(
            painter,
            QRectF(x_end - length_px - 40, y + 4, length_px + 40, 18),
            _TOP_RIGHT,
            f"{length_mm:.0f} mm",
        )
