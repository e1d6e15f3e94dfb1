"""Import DICOM SR TID 1500 measurement reports into stored readings.

Used by ``recist-app import-sr`` and the workstation's File → Import DICOM SR…:
each SR (ours, or another tool's TID 1500 built with highdicom) is matched to the
reading of its patient, its lesions by Tracking UID or Tracking Identifier (the
lesion id), and its measurements are recorded with their drawn geometry, so they
reappear on the images. Every problem is one line naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist_app.exchange.errors import ExchangeError
from recist_app.store import ReadingStatus, StoreError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    from pydicom.dataset import Dataset

    from recist_app.recist import Reading
    from recist_app.store import ReadingRecord, Store

__all__ = [
    "SrImported",
    "import_sr_file",
    "import_sr_files_into_store",
    "read_sr_file",
]

_SR_MODALITY = "SR"


@dataclass(frozen=True, slots=True, kw_only=True)
class SrImported:
    """What one import changed: the reading, its visit and the lesions measured."""

    label: str
    visit: str
    lesion_ids: tuple[str, ...]


def read_sr_file(path: Path) -> Dataset:
    """Read ``path`` as a DICOM SR; one line naming the file when it is not one.

    Raises
    ------
    ExchangeError
        Unreadable file, not DICOM, or a DICOM object that is not a structured
        report.
    """
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    try:
        dataset = dcmread(path)
    except FileNotFoundError:
        raise ExchangeError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ExchangeError(f"{path}: is a folder, not an SR file") from None
    except (InvalidDicomError, EOFError, ValueError, TypeError):
        raise ExchangeError(f"{path}: not a DICOM file") from None
    except OSError as error:
        raise ExchangeError(f"{path}: cannot read: {error.strerror}") from None
    modality = str(dataset.get("Modality", "") or "")
    if modality != _SR_MODALITY or "ContentSequence" not in dataset:
        kind = modality or "no modality"
        raise ExchangeError(f"{path}: not a DICOM SR ({kind})")
    if not str(dataset.get("PatientID", "") or "").strip():
        raise ExchangeError(f"{path}: the SR has no Patient ID")
    return dataset


def _referenced_images(sr: Dataset) -> set[str]:
    from recist_app.exchange.sr import read_measurement_report

    report = read_measurement_report(sr)
    return {
        lesion.sop_instance_uid
        for lesion in report.lesions
        if lesion.sop_instance_uid is not None
    }


def _headers(
    path: Path, uids: set[str], files: Mapping[str, Path]
) -> dict[str, Dataset]:
    from recist_app.exchange.export import read_image_headers

    missing = sorted(uids - set(files))
    if missing:
        raise ExchangeError(
            f"{path}: measured image {missing[0]} is not in the database; import "
            "its DICOM folder first (recist-app import DIR) or pass --images DIR"
        )
    return read_image_headers(uids, files)


def import_sr_file(
    reading: Reading,
    path: Path,
    image_files: Mapping[str, Path],
    *,
    find_images: Callable[[set[str]], Mapping[str, Path]] | None = None,
) -> tuple[Reading, SrImported]:
    """``reading`` with the measurements of the SR at ``path`` merged in.

    Parameters
    ----------
    reading
        The reading of the SR's patient.
    path
        A TID 1500 SR file.
    image_files
        Files of the measured images by SOP Instance UID (their headers give the
        geometry to put the drawn axes back in patient coordinates).
    find_images
        Called with the measured images missing from ``image_files``; returns the
        files it found (e.g. from the database's imaging index).

    Raises
    ------
    ExchangeError
        One line naming ``path``: not an SR, an SR of another patient, an unknown
        visit or lesion, or a measured image that is not available.
    """
    from recist_app.exchange.sr import (
        import_measurement_report,
        read_measurement_report,
    )

    sr = read_sr_file(path)
    patient = str(sr.PatientID).strip()
    if patient != reading.patient_id:
        raise ExchangeError(
            f"{path}: the SR is of patient {patient}, not {reading.patient_id}"
        )
    try:
        report = read_measurement_report(sr)
        wanted = _referenced_images(sr)
        files = dict(image_files)
        if find_images is not None and wanted - set(files):
            files.update(find_images(wanted - set(files)))
        headers = _headers(path, wanted, files)
        updated = import_measurement_report(reading, sr, headers)
    except ExchangeError as error:
        raise ExchangeError(f"{path}: {error}") from None
    changed = [
        t
        for before, t in zip(reading.timepoints, updated.timepoints, strict=True)
        if before != t
    ]
    visit = changed[0].visit if changed else (report.time_point or "")
    return updated, SrImported(
        label=reading.patient_id,
        visit=visit,
        lesion_ids=tuple(
            lesion.lesion_id
            for lesion in report.lesions
            if lesion.long_axis_mm is not None or lesion.short_axis_mm is not None
        ),
    )


def _choose_record(
    path: Path,
    records: Sequence[ReadingRecord],
    patient: str,
    observer: str | None,
    store_url: str,
) -> ReadingRecord:
    if not records:
        raise ExchangeError(
            f"{path}: patient {patient} has no reading in {store_url} "
            "(--criteria/--reader may exclude it)"
        )
    if len(records) == 1:
        return records[0]
    if observer:
        name = observer.replace("^", " ").strip()
        same = [r for r in records if r.reader and r.reader.strip() == name]
        if len(same) == 1:
            return same[0]
    labels = ", ".join(r.label for r in records)
    raise ExchangeError(
        f"{path}: patient {patient} has {len(records)} readings ({labels}); "
        "choose one with --reader and --criteria"
    )


def import_sr_files_into_store(
    store: Store,
    paths: Sequence[Path],
    *,
    user: str,
    image_files: Mapping[str, Path] | None = None,
    criteria: str | None = None,
    reader: str | None = None,
) -> tuple[SrImported, ...]:
    """Merge the SRs at ``paths`` into their patients' stored readings.

    All files are read and merged first; the readings are saved only when every
    file imported, so a bad file changes nothing.

    Parameters
    ----------
    store
        The reading database.
    paths
        TID 1500 SR files.
    user
        Who imports, for the audit trail.
    image_files
        Measured images by SOP Instance UID; default: the database's imaging index.
    criteria, reader
        Choose among several readings of a patient (default: the only one, or the
        one whose reader is the SR's person observer).

    Raises
    ------
    ExchangeError
        One line naming the file or the reading.
    """
    from recist_app.exchange.sr import read_measurement_report

    if not paths:
        raise ExchangeError("no SR file given")
    pending: dict[tuple[str, str, str], tuple[Reading, ReadingRecord, list[str]]] = {}
    done: list[SrImported] = []
    try:
        for path in paths:
            sr = read_sr_file(path)
            patient = str(sr.PatientID).strip()
            try:
                observer = read_measurement_report(sr).observer
            except ExchangeError as error:
                raise ExchangeError(f"{path}: {error}") from None
            records = [
                r
                for r in store.readings.list(patient)
                if (criteria is None or r.criteria.value == criteria)
                and (reader is None or r.reader == reader)
            ]
            record = _choose_record(path, records, patient, observer, store.url)
            if record.status is ReadingStatus.SIGNED:
                raise ExchangeError(
                    f"{path}: {record.label} is signed; amend it before importing"
                )
            key = (record.patient_id, record.criteria.value, record.reader)
            reading = pending[key][0] if key in pending else store.readings.load(*key)
            updated, imported = import_sr_file(
                reading,
                path,
                image_files or {},
                find_images=store.images.image_files if image_files is None else None,
            )
            names = [*pending[key][2], path.name] if key in pending else [path.name]
            pending[key] = (updated, record, names)
            done.append(
                SrImported(
                    label=record.label,
                    visit=imported.visit,
                    lesion_ids=imported.lesion_ids,
                )
            )
        for reading, record, names in pending.values():
            store.readings.save(
                reading,
                user=user,
                reason=f"imported DICOM SR {', '.join(names)}",
                base_revision=record.revision,
            )
    except StoreError as error:
        raise ExchangeError(str(error)) from None
    return tuple(done)
