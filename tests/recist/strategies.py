"""Hypothesis strategies for valid readings (shared by rule, file and store tests)."""

from __future__ import annotations

import dataclasses
import datetime

from hypothesis import strategies as st

from recist_app.recist import (
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    MeasurementState,
    NewLesionObservation,
    NewLesionState,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    ResponseParameters,
    TimePoint,
)

ORGANS = ("liver", "lung", "adrenal", "spleen", "peritoneum", "bone")
BASE_DATE = datetime.date(2024, 1, 1)

FOLLOW_UP_STATES = (
    MeasurementState.MEASURED,
    MeasurementState.MEASURED,
    MeasurementState.MEASURED,
    MeasurementState.TOO_SMALL,
    MeasurementState.DISAPPEARED,
    MeasurementState.NOT_EVALUABLE,
)


@st.composite
def lesions(draw: st.DrawFn) -> tuple[Lesion, ...]:
    target_count = draw(st.integers(min_value=0, max_value=5))
    non_target_count = draw(st.integers(min_value=0, max_value=3))
    new_count = draw(st.integers(min_value=0, max_value=2))
    result: list[Lesion] = []
    for index in range(target_count):
        node = draw(st.booleans())
        result.append(
            Lesion(
                lesion_id=f"T{index + 1:02d}",
                role=LesionRole.TARGET,
                organ="lymph node" if node else draw(st.sampled_from(ORGANS)),
                is_lymph_node=node,
            )
        )
    for index in range(non_target_count):
        result.append(
            Lesion(
                lesion_id=f"NT{index + 1:02d}",
                role=LesionRole.NON_TARGET,
                organ=draw(st.sampled_from(ORGANS)),
            )
        )
    for index in range(new_count):
        result.append(
            Lesion(
                lesion_id=f"N{index + 1:02d}",
                role=LesionRole.NEW,
                organ=draw(st.sampled_from(ORGANS)),
            )
        )
    return tuple(result)


def _measurement(draw: st.DrawFn, lesion: Lesion, *, baseline: bool) -> Measurement:
    state = (
        MeasurementState.MEASURED
        if baseline
        else draw(st.sampled_from(FOLLOW_UP_STATES))
    )
    if state is not MeasurementState.MEASURED:
        return Measurement(lesion_id=lesion.lesion_id, state=state)
    low = 10 if baseline else 0
    value = draw(st.integers(min_value=low, max_value=1500)) / 10
    if lesion.is_lymph_node:
        long_axis = value + draw(st.integers(min_value=0, max_value=100)) / 10
        return Measurement(
            lesion_id=lesion.lesion_id, long_axis_mm=long_axis, short_axis_mm=value
        )
    return Measurement(lesion_id=lesion.lesion_id, long_axis_mm=value)


def _any_measurement(
    draw: st.DrawFn, lesion: Lesion, targets: list[Lesion], *, baseline: bool
) -> Measurement | None:
    """Any state B1–B4 counts (split, merged, missing too), viable diameters (J1)."""
    states = list(MeasurementState)
    others = [t.lesion_id for t in targets if t.lesion_id != lesion.lesion_id]
    if not others:
        states.remove(MeasurementState.MERGED)
    state = draw(st.sampled_from([*states, None]))
    if state is None:
        return None  # not recorded at this visit (B4)
    lesion_id = lesion.lesion_id
    if state is MeasurementState.SPLIT:
        parts = draw(st.lists(st.integers(0, 600), min_size=2, max_size=3))
        return Measurement(
            lesion_id=lesion_id, state=state, parts_mm=tuple(p / 10 for p in parts)
        )
    if state is MeasurementState.MERGED:
        return Measurement(
            lesion_id=lesion_id, state=state, merged_into=draw(st.sampled_from(others))
        )
    if state is not MeasurementState.MEASURED:
        return Measurement(lesion_id=lesion_id, state=state)
    measured = _measurement(draw, lesion, baseline=baseline)
    if lesion.is_lymph_node or draw(st.booleans()):
        return measured
    viable = draw(st.integers(min_value=0, max_value=1500)) / 10
    return dataclasses.replace(measured, viable_long_axis_mm=viable)


@st.composite
def readings(
    draw: st.DrawFn,
    *,
    max_follow_ups: int = 6,
    measured_only: bool = False,
    every_state: bool = False,
) -> Reading:
    """A valid reading under RECIST 1.1.

    ``measured_only``: every target measured and present at every visit.
    ``every_state``: targets in any state at any visit, split, merged and missing
    included, some with a viable diameter (J1); new lesions with diameters (H4).
    """
    lesion_list = draw(lesions())
    targets = [lesion for lesion in lesion_list if lesion.role is LesionRole.TARGET]
    non_targets = [x for x in lesion_list if x.role is LesionRole.NON_TARGET]
    new_ids = [x.lesion_id for x in lesion_list if x.role is LesionRole.NEW]
    follow_ups = draw(st.integers(min_value=0, max_value=max_follow_ups))
    timepoints: list[TimePoint] = []
    date = BASE_DATE
    for index in range(follow_ups + 1):
        baseline = index == 0
        if not baseline:
            date += datetime.timedelta(
                days=draw(st.integers(min_value=14, max_value=70))
            )
        if every_state:
            found = [
                _any_measurement(draw, t, targets, baseline=baseline) for t in targets
            ]
            measurements = tuple(m for m in found if m is not None)
        else:
            measurements = tuple(
                (
                    _measurement(draw, lesion, baseline=True)
                    if measured_only
                    else _measurement(draw, lesion, baseline=baseline)
                )
                for lesion in targets
            )
        non_target = tuple(
            NonTargetAssessment(
                lesion_id=lesion.lesion_id,
                cytology_confirmed=draw(st.booleans()),
                state=(
                    NonTargetState.PRESENT
                    if baseline or measured_only
                    else draw(st.sampled_from(tuple(NonTargetState)))
                ),
            )
            for lesion in non_targets
        )
        new_lesions: tuple[NewLesionObservation, ...] = ()
        if not baseline and not measured_only and new_ids:
            seen = draw(st.lists(st.sampled_from(new_ids), unique=True))
            new_lesions = tuple(
                NewLesionObservation(
                    lesion_id=lesion_id,
                    state=draw(st.sampled_from(tuple(NewLesionState))),
                    typical_vascular_pattern=draw(st.sampled_from((None, True, False))),
                    cytology_confirmed=draw(st.booleans()),
                    long_axis_mm=(
                        draw(st.none() | st.integers(0, 600).map(lambda v: v / 10))
                        if every_state
                        else None
                    ),
                )
                for lesion_id in seen
            )
        # A8: without target and non-target lesions, a visit with no finding is
        # either not read or the reader's explicit "no disease"
        no_disease = (
            not targets and not non_targets and not new_lesions and draw(st.booleans())
        )
        timepoints.append(
            TimePoint(
                visit="BASELINE" if baseline else f"FU{index}",
                date=date,
                is_baseline=baseline,
                slice_thickness_mm=draw(st.sampled_from((None, 1.25, 2.5, 5.0))),
                measurements=measurements,
                non_target=non_target,
                new_lesions=new_lesions,
                no_disease=no_disease,
            )
        )
    first_dose = draw(
        st.one_of(
            st.none(),
            st.integers(min_value=0, max_value=21).map(
                lambda d: BASE_DATE + datetime.timedelta(days=d)
            ),
        )
    )
    return Reading(
        patient_id=draw(st.from_regex(r"HCC-[0-9]{3}", fullmatch=True)),
        criteria=Criteria.RECIST_1_1,
        first_dose_date=first_dose,
        params=ResponseParameters(
            require_confirmation=draw(st.booleans()),
            confirmation_min_days=draw(st.sampled_from((28, 35))),
            sd_min_days=draw(st.sampled_from((42, 56))),
        ),
        lesions=lesion_list,
        timepoints=tuple(timepoints),
    )
