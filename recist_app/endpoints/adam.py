"""ADaM analysis datasets of one analysis: ADSL, ADRS, ADTTE and ADAE.

The values are the analysis's own (the same objects ``subjects.csv`` and
``endpoints.json`` are written from), named as the ADaM IG and admiralonco
(pharmaverse) name them, so a statistician's R or SAS programs find what they
expect (docs/standards.md 1.5):

- **ADSL**, one row per subject: ``TRTSDT`` (first dose), ``DTHDT``/``DTHFL``
  (death on or before the cut-off), ``NACTDT`` (new anticancer therapy),
  ``DCUTDT`` (data cut-off), ``SAFFL`` (safety population: every treated
  patient) and ``EFFFL`` (the response population), and per biomarker its value
  and its group (``<NAME>GR1``).
- **ADRS**: ``OVR`` per follow-up visit in the analysis window (``ANL01FL`` "Y" on
  the visits the best response was derived from: before any new anticancer
  therapy), ``BOR`` (confirmation not required) and ``CBOR`` (confirmed) per
  subject, with ``AVALC``, ``AVAL`` (admiralonco ``aval_resp``: CR 1, PR 2, SD 3,
  NON-CR/NON-PD 4, PD 5, NE 6, MISSING 7) and ``ADT``.
- **ADTTE**: ``PFS``, ``TTP``, ``OS`` for every subject and ``DOR`` for
  responders, ``AVAL`` in days (end − start + 1), ``CNSR`` (0 event, the
  censoring codes of docs/standards.md 3.4–3.5 otherwise), ``STARTDT``, ``ADT``,
  ``EVNTDESC`` and ``CNSDTDSC`` (admiralonco's wording where it has one).
- **ADAE**, when adverse events were given: one row per event with ``TRTEMFL``
  (treatment-emergent), ``ATOXGR``, ``AESER``, ``AEREL``, ``AEACN``.

Dates are ``datetime.date`` values; the writer (``recist_app.exchange.adam``)
turns them into ISO text in CSV and SAS dates (``DATE9.``) in transport files.
Nothing here writes files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from recist_app.endpoints.adverse_events import AeAction
from recist_app.endpoints.biomarkers import BiomarkerKind
from recist_app.endpoints.subject import (
    CNSR_EVENT,
    OsCensoring,
    PfsCensoring,
    TtpCensoring,
    endpoint_response,
)
from recist_app.recist import Response

if TYPE_CHECKING:
    import datetime
    from collections.abc import Callable, Collection, Sequence

    from recist_app.endpoints.biomarkers import BiomarkerResult
    from recist_app.endpoints.study import TrialEndpoints
    from recist_app.endpoints.subject import SubjectEndpoints, TimeToEvent

__all__ = ["ADAM_DATASETS", "AdamDataset", "AdamVariable", "build_adam"]

ADAM_DATASETS: tuple[str, ...] = ("ADSL", "ADRS", "ADTTE", "ADAE")

AdamValue = str | int | float | None
Row = dict[str, "AdamValue | datetime.date"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AdamVariable:
    """One variable: name (≤ 8 characters), label (≤ 40), type, derivation."""

    name: str
    label: str
    kind: Literal["text", "number", "date"] = "text"
    derivation: str = ""

    @property
    def numeric(self) -> bool:
        """Numbers and dates are numeric in SAS."""
        return self.kind != "text"


@dataclass(frozen=True, slots=True, kw_only=True)
class AdamDataset:
    """One dataset: name, label, structure, variables in order, rows by name."""

    name: str
    label: str
    structure: str
    variables: tuple[AdamVariable, ...]
    rows: tuple[Row, ...]


def _v(
    name: str,
    label: str,
    kind: Literal["text", "number", "date"] = "text",
    derivation: str = "",
) -> AdamVariable:
    return AdamVariable(name=name, label=label, kind=kind, derivation=derivation)


_IDS = (
    _v("STUDYID", "Study Identifier", derivation="export option study id"),
    _v("USUBJID", "Unique Subject Identifier", derivation="patient_id"),
)

_AVAL_RESPONSE = {
    "CR": 1,
    "PR": 2,
    "SD": 3,
    "NON-CR/NON-PD": 4,
    "PD": 5,
    "NE": 6,
    "MISSING": 7,
}
"""admiralonco ``aval_resp``; iRECIST codes count as the RECIST category."""

_PARAMS_TTE = {
    "PFS": "Progression Free Survival",
    "TTP": "Time to Progression",
    "OS": "Overall Survival",
    "DOR": "Duration of Response",
}
_AEACN = {
    AeAction.NONE: "DOSE NOT CHANGED",
    AeAction.INTERRUPTED: "DRUG INTERRUPTED",
    AeAction.REDUCED: "DOSE REDUCED",
    AeAction.DISCONTINUED: "DRUG WITHDRAWN",
}
"""CDISC CT C66767 (Action Taken with Study Treatment)."""


def build_adam(
    result: TrialEndpoints,
    *,
    study_id: str = "RECIST-APP",
    evaluator: str = "Investigator",
    patients: Collection[str] | None = None,
    subject_id: Callable[[str], str] | None = None,
    shift_date: Callable[[datetime.date, str], datetime.date] | None = None,
) -> tuple[AdamDataset, ...]:
    """ADSL, ADRS, ADTTE (and ADAE with adverse events) of ``result``.

    Parameters
    ----------
    result
        The analysis.
    study_id
        ``STUDYID``.
    evaluator
        Who assessed the responses (``PARCAT2`` and ``PARAM`` of ADRS).
    patients
        Only these patients' rows; default every subject.
    subject_id, shift_date
        De-identification: the pseudonymous ``USUBJID`` of a patient id, and a
        patient's date moved by that patient's shift (intervals are kept).
    """

    def keep(patient_id: str) -> bool:
        return patients is None or patient_id in patients

    subjects = [s for s in result.subjects if keep(s.patient_id)]
    ids = _Identity(study_id, subject_id, shift_date)
    datasets = [
        _adsl(result, subjects, ids),
        _adrs(result, subjects, ids, evaluator),
        _adtte(subjects, ids),
    ]
    if result.adverse_events is not None:
        datasets.append(_adae(result, subjects, ids))
    return tuple(datasets)


@dataclass(frozen=True, slots=True)
class _Identity:
    study_id: str
    subject_id: Callable[[str], str] | None
    shift_date: Callable[[datetime.date, str], datetime.date] | None

    def keys(self, patient_id: str) -> Row:
        usubjid = self.subject_id(patient_id) if self.subject_id else patient_id
        return {"STUDYID": self.study_id, "USUBJID": usubjid}

    def date(
        self, value: datetime.date | None, patient_id: str
    ) -> datetime.date | None:
        if value is None or self.shift_date is None:
            return value
        return self.shift_date(value, patient_id)


def _flag(value: bool) -> str:
    return "Y" if value else "N"


# ------------------------------------------------------------------ ADSL


def _adsl(
    result: TrialEndpoints, subjects: Sequence[SubjectEndpoints], ids: _Identity
) -> AdamDataset:
    variables = [
        *_IDS,
        _v("TRTSDT", "Date of First Exposure to Treatment", "date", "first_dose_date"),
        _v("DTHDT", "Date of Death", "date", "death_date (on/before cut-off)"),
        _v("DTHFL", "Subject Death Flag", derivation="Y when DTHDT is present"),
        _v(
            "NACTDT",
            "Date of New Anti-Cancer Therapy",
            "date",
            "new_anticancer_therapy_date (on/before cut-off)",
        ),
        _v("DCUTDT", "Data Cutoff Date", "date", "data_cutoff_date"),
        _v("SAFFL", "Safety Population Flag", derivation="Y: every treated patient"),
        _v(
            "EFFFL",
            "Efficacy (Response) Population Flag",
            derivation=f"in_response_population ({result.options.population.value})",
        ),
    ]
    markers = result.biomarkers or ()
    names = _biomarker_variables(markers, {v.name for v in variables})
    for marker in markers:
        value_name, group_name = names[marker.name]
        split = (
            f"low <= {marker.cutoff:g} < high"
            if marker.kind is BiomarkerKind.NUMERIC and marker.cutoff is not None
            else "each value a group"
        )
        variables += [
            _v(
                value_name,
                _label(f"Biomarker {marker.name}"),
                "number" if marker.kind is BiomarkerKind.NUMERIC else "text",
                f"biomarker file column {marker.name!r}",
            ),
            _v(
                group_name,
                _label(f"{marker.name} Group"),
                derivation=f"{marker.kind.value}: {split}",
            ),
        ]
    rows: list[Row] = []
    for subject in subjects:
        patient = subject.patient_id
        row: Row = {
            **ids.keys(patient),
            "TRTSDT": ids.date(subject.first_dose_date, patient),
            "DTHDT": ids.date(subject.death_date, patient),
            "DTHFL": "Y" if subject.death_date is not None else "",
            "NACTDT": ids.date(subject.new_therapy_date, patient),
            "DCUTDT": ids.date(result.data_cutoff_date, patient),
            "SAFFL": "Y",
            "EFFFL": _flag(subject.in_response_population),
        }
        for marker in markers:
            value_name, group_name = names[marker.name]
            row[value_name] = dict(marker.values).get(patient)
            row[group_name] = marker.group_of(patient) or ""
        rows.append(row)
    return AdamDataset(
        name="ADSL",
        label="Subject-Level Analysis Dataset",
        structure="one record per subject",
        variables=tuple(variables),
        rows=tuple(rows),
    )


def _label(text: str) -> str:
    ascii_text = text.encode("ascii", "replace").decode("ascii")
    return ascii_text[:40]


def _biomarker_variables(
    markers: Sequence[BiomarkerResult], taken: set[str]
) -> dict[str, tuple[str, str]]:
    """SAS names of each biomarker's value and group: ``AFP`` and ``AFPGR1``.

    The name is the column's letters and digits, upper case, at most 5
    characters (so the group variable fits 8), made unique with a digit.
    """
    used = set(taken)
    names: dict[str, tuple[str, str]] = {}
    for marker in markers:
        base = re.sub(r"[^A-Za-z0-9]", "", marker.name).upper()
        if not base or base[0].isdigit():
            base = "BM" + base
        base = base[:5]
        candidate, number = base, 1
        while candidate in used or f"{candidate}GR1" in used:
            suffix = str(number)
            candidate = base[: 5 - len(suffix)] + suffix
            number += 1
        used |= {candidate, f"{candidate}GR1"}
        names[marker.name] = (candidate, f"{candidate}GR1")
    return names


# ------------------------------------------------------------------ ADRS


def _aval(code: str) -> int | None:
    if code == "MISSING":
        return _AVAL_RESPONSE[code]
    try:
        response = Response(code)
    except ValueError:
        return None
    if response is Response.IUPD:  # unconfirmed progression ranks with PD
        return _AVAL_RESPONSE["PD"]
    return _AVAL_RESPONSE.get(endpoint_response(response).value)


def _adrs(
    result: TrialEndpoints,
    subjects: Sequence[SubjectEndpoints],
    ids: _Identity,
    evaluator: str,
) -> AdamDataset:
    who = evaluator.title()
    criteria = result.criteria.value
    variables = (
        *_IDS,
        _v("ASEQ", "Analysis Sequence Number", "number"),
        _v("PARAMCD", "Parameter Code"),
        _v("PARAM", "Parameter"),
        _v("PARCAT1", "Parameter Category 1"),
        _v("PARCAT2", "Parameter Category 2"),
        _v("PARCAT3", "Parameter Category 3", derivation="the response criteria"),
        _v("AVISIT", "Analysis Visit", derivation="OVR: the visit"),
        _v("AVISITN", "Analysis Visit (N)", "number", "OVR: follow-up number"),
        _v(
            "ADT",
            "Analysis Date",
            "date",
            "OVR: visit date; BOR: bor_unconfirmed date; CBOR: bor_confirmed_date",
        ),
        _v("ADY", "Analysis Relative Day", "number", "ADT - TRTSDT + 1 (no day 0)"),
        _v(
            "AVALC",
            "Analysis Value (C)",
            derivation="OVR: overall response; BOR: bor_unconfirmed; CBOR: "
            "bor_confirmed",
        ),
        _v("AVAL", "Analysis Value", "number", "aval_resp: CR 1 ... MISSING 7"),
        _v(
            "ANL01FL",
            "Analysis Flag 01",
            derivation="Y: used for the best response (before new therapy)",
        ),
    )
    params = {
        "OVR": f"Overall Response by {who}",
        "BOR": f"Best Overall Response by {who} (confirmation not required)",
        "CBOR": f"Best Confirmed Overall Response by {who}",
    }
    common = {"PARCAT1": "Tumor Response", "PARCAT2": who, "PARCAT3": criteria}
    rows: list[Row] = []
    for subject in subjects:
        patient = subject.patient_id
        records: list[tuple[str, str, datetime.date | None, bool, str, int | None]]
        therapy = subject.new_therapy_date
        records = [
            (
                "OVR",
                visit.overall_response.value,
                visit.date,
                therapy is None or visit.date <= therapy,
                visit.visit,
                number,
            )
            for number, visit in enumerate(subject.visits, start=1)
        ]
        missing = subject.bor_missing
        for paramcd, bor in (
            ("BOR", subject.bor_unconfirmed),
            ("CBOR", subject.bor_confirmed),
        ):
            code = "MISSING" if missing else bor.response.value
            records.append((paramcd, code, bor.date, True, "", None))
        for sequence, (paramcd, code, date, analysed, visit_name, number) in enumerate(
            records, start=1
        ):
            rows.append(
                {
                    **ids.keys(patient),
                    "ASEQ": sequence,
                    "PARAMCD": paramcd,
                    "PARAM": params[paramcd],
                    **common,
                    "AVISIT": visit_name,
                    "AVISITN": number,
                    "ADT": ids.date(date, patient),
                    "ADY": _study_day(date, subject.first_dose_date),
                    "AVALC": code,
                    "AVAL": _aval(code),
                    "ANL01FL": "Y" if analysed else "",
                }
            )
    return AdamDataset(
        name="ADRS",
        label="Response Analysis Dataset",
        structure="one record per subject, parameter and visit",
        variables=variables,
        rows=tuple(rows),
    )


def _study_day(date: datetime.date | None, first_dose: datetime.date) -> int | None:
    if date is None:
        return None
    days = (date - first_dose).days
    return days + 1 if days >= 0 else days


# ------------------------------------------------------------------ ADTTE


def _descriptions(paramcd: str, tte: TimeToEvent) -> tuple[str, str]:
    """``EVNTDESC`` and ``CNSDTDSC`` of one time-to-event row."""
    at_start = tte.end_date == tte.start_date
    if tte.cnsr == CNSR_EVENT:
        if paramcd == "OS" or tte.reason.startswith("death"):
            return "Death", ""
        return "Disease Progression", ""
    if paramcd == "OS":
        if tte.cnsr == OsCensoring.ALIVE:
            return "Alive", "Alive During Study"
        return "No Follow-up", "Treatment Start"
    start = "Treatment Start" if paramcd != "DOR" else "Response"
    last = start if at_start else "Last Tumor Assessment"
    return {
        PfsCensoring.NO_BASELINE: ("No Baseline Tumor Assessment", start),
        PfsCensoring.NO_ADEQUATE_ASSESSMENT: (
            "No Adequate Post-baseline Tumor Assessment",
            start,
        ),
        PfsCensoring.MISSED_ASSESSMENTS: (
            "Event after Missed Tumor Assessments",
            last,
        ),
        PfsCensoring.NEW_THERAPY: (
            "New Anti-cancer Therapy before Event",
            start if at_start else "Last Tumor Assessment prior to NACT",
        ),
        PfsCensoring.NO_EVENT: ("Last Tumor Assessment", last),
        TtpCensoring.DEATH_WITHOUT_PROGRESSION: ("Death without Progression", last),
    }.get(tte.cnsr, ("Censored", last))


def _adtte(subjects: Sequence[SubjectEndpoints], ids: _Identity) -> AdamDataset:
    variables = (
        *_IDS,
        _v("ASEQ", "Analysis Sequence Number", "number"),
        _v("PARAMCD", "Parameter Code"),
        _v("PARAM", "Parameter"),
        _v("AVAL", "Analysis Value", "number", "<param>_days: ADT - STARTDT + 1"),
        _v("AVALU", "Analysis Value Unit"),
        _v("CNSR", "Censor", "number", "<param>_cnsr: 0 event, > 0 censored"),
        _v(
            "STARTDT",
            "Time to Event Origin Date for Subject",
            "date",
            "first_dose_date (DOR: the date of the BOR's first CR/PR)",
        ),
        _v("ADT", "Analysis Date", "date", "<param>_end_date"),
        _v("EVNTDESC", "Event or Censoring Description"),
        _v("CNSDTDSC", "Censor Date Description"),
    )
    rows: list[Row] = []
    for subject in subjects:
        patient = subject.patient_id
        endpoints = {
            "PFS": subject.pfs,
            "TTP": subject.ttp,
            "OS": subject.os,
            "DOR": subject.dor,
        }
        sequence = 0
        for paramcd in sorted(endpoints):  # admiral: ASEQ ordered by PARAMCD
            tte = endpoints[paramcd]
            if tte is None:
                continue
            sequence += 1
            event, censor_date = _descriptions(paramcd, tte)
            rows.append(
                {
                    **ids.keys(patient),
                    "ASEQ": sequence,
                    "PARAMCD": paramcd,
                    "PARAM": _PARAMS_TTE[paramcd],
                    "AVAL": tte.days,
                    "AVALU": "DAYS",
                    "CNSR": tte.cnsr,
                    "STARTDT": ids.date(tte.start_date, patient),
                    "ADT": ids.date(tte.end_date, patient),
                    "EVNTDESC": event,
                    "CNSDTDSC": censor_date,
                }
            )
    return AdamDataset(
        name="ADTTE",
        label="Time-to-Event Analysis Dataset",
        structure="one record per subject and parameter",
        variables=variables,
        rows=tuple(rows),
    )


# ------------------------------------------------------------------ ADAE


def _adae(
    result: TrialEndpoints, subjects: Sequence[SubjectEndpoints], ids: _Identity
) -> AdamDataset:
    safety = result.adverse_events
    variables = (
        *_IDS,
        _v("ASEQ", "Analysis Sequence Number", "number"),
        _v("AETERM", "Reported Term for the Adverse Event", derivation="term"),
        _v("AEDECOD", "Dictionary-Derived Term", derivation="term (CTCAE v5)"),
        _v("AEBODSYS", "Body System or Organ Class", derivation="soc"),
        _v("ASTDT", "Analysis Start Date", "date", "start_date"),
        _v("AENDT", "Analysis End Date", "date", "end_date"),
        _v("ASTDY", "Analysis Start Relative Day", "number", "ASTDT - TRTSDT (+1)"),
        _v("AETOXGR", "Standard Toxicity Grade", derivation="grade"),
        _v("ATOXGR", "Analysis Toxicity Grade", derivation="grade"),
        _v("AESER", "Serious Event", derivation="serious"),
        _v("AEREL", "Causality", derivation="related (Y/N)"),
        _v("AEACN", "Action Taken with Study Treatment", derivation="action"),
        _v(
            "TRTEMFL",
            "Treatment Emergent Analysis Flag",
            derivation="Y: TRTSDT <= ASTDT <= DCUTDT",
        ),
    )
    first_dose = {s.patient_id: s.first_dose_date for s in subjects}
    order = {patient: index for index, patient in enumerate(first_dose)}
    rows: list[Row] = []
    sequence: dict[str, int] = {}
    if safety is not None:
        pairs = sorted(
            (
                (event, emergent)
                for event, emergent in zip(
                    safety.events, safety.treatment_emergent, strict=True
                )
                if event.patient_id in first_dose
            ),
            key=lambda pair: (
                order[pair[0].patient_id],
                pair[0].start_date,
                pair[0].term,
            ),
        )
        for event, emergent in pairs:
            patient = event.patient_id
            sequence[patient] = sequence.get(patient, 0) + 1
            rows.append(
                {
                    **ids.keys(patient),
                    "ASEQ": sequence[patient],
                    "AETERM": event.term,
                    "AEDECOD": event.term,
                    "AEBODSYS": event.soc,
                    "ASTDT": ids.date(event.start_date, patient),
                    "AENDT": ids.date(event.end_date, patient),
                    "ASTDY": _study_day(event.start_date, first_dose[patient]),
                    "AETOXGR": str(event.grade),
                    "ATOXGR": str(event.grade),
                    "AESER": _flag(event.serious),
                    "AEREL": _flag(event.related),
                    "AEACN": "" if event.action is None else _AEACN[event.action],
                    "TRTEMFL": "Y" if emergent else "",
                }
            )
    return AdamDataset(
        name="ADAE",
        label="Adverse Events Analysis Dataset",
        structure="one record per adverse event",
        variables=variables,
        rows=tuple(rows),
    )
