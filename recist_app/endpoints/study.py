"""Study-level endpoints from many patients: proportions, Kaplan–Meier, landmarks.

:func:`compute_trial_endpoints` is the single entry point. It matches readings to
clinical rows, derives every patient (:mod:`recist_app.endpoints.subject`) and
summarises them (docs/standards.md 3.3–3.5):

- ORR (CR+PR), DCR (CR+PR+SD, plus NON-CR/NON-PD for the all-treated population)
  and CBR with exact Clopper–Pearson intervals; MISSING and NE count as failures;
- Kaplan–Meier PFS, TTP and OS over all treated patients and DOR over responders:
  median with its interval, events, censored, numbers at risk;
- PFS and TTP rates at 3 and 6 months, mortality at 6 months and 1 year
  (1 − Ŝ_OS) with intervals; a landmark past the longest follow-up is not
  estimable;
- with adverse events, the safety summary of the treatment-emergent ones
  (:mod:`recist_app.endpoints.adverse_events`); with biomarkers, response and
  survival by biomarker group (:mod:`recist_app.endpoints.biomarkers`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from recist_app.endpoints.adverse_events import summarise_adverse_events
from recist_app.endpoints.biomarkers import analyse_biomarkers
from recist_app.endpoints.errors import EndpointError
from recist_app.endpoints.options import EndpointOptions
from recist_app.endpoints.statistics import (
    KaplanMeierEstimate,
    LandmarkEstimate,
    ProportionEstimate,
    clopper_pearson,
    kaplan_meier,
)
from recist_app.endpoints.subject import SubjectEndpoints, derive_subject
from recist_app.recist import Criteria, ReadingError

if TYPE_CHECKING:
    import datetime
    from collections.abc import Sequence

    from recist_app.endpoints.adverse_events import AdverseEvent, SafetySummary
    from recist_app.endpoints.biomarkers import BiomarkerResult, BiomarkerTable
    from recist_app.endpoints.clinical import ClinicalRecord
    from recist_app.recist import Reading

__all__ = [
    "BOR_CATEGORIES",
    "IRECIST_BOR_CATEGORIES",
    "TrialEndpoints",
    "bor_categories",
    "compute_trial_endpoints",
    "summarise",
]

BOR_CATEGORIES: tuple[str, ...] = (
    "CR",
    "PR",
    "SD",
    "NON-CR/NON-PD",
    "PD",
    "NE",
    "NED",
    "MISSING",
)
IRECIST_BOR_CATEGORIES: tuple[str, ...] = (
    "iCR",
    "iPR",
    "iSD",
    "NON-iCR/NON-iUPD",
    "iUPD",
    "iCPD",
    "NE",
    "NED",
    "MISSING",
)
"""iBOR categories (iUPD: progression never confirmed; iCPD: confirmed)."""


def bor_categories(criteria: Criteria) -> tuple[str, ...]:
    """The BOR codes tables count under ``criteria``, best first."""
    return IRECIST_BOR_CATEGORIES if criteria is Criteria.IRECIST else BOR_CATEGORIES


@dataclass(frozen=True, slots=True, kw_only=True)
class TrialEndpoints:
    """The endpoints of one analysis, as plain frozen data for files and views.

    ``adverse_events`` and ``biomarkers`` are ``None`` when the analysis was not
    given adverse events or biomarkers.
    """

    options: EndpointOptions
    data_cutoff_date: datetime.date
    subjects: tuple[SubjectEndpoints, ...]
    treated: int
    response_population: int
    bor_counts_confirmed: dict[str, int]
    bor_counts_unconfirmed: dict[str, int]
    orr: ProportionEstimate
    dcr: ProportionEstimate
    cbr: ProportionEstimate
    pfs: KaplanMeierEstimate
    ttp: KaplanMeierEstimate
    os: KaplanMeierEstimate
    dor: KaplanMeierEstimate
    pfs_rates: tuple[LandmarkEstimate, ...]
    ttp_rates: tuple[LandmarkEstimate, ...]
    mortality_rates: tuple[LandmarkEstimate, ...]
    risk_times_days: tuple[float, ...]
    warnings: tuple[str, ...] = field(default=())
    criteria: Criteria = Criteria.RECIST_1_1
    adverse_events: SafetySummary | None = None
    biomarkers: tuple[BiomarkerResult, ...] | None = None

    def subject(self, patient_id: str) -> SubjectEndpoints:
        """The endpoints of ``patient_id``; raises ``KeyError`` when unknown."""
        for subject in self.subjects:
            if subject.patient_id == patient_id:
                return subject
        raise KeyError(patient_id)


def compute_trial_endpoints(
    readings: Sequence[Reading],
    clinical: Sequence[ClinicalRecord],
    options: EndpointOptions | None = None,
    *,
    criteria: Criteria | str | None = None,
    adverse_events: Sequence[AdverseEvent] | None = None,
    biomarkers: BiomarkerTable | None = None,
) -> TrialEndpoints:
    """Compute every endpoint of the trial.

    Parameters
    ----------
    readings
        One reading per patient (RECIST 1.1 or another registered criteria set).
    clinical
        One clinical record per treated patient; its order is the subjects' order.
    options
        Protocol parameters and switches (default: the trial's primary analysis).
    criteria
        Assess every reading under this criteria set (the same lesions, measured
        once); default: the readings' own, which must then agree.
    adverse_events
        Every adverse event row (the safety summary counts the treatment-emergent
        ones); ``None``: no safety summary.
    biomarkers
        The biomarker table (``options.biomarker_cutoffs`` choose numeric splits);
        ``None``: no analysis by biomarker.

    Raises
    ------
    EndpointError
        A reading without a clinical row, a clinical row without a reading (unless
        ``options.allow_unread_patients``), two readings of one patient, no
        patients at all, or an adverse event or biomarker row of a patient
        without a clinical row.
    """
    options = options or EndpointOptions()
    if not clinical:
        raise EndpointError("no patients: the clinical file has no rows")
    if criteria is not None:
        criteria = Criteria(criteria)
        readings = [
            r if r.criteria is criteria else dataclasses.replace(r, criteria=criteria)
            for r in readings
        ]
    else:
        under = sorted({r.criteria.value for r in readings})
        if len(under) > 1:
            raise EndpointError(
                f"readings under several criteria ({', '.join(under)}); analyse "
                "one criteria set at a time"
            )
        criteria = Criteria(under[0]) if under else Criteria.RECIST_1_1
    by_patient: dict[str, Reading] = {}
    for reading in readings:
        if reading.patient_id in by_patient:
            raise EndpointError(
                f"patient {reading.patient_id!r}: two readings; the endpoints need "
                "exactly one (adjudicated) reading per patient"
            )
        by_patient[reading.patient_id] = reading
    known = {record.patient_id for record in clinical}
    orphans = sorted(set(by_patient) - known)
    if orphans:
        raise EndpointError(
            f"reading of patient {orphans[0]!r} has no row in the clinical file"
            + (f" (and {len(orphans) - 1} more)" if len(orphans) > 1 else "")
        )
    subjects: list[SubjectEndpoints] = []
    for record in clinical:
        found = by_patient.get(record.patient_id)
        if found is None and not options.allow_unread_patients:
            raise EndpointError(
                f"{record.where}, column patient_id: unknown patient "
                f"{record.patient_id!r}, no reading found"
            )
        try:
            subjects.append(derive_subject(found, record, options))
        except ReadingError as error:
            raise EndpointError(f"patient {record.patient_id!r}: {error}") from None
    result = summarise(
        tuple(subjects), options, clinical[0].data_cutoff_date, criteria=criteria
    )
    if adverse_events is not None:
        result = dataclasses.replace(
            result,
            adverse_events=summarise_adverse_events(
                adverse_events, result.subjects, result.data_cutoff_date
            ),
        )
    if biomarkers is not None:
        result = dataclasses.replace(
            result, biomarkers=analyse_biomarkers(biomarkers, result.subjects, options)
        )
    return result


def summarise(
    subjects: tuple[SubjectEndpoints, ...],
    options: EndpointOptions,
    data_cutoff_date: datetime.date,
    *,
    criteria: Criteria = Criteria.RECIST_1_1,
) -> TrialEndpoints:
    """Study-level summary of already derived subjects (under ``criteria``)."""
    level = options.confidence_level
    population = [s for s in subjects if s.in_response_population]
    n = len(population)

    def proportion(count: int) -> ProportionEstimate:
        return clopper_pearson(count, n, confidence_level=level)

    def km(label: str, rows: list[tuple[int, bool]]) -> KaplanMeierEstimate:
        return kaplan_meier(
            [float(days) for days, _ in rows],
            [event for _, event in rows],
            label=label,
            confidence_level=level,
            ci_method=options.survival_ci,
        )

    pfs = km("PFS", [(s.pfs.days, s.pfs.event) for s in subjects])
    ttp = km("TTP", [(s.ttp.days, s.ttp.event) for s in subjects])
    os_fit = km("OS", [(s.os.days, s.os.event) for s in subjects])
    dor = km("DOR", [(s.dor.days, s.dor.event) for s in population if s.dor])
    longest = max(pfs.max_time_days, ttp.max_time_days, os_fit.max_time_days)
    steps = int(longest // options.risk_table_step_days) + 1
    warnings = tuple(
        f"patient {s.patient_id}: {note}" for s in subjects for note in s.notes
    )
    return TrialEndpoints(
        options=options,
        data_cutoff_date=data_cutoff_date,
        subjects=subjects,
        treated=len(subjects),
        response_population=n,
        bor_counts_confirmed=_bor_counts(population, criteria, confirmed=True),
        bor_counts_unconfirmed=_bor_counts(population, criteria, confirmed=False),
        orr=proportion(sum(s.responder for s in population)),
        dcr=proportion(sum(s.disease_control for s in population)),
        cbr=proportion(sum(s.clinical_benefit for s in population)),
        pfs=pfs,
        ttp=ttp,
        os=os_fit,
        dor=dor,
        pfs_rates=tuple(pfs.at(t) for t in options.pfs_landmarks_days),
        ttp_rates=tuple(ttp.at(t) for t in options.pfs_landmarks_days),
        mortality_rates=tuple(
            os_fit.at(t).complement() for t in options.mortality_landmarks_days
        ),
        risk_times_days=tuple(
            step * options.risk_table_step_days for step in range(steps + 1)
        ),
        warnings=warnings,
        criteria=criteria,
    )


def _bor_counts(
    population: Sequence[SubjectEndpoints], criteria: Criteria, *, confirmed: bool
) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for subject in population:
        bor = subject.bor_confirmed if confirmed else subject.bor_unconfirmed
        counts["MISSING" if subject.bor_missing else bor.response.value] += 1
    return {category: counts.get(category, 0) for category in bor_categories(criteria)}
