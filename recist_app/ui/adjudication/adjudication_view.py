"""The adjudication view: two readers' reads of one patient, side by side.

The list on the left holds the discordant patients
(:func:`~recist_app.workflows.central_reading.adjudication_list`) with the
reason the reads disagree. Choosing one loads both signed reads
(:func:`~recist_app.workflows.central_reading.adjudication_case`) in the
background: the visit's images show each reader's lesions and lines on the same
slices, in each reader's colour, and under them each reader's response timeline
(visit, date, sum of diameters, overall response). The adjudicator accepts one
read with a reason; the decision is signed with the adjudicator's name and
audited by :func:`~recist_app.workflows.central_reading.decide`, in the
background, and the list shows it. Everything goes through the workflows.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QCloseEvent, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from recist_app.recist import Criteria, ReaderRole
from recist_app.ui.background import TaskRunner
from recist_app.ui.measurement_controller import measurement_overlays
from recist_app.ui.viewer.measure_tool import Tool
from recist_app.ui.viewer.slice_view import SliceView
from recist_app.workflows.central_reading import (
    AdjudicationCase,
    CentralStatus,
    DiscordanceRules,
    adjudication_case,
    adjudication_list,
    decide,
)
from recist_app.workflows.images import load_series

if TYPE_CHECKING:
    from recist_app.imaging import ImageVolume
    from recist_app.recist import Assessment
    from recist_app.ui.background import TaskContext
    from recist_app.ui.viewer.measure_tool import MeasurementOverlay
    from recist_app.workflows.central_reading import AdjudicationRecord
    from recist_app.workflows.database import Store

__all__ = ["READER_COLORS", "AdjudicationView", "open_adjudication_view"]

READER_COLORS: dict[ReaderRole, str] = {
    ReaderRole.READER_1: "#4fc3f7",  # light blue
    ReaderRole.READER_2: "#ffb74d",  # orange
}
"""Each primary reader's colour: lines, labels and timeline headers."""

_PRIMARY = (ReaderRole.READER_1, ReaderRole.READER_2)
_TIMELINE = ("visit", "date", "sum (mm)", "overall")


def _list_text(status: CentralStatus) -> str:
    decision = status.decision
    outcome = "pending" if decision is None else f"{decision.accepted_role.value}"
    return f"{status.patient_id}   {status.reason}   [{outcome}]"


def timeline_rows(assessment: Assessment) -> list[tuple[str, ...]]:
    """One reader's response timeline: visit, date, sum of diameters, response."""
    rows: list[tuple[str, ...]] = []
    for timepoint in assessment.timepoints:
        total = timepoint.sum_of_diameters_mm
        response = timepoint.overall_response
        rows.append(
            (
                timepoint.visit,
                timepoint.date.isoformat(),
                "-" if total is None else f"{total:.1f}",
                "not read" if response is None else response.value,
            )
        )
    best = assessment.best_overall_response
    rows.append(("BOR", "", "", best.response.value))
    return rows


class AdjudicationView(QWidget):
    """Discordant patients, both reads side by side, and the decision.

    Parameters
    ----------
    store
        The reading database (reached only through the workflows).
    user
        The adjudicator, who signs the decision.
    criteria, rules
        The criteria set and discordance rules of the central review.

    Signals
    -------
    decided(object)
        The :class:`~recist_app.store.AdjudicationRecord` just recorded.
    case_loaded(str)
        Both reads of this patient are shown.
    message(str)
        A one-line status for the status bar (and errors).
    """

    decided = Signal(object)
    case_loaded = Signal(str)
    message = Signal(str)

    def __init__(
        self,
        store: Store,
        *,
        user: str,
        criteria: Criteria = Criteria.RECIST_1_1,
        rules: DiscordanceRules | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(f"Adjudication — {user} (adjudicator)")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._store = store
        self._user = user
        self._criteria = criteria
        self._rules = rules or DiscordanceRules()
        self._runner = TaskRunner("adjudication", self)
        self._case: AdjudicationCase | None = None
        self._volumes: dict[str, ImageVolume] = {}

        self.patient_list = QListWidget()
        self.patient_list.currentItemChanged.connect(self._patient_chosen)
        self.visit_combo = QComboBox()
        self.visit_combo.activated.connect(self._show_visit)
        self.slice_view = SliceView()
        self.slice_view.set_tool(Tool.NAVIGATE)
        self.timelines: dict[ReaderRole, QTableWidget] = {}
        self.timeline_titles: dict[ReaderRole, QLabel] = {}
        timelines = QGridLayout()
        for column, role in enumerate(_PRIMARY):
            title = QLabel(role.value)
            title.setStyleSheet(f"color: {READER_COLORS[role]}; font-weight: bold")
            table = QTableWidget(0, len(_TIMELINE))
            table.setHorizontalHeaderLabels(list(_TIMELINE))
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            timelines.addWidget(title, 0, column)
            timelines.addWidget(table, 1, column)
            self.timelines[role] = table
            self.timeline_titles[role] = title
        self.reason_label = QLabel()
        self.reason_label.setWordWrap(True)
        self.accept_combo = QComboBox()
        for role in _PRIMARY:
            self.accept_combo.addItem(f"accept {role.value}'s read", role)
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("why this read (kept in the audit trail)")
        self.accept_button = QPushButton("Accept and sign")
        self.accept_button.clicked.connect(self.accept_read)
        self.accept_button.setEnabled(False)
        self.status_label = QLabel()

        right = QWidget()
        column_layout = QVBoxLayout(right)
        column_layout.addWidget(self.reason_label)
        visits = QHBoxLayout()
        visits.addWidget(QLabel("Visit"))
        visits.addWidget(self.visit_combo, 1)
        column_layout.addLayout(visits)
        column_layout.addWidget(self.slice_view, 3)
        column_layout.addLayout(timelines, 2)
        decision = QHBoxLayout()
        decision.addWidget(self.accept_combo)
        decision.addWidget(self.reason_edit, 1)
        decision.addWidget(self.accept_button)
        column_layout.addLayout(decision)
        column_layout.addWidget(self.status_label)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.patient_list)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.message.connect(self.status_label.setText)
        self.resize(1300, 850)
        self.refresh()

    # ---------------------------------------------------------------- list
    def refresh(self) -> None:
        """Reload the discordant patients (in the background)."""
        self._runner.submit(
            lambda _context: adjudication_list(
                self._store, criteria=self._criteria, rules=self._rules
            ),
            done=self._fill_list,
            failed=self.message.emit,
            name="adjudication-list",
        )

    def _fill_list(self, statuses: tuple[CentralStatus, ...]) -> None:
        current = self.current_patient()
        self.patient_list.blockSignals(True)
        self.patient_list.clear()
        for status in statuses:
            item = QListWidgetItem(_list_text(status))
            item.setData(Qt.ItemDataRole.UserRole, status.patient_id)
            self.patient_list.addItem(item)
            if status.patient_id == current:
                self.patient_list.setCurrentItem(item)
        self.patient_list.blockSignals(False)
        self.message.emit(
            f"{len(statuses)} discordant patient{'s' if len(statuses) != 1 else ''}"
        )

    def current_patient(self) -> str | None:
        """The patient chosen in the list."""
        item = self.patient_list.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def select_patient(self, patient_id: str) -> None:
        """Choose ``patient_id`` in the list (loads both reads)."""
        for row in range(self.patient_list.count()):
            item = self.patient_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == patient_id:
                self.patient_list.setCurrentItem(item)
                return
        self.message.emit(f"patient {patient_id} is not discordant")

    # ---------------------------------------------------------------- case
    def _patient_chosen(self, item: QListWidgetItem | None, _old: object) -> None:
        if item is None:
            return
        patient_id = str(item.data(Qt.ItemDataRole.UserRole))
        self.accept_button.setEnabled(False)
        self.message.emit(f"loading both reads of {patient_id}…")
        self._runner.submit(
            lambda context: self._load_case(context, patient_id),
            done=self._show_case,
            failed=self.message.emit,
            name="adjudication-case",
        )

    def _load_case(
        self, context: TaskContext, patient_id: str
    ) -> tuple[AdjudicationCase, dict[str, ImageVolume]]:
        case = adjudication_case(
            self._store, patient_id, criteria=self._criteria, rules=self._rules
        )
        volumes: dict[str, ImageVolume] = {}
        for reading in case.readings.values():
            for timepoint in reading.timepoints:
                uid = timepoint.series_instance_uid
                if uid and uid not in volumes and not context.cancelled:
                    volumes[uid] = load_series(self._store, uid, cancel=context.token)
        return case, volumes

    def _show_case(
        self, loaded: tuple[AdjudicationCase, dict[str, ImageVolume]]
    ) -> None:
        case, volumes = loaded
        self._case, self._volumes = case, volumes
        status = case.status
        self.reason_label.setText(
            f"<b>{status.patient_id}</b> — discordant: {status.reason}"
            + (
                ""
                if status.decision is None
                else f" — accepted {status.decision.accepted_role.value}'s read "
                f"({status.decision.decided_by}: {status.decision.reason})"
            )
        )
        for role in _PRIMARY:
            reader = case.readings[role].reader
            self.timeline_titles[role].setText(f"{role.value} — {reader}")
            rows = timeline_rows(case.assessments[role])
            table = self.timelines[role]
            table.setRowCount(len(rows))
            for r, row in enumerate(rows):
                for c, text in enumerate(row):
                    cell = QTableWidgetItem(text)
                    cell.setForeground(QBrush(QColor(READER_COLORS[role])))
                    table.setItem(r, c, cell)
            table.resizeColumnsToContents()
        visits: dict[str, object] = {}
        for reading in case.readings.values():
            for timepoint in reading.timepoints:
                visits.setdefault(timepoint.visit, timepoint.date)
        self.visit_combo.clear()
        for visit, date in sorted(visits.items(), key=lambda item: str(item[1])):
            self.visit_combo.addItem(f"{visit}  {date}", visit)
        self.visit_combo.setCurrentIndex(max(0, self.visit_combo.count() - 1))
        self._show_visit(self.visit_combo.currentIndex())
        self.accept_button.setEnabled(True)
        self.message.emit(f"both reads of {status.patient_id} shown")
        self.case_loaded.emit(status.patient_id)

    def overlays_at(self, visit: str) -> list[tuple[ReaderRole, str, str]]:
        """``(reader, lesion, colour)`` of every line drawn at ``visit``."""
        return [
            (role, o.lesion_id, o.color or "") for role, o in self._overlays(visit)[1]
        ]

    def _overlays(
        self, visit: str
    ) -> tuple[ImageVolume | None, list[tuple[ReaderRole, MeasurementOverlay]]]:
        case = self._case
        if case is None:
            return None, []
        volume: ImageVolume | None = None
        for role in _PRIMARY:
            reading = case.readings[role]
            if visit in {t.visit for t in reading.timepoints}:
                uid = reading.timepoint(visit).series_instance_uid
                if uid in self._volumes:
                    volume = self._volumes[uid]
                    break
        if volume is None:
            return None, []
        found: list[tuple[ReaderRole, MeasurementOverlay]] = []
        for role in _PRIMARY:
            reading = case.readings[role]
            if visit not in {t.visit for t in reading.timepoints}:
                continue
            short = "R1" if role is ReaderRole.READER_1 else "R2"
            for overlay in measurement_overlays(reading, visit, volume):
                found.append(
                    (
                        role,
                        dataclasses.replace(
                            overlay,
                            color=READER_COLORS[role],
                            label=f"{short} {overlay.label}",
                        ),
                    )
                )
        return volume, found

    def _show_visit(self, index: int) -> None:
        visit = self.visit_combo.itemData(index)
        if visit is None:
            return
        volume, overlays = self._overlays(str(visit))
        if volume is not self.slice_view.volume:
            self.slice_view.set_volume(volume, title_lines=(str(visit),))
        self.slice_view.set_overlays([o for _role, o in overlays])
        if overlays:
            self.slice_view.set_slice_index(overlays[0][1].slice_index)

    # ---------------------------------------------------------------- decision
    def accept_read(self) -> None:
        """Record the decision chosen (in the background); the list refreshes."""
        patient_id = self.current_patient()
        if patient_id is None:
            self.message.emit("choose a patient first")
            return
        role: ReaderRole = self.accept_combo.currentData()
        reason = self.reason_edit.text()
        self.accept_button.setEnabled(False)
        self._runner.submit(
            lambda _context: decide(
                self._store,
                patient_id,
                accept=role,
                reason=reason,
                user=self._user,
                criteria=self._criteria,
                rules=self._rules,
            ),
            done=self._decided,
            failed=self._decision_failed,
            name="adjudication-decide",
        )

    def _decided(self, record: AdjudicationRecord) -> None:
        self.reason_edit.clear()
        self.accept_button.setEnabled(True)
        self.message.emit(
            f"{record.patient_id}: accepted {record.accepted_role.value}'s read, "
            f"signed by {record.decided_by}"
        )
        self.decided.emit(record)
        self.refresh()

    def _decision_failed(self, message: str) -> None:
        self.accept_button.setEnabled(True)
        self.message.emit(message)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the background work with the window."""
        self._runner.shutdown(timeout_s=2.0)
        super().closeEvent(event)


def open_adjudication_view(
    parent: QWidget, store: Store, *, user: str
) -> AdjudicationView:
    """Show the parent's adjudication view, creating it the first time."""
    view = parent.findChild(AdjudicationView)
    if view is None:
        view = AdjudicationView(store, user=user, parent=parent)
    view.show()
    view.raise_()
    view.activateWindow()
    return view
