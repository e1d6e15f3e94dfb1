"""A patient's follow-ups in the analysis window (``SubjectEndpoints.visits``).

``VisitPoints`` holds them as parallel tuples of plain values, so that the
garbage collector leaves them alone once it has seen them (issue 23): these
tests check it is still the sequence of ``VisitPoint`` the plots and ADaM rows
read, which follow-ups it holds, and how few objects a patient keeps tracked.
"""

from __future__ import annotations

import gc

import pytest

from recist_app.endpoints import (
    EndpointOptions,
    VisitPoint,
    VisitPoints,
    compute_trial_endpoints,
    derive_subject,
    simulate_trial,
)
from recist_app.recist import Response
from tests.endpoints._builders import day, make_clinical, make_reading


def test_visit_points_is_a_sequence_of_visit_point() -> None:
    points = (
        VisitPoint("VISIT 1", day(28), 29, -12.5, Response.SD),
        VisitPoint("VISIT 2", day(56), 57, None, Response.NE),
        VisitPoint("VISIT 3", day(84), 85, -40.0, Response.PR),
    )
    visits = VisitPoints.of(points)
    assert visits == VisitPoints(
        ("VISIT 1", "VISIT 2", "VISIT 3"),
        (day(28), day(56), day(84)),
        (29, 57, 85),
        (-12.5, None, -40.0),
        ("SD", "NE", "PR"),
    )
    assert len(visits) == 3
    assert tuple(visits) == points
    assert visits[1] == points[1]
    assert visits[-1].overall_response is Response.PR
    assert visits[1:] == points[1:]
    assert list(enumerate(visits, start=1))[2] == (3, points[2])


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ((("V1",), (), (1,), (None,), ("SD",)), "differ in length"),
        ((("V1",), (day(1),), (1,), (None,), ()), "differ in length"),
        ((("V1",), (day(1),), (1,), (None,), ("XX",)), "unknown response XX"),
    ],
)
def test_visit_points_cannot_be_inconsistent(
    columns: tuple[tuple[object, ...], ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        VisitPoints(*columns)  # type: ignore[arg-type]


def test_subject_visits_are_the_read_follow_ups_from_first_dose_to_cutoff() -> None:
    """G1: not read, before the first dose or after the cut-off: not a point."""
    reading = make_reading(
        "P1", [(-3, "SD"), (28, "PR"), (56, "NE"), (84, "SD"), (140, "PD")]
    )
    subject = derive_subject(
        reading,
        make_clinical("P1", new_therapy=70, cutoff=day(100)),
        EndpointOptions(),
    )
    # a new therapy ends the BOR window, not the plots' (VISIT 4 stays)
    assert [(v.visit, v.study_day, v.overall_response) for v in subject.visits] == [
        ("VISIT 2", 29, Response.PR),
        ("VISIT 3", 57, Response.NE),
        ("VISIT 4", 85, Response.SD),
    ]
    assert subject.visits[0].change_from_baseline_pct == -40.0
    assert subject.visits[1].change_from_baseline_pct is None


def test_no_baseline_no_visit_points() -> None:
    subject = derive_subject(
        make_reading("P1", [(28, "PR")], baseline=False),
        make_clinical("P1"),
        EndpointOptions(),
    )
    assert len(subject.visits) == 0
    assert list(subject.visits) == []


def _tracked_per_subject(subjects: tuple[object, ...]) -> float:
    """Objects the collector tracks, reachable from the subjects, per subject.

    Enum members and other shared constants are not the patient's own.
    """
    seen: set[int] = set()

    def walk(item: object) -> None:
        if id(item) in seen or not gc.is_tracked(item):
            return
        shared = type(item).__module__ in ("enum", "builtins") and not isinstance(
            item, tuple | list | dict
        )
        if shared or isinstance(item, type | Response):
            return
        seen.add(id(item))
        for referent in gc.get_referents(item):
            walk(referent)

    for subject in subjects:
        walk(subject)
    return len(seen) / len(subjects)


def test_a_patient_keeps_few_objects_the_collector_tracks() -> None:
    """Issue 23: 10,000 patients' endpoints stay under CPython's next full pass.

    A full collection runs once the objects kept since the last one exceed a
    quarter of those kept before: about 200,000 beside 10,000 readings. With a
    named tuple per follow-up a patient kept 15 (8.3 of them visit points);
    the visit columns are exact tuples of plain values, which the collector
    stops tracking once it has seen them.
    """
    trial = simulate_trial(300, seed=1)
    result = compute_trial_endpoints(trial.readings, trial.clinical)
    gc.collect()
    with_visits = [s for s in result.subjects if len(s.visits)]
    assert len(with_visits) > 250
    for subject in with_visits:
        visits = subject.visits
        assert not any(
            gc.is_tracked(column)
            for column in (
                visits.visit_labels,
                visits.dates,
                visits.study_days,
                visits.changes_from_baseline_pct,
                visits.response_codes,
            )
        )
    assert _tracked_per_subject(result.subjects) < 8
