"""The clinical dates the endpoints need, one row per patient (revision 0004).

The store only keeps the dates (``store.clinical``); validating a clinical file is
the endpoints layer's job (:mod:`recist_app.endpoints.clinical`), which calls
:meth:`ClinicalData.replace` with checked rows. An
import replaces the whole set in one transaction: rows of patients missing from the
new set are deleted, changed rows updated, unchanged rows left alone, and every
change is written to the audit trail (entity ``clinical``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from recist_app.store._unit_of_work import check_user
from recist_app.store.audit import AuditChange, append_audit, find_or_add_patient
from recist_app.store.errors import StoreError
from recist_app.store.schema import ClinicalRow, PatientRow

if TYPE_CHECKING:
    import datetime
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from recist_app.store._unit_of_work import UnitOfWork

__all__ = [
    "CLINICAL_DATE_FIELDS",
    "ClinicalData",
    "ClinicalDates",
    "ClinicalImportSummary",
    "clinical_values",
    "load_clinical",
    "replace_clinical",
]

CLINICAL_DATE_FIELDS: tuple[str, ...] = (
    "first_dose_date",
    "death_date",
    "last_known_alive_date",
    "new_anticancer_therapy_date",
    "data_cutoff_date",
)

PATIENT_ID_MAX_LENGTH = 64  # patients.patient_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ClinicalDates:
    """One patient's stored clinical dates; ``source`` names the imported file."""

    patient_id: str
    first_dose_date: datetime.date
    data_cutoff_date: datetime.date
    death_date: datetime.date | None = None
    last_known_alive_date: datetime.date | None = None
    new_anticancer_therapy_date: datetime.date | None = None
    source: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClinicalImportSummary:
    """What an import changed."""

    inserted: int
    updated: int
    deleted: int
    unchanged: int

    @property
    def changed(self) -> bool:
        """Whether the import changed anything."""
        return bool(self.inserted or self.updated or self.deleted)

    def __str__(self) -> str:
        return (
            f"clinical rows: {self.inserted} added, {self.updated} updated, "
            f"{self.deleted} removed, {self.unchanged} unchanged"
        )


def clinical_values(item: ClinicalDates | ClinicalRow) -> dict[str, Any]:
    """The dates of a clinical row as the audit trail records them (ISO text)."""
    values: dict[str, Any] = {}
    for name in CLINICAL_DATE_FIELDS:
        value = getattr(item, name)
        values[name] = None if value is None else value.isoformat()
    return values


def replace_clinical(
    session: Session,
    records: Sequence[ClinicalDates],
    now: datetime.datetime,
) -> tuple[ClinicalImportSummary, list[AuditChange]]:
    """Make the stored clinical rows equal ``records``; return what changed."""
    seen: set[str] = set()
    for record in records:
        if len(record.patient_id) > PATIENT_ID_MAX_LENGTH:
            raise StoreError(
                f"clinical rows: patient id {record.patient_id[:20]!r}… is longer "
                f"than {PATIENT_ID_MAX_LENGTH} characters"
            )
        if record.patient_id in seen:
            raise StoreError(
                f"clinical rows: patient {record.patient_id!r} given twice"
            )
        seen.add(record.patient_id)
    stored = {
        patient_id: row
        for row, patient_id in session.execute(
            select(ClinicalRow, PatientRow.patient_id).join(
                PatientRow, ClinicalRow.patient_row_id == PatientRow.id
            )
        )
    }
    changes: list[AuditChange] = []
    inserted = updated = unchanged = 0
    for record in records:
        new = clinical_values(record)
        row = stored.get(record.patient_id)
        if row is None:
            patient, _added = find_or_add_patient(
                session, record.patient_id, now=now, changes=changes
            )
            session.add(
                ClinicalRow(
                    patient_row_id=patient.id,
                    source=record.source,
                    imported_at=now,
                    **{name: getattr(record, name) for name in CLINICAL_DATE_FIELDS},
                )
            )
            inserted += 1
            changes.append(_change("insert", record.patient_id, None, new))
            continue
        old = clinical_values(row)
        if old == new:
            unchanged += 1
            continue
        for name in CLINICAL_DATE_FIELDS:
            setattr(row, name, getattr(record, name))
        row.source = record.source
        row.imported_at = now
        updated += 1
        changes.append(_change("update", record.patient_id, old, new))
    deleted = 0
    for patient_id in sorted(set(stored) - seen):
        row = stored[patient_id]
        changes.append(_change("delete", patient_id, clinical_values(row), None))
        session.delete(row)
        deleted += 1
    session.flush()
    summary = ClinicalImportSummary(
        inserted=inserted, updated=updated, deleted=deleted, unchanged=unchanged
    )
    return summary, changes


def load_clinical(session: Session) -> tuple[ClinicalDates, ...]:
    """Every stored clinical row, in patient id order."""
    rows = session.execute(
        select(ClinicalRow, PatientRow.patient_id)
        .join(PatientRow, ClinicalRow.patient_row_id == PatientRow.id)
        .order_by(PatientRow.patient_id)
    )
    return tuple(
        ClinicalDates(
            patient_id=patient_id,
            source=row.source,
            **{name: getattr(row, name) for name in CLINICAL_DATE_FIELDS},
        )
        for row, patient_id in rows
    )


def _change(
    action: str,
    patient_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditChange:
    return AuditChange(
        action=action,
        entity="clinical",
        entity_key=patient_id,
        patient_id=patient_id,
        before=before,
        after=after,
    )


class ClinicalData:
    """The stored clinical dates (``store.clinical``).

    Parameters
    ----------
    unit
        The store's shared sessions, clock and lookups.
    """

    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit

    def replace(
        self, records: Sequence[ClinicalDates], *, user: str
    ) -> ClinicalImportSummary:
        """Make the stored clinical rows exactly ``records``, in one transaction.

        Rows of patients not in ``records`` are removed; every change is audited.
        The caller validates the dates (``recist_app.endpoints`` parses the file).
        """
        who = check_user(user, "importing clinical data")
        with self._unit.session("importing clinical data", write=True) as session:
            now = self._unit.now()
            summary, changes = replace_clinical(session, records, now)
            append_audit(session, changes, user=who, reason=None, now=now)
            return summary

    def records(self) -> tuple[ClinicalDates, ...]:
        """The stored clinical rows, in patient id order (empty before an import)."""
        with self._unit.session("reading clinical data", write=False) as session:
            return load_clinical(session)
