"""A visit not read is never "no evidence of disease" (A8, B4, G1–G3).

A visit with no measurement, no non-target state and no new-lesion entry is not
read: it has no response, it is no assessment for the best response or the
nadir, and only the reader's explicit "no disease" makes an empty visit read.
"""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from recist_app.recist import (
    NOT_READ_REASON,
    Criteria,
    NewLesionObservation,
    NonTargetAssessment,
    Reading,
    ReadingError,
    Response,
    ResponseParameters,
    TimePoint,
    add_lesion,
    assess,
    assessment_from_dict,
    assessment_to_dict,
    record_new_lesion,
    set_no_disease,
)
from tests.recist.builders import Visit, build, new, non_target, target

CR, PR, SD, PD, NE = Response.CR, Response.PR, Response.SD, Response.PD, Response.NE
LESIONS = [target("T01"), non_target("NT01")]


def _visit(day: int, value: float | str) -> Visit:
    return Visit(day, {"T01": value}, {"NT01": "present"})


def _courses(*visits: Visit, params: ResponseParameters | None = None) -> list[Reading]:
    return [build(LESIONS, [_visit(0, 50.0), *visits], params=params)]


@pytest.mark.parametrize("criteria", list(Criteria), ids=[c.value for c in Criteria])
def test_A8_a_follow_up_without_findings_has_no_response(criteria: Criteria) -> None:
    reading = dataclasses.replace(
        build(LESIONS, [_visit(0, 50.0), Visit(56), _visit(84, 30.0)]),
        criteria=criteria,
    )
    assessment = assess(reading)
    unread, read = assessment.timepoints
    assert not unread.is_read
    assert (unread.overall_response, unread.new_lesions) == (None, None)
    assert (unread.target_response, unread.non_target_response) == (None, None)
    assert unread.sum_of_diameters_mm is None
    assert unread.reasons == (NOT_READ_REASON,)
    assert [d.basis.value for d in unread.target_diameters] == ["missing"]
    assert read.is_read


# (course of follow-ups, max NE allowed, confirmed BOR): a visit not read is no
# NE between a response and its confirmation (it is no assessment at all), and
# no SD either.
NOT_AN_ASSESSMENT = [
    ("pr-confirmed-across-one-not-read", (Visit(56), Visit(70)), 0, PR),
    ("pr-confirmed-across-two-not-read", (Visit(56), Visit(70)), 1, PR),
    ("two-ne-break-the-confirmation", ("not_evaluable", "not_evaluable"), 1, SD),
]


@pytest.mark.parametrize(
    ("between", "max_ne", "expected"),
    [row[1:] for row in NOT_AN_ASSESSMENT],
    ids=[row[0] for row in NOT_AN_ASSESSMENT],
)
def test_G3_a_visit_not_read_is_not_an_ne_between_confirmations(
    between: tuple[Visit | str, ...], max_ne: int, expected: Response
) -> None:
    middle = [
        item if isinstance(item, Visit) else _visit(56 + 14 * i, item)
        for i, item in enumerate(between)
    ]
    params = ResponseParameters(max_ne_between_confirmation=max_ne)
    (reading,) = _courses(_visit(42, 30.0), *middle, _visit(84, 30.0), params=params)
    assert assess(reading).best_overall_response_confirmed.response is expected


def test_G4_a_visit_not_read_is_not_stable_disease() -> None:
    (reading,) = _courses(Visit(60))
    best = assess(reading).best_overall_response_confirmed
    assert best.response is NE
    assert best.reasons == ("no post-baseline assessment → NE",)


def test_C6_a_visit_not_read_leaves_the_nadir_alone() -> None:
    (reading,) = _courses(_visit(42, 40.0), Visit(56), _visit(84, 48.0))
    last = assess(reading).timepoints[-1]
    assert last.nadir_mm == 40.0
    assert last.target_response is PD  # +20 % and +8 mm over the nadir


def test_G_best_so_far_carries_over_a_visit_not_read() -> None:
    (reading,) = _courses(_visit(42, 30.0), _visit(70, 30.0), Visit(98))
    so_far = [t.best_overall_response_so_far for t in assess(reading).timepoints]
    assert so_far == [SD, PR, PR]


def test_H1_irecist_gives_a_visit_not_read_no_response() -> None:
    reading = dataclasses.replace(
        build(LESIONS, [_visit(0, 50.0), _visit(42, 70.0), Visit(70)]),
        criteria=Criteria.IRECIST,
    )
    iupd, unread = assess(reading).timepoints
    assert iupd.overall_response is Response.IUPD
    assert unread.overall_response is None
    assert unread.best_overall_response_so_far is Response.IUPD


def test_codec_keeps_a_visit_not_read_and_the_baseline_read_flag() -> None:
    reading = build([new("N01")], [Visit(0), Visit(60)])
    assessment = assess(reading)
    data = assessment_to_dict(assessment)
    assert data["baseline"]["read"] is False
    assert data["timepoints"][0]["overall_response"] is None
    assert data["timepoints"][0]["new_lesions"] is None
    assert assessment_from_dict(data) == assessment


# The reader's "no disease" (A8) cannot go with findings or with disease.
NO_DISEASE_REFUSED = [
    (
        "with-a-finding",
        lambda: TimePoint(
            visit="BASELINE",
            date=datetime.date(2024, 1, 1),
            is_baseline=True,
            non_target=(NonTargetAssessment(lesion_id="NT01"),),
            no_disease=True,
        ),
        "together with findings",
    ),
    (
        "with-target-lesions",
        lambda: build([target("T01")], [Visit(0, no_disease=True)]),
        "target or non-target lesion T01",
    ),
    (
        "not-a-boolean",
        lambda: TimePoint(
            visit="V",
            date=datetime.date(2024, 1, 1),
            no_disease="yes",  # type: ignore[arg-type]
        ),
        "must be true or false",
    ),
]


@pytest.mark.parametrize(
    ("make", "message"),
    [row[1:] for row in NO_DISEASE_REFUSED],
    ids=[row[0] for row in NO_DISEASE_REFUSED],
)
def test_A8_no_disease_refused_where_it_contradicts_the_reading(
    make: object, message: str
) -> None:
    with pytest.raises(ReadingError, match=message):
        make()  # type: ignore[operator]


def test_A8_recording_a_finding_withdraws_no_disease() -> None:
    reading = build([new("N01")], [Visit(0), Visit(60)])
    reading = set_no_disease(reading, "BASELINE", True)
    reading = set_no_disease(reading, "DAY 60", True)
    assert assess(reading).baseline.overall_response is Response.NED
    with_new = record_new_lesion(
        reading, "DAY 60", NewLesionObservation(lesion_id="N01")
    )
    assert not with_new.timepoint("DAY 60").no_disease
    assert with_new.timepoint("BASELINE").no_disease
    assert assess(with_new).timepoints[0].overall_response is PD
    with_target = add_lesion(reading, target("T02"))
    assert not any(t.no_disease for t in with_target.timepoints)
    assert not assess(with_target).baseline.read
