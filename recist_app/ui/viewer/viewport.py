"""One viewport of the grid: a drop-down saying what it shows, and the viewer.

A viewport shows a visit's axial series (the current visit, or any visit as the
comparison: baseline, nadir, previous, or one chosen by name), or a coronal or
sagittal reformat of the current series. A series thumbnail dragged from the
strip onto a viewport puts that visit there. The study/series strip above the
grid is :class:`SeriesStrip`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from recist_app.imaging import Plane
from recist_app.ui.viewer.mpr_view import MprView
from recist_app.ui.viewer.slice_view import SliceView

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["VISIT_MIME_TYPE", "SeriesStrip", "Viewport"]

VISIT_MIME_TYPE = "application/x-recist-visit"
"""Drag payload of a strip thumbnail: the visit's name (UTF-8)."""

_THUMB_PX = 48


class Viewport(QFrame):
    """A drop-down over a slice view (or a reformat) in the viewport grid.

    Parameters
    ----------
    combo
        The drop-down to show in the header (the current viewport passes the
        window's visit chooser; comparison viewports get their own).

    Signals
    -------
    source_chosen(str)
        The reader picked an entry of the drop-down: its key.
    visit_dropped(str)
        A strip thumbnail of this visit was dropped here.
    """

    source_chosen = Signal(str)
    visit_dropped = Signal(str)

    def __init__(
        self, *, combo: QComboBox | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAcceptDrops(True)
        self.own_combo = combo is None
        self.combo = combo if combo is not None else QComboBox()
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(14)
        self.combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        if self.own_combo:
            self.combo.activated.connect(self._chosen)
        self.view = SliceView()
        self.coronal = MprView(Plane.CORONAL)
        self.sagittal = MprView(Plane.SAGITTAL)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.coronal)
        self.stack.addWidget(self.sagittal)
        self.stack.setMinimumSize(160, 160)
        self.tag = QLabel()
        self.tag.setStyleSheet("color: #9ab; padding-left: 4px")
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.setSpacing(4)
        header.addWidget(self.combo)
        header.addWidget(self.tag, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)
        layout.setSpacing(1)
        layout.addLayout(header)
        layout.addWidget(self.stack, 1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.source = ""

    def set_sources(self, items: Sequence[tuple[str, str]], current: str) -> None:
        """Fill the drop-down with ``(label, key)`` and show ``current`` chosen."""
        if not self.own_combo:
            return
        combo = self.combo
        wanted = [(label, key) for label, key in items]
        shown = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]
        if shown != wanted:
            combo.blockSignals(True)
            combo.clear()
            for label, key in wanted:
                combo.addItem(label, key)
            combo.blockSignals(False)
        combo.setCurrentIndex(combo.findData(current))
        self.source = current

    def show_plane(self, plane: Plane) -> None:
        """Show the axial view, or the coronal or sagittal reformat."""
        widget = {
            Plane.AXIAL: self.view,
            Plane.CORONAL: self.coronal,
            Plane.SAGITTAL: self.sagittal,
        }[Plane(plane)]
        self.stack.setCurrentWidget(widget)

    @property
    def plane(self) -> Plane:
        """The plane shown."""
        current = self.stack.currentWidget()
        if current is self.coronal:
            return Plane.CORONAL
        if current is self.sagittal:
            return Plane.SAGITTAL
        return Plane.AXIAL

    def _chosen(self, index: int) -> None:
        key = self.combo.itemData(index)
        if isinstance(key, str):
            self.source = key
            self.source_chosen.emit(key)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept a visit dragged from the series strip."""
        if event.mimeData().hasFormat(VISIT_MIME_TYPE):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Show the dropped visit here."""
        data = event.mimeData()
        if data.hasFormat(VISIT_MIME_TYPE):
            visit = bytes(data.data(VISIT_MIME_TYPE).data()).decode("utf-8")
            event.acceptProposedAction()
            self.visit_dropped.emit(visit)


class SeriesStrip(QListWidget):
    """The slim study/series strip: one thumbnail per visit, draggable.

    Signals
    -------
    visit_activated(str)
        The reader double-clicked a visit: read it.
    """

    visit_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setIconSize(QSize(_THUMB_PX, _THUMB_PX))
        self.setSpacing(1)
        self.setGridSize(QSize(_THUMB_PX + 66, _THUMB_PX + 34))
        self.setWordWrap(True)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.setFixedHeight(_THUMB_PX + 40)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setToolTip(
            "Visits of the patient: double-click to read one, drag one onto a "
            "viewport to compare"
        )
        self.itemDoubleClicked.connect(self._activated)

    def set_visits(
        self, visits: Sequence[tuple[str, str, QPixmap | None]], current: str
    ) -> None:
        """Show ``(visit, label, thumbnail)`` in order; mark the ``current`` one."""
        shown = [
            (self.item(i).data(Qt.ItemDataRole.UserRole), self.item(i).text())
            for i in range(self.count())
        ]
        if shown != [(visit, label) for visit, label, _ in visits]:
            self.clear()
            for visit, label, _pixmap in visits:
                item = QListWidgetItem(label)
                item.setData(Qt.ItemDataRole.UserRole, visit)
                item.setSizeHint(QSize(_THUMB_PX + 64, _THUMB_PX + 30))
                item.setToolTip(f"{label}: double-click to read, drag to compare")
                self.addItem(item)
        for index, (_visit, _label, pixmap) in enumerate(visits):
            item = self.item(index)
            if pixmap is not None and item.icon().isNull():
                item.setIcon(QIcon(pixmap))
        for index in range(self.count()):
            item = self.item(index)
            item.setSelected(item.data(Qt.ItemDataRole.UserRole) == current)

    def visits(self) -> list[str]:
        """The visits shown, in order."""
        return [
            str(self.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.count())
        ]

    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:
        """The dragged visit's name."""
        data = QMimeData()
        if items:
            visit = str(items[0].data(Qt.ItemDataRole.UserRole))
            data.setData(VISIT_MIME_TYPE, visit.encode("utf-8"))
            data.setText(visit)
        return data

    def _activated(self, item: QListWidgetItem) -> None:
        self.visit_activated.emit(str(item.data(Qt.ItemDataRole.UserRole)))
