"""Sign-off completeness (recist.completeness.sign_off_gaps), table-driven."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from recist_app.recist import (
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    MeasurementState,
    NonTargetAssessment,
    Reading,
    TimePoint,
    assess,
    sign_off_gaps,
)

LESIONS = (
    Lesion(lesion_id="T01", role=LesionRole.TARGET, organ="liver"),
    Lesion(lesion_id="T02", role=LesionRole.TARGET, organ="lung"),
    Lesion(lesion_id="NT01", role=LesionRole.NON_TARGET, organ="liver"),
)


def _baseline() -> TimePoint:
    return TimePoint(
        visit="BASELINE",
        date=datetime.date(2024, 1, 8),
        is_baseline=True,
        slice_thickness_mm=5.0,
        measurements=(
            Measurement(lesion_id="T01", long_axis_mm=42.0, viable_long_axis_mm=30.0),
            Measurement(lesion_id="T02", long_axis_mm=20.0, viable_long_axis_mm=15.0),
        ),
        non_target=(NonTargetAssessment(lesion_id="NT01"),),
    )


def _follow_up(**changes: object) -> TimePoint:
    timepoint = TimePoint(
        visit="WEEK 8",
        date=datetime.date(2024, 3, 4),
        slice_thickness_mm=5.0,
        measurements=(
            Measurement(lesion_id="T01", long_axis_mm=30.0, viable_long_axis_mm=20.0),
            Measurement(lesion_id="T02", long_axis_mm=18.0, viable_long_axis_mm=10.0),
        ),
        non_target=(NonTargetAssessment(lesion_id="NT01"),),
    )
    return dataclasses.replace(timepoint, **changes)  # type: ignore[arg-type]


def _gaps(
    follow_up: TimePoint, criteria: Criteria = Criteria.RECIST_1_1
) -> tuple[str, ...]:
    reading = Reading(
        patient_id="P1",
        criteria=criteria,
        lesions=LESIONS,
        timepoints=(_baseline(), follow_up),
    )
    return sign_off_gaps(reading, assess(reading))


@pytest.mark.parametrize(
    ("follow_up", "criteria", "expected"),
    [
        (_follow_up(), Criteria.RECIST_1_1, ()),
        (
            _follow_up(measurements=(), non_target=()),
            Criteria.RECIST_1_1,
            ("visit WEEK 8: no lesion recorded (unread follow-up)",),
        ),
        (
            _follow_up(
                measurements=(
                    Measurement(
                        lesion_id="T01", long_axis_mm=30.0, viable_long_axis_mm=20.0
                    ),
                )
            ),
            Criteria.RECIST_1_1,
            (
                "visit WEEK 8: target(s) T02 not measured",
                "visit WEEK 8: overall response not evaluable (NE)",
            ),
        ),
        (
            _follow_up(non_target=()),
            Criteria.RECIST_1_1,
            ("visit WEEK 8: non-target(s) NT01 without a state",),
        ),
        (
            _follow_up(
                measurements=(
                    Measurement(lesion_id="T01", long_axis_mm=30.0),
                    Measurement(lesion_id="T02", state=MeasurementState.TOO_SMALL),
                )
            ),
            Criteria.MRECIST,
            (
                "visit WEEK 8: target(s) T01 without a viable diameter (mRECIST J1)",
                "visit WEEK 8: overall response not evaluable (NE)",
            ),
        ),
    ],
    ids=[
        "complete",
        "unread_follow_up",
        "B4_target_not_measured",
        "D_non_target_without_state",
        "J1_viable_diameter_missing",
    ],
)
def test_sign_off_lists_what_is_incomplete(
    follow_up: TimePoint, criteria: Criteria, expected: tuple[str, ...]
) -> None:
    assert _gaps(follow_up, criteria) == expected
