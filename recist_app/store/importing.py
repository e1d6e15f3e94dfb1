"""Readings imported whole from files: sign-off, outcome, conflicts.

:meth:`~recist_app.store.Readings.import_reading` writes a reading read from a
``recist-reading/1`` file in one transaction, with the sign-off the file carries
(:func:`import_whole_reading`). This module holds that write, its vocabulary and
the pure helpers it needs: how the stored and the imported reading differ (for the
one-line conflict message) and whether the stored sign-off is the file's.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from recist_app.store._rows import reading_to_rows, rows_sha256, rows_to_snapshot
from recist_app.store._unit_of_work import check_user, label_of
from recist_app.store._writer import write_reading
from recist_app.store.audit import AuditChange, append_audit
from recist_app.store.central import apply_role, role_change
from recist_app.store.errors import ReadingConflictError, StoreError
from recist_app.store.records import ReadingRecord, ReadingStatus
from recist_app.store.responses import carry_cache
from recist_app.store.schema import ReadingVersionRow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from recist_app.recist import ReaderRole, Reading
    from recist_app.store._rows import ReadingRows, Values
    from recist_app.store._unit_of_work import UnitOfWork
    from recist_app.store.schema import ReadingRow

__all__ = [
    "ImportOutcome",
    "ImportedSignOff",
    "ReadingImportResult",
    "first_difference",
    "import_whole_reading",
    "sign_off_difference",
]


class ImportOutcome(StrEnum):
    """What importing a reading did to the database."""

    CREATED = "created"
    UNCHANGED = "unchanged"
    REPLACED = "replaced"


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedSignOff:
    """The sign-off a reading file carries (its ``sign_off`` object).

    Parameters
    ----------
    status
        ``"draft"`` or ``"signed"``; a signed reading is stored locked.
    signed_by, signed_at
        Who signed and when (aware), kept as they are in the file.
    version
        How many times the reading had been signed (0: never).
    amendment_reason
        Why a signed reading was reopened, for a draft being amended.
    """

    status: str = "draft"
    signed_by: str | None = None
    signed_at: datetime.datetime | None = None
    version: int = 0
    amendment_reason: str | None = None

    def __post_init__(self) -> None:
        if self.status not in ("draft", "signed"):
            raise StoreError(
                f"sign-off status must be 'draft' or 'signed', got {self.status!r}"
            )
        if self.version < 0:
            raise StoreError(f"sign-off version must be >= 0, got {self.version}")
        if self.signed_at is not None and self.signed_at.tzinfo is None:
            raise StoreError("sign-off time must carry its UTC offset")
        if self.signed:
            if not self.signed_by or not self.signed_by.strip():
                raise StoreError("a signed reading needs who signed it (signed_by)")
            if self.signed_at is None:
                raise StoreError("a signed reading needs when it was signed")
            if self.version < 1:
                raise StoreError("a signed reading has sign-off version >= 1")

    @property
    def signed(self) -> bool:
        """Whether the reading is signed (locked)."""
        return self.status == "signed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingImportResult:
    """What :meth:`~recist_app.store.Readings.import_reading` did, and the record."""

    outcome: ImportOutcome
    record: ReadingRecord


def _first_changed_column(old: Values, new: Values) -> str | None:
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            return name
    return None


def _keyed_difference(
    old: dict[str, Values], new: dict[str, Values], what: str
) -> str | None:
    for key in sorted(set(old) | set(new)):
        if key not in old:
            return f"{what} {key}: only in the file"
        if key not in new:
            return f"{what} {key}: only in the database"
        column = _first_changed_column(old[key], new[key])
        if column is not None:
            return f"{what} {key}: {column}"
    return None


def first_difference(stored: ReadingRows, imported: ReadingRows) -> str | None:
    """Where ``imported`` first differs from ``stored``, in words; ``None`` if equal.

    For example ``visit WEEK 8, lesion T01: long_axis_mm``, ``lesion NT01: only in
    the file`` or ``params: sd_min_days``.
    """
    column = _first_changed_column(stored.reading, imported.reading)
    if column is not None:
        return f"params: {column}"
    found = _keyed_difference(stored.lesions, imported.lesions, "lesion")
    if found is None:
        found = _keyed_difference(stored.timepoints, imported.timepoints, "visit")
    if found is not None:
        return found
    for name, what in (
        ("measurements", "measurement"),
        ("non_target", "non-target"),
        ("new_lesions", "new lesion"),
    ):
        old: dict[tuple[str, str], Values] = getattr(stored, name)
        new: dict[tuple[str, str], Values] = getattr(imported, name)
        for key in sorted(set(old) | set(new)):
            where = f"visit {key[0]}, lesion {key[1]}"
            if key not in old:
                return f"{where}: {what} only in the file"
            if key not in new:
                return f"{where}: {what} only in the database"
            column = _first_changed_column(old[key], new[key])
            if column is not None:
                return f"{where}: {column}"
    return None


def sign_off_difference(row: ReadingRow, sign_off: ImportedSignOff) -> str | None:
    """How the stored sign-off differs from the file's; ``None`` if it is the same.

    The amendment reason is not compared: exports do not carry it.
    """
    if row.status != sign_off.status:
        return f"sign-off: {row.status} in the database, {sign_off.status} in the file"
    if row.signed_version != sign_off.version:
        return (
            f"sign-off: version {row.signed_version} in the database, "
            f"{sign_off.version} in the file"
        )
    if row.signed_by != sign_off.signed_by:
        return (
            f"sign-off: signed by {row.signed_by!r} in the database, "
            f"{sign_off.signed_by!r} in the file"
        )
    if row.signed_at != sign_off.signed_at:
        return "sign-off: signed at another time"
    return None


def import_whole_reading(
    unit: UnitOfWork,
    reading: Reading,
    *,
    sign_off: ImportedSignOff,
    source_sha256: str,
    replace: bool,
    user: str,
    role: ReaderRole | None = None,
) -> ReadingImportResult:
    """Store ``reading`` and its sign-off (and its role) in one transaction.

    See :meth:`~recist_app.store.Readings.import_reading`.
    """
    label = label_of(reading)
    who = check_user(user, f"importing {label}")
    if sign_off.signed_by is not None and len(sign_off.signed_by) > 128:
        raise StoreError(
            f"importing {label}: sign-off signed_by has "
            f"{len(sign_off.signed_by)} characters, more than the 128 the "
            "database holds"
        )
    new = reading_to_rows(reading)
    with unit.session("importing a reading", write=True) as session:
        row = unit.reading_row(
            session, reading.patient_id, reading.criteria, reading.reader
        )
        stored: ReadingRows | None = None
        before: Values | None = None
        revision = 0
        if row is None:
            outcome = ImportOutcome.CREATED
            reason = f"imported from a reading file (SHA-256 {source_sha256})"
        else:
            stored = unit.stored_rows(session, row, reading.patient_id)
            difference = first_difference(stored, new) or sign_off_difference(
                row, sign_off
            )
            if difference is None:
                head = apply_role(
                    unit, session, row, reading.patient_id, role, user=who
                )
                return ReadingImportResult(
                    outcome=ImportOutcome.UNCHANGED,
                    record=ReadingRecord.from_row(
                        row, reading.patient_id, audit_head=head
                    ),
                )
            if not replace:
                raise ReadingConflictError(
                    f"{label} is already in database {unit.url} and differs "
                    f"({difference}); nothing was imported"
                )
            outcome = ImportOutcome.REPLACED
            reason = f"replaced by a reading file (SHA-256 {source_sha256})"
            revision = row.revision
            before = {
                "status": row.status,
                "signed_version": row.signed_version,
                "snapshot_sha256": rows_sha256(stored),
            }
            # Unlocked only inside this transaction, to be replaced whole.
            row.status = ReadingStatus.DRAFT.value
        row = write_reading(
            unit,
            session,
            reading,
            user=who,
            reason=reason,
            base_revision=None,
            stored=stored,
        )
        now = unit.now()
        signed = _apply_sign_off(session, row, new, sign_off, label)
        # The import first, then its signature: the signature's row is then the
        # chain head at sign-off, as when the app signs.
        changes = [
            AuditChange(
                action="import" if before is None else "replace",
                entity="reading",
                entity_key=label,
                patient_id=reading.patient_id,
                before=before,
                after={
                    "source_sha256": source_sha256,
                    "status": row.status,
                    "signed_version": row.signed_version,
                    "signed_by": row.signed_by,
                    "signed_at": None
                    if row.signed_at is None
                    else row.signed_at.isoformat(),
                    "amendment_reason": row.amendment_reason,
                    "snapshot_sha256": rows_sha256(new),
                },
            ),
            *signed,
        ]
        if role is not None:
            moved = role_change(session, row, reading.patient_id, role)
            if moved is not None:
                changes.append(moved)
        if row.revision == revision:  # the content was already stored so
            row.revision += 1
            carry_cache(session, row, revision)
        row.updated_at = now
        head = append_audit(session, changes, user=who, reason=reason, now=now)
        return ReadingImportResult(
            outcome=outcome,
            record=ReadingRecord.from_row(row, reading.patient_id, audit_head=head),
        )


def _apply_sign_off(
    session: Session,
    row: ReadingRow,
    rows: ReadingRows,
    sign_off: ImportedSignOff,
    label: str,
) -> list[AuditChange]:
    """Give ``row`` the file's sign-off; a signed one keeps a whole version."""
    taken = (
        session.scalar(
            select(func.max(ReadingVersionRow.version)).where(
                ReadingVersionRow.reading_id == row.id
            )
        )
        or 0
    )
    before = {"status": row.status, "signed_version": row.signed_version}
    row.signed_at = (
        None
        if sign_off.signed_at is None
        else sign_off.signed_at.astimezone(datetime.UTC)
    )
    row.signed_by = sign_off.signed_by
    if not sign_off.signed:
        row.status = ReadingStatus.DRAFT.value
        row.signed_version = max(sign_off.version, taken)
        row.amendment_reason = sign_off.amendment_reason
        session.flush()
        return []
    signed_at, signed_by = row.signed_at, row.signed_by
    if signed_at is None or signed_by is None:  # ImportedSignOff refuses these
        raise StoreError(f"importing {label}: the signature lacks signer or time")
    version = ReadingVersionRow(
        reading_id=row.id,
        version=sign_off.version if sign_off.version > taken else taken + 1,
        signed_at=signed_at,
        signed_by=signed_by,
        amendment_reason=sign_off.amendment_reason,
        snapshot=rows_to_snapshot(rows),
        snapshot_sha256=rows_sha256(rows),
    )
    session.add(version)
    row.status = ReadingStatus.SIGNED.value
    row.signed_version = version.version
    row.amendment_reason = None
    session.flush()
    return [
        AuditChange(
            action="sign",
            entity="reading",
            entity_key=label,
            patient_id=rows.patient_id,
            before=before,
            after={
                "status": row.status,
                "signed_version": row.signed_version,
                "signed_by": signed_by,
                "signed_at": signed_at.isoformat(),
                "snapshot_sha256": version.snapshot_sha256,
            },
        )
    ]
