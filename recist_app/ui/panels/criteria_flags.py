"""iRECIST / mRECIST flags of the selected lesion at the visit read.

Under the lesion table: for a new lesion, whether its area was imaged at baseline
(E3) and its vascular pattern (mRECIST J5: arterial hyperenhancement with washout);
for a new or non-target effusion or ascites, whether cytology proved it neoplastic
(mRECIST J4). Equivocal / unequivocal is the new lesion's state in the panel's state
row; its diameters come from drawing it with the line or bidirectional tool
(iRECIST H4, mRECIST J5). Every change is one undo step on the document.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QWidget,
)

from recist_app.recist import (
    NewLesionObservation,
    NonTargetAssessment,
    record_new_lesion,
    record_non_target,
)
from recist_app.ui.error_dialog import error_boundary

if TYPE_CHECKING:
    from recist_app.ui.document import ReadingDocument

__all__ = ["VASCULAR_PATTERNS", "CriteriaFlagsBox"]

VASCULAR_PATTERNS: tuple[tuple[bool | None, str], ...] = (
    (None, "not assessed"),
    (True, "typical (hyperenhancement, washout)"),
    (False, "atypical"),
)
"""``(typical_vascular_pattern, label)`` choices of the pattern combo."""


def _pattern_index(pattern: bool | None) -> int:
    return [value for value, _label in VASCULAR_PATTERNS].index(pattern)


class CriteriaFlagsBox(QGroupBox):
    """Flags of the selected new lesion or non-target at the visit read.

    Hidden while no such finding is selected.
    """

    def __init__(
        self, document: ReadingDocument, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._syncing = False
        self.not_imaged_check = QCheckBox("Not imaged at baseline (E3)")
        self.pattern_label = QLabel("Vascular pattern")
        self.pattern_combo = QComboBox()
        for _value, label in VASCULAR_PATTERNS:
            self.pattern_combo.addItem(label)
        self.cytology_check = QCheckBox(
            "Cytology-proven neoplastic effusion / ascites (mRECIST)"
        )
        self.pattern_combo.setToolTip(
            "mRECIST J5: a new HCC lesion is progression with the typical pattern "
            "(arterial hyperenhancement, washout) and >= 10 mm"
        )
        self.cytology_check.setToolTip(
            "mRECIST J4: a new or growing effusion or ascites is progression only "
            "when cytology proves it neoplastic"
        )
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        row.addWidget(self.not_imaged_check)
        row.addWidget(self.pattern_label)
        row.addWidget(self.pattern_combo, 1)
        row.addWidget(self.cytology_check)
        row.addStretch(0)
        self.not_imaged_check.toggled.connect(self._not_imaged_toggled)
        self.pattern_combo.activated.connect(self._pattern_chosen)
        self.cytology_check.toggled.connect(self._cytology_toggled)
        document.reading_changed.connect(self._refresh)
        document.visit_changed.connect(lambda _visit: self._refresh())
        document.selection_changed.connect(lambda _lesion_id: self._refresh())
        document.lock_changed.connect(lambda _signature: self._refresh())
        self._refresh()

    # ---------------------------------------------------------------- lookup
    def _observation(self) -> NewLesionObservation | None:
        document = self._document
        if not document.visit or not document.selected_lesion_id:
            return None
        timepoint = document.reading.timepoint(document.visit)
        lesion_id = document.selected_lesion_id
        return next(
            (o for o in timepoint.new_lesions if o.lesion_id == lesion_id), None
        )

    def _non_target(self) -> NonTargetAssessment | None:
        document = self._document
        if not document.visit or not document.selected_lesion_id:
            return None
        timepoint = document.reading.timepoint(document.visit)
        lesion_id = document.selected_lesion_id
        return next((a for a in timepoint.non_target if a.lesion_id == lesion_id), None)

    # ---------------------------------------------------------------- refresh
    def _refresh(self, *_args: object) -> None:
        document = self._document
        editable = not document.locked
        observation = self._observation()
        assessment = self._non_target()
        self._syncing = True
        try:
            for widget in (
                self.not_imaged_check,
                self.pattern_label,
                self.pattern_combo,
            ):
                widget.setVisible(observation is not None)
            self.cytology_check.setVisible(
                observation is not None or assessment is not None
            )
            if observation is not None:
                self.cytology_check.setChecked(observation.cytology_confirmed)
                self.not_imaged_check.setChecked(observation.not_imaged_at_baseline)
                self.pattern_combo.setCurrentIndex(
                    _pattern_index(observation.typical_vascular_pattern)
                )
                sizes = [
                    f"{value:.1f}"
                    for value in (observation.long_axis_mm, observation.short_axis_mm)
                    if value is not None
                ]
                self.setTitle(
                    f"New lesion {observation.lesion_id} at {document.visit.title()}: "
                    + (
                        " × ".join(sizes) + " mm"
                        if sizes
                        else "draw it (L or B) to record its diameters"
                    )
                )
            elif assessment is not None:
                self.cytology_check.setChecked(assessment.cytology_confirmed)
                self.setTitle(
                    f"Non-target {assessment.lesion_id} at {document.visit.title()}"
                )
            # Shown only when it has something to set: targets read as before.
            self.setVisible(observation is not None or assessment is not None)
            for widget in (
                self.not_imaged_check,
                self.pattern_combo,
                self.cytology_check,
            ):
                widget.setEnabled(editable)
        finally:
            self._syncing = False

    # ---------------------------------------------------------------- changes
    def _not_imaged_toggled(self, checked: bool) -> None:
        observation = self._observation()
        if self._syncing or observation is None:
            return
        self._replace_observation(
            dataclasses.replace(observation, not_imaged_at_baseline=checked),
            f"not imaged at baseline {'on' if checked else 'off'}",
        )

    def _pattern_chosen(self, index: int) -> None:
        observation = self._observation()
        if self._syncing or observation is None:
            return
        pattern, label = VASCULAR_PATTERNS[index]
        label = label.split(" (")[0]
        self._replace_observation(
            dataclasses.replace(observation, typical_vascular_pattern=pattern),
            f"vascular pattern {label}",
        )

    def _cytology_toggled(self, checked: bool) -> None:
        if self._syncing:
            return
        observation = self._observation()
        if observation is not None:  # a new effusion or ascites (J4)
            self._replace_observation(
                dataclasses.replace(observation, cytology_confirmed=checked),
                f"cytology {'confirmed' if checked else 'not confirmed'}",
            )
            return
        assessment = self._non_target()
        if assessment is None:
            return
        document = self._document
        with error_boundary(self, "Set cytology"):
            after = record_non_target(
                document.reading,
                document.visit,
                dataclasses.replace(assessment, cytology_confirmed=checked),
            )
            document.replace(
                after,
                f"Set {assessment.lesion_id} cytology "
                f"{'confirmed' if checked else 'not confirmed'} at {document.visit}",
            )

    def _replace_observation(
        self, observation: NewLesionObservation, what: str
    ) -> None:
        document = self._document
        with error_boundary(self, "Set new-lesion flag"):
            after = record_new_lesion(document.reading, document.visit, observation)
            document.replace(
                after, f"Set {observation.lesion_id} {what} at {document.visit}"
            )
