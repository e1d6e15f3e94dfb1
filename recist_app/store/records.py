"""What the store reports about readings and patients besides their content.

A reading's status, revision and signature (:class:`ReadingRecord`), a reading
read together with them (:class:`StoredReading`), and a patient in a patient list
(:class:`PatientSummary`). Every part of the store returns these same objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from recist_app.recist import Criteria, ReaderRole, Reading
from recist_app.store._unit_of_work import reading_label

if TYPE_CHECKING:
    import datetime

    from recist_app.store.schema import ReadingRow

__all__ = ["PatientSummary", "ReadingRecord", "ReadingStatus", "StoredReading"]


class ReadingStatus(StrEnum):
    """Whether a reading can be edited (draft) or is locked (signed)."""

    DRAFT = "draft"
    SIGNED = "signed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingRecord:
    """The bookkeeping of a stored reading (not its content).

    Parameters
    ----------
    revision
        Increases with every saved change; pass it back as ``base_revision`` to
        :meth:`~recist_app.store.Readings.save` to refuse saving over someone
        else's change.
    signed_version
        Number of times the reading has been signed (0: never).
    amendment_reason
        Why a signed reading was reopened, while the amendment is in progress.
    reader_role
        Who the reading is by in a central review (``single``: a site read).
    audit_head
        The audit trail's newest row hash right after the change that returned
        this record (signing, importing); ``None`` when it was only read. Kept
        outside the database, it lets ``audit verify --expect-head`` find the
        trail cut back or rewritten since.
    """

    patient_id: str
    criteria: Criteria
    reader: str
    status: ReadingStatus
    revision: int
    signed_version: int
    signed_at: datetime.datetime | None
    signed_by: str | None
    amendment_reason: str | None
    updated_at: datetime.datetime
    reader_role: ReaderRole = ReaderRole.SINGLE
    audit_head: str | None = field(default=None, compare=False)

    @classmethod
    def from_row(
        cls, row: ReadingRow, patient_id: str, *, audit_head: str | None = None
    ) -> ReadingRecord:
        """The bookkeeping held in a reading's row (and the head just written)."""
        return cls(
            patient_id=patient_id,
            criteria=Criteria(row.criteria),
            reader=row.reader,
            status=ReadingStatus(row.status),
            revision=row.revision,
            signed_version=row.signed_version,
            signed_at=row.signed_at,
            signed_by=row.signed_by,
            amendment_reason=row.amendment_reason,
            updated_at=row.updated_at,
            reader_role=ReaderRole(row.reader_role or ReaderRole.SINGLE.value),
            audit_head=audit_head,
        )

    @property
    def label(self) -> str:
        """``HCC-001 / RECIST 1.1 / reader`` for messages and window titles."""
        return reading_label(self.patient_id, self.criteria.value, self.reader)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredReading:
    """A reading and its bookkeeping, read in one transaction."""

    reading: Reading
    record: ReadingRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientSummary:
    """A patient in the database with counts for a patient list."""

    patient_id: str
    reading_count: int
    study_count: int
