"""The visit table: each study of the open patient, its visit, date and series.

Every change is one undoable document step (so it is autosaved like any other
edit). A change the reading refuses (dates out of order, a visit with findings
losing its series) is explained in one line under the table and the table shows
the reading as it still is.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from recist_app.recist import ReadingError
from recist_app.ui.error_dialog import describe_error
from recist_app.ui.errors import DocumentLockedError
from recist_app.workflows.errors import VisitAssignmentError
from recist_app.workflows.visits import (
    BASELINE_LABEL,
    VisitAssignment,
    assign_visits,
    assignments_of,
    follow_up_label,
    in_date_order,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from recist_app.ui.document import ReadingDocument
    from recist_app.workflows.visits import StoredStudy

__all__ = ["NOT_READ", "VisitTable"]

NOT_READ = "— not read —"
_STUDY, _VISIT, _DATE, _SERIES = range(4)


def _series_text(number: int | None, count: int) -> str:
    return (f"#{number} " if number is not None else "") + f"{count} img"


class VisitTable(QWidget):
    """Assign the open patient's studies to visits (baseline, follow-up N)."""

    def __init__(
        self, document: ReadingDocument, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.document = document
        self._studies: tuple[StoredStudy, ...] = ()
        self._syncing = False
        self._built_for: tuple[StoredStudy, ...] | None = None
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Study", "Visit", "Date", "Series"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(_STUDY, QHeaderView.ResizeMode.Stretch)
        for column in (_VISIT, _DATE, _SERIES):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.order_button = QPushButton("Assign in date order")
        self.order_button.setToolTip(
            "Oldest study = baseline, then follow-up 1, 2, … (one undo step)"
        )
        self.order_button.clicked.connect(self.assign_in_date_order)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c53030")
        buttons = QHBoxLayout()
        buttons.addWidget(self.order_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        document.reading_changed.connect(self._sync)
        document.lock_changed.connect(self._sync)
        self.set_studies(())

    # ------------------------------------------------------------ content
    @property
    def studies(self) -> tuple[StoredStudy, ...]:
        """The open patient's studies, one row each."""
        return self._studies

    def set_studies(self, studies: Sequence[StoredStudy]) -> None:
        """Show ``studies`` (of the document's patient) with their assignment."""
        self._studies = tuple(studies)
        self.message.clear()
        self._sync()

    def visit_combo(self, row: int) -> QComboBox:
        """The visit chooser of ``row``."""
        widget = self.table.cellWidget(row, _VISIT)
        assert isinstance(widget, QComboBox)
        return widget

    def date_edit(self, row: int) -> QDateEdit:
        """The date editor of ``row``."""
        widget = self.table.cellWidget(row, _DATE)
        assert isinstance(widget, QDateEdit)
        return widget

    def series_combo(self, row: int) -> QComboBox:
        """The series chooser of ``row``."""
        widget = self.table.cellWidget(row, _SERIES)
        assert isinstance(widget, QComboBox)
        return widget

    # ------------------------------------------------------------ editing
    def assign_in_date_order(self) -> None:
        """Oldest study is the baseline, the others follow-ups in date order."""
        self._apply(in_date_order(self._studies), "Assign visits in date order")

    def _row_assignment(self, row: int) -> VisitAssignment:
        combo = self.visit_combo(row)
        visit = combo.currentText().strip()
        date = self.date_edit(row).date().toPython()
        assert isinstance(date, datetime.date)
        series = self.series_combo(row).currentData()
        return VisitAssignment(
            study_instance_uid=self._studies[row].study_instance_uid,
            visit="" if visit == NOT_READ else visit,
            date=date,
            series_instance_uid=series if isinstance(series, str) else "",
        )

    def _edited(self, *_args: object) -> None:
        if self._syncing:
            return
        assignments = [self._row_assignment(row) for row in range(len(self._studies))]
        self._apply(assignments, "Assign visits")

    def _apply(self, assignments: Sequence[VisitAssignment], text: str) -> None:
        document = self.document
        try:
            after = assign_visits(document.reading, self._studies, assignments)
            document.replace(after, text)
        except (ReadingError, VisitAssignmentError, DocumentLockedError) as error:
            self.message.setText(describe_error(error))
            self._sync()
            return
        self.message.clear()

    # ------------------------------------------------------------ display
    def _sync(self, *_args: object) -> None:
        self._syncing = True
        try:
            self._fill()
        finally:
            self._syncing = False

    def _fill(self) -> None:
        reading = self.document.reading
        studies = self._studies
        self.title.setText(
            f"Visits of {reading.patient_id}: choose each study's visit, date and "
            "series."
            if studies
            else f"{reading.patient_id}: no imported study. Import its DICOM "
            "folder, then double-click the patient."
        )
        if self._built_for != studies:
            self._build_rows()
        labels = [BASELINE_LABEL] + [
            follow_up_label(n) for n in range(1, max(len(studies), 1))
        ]
        editable = not self.document.locked
        assignments = assignments_of(reading, studies)
        for row, assignment in enumerate(assignments):
            visit = self.visit_combo(row)
            visit.clear()
            visit.addItems([NOT_READ, *labels])
            if assignment.visit and assignment.visit not in labels:
                visit.addItem(assignment.visit)
            visit.setCurrentText(assignment.visit or NOT_READ)
            visit.setEnabled(editable)
            day = assignment.date
            editor = self.date_edit(row)
            editor.setDate(QDate(day.year, day.month, day.day))
            editor.setEnabled(editable and bool(assignment.visit))
            series = self.series_combo(row)
            series.setCurrentIndex(series.findData(assignment.series_instance_uid))
            series.setEnabled(editable and bool(assignment.visit))
        self.order_button.setEnabled(editable and bool(studies))

    def _build_rows(self) -> None:
        """One row of widgets per study (built once per patient, then updated)."""
        studies = self._studies
        self._built_for = studies
        self.table.clearContents()
        self.table.setRowCount(len(studies))
        for row, study in enumerate(studies):
            date = study.study_date.isoformat() if study.study_date else "no date"
            item = QTableWidgetItem(f"{date}  {study.description or 'study'}")
            item.setToolTip(f"{study.description}\n{study.study_instance_uid}")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.table.setItem(row, _STUDY, item)
            visit = QComboBox()
            visit.setEditable(True)
            visit.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            visit.setMinimumContentsLength(10)
            visit.activated.connect(self._edited)
            line_edit = visit.lineEdit()
            if line_edit is not None:
                line_edit.editingFinished.connect(self._visit_typed)
            editor = QDateEdit()
            editor.setCalendarPopup(True)
            editor.setDisplayFormat("yyyy-MM-dd")
            editor.editingFinished.connect(self._edited)
            editor.calendarWidget().clicked.connect(self._edited)
            series = QComboBox()
            for stored in study.series:
                series.addItem(
                    _series_text(stored.series_number, stored.slice_count),
                    stored.series_instance_uid,
                )
                series.setItemData(
                    series.count() - 1,
                    f"{stored.modality} {stored.description}",
                    Qt.ItemDataRole.ToolTipRole,
                )
            series.activated.connect(self._edited)
            for column, widget in ((_VISIT, visit), (_DATE, editor), (_SERIES, series)):
                self.table.setCellWidget(row, column, widget)
        self.table.resizeRowsToContents()

    def _visit_typed(self) -> None:
        # editingFinished also fires when focus leaves after choosing from the
        # list; an unchanged table makes no undo step (document.replace no-op).
        self._edited()
