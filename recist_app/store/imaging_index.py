"""The imaging index: studies, series and file locations found by discovery.

Storing them lets the workstation reopen a patient's images without rescanning the
folder. Indexing is idempotent: UIDs identify studies, series and images, so indexing
the same folder again adds nothing, and a moved folder only updates file locations.
:class:`ImagingIndex` is the store's part for it (``store.images``).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, func, insert, select

from recist_app.store._unit_of_work import check_user
from recist_app.store.audit import AuditChange, append_audit, find_or_add_patient
from recist_app.store.errors import StoreError
from recist_app.store.schema import (
    AdverseEventRow,
    ClinicalRow,
    PatientRow,
    ReadingRow,
    SeriesFileRow,
    SeriesRow,
    StudyRow,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.orm import Session

    from recist_app.imaging.discovery import (
        DiscoveryResult,
        PatientInfo,
        SeriesInfo,
        StudyInfo,
    )
    from recist_app.store._unit_of_work import UnitOfWork

__all__ = [
    "ImagingIndex",
    "ImportSummary",
    "IndexedImage",
    "StoredSeries",
    "StoredStudy",
    "find_indexed_image",
    "index_discovery",
    "series_file_paths",
    "stored_studies",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportSummary:
    """What indexing a folder changed in the database.

    Parameters
    ----------
    files_scanned
        Files discovery looked at.
    files_added, files_moved
        Images new to the database, and known images found at a new location.
    skipped
        One line per series not indexed, naming it and saying why.
    rejected
        One line per DICOM file discovery could not use (``path: reason``).
    notes
        One line per identifier discovery had to make up so no image is lost
        (a placeholder patient, UIDs derived from the files' content).
    """

    files_scanned: int
    patients_added: int = 0
    studies_added: int = 0
    series_added: int = 0
    files_added: int = 0
    files_moved: int = 0
    skipped: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the database changed at all."""
        return bool(
            self.patients_added
            or self.studies_added
            or self.series_added
            or self.files_added
            or self.files_moved
        )

    def __str__(self) -> str:
        return (
            f"{self.files_scanned} files scanned: {self.patients_added} patients, "
            f"{self.studies_added} studies, {self.series_added} series and "
            f"{self.files_added} images added, {self.files_moved} images moved, "
            f"{len(self.skipped)} series skipped, {len(self.rejected)} files rejected"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredSeries:
    """An indexed series, for a series list."""

    series_instance_uid: str
    series_number: int | None
    modality: str
    description: str
    series_date: datetime.date | None
    slice_thickness_mm: float | None
    phase_hint: str
    body_part: str
    slice_count: int
    volume_count: int
    file_count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredStudy:
    """An indexed study (visit) with its series."""

    study_instance_uid: str
    study_date: datetime.date | None
    study_time: str
    description: str
    accession_number: str
    series: tuple[StoredSeries, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexedImage:
    """Where an indexed image lives and whose it is."""

    sop_instance_uid: str
    patient_id: str
    study_instance_uid: str
    series_instance_uid: str
    file_path: str


def _dicom_date(value: str) -> datetime.date | None:
    """A DICOM DA value (``YYYYMMDD``) as a date; ``None`` when absent or invalid."""
    text = value.strip()
    if len(text) != 8 or not text.isdigit():  # strptime would accept "2024013"
        return None
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _clip(value: str, length: int) -> str:
    # DICOM limits these values; a malformed file must not fail the whole import
    # on a database that enforces column lengths (PostgreSQL).
    return value[:length]


_SERIES_FILES = cast("Table", SeriesFileRow.__table__)
"""The table itself, for Core inserts (a declarative class types it loosely)."""


@dataclass(slots=True)
class _Counts:
    patients: int = 0
    studies: int = 0
    series: int = 0
    files_added: int = 0
    files_moved: int = 0


def _series_files(series: SeriesInfo) -> list[tuple[str, str, int | None]]:
    """``(sop_instance_uid, absolute path, instance number)`` in volume order."""
    seen: set[str] = set()
    files: list[tuple[str, str, int | None]] = []
    for volume in series.volumes:
        for slice_ref in volume.slices:
            header = slice_ref.header
            if header.sop_instance_uid in seen:
                continue  # further frames of a multi-frame file
            seen.add(header.sop_instance_uid)
            files.append(
                (
                    header.sop_instance_uid,
                    os.path.abspath(header.path),
                    header.instance_number,
                )
            )
    return files


class _Indexer:
    def __init__(self, session: Session, now: datetime.datetime) -> None:
        self.session = session
        self.now = now
        self.counts = _Counts()
        self.changes: list[AuditChange] = []
        self.skipped: list[str] = []

    def patient(self, patient_id: str) -> PatientRow:
        row, added = find_or_add_patient(
            self.session, patient_id, now=self.now, changes=self.changes
        )
        if added:
            self.counts.patients += 1
        return row

    def study(self, patient: PatientRow, study: StudyInfo) -> StudyRow | None:
        row = self.session.scalars(
            select(StudyRow).where(
                StudyRow.study_instance_uid == study.study_instance_uid
            )
        ).one_or_none()
        if row is not None:
            if row.patient_row_id != patient.id:
                owner = self.session.get(PatientRow, row.patient_row_id)
                self.skipped.append(
                    f"study {study.study_instance_uid}: already indexed under patient "
                    f"{owner.patient_id if owner else '?'}, found again under "
                    f"{patient.patient_id}; not indexed"
                )
                return None
            return row
        row = StudyRow(
            patient_row_id=patient.id,
            study_instance_uid=study.study_instance_uid,
            study_date=_dicom_date(study.date),
            study_time=_clip(study.time, 16),
            description=study.description,
            accession_number=_clip(study.accession_number, 16),
            imported_at=self.now,
        )
        self.session.add(row)
        self.session.flush()
        self.counts.studies += 1
        self.changes.append(
            AuditChange(
                action="import",
                entity="study",
                entity_key=study.study_instance_uid,
                patient_id=patient.patient_id,
                after={
                    "study_date": row.study_date,
                    "description": row.description,
                    "accession_number": row.accession_number,
                },
            )
        )
        return row

    def series(self, patient_id: str, study: StudyRow, series: SeriesInfo) -> None:
        row = self.session.scalars(
            select(SeriesRow).where(
                SeriesRow.series_instance_uid == series.series_instance_uid
            )
        ).one_or_none()
        files = _series_files(series)
        if row is None:
            row = SeriesRow(
                study_id=study.id,
                series_instance_uid=series.series_instance_uid,
                series_number=series.series_number,
                modality=_clip(series.modality, 16),
                description=series.description,
                series_date=_dicom_date(series.date),
                slice_thickness_mm=series.slice_thickness_mm,
                phase_hint=_clip(series.phase_hint, 32),
                body_part=_clip(series.body_part, 64),
                slice_count=series.slice_count,
                volume_count=len(series.volumes),
            )
            self.session.add(row)
            self.session.flush()
            self.counts.series += 1
            self.changes.append(
                AuditChange(
                    action="import",
                    entity="series",
                    entity_key=series.series_instance_uid,
                    patient_id=patient_id,
                    after={
                        "study_instance_uid": study.study_instance_uid,
                        "modality": row.modality,
                        "description": row.description,
                        "files": len(files),
                    },
                )
            )
        elif row.study_id != study.id:
            self.skipped.append(
                f"series {series.series_instance_uid}: already indexed in another "
                "study; not indexed"
            )
            return
        self._files(row, files)

    def _files(
        self, series: SeriesRow, files: Iterable[tuple[str, str, int | None]]
    ) -> None:
        known = {
            item.sop_instance_uid: item
            for item in self.session.scalars(
                select(SeriesFileRow).where(SeriesFileRow.series_id == series.id)
            )
        }
        next_position = len(known)
        added: list[dict[str, object]] = []
        for position, (sop_instance_uid, path, instance_number) in enumerate(files):
            item = known.get(sop_instance_uid)
            if item is None:
                added.append(
                    {
                        "series_id": series.id,
                        "sop_instance_uid": sop_instance_uid,
                        "file_path": path,
                        "instance_number": instance_number,
                        "position": position if not known else next_position,
                    }
                )
                next_position += 1
            elif item.file_path != path:
                item.file_path = path
                self.counts.files_moved += 1
        if added:
            # One Core executemany on the table instead of an ORM object per file
            # (the unit of work, and even the ORM's bulk INSERT, cost about as
            # much as reading the header: issue 23). Nothing reads these rows
            # back as objects here.
            self.session.execute(insert(_SERIES_FILES), added)
            self.counts.files_added += len(added)
        self.session.flush()
        file_count = self.session.scalar(
            select(func.count()).where(SeriesFileRow.series_id == series.id)
        )
        if file_count is not None and file_count > series.slice_count:
            series.slice_count = file_count


def index_discovery(
    session: Session, result: DiscoveryResult, now: datetime.datetime
) -> tuple[ImportSummary, list[AuditChange]]:
    """Add what ``result`` found to the index inside the caller's write transaction.

    Returns the summary and the audit changes for the caller to append.
    """
    indexer = _Indexer(session, now)
    for patient_info in result.patients:
        _index_patient(indexer, patient_info)
    summary = ImportSummary(
        files_scanned=result.files_scanned,
        patients_added=indexer.counts.patients,
        studies_added=indexer.counts.studies,
        series_added=indexer.counts.series,
        files_added=indexer.counts.files_added,
        files_moved=indexer.counts.files_moved,
        skipped=tuple(indexer.skipped),
        rejected=tuple(str(item) for item in result.rejected),
        notes=result.notes,
    )
    return summary, indexer.changes


def _index_patient(indexer: _Indexer, patient_info: PatientInfo) -> None:
    patient_id = patient_info.patient_id.strip()
    if not patient_id:
        for unnamed_study in patient_info.studies:
            indexer.skipped.extend(
                f"series {series.series_instance_uid}: no Patient ID in the files; "
                "not indexed"
                for series in unnamed_study.series
            )
        return
    patient = indexer.patient(_clip(patient_id, 64))
    for study_info in patient_info.studies:
        study_row = indexer.study(patient, study_info)
        if study_row is None:
            continue
        for series_info in study_info.series:
            indexer.series(patient.patient_id, study_row, series_info)


def stored_studies(session: Session, patient_id: str) -> tuple[StoredStudy, ...]:
    """The indexed studies of ``patient_id``, oldest first, with their series."""
    studies = session.scalars(
        select(StudyRow)
        .join(PatientRow, StudyRow.patient_row_id == PatientRow.id)
        .where(PatientRow.patient_id == patient_id)
        .order_by(StudyRow.study_date, StudyRow.study_time, StudyRow.study_instance_uid)
    ).all()
    counts: dict[int, int] = dict(
        session.execute(
            select(SeriesFileRow.series_id, func.count()).group_by(
                SeriesFileRow.series_id
            )
        ).all()
    )
    result = []
    for study in studies:
        series_rows = session.scalars(
            select(SeriesRow)
            .where(SeriesRow.study_id == study.id)
            .order_by(SeriesRow.series_number, SeriesRow.series_instance_uid)
        ).all()
        result.append(
            StoredStudy(
                study_instance_uid=study.study_instance_uid,
                study_date=study.study_date,
                study_time=study.study_time,
                description=study.description,
                accession_number=study.accession_number,
                series=tuple(
                    StoredSeries(
                        series_instance_uid=row.series_instance_uid,
                        series_number=row.series_number,
                        modality=row.modality,
                        description=row.description,
                        series_date=row.series_date,
                        slice_thickness_mm=row.slice_thickness_mm,
                        phase_hint=row.phase_hint,
                        body_part=row.body_part,
                        slice_count=row.slice_count,
                        volume_count=row.volume_count,
                        file_count=counts.get(row.id, 0),
                    )
                    for row in series_rows
                ),
            )
        )
    return tuple(result)


def series_file_paths(
    session: Session, series_instance_uid: str
) -> tuple[str, ...] | None:
    """Paths of the series' images in volume order; ``None`` for an unknown series."""
    series = session.scalars(
        select(SeriesRow).where(SeriesRow.series_instance_uid == series_instance_uid)
    ).one_or_none()
    if series is None:
        return None
    return tuple(
        session.scalars(
            select(SeriesFileRow.file_path)
            .where(SeriesFileRow.series_id == series.id)
            .order_by(SeriesFileRow.position, SeriesFileRow.id)
        )
    )


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


class ImagingIndex:
    """The indexed studies, series and image files (``store.images``).

    Parameters
    ----------
    unit
        The store's shared sessions, clock and lookups.
    """

    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit

    def record_discovery(self, result: DiscoveryResult, *, user: str) -> ImportSummary:
        """Index what :func:`recist_app.imaging.discover` found (idempotent)."""
        who = check_user(user, "importing images")
        with self._unit.session("importing images", write=True) as session:
            now = self._unit.now()
            summary, changes = index_discovery(session, result, now)
            append_audit(session, changes, user=who, reason=None, now=now)
            return summary

    def rename_patient(
        self, patient_id: str, new_patient_id: str, *, user: str
    ) -> bool:
        """Give an imaged patient another id, or merge it into an existing patient.

        Meant for images indexed under a made-up id (an anonymised series gets a
        placeholder ``ANON-…`` patient): when ``new_patient_id`` is new the patient
        is renamed; when it exists, the studies move to it and the placeholder is
        removed. Either is one transaction, recorded in the audit trail. A patient
        with readings, clinical data or adverse events is refused: their records
        and signatures name the patient, so they are never rewritten here.

        Returns
        -------
        bool
            ``True`` when merged into an existing patient, ``False`` when renamed.

        Raises
        ------
        StoreError
            Unknown patient, the same id, or a patient that is not images only.
        """
        who = check_user(user, f"renaming patient {patient_id}")
        with self._unit.session("renaming a patient", write=True) as session:
            source = session.scalars(
                select(PatientRow).where(PatientRow.patient_id == patient_id)
            ).one_or_none()
            if source is None:
                raise StoreError(
                    f"patient {patient_id}: not in database {self._unit.url}"
                )
            if new_patient_id == patient_id:
                raise StoreError(f"patient {patient_id}: the new id is the same")
            for table, what in (
                (ReadingRow, "readings"),
                (ClinicalRow, "clinical data"),
                (AdverseEventRow, "adverse events"),
            ):
                count = session.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(table.patient_row_id == source.id)
                )
                if count:
                    raise StoreError(
                        f"patient {patient_id}: has {what}; only a patient with "
                        "images alone (not yet read) can be renamed or merged"
                    )
            target = session.scalars(
                select(PatientRow).where(PatientRow.patient_id == new_patient_id)
            ).one_or_none()
            now = self._unit.now()
            studies = session.scalars(
                select(StudyRow).where(StudyRow.patient_row_id == source.id)
            ).all()
            if target is None:
                source.patient_id = new_patient_id
                change = AuditChange(
                    action="rename",
                    entity="patient",
                    entity_key=patient_id,
                    patient_id=new_patient_id,
                    before={"patient_id": patient_id},
                    after={"patient_id": new_patient_id},
                )
            else:
                for study in studies:
                    study.patient_row_id = target.id
                session.flush()
                session.delete(source)
                change = AuditChange(
                    action="merge",
                    entity="patient",
                    entity_key=patient_id,
                    patient_id=new_patient_id,
                    before={"patient_id": patient_id},
                    after={
                        "merged_into": new_patient_id,
                        "studies": sorted(s.study_instance_uid for s in studies),
                    },
                )
            session.flush()
            append_audit(session, [change], user=who, reason=None, now=now)
            return target is not None

    def studies(self, patient_id: str) -> tuple[StoredStudy, ...]:
        """The indexed studies of a patient, oldest first, with their series."""
        with self._unit.session("listing studies", write=False) as session:
            return stored_studies(session, patient_id)

    def series_files(self, series_instance_uid: str) -> tuple[Path, ...]:
        """Where the images of a series are, in volume order, without rescanning.

        Raises
        ------
        StoreError
            The series was never imported.
        """
        with self._unit.session("listing series files", write=False) as session:
            paths = series_file_paths(session, series_instance_uid)
        if paths is None:
            raise StoreError(
                f"series {series_instance_uid} is not in database {self._unit.url}; "
                "import its folder first"
            )
        return tuple(Path(path) for path in paths)

    def image_files(self, sop_instance_uids: Iterable[str]) -> dict[str, Path]:
        """Where the indexed images with these SOP Instance UIDs are.

        UIDs that were never imported are left out of the result.
        """
        wanted = sorted(set(sop_instance_uids))
        found: dict[str, Path] = {}
        with self._unit.session("finding image files", write=False) as session:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = session.execute(
                    select(SeriesFileRow.sop_instance_uid, SeriesFileRow.file_path)
                    .where(SeriesFileRow.sop_instance_uid.in_(chunk))
                    .order_by(SeriesFileRow.id)
                )
                for uid, path in rows:
                    found.setdefault(uid, Path(path))
        return found

    def image(self, sop_instance_uid: str) -> IndexedImage | None:
        """Where the indexed image ``sop_instance_uid`` is and whose it is."""
        with self._unit.session("looking up an image", write=False) as session:
            return find_indexed_image(session, sop_instance_uid)
