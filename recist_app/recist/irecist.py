"""iRECIST for immunotherapy (Seymour et al. 2017; docs/rules.md H1–H5).

RECIST 1.1 applies until progression (H1), which becomes *unconfirmed* progression,
iUPD. It is confirmed as iCPD (H2) by an assessment at least
``irecist_confirmation_min_days`` after the first iUPD and at most
``irecist_confirmation_max_days`` after the last assessment that kept it open (the
iUPD itself, or a later one that was still iUPD), that shows any of:

- the target sum ≥ 5 mm above its value at the iUPD, when targets caused it (the
  targets assessed at the iUPD compared one by one, so an iUPD found under B4 needs
  ≥ 5 mm more like any other; a target not assessed now counts 0 mm);
- a further increase of non-target disease (state ``further_increase``), when
  non-targets caused it; ``unequivocal_progression`` again means unchanged;
- the new-lesion target sum ≥ 5 mm above its value at the iUPD, any increase of a
  new-lesion non-target, or an additional unequivocal new lesion;
- RECIST 1.1 progression in a category that was not progressing at the iUPD.

Growth is measured against the iUPD, so increases add up over iUPD visits (iRECIST
FAQ, "sequential increases are additive"), and tested on unrounded diameters
(integer micrometres). A scan earlier than the minimum is disregarded (FAQ: it
neither confirms nor resets); a scan later than the window cannot confirm and is
judged afresh, so it may be a new iUPD. Without a trigger the iUPD stays open while
any category still progresses; an NE assessment neither confirms nor resets it nor
extends the window; iSD, iPR, iCR (or NON-iCR/NON-iUPD) reset it (H3).

New lesions (H4): an equivocal new lesion counts only once it is confirmed, and
then from its first sighting on (E2, back-dated). After a reset the new lesions
identified before are no longer new: they mean progression again only when the
new-lesion targets among them meet RECIST 1.1 PD over their own nadir (≥ 20 % and
≥ 5 mm); a further unseen new lesion is a new iUPD; until they have all gone the
response cannot be iCR.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from recist_app.recist.assessment import (
    NO_DIAMETERS,
    CountedDiameter,
    CountedDiameters,
)
from recist_app.recist.best_response import ResponseEvent, best_overall_response
from recist_app.recist.enums import (
    CountedBasis,
    Criteria,
    NewLesionFinding,
    NonTargetState,
    Response,
)
from recist_app.recist.response import Recist11Rules, mm_to_um

if TYPE_CHECKING:
    from collections.abc import Collection

    from recist_app.recist.assessment import (
        Assessment,
        BestOverallResponse,
        TimepointAssessment,
    )
    from recist_app.recist.model import (
        Lesion,
        NewLesionObservation,
        Reading,
        ResponseParameters,
        TimePoint,
    )
    from recist_app.recist.response import NewLesionConfirmation

__all__ = ["IRecistRules", "new_lesion_targets"]

MAX_NEW_LESION_TARGETS = 5
MAX_NEW_LESION_TARGETS_PER_ORGAN = 2
FURTHER_INCREASE_UM = 5_000  # H2: ≥ 5 mm, on unrounded diameters

_PD = Response.PD
_NE = Response.NE
_TO_I = {
    Response.CR: Response.ICR,
    Response.PR: Response.IPR,
    Response.SD: Response.ISD,
    Response.PD: Response.IUPD,
    Response.NON_CR_NON_PD: Response.NON_ICR_NON_IUPD,
    Response.NE: Response.NE,
    Response.NED: Response.NED,
}
_FROM_I = {
    Response.ICR: Response.CR,
    Response.IPR: Response.PR,
    Response.ISD: Response.SD,
    Response.NON_ICR_NON_IUPD: Response.NON_CR_NON_PD,
    Response.ICPD: Response.PD,
}


def _i(response: Response | None) -> Response | None:
    return None if response is None else _TO_I.get(response, response)


def _exact_mm(value_um: int) -> str:
    """Micrometres as millimetres without rounding away what decided a threshold."""
    return f"{value_um / 1000:.3f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class _Unconfirmed:
    """An open iUPD: what it was measured at, for the triggers of H2.

    ``target_um`` holds the targets assessed at the iUPD, ``new_lesion_um`` every
    new lesion counted there (``None`` when not measured); ``last_visit`` and
    ``last_date`` are the latest assessment that kept it open.
    """

    visit: str
    date: datetime.date
    last_visit: str
    last_date: datetime.date
    target_um: tuple[tuple[str, int], ...]
    new_lesion_um: tuple[tuple[str, int | None], ...]
    categories: frozenset[str]

    @property
    def new_lesion_ids(self) -> frozenset[str]:
        return frozenset(lesion_id for lesion_id, _ in self.new_lesion_um)


class _Visit(NamedTuple):
    """One follow-up as the iRECIST course sees it.

    ``counted`` holds the new lesions that count here (unequivocal, or equivocal
    and confirmed later, E2) with their diameters; ``later`` those of them
    confirmed only at a later visit, with that visit.
    """

    timepoint: TimePoint
    base: TimepointAssessment
    targets_um: dict[str, int | None]
    counted: dict[str, int | None]
    later: dict[str, str]


class _NewLesionView(NamedTuple):
    """The new lesions of one visit against those identified before a reset."""

    fresh: tuple[str, ...]
    known_seen: tuple[str, ...]
    known_sum_um: int | None
    known_progressed: bool


def _size_um(lesion: Lesion, observation: NewLesionObservation) -> int | None:
    """A new lesion's diameter: nodes the short axis, others the long axis."""
    size_mm = (
        observation.short_axis_mm
        if lesion.is_lymph_node
        else (observation.long_axis_mm)
    )
    return None if size_mm is None else mm_to_um(size_mm)


def new_lesion_targets(
    reading: Reading, counted: Collection[str] | None = None
) -> tuple[str, ...]:
    """New lesions chosen as new-lesion targets (H4), in order of first sighting.

    A new lesion is a candidate when it is measurable when first seen (non-nodal
    long axis ≥ 10 mm, node short axis ≥ 15 mm); at most 5 are chosen, at most 2
    per organ (all nodes one organ). ``counted`` limits the candidates to the new
    lesions that count (unequivocal, or equivocal and confirmed later, E2).
    """
    lesions = {lesion.lesion_id: lesion for lesion in reading.lesions}
    chosen: list[str] = []
    seen: set[str] = set()
    per_organ: dict[str, int] = {}
    for timepoint in reading.follow_ups:
        for observation in timepoint.new_lesions:
            lesion = lesions[observation.lesion_id]
            if counted is not None and lesion.lesion_id not in counted:
                continue
            if lesion.lesion_id in seen or len(chosen) >= MAX_NEW_LESION_TARGETS:
                continue
            seen.add(lesion.lesion_id)  # judged at its first sighting only
            size_mm = (
                observation.short_axis_mm
                if lesion.is_lymph_node
                else observation.long_axis_mm
            )
            minimum_mm = 15.0 if lesion.is_lymph_node else 10.0
            if size_mm is None or size_mm < minimum_mm:
                continue
            organ = lesion.organ_group
            if per_organ.get(organ, 0) >= MAX_NEW_LESION_TARGETS_PER_ORGAN:
                continue
            per_organ[organ] = per_organ.get(organ, 0) + 1
            chosen.append(lesion.lesion_id)
    return tuple(chosen)


def _new_lesion_sum_um(
    timepoint: TimePoint, targets: tuple[str, ...], lesions: dict[str, Lesion]
) -> tuple[int, CountedDiameters]:
    """The new-lesion target sum (H4) and what each target seen here counted.

    Nodes count the short axis, other lesions the long axis; a new-lesion target
    seen without that diameter counts nothing (``axis_not_measured``).
    """
    total = 0
    diameters: list[CountedDiameter] = []
    for observation in timepoint.new_lesions:
        lesion_id = observation.lesion_id
        if lesion_id not in targets:
            continue
        if lesions[lesion_id].is_lymph_node:
            size_mm, basis = observation.short_axis_mm, CountedBasis.SHORT_AXIS
        else:
            size_mm, basis = observation.long_axis_mm, CountedBasis.LONG_AXIS
        if size_mm is None:
            diameters.append(
                CountedDiameter(lesion_id, None, CountedBasis.AXIS_NOT_MEASURED)
            )
            continue
        size_um = mm_to_um(size_mm)
        total += size_um
        diameters.append(CountedDiameter(lesion_id, size_um, basis))
    return total, CountedDiameters.of(diameters) if diameters else NO_DIAMETERS


def _categories(base: TimepointAssessment, view: _NewLesionView) -> frozenset[str]:
    """The categories progressing at an iUPD (H2 tells them apart)."""
    categories = set()
    if base.target_response is _PD:
        categories.add("target")
    if base.non_target_response is _PD:
        categories.add("non-target")
    if view.fresh or view.known_progressed or not categories:
        categories.add("new lesions")
    return frozenset(categories)


@dataclass(slots=True)
class _Course:
    """The iUPD → iCPD / reset course across the follow-ups (H1–H4)."""

    rules: IRecistRules
    params: ResponseParameters
    nl_targets: tuple[str, ...]
    pending: _Unconfirmed | None = None
    confirmed: bool = False
    known: frozenset[str] = frozenset()
    known_nadir_um: int | None = None

    def step(self, visit: _Visit) -> tuple[Response, tuple[str, ...]]:
        """The iRECIST response of one follow-up and the reasons it adds."""
        view = self._view(visit)
        known_before = self.known
        result: tuple[Response, tuple[str, ...]]
        if self.confirmed:
            result = Response.ICPD, ("progression already confirmed (iCPD)",)
        elif self.pending is None:
            result = self._open(visit, view)
        else:
            result = self._follow(visit, view, self.pending)
        known_sum_um = view.known_sum_um
        if self.known is known_before and known_sum_um is not None:
            # H3: the nadir of the new lesions identified before a reset (a reset
            # at this visit has just set it from this visit)
            nadir_um = self.known_nadir_um
            self.known_nadir_um = (
                known_sum_um if nadir_um is None else min(nadir_um, known_sum_um)
            )
        return result

    # ------------------------------------------------------------- new lesions
    def _view(self, visit: _Visit) -> _NewLesionView:
        known = self.known
        fresh = tuple(lid for lid in visit.counted if lid not in known)
        known_seen = tuple(lid for lid in visit.counted if lid in known)
        known_sum_um = self._known_sum_um(visit)
        progressed = (
            known_sum_um is not None
            and self.known_nadir_um is not None
            and self.rules.is_progression(
                known_sum_um, self.known_nadir_um, self.params
            )
        )
        return _NewLesionView(fresh, known_seen, known_sum_um, progressed)

    def _known_sum_um(self, visit: _Visit) -> int | None:
        """Sum of the known new-lesion targets; one gone counts 0 (H3, C6)."""
        targets = [lid for lid in self.nl_targets if lid in self.known]
        if not targets:
            return None
        total = 0
        for lesion_id in targets:
            if lesion_id not in visit.counted:
                continue
            size_um = visit.counted[lesion_id]
            if size_um is None:
                return None  # seen but not measured: cannot be judged
            total += size_um
        return total

    def _recist_overall(
        self, visit: _Visit, view: _NewLesionView
    ) -> tuple[Response, str | None]:
        """RECIST 1.1's overall response, new lesions judged the iRECIST way.

        A new lesion counts from its first sighting once confirmed (E2); those
        identified before a reset count only when their targets meet PD over
        their nadir (H3), and while any is seen the response is not CR.
        """
        base = visit.base
        if not visit.counted and not self.known:
            # only read visits reach the course (A8), and they all have a response
            return base.overall_response or Response.NE, None
        finding = (
            NewLesionFinding.UNEQUIVOCAL
            if view.fresh or view.known_progressed
            else NewLesionFinding.NONE
        )
        overall, why = self.rules.combine_overall(
            base.target_response, base.non_target_response, finding
        )
        if view.known_seen:
            nadir = self.known_nadir_um
            judged = (
                f"new-lesion targets {_exact_mm(view.known_sum_um)} mm against "
                f"their nadir {_exact_mm(nadir)} mm"
                if view.known_sum_um is not None and nadir is not None
                else "no new-lesion target to measure"
            )
            why = (
                f"new lesion {', '.join(view.known_seen)} identified before the "
                f"reset: {judged}"
                + (" → PD" if view.known_progressed else ", not new progression")
                + f" (H3); {why}"
            )
            if overall is Response.CR:
                overall = (
                    Response.PR
                    if base.target_response is not None
                    else Response.NON_CR_NON_PD
                )
                why += f"; not iCR while new lesions are seen → {overall} (H3)"
        if overall is base.overall_response:
            return overall, None
        return overall, why

    # ------------------------------------------------------------- the course
    def _open(
        self, visit: _Visit, view: _NewLesionView
    ) -> tuple[Response, tuple[str, ...]]:
        """No iUPD open: RECIST 1.1 decides (H1), progression is iUPD."""
        overall, why = self._recist_overall(visit, view)
        shown = () if why is None else (why,)
        if overall is not _PD:
            i_overall = _i(overall) or _NE
            return i_overall, (*shown, f"RECIST 1.1 {overall} → {i_overall} (H1)")
        categories = _categories(visit.base, view)
        self.pending = _Unconfirmed(
            visit=visit.timepoint.visit,
            date=visit.timepoint.date,
            last_visit=visit.timepoint.visit,
            last_date=visit.timepoint.date,
            target_um=tuple(
                (lesion_id, value_um)
                for lesion_id, value_um in visit.targets_um.items()
                if value_um is not None
            ),
            new_lesion_um=tuple(visit.counted.items()),
            categories=categories,
        )
        params = self.params
        return Response.IUPD, (
            *shown,
            f"RECIST 1.1 PD ({', '.join(sorted(categories))}) → iUPD, unconfirmed "
            f"until an assessment {params.irecist_confirmation_min_days}–"
            f"{params.irecist_confirmation_max_days} days later (H1, H2)",
        )

    def _follow(
        self, visit: _Visit, view: _NewLesionView, pending: _Unconfirmed
    ) -> tuple[Response, tuple[str, ...]]:
        """An iUPD is open: confirm it, keep it open, or reset (H2, H3)."""
        params = self.params
        date = visit.timepoint.date
        days = (date - pending.date).days
        minimum = params.irecist_confirmation_min_days
        maximum = params.irecist_confirmation_max_days
        if days < minimum:
            # iRECIST FAQ: scans before the minimum after the first iUPD are
            # disregarded (neither confirm nor reset) and repeated in the window.
            return Response.IUPD, (
                f"{days} days after iUPD at {pending.visit} (< {minimum}): "
                f"disregarded, iUPD stands until an assessment {minimum}–{maximum} "
                "days after it (H2)",
            )
        gap = (date - pending.last_date).days
        if gap > maximum:
            return self._lapse(visit, view, pending, gap)
        triggers = self._triggers(visit, view, pending)
        if triggers:
            self.pending = None
            self.confirmed = True
            return Response.ICPD, (
                f"{'; '.join(triggers)} → iCPD, confirming iUPD at {pending.visit} "
                f"({days} days later) (H2)",
            )
        base = visit.base
        overall, why = self._recist_overall(visit, view)
        if (
            base.target_response is _PD
            or base.non_target_response is _PD
            or not pending.new_lesion_ids.isdisjoint(visit.counted)
            or overall is _PD
        ):
            self.pending = dataclasses.replace(
                pending, last_visit=visit.timepoint.visit, last_date=date
            )
            return Response.IUPD, (
                f"no further increase since iUPD at {pending.visit}: iUPD stays "
                "unconfirmed (H2)",
            )
        shown = () if why is None else (why,)
        if overall is _NE:
            return _NE, (
                *shown,
                f"NE after iUPD at {pending.visit}: neither confirms nor resets it "
                "(H3)",
            )
        self._reset(pending, visit)
        i_overall = _i(overall) or _NE
        return i_overall, (
            *shown,
            f"no progression left after iUPD at {pending.visit}: status resets → "
            f"{i_overall}; a later iUPD needs its own confirmation (H3)",
        )

    def _lapse(
        self, visit: _Visit, view: _NewLesionView, pending: _Unconfirmed, gap: int
    ) -> tuple[Response, tuple[str, ...]]:
        """Too late to confirm (H2): this visit is judged afresh."""
        self.pending = None
        overall, reasons = self._open(visit, view)
        if self.pending is None and overall is not _NE:
            self._reset(pending, visit)
        since = (
            f"iUPD at {pending.visit}"
            if pending.last_visit == pending.visit
            else f"{pending.last_visit}, still iUPD"
        )
        return overall, (
            f"{gap} days after {since} (> {self.params.irecist_confirmation_max_days})"
            f": too late to confirm iUPD at {pending.visit} (H2)",
            *reasons,
        )

    def _reset(self, pending: _Unconfirmed, visit: _Visit) -> None:
        """H3: the iUPD lapses; its new lesions are no longer new."""
        self.pending = None
        self.known = self.known | pending.new_lesion_ids | frozenset(visit.counted)
        self.known_nadir_um = self._known_sum_um(visit)

    def _triggers(
        self, visit: _Visit, view: _NewLesionView, pending: _Unconfirmed
    ) -> list[str]:
        """What confirms ``pending`` at this visit (H2), as reasons."""
        base = visit.base
        triggers: list[str] = []
        if "target" in pending.categories:
            # The targets assessed at the iUPD, one by one (B4 iUPD too); one not
            # assessed now counts 0 mm, so the growth is never overstated.
            growth_um = sum(
                (visit.targets_um.get(lesion_id) or 0) - value_um
                for lesion_id, value_um in pending.target_um
            )
            if growth_um >= FURTHER_INCREASE_UM:
                triggers.append(
                    f"target sum +{_exact_mm(growth_um)} mm since iUPD (≥ 5 mm)"
                )
        elif base.target_response is _PD:
            triggers.append("target lesions now meet PD (C3)")
        if "non-target" in pending.categories:
            increased = [
                a.lesion_id
                for a in visit.timepoint.non_target
                if a.state is NonTargetState.FURTHER_INCREASE
            ]
            if increased:
                triggers.append(
                    f"further increase of non-target {', '.join(increased)}"
                )
        elif base.non_target_response is _PD:
            triggers.append("non-target lesions now meet PD (D3)")
        triggers.extend(self._new_lesion_triggers(visit, view, pending))
        return triggers

    def _new_lesion_triggers(
        self, visit: _Visit, view: _NewLesionView, pending: _Unconfirmed
    ) -> list[str]:
        triggers: list[str] = []
        additional = [
            lesion_id
            for lesion_id in view.fresh
            if lesion_id not in pending.new_lesion_ids
        ]
        if additional:
            named = [
                f"{lesion_id} (confirmed at {visit.later[lesion_id]}, dated back: E2)"
                if lesion_id in visit.later
                else lesion_id
                for lesion_id in additional
            ]
            triggers.append(f"additional new lesion {', '.join(named)}")
        reference = [
            (lesion_id, value_um)
            for lesion_id, value_um in pending.new_lesion_um
            if value_um is not None
        ]
        targets = [(lid, um) for lid, um in reference if lid in self.nl_targets]
        if targets:
            growth_um = sum(
                (visit.counted.get(lesion_id) or 0) - value_um
                for lesion_id, value_um in targets
            )
            if growth_um >= FURTHER_INCREASE_UM:
                triggers.append(
                    f"new-lesion target sum +{_exact_mm(growth_um)} mm (≥ 5 mm, H4)"
                )
        for lesion_id, value_um in reference:
            now_um = visit.counted.get(lesion_id)
            if lesion_id in self.nl_targets or now_um is None or now_um <= value_um:
                continue
            # iRECIST FAQ: any increase of a new-lesion non-target confirms
            triggers.append(
                f"new-lesion non-target {lesion_id} grew {_exact_mm(value_um)} → "
                f"{_exact_mm(now_um)} mm"
            )
        if view.known_progressed and pending.new_lesion_ids.isdisjoint(view.known_seen):
            triggers.append("new-lesion targets identified before now meet PD (H3)")
        return triggers


class IRecistRules(Recist11Rules):
    """iRECIST: RECIST 1.1 until progression, then iUPD → iCPD or reset."""

    criteria: Criteria = Criteria.IRECIST

    def assess(self, reading: Reading) -> Assessment:
        """RECIST 1.1 per visit (H1), then the iUPD/iCPD course and the iBOR."""
        recist = super().assess(reading)
        params = reading.params
        lesions = {lesion.lesion_id: lesion for lesion in reading.lesions}
        follow_ups = reading.follow_ups
        confirmations: dict[str, NewLesionConfirmation] = {}
        nl_targets: tuple[str, ...] = ()
        if any(timepoint.new_lesions for timepoint in follow_ups):
            confirmations = self.new_lesion_confirmations(reading)
            nl_targets = new_lesion_targets(reading, confirmations)
        baseline = reading.baseline
        reference_date = reading.first_dose_date or (
            baseline.date if baseline else datetime.date.min
        )
        no_disease = recist.baseline.overall_response is Response.NED
        course = _Course(rules=self, params=params, nl_targets=nl_targets)
        events: list[ResponseEvent] = []
        results: list[TimepointAssessment] = []
        for index, (timepoint, base) in enumerate(
            zip(follow_ups, recist.timepoints, strict=True)
        ):
            if not base.is_read:  # not read: no response and no event, as in H1
                so_far = self._ibor(events, reference_date, reading, no_disease)
                results.append(
                    dataclasses.replace(
                        base, best_overall_response_so_far=so_far.response
                    )
                )
                continue
            nl_sum_um, nl_diameters = _new_lesion_sum_um(timepoint, nl_targets, lesions)
            visit = _Visit(
                timepoint=timepoint,
                base=base,
                targets_um=dict(
                    zip(
                        base.target_diameters.lesion_ids,
                        base.target_diameters.diameters_um,
                        strict=True,
                    )
                ),
                counted={
                    o.lesion_id: _size_um(lesions[o.lesion_id], o)
                    for o in timepoint.new_lesions
                    if o.lesion_id in confirmations
                },
                later={
                    o.lesion_id: confirmations[o.lesion_id].visit
                    for o in timepoint.new_lesions
                    if o.lesion_id in confirmations
                    and confirmations[o.lesion_id].follow_up > index
                },
            )
            overall, added = course.step(visit)
            on_treatment = timepoint.date >= reference_date
            if on_treatment and not (events and events[-1].response is _PD):
                events.append(
                    ResponseEvent(
                        timepoint.visit,
                        timepoint.date,
                        _FROM_I.get(overall, overall),
                        base.target_response,  # RECIST 1.1 categories (G3)
                        base.non_target_response,
                    )
                )
            so_far = self._ibor(events, reference_date, reading, no_disease)
            results.append(
                dataclasses.replace(
                    base,
                    target_response=_i(base.target_response),
                    non_target_response=_i(base.non_target_response),
                    overall_response=overall,
                    best_overall_response_so_far=so_far.response,
                    new_lesion_sum_mm=round(nl_sum_um / 1000, 1)
                    if nl_targets
                    else None,
                    new_lesion_diameters=nl_diameters,
                    reasons=_merged_reasons(base, added),
                )
            )
        ibor_confirmed = self._ibor(
            events, reference_date, reading, no_disease, confirmation=True
        )
        ibor_unconfirmed = self._ibor(
            events, reference_date, reading, no_disease, confirmation=False
        )
        return dataclasses.replace(
            recist,
            timepoints=tuple(results),
            best_overall_response=(
                ibor_confirmed if params.require_confirmation else ibor_unconfirmed
            ),
            best_overall_response_confirmed=ibor_confirmed,
            best_overall_response_unconfirmed=ibor_unconfirmed,
        )

    @staticmethod
    def _ibor(
        events: list[ResponseEvent],
        reference_date: datetime.date,
        reading: Reading,
        no_disease: bool,
        *,
        confirmation: bool | None = None,
    ) -> BestOverallResponse:
        """IBOR (H5): the RECIST best response over the i-codes.

        An unconfirmed iUPD neither ends the window nor hides a later iCR/iPR/iSD;
        only iCPD (carried as PD in ``events``) ends it.
        """
        params = reading.params
        bor = best_overall_response(
            events,
            reference_date=reference_date,
            params=params,
            no_disease=no_disease,
            confirmation=(
                params.require_confirmation if confirmation is None else confirmation
            ),
        )
        response = _i(bor.response) or Response.NE
        reasons = bor.reasons
        if response is Response.IUPD and any(e.response is Response.PD for e in events):
            response = Response.ICPD
        elif response is Response.NE and any(
            e.response is Response.IUPD for e in events
        ):
            response = Response.IUPD
            reasons = (*reasons, "unconfirmed progression only → iUPD (H5)")
        return dataclasses.replace(bor, response=response, reasons=reasons)


def _merged_reasons(
    base: TimepointAssessment, added: tuple[str, ...]
) -> tuple[str, ...]:
    """RECIST's reasons up to its overall response, then iRECIST's."""
    return (*base.reasons[:-1], *added)
