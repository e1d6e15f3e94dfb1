"""Readings imported whole from files: sign-off, outcome, conflicts, image lookup.

:meth:`~recist_app.store.Store.import_reading` writes a reading read from a
``recist-reading/1`` file in one transaction, with the sign-off the file carries.
This module holds its vocabulary and the pure helpers it needs: how the stored and
the imported reading differ (for the one-line conflict message), whether the
stored sign-off is the file's, and where an indexed image lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select

from recist_app.store.errors import StoreError
from recist_app.store.schema import PatientRow, SeriesFileRow, SeriesRow, StudyRow

if TYPE_CHECKING:
    import datetime

    from sqlalchemy.orm import Session

    from recist_app.store._rows import ReadingRows, Values
    from recist_app.store.schema import ReadingRow
    from recist_app.store.store import ReadingRecord

__all__ = [
    "ImportOutcome",
    "ImportedSignOff",
    "IndexedImage",
    "ReadingImportResult",
    "find_indexed_image",
    "first_difference",
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
    """What :meth:`~recist_app.store.Store.import_reading` did, and the record after."""

    outcome: ImportOutcome
    record: ReadingRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexedImage:
    """Where an indexed image lives and whose it is."""

    sop_instance_uid: str
    patient_id: str
    study_instance_uid: str
    series_instance_uid: str
    file_path: str


def find_indexed_image(session: Session, sop_instance_uid: str) -> IndexedImage | None:
    """The indexed image with this SOP Instance UID, or ``None``."""
    found = session.execute(
        select(
            SeriesFileRow.file_path,
            SeriesRow.series_instance_uid,
            StudyRow.study_instance_uid,
            PatientRow.patient_id,
        )
        .join(SeriesRow, SeriesFileRow.series_id == SeriesRow.id)
        .join(StudyRow, SeriesRow.study_id == StudyRow.id)
        .join(PatientRow, StudyRow.patient_row_id == PatientRow.id)
        .where(SeriesFileRow.sop_instance_uid == sop_instance_uid)
        .order_by(SeriesFileRow.id)
        .limit(1)
    ).first()
    if found is None:
        return None
    file_path, series_uid, study_uid, patient_id = found
    return IndexedImage(
        sop_instance_uid=sop_instance_uid,
        patient_id=patient_id,
        study_instance_uid=study_uid,
        series_instance_uid=series_uid,
        file_path=file_path,
    )


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
