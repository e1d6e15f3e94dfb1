"""Writing a reading: what changed, the rows that hold it, its audit and its cache.

:func:`write_reading` is the one way a reading's content reaches the database
(saves, edits, imports). It finds the changed rows either by diffing the whole
stored reading against the new one, or, when the caller hands in the reading it
saved last (``base``), by comparing the two in memory (:mod:`._diff`). Either way
it then writes only the changed rows, located by their keys (lesion id, visit,
visit and lesion) rather than loaded first, appends one audit row per changed row
and caches the new assessment, all in the caller's write transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Table, delete, insert, select, update

from recist_app.store._diff import RowChange, changed, diff_rows, touched_rows
from recist_app.store._rows import FindingKey, ReadingRows, Values, reading_to_rows
from recist_app.store._unit_of_work import FINDING_TABLES, label_of
from recist_app.store.audit import AuditChange, append_audit, find_or_add_patient
from recist_app.store.errors import (
    ConcurrentEditError,
    ReadingLockedError,
    StoreError,
)
from recist_app.store.records import ReadingStatus
from recist_app.store.responses import write_cache
from recist_app.store.schema import (
    Base,
    LesionRow,
    PatientRow,
    ReadingRow,
    TimePointRow,
)

if TYPE_CHECKING:
    import datetime

    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session
    from sqlalchemy.sql.elements import ColumnElement

    from recist_app.recist import Assessment, Reading
    from recist_app.store._unit_of_work import UnitOfWork

__all__ = ["check_lengths", "write_reading"]

_LESIONS = Base.metadata.tables[LesionRow.__tablename__]
_TIMEPOINTS = Base.metadata.tables[TimePointRow.__tablename__]
_PARENTS: dict[str, tuple[Table, str]] = {
    "lesions": (_LESIONS, "lesion_id"),
    "timepoints": (_TIMEPOINTS, "visit"),
}
_FINDINGS: dict[str, Table] = {
    name: Base.metadata.tables[table.__tablename__]
    for name, table, _columns in FINDING_TABLES
}


def write_reading(
    unit: UnitOfWork,
    session: Session,
    reading: Reading,
    *,
    user: str,
    reason: str | None,
    base_revision: int | None,
    stored: ReadingRows | None = None,
    base: Reading | None = None,
    assessment: Assessment | None = None,
) -> ReadingRow:
    """Store ``reading`` (creating it if new), writing only the rows that changed.

    Parameters
    ----------
    unit, session
        The store's plumbing and the open write transaction.
    reading
        The whole reading as it should now be stored.
    user, reason
        Who and why, for the audit trail.
    base_revision
        The stored revision must still be this (when given), else nothing is
        written and :class:`ConcurrentEditError` is raised.
    stored
        The stored rows, when the caller has just read them in this
        transaction (saves reading them twice).
    base
        The reading as stored at ``base_revision``; the change is then found by
        comparing ``base`` with ``reading`` in memory, without reading the
        stored rows.
    assessment
        ``assess(reading)``, if the caller has it, for the response cache.

    Returns
    -------
    ReadingRow
        The reading's row after the write (revision unchanged when nothing
        changed).
    """
    label = label_of(reading)
    now = unit.now()
    row = unit.reading_row(
        session, reading.patient_id, reading.criteria, reading.reader
    )
    changes: list[AuditChange] = []
    if row is None:
        new = reading_to_rows(reading)
        check_lengths(new, label)
        row = _add_reading(session, new, label, now, changes)
        old = ReadingRows(
            patient_id=new.patient_id,
            criteria=new.criteria,
            reader=new.reader,
            reading=dict(new.reading),
        )
    else:
        if base is not None:
            old, new = touched_rows(base, reading)
        else:
            new = reading_to_rows(reading)
        check_lengths(new, label)
        if base_revision is not None and row.revision != base_revision:
            raise ConcurrentEditError(
                f"{label} was changed elsewhere (now revision {row.revision}, "
                f"yours {base_revision}); nothing was saved, reload it first"
            )
        if base is None:
            old = (
                stored
                if stored is not None
                else unit.stored_rows(session, row, reading.patient_id)
            )
        if changed(old.reading, new.reading):
            changes.append(
                AuditChange(
                    action="update",
                    entity="reading",
                    entity_key=label,
                    patient_id=reading.patient_id,
                    before=old.reading,
                    after=new.reading,
                )
            )
    row_changes = diff_rows(old, new)
    changes.extend(_audit(change, label, reading.patient_id) for change in row_changes)
    if not changes:
        return row
    if row.status == ReadingStatus.SIGNED.value:
        raise ReadingLockedError(
            f"{label} is signed (version {row.signed_version}); amend it with a "
            "reason before editing. Nothing was saved"
        )
    if changed(old.reading, new.reading):
        for name, value in new.reading.items():
            setattr(row, name, value)
    _write_rows(session.connection(), row.id, row_changes, label)
    row.revision += 1
    row.updated_at = now
    if reason is None and row.amendment_reason is not None:
        reason = f"amendment: {row.amendment_reason}"
    append_audit(session, changes, user=user, reason=reason, now=now)
    write_cache(session, row, reading, assessment, now)
    return row


def _add_reading(
    session: Session,
    new: ReadingRows,
    label: str,
    now: datetime.datetime,
    changes: list[AuditChange],
) -> ReadingRow:
    """Insert the reading row (and its patient, if new), recording both."""
    patient, _added = find_or_add_patient(
        session, new.patient_id, now=now, changes=changes
    )
    row = ReadingRow(
        patient_row_id=patient.id,
        criteria=new.criteria,
        reader=new.reader,
        status=ReadingStatus.DRAFT.value,
        revision=0,
        signed_version=0,
        created_at=now,
        updated_at=now,
        reader_role="single",  # a site read until given a role (store.central)
        **new.reading,
    )
    session.add(row)
    session.flush()
    changes.append(
        AuditChange(
            action="insert",
            entity="reading",
            entity_key=label,
            patient_id=new.patient_id,
            after={"status": row.status, **new.reading},
        )
    )
    return row


def _audit(change: RowChange, label: str, patient_id: str) -> AuditChange:
    key = change.key
    suffix = key if isinstance(key, str) else " / ".join(key)
    return AuditChange(
        action=change.action,
        entity=change.name,
        entity_key=f"{label} / {suffix}",
        patient_id=patient_id,
        before=change.before,
        after=change.after,
    )


# ------------------------------------------------------------ rows by key


def _parent_where(
    table: Table, column: str, reading_id: int, key: str
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return table.c.reading_id == reading_id, table.c[column] == key


def _finding_where(
    table: Table, reading_id: int, key: FindingKey
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    visit, lesion_id = key
    return (
        table.c.timepoint_id == _timepoint_id(reading_id, visit),
        table.c.lesion_row_id == _lesion_id(reading_id, lesion_id),
    )


def _timepoint_id(reading_id: int, visit: str) -> ColumnElement[int]:
    return (
        select(_TIMEPOINTS.c.id)
        .where(_TIMEPOINTS.c.reading_id == reading_id, _TIMEPOINTS.c.visit == visit)
        .scalar_subquery()
    )


def _lesion_id(reading_id: int, lesion_id: str) -> ColumnElement[int]:
    return (
        select(_LESIONS.c.id)
        .where(_LESIONS.c.reading_id == reading_id, _LESIONS.c.lesion_id == lesion_id)
        .scalar_subquery()
    )


def _write_rows(
    connection: Connection, reading_id: int, changes: list[RowChange], label: str
) -> None:
    """Delete, insert and update the child rows in ``changes``, located by key.

    A row to update or delete that is not stored means the stored reading is
    not the one the change was computed from; the write is refused (and the
    transaction rolled back by the caller).
    """
    for change in changes:
        if change.name in _PARENTS:
            table, column = _PARENTS[change.name]
            assert isinstance(change.key, str)
            where = _parent_where(table, column, reading_id, change.key)
            located: Values = {"reading_id": reading_id}
        else:
            table = _FINDINGS[change.name]
            assert not isinstance(change.key, str)
            where = _finding_where(table, reading_id, change.key)
            located = {
                "timepoint_id": _timepoint_id(reading_id, change.key[0]),
                "lesion_row_id": _lesion_id(reading_id, change.key[1]),
            }
        if change.action == "insert":
            connection.execute(insert(table).values(**located, **(change.after or {})))
            continue
        if change.action == "delete":
            result = connection.execute(delete(table).where(*where))
        else:  # only the columns that changed
            before, after = change.before or {}, change.after or {}
            result = connection.execute(
                update(table)
                .where(*where)
                .values(
                    {
                        name: value
                        for name, value in after.items()
                        if before[name] != value
                    }
                )
            )
        if result.rowcount != 1:
            raise StoreError(
                f"saving {label}: {change.name} {change.key} is not stored as the "
                "change expects; nothing was saved, reload the reading"
            )


def _text_lengths(table: type[Base]) -> dict[str, int]:
    return {
        column.name: length
        for column in table.__table__.c
        if (length := getattr(column.type, "length", None)) is not None
    }


_TEXT_LENGTHS: dict[type[Base], dict[str, int]] = {
    table: _text_lengths(table)
    for table in (
        PatientRow,
        ReadingRow,
        LesionRow,
        TimePointRow,
        *(finding_table for _name, finding_table, _columns in FINDING_TABLES),
    )
}


def check_lengths(rows: ReadingRows, label: str) -> None:
    """Refuse text longer than its column, the same way on every backend.

    PostgreSQL would refuse it with a driver error and SQLite would store it;
    a clear message naming the field is better than either.
    """
    checks: list[tuple[type[Base], Values, str]] = [
        (PatientRow, {"patient_id": rows.patient_id}, "reading"),
        (ReadingRow, {"criteria": rows.criteria, "reader": rows.reader}, "reading"),
    ]
    checks.extend((LesionRow, v, f"lesion {k}") for k, v in rows.lesions.items())
    checks.extend((TimePointRow, v, f"visit {k}") for k, v in rows.timepoints.items())
    for name, finding_table, _ in FINDING_TABLES:
        items: dict[FindingKey, Values] = getattr(rows, name)
        checks.extend(
            (finding_table, v, f"visit {visit}, lesion {lesion_id}")
            for (visit, lesion_id), v in items.items()
        )
    for table, values, where in checks:
        lengths = _TEXT_LENGTHS[table]
        for name, value in values.items():
            length = lengths.get(name)
            if length is not None and isinstance(value, str) and len(value) > length:
                raise StoreError(
                    f"saving {label}: {where}: {name} has {len(value)} characters, "
                    f"more than the {length} the database holds"
                )
