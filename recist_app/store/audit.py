"""The audit trail: an append-only, hash-chained record of every change.

Each row holds who, when, what (entity and key), the values before and after, and
two SHA-256 digests: the previous row's, and its own over all of its content
including that previous digest. Changing, inserting or deleting a row in the middle
breaks the chain at that row, which :func:`verify_audit_chain` reports. Database
triggers (migration ``0001``: SQLite and PostgreSQL variants) refuse UPDATE and
DELETE of audit rows, so tampering needs deliberate work that the chain then exposes.
:class:`AuditTrail` is the store's part for reading it (``store.audit``).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from recist_app.store._rows import canonical_json
from recist_app.store._unit_of_work import as_criteria, reading_label
from recist_app.store.errors import StoreError
from recist_app.store.schema import AuditRow, PatientRow

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

    from recist_app.recist import Criteria
    from recist_app.store._unit_of_work import UnitOfWork

__all__ = [
    "AUDIT_TRIGGER_NAMES",
    "GENESIS_HASH",
    "AuditChange",
    "AuditEntry",
    "AuditTrail",
    "AuditVerification",
    "append_audit",
    "audit_row_digest",
    "find_or_add_patient",
    "missing_audit_triggers",
    "verify_audit_chain",
]

GENESIS_HASH = "0" * 64
"""The ``previous_hash`` of the first audit row."""

AUDIT_TRIGGER_NAMES = ("audit_log_no_update", "audit_log_no_delete")
_POSTGRESQL_TRIGGER_NAMES = (*AUDIT_TRIGGER_NAMES, "audit_log_no_truncate")

_HASHED_COLUMNS = (
    "sequence",
    "recorded_at",
    "user_name",
    "action",
    "entity",
    "entity_key",
    "patient_id",
    "reason",
    "before_values",
    "after_values",
    "previous_hash",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditChange:
    """One change to record: ``before``/``after`` are ``None`` for insert/delete."""

    action: str
    entity: str
    entity_key: str
    patient_id: str | None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


def find_or_add_patient(
    session: Session,
    patient_id: str,
    *,
    now: datetime.datetime,
    changes: list[AuditChange],
) -> tuple[PatientRow, bool]:
    """The patient's row, added (and its insert put in ``changes``) if missing.

    Returns the row and whether it was added.
    """
    row = session.scalars(
        select(PatientRow).where(PatientRow.patient_id == patient_id)
    ).one_or_none()
    if row is not None:
        return row, False
    row = PatientRow(patient_id=patient_id, created_at=now)
    session.add(row)
    session.flush()
    changes.append(
        AuditChange(
            action="insert",
            entity="patient",
            entity_key=patient_id,
            patient_id=patient_id,
            after={"patient_id": patient_id},
        )
    )
    return row, True


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One row of the audit trail as the user reads it."""

    sequence: int
    recorded_at: datetime.datetime
    user: str
    action: str
    entity: str
    entity_key: str
    patient_id: str | None
    reason: str | None
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None

    @classmethod
    def from_row(cls, row: AuditRow) -> AuditEntry:
        """Decode a stored audit row."""
        return cls(
            sequence=row.sequence,
            recorded_at=datetime.datetime.fromisoformat(row.recorded_at),
            user=row.user_name,
            action=row.action,
            entity=row.entity,
            entity_key=row.entity_key,
            patient_id=row.patient_id,
            reason=row.reason,
            before=None if row.before_values is None else json.loads(row.before_values),
            after=None if row.after_values is None else json.loads(row.after_values),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditVerification:
    """Result of checking the audit chain.

    Parameters
    ----------
    rows_checked
        Rows read, in sequence order, up to and including the first broken one.
    first_broken_sequence
        Sequence number of the first row whose link is broken, or ``None``.
    problem
        One line saying what is wrong with that row, or with the protection.
    missing_triggers
        Names of append-only triggers that are no longer installed.
    head_hash
        Hash of the newest row when the chain is intact. A hash chain cannot show
        that its newest rows were removed; writing this value down elsewhere
        (a report, a monitoring log) and checking that it is still in the chain
        can.
    """

    rows_checked: int
    first_broken_sequence: int | None = None
    problem: str | None = None
    missing_triggers: tuple[str, ...] = ()
    head_hash: str = GENESIS_HASH

    @property
    def ok(self) -> bool:
        """Whether the chain is intact and the protection in place."""
        return self.first_broken_sequence is None and not self.missing_triggers

    def __str__(self) -> str:
        if self.ok:
            return (
                f"audit trail intact: {self.rows_checked} rows checked, "
                f"newest row hash {self.head_hash}"
            )
        parts = []
        if self.first_broken_sequence is not None:
            parts.append(
                f"audit trail broken at row {self.first_broken_sequence}: "
                f"{self.problem}"
            )
        if self.missing_triggers:
            parts.append(
                "append-only protection removed (missing trigger "
                f"{', '.join(self.missing_triggers)})"
            )
        return "; ".join(parts)


def audit_row_digest(values: Mapping[str, Any]) -> str:
    """SHA-256 over an audit row's content, including the previous row's digest."""
    payload = json.dumps(
        [values[name] for name in _HASHED_COLUMNS],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _values_text(values: Mapping[str, Any] | None) -> str | None:
    return None if values is None else canonical_json(values)


def append_audit(
    session: Session,
    changes: Sequence[AuditChange],
    *,
    user: str,
    reason: str | None,
    now: datetime.datetime,
) -> None:
    """Append ``changes`` to the chain inside the caller's write transaction.

    The caller holds the database's write lock (``BEGIN IMMEDIATE`` on SQLite,
    a table lock on PostgreSQL), so reading the last row and appending after it
    cannot interleave with another writer; the unique sequence number is a
    second guard that turns a fork of the chain into an error.
    """
    if not changes:
        return
    last = session.execute(
        select(AuditRow.sequence, AuditRow.row_hash)
        .order_by(AuditRow.sequence.desc())
        .limit(1)
    ).first()
    if last is None:
        sequence, previous_hash = 0, GENESIS_HASH
    else:
        sequence, previous_hash = last
    recorded_at = now.astimezone(datetime.UTC).isoformat()
    for change in changes:
        sequence += 1
        values: dict[str, Any] = {
            "sequence": sequence,
            "recorded_at": recorded_at,
            "user_name": user,
            "action": change.action,
            "entity": change.entity,
            "entity_key": change.entity_key,
            "patient_id": change.patient_id,
            "reason": reason,
            "before_values": _values_text(change.before),
            "after_values": _values_text(change.after),
            "previous_hash": previous_hash,
        }
        previous_hash = audit_row_digest(values)
        session.add(AuditRow(**values, row_hash=previous_hash))
    session.flush()


def missing_audit_triggers(connection: Connection) -> tuple[str, ...]:
    """Append-only triggers that should protect ``audit_log`` but are absent."""
    dialect = connection.dialect.name
    expected: tuple[str, ...] = AUDIT_TRIGGER_NAMES
    if dialect == "sqlite":
        query = text(
            "SELECT name FROM sqlite_master "
            "WHERE type = 'trigger' AND tbl_name = 'audit_log'"
        )
    elif dialect == "postgresql":
        query = text(
            "SELECT tgname FROM pg_trigger "
            "WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal"
        )
        expected = _POSTGRESQL_TRIGGER_NAMES
    else:
        return AUDIT_TRIGGER_NAMES
    present = set(connection.execute(query).scalars())
    return tuple(name for name in expected if name not in present)


def _link_problem(row: AuditRow, expected_sequence: int, previous: str) -> str | None:
    if row.sequence != expected_sequence:
        return (
            f"expected row {expected_sequence} next, found row {row.sequence} "
            "(rows removed or inserted)"
        )
    if row.previous_hash != previous:
        return "its previous-row hash does not match the row before it"
    content = {name: getattr(row, name) for name in _HASHED_COLUMNS}
    if audit_row_digest(content) != row.row_hash:
        return "its content does not match its hash (the row was edited)"
    return None


def verify_audit_chain(
    session: Session, *, batch_rows: int = 2000
) -> AuditVerification:
    """Walk the whole chain in sequence order and report the first broken link.

    Parameters
    ----------
    session
        A read session on the database.
    batch_rows
        Rows fetched per round trip, so a long trail is checked in bounded memory.
    """
    missing = missing_audit_triggers(session.connection())
    checked = 0
    previous = GENESIS_HASH
    after_sequence = 0
    while True:
        rows = session.scalars(
            select(AuditRow)
            .where(AuditRow.sequence > after_sequence)
            .order_by(AuditRow.sequence)
            .limit(batch_rows)
        ).all()
        if not rows:
            break
        for row in rows:
            checked += 1
            problem = _link_problem(row, checked, previous)
            if problem is not None:
                return AuditVerification(
                    rows_checked=checked,
                    first_broken_sequence=row.sequence,
                    problem=problem,
                    missing_triggers=missing,
                )
            previous = row.row_hash
            after_sequence = row.sequence
        session.expunge_all()
    return AuditVerification(
        rows_checked=checked, missing_triggers=missing, head_hash=previous
    )


class AuditTrail:
    """The audit trail of the database (``store.audit``).

    Parameters
    ----------
    unit
        The store's shared sessions, clock and lookups.
    """

    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit

    def trail(
        self,
        patient_id: str | None = None,
        *,
        criteria: Criteria | str | None = None,
        reader: str | None = None,
        limit: int | None = None,
    ) -> tuple[AuditEntry, ...]:
        """Audit rows, newest first.

        Parameters
        ----------
        patient_id
            Only this patient's rows (readings and imported images).
        criteria, reader
            With ``patient_id``: only the rows of that one reading.
        limit
            At most this many rows (the newest).
        """
        with self._unit.session("reading the audit trail", write=False) as session:
            query = select(AuditRow).order_by(AuditRow.sequence.desc())
            if patient_id is not None:
                query = query.where(AuditRow.patient_id == patient_id)
            if criteria is not None or reader is not None:
                if patient_id is None or criteria is None or reader is None:
                    raise StoreError(
                        "audit trail of one reading: give patient_id, criteria "
                        "and reader"
                    )
                label = reading_label(patient_id, as_criteria(criteria).value, reader)
                query = query.where(
                    (AuditRow.entity_key == label)
                    | AuditRow.entity_key.startswith(f"{label} / ", autoescape=True)
                )
            if limit is not None:
                query = query.limit(limit)
            return tuple(AuditEntry.from_row(row) for row in session.scalars(query))

    def verify(self) -> AuditVerification:
        """Check the whole hash chain and the append-only triggers."""
        with self._unit.session("verifying the audit trail", write=False) as session:
            return verify_audit_chain(session)
