"""Readings used by the exchange tests."""

from __future__ import annotations

import datetime

from recist_app.recist import (
    Lesion,
    LesionRole,
    Measurement,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    TimePoint,
)


def standards_example() -> Reading:
    """docs/standards.md 1.3: LT-01-001, baseline + 2 follow-ups, confirmed PR."""
    sizes = {
        "SCREENING": (datetime.date(2024, 2, 26), 42.0, 18.0, 22.0),
        "WEEK 6": (datetime.date(2024, 4, 15), 30.0, 12.0, 14.0),
        "WEEK 12": (datetime.date(2024, 5, 27), 28.0, 11.0, 12.0),
    }
    timepoints = tuple(
        TimePoint(
            visit=visit,
            date=date,
            is_baseline=visit == "SCREENING",
            slice_thickness_mm=5.0,
            measurements=(
                Measurement(lesion_id="T01", long_axis_mm=t01),
                Measurement(lesion_id="T02", long_axis_mm=t02),
                Measurement(lesion_id="T03", long_axis_mm=t03 + 8, short_axis_mm=t03),
            ),
            non_target=(
                NonTargetAssessment(lesion_id="NT01", state=NonTargetState.PRESENT),
            ),
        )
        for visit, (date, t01, t02, t03) in sizes.items()
    )
    return Reading(
        patient_id="LT-01-001",
        first_dose_date=datetime.date(2024, 3, 4),
        lesions=(
            Lesion(lesion_id="T01", role=LesionRole.TARGET, organ="liver"),
            Lesion(
                lesion_id="T02",
                role=LesionRole.TARGET,
                organ="lung",
                location="right lower lobe",
            ),
            Lesion(
                lesion_id="T03",
                role=LesionRole.TARGET,
                organ="lymph node",
                is_lymph_node=True,
            ),
            Lesion(lesion_id="NT01", role=LesionRole.NON_TARGET, organ="portal vein"),
        ),
        timepoints=timepoints,
        reader="Dr Example",
    )
