"""Per-patient endpoints: BOR, response dates, PFS, OS and DOR with censoring.

Pre-processing (docs/standards.md 3.1, admiralonco ``vignettes/adrs.Rmd`` with TRTSDT
for RANDDT): a follow-up counts when first dose ≤ date ≤ data cut-off; for the best
overall response it must also be on or before the first new anticancer therapy (a
scan on the day the therapy starts is taken to precede it, matching PFS row 6's
"on/before"). BOR itself comes from :func:`recist_app.recist.best_overall_responses`.

PFS (docs/standards.md 3.4; CNSR 0 = event). The rows are applied in this order:

- row 1: no baseline tumour assessment → censored at first dose, CNSR 1;
- row 6: new anticancer therapy on/before the cut-off and before PD/death (or with
  no PD/death) → censored at the last adequate assessment on/before that therapy
  (first dose when none), CNSR 4 (switchable);
- row 2: no adequate post-baseline assessment and no death within N intervals +
  window of first dose → censored at first dose, CNSR 2;
- row 5: PD or death more than N intervals + window after the last adequate
  assessment (≥ N consecutive missed assessments) → censored at that assessment,
  CNSR 3 (switchable; when off the event counts);
- row 3: PD → event at the date of the PD visit (CNSR 0);
- row 4: death without PD → event at death (CNSR 0);
- row 7: otherwise → censored at the last adequate assessment, CNSR 5.

With row 5 switched off a PD or death is an event however late, so row 2 then only
censors patients with neither. An adequate assessment is a follow-up whose overall
response is not NE. Deaths and new therapies after the cut-off are ignored.
Durations are ``end − start + 1`` days (admiral ``derive_vars_duration``,
``add_one = TRUE``), so a subject censored at first dose has 1 day.

OS (3.5): death on/before the cut-off is an event (CNSR 0); otherwise censored at the
last date known alive (the later of ``last_known_alive_date`` and the last scan, and
the cut-off itself when a death after the cut-off is recorded), never after the
cut-off (CNSR 1); with no follow-up at all, at first dose (CNSR 2).

DOR (3.5): responders only; from the first CR/PR of the (confirmed) BOR to the PFS
end date, with the PFS event and censoring.

TTP (3.5): PFS without death as an event (FDA 2018 endpoints guidance): the same
progression date and the same censoring rows, but a death without progression is
censored at the last adequate assessment (CNSR 6; at first dose with CNSR 2 when
there is none).

Other criteria sets (issue 8). mRECIST uses the RECIST codes, so everything above
applies to its responses. iRECIST (docs/rules.md H, Seymour et al. 2017) is mapped
for the endpoints by :func:`endpoint_response`: iCR and iPR are responses (ORR,
DOR), iSD is disease control, NON-iCR/NON-iUPD counts as NON-CR/NON-PD, and **iCPD
is the progression event**: PFS (iPFS) ends at the date of the iUPD that the iCPD
confirmed (the first iUPD since the last reset), as the iRECIST guideline dates
progression. An iUPD that could never be confirmed because the patient started a new
anticancer therapy or died before any further assessment counts as progression at
the iUPD date too (the patient left immunotherapy at iUPD; otherwise every second
line started after iUPD would censor PFS). Any other iUPD is not an event: a later
iSD/iPR/iCR resets it, and an iUPD still pending at the cut-off is an adequate
assessment at which PFS is censored. An iBOR of iUPD (unconfirmed progression
only) is a non-responder and no disease control. Tables keep the i-codes. For BOR
under a shorter window (cut-off, new therapy, another first dose) a non-RECIST
reading is assessed again on the visits of the window, so each criteria set derives
its own best response.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, overload

from recist_app.endpoints.errors import EndpointError
from recist_app.endpoints.options import CbrDefinition, EndpointOptions, Population
from recist_app.recist import (
    Assessment,
    BestOverallResponse,
    Criteria,
    Reading,
    Response,
    ResponseEvent,
    ResponseParameters,
    TimepointAssessment,
    assess,
    best_overall_responses,
    response_start,
)

if TYPE_CHECKING:
    import datetime
    from collections.abc import Iterator

    from recist_app.endpoints.clinical import ClinicalRecord

__all__ = [
    "CNSR_EVENT",
    "OsCensoring",
    "PfsCensoring",
    "SubjectEndpoints",
    "TimeToEvent",
    "TtpCensoring",
    "VisitPoint",
    "VisitPoints",
    "derive_os",
    "derive_pfs",
    "derive_subject",
    "derive_ttp",
    "endpoint_response",
]

CNSR_EVENT = 0


class PfsCensoring:
    """CNSR codes of the PFS censoring rows (docs/standards.md 3.4)."""

    NO_BASELINE = 1
    NO_ADEQUATE_ASSESSMENT = 2
    MISSED_ASSESSMENTS = 3
    NEW_THERAPY = 4
    NO_EVENT = 5


class TtpCensoring(PfsCensoring):
    """CNSR codes of TTP: the PFS rows, plus death without progression."""

    DEATH_WITHOUT_PROGRESSION = 6


class OsCensoring:
    """CNSR codes of OS censoring."""

    ALIVE = 1
    NO_FOLLOW_UP = 2


_RESPONDERS = frozenset({Response.CR, Response.PR})
_ENDPOINT_RESPONSE = {
    Response.ICR: Response.CR,
    Response.IPR: Response.PR,
    Response.ISD: Response.SD,
    Response.NON_ICR_NON_IUPD: Response.NON_CR_NON_PD,
    Response.ICPD: Response.PD,
}


def endpoint_response(response: Response) -> Response:
    """The RECIST category an iRECIST code counts as (module docstring).

    RECIST codes and iUPD (unconfirmed progression: neither a response nor an
    event) are returned unchanged.

    >>> endpoint_response(Response.ICPD), endpoint_response(Response.IUPD)
    (<Response.PD: 'PD'>, <Response.IUPD: 'iUPD'>)
    """
    return _ENDPOINT_RESPONSE.get(response, response)


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeToEvent:
    """One time-to-event endpoint of one patient (ADTTE-like row)."""

    start_date: datetime.date
    end_date: datetime.date
    event: bool
    cnsr: int
    reason: str

    @property
    def days(self) -> int:
        """``end − start + 1`` (admiral's AVAL in days)."""
        return (self.end_date - self.start_date).days + 1


class VisitPoint(NamedTuple):
    """One follow-up in the analysis window, for spider and swimmer plots.

    A named tuple, not a frozen dataclass, like ``recist.ResponseEvent``: the
    endpoints make one per follow-up of every patient (80,000 for 10,000
    patients) and a tuple is several times cheaper to make (issue 23,
    ``benchmarks/bench_endpoints.py``).
    """

    visit: str
    date: datetime.date
    study_day: int
    change_from_baseline_pct: float | None
    overall_response: Response


_RESPONSE_CODE = {response: response.value for response in Response}
"""Each response's code, a plain string (``.value`` is a slower descriptor)."""
_RESPONSE_CODES = frozenset(_RESPONSE_CODE.values())


@dataclass(frozen=True, slots=True)
class VisitPoints(Sequence[VisitPoint]):
    """A patient's follow-ups in the analysis window, as :class:`VisitPoint` in order.

    One object holding five parallel tuples of plain values, not one named tuple
    per follow-up, like ``recist.CountedDiameters``: a named tuple is never left
    out of the garbage collector's passes (only exact tuples are), and one
    holding a ``Response`` member could not be anyway. With a named tuple per
    follow-up, 10,000 patients kept 83,000 tracked objects more, enough for
    CPython to walk every reading of the trial once more (issue 23,
    ``benchmarks/bench_endpoints.py``). ``response_codes`` are
    :class:`~recist_app.recist.Response` values; iterating or indexing gives
    ``VisitPoint`` with the enum member.

    Raises
    ------
    ValueError
        The tuples differ in length, or a response code is unknown.
    """

    visit_labels: tuple[str, ...]
    dates: tuple[datetime.date, ...]
    study_days: tuple[int, ...]
    changes_from_baseline_pct: tuple[float | None, ...]
    response_codes: tuple[str, ...]

    def __post_init__(self) -> None:
        if not (
            len(self.visit_labels)
            == len(self.dates)
            == len(self.study_days)
            == len(self.changes_from_baseline_pct)
            == len(self.response_codes)
        ):
            raise ValueError(
                "visit points: visit_labels, dates, study_days, "
                "changes_from_baseline_pct and response_codes differ in length"
            )
        if not _RESPONSE_CODES.issuperset(self.response_codes):
            unknown = sorted(set(self.response_codes) - _RESPONSE_CODES)
            raise ValueError(f"visit points: unknown response {', '.join(unknown)}")

    def __len__(self) -> int:
        return len(self.visit_labels)

    @overload
    def __getitem__(self, index: int) -> VisitPoint: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[VisitPoint, ...]: ...

    def __getitem__(self, index: int | slice) -> VisitPoint | tuple[VisitPoint, ...]:
        if isinstance(index, slice):
            return tuple(self)[index]
        return VisitPoint(
            self.visit_labels[index],
            self.dates[index],
            self.study_days[index],
            self.changes_from_baseline_pct[index],
            Response(self.response_codes[index]),
        )

    def __iter__(self) -> Iterator[VisitPoint]:
        for visit, date, day, change, code in zip(
            self.visit_labels,
            self.dates,
            self.study_days,
            self.changes_from_baseline_pct,
            self.response_codes,
            strict=True,
        ):
            yield VisitPoint(visit, date, day, change, Response(code))

    @classmethod
    def of(cls, points: Sequence[VisitPoint]) -> VisitPoints:
        """The sequence of ``points`` (in that order)."""
        return cls(
            tuple(p.visit for p in points),
            tuple(p.date for p in points),
            tuple(p.study_day for p in points),
            tuple(p.change_from_baseline_pct for p in points),
            tuple(p.overall_response.value for p in points),
        )


NO_VISIT_POINTS = VisitPoints((), (), (), (), ())
"""No follow-up in the analysis window."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SubjectEndpoints:
    """Everything one patient contributes to the trial endpoints.

    ``bor`` is the BOR the proportions use (confirmed unless the options say
    otherwise); ``bor_missing`` means no post-baseline assessment at all (admiralonco
    MISSING). ``responder``, ``disease_control`` and ``clinical_benefit`` are False
    for patients outside the response population (``in_response_population``).
    """

    patient_id: str
    first_dose_date: datetime.date
    has_reading: bool
    has_baseline: bool
    measurable_disease: bool
    in_response_population: bool
    baseline_sum_mm: float | None
    visits: VisitPoints
    bor_confirmed: BestOverallResponse
    bor_unconfirmed: BestOverallResponse
    bor: BestOverallResponse
    bor_missing: bool
    first_response_date: datetime.date | None
    progression_date: datetime.date | None
    death_date: datetime.date | None
    new_therapy_date: datetime.date | None
    best_change_pct: float | None
    responder: bool
    disease_control: bool
    clinical_benefit: bool
    pfs: TimeToEvent
    ttp: TimeToEvent
    os: TimeToEvent
    dor: TimeToEvent | None
    notes: tuple[str, ...]

    @property
    def bor_category(self) -> str:
        """BOR code as tables show it: a response code, or MISSING."""
        return "MISSING" if self.bor_missing else self.bor.response.value


def derive_subject(
    reading: Reading | None,
    clinical: ClinicalRecord,
    options: EndpointOptions,
    *,
    assessment: Assessment | None = None,
) -> SubjectEndpoints:
    """Derive one patient's endpoints from the reading and the clinical dates.

    Parameters
    ----------
    reading
        The patient's reading; ``None`` for a treated patient never read.
    clinical
        The patient's clinical record (first dose, death, cut-off, ...).
    options
        Protocol parameters and switches.
    assessment
        ``assess(reading)`` when the caller already has it.
    """
    first_dose = clinical.first_dose_date
    cutoff = clinical.data_cutoff_date
    death = _on_or_before(clinical.death_date, cutoff)
    new_therapy = _on_or_before(clinical.new_anticancer_therapy_date, cutoff)
    notes: list[str] = []
    if reading is not None and assessment is None:
        assessment = assess(reading)
    has_baseline = reading is not None and reading.baseline is not None
    params = reading.params if reading is not None else ResponseParameters()
    if (
        reading is not None
        and reading.first_dose_date is not None
        and reading.first_dose_date != first_dose
    ):
        notes.append(
            f"first dose {reading.first_dose_date.isoformat()} in the reading differs "
            f"from {first_dose.isoformat()} in the clinical file; the clinical "
            "file is used"
        )
    window = _follow_ups(
        assessment, first_dose, cutoff, new_therapy, has_baseline=has_baseline
    )
    in_window = window.in_window
    response_window = window.response_window
    adequate_dates = window.adequate_dates
    no_disease = (
        assessment is not None and assessment.baseline.overall_response is Response.NED
    )
    confirmed, unconfirmed = _best_overall_responses(
        reading,
        assessment,
        window,
        first_dose,
        params,
        no_disease,
    )
    bor = confirmed if options.use_confirmed_response else unconfirmed
    measurable = (
        assessment is not None
        and has_baseline
        and assessment.baseline.target_count > 0
        and assessment.baseline.sum_of_diameters_mm is not None
    )
    in_population = measurable if options.population is Population.MEASURABLE else True
    progression = _progression_date(
        in_window, left_treatment=new_therapy is not None or death is not None
    )
    pfs = derive_pfs(
        has_baseline=has_baseline,
        first_dose=first_dose,
        adequate_dates=adequate_dates,
        progression_date=progression,
        death_date=death,
        new_therapy_date=new_therapy,
        options=options,
    )
    # Without a death TTP is PFS itself (derive_ttp would derive it again).
    ttp = (
        pfs
        if death is None
        else derive_ttp(
            has_baseline=has_baseline,
            first_dose=first_dose,
            adequate_dates=adequate_dates,
            progression_date=progression,
            death_date=death,
            new_therapy_date=new_therapy,
            options=options,
        )
    )
    responder = in_population and endpoint_response(bor.response) in _RESPONDERS
    dor = (
        _dor(bor, pfs, response_window, params, options.use_confirmed_response)
        if responder
        else None
    )
    first_response_date, best_change_pct = _first_response_and_best_change(
        response_window
    )
    return SubjectEndpoints(
        patient_id=clinical.patient_id,
        first_dose_date=first_dose,
        has_reading=reading is not None,
        has_baseline=has_baseline,
        measurable_disease=measurable,
        in_response_population=in_population,
        baseline_sum_mm=(
            assessment.baseline.sum_of_diameters_mm if assessment is not None else None
        ),
        visits=window.visits,
        bor_confirmed=confirmed,
        bor_unconfirmed=unconfirmed,
        bor=bor,
        bor_missing=not response_window and not no_disease,
        first_response_date=first_response_date,
        progression_date=progression,
        death_date=death,
        new_therapy_date=new_therapy,
        best_change_pct=best_change_pct,
        responder=responder,
        disease_control=in_population and _disease_control(bor, options),
        clinical_benefit=in_population
        and _clinical_benefit(
            bor,
            dor,
            _stable_disease_end(response_window, progression, new_therapy),
            first_dose,
            options,
        ),
        pfs=pfs,
        ttp=ttp,
        os=derive_os(
            first_dose=first_dose,
            cutoff=cutoff,
            death_date=clinical.death_date,
            last_known_alive_date=clinical.last_known_alive_date,
            last_scan_date=_last_scan_date(reading, first_dose),
        ),
        dor=dor,
        notes=tuple(notes),
    )


class _FollowUps(NamedTuple):
    """The follow-ups of one patient that the endpoints use, found in one pass.

    ``in_window``: read, first dose ≤ date ≤ cut-off (``visits``: the same as
    plot points); ``response_window``: of those, on/before a new therapy;
    ``adequate_dates``: ``in_window``'s not NE; ``read_after_dose``: every read
    follow-up on/after the first dose, in the window or not.
    """

    in_window: list[TimepointAssessment]
    visits: VisitPoints
    response_window: list[TimepointAssessment]
    adequate_dates: list[datetime.date]
    read_after_dose: int


def _follow_ups(
    assessment: Assessment | None,
    first_dose: datetime.date,
    cutoff: datetime.date,
    new_therapy: datetime.date | None,
    *,
    has_baseline: bool,
) -> _FollowUps:
    """The windows of :class:`_FollowUps` in one pass (issue 23: once per list).

    A follow-up not read is no assessment: no response, not adequate, no event
    (README "Not read"); its scan date still counts for OS (:func:`derive_os`).
    Without a baseline no follow-up is in a window, yet ``read_after_dose``
    counts them.
    """
    timepoints = assessment.timepoints if assessment is not None else ()
    read = [
        timepoint
        for timepoint in timepoints
        if timepoint.overall_response is not None and timepoint.date >= first_dose
    ]
    in_window = (
        [timepoint for timepoint in read if timepoint.date <= cutoff]
        if has_baseline
        else []
    )
    if not in_window:
        return _FollowUps([], NO_VISIT_POINTS, [], [], len(read))
    dates = tuple([timepoint.date for timepoint in in_window])
    responses = [
        response
        for timepoint in in_window
        if (response := timepoint.overall_response) is not None  # all are: read
    ]
    visits = VisitPoints(
        tuple([timepoint.visit for timepoint in in_window]),
        dates,
        tuple([(date - first_dose).days + 1 for date in dates]),
        tuple([timepoint.change_from_baseline_pct for timepoint in in_window]),
        tuple([_RESPONSE_CODE[response] for response in responses]),
    )
    adequate_dates = [
        date
        for date, response in zip(dates, responses, strict=True)
        if response is not Response.NE
    ]
    response_window = (
        in_window
        if new_therapy is None
        else [timepoint for timepoint in in_window if timepoint.date <= new_therapy]
    )
    return _FollowUps(in_window, visits, response_window, adequate_dates, len(read))


def _first_response_and_best_change(
    response_window: Sequence[TimepointAssessment],
) -> tuple[datetime.date | None, float | None]:
    """The first CR/PR's date and the best (lowest) change from baseline, in %."""
    first_response: datetime.date | None = None
    best_change: float | None = None
    for timepoint in response_window:
        if (
            first_response is None
            and endpoint_response(_overall(timepoint)) in _RESPONDERS
        ):
            first_response = timepoint.date
        change = timepoint.change_from_baseline_pct
        if change is not None and (best_change is None or change < best_change):
            best_change = change
    return first_response, best_change


def _last_scan_date(
    reading: Reading | None, first_dose: datetime.date
) -> datetime.date | None:
    """The last scan on/after the first dose, read or not (OS: known alive)."""
    if reading is None:
        return None
    return max(
        (t.date for t in reading.timepoints if first_dose <= t.date), default=None
    )


def _best_overall_responses(
    reading: Reading | None,
    assessment: Assessment | None,
    follow_ups: _FollowUps,
    first_dose: datetime.date,
    params: ResponseParameters,
    no_disease: bool,
) -> tuple[BestOverallResponse, BestOverallResponse]:
    """BOR over the analysis window, reusing the assessment's when it is the same.

    ``assess`` derives BOR from every read follow-up on/after the reading's first
    dose; when the clinical first dose is the same and neither the cut-off nor a
    new therapy removed a follow-up, that is exactly this window, so the
    derivation is not repeated (a third of the cost for 10,000 patients).
    """
    response_window = follow_ups.response_window
    if (
        reading is not None
        and assessment is not None
        and reading.first_dose_date == first_dose
        and len(response_window) == follow_ups.read_after_dose
    ):
        return (
            assessment.best_overall_response_confirmed,
            assessment.best_overall_response_unconfirmed,
        )
    if reading is not None and reading.criteria is not Criteria.RECIST_1_1:
        # The criteria's own derivation (iBOR, say) on the window's visits.
        last = response_window[-1].date if response_window else first_dose
        window = dataclasses.replace(
            reading,
            first_dose_date=first_dose,
            timepoints=tuple(
                t for t in reading.timepoints if t.is_baseline or t.date <= last
            ),
        )
        again = assess(window)
        return (
            again.best_overall_response_confirmed,
            again.best_overall_response_unconfirmed,
        )
    return best_overall_responses(
        _events(response_window),
        reference_date=first_dose,
        params=params,
        no_disease=no_disease,
    )


def _events(response_window: Sequence[TimepointAssessment]) -> list[ResponseEvent]:
    """The window's follow-ups as the BOR derivation sees them (G1–G6).

    iRECIST codes count as their RECIST category (:func:`endpoint_response`);
    the target and non-target categories go along (G3, Table 3 footnote).
    """
    mapped = _ENDPOINT_RESPONSE.get  # endpoint_response without a call per code
    events: list[ResponseEvent] = []
    for timepoint in response_window:
        overall = _overall(timepoint)
        target = timepoint.target_response
        non_target = timepoint.non_target_response
        events.append(
            ResponseEvent(
                timepoint.visit,
                timepoint.date,
                mapped(overall, overall),
                None if target is None else mapped(target, target),
                None if non_target is None else mapped(non_target, non_target),
            )
        )
    return events


def derive_pfs(
    *,
    has_baseline: bool,
    first_dose: datetime.date,
    adequate_dates: Sequence[datetime.date],
    progression_date: datetime.date | None,
    death_date: datetime.date | None,
    new_therapy_date: datetime.date | None,
    options: EndpointOptions,
) -> TimeToEvent:
    """PFS of one patient by the censoring rows in the module docstring.

    Parameters
    ----------
    has_baseline
        Whether a baseline tumour assessment exists (row 1).
    first_dose
        Origin (TRTSDT).
    adequate_dates
        Dates of the adequate (not NE) follow-ups, first dose ≤ date ≤ cut-off,
        ascending; the PD visit is one of them.
    progression_date
        Date of the first PD visit on/before the cut-off, if any.
    death_date, new_therapy_date
        On/before the cut-off, else ``None``.
    options
        Interval, window, missed-assessment threshold and the row 5/6 switches.
    """

    def censor(date: datetime.date, cnsr: int, reason: str) -> TimeToEvent:
        return TimeToEvent(
            start_date=first_dose, end_date=date, event=False, cnsr=cnsr, reason=reason
        )

    if not has_baseline:
        return censor(
            first_dose, PfsCensoring.NO_BASELINE, "no baseline tumour assessment"
        )
    candidates = [
        (date, kind)
        for date, kind in ((progression_date, "PD"), (death_date, "death"))
        if date is not None
    ]
    event_date, event_kind = min(candidates) if candidates else (None, "")
    if (
        options.censor_at_new_therapy
        and new_therapy_date is not None
        and (event_date is None or new_therapy_date < event_date)
    ):
        before = [d for d in adequate_dates if d <= new_therapy_date]
        last = before[-1] if before else first_dose
        return censor(
            last,
            PfsCensoring.NEW_THERAPY,
            f"new anticancer therapy {new_therapy_date.isoformat()} before PD or "
            "death; censored at the last adequate assessment before it",
        )
    gap = options.missed_assessment_gap_days
    if event_date is not None:
        before = [d for d in adequate_dates if d < event_date]
        reference = before[-1] if before else first_dose
        if options.censor_after_missed_assessments and (
            (event_date - reference).days > gap
        ):
            if not before:
                return censor(
                    first_dose,
                    PfsCensoring.NO_ADEQUATE_ASSESSMENT,
                    f"no adequate assessment and {event_kind} more than {gap} days "
                    "after first dose",
                )
            return censor(
                reference,
                PfsCensoring.MISSED_ASSESSMENTS,
                f"{event_kind} {event_date.isoformat()} after ≥ "
                f"{options.missed_assessments} missed assessments (gap "
                f"{(event_date - reference).days} > {gap} days)",
            )
        return TimeToEvent(
            start_date=first_dose,
            end_date=event_date,
            event=True,
            cnsr=CNSR_EVENT,
            reason=(
                "progression (PD visit)" if event_kind == "PD" else "death without PD"
            ),
        )
    if not adequate_dates:
        return censor(
            first_dose,
            PfsCensoring.NO_ADEQUATE_ASSESSMENT,
            "no adequate post-baseline assessment",
        )
    return censor(
        adequate_dates[-1],
        PfsCensoring.NO_EVENT,
        "alive without PD; censored at the last adequate assessment",
    )


def derive_ttp(
    *,
    has_baseline: bool,
    first_dose: datetime.date,
    adequate_dates: Sequence[datetime.date],
    progression_date: datetime.date | None,
    death_date: datetime.date | None,
    new_therapy_date: datetime.date | None,
    options: EndpointOptions,
) -> TimeToEvent:
    """Time to progression of one patient: PFS without death as an event.

    The parameters are those of :func:`derive_pfs`. Progression is the event, dated
    as for PFS; PFS rows 1, 2, 5 and 6 censor the same way; a death without
    progression is censored at the last adequate assessment (CNSR 6), or at the
    first dose when there is none (CNSR 2, no adequate assessment), as the FDA's
    2018 endpoints guidance defines TTP.
    """
    ttp = derive_pfs(
        has_baseline=has_baseline,
        first_dose=first_dose,
        adequate_dates=adequate_dates,
        progression_date=progression_date,
        death_date=None,
        new_therapy_date=new_therapy_date,
        options=options,
    )
    if death_date is None or ttp.cnsr != PfsCensoring.NO_EVENT:
        return ttp
    return dataclasses.replace(
        ttp,
        cnsr=TtpCensoring.DEATH_WITHOUT_PROGRESSION,
        reason=(
            f"death {death_date.isoformat()} without progression; censored at the "
            "last adequate assessment"
        ),
    )


def derive_os(
    *,
    first_dose: datetime.date,
    cutoff: datetime.date,
    death_date: datetime.date | None,
    last_known_alive_date: datetime.date | None,
    last_scan_date: datetime.date | None,
) -> TimeToEvent:
    """OS of one patient (module docstring); dates as recorded, before truncation."""
    if death_date is not None and death_date <= cutoff:
        return TimeToEvent(
            start_date=first_dose,
            end_date=death_date,
            event=True,
            cnsr=CNSR_EVENT,
            reason="death",
        )
    alive = [d for d in (last_known_alive_date, last_scan_date) if d is not None]
    if death_date is not None:  # died after the cut-off: alive at the cut-off
        alive.append(cutoff)
    alive = [min(d, cutoff) for d in alive if d >= first_dose]
    if not alive or max(alive) == first_dose:
        return TimeToEvent(
            start_date=first_dose,
            end_date=first_dose,
            event=False,
            cnsr=OsCensoring.NO_FOLLOW_UP,
            reason="no follow-up after first dose",
        )
    return TimeToEvent(
        start_date=first_dose,
        end_date=max(alive),
        event=False,
        cnsr=OsCensoring.ALIVE,
        reason="alive at last contact (or cut-off)",
    )


def _dor(
    bor: BestOverallResponse,
    pfs: TimeToEvent,
    response_window: Sequence[TimepointAssessment],
    params: ResponseParameters,
    confirmed: bool,
) -> TimeToEvent | None:
    """Duration of response: from the first CR/PR (later confirmed) to PFS's end.

    RECIST 1.1 §4.4.1, STANDARDS.md 3.5: from when the criteria for CR or PR
    are first met, whichever is first recorded — a PR later confirmed (by a CR,
    say) starts it, not the CR the BOR names
    (:func:`recist_app.recist.response_start`).
    """
    started = response_start(
        _events(response_window), params=params, confirmation=confirmed
    )
    start = started.date if started is not None else bor.date
    if start is None:
        return None
    return TimeToEvent(
        start_date=start,
        end_date=max(pfs.end_date, start),
        event=pfs.event,
        cnsr=pfs.cnsr,
        reason=pfs.reason,
    )


def _progression_date(
    in_window: Sequence[TimepointAssessment], *, left_treatment: bool
) -> datetime.date | None:
    """Date of the first PD visit; for iRECIST, of the iUPD that iCPD confirmed.

    ``left_treatment``: a new therapy or death is recorded; an iUPD that is the
    last assessment then counts as progression (module docstring).
    """
    unconfirmed: datetime.date | None = None
    for timepoint in in_window:
        response = timepoint.overall_response
        if response is Response.PD:
            return timepoint.date
        if response is Response.ICPD:
            return unconfirmed or timepoint.date
        if response is Response.IUPD:
            unconfirmed = unconfirmed or timepoint.date
        elif response is not Response.NE:
            unconfirmed = None  # H3: iSD/iPR/iCR reset the pending progression
    return unconfirmed if left_treatment else None


_DISEASE_CONTROL = frozenset({Response.CR, Response.PR, Response.SD})
_DISEASE_CONTROL_ALL_TREATED = _DISEASE_CONTROL | {Response.NON_CR_NON_PD}


def _disease_control(bor: BestOverallResponse, options: EndpointOptions) -> bool:
    control = (
        _DISEASE_CONTROL_ALL_TREATED
        if options.population is Population.ALL_TREATED
        else _DISEASE_CONTROL
    )
    return endpoint_response(bor.response) in control


def _clinical_benefit(
    bor: BestOverallResponse,
    dor: TimeToEvent | None,
    stable_until: datetime.date | None,
    first_dose: datetime.date,
    options: EndpointOptions,
) -> bool:
    """CBR by ``options.cbr_definition`` (STANDARDS.md 3.3; README, CBR).

    ``response-6m``: a responder whose duration of response (days, end − start
    + 1, as ADTTE's AVAL) is at least ``cbr_response_min_days`` (183), ended by
    PD or death or censored after that long. ``cr-pr-sd-24w``: a responder, or
    BOR SD whose stable disease lasted ``cbr_sd_min_days`` (168): RECIST 1.1
    §4.4.2, SD lasts from the start of treatment until progression criteria are
    met (``stable_until``; without progression, the last adequate assessment),
    days counted end − start + 1. NON-CR/NON-PD is not SD (RECIST 1.1 Table 2
    footnote) and counts the same way only with ``cbr_counts_non_cr_non_pd``.
    """
    if options.cbr_definition is CbrDefinition.RESPONSE_6_MONTHS:
        return dor is not None and dor.days >= options.cbr_response_min_days
    category = endpoint_response(bor.response)
    if category in _RESPONDERS:
        return True
    if category is Response.NON_CR_NON_PD:
        if not options.cbr_counts_non_cr_non_pd:
            return False
    elif category is not Response.SD:
        return False
    if stable_until is None:
        return False
    return (stable_until - first_dose).days + 1 >= options.cbr_sd_min_days


def _stable_disease_end(
    response_window: Sequence[TimepointAssessment],
    progression: datetime.date | None,
    new_therapy: datetime.date | None,
) -> datetime.date | None:
    """Until when stable disease lasted (RECIST 1.1 §4.4.2).

    From the start of treatment until the criteria for progression are met: the
    progression date (PFS's: the PD visit, or under iRECIST the iUPD that iCPD
    confirmed) when it falls before any new anticancer therapy; otherwise SD is
    documented up to the last adequate assessment of the window.
    """
    if progression is not None and (new_therapy is None or progression <= new_therapy):
        return progression
    adequate = [t.date for t in response_window if _adequate(t)]
    return adequate[-1] if adequate else None


def _adequate(timepoint: TimepointAssessment) -> bool:
    return timepoint.overall_response is not Response.NE


def _overall(timepoint: TimepointAssessment) -> Response:
    """The overall response of a follow-up that was read.

    Only read follow-ups reach the endpoints (:func:`derive_subject` leaves the
    others out); one without a response here is a bug, not bad input.
    """
    response = timepoint.overall_response
    if response is None:
        raise EndpointError(
            f"visit {timepoint.visit}: not read, yet counted as an assessment"
        )
    return response


def _on_or_before(
    value: datetime.date | None, cutoff: datetime.date
) -> datetime.date | None:
    return value if value is not None and value <= cutoff else None
