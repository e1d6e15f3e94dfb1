"""iRECIST for immunotherapy (Seymour et al. 2017; docs/rules.md H1–H5).

RECIST 1.1 applies until progression (H1), which becomes *unconfirmed* progression,
iUPD. The next assessment, within ``irecist_confirmation_min_days`` to
``irecist_confirmation_max_days``, confirms it as iCPD when any trigger of H2 is
met: the target sum grew ≥ 5 mm further, non-targets progressed further, the
new-lesion target sum (NLTD) grew ≥ 5 mm, an additional new lesion appeared, or a
category that was not progressing at iUPD now meets RECIST PD. When nothing
progresses any more the status resets (H3) and the next iUPD needs a new trigger and
a new confirmation, measured against the nadir. New lesions are measured: up to 5
(2 per organ) new-lesion targets, the rest new-lesion non-targets (H4).

Non-target "further increase" after an iUPD is recorded as ``unequivocal_progression``
at the confirming visit; ``present`` there means no further increase.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist_app.recist.assessment import (
    NO_DIAMETERS,
    CountedDiameter,
    CountedDiameters,
)
from recist_app.recist.best_response import ResponseEvent, best_overall_response
from recist_app.recist.enums import CountedBasis, Criteria, NewLesionFinding, Response
from recist_app.recist.response import Recist11Rules, mm_to_um

if TYPE_CHECKING:
    from recist_app.recist.assessment import (
        Assessment,
        BestOverallResponse,
        TimepointAssessment,
    )
    from recist_app.recist.model import Lesion, Reading, TimePoint

__all__ = ["IRecistRules", "new_lesion_targets"]

MAX_NEW_LESION_TARGETS = 5
MAX_NEW_LESION_TARGETS_PER_ORGAN = 2
FURTHER_INCREASE_UM = 5_000  # H2: ≥ 5 mm

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


@dataclass(frozen=True, slots=True)
class _Unconfirmed:
    """What an iUPD was measured at, for the confirmation triggers of H2."""

    visit: str
    date: datetime.date
    target_sum_um: int | None
    new_lesion_sum_um: int
    new_lesion_ids: frozenset[str]
    categories: frozenset[str]


def new_lesion_targets(reading: Reading) -> tuple[str, ...]:
    """New lesions chosen as new-lesion targets (H4), in order of first sighting.

    A new lesion is a candidate when it is measurable when first seen (non-nodal
    long axis ≥ 10 mm, node short axis ≥ 15 mm); at most 5 are chosen, at most 2
    per organ (all nodes one organ).
    """
    lesions = {lesion.lesion_id: lesion for lesion in reading.lesions}
    chosen: list[str] = []
    per_organ: dict[str, int] = {}
    for timepoint in reading.follow_ups:
        for observation in timepoint.new_lesions:
            lesion = lesions[observation.lesion_id]
            if lesion.lesion_id in chosen or len(chosen) >= MAX_NEW_LESION_TARGETS:
                continue
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


class IRecistRules(Recist11Rules):
    """iRECIST: RECIST 1.1 until progression, then iUPD → iCPD or reset."""

    criteria: Criteria = Criteria.IRECIST

    def assess(self, reading: Reading) -> Assessment:
        """RECIST 1.1 per visit (H1), then the iUPD/iCPD course and the iBOR."""
        recist = super().assess(reading)
        params = reading.params
        lesions = {lesion.lesion_id: lesion for lesion in reading.lesions}
        nl_targets = new_lesion_targets(reading)
        baseline = reading.baseline
        reference_date = reading.first_dose_date or (
            baseline.date if baseline else datetime.date.min
        )
        no_disease = recist.baseline.overall_response is Response.NED
        pending: _Unconfirmed | None = None
        confirmed = False
        events: list[ResponseEvent] = []
        results: list[TimepointAssessment] = []
        for timepoint, base in zip(reading.follow_ups, recist.timepoints, strict=True):
            nl_sum_um, nl_diameters = _new_lesion_sum_um(timepoint, nl_targets, lesions)
            if confirmed:
                overall, why = Response.ICPD, "progression already confirmed (iCPD)"
            elif pending is None:
                overall, why, pending = self._before_progression(
                    timepoint, base, nl_sum_um
                )
            else:
                overall, why, pending, confirmed = self._after_progression(
                    timepoint,
                    base,
                    nl_sum_um,
                    pending,
                    params.irecist_confirmation_min_days,
                    params.irecist_confirmation_max_days,
                )
            on_treatment = timepoint.date >= reference_date
            if on_treatment and not (events and events[-1].response is Response.PD):
                events.append(
                    ResponseEvent(
                        timepoint.visit, timepoint.date, _FROM_I.get(overall, overall)
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
                    reasons=(*base.reasons[:-1], why),
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
    def _categories(base: TimepointAssessment) -> frozenset[str]:
        categories = set()
        if base.target_response is Response.PD:
            categories.add("target")
        if base.non_target_response is Response.PD:
            categories.add("non-target")
        if base.new_lesions is NewLesionFinding.UNEQUIVOCAL or (
            base.overall_response is Response.PD and not categories
        ):
            categories.add("new lesions")
        return frozenset(categories)

    def _before_progression(
        self, timepoint: TimePoint, base: TimepointAssessment, nl_sum_um: int
    ) -> tuple[Response, str, _Unconfirmed | None]:
        recist_overall = base.overall_response
        if recist_overall is not Response.PD:
            overall = _i(recist_overall) or Response.NE
            return (
                overall,
                f"RECIST 1.1 {recist_overall.value} → {overall.value} (H1)",
                None,
            )
        categories = self._categories(base)
        pending = _Unconfirmed(
            visit=timepoint.visit,
            date=timepoint.date,
            target_sum_um=(
                None
                if base.sum_of_diameters_mm is None
                else mm_to_um(base.sum_of_diameters_mm)
            ),
            new_lesion_sum_um=nl_sum_um,
            new_lesion_ids=frozenset(o.lesion_id for o in timepoint.new_lesions),
            categories=categories,
        )
        why = (
            f"RECIST 1.1 PD ({', '.join(sorted(categories))}) → iUPD, unconfirmed "
            "until the next assessment (H1, H2)"
        )
        return Response.IUPD, why, pending

    def _after_progression(
        self,
        timepoint: TimePoint,
        base: TimepointAssessment,
        nl_sum_um: int,
        pending: _Unconfirmed,
        min_days: int,
        max_days: int,
    ) -> tuple[Response, str, _Unconfirmed | None, bool]:
        triggers = self._triggers(timepoint, base, nl_sum_um, pending)
        days = (timepoint.date - pending.date).days
        if triggers:
            if days < min_days:
                why = (
                    f"{'; '.join(triggers)}, but only {days} days after iUPD at "
                    f"{pending.visit} (< {min_days}): still iUPD (H2)"
                )
                return Response.IUPD, why, pending, False
            late = (
                f" (confirmed {days} days after iUPD, beyond {max_days})"
                if days > max_days
                else ""
            )
            why = (
                f"{'; '.join(triggers)} since iUPD at {pending.visit} → iCPD (H2){late}"
            )
            return Response.ICPD, why, None, True
        still = (
            base.target_response is Response.PD
            or base.non_target_response is Response.PD
            or bool(timepoint.new_lesions)
        )
        if still:
            why = (
                f"no further increase since iUPD at {pending.visit}: iUPD stays "
                "unconfirmed (H2)"
            )
            return Response.IUPD, why, pending, False
        overall = _i(base.overall_response) or Response.NE
        why = (
            f"no progression left after iUPD at {pending.visit}: status resets → "
            f"{overall.value}; a later iUPD needs a new confirmation (H3)"
        )
        return overall, why, None, False

    @staticmethod
    def _triggers(
        timepoint: TimePoint,
        base: TimepointAssessment,
        nl_sum_um: int,
        pending: _Unconfirmed,
    ) -> list[str]:
        triggers: list[str] = []
        if base.sum_of_diameters_mm is not None:
            sum_um = mm_to_um(base.sum_of_diameters_mm)
            if "target" in pending.categories and pending.target_sum_um is not None:
                growth_um = sum_um - pending.target_sum_um
                if growth_um >= FURTHER_INCREASE_UM:
                    triggers.append(f"target sum +{growth_um / 1000:.1f} mm")
            elif base.target_response is Response.PD:
                triggers.append("target lesions now meet PD")
        if base.non_target_response is Response.PD:
            triggers.append(
                "further increase of non-target lesions"
                if "non-target" in pending.categories
                else "non-target lesions now meet PD"
            )
        additional = sorted(
            {o.lesion_id for o in timepoint.new_lesions} - pending.new_lesion_ids
        )
        if additional:
            triggers.append(f"additional new lesion {', '.join(additional)}")
        nl_growth_um = nl_sum_um - pending.new_lesion_sum_um
        if nl_growth_um >= FURTHER_INCREASE_UM:
            triggers.append(f"new-lesion target sum +{nl_growth_um / 1000:.1f} mm")
        return triggers

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
