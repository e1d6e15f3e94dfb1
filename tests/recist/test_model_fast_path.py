"""The domain objects' inline checks never accept what their full checks refuse.

Issue 23: ``Measurement``, ``NonTargetAssessment``, ``Lesion`` and ``TimePoint``
decide the usual object inline in ``__post_init__`` and leave everything else to
``_validate``, which gives every message; ``Reading`` does the same for the
references of a visit. For any field values, an object that could be built must
pass ``_validate`` unchanged (so the inline test only ever accepted valid
objects), and one that could not was refused with ``_validate``'s message.
"""

from __future__ import annotations

import copy
import datetime
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recist_app.recist import (
    Lesion,
    LesionRole,
    Measurement,
    MeasurementState,
    NewLesionObservation,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    ReadingError,
    TimePoint,
)
from recist_app.recist.model import _usual_references

TEXT = st.sampled_from(["T01", "T02", " T01 ", "", "  ", "\t", "NT01", "N01", 7, None])
DIAMETER = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, -1.0, 5.0, 10.0, 30.0, 3, 0, True, "1.0"]),
)
BOOL = st.sampled_from([True, False, 0, 1, None, "yes"])


def _built_or_refused(cls: type, fields: dict[str, Any]) -> None:
    try:
        built = cls(**fields)
    except ReadingError as error:
        refusal = str(error)
    else:
        before = copy.copy(built)
        built._validate()  # the inline test accepted it: the full checks must too
        assert built == before
        return
    # refused: by the full checks, which give the message
    probe: Any = object.__new__(cls)
    for name, value in fields.items():
        object.__setattr__(probe, name, value)
    for missing in cls.__dataclass_fields__:  # type: ignore[attr-defined]
        if missing not in fields:
            default = cls.__dataclass_fields__[missing].default  # type: ignore[attr-defined]
            object.__setattr__(probe, missing, default)
    with pytest.raises(ReadingError) as again:
        probe._validate()
    assert str(again.value) == refusal


@settings(max_examples=800, deadline=None)
@given(
    lesion_id=TEXT,
    state=st.sampled_from([*MeasurementState, "measured", "gone"]),
    long_axis_mm=DIAMETER,
    short_axis_mm=DIAMETER,
    viable_long_axis_mm=DIAMETER,
    parts_mm=st.sampled_from([(), (1.0, 2.0), (1.0,), [], [1.0, 2.0], (math.nan, 1.0)]),
    merged_into=st.sampled_from([None, "T01", "T02", ""]),
)
def test_measurement_inline_check_implies_the_full_check(**fields: Any) -> None:
    _built_or_refused(Measurement, fields)


@settings(max_examples=300, deadline=None)
@given(
    lesion_id=TEXT,
    state=st.sampled_from([*NonTargetState, "present", "gone"]),
    cytology_confirmed=BOOL,
)
def test_non_target_inline_check_implies_the_full_check(**fields: Any) -> None:
    _built_or_refused(NonTargetAssessment, fields)


@settings(max_examples=400, deadline=None)
@given(
    lesion_id=TEXT,
    role=st.sampled_from([*LesionRole, "target", "organ"]),
    organ=TEXT,
    location=st.sampled_from(["", "segment 7", None, 3]),
    is_lymph_node=BOOL,
    tracking_uid=st.sampled_from([None, "1.2.3", "1.02", "x"]),
    is_cystic=BOOL,
    previously_irradiated=BOOL,
)
def test_lesion_inline_check_implies_the_full_check(**fields: Any) -> None:
    _built_or_refused(Lesion, fields)


MEASURED = Measurement(lesion_id="T01", long_axis_mm=12.0)
OTHER = Measurement(lesion_id="T02", long_axis_mm=12.0)


@settings(max_examples=500, deadline=None)
@given(
    visit=st.sampled_from(["BASELINE", "WEEK 6", " ", "", 6]),
    date=st.sampled_from(
        [datetime.date(2024, 1, 1), datetime.datetime(2024, 1, 1), "2024-01-01"]
    ),
    is_baseline=st.sampled_from([True, False, 0, 1]),
    slice_thickness_mm=DIAMETER,
    modality=st.sampled_from(["CT", "MR", "PET", None]),
    measurements=st.sampled_from(
        [(), (MEASURED,), (MEASURED, OTHER), (MEASURED, MEASURED), [MEASURED]]
    ),
    non_target=st.sampled_from(
        [
            (),
            (NonTargetAssessment(lesion_id="NT01"),),
            (NonTargetAssessment(lesion_id="NT01"),) * 2,
        ]
    ),
    new_lesions=st.sampled_from([(), (NewLesionObservation(lesion_id="N01"),)]),
    study_instance_uid=st.sampled_from([None, "1.2.3", "1..2"]),
    no_disease=BOOL,
)
def test_timepoint_inline_check_implies_the_full_check(**fields: Any) -> None:
    _built_or_refused(TimePoint, fields)


LESIONS = (
    Lesion(lesion_id="T01", role=LesionRole.TARGET, organ="liver"),
    Lesion(
        lesion_id="T02", role=LesionRole.TARGET, organ="lymph node", is_lymph_node=True
    ),
    Lesion(lesion_id="NT01", role=LesionRole.NON_TARGET, organ="bone"),
    Lesion(lesion_id="N01", role=LesionRole.NEW, organ="lung"),
)
FINDINGS: st.SearchStrategy[Any] = st.sampled_from(
    [
        Measurement(lesion_id="T01", long_axis_mm=10.0),
        Measurement(lesion_id="T01", short_axis_mm=10.0),
        Measurement(lesion_id="T01", viable_long_axis_mm=10.0),
        Measurement(lesion_id="T02", long_axis_mm=20.0),
        Measurement(lesion_id="T02", long_axis_mm=20.0, short_axis_mm=9.0),
        Measurement(lesion_id="NT01", long_axis_mm=20.0),
        Measurement(lesion_id="T09", long_axis_mm=20.0),
        Measurement(lesion_id="T01", state=MeasurementState.MERGED, merged_into="T02"),
        Measurement(lesion_id="T01", state=MeasurementState.MERGED, merged_into="NT01"),
        Measurement(lesion_id="T02", state=MeasurementState.NOT_EVALUABLE),
        NonTargetAssessment(lesion_id="NT01"),
        NonTargetAssessment(lesion_id="T01"),
        NewLesionObservation(lesion_id="N01"),
        NewLesionObservation(lesion_id="NT01"),
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(FINDINGS, max_size=4, unique_by=lambda f: (type(f), f.lesion_id)))
def test_reading_inline_reference_check_implies_the_full_check(
    findings: list[Any],
) -> None:
    timepoint = TimePoint(
        visit="WEEK 6",
        date=datetime.date(2024, 2, 1),
        measurements=tuple(f for f in findings if isinstance(f, Measurement)),
        non_target=tuple(f for f in findings if isinstance(f, NonTargetAssessment)),
        new_lesions=tuple(f for f in findings if isinstance(f, NewLesionObservation)),
    )
    lesions = {lesion.lesion_id: lesion for lesion in LESIONS}
    probe = Reading(patient_id="P1", lesions=LESIONS)
    if _usual_references(timepoint, lesions):
        probe._check_references(timepoint, lesions)  # must pass too
    try:
        Reading(patient_id="P1", lesions=LESIONS, timepoints=(timepoint,))
    except ReadingError as error:
        refusal = str(error)
    else:
        return
    with pytest.raises(ReadingError) as again:
        probe._check_references(timepoint, lesions)
    assert str(again.value) == refusal
