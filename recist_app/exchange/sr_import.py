"""Import DICOM SR TID 1500 measurement reports into stored readings.

Merges one SR (ours, or another tool's TID 1500 built with highdicom) into a
reading of its patient: lesions by Tracking UID or Tracking Identifier (the lesion
id), measurements with their drawn geometry, so they reappear on the images. Every
problem is one line naming the file. Which stored reading an SR goes into, and the
saving, are :mod:`recist_app.workflows.sr_import`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist_app.exchange.errors import ExchangeError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from pydicom.dataset import Dataset

    from recist_app.recist import Reading

__all__ = ["SrImported", "import_sr_file", "read_measurement_observer", "read_sr_file"]

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


def read_measurement_observer(sr: Dataset, path: Path) -> str | None:
    """The SR's person observer (the reader who measured), if it names one.

    Raises
    ------
    ExchangeError
        The SR is not a readable TID 1500 report; one line naming ``path``.
    """
    from recist_app.exchange.sr import read_measurement_report

    try:
        return read_measurement_report(sr).observer
    except ExchangeError as error:
        raise ExchangeError(f"{path}: {error}") from None
