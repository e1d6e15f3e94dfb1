"""Response panel: RECIST 1.1, iRECIST and mRECIST side by side at the visit read.

Readers measure once; the panel assesses the same reading under each criteria set
shown (:func:`~recist_app.recist.assess` on the reading with its ``criteria``
replaced, as ``recist-app evaluate --criteria all`` does) and lays the results out
as one column per criteria: the diameter each target counted (mRECIST: the viable
part), sums (mRECIST: the viable sum, iRECIST: also the new-lesion sum), changes
from baseline and nadir, the target, non-target, new-lesion and overall responses,
the best response so far and overall, then each column's reasons. Which columns
show is a setting (check boxes above the table); the reading's own criteria always
shows.
"""

from __future__ import annotations

import dataclasses
import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from recist_app.recist import Criteria, assess
from recist_app.ui.panels.lesion_table import counted_text

if TYPE_CHECKING:
    from collections.abc import Iterable

    from PySide6.QtCore import QSettings

    from recist_app.recist import (
        Assessment,
        CountedDiameter,
        Reading,
        TimepointAssessment,
    )
    from recist_app.ui.document import ReadingDocument

__all__ = [
    "NOT_READ",
    "RESPONSE_COLORS",
    "ResponsePanel",
    "assessments_by_criteria",
    "baseline_rows",
    "follow_up_rows",
]

RESPONSE_COLORS = {
    "CR": "#1f9d55",
    "PR": "#38a169",
    "SD": "#b7791f",
    "PD": "#e53e3e",
    "NE": "#718096",
    "NON-CR/NON-PD": "#b7791f",
    "NED": "#718096",
    "iCR": "#1f9d55",
    "iPR": "#38a169",
    "iSD": "#b7791f",
    "iUPD": "#dd6b20",
    "iCPD": "#e53e3e",
    "NON-iCR/NON-iUPD": "#b7791f",
}

SETTINGS_KEY = "response/criteria"
"""QSettings key: the criteria columns shown, as comma-separated values."""

_SUM_NOTE = {Criteria.MRECIST: " viable"}
_RESPONSE_ROWS = frozenset(
    {
        "Target",
        "Non-target",
        "Overall",
        "Best so far",
        "Best overall",
        "Disease status",
    }
)

Row = tuple[str, str]
"""``(row name, cell text)`` of one criteria column."""


def _mm(value: float | None, note: str = "") -> str:
    return "—" if value is None else f"{value:.1f} mm{note}"


def _signed(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{value:+.1f} {unit}"


def _change(pct: float | None, mm: float | None) -> str:
    if pct is None and mm is None:
        return "—"
    return f"{_signed(pct, '%')} ({_signed(mm, 'mm')})"


def assessments_by_criteria(
    reading: Reading, own: Assessment, criteria: tuple[Criteria, ...]
) -> dict[Criteria, Assessment]:
    """``reading`` assessed under each of ``criteria``.

    ``own`` is the assessment under the reading's own criteria (the document's),
    reused rather than computed again.
    """
    return {
        item: own
        if item is reading.criteria
        else assess(dataclasses.replace(reading, criteria=item))
        for item in criteria
    }


NOT_READ = "not read"
"""What a visit not read shows instead of a response (never "NED")."""


def _best_text(assessment: Assessment) -> str:
    if not assessment.baseline.read or not any(
        t.is_read for t in assessment.timepoints
    ):
        return NOT_READ
    best = assessment.best_overall_response
    status = "confirmed" if best.confirmed else "unconfirmed"
    return f"{best.response.value} ({status})"


def _target_rows(diameters: Iterable[CountedDiameter]) -> tuple[Row, ...]:
    """One row per target: the diameter it counted (A2, A6, B2–B4, J1)."""
    return tuple((d.lesion_id, counted_text(d)) for d in diameters)


def follow_up_rows(
    criteria: Criteria, timepoint: TimepointAssessment, assessment: Assessment
) -> tuple[Row, ...]:
    """The rows of one criteria column at a follow-up visit."""
    note = _SUM_NOTE.get(criteria, "")
    new_lesion_sum = (
        _mm(timepoint.new_lesion_sum_mm) if criteria is Criteria.IRECIST else ""
    )
    return (
        *_target_rows(timepoint.target_diameters),
        ("Target sum", _mm(timepoint.sum_of_diameters_mm, note)),
        (
            "Change from baseline",
            _change(
                timepoint.change_from_baseline_pct, timepoint.change_from_baseline_mm
            ),
        ),
        ("Nadir", _mm(timepoint.nadir_mm, note)),
        (
            "Change from nadir",
            _change(timepoint.change_from_nadir_pct, timepoint.change_from_nadir_mm),
        ),
        ("New-lesion sum", new_lesion_sum),
        ("Target", _code(timepoint.target_response)),
        ("Non-target", _code(timepoint.non_target_response)),
        ("New lesions", _code(timepoint.new_lesions)),
        (
            "Overall",
            NOT_READ
            if timepoint.overall_response is None
            else timepoint.overall_response.value,
        ),
        ("Best so far", timepoint.best_overall_response_so_far.value),
        ("Best overall", _best_text(assessment)),
    )


def baseline_rows(criteria: Criteria, assessment: Assessment) -> tuple[Row, ...]:
    """The rows of one criteria column at the baseline visit."""
    baseline = assessment.baseline
    return (
        *_target_rows(baseline.target_diameters),
        (
            "Baseline sum",
            _mm(baseline.sum_of_diameters_mm, _SUM_NOTE.get(criteria, "")),
        ),
        ("Target lesions", str(baseline.target_count)),
        ("Non-target lesions", str(baseline.non_target_count)),
        (
            "Disease status",
            _code(baseline.overall_response) if baseline.read else NOT_READ,
        ),
        ("Conformance", f"{len(baseline.warnings)} warning(s)"),
        ("Best overall", _best_text(assessment)),
    )


def _code(response: object) -> str:
    return "—" if response is None else str(response)


def _reasons_html(
    reading: Reading,
    visit: str,
    assessments: dict[Criteria, Assessment],
) -> str:
    timepoint = reading.timepoint(visit)
    own = assessments.get(reading.criteria)
    own_warnings = set(own.baseline.warnings) if own is not None else set()
    parts: list[str] = []
    for criteria, assessment in assessments.items():
        if timepoint.is_baseline:
            # The reading's own warnings are in the lesion panel; show what the
            # other criteria add (mRECIST J2, J4).
            reasons = [
                str(w) for w in assessment.baseline.warnings if w not in own_warnings
            ]
            title = f"{criteria.value} adds" if reasons else ""
        else:
            try:
                reasons = list(assessment.timepoint(visit).reasons)
            except KeyError:
                reasons = ["this visit is not assessed"]
            reasons += list(assessment.best_overall_response.reasons)
            title = criteria.value
        if not reasons:
            continue
        parts.append(f"<p><b>{html.escape(title)}</b></p><ul>")
        parts += [f"<li>{html.escape(reason)}</li>" for reason in reasons]
        parts.append("</ul>")
    return "\n".join(parts)


class ResponsePanel(QWidget):
    """One column per criteria for the visit read; refreshes from the document.

    Parameters
    ----------
    document
        The open reading.
    settings
        Where the choice of columns is kept (``response/criteria``); without it
        all three criteria show.
    """

    def __init__(
        self,
        document: ReadingDocument,
        *,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._settings = settings
        self._assessments: dict[Criteria, Assessment] = {}
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)  # the panel is narrow at 1366x768
        title_font = QFont(self.title.font())
        title_font.setBold(True)
        self.title.setFont(title_font)
        self.criteria_checks: dict[Criteria, QCheckBox] = {}
        choices = QHBoxLayout()
        choices.addWidget(self.title)
        choices.addStretch(1)
        shown = self._saved_choice()
        for criteria in Criteria:
            check = QCheckBox(criteria.value)
            check.setChecked(criteria in shown)
            check.toggled.connect(self._choice_changed)
            choices.addWidget(check)
            self.criteria_checks[criteria] = check

        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Stretch
        )
        self.table.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.setMinimumHeight(60)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(choices)
        layout.addWidget(self.table)
        layout.addWidget(self.browser, 1)
        document.reading_changed.connect(self._refresh)
        document.visit_changed.connect(lambda _visit: self._refresh())
        self._refresh()

    # ---------------------------------------------------------------- choice
    def _saved_choice(self) -> set[Criteria]:
        everything = set(Criteria)
        if self._settings is None:
            return everything
        value = self._settings.value(SETTINGS_KEY, "")
        if not isinstance(value, str) or not value:
            return everything
        chosen = {c for c in Criteria if c.value in value.split(",")}
        return chosen or everything

    def shown_criteria(self) -> tuple[Criteria, ...]:
        """The criteria columns shown, in RECIST 1.1, iRECIST, mRECIST order."""
        own = self._document.reading.criteria
        return tuple(
            c
            for c, check in self.criteria_checks.items()
            if check.isChecked() or c is own
        )

    def _choice_changed(self, _checked: bool) -> None:
        if self._settings is not None:
            chosen = [c.value for c, b in self.criteria_checks.items() if b.isChecked()]
            self._settings.setValue(SETTINGS_KEY, ",".join(chosen))
        self._refresh()

    # ---------------------------------------------------------------- refresh
    @property
    def assessments(self) -> dict[Criteria, Assessment]:
        """The assessment behind each column shown."""
        return dict(self._assessments)

    def _refresh(self, *_args: object) -> None:
        document = self._document
        reading = document.reading
        own = reading.criteria
        for criteria, check in self.criteria_checks.items():
            # The reading's own criteria always shows.
            check.setEnabled(criteria is not own)
            check.setToolTip(
                "the reading's criteria" if criteria is own else "show this column"
            )
        shown = self.shown_criteria()
        self._assessments = assessments_by_criteria(reading, document.assessment, shown)
        visit = document.visit
        timepoint = reading.timepoint(visit) if visit else None
        if timepoint is None:
            self.title.setText("Response — no visit in this reading yet")
            self._fill({})
            self.browser.clear()
            return
        self.title.setText(f"{visit.title()} {timepoint.date.isoformat()}")
        self.title.setToolTip(f"the reading is under {own.value}")
        columns: dict[Criteria, tuple[Row, ...]] = {}
        for criteria, assessment in self._assessments.items():
            if timepoint.is_baseline:
                columns[criteria] = baseline_rows(criteria, assessment)
                continue
            try:
                follow_up = assessment.timepoint(visit)
            except KeyError:
                columns[criteria] = (("Overall", "not assessed"),)
                continue
            columns[criteria] = follow_up_rows(criteria, follow_up, assessment)
        self._fill(columns)
        self.browser.setHtml(_reasons_html(reading, visit, self._assessments))

    def _fill(self, columns: dict[Criteria, tuple[Row, ...]]) -> None:
        table = self.table
        names: list[str] = []
        for rows in columns.values():
            names += [name for name, _text in rows if name not in names]
        table.clear()
        table.setColumnCount(len(columns))
        table.setRowCount(len(names))
        table.setHorizontalHeaderLabels([c.value for c in columns])
        table.setVerticalHeaderLabels(names)
        own = self._document.reading.criteria
        bold = QFont(table.font())
        bold.setBold(True)
        for column, (criteria, rows) in enumerate(columns.items()):
            header = table.horizontalHeaderItem(column)
            if header is not None and criteria is own:
                header.setFont(bold)
                header.setToolTip("the reading's criteria")
            for name, text in rows:
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                code = text.split(" ")[0]
                if name in _RESPONSE_ROWS and code in RESPONSE_COLORS:
                    item.setForeground(QBrush(QColor(RESPONSE_COLORS[code])))
                    item.setFont(bold)
                table.setItem(names.index(name), column, item)
        table.resizeRowsToContents()
        # Every row in view: the reasons below scroll, the table does not.
        header_px = table.horizontalHeader().sizeHint().height()
        rows_px = table.verticalHeader().length()
        table.setFixedHeight(header_px + rows_px + 2 * table.frameWidth())

    # ---------------------------------------------------------------- reading
    def cell(self, row_name: str, criteria: Criteria) -> str:
        """The text shown in row ``row_name`` of ``criteria``'s column.

        Raises
        ------
        KeyError
            The row or the column is not shown.
        """
        table = self.table
        rows = [table.verticalHeaderItem(r) for r in range(table.rowCount())]
        columns = [table.horizontalHeaderItem(c) for c in range(table.columnCount())]
        row_names = [item.text() if item is not None else "" for item in rows]
        column_names = [item.text() if item is not None else "" for item in columns]
        if row_name not in row_names or criteria.value not in column_names:
            raise KeyError(f"{row_name} / {criteria.value}")
        item = table.item(row_names.index(row_name), column_names.index(criteria.value))
        return item.text() if item is not None else ""

    def text(self) -> str:
        """The panel's plain text (what the reader sees), table then reasons."""
        table = self.table
        lines = [self.title.text()]
        headers = [
            item.text() if (item := table.horizontalHeaderItem(c)) is not None else ""
            for c in range(table.columnCount())
        ]
        lines.append("\t".join(["", *headers]))
        for row in range(table.rowCount()):
            name = table.verticalHeaderItem(row)
            cells = [
                item.text() if (item := table.item(row, c)) is not None else ""
                for c in range(table.columnCount())
            ]
            lines.append("\t".join([name.text() if name else "", *cells]))
        lines.append(self.browser.toPlainText())
        return "\n".join(lines)
