"""Hypothesis strategies that generate valid domain readings of every shape."""

from __future__ import annotations

import datetime

from hypothesis import strategies as st

from recist_app.recist import (
    AxisGeometry,
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    MeasurementGeometry,
    MeasurementMethod,
    MeasurementState,
    Modality,
    NewLesionObservation,
    NewLesionState,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    ResponseParameters,
    TimePoint,
)

ORGANS = ("liver", "lung", "lymph node", "peritoneum", "adrenal", "bone")

diameters_mm = st.floats(
    min_value=0.0, max_value=300.0, allow_nan=False, allow_infinity=False
)
coordinates_mm = st.floats(
    min_value=-500.0, max_value=500.0, allow_nan=False, allow_infinity=False
)
uids = st.builds(
    lambda a, b: f"2.25.{a}.{b}",
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=0, max_value=10**6),
)
points = st.tuples(coordinates_mm, coordinates_mm, coordinates_mm)
axes = st.builds(AxisGeometry, start_lps_mm=points, end_lps_mm=points)
geometries = st.none() | st.builds(
    MeasurementGeometry,
    series_instance_uid=uids,
    sop_instance_uid=uids,
    long_axis=st.none() | axes,
    short_axis=st.none() | axes,
    method=st.sampled_from(MeasurementMethod),
)


@st.composite
def lesions(draw: st.DrawFn, role: LesionRole, count: int) -> tuple[Lesion, ...]:
    prefix = {LesionRole.TARGET: "T", LesionRole.NON_TARGET: "NT"}.get(role, "N")
    return tuple(
        Lesion(
            lesion_id=f"{prefix}{index:02d}",
            role=role,
            organ=draw(st.sampled_from(ORGANS)),
            location=draw(st.sampled_from(("", "segment 7", "right lower lobe"))),
            is_lymph_node=draw(st.booleans()),
            tracking_uid=draw(st.none() | uids),
            is_cystic=draw(st.booleans()),
            previously_irradiated=draw(st.booleans()),
        )
        for index in range(1, count + 1)
    )


@st.composite
def measurements(
    draw: st.DrawFn, lesion: Lesion, targets: tuple[Lesion, ...]
) -> Measurement:
    states: list[MeasurementState] = [
        s for s in MeasurementState if s is not MeasurementState.MERGED
    ]
    if len(targets) > 1:
        states.append(MeasurementState.MERGED)
    state = draw(st.sampled_from(states))
    geometry = draw(geometries)
    if state is MeasurementState.MEASURED:
        long_mm = draw(diameters_mm)
        short_mm = draw(st.none() | st.floats(min_value=0.0, max_value=long_mm))
        if lesion.is_lymph_node and short_mm is None:
            short_mm = long_mm
        viable_mm = draw(st.none() | diameters_mm)
        return Measurement(
            lesion_id=lesion.lesion_id,
            state=state,
            long_axis_mm=long_mm,
            short_axis_mm=short_mm,
            viable_long_axis_mm=viable_mm,
            geometry=geometry,
            # Where the viable line was drawn needs its length (J1).
            viable_geometry=None if viable_mm is None else draw(geometries),
        )
    if state is MeasurementState.SPLIT:
        parts = draw(st.lists(diameters_mm, min_size=2, max_size=4))
        return Measurement(
            lesion_id=lesion.lesion_id, state=state, parts_mm=tuple(parts)
        )
    if state is MeasurementState.MERGED:
        others = [t.lesion_id for t in targets if t.lesion_id != lesion.lesion_id]
        return Measurement(
            lesion_id=lesion.lesion_id,
            state=state,
            merged_into=draw(st.sampled_from(others)),
        )
    return Measurement(lesion_id=lesion.lesion_id, state=state, geometry=geometry)


@st.composite
def readings(draw: st.DrawFn, patient_id: str | None = None) -> Reading:
    targets = draw(lesions(LesionRole.TARGET, draw(st.integers(0, 5))))
    non_targets = draw(lesions(LesionRole.NON_TARGET, draw(st.integers(0, 3))))
    new = draw(lesions(LesionRole.NEW, draw(st.integers(0, 2))))
    all_lesions = list(targets + non_targets + new)
    order = draw(st.permutations(range(len(all_lesions))))
    has_baseline = draw(st.booleans())
    date = datetime.date(2024, 1, 1) + datetime.timedelta(
        days=draw(st.integers(0, 900))
    )
    timepoints = []
    for index in range(draw(st.integers(0, 4))):
        date += datetime.timedelta(days=draw(st.integers(1, 120)))
        is_baseline = has_baseline and index == 0
        chosen_targets = (
            draw(st.lists(st.sampled_from(targets), unique=True)) if targets else []
        )
        chosen_nt = (
            draw(st.lists(st.sampled_from(non_targets), unique=True))
            if non_targets
            else []
        )
        chosen_new = (
            draw(st.lists(st.sampled_from(new), unique=True))
            if new and not is_baseline
            else []
        )
        timepoints.append(
            TimePoint(
                visit="BASELINE" if is_baseline else f"VISIT {index}",
                date=date,
                is_baseline=is_baseline,
                slice_thickness_mm=draw(
                    st.none() | st.floats(min_value=0.5, max_value=10.0)
                ),
                modality=draw(st.sampled_from(Modality)),
                measurements=tuple(
                    draw(measurements(lesion, targets)) for lesion in chosen_targets
                ),
                non_target=tuple(
                    NonTargetAssessment(
                        lesion_id=lesion.lesion_id,
                        state=draw(st.sampled_from(NonTargetState)),
                        cytology_confirmed=draw(st.booleans()),
                    )
                    for lesion in chosen_nt
                ),
                new_lesions=tuple(
                    NewLesionObservation(
                        lesion_id=lesion.lesion_id,
                        state=draw(st.sampled_from(NewLesionState)),
                        not_imaged_at_baseline=draw(st.booleans()),
                        long_axis_mm=draw(st.none() | diameters_mm),
                        short_axis_mm=draw(st.none() | diameters_mm),
                        typical_vascular_pattern=draw(st.none() | st.booleans()),
                        cytology_confirmed=draw(st.booleans()),
                        geometry=draw(geometries),
                    )
                    for lesion in chosen_new
                ),
                study_instance_uid=draw(st.none() | uids),
                series_instance_uid=draw(st.none() | uids),
            )
        )
    return Reading(
        patient_id=patient_id or draw(st.sampled_from(("HCC-001", "HCC-002"))),
        criteria=draw(st.sampled_from(Criteria)),
        first_dose_date=draw(
            st.none() | st.dates(datetime.date(2023, 1, 1), datetime.date(2027, 1, 1))
        ),
        params=ResponseParameters(
            confirmation_min_days=draw(st.integers(0, 60)),
            sd_min_days=draw(st.integers(0, 90)),
            require_confirmation=draw(st.booleans()),
            max_ne_between_confirmation=draw(st.integers(0, 3)),
            too_small_mm=draw(st.floats(min_value=0.0, max_value=10.0)),
            pd_min_increase_mm=draw(
                st.none() | st.floats(min_value=0.0, max_value=10.0)
            ),
            baseline_window_days=draw(st.integers(0, 60)),
            irecist_confirmation_min_days=draw(st.integers(0, 40)),
            irecist_confirmation_max_days=draw(st.integers(40, 90)),
            mrecist_pd_min_increase_mm=draw(
                st.none() | st.floats(min_value=0.0, max_value=10.0)
            ),
        ),
        lesions=tuple(all_lesions[i] for i in order),
        timepoints=tuple(timepoints),
        reader=draw(st.sampled_from(("", "dr-a", "Dr. Müller"))),
    )
