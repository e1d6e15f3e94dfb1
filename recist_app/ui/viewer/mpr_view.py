"""Coronal or sagittal reformat (MPR) of the current series, with a crosshair.

The reformat shows the acquired voxels resliced without interpolation
(:func:`recist_app.imaging.extract_slice`); a crosshair marks the point the axial
view shows (its slice, and the point last clicked or jumped to). Clicking in the
reformat moves that point, which moves the axial view to its slice. Nothing is
measured here: RECIST measures on the acquired (axial) images.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from recist_app.imaging import (
    Plane,
    apply_window,
    extract_slice,
    index_to_lps_mm,
    plane_axis,
    plane_slice_count,
)
from recist_app.ui.viewer.overlay_text import draw_outlined_text

if TYPE_CHECKING:
    from recist_app.imaging import ImageVolume, SliceImage

__all__ = ["MprView"]

_CROSSHAIR = QColor(80, 200, 255)


class MprView(QWidget):
    """A coronal or sagittal reformat with the crosshair of the axial view.

    Signals
    -------
    cursor_moved(float, float, float)
        The reader clicked a point: its voxel index ``(i, j, k)``.
    """

    cursor_moved = Signal(float, float, float)

    def __init__(self, plane: Plane, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plane = Plane(plane)
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._volume: ImageVolume | None = None
        self._cursor_ijk = (0.0, 0.0, 0.0)
        self._window = (40.0, 400.0)
        self._slice: SliceImage | None = None
        self._image: QImage | None = None
        self._title = ""

    @property
    def volume(self) -> ImageVolume | None:
        """The volume resliced (``None`` before one is set)."""
        return self._volume

    def set_volume(self, volume: ImageVolume | None, *, title: str = "") -> None:
        """Reformat ``volume``; the cursor starts at its centre."""
        self._title = title
        if volume is self._volume:
            self.update()
            return
        self._volume = volume
        if volume is not None:
            self._cursor_ijk = (
                (volume.columns - 1) / 2,
                (volume.rows - 1) / 2,
                (volume.slice_count - 1) / 2,
            )
        self._refresh()

    def set_window(self, center: float, width: float) -> None:
        """Window centre and width (modality units), as the axial view's."""
        if (center, width) != self._window:
            self._window = (center, width)
            self._image = None
            self.update()

    def set_cursor_ijk(self, i: float, j: float, k: float) -> None:
        """Put the crosshair at voxel ``(i, j, k)``; reslice through it."""
        if (i, j, k) != self._cursor_ijk:
            self._cursor_ijk = (i, j, k)
            self._refresh()

    @property
    def cursor_ijk(self) -> tuple[float, float, float]:
        """The crosshair's voxel index ``(i, j, k)``."""
        return self._cursor_ijk

    def cursor_lps_mm(self) -> tuple[float, float, float] | None:
        """The crosshair's position in patient LPS mm."""
        if self._volume is None:
            return None
        point = index_to_lps_mm(self._volume, np.array([self._cursor_ijk]))[0]
        return (float(point[0]), float(point[1]), float(point[2]))

    def slice_index(self) -> int:
        """Index of the reformatted slice along the plane's fixed axis."""
        if self._volume is None:
            return 0
        axis = plane_axis(self._volume, self.plane)
        count = plane_slice_count(self._volume, self.plane)
        return int(min(max(round(self._cursor_ijk[axis]), 0), count - 1))

    def _refresh(self) -> None:
        volume = self._volume
        self._slice = (
            extract_slice(volume, self.plane, self.slice_index())
            if volume is not None
            else None
        )
        self._image = None
        self.update()

    # ---------------------------------------------------------------- mapping
    def _frame(self) -> QRectF:
        """Where the reformat is painted (aspect kept, centred)."""
        sliced = self._slice
        if sliced is None:
            return QRectF(self.rect())
        rows, columns = sliced.pixels.shape
        width_mm = columns * sliced.column_spacing_mm
        height_mm = rows * sliced.row_spacing_mm
        scale = min(self.width() / width_mm, self.height() / height_mm)
        width, height = width_mm * scale, height_mm * scale
        return QRectF(
            (self.width() - width) / 2, (self.height() - height) / 2, width, height
        )

    def crosshair_widget_point(self) -> QPointF | None:
        """Widget position of the crosshair (``None`` without a volume)."""
        sliced = self._slice
        if sliced is None:
            return None
        row, column = sliced.ijk_to_display(self._cursor_ijk)
        rows, columns = sliced.pixels.shape
        frame = self._frame()
        return QPointF(
            frame.left() + (column + 0.5) / columns * frame.width(),
            frame.top() + (row + 0.5) / rows * frame.height(),
        )

    def widget_to_ijk(self, point: QPointF) -> tuple[float, float, float] | None:
        """Voxel index under a widget position (``None`` without a volume)."""
        sliced = self._slice
        if sliced is None:
            return None
        rows, columns = sliced.pixels.shape
        frame = self._frame()
        column = (point.x() - frame.left()) / frame.width() * columns - 0.5
        row = (point.y() - frame.top()) / frame.height() * rows - 0.5
        column = min(max(column, 0.0), columns - 1.0)
        row = min(max(row, 0.0), rows - 1.0)
        return sliced.display_to_ijk(row, column)

    # ---------------------------------------------------------------- events
    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Move the crosshair (and the axial view) to the point clicked."""
        ijk = self.widget_to_ijk(event.position())
        if ijk is not None and event.button() == Qt.MouseButton.LeftButton:
            self._cursor_ijk = ijk
            self._refresh()
            self.cursor_moved.emit(*ijk)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Dragging moves the crosshair too."""
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.mousePressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Step through the reformats (the crosshair moves with them)."""
        volume = self._volume
        steps = event.angleDelta().y() / 120
        if volume is None or steps == 0:
            return
        axis = plane_axis(volume, self.plane)
        ijk = list(self._cursor_ijk)
        count = plane_slice_count(volume, self.plane)
        ijk[axis] = min(max(round(ijk[axis]) - (1 if steps > 0 else -1), 0), count - 1)
        self._cursor_ijk = (ijk[0], ijk[1], ijk[2])
        self._refresh()
        self.cursor_moved.emit(*self._cursor_ijk)
        event.accept()

    # ---------------------------------------------------------------- painting
    def _qimage(self) -> QImage | None:
        sliced, volume = self._slice, self._volume
        if sliced is None or volume is None:
            return None
        if self._image is None:
            pixels = np.ascontiguousarray(
                apply_window(
                    sliced.pixels,
                    *self._window,
                    rescale_slope=volume.rescale_slope,
                    rescale_intercept=volume.rescale_intercept,
                )
            )
            height, width = pixels.shape
            self._image = QImage(
                pixels.data, width, height, width, QImage.Format.Format_Grayscale8
            ).copy()
        return self._image

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint the reformat, the crosshair and the plane's name."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0))
        image = self._qimage()
        if image is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, "No series to reformat"
            )
            painter.end()
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(self._frame(), image)
        point = self.crosshair_widget_point()
        if point is not None:
            pen = QPen(_CROSSHAIR, 1)
            pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(QPointF(0, point.y()), QPointF(self.width(), point.y()))
            painter.drawLine(QPointF(point.x(), 0), QPointF(point.x(), self.height()))
        painter.setFont(QFont(self.font().family(), 9))
        lines = [self._title, f"{self.plane.value.title()} MPR (not for measuring)"]
        draw_outlined_text(
            painter,
            QRectF(self.rect().adjusted(8, 8, -8, -8)),
            Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft,
            "\n".join(line for line in lines if line),
        )
        painter.end()
