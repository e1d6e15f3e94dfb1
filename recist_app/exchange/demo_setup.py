"""The two demo patients in the reading database: one read, one waiting.

``recist-app --demo`` (and so ``make run``) calls :func:`set_up_demo_patients`:
on first use it writes two phantom patients' CT studies into the user data folder,
indexes them in the database, imports the first patient's complete reading file
(drawn from the phantom's ground truth, so the lesions are measured on the images
at every visit) and stores an unread reading for the second patient with one
timepoint per study, ready to measure. Later calls find everything in place and
change nothing, so what the user measured on the second patient stays.

No Qt here: the workstation runs this in a worker thread behind a progress dialog.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recist_app.exchange.demo_reading import (
    DEMO_READER,
    reading_from_ground_truth,
    unread_reading_from_ground_truth,
)
from recist_app.exchange.errors import ExchangeError
from recist_app.exchange.reading_file import write_reading_file
from recist_app.exchange.reading_import import import_reading_file

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from recist_app.store import Store

__all__ = ["DEMO_PATIENTS", "DemoPatientSpec", "DemoPatients", "set_up_demo_patients"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoPatientSpec:
    """One generated demo patient: its identity and the phantom seed."""

    patient_id: str
    patient_name: str
    seed: int
    read: bool


DEMO_PATIENTS: tuple[DemoPatientSpec, ...] = (
    DemoPatientSpec(
        patient_id="DEMO-HCC-001", patient_name="DEMO^READ", seed=0, read=True
    ),
    DemoPatientSpec(
        patient_id="DEMO-HCC-002", patient_name="DEMO^UNREAD", seed=1, read=False
    ),
)
"""The read patient first: the workstation opens on it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoPatients:
    """What :func:`set_up_demo_patients` prepared."""

    folder: Path
    read_patient_id: str
    unread_patient_id: str
    reader: str
    reading_file: Path


def _ensure_studies(
    folder: Path,
    spec: DemoPatientSpec,
    progress: Callable[[str], None] | None,
    options: dict[str, Any],
) -> dict[str, Any]:
    """The patient's ground truth, writing its studies first if they are missing."""
    from recist_app.imaging import GROUND_TRUTH_NAME, ImagingError, write_demo_data

    truth_path = folder / GROUND_TRUTH_NAME
    if truth_path.is_file():  # written last: its presence means complete studies
        try:
            truth: dict[str, Any] = json.loads(truth_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ExchangeError(
                f"{truth_path}: unreadable ground truth: {error}"
            ) from None
        if truth.get("patient_id") == spec.patient_id:
            return truth
    if progress is not None:
        progress(f"Writing the studies of demo patient {spec.patient_id}…")
    try:
        return write_demo_data(
            folder,
            seed=spec.seed,
            patient_id=spec.patient_id,
            patient_name=spec.patient_name,
            progress=progress,
            **options,
        )
    except ImagingError as error:
        raise ExchangeError(f"{folder}: {error}") from None
    except OSError as error:
        raise ExchangeError(f"{folder}: cannot write: {error.strerror}") from None


def _ensure_indexed(
    store: Store,
    folder: Path,
    truth: dict[str, Any],
    user: str,
    progress: Callable[[str], None] | None,
) -> None:
    indexed = {
        series.series_instance_uid
        for study in store.images.studies(truth["patient_id"])
        for series in study.series
    }
    wanted = {str(study["series_instance_uid"]) for study in truth["studies"]}
    if wanted <= indexed:
        return
    if progress is not None:
        progress(f"Indexing the studies of {truth['patient_id']}…")
    store.images.import_folder(folder, user=user)


def set_up_demo_patients(
    folder: Path,
    store: Store,
    *,
    user: str,
    progress: Callable[[str], None] | None = None,
    **phantom_options: Any,
) -> DemoPatients:
    """Make sure both demo patients are generated, indexed and in the database.

    Parameters
    ----------
    folder
        Where the studies are written (one sub-folder per patient).
    store
        The reading database.
    user
        Who sets them up, for the audit trail.
    progress
        Called with one line of text per step.
    phantom_options
        Passed to ``write_demo_data`` (tests use small images).

    Raises
    ------
    ExchangeError
        A folder cannot be written, or the database refused an import.
    """
    from recist_app.store import ReadingNotFoundError, StoreError

    read_spec, unread_spec = DEMO_PATIENTS
    reading_file = (
        folder / read_spec.patient_id / f"{read_spec.patient_id}.reading.json"
    )
    try:
        for spec in DEMO_PATIENTS:
            patient_folder = folder / spec.patient_id
            truth = _ensure_studies(patient_folder, spec, progress, phantom_options)
            _ensure_indexed(store, patient_folder, truth, user, progress)
            try:
                # Once stored, the reading is the user's: never overwritten here.
                store.readings.load_stored(spec.patient_id, reader=DEMO_READER)
                continue
            except ReadingNotFoundError:
                pass
            if spec.read:
                if not reading_file.is_file():
                    write_reading_file(reading_from_ground_truth(truth), reading_file)
                if progress is not None:
                    progress(f"Importing the reading of {spec.patient_id}…")
                import_reading_file(store, reading_file, user=user)
            else:
                store.readings.save(unread_reading_from_ground_truth(truth), user=user)
    except StoreError as error:
        raise ExchangeError(f"demo patients: {error}") from None
    return DemoPatients(
        folder=folder,
        read_patient_id=read_spec.patient_id,
        unread_patient_id=unread_spec.patient_id,
        reader=DEMO_READER,
        reading_file=reading_file,
    )
