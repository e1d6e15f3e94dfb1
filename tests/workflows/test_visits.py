"""Which study is which visit (workflows.visits), without the visit table."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from recist_app.recist import (
    Lesion,
    LesionRole,
    Measurement,
    Modality,
    Reading,
    ReadingError,
)
from recist_app.workflows.errors import VisitAssignmentError
from recist_app.workflows.visits import (
    StoredSeries,
    StoredStudy,
    VisitAssignment,
    assign_visits,
    assignments_of,
    default_series,
    in_date_order,
)


def _series(uid: str, modality: str = "CT", slices: int = 60) -> StoredSeries:
    return StoredSeries(
        series_instance_uid=uid,
        series_number=1,
        modality=modality,
        description=f"{modality} series",
        series_date=None,
        slice_thickness_mm=2.5,
        phase_hint="",
        body_part="ABDOMEN",
        slice_count=slices,
        volume_count=1,
        file_count=slices,
    )


def _study(number: int, day: datetime.date, *series: StoredSeries) -> StoredStudy:
    return StoredStudy(
        study_instance_uid=f"1.2.3.{number}",
        study_date=day,
        study_time="",
        description=f"study {number}",
        accession_number="",
        series=series or (_series(f"1.2.3.{number}.1"),),
    )


STUDIES = (
    _study(2, datetime.date(2024, 3, 1)),
    _study(1, datetime.date(2024, 1, 5)),
    _study(3, datetime.date(2024, 4, 26)),
)


def test_in_date_order_makes_the_oldest_the_baseline() -> None:
    assignments = in_date_order(STUDIES)
    assert [(a.study_instance_uid, a.visit) for a in assignments] == [
        ("1.2.3.1", "BASELINE"),
        ("1.2.3.2", "FOLLOW-UP 1"),
        ("1.2.3.3", "FOLLOW-UP 2"),
    ]
    reading = assign_visits(Reading(patient_id="P1"), STUDIES, assignments)
    assert [t.visit for t in reading.timepoints] == [
        "BASELINE",
        "FOLLOW-UP 1",
        "FOLLOW-UP 2",
    ]
    assert reading.timepoints[0].is_baseline
    assert reading.timepoints[0].slice_thickness_mm == 2.5
    assert reading.timepoints[0].modality is Modality.CT
    assert assignments_of(reading, STUDIES)[1].visit == "BASELINE"


def test_the_default_series_is_the_ct_or_mr_series_with_most_images() -> None:
    study = _study(
        9,
        datetime.date(2024, 1, 1),
        _series("1.9.1", "SR", slices=1),
        _series("1.9.2", "CT", slices=40),
        _series("1.9.3", "CT", slices=300),
    )
    chosen = default_series(study)
    assert chosen is not None
    assert chosen.series_instance_uid == "1.9.3"


def _read() -> Reading:
    """The three studies assigned, with a target measured at the first follow-up."""
    reading = assign_visits(
        Reading(
            patient_id="P1",
            lesions=(Lesion(lesion_id="T01", role=LesionRole.TARGET, organ="liver"),),
        ),
        STUDIES,
        in_date_order(STUDIES),
    )
    follow_up = dataclasses.replace(
        reading.timepoints[1],
        measurements=(Measurement(lesion_id="T01", long_axis_mm=20.0),),
    )
    return dataclasses.replace(
        reading, timepoints=(reading.timepoints[0], follow_up, reading.timepoints[2])
    )


def test_renaming_and_redating_a_visit_keeps_its_findings() -> None:
    assignments = list(in_date_order(STUDIES))
    assignments[1] = dataclasses.replace(
        assignments[1], visit="week 8", date=datetime.date(2024, 3, 2)
    )
    after = assign_visits(_read(), STUDIES, assignments)
    week_8 = after.timepoint("WEEK 8")
    assert week_8.date == datetime.date(2024, 3, 2)
    assert week_8.measurement("T01") is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"visit": ""}, "visit FOLLOW-UP 1: has findings"),
        ({"series_instance_uid": "1.2.3.2.9"}, "were measured on its series"),
        ({"date": datetime.date(2023, 12, 1)}, "is not after the baseline"),
    ],
    ids=["unassigning_a_read_visit", "another_series", "before_the_baseline"],
)
def test_an_assignment_that_would_lose_findings_is_refused(
    change: dict[str, object], message: str
) -> None:
    assignments = list(in_date_order(STUDIES))
    assignments[1] = dataclasses.replace(assignments[1], **change)  # type: ignore[arg-type]
    with pytest.raises(VisitAssignmentError, match=message):
        assign_visits(_read(), STUDIES, assignments)


def test_two_visits_with_one_label_are_an_invalid_reading() -> None:
    assignments = [
        VisitAssignment(
            study_instance_uid=a.study_instance_uid,
            visit="FOLLOW-UP 1" if a.visit != "BASELINE" else a.visit,
            date=a.date,
            series_instance_uid=a.series_instance_uid,
        )
        for a in in_date_order(STUDIES)
    ]
    with pytest.raises(ReadingError):
        assign_visits(Reading(patient_id="P1"), STUDIES, assignments)
