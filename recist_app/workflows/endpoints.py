"""Trial endpoints for ``recist-app endpoints`` and the Trial → Endpoints view.

``recist-app clinical import`` stores the clinical data they need (and, with
``--adverse-events``, the adverse events).

The trial is the patients of the clinical data (who was dosed, with first dose,
death, last known alive, new therapy and the data cut-off). Readings come from a
folder of reading files or from the database; a reading whose patient has no
clinical row (a demo or test patient, or a mistyped id) is left out of the
analysis and named in its warnings, the same way on the command line and in the
app. Clinical rows without a reading stop the analysis unless
``allow_unread_patients`` says they count as treated and never assessed.

A patient whose reading is *not read* — no visit read, or a baseline not read
(no finding and no "no measurable / no disease at baseline", rule A8) — is no
patient "without disease": :func:`analyse_trial`, the one place for the command
line and the app, leaves them out of every analysis (response, time to event,
safety, biomarkers, ADaM) and lists each with the reason
(:attr:`TrialAnalysis.unread`, one warning per patient).

Adverse events come from an AE file or, with the database, from its imported
adverse events; biomarkers from a biomarker file. Either joins the analysis
(the safety summary, response by biomarker); an AE or biomarker row of a patient
without a clinical row is an error naming the row. :func:`write_trial_outputs`
writes the endpoint files and, in ``adam/``, the ADaM datasets.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist_app.endpoints import (
    AdverseEvent,
    ClinicalRecord,
    EndpointOptions,
    build_adam,
    check_adverse_events,
    compute_trial_endpoints,
    read_adverse_events_csv,
    read_biomarkers_csv,
    read_clinical_csv,
    write_endpoint_outputs,
)
from recist_app.exchange import read_reading_file, write_adam
from recist_app.recist import Criteria, ReaderRole
from recist_app.store import ClinicalDates, ReadingStatus, StoredAdverseEvent
from recist_app.workflows.central_reading import (
    DiscordanceRules,
    Viewer,
    agreement_report,
    central_statuses,
    final_records,
    visible_records,
)
from recist_app.workflows.errors import NoClinicalDataError, WorkflowError
from recist_app.workflows.vocabulary import parse_reader_role

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from recist_app.endpoints import BiomarkerTable, ReaderAgreement, TrialEndpoints
    from recist_app.recist import Reading
    from recist_app.store import (
        AdverseEventImportSummary,
        ClinicalImportSummary,
        ReadingRecord,
        Store,
    )

__all__ = [
    "ClinicalDataImport",
    "TrialAnalysis",
    "UnreadPatient",
    "adverse_events_from_store",
    "analyse_trial",
    "clinical_from_store",
    "import_adverse_events",
    "import_clinical",
    "import_clinical_data",
    "readings_from_folder",
    "readings_from_store",
    "trial_from_files",
    "trial_from_store",
    "unread_reason",
    "write_adam_datasets",
    "write_trial_outputs",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class UnreadPatient:
    """A patient left out of the analysis because the reading is not read."""

    patient_id: str
    reason: str

    def __str__(self) -> str:
        return f"patient {self.patient_id} left out of every analysis: {self.reason}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrialAnalysis:
    """The endpoints of one analysis and the readings it left out.

    ``left_out`` holds the patients whose reading has no clinical row;
    ``unread`` the patients whose reading is not read, with the reason. The
    endpoints' ``warnings`` name them all, so every output says so.
    """

    endpoints: TrialEndpoints
    left_out: tuple[str, ...] = ()
    unread: tuple[UnreadPatient, ...] = ()
    agreement: ReaderAgreement | None = None

    def left_out_reasons(self) -> tuple[tuple[str, str], ...]:
        """Every patient left out, by id, with the reason: ``(patient, reason)``."""
        rows = [(p, "no row in the clinical data") for p in self.left_out]
        rows += [(item.patient_id, item.reason) for item in self.unread]
        return tuple(sorted(rows))


def unread_reason(reading: Reading) -> str | None:
    """Why ``reading`` cannot enter an analysis yet, or ``None`` when it can.

    Not read: none of its visits is read, or its baseline is not
    (:attr:`recist_app.recist.TimePoint.is_read`; rule A8: "no disease" is the
    reader's explicit choice, never the default of an empty visit).
    """
    visits = len(reading.timepoints)
    if not any(timepoint.is_read for timepoint in reading.timepoints):
        return (
            f"not read: none of its {visits} visit{'s' if visits != 1 else ''} has "
            "a finding recorded"
        )
    baseline = reading.baseline
    if baseline is not None and not baseline.is_read:
        return (
            f"baseline {baseline.visit} not read: no finding recorded and no 'no "
            "measurable / no disease at baseline'"
        )
    return None


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
    rules: DiscordanceRules | None = None,
    pending: list[UnreadPatient] | None = None,
    viewer: Viewer | None = None,
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
        Only this reader's readings: a reader's name, or a central-review role
        (``reader 1``, ``reader 2``) for a per-reader analysis. Without it a
        centrally read patient's final read is used (the accepted read of a
        discordant patient, reader 1's of a concordant one; ``rules``), and a
        patient whose central read is not final yet is left out and added to
        ``pending`` with the reason.
    viewer
        Who asks: the blinding rule
        (:func:`~recist_app.workflows.central_reading.visible_records`) hides
        another reader's reads from a primary reader until both are signed.
    signed_only
        Only signed (locked) readings, as a final analysis requires; a signed
        reading whose rows are not what was signed is refused (one line).
    other_criteria
        Use a reading stored under another criteria set when none is stored
        under ``criteria``.

    Raises
    ------
    WorkflowError
        No matching reading, or a patient with several matching readings.
    """
    role = _as_role(reader)
    listed = list(store.readings.list())
    if viewer is not None:
        listed = list(visible_records(store, viewer, listed))
    if reader is None:
        listed, waiting = final_records(
            store, criteria=criteria, rules=rules, records=listed
        )
        if pending is not None:
            pending += [UnreadPatient(patient_id=p, reason=r) for p, r in waiting]
    records = [
        record
        for record in listed
        if (other_criteria or record.criteria is criteria)
        and (
            reader is None
            or (
                record.reader_role is role
                if role is not None
                else record.reader == reader
            )
        )
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
        key = (chosen.patient_id, chosen.criteria, chosen.reader)
        # A final analysis uses signed readings only as they were signed.
        reading = (
            store.signing.load_signed(*key).reading
            if signed_only
            else store.readings.load(*key)
        )
        if reading.criteria is not criteria:
            reading = dataclasses.replace(reading, criteria=criteria)
        readings.append(reading)
    return tuple(readings)


def _as_role(reader: str | None) -> ReaderRole | None:
    """The central role ``reader`` names (``reader 1``...), else ``None`` (a name)."""
    if reader is None:
        return None
    try:
        role = parse_reader_role(reader)
    except WorkflowError:
        return None
    return role if role is not ReaderRole.SINGLE else None


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
    summary = import_clinical_data(store, clinical_csv=path, user=user).clinical
    if summary is None:  # unreachable: a clinical file was given
        raise WorkflowError(f"{path}: not imported")
    return summary


def import_adverse_events(
    store: Store, path: Path, *, user: str
) -> AdverseEventImportSummary:
    """Check the AE file at ``path`` against the stored clinical data and store it.

    Raises
    ------
    NoClinicalDataError
        The database has no clinical data to check the patients against.
    EndpointError
        A bad row (one line naming the row and column); nothing is stored.
    """
    summary = import_clinical_data(store, adverse_events_csv=path, user=user)
    if summary.adverse_events is None:  # unreachable: an AE file was given
        raise WorkflowError(f"{path}: not imported")
    return summary.adverse_events


@dataclass(frozen=True, slots=True, kw_only=True)
class ClinicalDataImport:
    """What ``clinical import`` changed: clinical rows and adverse events."""

    clinical: ClinicalImportSummary | None = None
    adverse_events: AdverseEventImportSummary | None = None

    def __str__(self) -> str:
        parts = [str(s) for s in (self.clinical, self.adverse_events) if s]
        return "; ".join(parts) or "nothing imported"


def import_clinical_data(
    store: Store,
    *,
    clinical_csv: Path | None = None,
    adverse_events_csv: Path | None = None,
    user: str,
) -> ClinicalDataImport:
    """Import a clinical file, an adverse event file, or both.

    Both files are read and checked before anything is stored: the adverse
    events against the new clinical file, or without one against the stored
    clinical data. Each then replaces its stored set in one transaction, every
    change audited.

    Raises
    ------
    WorkflowError
        Neither file given.
    NoClinicalDataError
        Adverse events alone, and no clinical data stored yet.
    EndpointError
        A bad row in either file (one line naming the row and column).
    """
    if clinical_csv is None and adverse_events_csv is None:
        raise WorkflowError(
            "nothing to import: give the clinical file, the adverse event file "
            "(--adverse-events), or both"
        )
    clinical = read_clinical_csv(clinical_csv) if clinical_csv is not None else None
    events: tuple[AdverseEvent, ...] | None = None
    if adverse_events_csv is not None:
        events = read_adverse_events_csv(adverse_events_csv)
        known = clinical if clinical is not None else clinical_from_store(store)
        check_adverse_events(
            events,
            (r.patient_id for r in known),
            what=(
                f"the clinical file {clinical_csv.name}"
                if clinical_csv is not None
                else "the database's clinical data"
            ),
        )
    clinical_summary = None
    if clinical is not None and clinical_csv is not None:
        clinical_summary = store.clinical.replace(
            [
                ClinicalDates(
                    patient_id=record.patient_id,
                    first_dose_date=record.first_dose_date,
                    data_cutoff_date=record.data_cutoff_date,
                    death_date=record.death_date,
                    last_known_alive_date=record.last_known_alive_date,
                    new_anticancer_therapy_date=record.new_anticancer_therapy_date,
                    source=clinical_csv.name,
                )
                for record in clinical
            ],
            user=user,
        )
    events_summary = None
    if events is not None and adverse_events_csv is not None:
        events_summary = store.adverse_events.replace(
            [
                StoredAdverseEvent(
                    patient_id=e.patient_id,
                    term=e.term,
                    soc=e.soc,
                    grade=e.grade,
                    start_date=e.start_date,
                    end_date=e.end_date,
                    serious=e.serious,
                    related=e.related,
                    action=None if e.action is None else e.action.value,
                    source=adverse_events_csv.name,
                )
                for e in events
            ],
            user=user,
        )
    return ClinicalDataImport(clinical=clinical_summary, adverse_events=events_summary)


def adverse_events_from_store(store: Store) -> tuple[AdverseEvent, ...] | None:
    """The adverse events imported into ``store``; ``None`` when there are none."""
    stored = store.adverse_events.records()
    if not stored:
        return None
    return tuple(
        AdverseEvent(
            patient_id=row.patient_id,
            term=row.term,
            soc=row.soc,
            grade=row.grade,
            start_date=row.start_date,
            end_date=row.end_date,
            serious=row.serious,
            related=row.related,
            action=row.action,  # type: ignore[arg-type]  # validated to AeAction
        )
        for row in stored
    )


def analyse_trial(
    readings: Sequence[Reading],
    clinical: Sequence[ClinicalRecord],
    options: EndpointOptions | None = None,
    *,
    criteria: Criteria = Criteria.RECIST_1_1,
    adverse_events: Sequence[AdverseEvent] | None = None,
    biomarkers: BiomarkerTable | None = None,
    pending: Sequence[UnreadPatient] = (),
    agreement: ReaderAgreement | None = None,
) -> TrialAnalysis:
    """The endpoints of the clinical data's patients under ``criteria``.

    ``pending`` are centrally read patients without a final read yet, left out
    like patients not read; ``agreement`` is the central review's agreement
    report, carried into the result.

    Readings of patients without a clinical row are left out and named in the
    warnings; patients whose reading is not read (:func:`unread_reason`) are
    left out of every analysis, their adverse events and biomarkers too, each
    named with the reason (see the module docstring). With ``adverse_events``
    the analysis has its safety summary, with ``biomarkers`` response and
    survival by biomarker.

    Raises
    ------
    WorkflowError
        Every patient of the clinical data is left out as not read.
    EndpointError
        A clinical row without a reading (unless allowed), two readings of one
        patient, a reading the rules cannot assess, or an adverse event or
        biomarker row of a patient without a clinical row.
    """
    in_trial = {record.patient_id for record in clinical}
    left_out = tuple(
        sorted({r.patient_id for r in readings if r.patient_id not in in_trial})
    )
    unread = tuple(
        sorted(
            [
                *(
                    UnreadPatient(patient_id=r.patient_id, reason=reason)
                    for r in readings
                    if r.patient_id in in_trial
                    and (reason := unread_reason(r)) is not None
                ),
                *(item for item in pending if item.patient_id in in_trial),
            ],
            key=lambda item: item.patient_id,
        )
    )
    out = {item.patient_id for item in unread}
    kept_clinical = [record for record in clinical if record.patient_id not in out]
    if unread and not kept_clinical:
        raise WorkflowError(
            f"no patient to analyse: all {len(unread)} are not read "
            f"({', '.join(sorted(out)[:5])}{', …' if len(out) > 5 else ''}); read "
            "their baselines first"
        )
    endpoints = compute_trial_endpoints(
        [r for r in readings if r.patient_id in in_trial and r.patient_id not in out],
        kept_clinical,
        options,
        criteria=criteria,
        adverse_events=(
            None
            if adverse_events is None
            else [e for e in adverse_events if e.patient_id not in out]
        ),
        biomarkers=_without_patients(biomarkers, out),
    )
    notes = [str(item) for item in unread]
    if left_out:
        notes.insert(
            0,
            f"{len(left_out)} reading{'s' if len(left_out) != 1 else ''} without a "
            f"row in the clinical data left out: {', '.join(left_out)}",
        )
    if notes:
        endpoints = dataclasses.replace(
            endpoints, warnings=(*notes, *endpoints.warnings)
        )
    return TrialAnalysis(
        endpoints=endpoints, left_out=left_out, unread=unread, agreement=agreement
    )


def _without_patients(
    biomarkers: BiomarkerTable | None, patients: set[str]
) -> BiomarkerTable | None:
    """``biomarkers`` without the rows of ``patients`` (left out as not read)."""
    if biomarkers is None or not patients:
        return biomarkers
    return dataclasses.replace(
        biomarkers,
        values={p: v for p, v in biomarkers.values.items() if p not in patients},
    )


def trial_from_files(
    readings_folder: Path,
    clinical_csv: Path,
    options: EndpointOptions | None = None,
    *,
    criteria: Criteria = Criteria.RECIST_1_1,
    adverse_events_csv: Path | None = None,
    biomarkers_csv: Path | None = None,
) -> TrialAnalysis:
    """The endpoints of a folder of reading files and a clinical CSV.

    ``adverse_events_csv`` and ``biomarkers_csv`` add the safety summary and the
    analysis by biomarker.
    """
    return analyse_trial(
        readings_from_folder(readings_folder),
        read_clinical_csv(clinical_csv),
        options,
        criteria=criteria,
        adverse_events=(
            read_adverse_events_csv(adverse_events_csv)
            if adverse_events_csv is not None
            else None
        ),
        biomarkers=(
            read_biomarkers_csv(biomarkers_csv) if biomarkers_csv is not None else None
        ),
    )


def trial_from_store(
    store: Store,
    options: EndpointOptions | None = None,
    *,
    criteria: Criteria = Criteria.RECIST_1_1,
    reader: str | None = None,
    signed_only: bool = False,
    clinical_csv: Path | None = None,
    adverse_events_csv: Path | None = None,
    biomarkers_csv: Path | None = None,
    rules: DiscordanceRules | None = None,
    viewer: Viewer | None = None,
) -> TrialAnalysis:
    """The endpoints of the database's readings, clinical data and adverse events.

    Centrally read patients count with their final read (``reader``: one
    reader's reads instead; ``rules``: the discordance rules), and the analysis
    carries the central review's agreement report when some patient has both
    primary reads signed.

    ``clinical_csv`` and ``adverse_events_csv`` override the stored clinical data
    and adverse events for this analysis only; ``biomarkers_csv`` adds the
    analysis by biomarker.

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
    pending: list[UnreadPatient] = []
    readings = readings_from_store(
        store,
        criteria=criteria,
        reader=reader,
        signed_only=signed_only,
        rules=rules,
        pending=pending,
        viewer=viewer,
    )
    agreement = None
    if any(s.both_signed for s in central_statuses(store, criteria=criteria)):
        agreement = agreement_report(store, criteria=criteria, rules=rules)
    if adverse_events_csv is not None:
        events: tuple[AdverseEvent, ...] | None = read_adverse_events_csv(
            adverse_events_csv
        )
    else:
        events = adverse_events_from_store(store)
        known = {record.patient_id for record in clinical}
        stray = sorted(
            {e.patient_id for e in events or () if e.patient_id not in known}
        )
        if stray:
            raise WorkflowError(
                f"database {store.url}: adverse events of patient {stray[0]!r}, who "
                "has no row in the clinical data; import the adverse events again "
                "(recist-app clinical import --adverse-events AE.csv)"
            )
    return analyse_trial(
        readings,
        clinical,
        options,
        criteria=criteria,
        adverse_events=events,
        biomarkers=(
            read_biomarkers_csv(biomarkers_csv) if biomarkers_csv is not None else None
        ),
        pending=pending,
        agreement=agreement,
    )


def write_adam_datasets(
    analysis: TrialAnalysis,
    out_dir: Path,
    *,
    study_id: str = "RECIST-APP",
    evaluator: str = "Investigator",
) -> tuple[Path, ...]:
    """Write the analysis's ADSL, ADRS, ADTTE (and ADAE) into ``out_dir``.

    CSV and SAS transport per dataset and ``define.csv``; the values are those
    of ``subjects.csv`` and ``endpoints.json`` (``recist_app.endpoints.adam``).
    """
    return write_adam(
        build_adam(analysis.endpoints, study_id=study_id, evaluator=evaluator),
        out_dir,
    )


def write_trial_outputs(
    analysis: TrialAnalysis,
    out_dir: Path,
    *,
    plots: bool = True,
    adam: bool = True,
    study_id: str = "RECIST-APP",
) -> tuple[Path, ...]:
    """Write ``endpoints.json``, ``subjects.csv``, ``summary.csv`` (and the plots).

    With ``adam`` also the ADaM datasets in ``out_dir/adam``.
    """
    written = write_endpoint_outputs(
        analysis.endpoints, out_dir, plots=plots, agreement=analysis.agreement
    )
    if adam:
        written += write_adam_datasets(analysis, out_dir / "adam", study_id=study_id)
    return written
