"""Give an imaged patient its real id (``recist-app patient rename``).

The patient list's "Rename or merge patient…" runs the same workflow.

Research and trial images often arrive without a Patient ID; the import indexes
them under a placeholder (``ANON-…``, see README "Reliability"). The reader then
names the patient: a new id renames it, an existing id merges its studies into
that patient. Only a patient with images alone (not yet read, no clinical data)
can be renamed: readings and signatures name their patient and are never
rewritten.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist_app.workflows.errors import WorkflowError

if TYPE_CHECKING:
    from recist_app.store import Store

__all__ = ["PATIENT_ID_MAX_LENGTH", "PatientRenamed", "rename_patient"]

PATIENT_ID_MAX_LENGTH = 64
"""The longest patient id the database holds (DICOM Patient ID is 64 too)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientRenamed:
    """What :func:`rename_patient` did."""

    old_patient_id: str
    new_patient_id: str
    merged: bool

    def __str__(self) -> str:
        verb = "merged into" if self.merged else "renamed"
        return f"patient {self.old_patient_id} {verb} {self.new_patient_id}"


def _checked_id(text: str) -> str:
    patient_id = text.strip()
    if not patient_id:
        raise WorkflowError("the new patient id is empty")
    if len(patient_id) > PATIENT_ID_MAX_LENGTH:
        raise WorkflowError(
            f"patient id {patient_id[:20]!r}…: {len(patient_id)} characters, more "
            f"than the {PATIENT_ID_MAX_LENGTH} the database holds"
        )
    if any(unicodedata.category(c).startswith("C") for c in patient_id):
        raise WorkflowError(f"patient id {patient_id!r}: control characters")
    return patient_id


def rename_patient(
    store: Store, patient_id: str, new_patient_id: str, *, user: str
) -> PatientRenamed:
    """Rename the imaged patient ``patient_id``, or merge it into an existing one.

    Raises
    ------
    WorkflowError
        The new id is empty, too long or holds control characters.
    StoreError
        Unknown patient, the same id, or a patient with readings or clinical data.
    """
    new_id = _checked_id(new_patient_id)
    merged = store.images.rename_patient(patient_id, new_id, user=user)
    return PatientRenamed(
        old_patient_id=patient_id, new_patient_id=new_id, merged=merged
    )
