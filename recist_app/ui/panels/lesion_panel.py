"""Lesion panel: add and label lesions, set their state, see baseline warnings."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QMouseEvent, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
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
    "current_state",
    "state_choices",
    "state_label",
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

_STATE_LABELS = {
    MeasurementState.MEASURED.value: "measured (draw to change the diameters)",
    MeasurementState.TOO_SMALL.value: "too small to measure (5 mm)",
    MeasurementState.DISAPPEARED.value: "disappeared (0 mm)",
    MeasurementState.SPLIT.value: "split (sum of the parts)",
    MeasurementState.MERGED.value: "merged into another lesion (0 mm)",
    **{state.value: label for state, label in NON_TARGET_STATE_LABELS.items()},
}

_NOT_AT_BASELINE = {
    MeasurementState.DISAPPEARED.value,
    MeasurementState.SPLIT.value,
    MeasurementState.MERGED.value,
    NonTargetState.ABSENT.value,
    *(state.value for state in NonTargetState if state.is_progression),
}
"""States that describe a change: meaningless at the baseline."""


def state_label(value: str) -> str:
    """How a state reads in the State box (``too_small`` → too small to measure)."""
    return _STATE_LABELS.get(value, value.replace("_", " "))


def state_choices(lesion: Lesion, *, is_baseline: bool) -> tuple[tuple[str, str], ...]:
    """``(value, label)`` of every state a lesion of this role can have at a visit.

    Every state the reading file knows for the role is offered (split and merged
    included), but those describing a change (disappeared, split, merged, absent,
    unequivocal progression) not at the baseline. ``measured`` is listed for
    targets; it is set by drawing the diameters, not from the box.
    """
    values: list[str]
    if lesion.role is LesionRole.TARGET:
        values = [state.value for state in MeasurementState]
    elif lesion.role is LesionRole.NON_TARGET:
        values = [state.value for state in NonTargetState]
    elif is_baseline:
        return ()
    else:
        values = [state.value for state in NewLesionState]
    if is_baseline:
        values = [value for value in values if value not in _NOT_AT_BASELINE]
    return tuple((value, state_label(value)) for value in values)


def current_state(reading: Reading, lesion_id: str, visit: str) -> str:
    """The state ``lesion_id`` has at ``visit`` (``""`` when nothing is recorded)."""
    timepoint = reading.timepoint(visit)
    measurement = timepoint.measurement(lesion_id)
    if measurement is not None:
        return measurement.state.value
    states = [(a.lesion_id, a.state.value) for a in timepoint.non_target]
    states += [(o.lesion_id, o.state.value) for o in timepoint.new_lesions]
    return next((state for found, state in states if found == lesion_id), "")


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


def _narrow(combo: QComboBox) -> None:
    """Let ``combo`` shrink to a few characters.

    Qt widens the pop-up to its longest entry, so entries still show whole there.
    """
    combo.setSizeAdjustPolicy(
        QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
    )
    combo.setMinimumContentsLength(6)


class LesionPanel(QWidget):
    """Lesion list with add/delete, labels, states and live baseline warnings.

    Every change is pushed on the document as one undo command; the panel shows
    what the document says after ``reading_changed`` (never its own edits).
    """

    error = Signal(str)
    jump_requested = Signal(str)

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
        self.node_check = QCheckBox("Node")
        self.node_check.setToolTip("A lymph node: measured across its short axis (A2)")
        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("Add a lesion with this role, organ and location")
        self.delete_button = QPushButton("Delete")
        # At 1366x768 the side panel is about 430 px wide: the combos may shrink
        # below their longest entry (shown whole in the pop-up list) so the
        # panel never scrolls sideways (issue 18).
        for combo in (self.role_combo, self.organ_combo, self.location_combo):
            _narrow(combo)
        self.organ_combo.currentTextChanged.connect(self._organ_chosen)
        self.add_button.clicked.connect(self._add_clicked)
        self.delete_button.clicked.connect(self._delete_clicked)
        self._organ_chosen(self.organ_combo.currentText())

        # Two compact rows: the lesion table below keeps the height.
        form = QFormLayout()
        form.setContentsMargins(6, 4, 6, 4)
        form.setVerticalSpacing(3)
        first = QHBoxLayout()
        first.addWidget(self.role_combo, 2)
        first.addWidget(QLabel("Organ"))
        first.addWidget(self.organ_combo, 3)
        form.addRow("Role", first)
        buttons = QHBoxLayout()
        buttons.addWidget(self.location_combo, 1)
        buttons.addWidget(self.node_check)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.delete_button)
        form.addRow("Location", buttons)
        # A short title: a group box is at least as wide as its title.
        new_box = QGroupBox("New lesion, or what you draw with none selected")
        new_box.setToolTip(
            "Add adds a lesion with this role, organ and location; a line drawn "
            "with no lesion selected creates one the same way"
        )
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
        # A click on the selected row jumps to the lesion again; a click on
        # empty space deselects (issue 18).
        self.table.viewport().installEventFilter(self)
        self._pressed_selected = ""
        self.table.clicked.connect(self._row_clicked)

        self.state_label = QLabel("State")
        self.state_label.setWordWrap(True)  # "T01 at Week 24: measured" is long
        self.state_combo = QComboBox()
        _narrow(self.state_combo)
        self.state_button = QPushButton("Set state")
        self.state_button.clicked.connect(self._state_clicked)
        state_row = QHBoxLayout()
        state_row.addWidget(self.state_label, 2)
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
        self.warnings_list.setMaximumHeight(72)
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
        document.visit_changed.connect(lambda _visit: self._visit_roles())
        document.selection_changed.connect(self._show_selection)
        document.lock_changed.connect(self._lock_changed)
        self._refresh()
        self._visit_roles()
        self._lock_changed(document.signature)

    # ---------------------------------------------------------------- template
    def template(self) -> LesionTemplate:
        """Organ, location and node flag chosen in the new-lesion form."""
        return LesionTemplate(
            organ=self.organ_combo.currentText(),
            location=self.location_combo.currentText().strip(),
            is_lymph_node=self.node_check.isChecked(),
            role=self.role(),
        )

    def role(self) -> LesionRole:
        """The role a lesion drawn with nothing selected gets (the Role box)."""
        return LesionRole(self.role_combo.currentData())

    def set_role(self, role: LesionRole) -> None:
        """Choose the role of lesions drawn or added with nothing selected."""
        self.role_combo.setCurrentIndex(self.role_combo.findData(role.value))

    def _visit_roles(self) -> None:
        # Targets are chosen at the baseline, new lesions appear at follow-ups:
        # the Role box offers what the visit allows and says so.
        visit = self._document.visit
        reading = self._document.reading
        baseline = bool(visit) and reading.timepoint(visit).is_baseline
        combo_model = self.role_combo.model()
        if not isinstance(combo_model, QStandardItemModel):
            return
        for role, allowed in (
            (LesionRole.TARGET, baseline or not visit),
            (LesionRole.NEW, not baseline),
        ):
            item = combo_model.item(self.role_combo.findData(role.value))
            if item is not None:
                item.setEnabled(allowed)
        current = self.role()
        if baseline and current is LesionRole.NEW:
            self.set_role(LesionRole.TARGET)
        elif visit and not baseline and current is LesionRole.TARGET:
            self.set_role(LesionRole.NEW)

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
            if warnings or reading.baseline is None
            else "Baseline conformance: ✓ conforms to RECIST 1.1"
        )
        # Only warnings take room: the lesion table keeps it otherwise.
        self.warnings_list.setVisible(bool(warnings))

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
        current = current_state(reading, lesion.lesion_id, visit)
        for value, label in choices:
            self.state_combo.addItem(label, value)
        if current and self.state_combo.findData(current) < 0:
            self.state_combo.addItem(state_label(current), current)
        measured = self.state_combo.findData(MeasurementState.MEASURED.value)
        combo_model = self.state_combo.model()
        if measured >= 0 and isinstance(combo_model, QStandardItemModel):
            # Measured comes from drawing, never from the box.
            item = combo_model.item(measured)
            if item is not None:
                item.setEnabled(False)
        index = self.state_combo.findData(current) if current else -1
        self.state_combo.setCurrentIndex(index)
        shown = state_label(current) if current else "not recorded"
        self.state_label.setText(f"{lesion.lesion_id} at {visit.title()}: {shown}")
        self.state_label.setToolTip(
            "The lesion's current state at this visit; choose another and press "
            "Set state to change it"
        )
        editable = not self._read_only
        self.state_combo.setEnabled(editable and bool(choices))
        self.state_button.setEnabled(editable and bool(choices))
        self.delete_button.setEnabled(editable)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Clicks on the table: remember the selection, deselect on empty space."""
        if (
            watched is self.table.viewport()
            and event.type() == QEvent.Type.MouseButtonPress
            and isinstance(event, QMouseEvent)
        ):
            index = self.table.indexAt(event.position().toPoint())
            selected = self._document.selected_lesion_id
            if not index.isValid():
                self._pressed_selected = ""
                if selected:
                    self._document.select_lesion("")
                return False
            lesion = self.model.lesion_at(index.row())
            self._pressed_selected = (
                lesion.lesion_id if lesion.lesion_id == selected else ""
            )
        return super().eventFilter(watched, event)

    def _row_clicked(self, index: QModelIndex) -> None:
        lesion_id = self.model.lesion_at(index.row()).lesion_id
        if lesion_id and lesion_id == self._pressed_selected:
            self.jump_requested.emit(lesion_id)
        self._pressed_selected = ""

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
        lesion_id = self._document.selected_lesion_id
        if not isinstance(value, str) or not lesion_id:
            return
        with error_boundary(self, "Set state"):
            if value == MeasurementState.SPLIT.value:
                text, accepted = QInputDialog.getText(
                    self,
                    f"Split {lesion_id}",
                    "Long axes of the parts in mm, separated by commas (B3):",
                )
                if not accepted:
                    return
                self.set_state(lesion_id, value, parts_mm=_parts_mm(text, lesion_id))
            elif value == MeasurementState.MERGED.value:
                others = [
                    x.lesion_id
                    for x in self._document.reading.lesions
                    if x.role is LesionRole.TARGET and x.lesion_id != lesion_id
                ]
                if not others:
                    raise ReadingError(
                        f"lesion {lesion_id}: no other target to merge into"
                    )
                into, accepted = QInputDialog.getItem(
                    self, f"Merge {lesion_id}", "Merged into target:", others, 0, False
                )
                if not accepted:
                    return
                self.set_state(lesion_id, value, merged_into=into)
            else:
                self.set_state(lesion_id, value)

    def set_state(
        self,
        lesion_id: str,
        value: str,
        *,
        parts_mm: tuple[float, ...] = (),
        merged_into: str | None = None,
    ) -> None:
        """Record ``value`` for ``lesion_id`` at the visit read (one undo step).

        ``parts_mm`` are the parts of a split target, ``merged_into`` the target
        a merged one joined (B3).
        """
        document = self._document
        reading = document.reading
        lesion = reading.lesion(lesion_id)
        visit = document.visit
        timepoint = reading.timepoint(visit)
        if lesion.role is LesionRole.TARGET:
            after = record_measurement(
                reading,
                visit,
                Measurement(
                    lesion_id=lesion_id,
                    state=MeasurementState(value),
                    parts_mm=parts_mm,
                    merged_into=merged_into,
                ),
            )
        elif lesion.role is LesionRole.NON_TARGET:
            known = next(
                (a for a in timepoint.non_target if a.lesion_id == lesion_id), None
            )
            after = record_non_target(
                reading,
                visit,
                dataclasses.replace(known, state=NonTargetState(value))
                # The cytology flag (mRECIST J4) and the mark on the image
                # survive a change of state.
                if known is not None
                else NonTargetAssessment(
                    lesion_id=lesion_id, state=NonTargetState(value)
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


def _parts_mm(text: str, lesion_id: str) -> tuple[float, ...]:
    try:
        parts = tuple(
            float(part) for part in text.replace(";", ",").split(",") if part.strip()
        )
    except ValueError:
        raise ReadingError(
            f"lesion {lesion_id}: parts must be numbers in mm, e.g. 12, 8 ({text!r})"
        ) from None
    return parts
