"""The demo: generated patients, a simulated trial and the two demo patients.

``recist-app demo-data``, ``recist-app simulate-trial`` and ``recist-app --demo``.

:func:`write_demo_patient` writes one phantom patient's CT studies, its ground
truth and its complete reading file (drawn from the ground truth).
:func:`write_simulated_trial` writes a simulated trial's reading files, clinical
CSV, adverse events and biomarkers. ``recist-app --demo`` (and so ``make run``) calls
:func:`set_up_demo_patients`:
on first use it writes two phantom patients' CT studies into the user data folder,
indexes them in the database, imports the first patient's complete reading file
(drawn from the phantom's ground truth, so the lesions are measured on the images
at every visit) and stores an unread reading for the second patient with one
timepoint per study, ready to measure. Later calls find everything in place and
change nothing, so what the user measured on the second patient stays.

No Qt here: the workstation runs this in a worker thread behind a progress dialog.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recist_app.endpoints import (
    adverse_events_csv_text,
    biomarkers_csv_text,
    simulate_trial,
    write_clinical_csv,
)
from recist_app.exchange import (
    DEMO_READER,
    reading_from_ground_truth,
    unread_reading_from_ground_truth,
    write_reading_file,
)
from recist_app.imaging import GROUND_TRUTH_NAME, write_demo_data
from recist_app.recist import ReaderRole, Reading
from recist_app.store import ClinicalDates, ReadingNotFoundError
from recist_app.workflows.errors import WorkflowError
from recist_app.workflows.images import import_dicom
from recist_app.workflows.reading_import import import_reading_file

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from recist_app.store import Store

__all__ = [
    "DEMO_PATIENTS",
    "DemoPatientSpec",
    "DemoPatients",
    "SimulatedTrialFiles",
    "demo_clinical_rows",
    "set_up_demo_patients",
    "write_demo_patient",
    "write_simulated_trial",
]


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
    truth_path = folder / GROUND_TRUTH_NAME
    if truth_path.is_file():  # written last: its presence means complete studies
        try:
            truth: dict[str, Any] = json.loads(truth_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise WorkflowError(
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
    except OSError as error:
        raise WorkflowError(f"{folder}: cannot write: {error.strerror}") from None


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
    import_dicom(store, folder, user=user)


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
    WorkflowError
        A folder cannot be written.
    StoreError, ExchangeError
        The database refused an import.
    """
    read_spec, unread_spec = DEMO_PATIENTS
    reading_file = (
        folder / read_spec.patient_id / f"{read_spec.patient_id}.reading.json"
    )
    truths: list[dict[str, Any]] = []
    for spec in DEMO_PATIENTS:
        patient_folder = folder / spec.patient_id
        truth = _ensure_studies(patient_folder, spec, progress, phantom_options)
        truths.append(truth)
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
    _ensure_clinical_rows(store, truths, user)
    return DemoPatients(
        folder=folder,
        read_patient_id=read_spec.patient_id,
        unread_patient_id=unread_spec.patient_id,
        reader=DEMO_READER,
        reading_file=reading_file,
    )


def demo_clinical_rows(truths: list[dict[str, Any]]) -> tuple[ClinicalDates, ...]:
    """Clinical dates of the demo patients, so Trial → Endpoints shows them.

    First dose a week after the baseline scan; alive at the data cut-off, four
    weeks after the last scan; no new anticancer therapy.
    """
    rows: list[ClinicalDates] = []
    for truth in truths:
        dates = [datetime.date.fromisoformat(str(s["date"])) for s in truth["studies"]]
        cutoff = max(dates) + datetime.timedelta(days=28)
        rows.append(
            ClinicalDates(
                patient_id=str(truth["patient_id"]),
                first_dose_date=min(dates) + datetime.timedelta(days=7),
                data_cutoff_date=cutoff,
                last_known_alive_date=cutoff,
                source="demo set-up",
            )
        )
    return tuple(rows)


def _ensure_clinical_rows(
    store: Store, truths: list[dict[str, Any]], user: str
) -> None:
    """Store the demo patients' clinical rows, unless clinical data is there."""
    if store.clinical.records():
        return  # the user's clinical data: never replaced here
    store.clinical.replace(demo_clinical_rows(truths), user=user)


def write_demo_patient(
    out_dir: Path,
    *,
    progress: Callable[[str], None] | None = None,
    **phantom_options: Any,
) -> tuple[Path, Path]:
    """Write one phantom patient into the new or empty folder ``out_dir``.

    The CT studies (one folder per visit), ``ground_truth.json`` and the
    patient's complete reading file ``ID.reading.json`` drawn from the ground
    truth: every lesion measured at every visit with its geometry on the images.
    ``phantom_options`` go to :func:`recist_app.imaging.write_demo_data`.

    Returns
    -------
    tuple[Path, Path]
        The ground truth file and the reading file.

    Raises
    ------
    WorkflowError
        ``out_dir`` is a file or a folder that is not empty, or cannot be written.
    ImagingError
        Invalid phantom options.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise WorkflowError(f"{out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise WorkflowError(
            f"{out_dir}: folder is not empty; choose a new or empty folder"
        )
    try:
        truth = write_demo_data(out_dir, progress=progress, **phantom_options)
        reading_path = out_dir / f"{truth['patient_id']}.reading.json"
        write_reading_file(reading_from_ground_truth(truth), reading_path)
    except OSError as error:
        raise WorkflowError(f"{out_dir}: cannot write: {error.strerror}") from None
    return out_dir / GROUND_TRUTH_NAME, reading_path


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatedTrialFiles:
    """Where a simulated trial was written."""

    readings_folder: Path
    clinical_csv: Path
    adverse_events_csv: Path
    biomarkers_csv: Path
    patients: int
    adverse_events: int
    data_cutoff_date: datetime.date
    second_readings_folder: Path | None = None


SIMULATED_READERS = {1: "reader-a", 2: "reader-b"}
"""The simulated central readers' names (``reader 1``, ``reader 2``)."""


def _signed_by(reader: str, reading: Reading) -> dict[str, object]:
    """The sign-off of a simulated central read: three days after its last scan."""
    last = reading.timepoints[-1].date + datetime.timedelta(days=3)
    moment = datetime.datetime.combine(last, datetime.time(12), tzinfo=datetime.UTC)
    return {
        "status": "signed",
        "signed_by": reader,
        "signed_at": moment.isoformat(),
        "version": 1,
    }


def write_simulated_trial(
    out_dir: Path, *, patients: int = 76, seed: int = 2024, readers: int = 1
) -> SimulatedTrialFiles:
    """Simulate a single-arm trial with monthly scans and write its files.

    ``out_dir/readings/*.reading.json``, ``out_dir/clinical.csv``,
    ``out_dir/adverse_events.csv`` and ``out_dir/biomarkers.csv``. With
    ``readers=2`` a blinded central review: ``readings/`` holds reader 1's
    signed reads (``reader_role`` ``reader 1``, reader ``reader-a``) and
    ``readings-reader-2/`` reader 2's (``reader-b``), so ``reading import``
    loads the whole central read.

    Raises
    ------
    WorkflowError
        A file cannot be written.
    EndpointError
        Invalid simulation options.
    """
    trial = simulate_trial(patients, seed=seed, readers=readers)
    folder = out_dir / "readings"
    second = out_dir / "readings-reader-2" if readers == 2 else None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if second is None:
            for reading in trial.readings:
                write_reading_file(
                    reading, folder / f"{reading.patient_id}.reading.json"
                )
        else:
            second.mkdir(parents=True, exist_ok=True)
            for number, where, readings in (
                (1, folder, trial.readings),
                (2, second, trial.second_readings),
            ):
                name = SIMULATED_READERS[number]
                for reading in readings:
                    read = dataclasses.replace(reading, reader=name)
                    write_reading_file(
                        read,
                        where / f"{reading.patient_id}.reading.json",
                        reader_role=ReaderRole(f"reader {number}"),
                        sign_off=_signed_by(name, read),
                    )
        write_clinical_csv(trial.clinical, out_dir / "clinical.csv")
        (out_dir / "adverse_events.csv").write_text(
            adverse_events_csv_text(trial.adverse_events), encoding="utf-8"
        )
        if trial.biomarkers is not None:
            (out_dir / "biomarkers.csv").write_text(
                biomarkers_csv_text(trial.biomarkers), encoding="utf-8"
            )
    except OSError as error:
        raise WorkflowError(f"{out_dir}: cannot write: {error.strerror}") from None
    return SimulatedTrialFiles(
        readings_folder=folder,
        clinical_csv=out_dir / "clinical.csv",
        adverse_events_csv=out_dir / "adverse_events.csv",
        biomarkers_csv=out_dir / "biomarkers.csv",
        patients=len(trial.readings),
        adverse_events=len(trial.adverse_events),
        data_cutoff_date=trial.data_cutoff_date,
        second_readings_folder=second,
    )
