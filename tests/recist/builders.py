"""Compact builders for readings in rule tests.

Visits are given as day offsets from BASE_DATE; target values are numbers (measured:
long axis for non-nodal lesions, short axis for nodes) or a state name.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from recist_app.recist import (
    Lesion,
    LesionRole,
    Measurement,
    MeasurementState,
    Modality,
    NewLesionObservation,
    NewLesionState,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    Response,
    ResponseEvent,
    ResponseParameters,
    TimePoint,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

BASE_DATE = datetime.date(2024, 1, 1)

TargetValue = float | str | Measurement


def target(
    lesion_id: str,
    organ: str = "liver",
    *,
    node: bool = False,
    is_cystic: bool = False,
    previously_irradiated: bool = False,
) -> Lesion:
    return Lesion(
        lesion_id=lesion_id,
        role=LesionRole.TARGET,
        organ="lymph node" if node else organ,
        is_lymph_node=node,
        is_cystic=is_cystic,
        previously_irradiated=previously_irradiated,
    )


def non_target(
    lesion_id: str, organ: str = "peritoneum", *, node: bool = False
) -> Lesion:
    return Lesion(
        lesion_id=lesion_id,
        role=LesionRole.NON_TARGET,
        organ=organ,
        is_lymph_node=node,
    )


def new(lesion_id: str, organ: str = "lung") -> Lesion:
    return Lesion(lesion_id=lesion_id, role=LesionRole.NEW, organ=organ)


@dataclass
class Visit:
    day: int
    targets: Mapping[str, TargetValue] = field(default_factory=dict)
    non_targets: Mapping[str, str] = field(default_factory=dict)
    new_lesions: Mapping[str, str] = field(default_factory=dict)
    label: str | None = None
    slice_thickness_mm: float | None = None
    modality: Modality = Modality.CT
    no_disease: bool = False


def _measurement(lesion: Lesion, value: TargetValue) -> Measurement:
    if isinstance(value, Measurement):
        return value
    if isinstance(value, str):
        return Measurement(lesion_id=lesion.lesion_id, state=MeasurementState(value))
    if lesion.is_lymph_node:
        return Measurement(lesion_id=lesion.lesion_id, short_axis_mm=float(value))
    return Measurement(lesion_id=lesion.lesion_id, long_axis_mm=float(value))


def build(
    lesions: Sequence[Lesion],
    visits: Sequence[Visit],
    *,
    first_dose_day: int | None = None,
    params: ResponseParameters | None = None,
) -> Reading:
    """A reading whose first visit is the baseline."""
    by_id = {lesion.lesion_id: lesion for lesion in lesions}
    timepoints = []
    for index, visit in enumerate(visits):
        is_baseline = index == 0
        label = visit.label or ("BASELINE" if is_baseline else f"DAY {visit.day}")
        timepoints.append(
            TimePoint(
                visit=label,
                date=BASE_DATE + datetime.timedelta(days=visit.day),
                is_baseline=is_baseline,
                slice_thickness_mm=visit.slice_thickness_mm,
                modality=visit.modality,
                measurements=tuple(
                    _measurement(by_id[lid], value)
                    for lid, value in visit.targets.items()
                ),
                non_target=tuple(
                    NonTargetAssessment(lesion_id=lid, state=NonTargetState(state))
                    for lid, state in visit.non_targets.items()
                ),
                new_lesions=tuple(
                    NewLesionObservation(lesion_id=lid, state=NewLesionState(state))
                    for lid, state in visit.new_lesions.items()
                ),
                no_disease=visit.no_disease,
            )
        )
    return Reading(
        patient_id="P-001",
        first_dose_date=(
            None
            if first_dose_day is None
            else BASE_DATE + datetime.timedelta(days=first_dose_day)
        ),
        params=params or ResponseParameters(),
        lesions=tuple(lesions),
        timepoints=tuple(timepoints),
    )


def day(offset: int) -> datetime.date:
    return BASE_DATE + datetime.timedelta(days=offset)


# The target and non-target categories a visit with this overall response
# usually has (one target and one non-target lesion; Table 2 for NON-CR/NON-PD).
TYPICAL_CATEGORIES: dict[Response, tuple[Response | None, Response | None]] = {
    Response.CR: (Response.CR, Response.CR),
    Response.PR: (Response.PR, Response.NON_CR_NON_PD),
    Response.SD: (Response.SD, Response.NON_CR_NON_PD),
    Response.PD: (Response.PD, Response.NON_CR_NON_PD),
    Response.NE: (Response.NE, Response.NE),
    Response.NON_CR_NON_PD: (None, Response.NON_CR_NON_PD),
    Response.NED: (None, None),
}

CR_NOT_EVALUATED = (Response.CR, Response.NE)
"""Targets CR, non-targets not evaluated: overall PR by Table 1, no disease seen."""


def event(
    offset: int,
    response: Response,
    categories: tuple[Response | None, Response | None] | None = None,
    *,
    start: datetime.date = BASE_DATE,
) -> ResponseEvent:
    """A follow-up's event at ``offset`` days with typical (or given) categories."""
    target, non_target = categories or TYPICAL_CATEGORIES[response]
    return ResponseEvent(
        f"DAY {offset}",
        start + datetime.timedelta(days=offset),
        response,
        target,
        non_target,
    )
