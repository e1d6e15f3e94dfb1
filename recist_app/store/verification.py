"""Checking the audit trail (``store.audit``): chain, data, triggers, key, anchors.

:meth:`AuditTrail.verify` reads the whole trail once, in sequence order, and
checks five things:

- **the chain**: each row's hash covers its content and the previous row's hash,
  so an edited, inserted or removed row breaks the chain there;
- **the data**: replaying the trail gives the values every patient, reading,
  lesion, visit, finding and clinical row must hold now, and each signed
  version's SHA-256; the tables are compared with them
  (:mod:`recist_app.store._binding`), so a value changed with plain SQL, even in
  a signed reading, is reported with its patient, reader, visit and lesion;
- **the triggers** that make ``audit_log`` append-only are present, enabled and
  unaltered (SQLite and PostgreSQL);
- **the key**, when the store has one: every row from the first keyed one on
  carries a valid HMAC, so rows appended or rewritten by someone without the
  key are found;
- **anchors**: hashes written down outside the database (the chain head printed
  at sign-off and on the PDF report) must still be rows of the chain, so a
  trail cut back past them, or rewritten before them, is found.

What none of these can see: the newest rows removed back to a point after every
anchor, by someone who also removed the data they recorded. Anchors taken often
(each sign-off) narrow that window.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from sqlalchemy import select, text

from recist_app.environment import AUDIT_KEY_ENV
from recist_app.store._binding import Divergence, TrailReplay, compare_with_tables
from recist_app.store._unit_of_work import as_criteria, reading_label
from recist_app.store.audit import (
    GENESIS_HASH,
    AuditEntry,
    audit_row_mac,
    link_problem,
)
from recist_app.store.errors import StoreError
from recist_app.store.schema import AuditRow

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

    from recist_app.recist import Criteria
    from recist_app.store._unit_of_work import UnitOfWork

__all__ = [
    "AUDIT_TRIGGER_NAMES",
    "AnchorCheck",
    "AuditTrail",
    "AuditVerification",
    "Divergence",
    "check_audit_triggers",
    "parse_anchor",
    "verify_audit_trail",
]

# name -> (event, per row or statement), as revision 0001 creates them.
_SQLITE_TRIGGERS: Final = {
    "audit_log_no_update": ("update", "row"),
    "audit_log_no_delete": ("delete", "row"),
}
_POSTGRESQL_TRIGGERS: Final = {
    **_SQLITE_TRIGGERS,
    "audit_log_no_truncate": ("truncate", "statement"),
}
AUDIT_TRIGGER_NAMES: Final = tuple(_SQLITE_TRIGGERS)
"""The append-only triggers every backend has (PostgreSQL adds truncate)."""
_POSTGRESQL_FUNCTION_BODY: Final = (
    "begin raise exception using message = 'audit_log is append-only: ' || "
    "lower(tg_op) || ' refused'; end"
)
_HASH = re.compile(r"[0-9a-f]{64}")


def _normal(sql: str) -> str:
    return " ".join(sql.split()).lower()


def _sqlite_trigger_problems(
    connection: Connection,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    found: dict[str, str] = dict(
        connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name = 'audit_log'"
            )
        ).all()
    )
    missing = tuple(name for name in _SQLITE_TRIGGERS if name not in found)
    altered = []
    for name, (event, _each) in _SQLITE_TRIGGERS.items():
        sql = found.get(name)
        if sql is None:
            continue
        pattern = (
            rf"create trigger {name} before {event} on audit_log begin "
            r"select raise\(abort, '[^']*'\); end"
        )
        if not re.fullmatch(pattern, _normal(sql)):
            altered.append(
                f"trigger {name} no longer refuses every {event} (its definition "
                "was changed)"
            )
    return missing, tuple(altered)


def _postgresql_trigger_problems(
    connection: Connection,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    rows = connection.execute(
        text(
            "SELECT t.tgname, t.tgenabled, pg_get_triggerdef(t.oid), p.prosrc "
            "FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = 'audit_log'::regclass AND NOT t.tgisinternal"
        )
    ).all()
    found = {
        name: (enabled, definition, body) for name, enabled, definition, body in rows
    }
    missing = tuple(name for name in _POSTGRESQL_TRIGGERS if name not in found)
    altered = []
    for name, (event, each) in _POSTGRESQL_TRIGGERS.items():
        if name not in found:
            continue
        enabled, definition, body = found[name]
        if isinstance(enabled, bytes):
            enabled = enabled.decode()
        if enabled == "D":
            altered.append(
                f"trigger {name} is disabled (ALTER TABLE ... ENABLE TRIGGER)"
            )
        elif enabled == "R":
            altered.append(f"trigger {name} fires only on replicas (it is disabled)")
        pattern = (
            rf"create trigger {name} before {event} on (\S+\.)?audit_log for each "
            rf"{each} execute function (\S+\.)?audit_log_append_only\(\)"
        )
        if not re.fullmatch(pattern, _normal(definition)) or (
            _normal(body) != _POSTGRESQL_FUNCTION_BODY
        ):
            altered.append(
                f"trigger {name} no longer refuses every {event} (its definition "
                "or function was changed)"
            )
    return missing, tuple(altered)


def check_audit_triggers(
    connection: Connection,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The append-only triggers that are missing, and what is wrong with the rest.

    Returns ``(missing trigger names, problems)``: a trigger that is disabled
    (PostgreSQL ``ALTER TABLE ... DISABLE TRIGGER``) or whose definition or
    function no longer refuses the change is a problem, one line each.
    """
    dialect = connection.dialect.name
    if dialect == "sqlite":
        return _sqlite_trigger_problems(connection)
    if dialect == "postgresql":
        return _postgresql_trigger_problems(connection)
    return AUDIT_TRIGGER_NAMES, (f"no append-only protection for {dialect}",)


def parse_anchor(value: str) -> str:
    """An anchor hash as stored: 64 lower-case hex digits.

    Raises
    ------
    StoreError
        ``value`` is not a SHA-256 in hex.
    """
    anchor = value.strip().lower()
    if not _HASH.fullmatch(anchor):
        raise StoreError(
            f"expected head {value!r} is not a SHA-256 hash (64 hex digits)"
        )
    return anchor


@dataclass(frozen=True, slots=True, kw_only=True)
class AnchorCheck:
    """An expected row hash and where the chain holds it (``None``: nowhere)."""

    row_hash: str
    sequence: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditVerification:
    """The result of checking the audit trail.

    Parameters
    ----------
    rows_checked
        Rows read, in sequence order (the whole trail).
    first_broken_sequence
        Sequence number of the first row whose link is broken, or ``None``.
    problem
        One line saying what is wrong with that row.
    missing_triggers
        Names of append-only triggers that are no longer installed.
    trigger_problems
        Triggers that are installed but disabled or altered, one line each.
    head_hash
        Hash of the newest row when the chain is intact. Write it down outside
        the database and pass it back as an anchor to find the trail cut back.
    divergences
        Every difference between the tables and what the trail says they hold.
    readings_checked
        Stored readings compared with the trail.
    anchors
        Each expected row hash and where it was found in the intact chain.
    keyed
        Whether a key was given, so the rows' HMACs were checked.
    first_keyed_sequence
        The first row carrying an HMAC (rows before it predate the key).
    key_problem
        The first row whose HMAC is missing or wrong, in one line.
    unchecked_macs
        Rows carrying an HMAC that could not be checked (no key given).
    """

    rows_checked: int
    first_broken_sequence: int | None = None
    problem: str | None = None
    missing_triggers: tuple[str, ...] = ()
    trigger_problems: tuple[str, ...] = ()
    head_hash: str = GENESIS_HASH
    divergences: tuple[Divergence, ...] = ()
    readings_checked: int = 0
    anchors: tuple[AnchorCheck, ...] = ()
    keyed: bool = False
    first_keyed_sequence: int | None = None
    key_problem: str | None = None
    unchecked_macs: int = 0

    @property
    def chain_ok(self) -> bool:
        """Whether every link of the hash chain holds."""
        return self.first_broken_sequence is None

    @property
    def ok(self) -> bool:
        """Whether chain, data, triggers, key and anchors all check out."""
        return (
            self.chain_ok
            and not self.missing_triggers
            and not self.trigger_problems
            and not self.divergences
            and self.key_problem is None
            and all(anchor.sequence is not None for anchor in self.anchors)
        )

    def details(self) -> tuple[str, ...]:
        """Every problem found, one line each (divergences included)."""
        return (
            *self.trigger_problems,
            *(str(divergence) for divergence in self.divergences),
        )

    def _anchor_text(self) -> list[str]:
        parts = []
        for anchor in self.anchors:
            if anchor.sequence is None:
                parts.append(
                    f"expected row {anchor.row_hash} is not in the audit trail "
                    "(rows were removed or the trail was rewritten)"
                )
            else:
                newer = self.rows_checked - anchor.sequence
                parts.append(
                    f"expected row {anchor.row_hash[:16]}… found at row "
                    f"{anchor.sequence} ({newer} newer row{'s' if newer != 1 else ''})"
                )
        return parts

    def _key_text(self) -> list[str]:
        if self.key_problem is not None:
            return [self.key_problem]
        if self.keyed and self.first_keyed_sequence is not None:
            older = self.first_keyed_sequence - 1
            text = (
                f"rows {self.first_keyed_sequence}-{self.rows_checked} carry valid "
                "MACs of the audit key"
            )
            return [text + (f" (rows 1-{older} predate the key)" if older else "")]
        if self.unchecked_macs:
            return [
                f"{self.unchecked_macs} rows carry a MAC, not checked: no audit key "
                f"given (${AUDIT_KEY_ENV})"
            ]
        return []

    def __str__(self) -> str:
        if self.ok:
            parts = [
                f"audit trail intact: {self.rows_checked} rows checked, "
                f"newest row hash {self.head_hash}",
                f"the data of {self.readings_checked} reading"
                f"{'s' if self.readings_checked != 1 else ''} matches it",
            ]
        else:
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
            if self.trigger_problems:
                parts.append(
                    "append-only protection off: " + "; ".join(self.trigger_problems)
                )
            if self.divergences:
                count = len(self.divergences)
                parts.append(
                    f"{count} difference{'s' if count != 1 else ''} between the "
                    f"tables and the audit trail (first: {self.divergences[0]})"
                )
        parts += self._anchor_text()
        parts += self._key_text()
        return "; ".join(parts)


@dataclass(slots=True)
class _KeyCheck:
    """The rows' HMACs, checked one row at a time."""

    key: bytes | None
    first_keyed: int | None = None
    problem: str | None = None
    unchecked: int = 0

    def feed(self, row: AuditRow) -> None:
        if self.key is None:
            self.unchecked += row.row_mac is not None
            return
        if self.problem is not None:
            return
        if row.row_mac is None:
            if self.first_keyed is not None:
                self.problem = (
                    f"row {row.sequence} has no MAC, though rows from "
                    f"{self.first_keyed} on do (written without the audit key, or "
                    "forged)"
                )
            return
        if self.first_keyed is None:
            self.first_keyed = row.sequence
        if not hmac.compare_digest(row.row_mac, audit_row_mac(self.key, row.row_hash)):
            self.problem = (
                f"row {row.sequence}: its MAC does not match the audit key "
                "(forged, or another key)"
            )

    def finish(self, rows: int) -> str | None:
        if (
            self.key is not None
            and self.problem is None
            and rows
            and (self.first_keyed is None)
        ):
            return (
                f"no row of the audit trail carries a MAC of the audit key "
                f"(the {rows} rows were written without it)"
            )
        return self.problem


def verify_audit_trail(
    unit: UnitOfWork,
    session: Session,
    *,
    expect_heads: Iterable[str] = (),
    batch_rows: int = 2000,
) -> AuditVerification:
    """Check the whole trail: chain, data, triggers, key and anchors.

    Parameters
    ----------
    unit, session
        The store's plumbing (its audit key, if any) and a read session.
    expect_heads
        Row hashes written down earlier; each must be a row of the intact chain.
    batch_rows
        Rows fetched per round trip, so a long trail is read in bounded memory.
    """
    anchors = {parse_anchor(value): None for value in expect_heads}
    found: dict[str, int] = {}
    missing, trigger_problems = check_audit_triggers(session.connection())
    replay = TrailReplay()
    keys = _KeyCheck(unit.audit_key)
    checked, previous, after_sequence = 0, GENESIS_HASH, 0
    broken: tuple[int, str] | None = None
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
            if broken is None:
                problem = link_problem(row, checked, previous)
                if problem is not None:
                    broken = (row.sequence, problem)
                elif row.row_hash in anchors:
                    found[row.row_hash] = row.sequence
            previous = row.row_hash
            after_sequence = row.sequence
            keys.feed(row)
            replay.feed(row)
        session.expunge_all()
    divergences = compare_with_tables(unit, session, replay)
    return AuditVerification(
        rows_checked=checked,
        first_broken_sequence=None if broken is None else broken[0],
        problem=None if broken is None else broken[1],
        missing_triggers=missing,
        trigger_problems=trigger_problems,
        head_hash=previous if broken is None else GENESIS_HASH,
        divergences=tuple(divergences),
        readings_checked=len(replay.readings),
        anchors=tuple(
            AnchorCheck(row_hash=anchor, sequence=found.get(anchor))
            for anchor in anchors
        ),
        keyed=unit.audit_key is not None,
        first_keyed_sequence=keys.first_keyed,
        key_problem=keys.finish(checked),
        unchecked_macs=keys.unchecked,
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

    def head(self) -> str:
        """The newest row's hash (the genesis hash of an empty trail)."""
        with self._unit.session("reading the audit trail", write=False) as session:
            newest = session.scalar(
                select(AuditRow.row_hash).order_by(AuditRow.sequence.desc()).limit(1)
            )
            return newest or GENESIS_HASH

    def verify(
        self, *, expect_heads: Iterable[str] = (), batch_rows: int = 2000
    ) -> AuditVerification:
        """Check the chain, the data against it, the triggers, key and anchors.

        Parameters
        ----------
        expect_heads
            Row hashes written down outside the database (the head printed at
            sign-off, on a PDF report); each must still be in the chain.
        batch_rows
            Rows read per round trip.

        Raises
        ------
        StoreError
            An expected head is not a SHA-256 hash.
        """
        expected = [parse_anchor(value) for value in expect_heads]
        with self._unit.session("verifying the audit trail", write=False) as session:
            return verify_audit_trail(
                self._unit, session, expect_heads=expected, batch_rows=batch_rows
            )
