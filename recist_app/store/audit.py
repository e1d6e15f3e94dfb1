"""The audit trail: an append-only, hash-chained record of every change.

Each row holds who, when, what (entity and key), the values before and after, and
two SHA-256 digests: the previous row's, and its own over all of its content
including that previous digest. Changing, inserting or deleting a row in the middle
breaks the chain at that row (:func:`link_problem`). Database triggers (migration
``0001``: SQLite and PostgreSQL variants) refuse UPDATE and DELETE of audit rows, so
tampering needs deliberate work that the chain then exposes.

With a key from outside the database (``$RECIST_APP_AUDIT_KEY``, handed to
:func:`~recist_app.store.open_store`), each row also gets an HMAC of its hash
(``row_mac``, revision 0008): whoever can write the database but lacks the key
cannot append or rewrite rows that verify. This module writes the trail;
:mod:`recist_app.store.verification` checks it (``store.audit``).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from recist_app.store._rows import canonical_json
from recist_app.store._unit_of_work import AUDIT_KEY_INFO
from recist_app.store.schema import AuditRow, PatientRow

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sqlalchemy.orm import Session

__all__ = [
    "GENESIS_HASH",
    "AuditChange",
    "AuditEntry",
    "append_audit",
    "audit_row_digest",
    "audit_row_mac",
    "find_or_add_patient",
    "link_problem",
]

GENESIS_HASH = "0" * 64
"""The ``previous_hash`` of the first audit row."""

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


def audit_row_mac(key: bytes, row_hash: str) -> str:
    """HMAC-SHA256 of a row's hash under ``key``.

    The row hash covers the row and, through the previous hash, every row
    before it; so a valid MAC vouches for the whole chain up to that row.
    """
    return hmac.new(key, row_hash.encode("ascii"), hashlib.sha256).hexdigest()


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
) -> str | None:
    """Append ``changes`` to the chain inside the caller's write transaction.

    Returns the newest row's hash (the chain head), or ``None`` when there was
    nothing to append. The rows get an HMAC when the session carries the
    store's audit key.

    The caller holds the database's write lock (``BEGIN IMMEDIATE`` on SQLite,
    an advisory lock on PostgreSQL), so reading the last row and appending after it
    cannot interleave with another writer; the unique sequence number is a
    second guard that turns a fork of the chain into an error.
    """
    if not changes:
        return None
    key: bytes | None = session.info.get(AUDIT_KEY_INFO)
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
        session.add(
            AuditRow(
                **values,
                row_hash=previous_hash,
                row_mac=None if key is None else audit_row_mac(key, previous_hash),
            )
        )
    session.flush()
    return previous_hash


def link_problem(row: AuditRow, expected_sequence: int, previous: str) -> str | None:
    """Why ``row`` does not continue the chain; ``None`` when it does.

    ``expected_sequence`` and ``previous`` are the sequence number and the hash
    the row must have after the rows before it.
    """
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
