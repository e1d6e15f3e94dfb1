"""The adverse events the safety endpoints need (revision 0007).

Like the clinical dates (:mod:`recist_app.store.clinical`) the store only keeps the
rows: checking an adverse event file is the endpoints layer's job
(:mod:`recist_app.endpoints.adverse_events`), and the workflow hands checked rows
to :meth:`AdverseEventData.replace`. An import replaces the whole set in one
transaction. Adverse events have no key of their own (a patient may have the same
term twice), so rows are matched by their content: rows that are in both the old
and the new set stay, the others are deleted or inserted, and every insert and
delete is written to the audit trail (entity ``adverse_event``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from recist_app.store._unit_of_work import check_user
from recist_app.store.audit import AuditChange, append_audit, find_or_add_patient
from recist_app.store.errors import StoreError
from recist_app.store.schema import AdverseEventRow, PatientRow

if TYPE_CHECKING:
    import datetime
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from recist_app.store._unit_of_work import UnitOfWork

__all__ = [
    "ADVERSE_EVENT_ACTIONS",
    "AdverseEventData",
    "AdverseEventImportSummary",
    "StoredAdverseEvent",
]

ADVERSE_EVENT_ACTIONS = ("none", "interrupted", "reduced", "discontinued")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredAdverseEvent:
    """One stored adverse event; ``source`` names the imported file."""

    patient_id: str
    term: str
    grade: int
    start_date: datetime.date
    soc: str = ""
    end_date: datetime.date | None = None
    serious: bool = False
    related: bool = False
    action: str | None = None
    source: str = ""

    def content(self) -> tuple[Any, ...]:
        """What makes two rows the same event (everything but the source)."""
        return (
            self.patient_id,
            self.term,
            self.soc,
            self.grade,
            self.start_date,
            self.end_date,
            self.serious,
            self.related,
            self.action,
        )

    def audit_values(self) -> dict[str, Any]:
        """The row as the audit trail records it."""
        return {
            "term": self.term,
            "soc": self.soc,
            "grade": self.grade,
            "start_date": self.start_date.isoformat(),
            "end_date": None if self.end_date is None else self.end_date.isoformat(),
            "serious": self.serious,
            "related": self.related,
            "action": self.action,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AdverseEventImportSummary:
    """What an import changed."""

    inserted: int
    deleted: int
    unchanged: int

    @property
    def changed(self) -> bool:
        """Whether the import changed anything."""
        return bool(self.inserted or self.deleted)

    def __str__(self) -> str:
        return (
            f"adverse events: {self.inserted} added, {self.deleted} removed, "
            f"{self.unchanged} unchanged"
        )


def _stored(row: AdverseEventRow, patient_id: str) -> StoredAdverseEvent:
    return StoredAdverseEvent(
        patient_id=patient_id,
        term=row.term,
        soc=row.soc,
        grade=row.grade,
        start_date=row.start_date,
        end_date=row.end_date,
        serious=row.serious,
        related=row.related,
        action=row.action,
        source=row.source,
    )


def _check(record: StoredAdverseEvent, number: int) -> None:
    where = f"adverse event {number} (patient {record.patient_id!r})"
    if not record.patient_id or len(record.patient_id) > 64:
        raise StoreError(f"{where}: the patient id must have 1 to 64 characters")
    if not record.term.strip():
        raise StoreError(f"{where}: empty term")
    if isinstance(record.grade, bool) or record.grade not in range(1, 6):
        raise StoreError(f"{where}: grade {record.grade!r} is not 1 to 5")
    if record.action is not None and record.action not in ADVERSE_EVENT_ACTIONS:
        raise StoreError(f"{where}: unknown action {record.action!r}")
    if record.end_date is not None and record.end_date < record.start_date:
        raise StoreError(f"{where}: ends before it starts")


def _change(action: str, record: StoredAdverseEvent) -> AuditChange:
    values = record.audit_values()
    return AuditChange(
        action=action,
        entity="adverse_event",
        entity_key=(
            f"{record.patient_id}/{record.term}/{record.start_date.isoformat()}"
        ),
        patient_id=record.patient_id,
        before=values if action == "delete" else None,
        after=values if action == "insert" else None,
    )


def replace_adverse_events(
    session: Session, records: Sequence[StoredAdverseEvent], now: datetime.datetime
) -> tuple[AdverseEventImportSummary, list[AuditChange]]:
    """Make the stored adverse events equal ``records``; return what changed."""
    for number, record in enumerate(records, start=1):
        _check(record, number)
    stored = [
        (row, _stored(row, patient_id))
        for row, patient_id in session.execute(
            select(AdverseEventRow, PatientRow.patient_id)
            .join(PatientRow, AdverseEventRow.patient_row_id == PatientRow.id)
            .order_by(AdverseEventRow.id)
        )
    ]
    wanted = Counter(record.content() for record in records)
    changes: list[AuditChange] = []
    unchanged = deleted = 0
    for row, record in stored:
        if wanted[record.content()] > 0:
            wanted[record.content()] -= 1
            unchanged += 1
            continue
        changes.append(_change("delete", record))
        session.delete(row)
        deleted += 1
    inserted = 0
    patients: dict[str, int] = {}
    for record in records:
        if wanted[record.content()] <= 0:
            continue
        wanted[record.content()] -= 1
        if record.patient_id not in patients:
            patient, _added = find_or_add_patient(
                session, record.patient_id, now=now, changes=changes
            )
            patients[record.patient_id] = patient.id
        session.add(
            AdverseEventRow(
                patient_row_id=patients[record.patient_id],
                term=record.term,
                soc=record.soc,
                grade=record.grade,
                start_date=record.start_date,
                end_date=record.end_date,
                serious=record.serious,
                related=record.related,
                action=record.action,
                source=record.source,
                imported_at=now,
            )
        )
        changes.append(_change("insert", record))
        inserted += 1
    session.flush()
    summary = AdverseEventImportSummary(
        inserted=inserted, deleted=deleted, unchanged=unchanged
    )
    return summary, changes


def load_adverse_events(session: Session) -> tuple[StoredAdverseEvent, ...]:
    """Every stored adverse event, by patient id, start date, term."""
    rows = session.execute(
        select(AdverseEventRow, PatientRow.patient_id).join(
            PatientRow, AdverseEventRow.patient_row_id == PatientRow.id
        )
    )
    events = [_stored(row, patient_id) for row, patient_id in rows]
    return tuple(
        sorted(events, key=lambda e: (e.patient_id, e.start_date, e.term, e.grade))
    )


class AdverseEventData:
    """The stored adverse events (``store.adverse_events``).

    Parameters
    ----------
    unit
        The store's shared sessions, clock and lookups.
    """

    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit

    def replace(
        self, records: Sequence[StoredAdverseEvent], *, user: str
    ) -> AdverseEventImportSummary:
        """Make the stored adverse events exactly ``records``, in one transaction.

        Every insert and delete is audited. The caller checks the rows against the
        clinical data (``recist_app.endpoints`` parses the file).

        Raises
        ------
        StoreError
            A row the table cannot hold (grade, action, dates, patient id), or no
            user for the audit trail; nothing is changed then.
        """
        who = check_user(user, "importing adverse events")
        with self._unit.session("importing adverse events", write=True) as session:
            now = self._unit.now()
            summary, changes = replace_adverse_events(session, records, now)
            append_audit(session, changes, user=who, reason=None, now=now)
            return summary

    def records(self) -> tuple[StoredAdverseEvent, ...]:
        """The stored adverse events (empty before an import)."""
        with self._unit.session("reading adverse events", write=False) as session:
            return load_adverse_events(session)
