"""Lesion table: one row per lesion, its labels and its finding at the visit read."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from recist_app.recist import LesionRole, MeasurementState

if TYPE_CHECKING:
    from recist_app.recist import Lesion, Reading, TimePoint

__all__ = ["LesionColumn", "LesionTableModel", "finding_text", "viable_text"]

_Index = QModelIndex | QPersistentModelIndex
EditRequest = Callable[[str, str, object], None]
"""``(lesion_id, field, value)``: asks the owner to push an edit command."""


class LesionColumn:
    """Column numbers of :class:`LesionTableModel`."""

    ID = 0
    ROLE = 1
    ORGAN = 2
    LOCATION = 3
    NODE = 4
    PRIOR = 5
    CURRENT = 6
    VIABLE = 7
    COUNT = 8


_STATE_TEXT = {
    MeasurementState.TOO_SMALL: "too small (5 mm)",
    MeasurementState.DISAPPEARED: "disappeared (0 mm)",
    MeasurementState.NOT_EVALUABLE: "not evaluable",
    MeasurementState.NOT_DONE: "not done",
    MeasurementState.SPLIT: "split",
    MeasurementState.MERGED: "merged",
}


def _target_text(lesion: Lesion, timepoint: TimePoint) -> str:
    measurement = timepoint.measurement(lesion.lesion_id)
    if measurement is None:
        return "—"
    if measurement.state is MeasurementState.SPLIT:
        return f"split ({sum(measurement.parts_mm):.1f} mm)"
    if measurement.state is not MeasurementState.MEASURED:
        return _STATE_TEXT.get(measurement.state, measurement.state.value)
    long_mm, short_mm = measurement.long_axis_mm, measurement.short_axis_mm
    counted, other = (
        (short_mm, long_mm) if lesion.is_lymph_node else (long_mm, short_mm)
    )
    text = f"{counted:.1f} mm" if counted is not None else "—"
    if other is not None:
        text += f" (long {other:.1f})" if lesion.is_lymph_node else f" (× {other:.1f})"
    return text


def _new_lesion_text(lesion: Lesion, timepoint: TimePoint) -> str:
    observation = next(
        (o for o in timepoint.new_lesions if o.lesion_id == lesion.lesion_id), None
    )
    if observation is None:
        return "—"
    parts = [observation.state.value]
    sizes = [
        f"{value:.1f}"
        for value in (observation.long_axis_mm, observation.short_axis_mm)
        if value is not None
    ]
    if sizes:
        parts.append(" × ".join(sizes) + " mm")
    if observation.not_imaged_at_baseline:
        parts.append("not imaged at baseline")
    if observation.typical_vascular_pattern is not None:
        parts.append(
            "typical HCC" if observation.typical_vascular_pattern else "atypical"
        )
    return ", ".join(parts)


def finding_text(lesion: Lesion, timepoint: TimePoint | None) -> str:
    """The lesion's finding at ``timepoint`` as the table shows it."""
    if timepoint is None:
        return ""
    if lesion.role is LesionRole.TARGET:
        return _target_text(lesion, timepoint)
    if lesion.role is LesionRole.NEW:
        return _new_lesion_text(lesion, timepoint)
    assessment = next(
        (a for a in timepoint.non_target if a.lesion_id == lesion.lesion_id), None
    )
    if assessment is None:
        return "—"
    text = assessment.state.value.replace("_", " ")
    return text + (", cytology +" if assessment.cytology_confirmed else "")


def viable_text(lesion: Lesion, timepoint: TimePoint | None) -> str:
    """A target's viable long axis at ``timepoint`` (mRECIST J1), else ``""``."""
    if timepoint is None or lesion.role is not LesionRole.TARGET:
        return ""
    measurement = timepoint.measurement(lesion.lesion_id)
    if measurement is None or measurement.viable_long_axis_mm is None:
        return "" if lesion.is_lymph_node else "—"
    return f"{measurement.viable_long_axis_mm:.1f} mm"


class LesionTableModel(QAbstractTableModel):
    """Lesions of a reading with their finding at the previous and current visit.

    The last column is the viable long axis at the current visit (mRECIST).

    The model never changes the reading: edits of organ, location and node flag
    go to ``edit_request``, which pushes an undo command; the model is refreshed
    from the document's ``reading_changed`` like every view.
    """

    _HEADERS = (
        "Lesion",
        "Role",
        "Organ",
        "Location",
        "Node",
        "Prior",
        "Current",
        "Viable",
    )

    def __init__(self, edit_request: EditRequest | None = None) -> None:
        super().__init__()
        self._lesions: tuple[Lesion, ...] = ()
        self._current: TimePoint | None = None
        self._prior: TimePoint | None = None
        self._edit_request = edit_request

    def set_reading(self, reading: Reading, visit: str) -> None:
        """Show ``reading`` at ``visit`` (the prior is the visit before it)."""
        self.beginResetModel()
        self._lesions = reading.lesions
        visits = [t.visit for t in reading.timepoints]
        index = visits.index(visit) if visit in visits else -1
        self._current = reading.timepoints[index] if index >= 0 else None
        self._prior = reading.timepoints[index - 1] if index > 0 else None
        self.endResetModel()

    def lesion_at(self, row: int) -> Lesion:
        """The lesion shown in ``row``."""
        return self._lesions[row]

    def row_of(self, lesion_id: str) -> int:
        """Row of ``lesion_id``, or -1."""
        return next(
            (
                row
                for row, lesion in enumerate(self._lesions)
                if lesion.lesion_id == lesion_id
            ),
            -1,
        )

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        """Number of lesions."""
        return 0 if parent.isValid() else len(self._lesions)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        """Number of columns."""
        return 0 if parent.isValid() else LesionColumn.COUNT

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        """Column titles (prior and current visit names)."""
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.ToolTipRole
            and section == LesionColumn.VIABLE
        ):
            return (
                "mRECIST: long axis of the viable (arterially enhancing) part "
                "at the current visit (tool A)"
            )
        if (
            orientation != Qt.Orientation.Horizontal
            or role != Qt.ItemDataRole.DisplayRole
        ):
            return None
        if section == LesionColumn.PRIOR and self._prior is not None:
            return self._prior.visit.title()
        if section == LesionColumn.CURRENT and self._current is not None:
            return self._current.visit.title()
        return self._HEADERS[section]

    def flags(self, index: _Index) -> Qt.ItemFlag:
        """Organ and location are editable; node is checkable."""
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() in (LesionColumn.ORGAN, LesionColumn.LOCATION):
            flags |= Qt.ItemFlag.ItemIsEditable
        if index.column() == LesionColumn.NODE:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, check state and role colour."""
        if not index.isValid():
            return None
        lesion = self._lesions[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.CheckStateRole and column == LesionColumn.NODE:
            return (
                Qt.CheckState.Checked
                if lesion.is_lymph_node
                else Qt.CheckState.Unchecked
            )
        if role == Qt.ItemDataRole.ForegroundRole and column == LesionColumn.ROLE:
            colors = {
                LesionRole.TARGET: QColor(40, 140, 90),
                LesionRole.NON_TARGET: QColor(70, 110, 190),
                LesionRole.NEW: QColor(200, 70, 50),
            }
            return QBrush(colors[lesion.role])
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return None
        values = {
            LesionColumn.ID: lesion.lesion_id,
            LesionColumn.ROLE: lesion.role.value,
            LesionColumn.ORGAN: lesion.organ,
            LesionColumn.LOCATION: lesion.location,
            LesionColumn.NODE: "",
            LesionColumn.PRIOR: finding_text(lesion, self._prior),
            LesionColumn.CURRENT: finding_text(lesion, self._current),
            LesionColumn.VIABLE: viable_text(lesion, self._current),
        }
        return values.get(column)

    def setData(
        self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        """Forward an edit to the document as an undo command."""
        if not index.isValid() or self._edit_request is None:
            return False
        lesion = self._lesions[index.row()]
        column = index.column()
        if column == LesionColumn.NODE and role == Qt.ItemDataRole.CheckStateRole:
            checked = Qt.CheckState(value) == Qt.CheckState.Checked
            self._edit_request(lesion.lesion_id, "is_lymph_node", checked)
            return True
        if role != Qt.ItemDataRole.EditRole:
            return False
        if column == LesionColumn.ORGAN:
            self._edit_request(lesion.lesion_id, "organ", str(value))
            return True
        if column == LesionColumn.LOCATION:
            self._edit_request(lesion.lesion_id, "location", str(value))
            return True
        return False
