"""Central reading in the database: reading roles and adjudications (``store.central``).

A reading's role (:class:`~recist_app.recist.ReaderRole`) is bookkeeping like
its status, not part of its content: it is not in the signed snapshot, so giving
a signed reading its role never unlocks or changes what was signed. Each patient
and criteria set has at most one reading per central role (``reader 1``,
``reader 2``, ``adjudicator``); ``single`` (a site read) may repeat. Every role
change and every adjudication is a row of the audit trail (entities
``reading role`` and ``adjudication``), in the same transaction as the change.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from recist_app.recist import Criteria, ReaderRole
from recist_app.store._unit_of_work import as_criteria, check_user, reading_label
from recist_app.store.audit import AuditChange, append_audit
from recist_app.store.errors import StoreError
from recist_app.store.records import ReadingRecord
from recist_app.store.schema import AdjudicationRow, PatientRow, ReadingRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from recist_app.store._unit_of_work import UnitOfWork

__all__ = ["AdjudicationRecord", "CentralReading", "apply_role"]

MAX_REASON_LENGTH = 2000


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjudicationRecord:
    """The adjudicator's decision for one patient under one criteria set."""

    patient_id: str
    criteria: Criteria
    accepted_role: ReaderRole
    reason: str
    decided_by: str
    decided_at: datetime.datetime
    audit_head: str | None = None


def role_change(
    session: Session,
    row: ReadingRow,
    patient_id: str,
    role: ReaderRole,
) -> AuditChange | None:
    """Give ``row`` the role ``role``; the audit change, or ``None`` if unchanged.

    Raises
    ------
    StoreError
        Another reading of the patient under the same criteria has this central
        role already (one line naming both).
    """
    role = ReaderRole(role)
    if row.reader_role == role.value:
        return None
    label = reading_label(patient_id, row.criteria, row.reader)
    if role is not ReaderRole.SINGLE:
        other = session.scalars(
            select(ReadingRow).where(
                ReadingRow.patient_row_id == row.patient_row_id,
                ReadingRow.criteria == row.criteria,
                ReadingRow.reader_role == role.value,
                ReadingRow.id != row.id,
            )
        ).first()
        if other is not None:
            raise StoreError(
                f"{label}: role {role.value!r} is already the reading by "
                f"{other.reader!r} of patient {patient_id} under {row.criteria}"
            )
    before = {"reader_role": row.reader_role}
    row.reader_role = role.value
    session.flush()
    return AuditChange(
        action="update",
        entity="reading role",
        entity_key=label,
        patient_id=patient_id,
        before=before,
        after={"reader_role": role.value},
    )


def apply_role(
    unit: UnitOfWork,
    session: Session,
    row: ReadingRow,
    patient_id: str,
    role: ReaderRole | None,
    *,
    user: str,
) -> str | None:
    """Set ``row``'s role inside the caller's write transaction, audited.

    Returns the audit trail's new head, or ``None`` when nothing changed.
    """
    if role is None:
        return None
    change = role_change(session, row, patient_id, role)
    if change is None:
        return None
    return append_audit(
        session, [change], user=user, reason="reading role", now=unit.now()
    )


class CentralReading:
    """Reading roles and the adjudicator's decisions.

    Parameters
    ----------
    unit
        The store's shared sessions, clock and lookups.
    """

    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit

    def set_role(
        self,
        patient_id: str,
        criteria: Criteria | str,
        reader: str,
        role: ReaderRole | str,
        *,
        user: str,
    ) -> ReadingRecord:
        """Give a stored reading its central-review role (audited).

        Raises
        ------
        ReadingNotFoundError
            No such reading.
        StoreError
            Another reading of the patient has that role (``single`` may repeat).
        """
        criteria = as_criteria(criteria)
        label = reading_label(patient_id, criteria.value, reader)
        who = check_user(user, f"setting the role of {label}")
        try:
            wanted = ReaderRole(role)
        except ValueError:
            raise StoreError(
                f"{label}: unknown reader role {role!r} (expected one of "
                f"{', '.join(r.value for r in ReaderRole)})"
            ) from None
        unit = self._unit
        with unit.session("setting a reading's role", write=True) as session:
            row = unit.require_reading(session, patient_id, criteria, reader)
            head = apply_role(unit, session, row, patient_id, wanted, user=who)
            return ReadingRecord.from_row(row, patient_id, audit_head=head)

    def decide(
        self,
        patient_id: str,
        criteria: Criteria | str,
        accepted_role: ReaderRole | str,
        *,
        reason: str,
        user: str,
    ) -> AdjudicationRecord:
        """Record that the adjudicator accepted ``accepted_role``'s read, and why.

        A new decision for the same patient and criteria replaces the old one;
        the audit trail keeps both. The workflow checks that both primary reads
        are signed and discordant (``workflows.central_reading``).

        Raises
        ------
        StoreError
            The accepted role is not ``reader 1`` or ``reader 2``, the reason or
            user is empty or too long, or the patient is not in the database.
        """
        criteria = as_criteria(criteria)
        who = check_user(user, f"adjudicating {patient_id}")
        try:
            accepted = ReaderRole(accepted_role)
        except ValueError:
            accepted = None
        if accepted is None or not accepted.is_primary:
            raise StoreError(
                f"adjudicating {patient_id}: accept 'reader 1' or 'reader 2', "
                f"not {accepted_role!r}"
            )
        text = " ".join(reason.split())
        if not text:
            raise StoreError(f"adjudicating {patient_id}: give the reason")
        if len(text) > MAX_REASON_LENGTH:
            raise StoreError(
                f"adjudicating {patient_id}: the reason has {len(text)} "
                f"characters, more than {MAX_REASON_LENGTH}"
            )
        unit = self._unit
        with unit.session("recording an adjudication", write=True) as session:
            now = unit.now()
            changes: list[AuditChange] = []
            patient = session.scalars(
                select(PatientRow).where(PatientRow.patient_id == patient_id)
            ).one_or_none()
            if patient is None:
                raise StoreError(
                    f"adjudicating {patient_id}: no such patient in database {unit.url}"
                )
            row = session.scalars(
                select(AdjudicationRow).where(
                    AdjudicationRow.patient_row_id == patient.id,
                    AdjudicationRow.criteria == criteria.value,
                )
            ).one_or_none()
            before = None if row is None else adjudication_values(row)
            if row is None:
                row = AdjudicationRow(
                    patient_row_id=patient.id, criteria=criteria.value
                )
                session.add(row)
            row.accepted_role = accepted.value
            row.reason = text
            row.decided_by = who
            row.decided_at = now
            session.flush()
            changes.append(
                AuditChange(
                    action="insert" if before is None else "update",
                    entity="adjudication",
                    entity_key=f"{patient_id} / {criteria.value}",
                    patient_id=patient_id,
                    before=before,
                    after=adjudication_values(row),
                )
            )
            head = append_audit(session, changes, user=who, reason=text, now=now)
            return _record(row, patient_id, audit_head=head)

    def decisions(
        self, patient_id: str | None = None
    ) -> tuple[AdjudicationRecord, ...]:
        """Every adjudication (of one patient, if given), by patient and criteria."""
        with self._unit.session("listing adjudications", write=False) as session:
            query = (
                select(AdjudicationRow, PatientRow.patient_id)
                .join(PatientRow, AdjudicationRow.patient_row_id == PatientRow.id)
                .order_by(PatientRow.patient_id, AdjudicationRow.criteria)
            )
            if patient_id is not None:
                query = query.where(PatientRow.patient_id == patient_id)
            return tuple(
                _record(row, found) for row, found in session.execute(query).all()
            )


def adjudication_values(row: AdjudicationRow) -> dict[str, str]:
    """An adjudication row's values as the audit trail records them."""
    return {
        "accepted_role": row.accepted_role,
        "reason": row.reason,
        "decided_by": row.decided_by,
        "decided_at": row.decided_at.astimezone(datetime.UTC).isoformat(),
    }


def _record(
    row: AdjudicationRow, patient_id: str, *, audit_head: str | None = None
) -> AdjudicationRecord:
    return AdjudicationRecord(
        patient_id=patient_id,
        criteria=Criteria(row.criteria),
        accepted_role=ReaderRole(row.accepted_role),
        reason=row.reason,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        audit_head=audit_head,
    )
