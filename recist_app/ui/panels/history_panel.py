"""Lesion history: a lesion × visit table of diameters and a plot over time.

The table shows each lesion's diameter at every visit (the diameter the rules
counted, from the assessment: the short axis of nodes, ``too_small_mm`` for too
small, 0 for disappeared, the viable part under mRECIST) or its state name, then
the sum of diameters and the overall response. The plot draws
the sum and each target over time and marks every follow-up's overall response.
Both refresh only from the document's ``reading_changed``; the plot only while
it is shown (Matplotlib is imported the first time it is: issue 23's start-up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from recist_app.recist import CountedBasis, LesionRole
from recist_app.ui.panels.lesion_table import counted_text, finding_text
from recist_app.ui.panels.response_panel import NOT_READ, RESPONSE_COLORS

if TYPE_CHECKING:
    import datetime

    from matplotlib.axes import Axes
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
    from PySide6.QtGui import QShowEvent

    from recist_app.recist import (
        Assessment,
        CountedDiameter,
        Lesion,
        Reading,
        TimePoint,
    )
    from recist_app.ui.document import ReadingDocument

__all__ = ["HistoryPanel", "LesionHistory", "LesionHistoryModel", "lesion_history"]

_Index = QModelIndex | QPersistentModelIndex
_SUM_LABEL = "Sum of diameters"
_RESPONSE_LABEL = "Overall response"
_MEASURED = frozenset(
    {CountedBasis.LONG_AXIS, CountedBasis.SHORT_AXIS, CountedBasis.VIABLE_LONG_AXIS}
)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One table row: a label and one cell per visit."""

    label: str
    cells: tuple[str, ...]
    role: LesionRole | None = None


@dataclass(frozen=True, slots=True)
class LesionHistory:
    """What the history panel shows, derived from a reading and its assessment.

    Parameters
    ----------
    visits, dates
        The visits in order and their dates.
    rows
        Lesions (targets, non-targets, new), then the sum and the overall response.
    target_diameters_mm
        Each target's counted diameter per visit (``None``: not assessed).
    sums_mm
        Sum of diameters per visit (``None``: not all targets assessed).
    responses
        Overall response code per visit (``None`` at a baseline with disease),
        or "not read" for a visit not read (it has no response).
    """

    visits: tuple[str, ...]
    dates: tuple[datetime.date, ...]
    rows: tuple[HistoryRow, ...]
    target_diameters_mm: dict[str, tuple[float | None, ...]]
    sums_mm: tuple[float | None, ...]
    responses: tuple[str | None, ...]


def _cell(lesion: Lesion, timepoint: TimePoint, counted: CountedDiameter | None) -> str:
    if counted is None:
        return finding_text(lesion, timepoint)
    if counted.basis in _MEASURED and counted.diameter_mm is not None:
        return f"{counted.diameter_mm:.1f}"
    return counted_text(counted)


def _counted_by_visit(
    assessment: Assessment, timepoints: tuple[TimePoint, ...]
) -> list[dict[str, CountedDiameter]]:
    found: list[dict[str, CountedDiameter]] = []
    for timepoint in timepoints:
        try:
            found.append(assessment.target_diameters_at(timepoint.visit))
        except KeyError:
            found.append({})  # a visit the assessment does not cover
    return found


def lesion_history(reading: Reading, assessment: Assessment) -> LesionHistory:
    """The lesion × visit history of ``reading`` (pure; no Qt objects).

    Targets show what they counted in ``assessment`` (``assess(reading)``).
    """
    timepoints = reading.timepoints
    by_visit = {t.visit: t for t in assessment.timepoints}
    counted_by_visit = _counted_by_visit(assessment, timepoints)
    order = {LesionRole.TARGET: 0, LesionRole.NON_TARGET: 1, LesionRole.NEW: 2}
    rows: list[HistoryRow] = []
    diameters: dict[str, tuple[float | None, ...]] = {}
    for lesion in sorted(reading.lesions, key=lambda x: order[x.role]):
        if lesion.role is LesionRole.TARGET:
            counted = [found.get(lesion.lesion_id) for found in counted_by_visit]
            diameters[lesion.lesion_id] = tuple(
                None if c is None else c.diameter_mm for c in counted
            )
            cells = tuple(
                _cell(lesion, t, c) for t, c in zip(timepoints, counted, strict=True)
            )
        else:
            cells = tuple(finding_text(lesion, t) for t in timepoints)
        label = lesion.lesion_id + (f" {lesion.organ}" if lesion.organ else "")
        rows.append(HistoryRow(label, cells, lesion.role))
    sums: list[float | None] = []
    responses: list[str | None] = []
    for timepoint in timepoints:
        if timepoint.is_baseline:
            sums.append(assessment.baseline.sum_of_diameters_mm)
            baseline = assessment.baseline.overall_response
            if not assessment.baseline.read:
                responses.append(NOT_READ)
            else:
                responses.append(None if baseline is None else str(baseline.value))
            continue
        assessed = by_visit.get(timepoint.visit)
        sums.append(None if assessed is None else assessed.sum_of_diameters_mm)
        if assessed is None:
            responses.append(None)
        elif assessed.overall_response is None:
            responses.append(NOT_READ)  # no response, never "NED"
        else:
            responses.append(str(assessed.overall_response.value))
    rows.append(
        HistoryRow(_SUM_LABEL, tuple("—" if s is None else f"{s:.1f}" for s in sums))
    )
    rows.append(HistoryRow(_RESPONSE_LABEL, tuple(r or "—" for r in responses)))
    return LesionHistory(
        visits=tuple(t.visit for t in timepoints),
        dates=tuple(t.date for t in timepoints),
        rows=tuple(rows),
        target_diameters_mm=diameters,
        sums_mm=tuple(sums),
        responses=tuple(responses),
    )


class LesionHistoryModel(QAbstractTableModel):
    """Read-only lesion × visit table (diameters in mm, or state names)."""

    def __init__(self) -> None:
        super().__init__()
        self._history: LesionHistory | None = None

    def set_history(self, history: LesionHistory) -> None:
        """Show ``history``."""
        self.beginResetModel()
        self._history = history
        self.endResetModel()

    def rowCount(self, parent: _Index | None = None) -> int:
        """Lesions plus the sum and response rows."""
        if self._history is None or (parent is not None and parent.isValid()):
            return 0
        return len(self._history.rows)

    def columnCount(self, parent: _Index | None = None) -> int:
        """The label column plus one per visit."""
        if self._history is None or (parent is not None and parent.isValid()):
            return 0
        return 1 + len(self._history.visits)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        """``Lesion`` then each visit with its date."""
        history = self._history
        if (
            history is None
            or orientation != Qt.Orientation.Horizontal
            or role != Qt.ItemDataRole.DisplayRole
        ):
            return None
        if section == 0:
            return "Lesion (mm)"
        index = section - 1
        return f"{history.visits[index].title()}\n{history.dates[index].isoformat()}"

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, response colours and bold summary rows."""
        history = self._history
        if history is None or not index.isValid():
            return None
        row = history.rows[index.row()]
        column = index.column()
        text = row.label if column == 0 else row.cells[column - 1]
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == Qt.ItemDataRole.TextAlignmentRole and column > 0:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.FontRole and row.role is None:
            font = QFont()
            font.setBold(True)
            return font
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and row.label == _RESPONSE_LABEL
            and text in RESPONSE_COLORS
        ):
            return QBrush(QColor(RESPONSE_COLORS[text]))
        return None


class HistoryPanel(QWidget):
    """The lesion history table beside the plot of diameters over time."""

    def __init__(
        self, document: ReadingDocument, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.model = LesionHistoryModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 6
        )
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self._unplotted: LesionHistory | None = None  # not drawn yet
        self._axes: Axes | None = None
        self._canvas: FigureCanvasQTAgg | None = None
        self._plot_place = QWidget()  # the plot's canvas, once it is first shown
        self._plot_place.setMinimumSize(320, 200)
        QVBoxLayout(self._plot_place).setContentsMargins(0, 0, 0, 0)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self._plot_place)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        document.reading_changed.connect(self._refresh)
        self._refresh(document.reading, document.assessment)

    def _refresh(self, reading: Reading, assessment: Assessment) -> None:
        history = lesion_history(reading, assessment)
        self.model.set_history(history)
        self._fit_table_width()
        self._unplotted = history
        if self.isVisible():
            self._plot_current()

    def showEvent(self, event: QShowEvent) -> None:
        """Draw the plot when the panel comes into view, if it changed meanwhile."""
        super().showEvent(event)
        self._plot_current()

    @property
    def axes(self) -> Axes:
        """The plot's axes, up to date with the document."""
        self._plot_current()
        assert self._axes is not None
        return self._axes

    def _plot_current(self) -> None:
        if self._axes is None:
            # Imported here, not at start-up: Matplotlib takes a tenth of a
            # second or more to import and only this tab needs it.
            from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
            from matplotlib.figure import Figure

            figure = Figure(figsize=(5, 2.6), dpi=100, layout="constrained")
            self._axes = figure.add_subplot()
            self._canvas = FigureCanvasQTAgg(figure)  # type: ignore[no-untyped-call]
            layout = self._plot_place.layout()
            assert layout is not None
            layout.addWidget(self._canvas)
        if self._unplotted is not None:
            self._plot(self._unplotted)
            self._unplotted = None

    def _fit_table_width(self) -> None:
        # Every visit's column in view without scrolling, up to a limit; the
        # plot takes the rest of the width.
        table = self.table
        table.resizeColumnsToContents()
        header = table.horizontalHeader()
        needed = sum(header.sectionSize(i) for i in range(header.count()))
        needed += 2 * table.frameWidth() + table.verticalScrollBar().sizeHint().width()
        table.setMinimumWidth(min(needed, 760))

    def _plot(self, history: LesionHistory) -> None:
        axes, canvas = self._axes, self._canvas
        assert axes is not None
        assert canvas is not None
        axes.clear()
        dates = history.dates
        # Days since the first visit: spacing shows the real time between scans.
        days = [float((date - dates[0]).days) for date in dates]
        for lesion_id, values in history.target_diameters_mm.items():
            axes.plot(
                days,
                [float("nan") if v is None else v for v in values],
                marker="o",
                markersize=3,
                linewidth=1,
                alpha=0.8,
                label=lesion_id,
            )
        sums = [float("nan") if s is None else s for s in history.sums_mm]
        axes.plot(days, sums, color="black", linewidth=2.2, marker="s", label="Sum")
        for index, (day, total, response) in enumerate(
            zip(days, history.sums_mm, history.responses, strict=True)
        ):
            if response is None or total is None or index == 0:
                continue
            color = RESPONSE_COLORS.get(response, "#4a5568")
            axes.annotate(
                response,
                (day, total),
                textcoords="offset points",
                xytext=(0, 8),
                ha="center",
                fontsize=8,
                fontweight="bold",
                color=color,
            )
        axes.set_ylabel("Diameter (mm)", fontsize=8)
        axes.tick_params(labelsize=7)
        if dates:
            axes.set_xticks(
                days,
                labels=[
                    f"{visit.title()}\n{date:%Y-%m-%d}"
                    for visit, date in zip(history.visits, dates, strict=True)
                ],
            )
            heights: list[float] = [v for v in history.sums_mm if v is not None]
            for series in history.target_diameters_mm.values():
                heights += [v for v in series if v is not None]
            # Room above the highest point for the response marks.
            axes.set_ylim(0, max([*heights, 10.0]) * 1.2)
        axes.grid(visible=True, alpha=0.3)
        if history.target_diameters_mm:
            # Outside the axes, so it never hides a point or a response mark.
            axes.legend(
                fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False
            )
        canvas.draw_idle()  # type: ignore[no-untyped-call]

    def line_count(self) -> int:
        """How many lines the plot draws (the sum and one per target)."""
        return len(self.axes.get_lines())
