"""Lesion table: one row per lesion, its labels and its finding at the visit read."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from recist_app.recist import CountedBasis, LesionRole, MeasurementState

if TYPE_CHECKING:
    from recist_app.recist import (
        Assessment,
        CountedDiameter,
        Lesion,
        Reading,
        TimePoint,
    )

__all__ = [
    "LesionColumn",
    "LesionTableModel",
    "counted_text",
    "finding_text",
    "viable_text",
]

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


_COUNTED_TEXT = {  # B2, B3, B4: how a state counts, with the value the rules used
    CountedBasis.TOO_SMALL: "too small ({:.1f} mm)",
    CountedBasis.DISAPPEARED: "disappeared (0 mm)",
    CountedBasis.SPLIT: "split ({:.1f} mm)",
    CountedBasis.MERGED: "merged (0 mm)",
    CountedBasis.NOT_EVALUABLE: "not evaluable",
    CountedBasis.NOT_DONE: "not done",
    CountedBasis.MISSING: "—",
    CountedBasis.AXIS_NOT_MEASURED: "not measured",
}


def counted_text(counted: CountedDiameter) -> str:
    """A target's counted diameter as the panels show it: ``too small (5.0 mm)``.

    The value is the assessment's (A2, A6, B2–B4, J1), never counted again here.
    """
    value_mm = counted.diameter_mm
    template = _COUNTED_TEXT.get(counted.basis)
    if template is not None:
        return template.format(value_mm)
    note = " viable" if counted.basis is CountedBasis.VIABLE_LONG_AXIS else ""
    return f"{value_mm:.1f} mm{note}"


def _axes_text(long_mm: float | None, short_mm: float | None) -> str:
    text = "—" if long_mm is None else f"{long_mm:.1f} mm"
    return text if short_mm is None else f"{text} (× {short_mm:.1f})"


def _target_text(
    lesion: Lesion, timepoint: TimePoint, counted: CountedDiameter | None
) -> str:
    measurement = timepoint.measurement(lesion.lesion_id)
    if measurement is None:
        return "—"
    long_mm, short_mm = measurement.long_axis_mm, measurement.short_axis_mm
    if counted is None:  # no assessment of this visit: what was recorded
        if measurement.state is MeasurementState.MEASURED:
            return _axes_text(long_mm, short_mm)
        return measurement.state.value.replace("_", " ")
    basis = counted.basis
    if basis is CountedBasis.LONG_AXIS:
        return _axes_text(counted.diameter_mm, short_mm)
    if basis is CountedBasis.SHORT_AXIS:  # A2: the node's short axis first
        text = counted_text(counted)
        return text if long_mm is None else f"{text} (long {long_mm:.1f})"
    if measurement.state is MeasurementState.MEASURED:
        # mRECIST counts the viable part (the Viable column); show what was drawn
        return _axes_text(long_mm, short_mm)
    return counted_text(counted)


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
    if observation.cytology_confirmed:
        parts.append("cytology +")
    return ", ".join(parts)


def finding_text(
    lesion: Lesion,
    timepoint: TimePoint | None,
    counted: CountedDiameter | None = None,
) -> str:
    """The lesion's finding at ``timepoint`` as the table shows it.

    ``counted`` is a target's counted diameter at that visit, from the assessment.
    """
    if timepoint is None:
        return ""
    if lesion.role is LesionRole.TARGET:
        return _target_text(lesion, timepoint, counted)
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

    The last column is the viable long axis at the current visit (mRECIST). A
    target's finding shows the diameter it counted, from the assessment.

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
        self._counted: dict[str, dict[str, CountedDiameter]] = {}
        self._edit_request = edit_request

    def set_reading(self, reading: Reading, assessment: Assessment, visit: str) -> None:
        """Show ``reading`` at ``visit`` (the prior is the visit before it).

        ``assessment`` is ``assess(reading)``: the targets' counted diameters.
        """
        self.beginResetModel()
        self._lesions = reading.lesions
        visits = [t.visit for t in reading.timepoints]
        index = visits.index(visit) if visit in visits else -1
        self._current = reading.timepoints[index] if index >= 0 else None
        self._prior = reading.timepoints[index - 1] if index > 0 else None
        self._counted = {}
        for timepoint in (self._prior, self._current):
            if timepoint is None:
                continue
            try:
                self._counted[timepoint.visit] = assessment.target_diameters_at(
                    timepoint.visit
                )
            except KeyError:
                continue  # a visit the assessment does not cover
        self.endResetModel()

    def _finding(self, lesion: Lesion, timepoint: TimePoint | None) -> str:
        if timepoint is None:
            return ""
        counted = self._counted.get(timepoint.visit, {}).get(lesion.lesion_id)
        return finding_text(lesion, timepoint, counted)

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
            LesionColumn.PRIOR: self._finding(lesion, self._prior),
            LesionColumn.CURRENT: self._finding(lesion, self._current),
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
