"""Writing a reading: what changed, the rows that hold it, its audit and its cache.

:func:`write_reading` is the one way a reading's content reaches the database
(saves, edits, imports). It diffs the stored rows against the new reading and
touches only what changed, appends one audit row per changed row and caches the
new assessment, all in the caller's write transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recist_app.store._rows import (
    FindingKey,
    ReadingRows,
    Values,
    reading_to_rows,
)
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
    from sqlalchemy.orm import Session

    from recist_app.recist import Reading
    from recist_app.store._unit_of_work import StoredRows, UnitOfWork

__all__ = ["check_lengths", "write_reading"]


def _changed(old: Values, new: Values) -> bool:
    return any(old[name] != value for name, value in new.items())


def write_reading(
    unit: UnitOfWork,
    session: Session,
    reading: Reading,
    *,
    user: str,
    reason: str | None,
    base_revision: int | None,
    stored: StoredRows | None = None,
) -> ReadingRow:
    """Write the difference between the stored reading and ``reading``.

    ``stored`` is the stored rows when the caller has just loaded them in
    this transaction (saves loading them twice).
    """
    now = unit.now()
    new = reading_to_rows(reading)
    check_lengths(new, label_of(reading))
    changes: list[AuditChange] = []
    patient, _added = find_or_add_patient(
        session, reading.patient_id, now=now, changes=changes
    )
    row = unit.reading_row(
        session, reading.patient_id, reading.criteria, reading.reader
    )
    label = label_of(reading)
    if row is None:
        row = ReadingRow(
            patient_row_id=patient.id,
            criteria=new.criteria,
            reader=new.reader,
            status=ReadingStatus.DRAFT.value,
            revision=0,
            signed_version=0,
            created_at=now,
            updated_at=now,
            **new.reading,
        )
        session.add(row)
        session.flush()
        changes.append(
            AuditChange(
                action="insert",
                entity="reading",
                entity_key=label,
                patient_id=reading.patient_id,
                after={"status": row.status, **new.reading},
            )
        )
        old = ReadingRows(
            patient_id=new.patient_id,
            criteria=new.criteria,
            reader=new.reader,
            reading=dict(new.reading),
        )
        objects: dict[str, Any] = {
            name: {}
            for name in (
                "lesions",
                "timepoints",
                "measurements",
                "non_target",
                "new_lesions",
            )
        }
    else:
        if base_revision is not None and row.revision != base_revision:
            raise ConcurrentEditError(
                f"{label} was changed elsewhere (now revision {row.revision}, "
                f"yours {base_revision}); nothing was saved, reload it first"
            )
        old, objects = (
            stored
            if stored is not None
            else unit.stored_rows(session, row, reading.patient_id)
        )
        if _changed(old.reading, new.reading):
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
            for name, value in new.reading.items():
                setattr(row, name, value)
    changes.extend(_apply_children(session, row, old, new, objects, label))
    if not changes:
        return row
    if row.status == ReadingStatus.SIGNED.value:
        raise ReadingLockedError(
            f"{label} is signed (version {row.signed_version}); amend it with a "
            "reason before editing. Nothing was saved"
        )
    row.revision += 1
    row.updated_at = now
    if reason is None and row.amendment_reason is not None:
        reason = f"amendment: {row.amendment_reason}"
    append_audit(session, changes, user=user, reason=reason, now=now)
    write_cache(session, row, reading, new, now)
    return row


def _apply_children(
    session: Session,
    row: ReadingRow,
    old: ReadingRows,
    new: ReadingRows,
    objects: dict[str, Any],
    label: str,
) -> list[AuditChange]:
    changes: list[AuditChange] = []
    patient_id = new.patient_id
    # Findings go first and come back last: they reference lesions and visits.
    for name, _, _ in FINDING_TABLES:
        old_items: dict[FindingKey, Values] = getattr(old, name)
        new_items: dict[FindingKey, Values] = getattr(new, name)
        for key in sorted(set(old_items) - set(new_items)):
            session.delete(objects[name][key])
            changes.append(
                _change("delete", name, label, key, patient_id, old_items[key], None)
            )
    session.flush()
    parent_tables: tuple[tuple[str, type[LesionRow] | type[TimePointRow]], ...] = (
        ("lesions", LesionRow),
        ("timepoints", TimePointRow),
    )
    for name, parent_table in parent_tables:
        old_parents: dict[str, Values] = getattr(old, name)
        new_parents: dict[str, Values] = getattr(new, name)
        for parent_key in sorted(set(old_parents) - set(new_parents)):
            session.delete(objects[name][parent_key])
            changes.append(
                _change(
                    "delete",
                    name,
                    label,
                    parent_key,
                    patient_id,
                    old_parents[parent_key],
                    None,
                )
            )
        session.flush()
        for parent_key, values in new_parents.items():
            before = old_parents.get(parent_key)
            if before is None:
                parent = parent_table(reading_id=row.id, **values)
                session.add(parent)
                objects[name][parent_key] = parent
                changes.append(
                    _change("insert", name, label, parent_key, patient_id, None, values)
                )
            elif _changed(before, values):
                _assign(objects[name][parent_key], values)
                changes.append(
                    _change(
                        "update",
                        name,
                        label,
                        parent_key,
                        patient_id,
                        before,
                        values,
                    )
                )
        session.flush()
    for name, table, _ in FINDING_TABLES:
        old_items = getattr(old, name)
        for key, values in getattr(new, name).items():
            before = old_items.get(key)
            if before is None:
                item = table(
                    timepoint_id=objects["timepoints"][key[0]].id,
                    lesion_row_id=objects["lesions"][key[1]].id,
                    **values,
                )
                session.add(item)
                changes.append(
                    _change("insert", name, label, key, patient_id, None, values)
                )
            elif _changed(before, values):
                _assign(objects[name][key], values)
                changes.append(
                    _change("update", name, label, key, patient_id, before, values)
                )
    session.flush()
    return changes


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
        columns = table.__table__.c
        for name, value in values.items():
            length = getattr(columns[name].type, "length", None)
            if isinstance(value, str) and length is not None and len(value) > length:
                raise StoreError(
                    f"saving {label}: {where}: {name} has {len(value)} characters, "
                    f"more than the {length} the database holds"
                )


def _assign(item: object, values: Values) -> None:
    for name, value in values.items():
        setattr(item, name, value)


def _change(
    action: str,
    entity: str,
    label: str,
    key: str | FindingKey,
    patient_id: str,
    before: Values | None,
    after: Values | None,
) -> AuditChange:
    suffix = key if isinstance(key, str) else " / ".join(key)
    return AuditChange(
        action=action,
        entity=entity,
        entity_key=f"{label} / {suffix}",
        patient_id=patient_id,
        before=before,
        after=after,
    )
