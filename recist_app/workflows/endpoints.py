"""Trial endpoints for ``recist-app endpoints`` and the Trial → Endpoints view.

``recist-app clinical import`` stores the clinical data they need.

The trial is the patients of the clinical data (who was dosed, with first dose,
death, last known alive, new therapy and the data cut-off). Readings come from a
folder of reading files or from the database; a reading whose patient has no
clinical row (a demo or test patient, or a mistyped id) is left out of the
analysis and named in its warnings, the same way on the command line and in the
app. Clinical rows without a reading stop the analysis unless
``allow_unread_patients`` says they count as treated and never assessed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist_app.endpoints import (
    ClinicalRecord,
    EndpointOptions,
    compute_trial_endpoints,
    read_clinical_csv,
    write_endpoint_outputs,
)
from recist_app.exchange import read_reading_file
from recist_app.recist import Criteria
from recist_app.store import ClinicalDates, ReadingStatus
from recist_app.workflows.errors import NoClinicalDataError, WorkflowError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from recist_app.endpoints import TrialEndpoints
    from recist_app.recist import Reading
    from recist_app.store import ClinicalImportSummary, ReadingRecord, Store

__all__ = [
    "TrialAnalysis",
    "analyse_trial",
    "clinical_from_store",
    "import_clinical",
    "readings_from_folder",
    "readings_from_store",
    "trial_from_files",
    "trial_from_store",
    "write_trial_outputs",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class TrialAnalysis:
    """The endpoints of one analysis and the readings it left out.

    ``left_out`` holds the patients whose reading has no clinical row; the
    endpoints' ``warnings`` name them too, so every output says so.
    """

    endpoints: TrialEndpoints
    left_out: tuple[str, ...] = ()


def readings_from_folder(folder: Path) -> tuple[Reading, ...]:
    """Every ``*.json`` reading file in ``folder``, by file name.

    Raises
    ------
    WorkflowError
        ``folder`` is not a folder or holds no reading file.
    ExchangeError
        A file is not a valid reading (one line: file, field, visit, lesion).
    """
    if not folder.is_dir():
        raise WorkflowError(f"{folder}: not a folder of reading files")
    files = sorted(folder.glob("*.json"))
    if not files:
        raise WorkflowError(f"{folder}: no reading files (*.json)")
    return tuple(read_reading_file(path) for path in files)


def readings_from_store(
    store: Store,
    *,
    criteria: Criteria = Criteria.RECIST_1_1,
    reader: str | None = None,
    signed_only: bool = False,
    other_criteria: bool = True,
) -> tuple[Reading, ...]:
    """One reading per patient from ``store``, under ``criteria``, by patient id.

    Readers measure once: a patient whose reading is stored under another
    criteria set is analysed under ``criteria`` by assessing the same lesions
    under it, unless ``other_criteria`` is false. A reading stored under
    ``criteria`` always wins (then RECIST 1.1, iRECIST, mRECIST).

    Parameters
    ----------
    store
        An open reading database.
    criteria
        Criteria set to analyse under.
    reader
        Only this reader's readings; needed when a patient has several readers.
    signed_only
        Only signed (locked) readings, as a final analysis requires.
    other_criteria
        Use a reading stored under another criteria set when none is stored
        under ``criteria``.

    Raises
    ------
    WorkflowError
        No matching reading, or a patient with several matching readings.
    """
    records = [
        record
        for record in store.readings.list()
        if (other_criteria or record.criteria is criteria)
        and (reader is None or record.reader == reader)
        and (not signed_only or record.status is ReadingStatus.SIGNED)
    ]
    if not records:
        wanted = " signed" if signed_only else ""
        what = "" if other_criteria else f" {criteria.value}"
        by = f" by reader {reader!r}" if reader is not None else ""
        raise WorkflowError(f"database {store.url}: no{wanted}{what} readings{by}")
    preference = [criteria, *(c for c in Criteria if c is not criteria)]
    by_patient: dict[str, list[ReadingRecord]] = {}
    for record in records:
        by_patient.setdefault(record.patient_id, []).append(record)
    readings = []
    for patient_id, found in by_patient.items():
        best = min(preference.index(record.criteria) for record in found)
        candidates = [r for r in found if preference.index(r.criteria) == best]
        if len(candidates) > 1:
            names = ", ".join(r.reader or "(none)" for r in candidates)
            raise WorkflowError(
                f"patient {patient_id!r}: {len(candidates)} "
                f"{candidates[0].criteria.value} readings (readers {names}); "
                "choose one reader"
            )
        chosen = candidates[0]
        reading = store.readings.load(chosen.patient_id, chosen.criteria, chosen.reader)
        if reading.criteria is not criteria:
            reading = dataclasses.replace(reading, criteria=criteria)
        readings.append(reading)
    return tuple(readings)


def clinical_from_store(store: Store) -> tuple[ClinicalRecord, ...]:
    """The clinical rows imported into ``store``.

    Raises
    ------
    NoClinicalDataError
        Nothing has been imported yet.
    """
    stored = store.clinical.records()
    if not stored:
        raise NoClinicalDataError(
            f"database {store.url}: no clinical data; import it (recist-app "
            "clinical import CLINICAL.csv, or choose the clinical CSV in the "
            "Trial view) or give --clinical"
        )
    return tuple(
        ClinicalRecord(
            patient_id=row.patient_id,
            first_dose_date=row.first_dose_date,
            data_cutoff_date=row.data_cutoff_date,
            death_date=row.death_date,
            last_known_alive_date=row.last_known_alive_date,
            new_anticancer_therapy_date=row.new_anticancer_therapy_date,
        )
        for row in stored
    )


def import_clinical(store: Store, path: Path, *, user: str) -> ClinicalImportSummary:
    """Validate the clinical file at ``path`` and make it the stored clinical data.

    Every row is checked first (one-line errors naming the row); the database then
    changes in one transaction, so a bad file changes nothing.

    Raises
    ------
    EndpointError
        A row breaks a rule of the clinical file.
    """
    records = read_clinical_csv(path)
    return store.clinical.replace(
        [
            ClinicalDates(
                patient_id=record.patient_id,
                first_dose_date=record.first_dose_date,
                data_cutoff_date=record.data_cutoff_date,
                death_date=record.death_date,
                last_known_alive_date=record.last_known_alive_date,
                new_anticancer_therapy_date=record.new_anticancer_therapy_date,
                source=path.name,
            )
            for record in records
        ],
        user=user,
    )


def analyse_trial(
    readings: Sequence[Reading],
    clinical: Sequence[ClinicalRecord],
    options: EndpointOptions | None = None,
    *,
    criteria: Criteria = Criteria.RECIST_1_1,
) -> TrialAnalysis:
    """The endpoints of the clinical data's patients under ``criteria``.

    Readings of patients without a clinical row are left out and named in the
    warnings (see the module docstring).

    Raises
    ------
    EndpointError
        A clinical row without a reading (unless allowed), two readings of one
        patient, or a reading the rules cannot assess.
    """
    in_trial = {record.patient_id for record in clinical}
    left_out = tuple(
        sorted({r.patient_id for r in readings if r.patient_id not in in_trial})
    )
    endpoints = compute_trial_endpoints(
        [r for r in readings if r.patient_id in in_trial],
        clinical,
        options,
        criteria=criteria,
    )
    if left_out:
        note = (
            f"{len(left_out)} reading{'s' if len(left_out) != 1 else ''} without a "
            f"row in the clinical data left out: {', '.join(left_out)}"
        )
        endpoints = dataclasses.replace(endpoints, warnings=(note, *endpoints.warnings))
    return TrialAnalysis(endpoints=endpoints, left_out=left_out)


def trial_from_files(
    readings_folder: Path,
    clinical_csv: Path,
    options: EndpointOptions | None = None,
    *,
    criteria: Criteria = Criteria.RECIST_1_1,
) -> TrialAnalysis:
    """The endpoints of a folder of reading files and a clinical CSV."""
    return analyse_trial(
        readings_from_folder(readings_folder),
        read_clinical_csv(clinical_csv),
        options,
        criteria=criteria,
    )


def trial_from_store(
    store: Store,
    options: EndpointOptions | None = None,
    *,
    criteria: Criteria = Criteria.RECIST_1_1,
    reader: str | None = None,
    signed_only: bool = False,
    clinical_csv: Path | None = None,
) -> TrialAnalysis:
    """The endpoints of the database's readings and clinical data.

    ``clinical_csv`` overrides the stored clinical data for this analysis only.

    Raises
    ------
    NoClinicalDataError
        No ``clinical_csv`` and no clinical data in the database.
    """
    clinical = (
        read_clinical_csv(clinical_csv)
        if clinical_csv is not None
        else clinical_from_store(store)
    )
    readings = readings_from_store(
        store, criteria=criteria, reader=reader, signed_only=signed_only
    )
    return analyse_trial(readings, clinical, options, criteria=criteria)


def write_trial_outputs(
    analysis: TrialAnalysis, out_dir: Path, *, plots: bool = True
) -> tuple[Path, ...]:
    """Write ``endpoints.json``, ``subjects.csv``, ``summary.csv`` (and the plots)."""
    return write_endpoint_outputs(analysis.endpoints, out_dir, plots=plots)
