"""The endpoints as plain tables and JSON-ready data, for files and the trial view.

A :class:`Table` is column names plus rows of strings, so a Qt table model (or any
other view) can show it without knowing the endpoint objects. ``subjects_table``
keeps the patient id in column 0, so a view can open that patient's reading.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recist_app.endpoints.adverse_events import SafetySummary
    from recist_app.endpoints.biomarkers import BiomarkerResult, HazardRatio
    from recist_app.endpoints.options import EndpointOptions
    from recist_app.endpoints.statistics import (
        KaplanMeierEstimate,
        LandmarkEstimate,
        ProportionEstimate,
    )
    from recist_app.endpoints.study import TrialEndpoints
    from recist_app.endpoints.subject import SubjectEndpoints, TimeToEvent
    from recist_app.recist import BestOverallResponse

__all__ = [
    "ENDPOINTS_FORMAT",
    "Table",
    "biomarker_table",
    "bor_table",
    "endpoints_to_dict",
    "risk_table",
    "safety_table",
    "subjects_table",
    "summary_table",
]

ENDPOINTS_FORMAT = "recist-endpoints/1"


@dataclass(frozen=True, slots=True)
class Table:
    """Column names and rows of display strings."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def csv_text(self) -> str:
        """The table as CSV (header row first, LF line ends)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return buffer.getvalue()


def _pct(value: float | None) -> str:
    return "NE" if value is None else f"{100 * value:.1f}"


def _proportion_text(estimate: ProportionEstimate) -> str:
    if estimate.estimate is None:
        return f"{estimate.count}/{estimate.total} (NE)"
    return (
        f"{estimate.count}/{estimate.total} = {_pct(estimate.estimate)} % "
        f"({_pct(estimate.lower)}–{_pct(estimate.upper)})"
    )


def _months(days: float | None) -> str:
    from recist_app.endpoints.options import DAYS_PER_MONTH

    if days is None:
        return "NE"
    if math.isinf(days):
        return "NR"
    return f"{days / DAYS_PER_MONTH:.1f}"


def _median_text(fit: KaplanMeierEstimate) -> str:
    if fit.subjects == 0:
        return "no subjects"
    return (
        f"{_months(fit.median_days)} mo ({_months(fit.median_lower_days)}–"
        f"{_months(fit.median_upper_days)}); {fit.events} events / {fit.subjects}"
    )


def _landmark_text(estimate: LandmarkEstimate) -> str:
    if not estimate.estimable:
        return "NE (beyond follow-up)"
    return (
        f"{_pct(estimate.survival)} % ({_pct(estimate.lower)}–{_pct(estimate.upper)})"
    )


def summary_table(result: TrialEndpoints) -> Table:
    """One row per endpoint: name and "estimate (95 % CI)" text."""
    level = f"{100 * result.options.confidence_level:g} % CI"
    responses = "iCR+iPR" if result.criteria.value == "iRECIST" else "CR+PR"
    rows: list[tuple[str, str]] = [
        ("Response criteria", result.criteria.value),
        ("Treated patients", str(result.treated)),
        (
            f"Response population ({result.options.population.value})",
            str(result.response_population),
        ),
        (f"ORR ({responses}), {level}", _proportion_text(result.orr)),
        (f"DCR, {level}", _proportion_text(result.dcr)),
        (f"CBR ({_cbr_name(result.options)}), {level}", _proportion_text(result.cbr)),
        (f"Median PFS, {level}", _median_text(result.pfs)),
        (f"Median TTP, {level}", _median_text(result.ttp)),
        (f"Median OS, {level}", _median_text(result.os)),
        (f"Median DOR, {level}", _median_text(result.dor)),
    ]
    for estimate in result.pfs_rates:
        rows.append(
            (f"PFS rate at {_months(estimate.time_days)} mo", _landmark_text(estimate))
        )
    for estimate in result.ttp_rates:
        rows.append(
            (
                f"TTP rate at {_months(estimate.time_days)} mo",
                _landmark_text(estimate),
            )
        )
    for estimate in result.mortality_rates:
        rows.append(
            (
                f"Mortality at {_months(estimate.time_days)} mo",
                _landmark_text(estimate),
            )
        )
    for category, count in result.bor_counts_confirmed.items():
        if count:
            rows.append((f"Confirmed BOR {category}", str(count)))
    safety = result.adverse_events
    if safety is not None:
        rows += [
            ("Safety population", str(safety.safety_population)),
            (
                "Patients with any TEAE",
                _count_pct(safety.patients_with_any, safety),
            ),
            (
                "Patients with a grade ≥ 3 TEAE",
                _count_pct(safety.patients_grade_3_plus, safety),
            ),
            (
                "Patients with a serious TEAE",
                _count_pct(safety.patients_serious, safety),
            ),
            (
                "Patients with a TEAE leading to discontinuation",
                _count_pct(safety.patients_leading_to_discontinuation, safety),
            ),
        ]
    return Table(columns=("Endpoint", "Value"), rows=tuple(rows))


def _count_pct(count: int, safety: SafetySummary) -> str:
    percent = safety.percent(count)
    return str(count) if percent is None else f"{count} ({percent:.1f} %)"


def safety_table(result: TrialEndpoints) -> Table:
    """Treatment-emergent adverse events by system organ class and term.

    The usual safety table: patients with any grade and with grade ≥ 3, n (%)
    of the safety population, each patient once per row at the worst grade.
    The first row counts every TEAE; then each SOC (most frequent first) and
    its terms (indented, most frequent first). Empty without adverse events.
    """
    safety = result.adverse_events
    columns = ("System organ class / term", "Any grade, n (%)", "Grade ≥ 3, n (%)")
    if safety is None:
        return Table(columns=columns, rows=())
    emergent = safety.emergent_events
    soc_of = {t.term: t.soc for t in safety.by_term}

    def patients(events: list[tuple[str, int]]) -> tuple[str, str]:
        any_grade = {patient for patient, _grade in events}
        severe = {patient for patient, grade in events if grade >= 3}
        return _count_pct(len(any_grade), safety), _count_pct(len(severe), safety)

    rows: list[tuple[str, ...]] = [
        (
            "Any TEAE",
            *patients([(e.patient_id, e.grade) for e in emergent]),
        )
    ]
    by_soc: dict[str, list[tuple[str, int]]] = {}
    for event in emergent:
        by_soc.setdefault(soc_of[event.term], []).append(
            (event.patient_id, event.grade)
        )
    order = sorted(
        by_soc, key=lambda soc: (-len({p for p, _g in by_soc[soc]}), soc == "", soc)
    )
    for soc in order:
        rows.append((soc or "(system organ class not given)", *patients(by_soc[soc])))
        for term in safety.by_term:
            if term.soc == soc:
                rows.append(
                    (
                        f"    {term.term}",
                        _count_pct(term.any_grade_n, safety),
                        _count_pct(term.grade_3_plus_n, safety),
                    )
                )
    return Table(columns=columns, rows=tuple(rows))


def _p_text(value: float | None) -> str:
    if value is None:
        return ""
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _hr_text(value: HazardRatio | None) -> str:
    if value is None:
        return ""
    return f"{value.estimate:.2f} ({value.lower:.2f}–{value.upper:.2f})"


def _months_or_nr(value: float | None) -> str:
    return "NR" if value is None else f"{value:.1f}"


def biomarker_table(result: TrialEndpoints) -> Table:
    """ORR and survival by biomarker group, with the tests across groups.

    One row per group; the biomarker's tests and hazard ratios (non-reference
    vs reference) on its first row. Empty without biomarkers.
    """
    columns = (
        "Biomarker",
        "Group",
        "n",
        "ORR (95 % CI)",
        "Median PFS, mo",
        "Median OS, mo",
        "ORR Fisher p",
        "PFS log-rank p",
        "OS log-rank p",
        "PFS HR (95 % CI)",
        "OS HR (95 % CI)",
    )
    rows: list[tuple[str, ...]] = []
    for marker in result.biomarkers or ():
        for index, group in enumerate(marker.groups):
            first = index == 0
            rows.append(
                (
                    _marker_label(marker) if first else "",
                    group.label,
                    str(group.n),
                    _proportion_text(group.orr),
                    _months_or_nr(group.pfs_median_months),
                    _months_or_nr(group.os_median_months),
                    _p_text(marker.orr_fisher_p) if first else "",
                    _p_text(marker.pfs_logrank_p) if first else "",
                    _p_text(marker.os_logrank_p) if first else "",
                    _hr_text(marker.pfs_hr) if first else "",
                    _hr_text(marker.os_hr) if first else "",
                )
            )
        if not marker.groups:
            rows.append((_marker_label(marker), "(no values)", "0", *[""] * 8))
    return Table(columns=columns, rows=tuple(rows))


def _marker_label(marker: BiomarkerResult) -> str:
    if marker.cutoff is None:
        return marker.name
    how = "cutoff" if marker.cutoff_chosen else "median"
    return f"{marker.name} ({how} {marker.cutoff:g})"


_SUBJECT_COLUMNS = (
    "patient_id",
    "first_dose_date",
    "measurable_disease",
    "in_response_population",
    "bor_confirmed",
    "bor_confirmed_date",
    "confirmation_date",
    "bor_unconfirmed",
    "first_response_date",
    "best_change_pct",
    "responder",
    "disease_control",
    "clinical_benefit",
    "progression_date",
    "death_date",
    "new_anticancer_therapy_date",
    "pfs_days",
    "pfs_event",
    "pfs_cnsr",
    "pfs_end_date",
    "pfs_reason",
    "ttp_days",
    "ttp_event",
    "ttp_cnsr",
    "ttp_end_date",
    "ttp_reason",
    "os_days",
    "os_event",
    "os_cnsr",
    "os_end_date",
    "dor_days",
    "dor_event",
    "dor_cnsr",
    "notes",
)


def bor_table(result: TrialEndpoints) -> Table:
    """Best overall response, confirmed and unconfirmed: n (%) of the population."""
    total = result.response_population

    def cell(count: int) -> str:
        return f"{count} ({100 * count / total:.1f} %)" if total else str(count)

    rows = tuple(
        (
            category,
            cell(result.bor_counts_confirmed[category]),
            cell(result.bor_counts_unconfirmed[category]),
        )
        for category in result.bor_counts_confirmed
        if result.bor_counts_confirmed[category]
        or result.bor_counts_unconfirmed[category]
    )
    return Table(columns=("BOR", "Confirmed", "Unconfirmed"), rows=rows)


def risk_table(result: TrialEndpoints) -> Table:
    """Numbers at risk of PFS, TTP, OS and DOR at the plot's ticks (months)."""
    times = result.risk_times_days
    columns = ("Endpoint", *(_months(t) for t in times))
    rows = tuple(
        (fit.label, *(str(count) for count in fit.numbers_at_risk(times)))
        for fit in (result.pfs, result.ttp, result.os, result.dor)
    )
    return Table(columns=columns, rows=rows)


class _IsoDates(dict[datetime.date, str]):
    """Each date's ISO text, formatted once per table.

    The subjects' tables write about 16 dates a patient, mostly from a few
    hundred distinct days; a lookup costs a tenth of ``isoformat`` (issue 23,
    ``benchmarks/bench_endpoints.py``).
    """

    def __missing__(self, date: datetime.date) -> str:
        text = self[date] = date.isoformat()
        return text


def _date(value: datetime.date | None, iso: _IsoDates) -> str:
    return "" if value is None else iso[value]


def _flag(value: bool) -> str:
    return "Y" if value else "N"


def _tte_cells(value: TimeToEvent | None) -> tuple[str, str, str]:
    if value is None:
        return ("", "", "")
    days = (value.end_date - value.start_date).days + 1  # TimeToEvent.days
    return (str(days), "Y" if value.event else "N", str(value.cnsr))


def _subject_row(subject: SubjectEndpoints, iso: _IsoDates) -> tuple[str, ...]:
    confirmed = subject.bor_confirmed
    return (
        subject.patient_id,
        _date(subject.first_dose_date, iso),
        _flag(subject.measurable_disease),
        _flag(subject.in_response_population),
        "MISSING" if subject.bor_missing else confirmed.response.value,
        _date(confirmed.date, iso),
        _date(confirmed.confirmation_date, iso),
        "MISSING" if subject.bor_missing else subject.bor_unconfirmed.response.value,
        _date(subject.first_response_date, iso),
        "" if subject.best_change_pct is None else f"{subject.best_change_pct:.1f}",
        _flag(subject.responder),
        _flag(subject.disease_control),
        _flag(subject.clinical_benefit),
        _date(subject.progression_date, iso),
        _date(subject.death_date, iso),
        _date(subject.new_therapy_date, iso),
        *_tte_cells(subject.pfs),
        _date(subject.pfs.end_date, iso),
        subject.pfs.reason,
        *_tte_cells(subject.ttp),
        _date(subject.ttp.end_date, iso),
        subject.ttp.reason,
        *_tte_cells(subject.os),
        _date(subject.os.end_date, iso),
        *_tte_cells(subject.dor),
        "; ".join(subject.notes),
    )


def subjects_table(result: TrialEndpoints) -> Table:
    """One row per patient (``subjects.csv``); column 0 is the patient id."""
    iso = _IsoDates()
    return Table(
        columns=_SUBJECT_COLUMNS,
        rows=tuple([_subject_row(subject, iso) for subject in result.subjects]),
    )


def _number(value: float | None) -> float | None:
    """JSON has no infinity: not reached → ``None`` (with a flag beside it)."""
    if value is None or math.isinf(value):
        return None
    return round(value, 6)


def _proportion_dict(estimate: ProportionEstimate) -> dict[str, Any]:
    return {
        "count": estimate.count,
        "total": estimate.total,
        "estimate": _number(estimate.estimate),
        "ci_lower": _number(estimate.lower),
        "ci_upper": _number(estimate.upper),
        "method": "Clopper-Pearson exact",
    }


def _landmark_dict(estimate: LandmarkEstimate) -> dict[str, Any]:
    return {
        "time_days": round(estimate.time_days, 4),
        "estimable": estimate.estimable,
        "estimate": _number(estimate.survival),
        "ci_lower": _number(estimate.lower),
        "ci_upper": _number(estimate.upper),
    }


def _km_dict(fit: KaplanMeierEstimate, risk_times: tuple[float, ...]) -> dict[str, Any]:
    at_risk = fit.numbers_at_risk(risk_times)
    return {
        "subjects": fit.subjects,
        "events": fit.events,
        "censored": fit.censored,
        "median_days": _number(fit.median_days),
        "median_reached": (
            fit.median_days is not None and math.isfinite(fit.median_days)
        ),
        "median_ci_lower_days": _number(fit.median_lower_days),
        "median_ci_upper_days": _number(fit.median_upper_days),
        "ci_method": fit.ci_method.value,
        "numbers_at_risk": [
            {"time_days": round(t, 4), "at_risk": count}
            for t, count in zip(risk_times, at_risk, strict=True)
        ],
    }


def _tte_dict(value: TimeToEvent | None, iso: _IsoDates) -> dict[str, Any] | None:
    if value is None:
        return None
    start, end = value.start_date, value.end_date
    return {
        "start_date": iso[start],
        "end_date": iso[end],
        "days": (end - start).days + 1,  # TimeToEvent.days, without the call
        "event": value.event,
        "cnsr": value.cnsr,
        "reason": value.reason,
    }


def _bor_dict(
    value: BestOverallResponse, missing: bool, iso: _IsoDates
) -> dict[str, Any]:
    date, confirmation = value.date, value.confirmation_date
    return {
        "response": "MISSING" if missing else value.response.value,
        "confirmed": value.confirmed,
        "date": None if date is None else iso[date],
        "confirmation_date": None if confirmation is None else iso[confirmation],
        "reasons": list(value.reasons),
    }


def _subject_dict(subject: SubjectEndpoints, iso: _IsoDates) -> dict[str, Any]:
    missing = subject.bor_missing
    first_response = subject.first_response_date
    pfs = _tte_dict(subject.pfs, iso)
    return {
        "patient_id": subject.patient_id,
        "first_dose_date": iso[subject.first_dose_date],
        "has_reading": subject.has_reading,
        "has_baseline": subject.has_baseline,
        "measurable_disease": subject.measurable_disease,
        "in_response_population": subject.in_response_population,
        "bor_confirmed": _bor_dict(subject.bor_confirmed, missing, iso),
        "bor_unconfirmed": _bor_dict(subject.bor_unconfirmed, missing, iso),
        "first_response_date": (
            None if first_response is None else iso[first_response]
        ),
        "best_change_pct": subject.best_change_pct,
        "responder": subject.responder,
        "disease_control": subject.disease_control,
        "clinical_benefit": subject.clinical_benefit,
        "pfs": pfs,
        # TTP is often PFS itself (no death): the same values, a dict of its own
        "ttp": (
            dict(pfs)
            if pfs is not None and subject.ttp is subject.pfs
            else _tte_dict(subject.ttp, iso)
        ),
        "os": _tte_dict(subject.os, iso),
        "dor": _tte_dict(subject.dor, iso),
        "notes": list(subject.notes),
    }


def _cbr_name(options: EndpointOptions) -> str:
    """The CBR definition as the summary names it (``+ NON-CR/NON-PD`` if asked)."""
    from recist_app.endpoints.options import CbrDefinition

    name = options.cbr_definition.value
    if (
        options.cbr_counts_non_cr_non_pd
        and options.cbr_definition is CbrDefinition.CR_PR_SD_24_WEEKS
    ):
        name += " + NON-CR/NON-PD"
    return name


def endpoints_to_dict(result: TrialEndpoints) -> dict[str, Any]:
    """The whole analysis as JSON-ready data (``endpoints.json``)."""
    options = result.options
    risk = result.risk_times_days
    iso = _IsoDates()
    return {
        "format": ENDPOINTS_FORMAT,
        "criteria": result.criteria.value,
        "data_cutoff_date": result.data_cutoff_date.isoformat(),
        "options": {
            "assessment_interval_days": options.assessment_interval_days,
            "visit_window_days": options.visit_window_days,
            "missed_assessments": options.missed_assessments,
            "censor_after_missed_assessments": options.censor_after_missed_assessments,
            "censor_at_new_therapy": options.censor_at_new_therapy,
            "use_confirmed_response": options.use_confirmed_response,
            "cbr_definition": options.cbr_definition.value,
            "cbr_counts_non_cr_non_pd": options.cbr_counts_non_cr_non_pd,
            "population": options.population.value,
            "confidence_level": options.confidence_level,
            "survival_ci": options.survival_ci.value,
            "biomarker_cutoffs": dict(options.biomarker_cutoffs),
        },
        "treated": result.treated,
        "response_population": result.response_population,
        "bor_counts": {
            "confirmed": result.bor_counts_confirmed,
            "unconfirmed": result.bor_counts_unconfirmed,
        },
        "orr": _proportion_dict(result.orr),
        "dcr": _proportion_dict(result.dcr),
        "cbr": _proportion_dict(result.cbr),
        "pfs": {
            **_km_dict(result.pfs, risk),
            "rates": [_landmark_dict(e) for e in result.pfs_rates],
        },
        "ttp": {
            **_km_dict(result.ttp, risk),
            "rates": [_landmark_dict(e) for e in result.ttp_rates],
        },
        "os": {
            **_km_dict(result.os, risk),
            "mortality_rates": [_landmark_dict(e) for e in result.mortality_rates],
        },
        "dor": _km_dict(result.dor, risk),
        "adverse_events": _safety_dict(result.adverse_events),
        "biomarkers": (
            None
            if result.biomarkers is None
            else [_biomarker_dict(marker) for marker in result.biomarkers]
        ),
        "warnings": list(result.warnings),
        "subjects": [_subject_dict(subject, iso) for subject in result.subjects],
    }


def _safety_dict(safety: SafetySummary | None) -> dict[str, Any] | None:
    if safety is None:
        return None
    return {
        "safety_population": safety.safety_population,
        "excluded_not_treatment_emergent": safety.excluded_not_treatment_emergent,
        "patients_with_any": safety.patients_with_any,
        "patients_grade_3_plus": safety.patients_grade_3_plus,
        "patients_serious": safety.patients_serious,
        "patients_related": safety.patients_related,
        "patients_leading_to_discontinuation": (
            safety.patients_leading_to_discontinuation
        ),
        "patients_grade_5": safety.patients_grade_5,
        "by_term": [
            {
                "term": term.term,
                "soc": term.soc,
                "any_grade_n": term.any_grade_n,
                "any_grade_pct": safety.percent(term.any_grade_n),
                "grade_3_plus_n": term.grade_3_plus_n,
                "grade_3_plus_pct": safety.percent(term.grade_3_plus_n),
                "related_n": term.related_n,
                "worst_grade_counts": {
                    str(grade): count
                    for grade, count in enumerate(term.worst_grade_counts, start=1)
                },
            }
            for term in safety.by_term
        ],
    }


def _interval(lower: float | None, upper: float | None) -> list[float | None] | None:
    if lower is None or upper is None:
        return None
    return [_number(lower), _number(upper)]


def _biomarker_dict(marker: BiomarkerResult) -> dict[str, Any]:
    def hazard(value: HazardRatio | None) -> tuple[Any, Any]:
        if value is None:
            return None, None
        return _number(value.estimate), _interval(value.lower, value.upper)

    pfs_hr, pfs_hr_ci = hazard(marker.pfs_hr)
    os_hr, os_hr_ci = hazard(marker.os_hr)
    return {
        "name": marker.name,
        "kind": marker.kind.value,
        "cutoff": marker.cutoff,
        "groups": [
            {
                "label": group.label,
                "n": group.n,
                "responders": group.responders,
                "orr": _number(group.orr.estimate),
                "orr_ci": _interval(group.orr.lower, group.orr.upper),
                "pfs_median_months": _number(group.pfs_median_months),
                "os_median_months": _number(group.os_median_months),
            }
            for group in marker.groups
        ],
        "orr_fisher_p": marker.orr_fisher_p,
        "pfs_logrank_p": marker.pfs_logrank_p,
        "os_logrank_p": marker.os_logrank_p,
        "pfs_hr": pfs_hr,
        "pfs_hr_ci": pfs_hr_ci,
        "os_hr": os_hr,
        "os_hr_ci": os_hr_ci,
    }
