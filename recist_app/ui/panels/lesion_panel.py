"""Lesion panel: add and label lesions, set their state, see baseline warnings."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from recist_app.recist import (
    Lesion,
    LesionRole,
    LesionTemplate,
    Measurement,
    MeasurementState,
    NewLesionObservation,
    NewLesionState,
    NonTargetAssessment,
    NonTargetState,
    ReadingError,
    add_lesion,
    next_lesion_id,
    record_measurement,
    record_new_lesion,
    record_non_target,
    remove_lesion,
    replace_lesion,
    set_no_disease,
)
from recist_app.ui.error_dialog import error_boundary
from recist_app.ui.panels.criteria_flags import CriteriaFlagsBox
from recist_app.ui.panels.lesion_table import LesionColumn, LesionTableModel

if TYPE_CHECKING:
    from recist_app.recist import Assessment, Reading
    from recist_app.ui.document import ReadingDocument
    from recist_app.ui.vocabulary import OrganTerm

__all__ = [
    "NON_TARGET_STATE_LABELS",
    "NO_DISEASE_AT_BASELINE",
    "NO_DISEASE_AT_VISIT",
    "LesionPanel",
    "state_choices",
]

NO_DISEASE_AT_BASELINE = "No measurable / no disease at baseline"
NO_DISEASE_AT_VISIT = "No disease at this visit"

_ROLE_LABELS = {
    LesionRole.TARGET: "Target",
    LesionRole.NON_TARGET: "Non-target",
    LesionRole.NEW: "New lesion",
}


NON_TARGET_STATE_LABELS = {
    NonTargetState.PRESENT: "present",
    NonTargetState.ABSENT: "absent",
    NonTargetState.UNEQUIVOCAL_PROGRESSION: "unequivocal progression",
    NonTargetState.FURTHER_INCREASE: "further increase since iUPD (iRECIST)",
    NonTargetState.NOT_EVALUABLE: "not evaluable",
}
"""What the state combo says for each non-target state (D1–D4, H2)."""


def state_choices(lesion: Lesion, *, is_baseline: bool) -> tuple[tuple[str, str], ...]:
    """``(value, label)`` states a lesion can be given at a visit from the panel.

    ``measured`` is not offered for targets: it comes from drawing a measurement.
    """
    if lesion.role is LesionRole.TARGET:
        states = [
            (MeasurementState.TOO_SMALL, "too small to measure (5 mm)"),
            (MeasurementState.NOT_EVALUABLE, "not evaluable"),
            (MeasurementState.NOT_DONE, "not done"),
        ]
        if not is_baseline:
            states.insert(1, (MeasurementState.DISAPPEARED, "disappeared (0 mm)"))
        return tuple((value.value, label) for value, label in states)
    if lesion.role is LesionRole.NON_TARGET:
        return tuple(
            (state.value, NON_TARGET_STATE_LABELS[state])
            for state in NonTargetState
            if not (is_baseline and state.is_progression)
        )
    if is_baseline:
        return ()
    return tuple((state.value, state.value) for state in NewLesionState)


class _OrganDelegate(QStyledItemDelegate):
    """Organ cells edit with a combo of the controlled list."""

    def __init__(self, organs: tuple[str, ...], parent: QWidget) -> None:
        super().__init__(parent)
        self._organs = organs

    def createEditor(
        self,
        parent: QWidget,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> QWidget:
        editor = QComboBox(parent)
        editor.addItems(list(self._organs))
        return editor

    def setEditorData(
        self, editor: QWidget, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentText(str(index.data(Qt.ItemDataRole.EditRole)))

    def setModelData(
        self,
        editor: QWidget,
        model: object,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        if isinstance(editor, QComboBox) and hasattr(model, "setData"):
            model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)


class LesionPanel(QWidget):
    """Lesion list with add/delete, labels, states and live baseline warnings.

    Every change is pushed on the document as one undo command; the panel shows
    what the document says after ``reading_changed`` (never its own edits).
    """

    error = Signal(str)

    def __init__(
        self,
        document: ReadingDocument,
        vocabulary: tuple[OrganTerm, ...],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._vocabulary = {term.organ: term for term in vocabulary}
        self._syncing = False
        self._read_only = False

        self.role_combo = QComboBox()
        for role, label in _ROLE_LABELS.items():
            self.role_combo.addItem(label, role.value)
        self.organ_combo = QComboBox()
        self.organ_combo.addItems(list(self._vocabulary))
        self.location_combo = QComboBox()
        self.location_combo.setEditable(True)
        self.node_check = QCheckBox("Lymph node")
        self.add_button = QPushButton("Add lesion")
        self.delete_button = QPushButton("Delete")
        self.organ_combo.currentTextChanged.connect(self._organ_chosen)
        self.add_button.clicked.connect(self._add_clicked)
        self.delete_button.clicked.connect(self._delete_clicked)
        self._organ_chosen(self.organ_combo.currentText())

        form = QFormLayout()
        form.addRow("Role", self.role_combo)
        form.addRow("Organ", self.organ_combo)
        form.addRow("Location", self.location_combo)
        buttons = QHBoxLayout()
        buttons.addWidget(self.node_check)
        buttons.addStretch(1)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.delete_button)
        form.addRow(buttons)
        new_box = QGroupBox("New lesion (also used when you draw without a selection)")
        new_box.setLayout(form)
        self.new_box = new_box

        self.model = LesionTableModel(self._edit_requested)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        # Long locations are elided rather than pushing the findings out of view.
        self.table.horizontalHeader().setSectionResizeMode(
            LesionColumn.LOCATION, QHeaderView.ResizeMode.Stretch
        )
        self.table.setItemDelegateForColumn(
            LesionColumn.ORGAN, _OrganDelegate(tuple(self._vocabulary), self.table)
        )
        self.table.selectionModel().selectionChanged.connect(self._table_selection)

        self.state_label = QLabel("State")
        self.state_combo = QComboBox()
        self.state_button = QPushButton("Set state")
        self.state_button.clicked.connect(self._state_clicked)
        state_row = QHBoxLayout()
        state_row.addWidget(self.state_label)
        state_row.addWidget(self.state_combo, 1)
        state_row.addWidget(self.state_button)

        # A8: "no disease" is the reader's explicit choice, never the default of
        # a visit with nothing recorded (which is a visit not read)
        self.no_disease_check = QCheckBox(NO_DISEASE_AT_BASELINE)
        self.no_disease_check.setToolTip(
            "Record that this visit was read and holds no disease to record "
            "(rule A8: at baseline the patient is NED). Without it a visit with "
            "no finding is not read, never 'no disease'. Only for a patient "
            "without target or non-target lesions."
        )
        self.no_disease_check.toggled.connect(self._no_disease_toggled)

        self.warnings_list = QListWidget()
        self.warnings_list.setWordWrap(True)
        self.warnings_list.setMaximumHeight(120)
        self.warnings_title = QLabel("Baseline conformance")

        layout = QVBoxLayout(self)
        layout.addWidget(new_box)
        layout.addWidget(self.table, 1)
        layout.addLayout(state_row)
        layout.addWidget(self.no_disease_check)
        self.flags_box = CriteriaFlagsBox(document)
        layout.addWidget(self.flags_box)
        layout.addWidget(self.warnings_title)
        layout.addWidget(self.warnings_list)

        document.reading_changed.connect(self._refresh)
        document.visit_changed.connect(lambda _visit: self._refresh())
        document.selection_changed.connect(self._show_selection)
        document.lock_changed.connect(self._lock_changed)
        self._refresh()
        self._lock_changed(document.signature)

    # ---------------------------------------------------------------- template
    def template(self) -> LesionTemplate:
        """Organ, location and node flag chosen in the new-lesion form."""
        return LesionTemplate(
            organ=self.organ_combo.currentText(),
            location=self.location_combo.currentText().strip(),
            is_lymph_node=self.node_check.isChecked(),
        )

    def _organ_chosen(self, organ: str) -> None:
        term = self._vocabulary.get(organ)
        self.location_combo.clear()
        if term is not None:
            self.location_combo.addItems(["", *term.locations])
            self.node_check.setChecked(term.lymph_node)

    # ---------------------------------------------------------------- refresh
    def _lock_changed(self, signature: str) -> None:
        """A signed reading is read-only: no adding, deleting, labels or states."""
        self._read_only = bool(signature)
        self.new_box.setEnabled(not self._read_only)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.NoEditTriggers
            if self._read_only
            else QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self._fill_states(self._document.selected_lesion_id)
        self._show_no_disease()

    def _refresh(self, *_args: object) -> None:
        document = self._document
        reading = document.reading
        self._syncing = True
        self.model.set_reading(reading, document.assessment, document.visit)
        self._syncing = False
        self._show_selection(document.selected_lesion_id)
        self._show_warnings(reading, document.assessment)
        self._show_no_disease()

    def _show_no_disease(self) -> None:
        """The visit's "no disease" box: its state, label and whether it applies."""
        reading = self._document.reading
        visit = self._document.visit
        timepoint = (
            next((t for t in reading.timepoints if t.visit == visit), None)
            if visit
            else None
        )
        self._syncing = True
        try:
            if timepoint is None:
                self.no_disease_check.setChecked(False)
                self.no_disease_check.setEnabled(False)
                return
            self.no_disease_check.setText(
                NO_DISEASE_AT_BASELINE if timepoint.is_baseline else NO_DISEASE_AT_VISIT
            )
            self.no_disease_check.setChecked(timepoint.no_disease)
            disease = any(x.role is not LesionRole.NEW for x in reading.lesions)
            findings = bool(
                timepoint.measurements or timepoint.non_target or timepoint.new_lesions
            )
            self.no_disease_check.setEnabled(
                not self._read_only
                and (timepoint.no_disease or not (disease or findings))
            )
        finally:
            self._syncing = False

    def _show_warnings(self, reading: Reading, assessment: Assessment) -> None:
        self.warnings_list.clear()
        warnings = assessment.baseline.warnings
        for warning in warnings:
            item = QListWidgetItem(f"⚠ {warning}")
            item.setData(Qt.ItemDataRole.UserRole, warning.lesion_id or "")
            item.setToolTip(str(warning))
            self.warnings_list.addItem(item)
        if not warnings and reading.baseline is not None:
            self.warnings_list.addItem(
                QListWidgetItem("✓ baseline conforms to RECIST 1.1")
            )
        self.warnings_title.setText(
            f"Baseline conformance ({len(warnings)} warning(s))"
        )

    def _show_selection(self, lesion_id: str) -> None:
        row = self.model.row_of(lesion_id) if lesion_id else -1
        self._syncing = True
        if row < 0:
            self.table.clearSelection()
        else:
            self.table.selectRow(row)
        self._syncing = False
        self._fill_states(lesion_id)

    def _fill_states(self, lesion_id: str) -> None:
        reading = self._document.reading
        self.state_combo.clear()
        lesion = next((x for x in reading.lesions if x.lesion_id == lesion_id), None)
        visit = self._document.visit
        if lesion is None or not visit:
            self.state_label.setText("State")
            self.state_combo.setEnabled(False)
            self.state_button.setEnabled(False)
            self.delete_button.setEnabled(False)
            return
        timepoint = reading.timepoint(visit)
        choices = state_choices(lesion, is_baseline=timepoint.is_baseline)
        for value, label in choices:
            self.state_combo.addItem(label, value)
        self.state_label.setText(f"{lesion.lesion_id} at {visit.title()}")
        editable = not self._read_only
        self.state_combo.setEnabled(editable and bool(choices))
        self.state_button.setEnabled(editable and bool(choices))
        self.delete_button.setEnabled(editable)

    # ---------------------------------------------------------------- actions
    def _table_selection(self, *_args: object) -> None:
        if self._syncing:
            return
        rows = self.table.selectionModel().selectedRows()
        lesion_id = self.model.lesion_at(rows[0].row()).lesion_id if rows else ""
        self._document.select_lesion(lesion_id)

    def _add_clicked(self) -> None:
        with error_boundary(self, "Add lesion"):
            self.add_lesion(LesionRole(self.role_combo.currentData()), self.template())

    def add_lesion(self, role: LesionRole, template: LesionTemplate) -> str:
        """Add a lesion of ``role`` (one undo step); returns its new id.

        A non-target lesion added at baseline is recorded as present there, and
        a new lesion added at a follow-up is recorded there as unequivocal.
        """
        document = self._document
        reading = document.reading
        lesion = Lesion(
            lesion_id=next_lesion_id(reading, role),
            role=role,
            organ=template.organ,
            location=template.location,
            is_lymph_node=template.is_lymph_node,
        )
        after = add_lesion(reading, lesion)
        visit = document.visit
        timepoint = after.timepoint(visit) if visit else None
        if role is LesionRole.NEW and (timepoint is None or timepoint.is_baseline):
            raise ReadingError(
                "new lesions are added at a follow-up visit, not at baseline"
            )
        if role is LesionRole.NON_TARGET and timepoint is not None:
            after = record_non_target(
                after, visit, NonTargetAssessment(lesion_id=lesion.lesion_id)
            )
        if role is LesionRole.NEW and timepoint is not None:
            after = record_new_lesion(
                after, visit, NewLesionObservation(lesion_id=lesion.lesion_id)
            )
        where = f"{lesion.organ}{', ' + lesion.location if lesion.location else ''}"
        document.replace(
            after, f"Add {_ROLE_LABELS[role].lower()} {lesion.lesion_id} ({where})"
        )
        document.select_lesion(lesion.lesion_id)
        return lesion.lesion_id

    def _no_disease_toggled(self, checked: bool) -> None:
        if self._syncing:
            return
        with error_boundary(self, "No disease"):
            self.set_no_disease(checked)

    def set_no_disease(self, no_disease: bool) -> None:
        """Record the reader's "no disease" at the visit read (one undo step, A8)."""
        document = self._document
        visit = document.visit
        after = set_no_disease(document.reading, visit, no_disease)
        timepoint = after.timepoint(visit)
        what = (
            "no measurable / no disease at baseline"
            if timepoint.is_baseline
            else "no disease"
        )
        document.replace(
            after, f"{'Mark' if no_disease else 'Unmark'} {what} at {visit}"
        )

    def _delete_clicked(self) -> None:
        lesion_id = self._document.selected_lesion_id
        if lesion_id:
            with error_boundary(self, "Delete lesion"):
                after = remove_lesion(self._document.reading, lesion_id)
                self._document.replace(after, f"Delete lesion {lesion_id}")

    def _edit_requested(self, lesion_id: str, field: str, value: object) -> None:
        with error_boundary(self, "Edit lesion"):
            reading = self._document.reading
            lesion = reading.lesion(lesion_id)
            if field == "organ":
                changed = dataclasses.replace(lesion, organ=str(value))
            elif field == "location":
                changed = dataclasses.replace(lesion, location=str(value))
            else:
                changed = dataclasses.replace(lesion, is_lymph_node=bool(value))
            after = replace_lesion(reading, changed)
            shown = value if not isinstance(value, bool) else ("yes" if value else "no")
            self._document.replace(
                after, f"Set {field.replace('_', ' ')} of {lesion_id} to {shown}"
            )

    def _state_clicked(self) -> None:
        value = self.state_combo.currentData()
        if isinstance(value, str):
            with error_boundary(self, "Set state"):
                self.set_state(self._document.selected_lesion_id, value)

    def set_state(self, lesion_id: str, value: str) -> None:
        """Record ``value`` for ``lesion_id`` at the visit read (one undo step)."""
        document = self._document
        reading = document.reading
        lesion = reading.lesion(lesion_id)
        visit = document.visit
        timepoint = reading.timepoint(visit)
        if lesion.role is LesionRole.TARGET:
            after = record_measurement(
                reading,
                visit,
                Measurement(lesion_id=lesion_id, state=MeasurementState(value)),
            )
        elif lesion.role is LesionRole.NON_TARGET:
            known = next(
                (a for a in timepoint.non_target if a.lesion_id == lesion_id), None
            )
            after = record_non_target(
                reading,
                visit,
                NonTargetAssessment(
                    lesion_id=lesion_id,
                    state=NonTargetState(value),
                    # The cytology flag (mRECIST J4) survives a change of state.
                    cytology_confirmed=known is not None and known.cytology_confirmed,
                ),
            )
        else:
            previous = next(
                (o for o in timepoint.new_lesions if o.lesion_id == lesion_id), None
            )
            observation = (
                dataclasses.replace(previous, state=NewLesionState(value))
                if previous is not None
                else NewLesionObservation(
                    lesion_id=lesion_id, state=NewLesionState(value)
                )
            )
            after = record_new_lesion(reading, visit, observation)
        document.replace(after, f"Set {lesion_id} {value.replace('_', ' ')} at {visit}")
