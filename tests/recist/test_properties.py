"""Invariants of the engine over generated readings (hypothesis)."""

from __future__ import annotations

import dataclasses
import datetime

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from recist_app.recist import (
    Lesion,
    LesionRole,
    NewLesionObservation,
    NewLesionState,
    Reading,
    Response,
    ResponseParameters,
    assess,
)
from recist_app.recist.best_response import (
    ResponseEvent,
    best_overall_response,
    best_response_category,
    response_start,
)
from tests.recist.builders import (
    CR_NOT_EVALUATED,
    TYPICAL_CATEGORIES,
    Visit,
    build,
    target,
)
from tests.recist.strategies import readings

RANK = {
    Response.CR: 1,
    Response.PR: 2,
    Response.SD: 3,
    Response.NON_CR_NON_PD: 4,
    Response.PD: 5,
    Response.NE: 6,
    Response.NED: 7,
}


def _scaled(reading: Reading, factor: int) -> Reading:
    def scale(value: float | None) -> float | None:
        return None if value is None else value * factor

    timepoints = tuple(
        dataclasses.replace(
            timepoint,
            measurements=tuple(
                dataclasses.replace(
                    m,
                    long_axis_mm=scale(m.long_axis_mm),
                    short_axis_mm=scale(m.short_axis_mm),
                )
                for m in timepoint.measurements
            ),
        )
        for timepoint in reading.timepoints
    )
    return dataclasses.replace(reading, timepoints=timepoints)


@settings(max_examples=150, deadline=None)
@given(readings(measured_only=True), st.sampled_from([2, 3, 4]))
def test_C_scaling_all_diameters_keeps_target_response_categories(
    reading: Reading, factor: int
) -> None:
    # Only relative rules are scale-free: no nodes (10 mm CR bound), no 5 mm PD rule.
    assume(not any(lesion.is_lymph_node for lesion in reading.lesions))
    reading = dataclasses.replace(
        reading, params=dataclasses.replace(reading.params, pd_min_increase_mm=None)
    )
    original = [t.target_response for t in assess(reading).timepoints]
    scaled = [t.target_response for t in assess(_scaled(reading, factor)).timepoints]
    assert scaled == original


@settings(max_examples=150, deadline=None)
@given(readings(), st.data())
def test_E1_adding_an_unequivocal_new_lesion_always_gives_PD(
    reading: Reading, data: st.DataObject
) -> None:
    assume(len(reading.timepoints) > 1)
    index = data.draw(st.integers(min_value=1, max_value=len(reading.timepoints) - 1))
    lesion = Lesion(lesion_id="N99", role=LesionRole.NEW, organ="bone")
    timepoints = list(reading.timepoints)
    timepoints[index] = dataclasses.replace(
        timepoints[index],
        no_disease=False,  # a finding replaces the reader's "no disease" (A8)
        new_lesions=(
            *timepoints[index].new_lesions,
            NewLesionObservation(lesion_id="N99", state=NewLesionState.UNEQUIVOCAL),
        ),
    )
    changed = dataclasses.replace(
        reading, lesions=(*reading.lesions, lesion), timepoints=tuple(timepoints)
    )
    assessment = assess(changed)
    assert assessment.timepoints[index - 1].overall_response is Response.PD
    on_treatment = (
        reading.first_dose_date is None
        or timepoints[index].date >= reading.first_dose_date
    )
    if on_treatment:  # G1: then the best-response window holds a PD
        assert assessment.best_overall_response_unconfirmed.response is not Response.NE


@settings(max_examples=200, deadline=None)
@given(readings())
def test_assess_is_total_and_deterministic(reading: Reading) -> None:
    first = assess(reading)
    assert first == assess(reading)
    assert len(first.timepoints) == len(reading.timepoints) - 1
    for timepoint in first.timepoints:
        assert timepoint.reasons
        assert timepoint.reasons[-1].endswith(")")


@settings(max_examples=200, deadline=None)
@given(readings())
def test_G_confirmed_best_response_is_never_better_than_unconfirmed(
    reading: Reading,
) -> None:
    assessment = assess(reading)
    confirmed = assessment.best_overall_response_confirmed.response
    unconfirmed = assessment.best_overall_response_unconfirmed.response
    assert RANK[unconfirmed] <= RANK[confirmed]


@settings(max_examples=100, deadline=None)
@given(readings())
def test_G1_visits_after_first_progression_do_not_change_best_response(
    reading: Reading,
) -> None:
    assessment = assess(reading)
    start = reading.first_dose_date or reading.timepoints[0].date
    overall = [t.overall_response for t in assessment.timepoints]
    on_treatment_pd = [
        index
        for index, t in enumerate(assessment.timepoints)
        if t.overall_response is Response.PD and t.date >= start
    ]
    assume(on_treatment_pd)
    cut = on_treatment_pd[0] + 2  # baseline + visits up to the first PD on treatment
    truncated = dataclasses.replace(reading, timepoints=reading.timepoints[:cut])
    assume(
        [t.overall_response for t in assess(truncated).timepoints] == overall[: cut - 1]
    )
    assert assess(truncated).best_overall_response == assessment.best_overall_response


_EVENT_RESPONSES: list[tuple[Response, tuple[Response | None, Response | None]]] = [
    *(
        (response, TYPICAL_CATEGORIES[response])
        for response in (
            Response.CR,
            Response.PR,
            Response.SD,
            Response.NON_CR_NON_PD,
            Response.PD,
            Response.NE,
        )
    ),
    (Response.PR, CR_NOT_EVALUATED),  # no disease seen (G3)
    (Response.PR, (Response.CR, Response.NON_CR_NON_PD)),
    (Response.SD, (Response.SD, Response.NE)),
]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_EVENT_RESPONSES), st.integers(1, 70)),
        max_size=12,
    ),
    st.booleans(),
    st.booleans(),
    st.integers(0, 60),
)
def test_G_best_response_category_equals_the_full_derivation(
    steps: list[tuple[tuple[Response, tuple[Response | None, Response | None]], int]],
    confirmation: bool,
    no_disease: bool,
    start_offset_days: int,
) -> None:
    # The per-visit "BOR so far" takes the fast path; it must never disagree.
    start = datetime.date(2024, 1, 1)
    date = start + datetime.timedelta(days=start_offset_days)
    events = []
    for index, ((response, (target_category, nt_category)), gap_days) in enumerate(
        steps
    ):
        date += datetime.timedelta(days=gap_days)
        events.append(
            ResponseEvent(f"V{index + 1}", date, response, target_category, nt_category)
        )
    params = ResponseParameters()
    full = best_overall_response(
        events,
        reference_date=start,
        params=params,
        no_disease=no_disease,
        confirmation=confirmation,
    )
    fast = best_response_category(
        events,
        reference_date=start,
        params=params,
        no_disease=no_disease,
        confirmation=confirmation,
    )
    assert fast is full.response


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_EVENT_RESPONSES), st.integers(1, 70)),
        min_size=1,
        max_size=12,
    ),
    st.booleans(),
    st.booleans(),
)
def test_G_an_NE_or_a_repeat_of_the_best_so_far_leaves_it_unchanged(
    steps: list[tuple[tuple[Response, tuple[Response | None, Response | None]], int]],
    confirmation: bool,
    no_disease: bool,
) -> None:
    # assess() keeps the best response so far when such a visit is added (G2-G6).
    start = datetime.date(2024, 1, 1)
    date = start
    events: list[ResponseEvent] = []
    params = ResponseParameters()

    def best() -> Response:
        return best_response_category(
            events,
            reference_date=start,
            params=params,
            no_disease=no_disease,
            confirmation=confirmation,
        )

    for index, ((response, (target_category, nt_category)), gap_days) in enumerate(
        steps
    ):
        before = best()
        date += datetime.timedelta(days=gap_days)
        events.append(
            ResponseEvent(f"V{index + 1}", date, response, target_category, nt_category)
        )
        if response is Response.NE or response is before:
            assert best() is before


@st.composite
def _courses(draw: st.DrawFn) -> Reading:
    """One 40 mm target followed for up to 8 visits: CR, PR, SD, PD and NE alike."""
    day = 0
    visits = [Visit(0, {"T01": 40.0})]
    for _ in range(draw(st.integers(1, 8))):
        day += draw(st.integers(14, 70))
        value = draw(st.sampled_from(_COURSE_VALUES))
        visits.append(Visit(day, {"T01": value}))
    reading = build([target("T01")], visits, first_dose_day=draw(st.integers(0, 21)))
    confirmation = draw(st.booleans())
    return dataclasses.replace(
        reading, params=ResponseParameters(require_confirmation=confirmation)
    )


_COURSE_VALUES: list[float | str] = [0.0, 20.0, 26.0, 32.0, 36.0, 40.0, 44.0, 52.0]
_COURSE_VALUES += ["not_evaluable", "disappeared"]


@settings(max_examples=300, deadline=None)
@given(st.one_of(_courses(), readings()))
def test_G_each_visits_best_so_far_is_the_derivation_up_to_it(
    reading: Reading,
) -> None:
    confirmation = reading.params.require_confirmation
    assessment = assess(reading)
    baseline = reading.baseline
    start = reading.first_dose_date or (
        baseline.date if baseline is not None else datetime.date.min
    )
    no_disease = assessment.baseline.overall_response is Response.NED
    events: list[ResponseEvent] = []
    for visit in assessment.timepoints:
        progressed = bool(events) and events[-1].response is Response.PD
        response = visit.overall_response  # None: not read, no event
        if response is not None and visit.date >= start and not progressed:
            events.append(
                ResponseEvent(
                    visit.visit,
                    visit.date,
                    response,
                    visit.target_response,
                    visit.non_target_response,
                )
            )
        assert visit.best_overall_response_so_far is best_response_category(
            events,
            reference_date=start,
            params=reading.params,
            no_disease=no_disease,
            confirmation=confirmation,
        )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_EVENT_RESPONSES), st.integers(1, 70)),
        max_size=12,
    ),
    st.booleans(),
)
def test_dor_start_exists_exactly_for_responders_and_precedes_the_bor_date(
    steps: list[tuple[tuple[Response, tuple[Response | None, Response | None]], int]],
    confirmation: bool,
) -> None:
    # RECIST 1.1 §4.4.1: the response starts at the first CR/PR later confirmed
    start = datetime.date(2024, 1, 1)
    date = start
    events = []
    for index, ((response, (target_category, nt_category)), gap_days) in enumerate(
        steps
    ):
        date += datetime.timedelta(days=gap_days)
        events.append(
            ResponseEvent(f"V{index + 1}", date, response, target_category, nt_category)
        )
    params = ResponseParameters()
    bor = best_overall_response(
        events, reference_date=start, params=params, confirmation=confirmation
    )
    began = response_start(events, params=params, confirmation=confirmation)
    responder = bor.response in (Response.CR, Response.PR)
    assert (began is not None) is responder
    if began is not None and bor.date is not None:
        assert began.date <= bor.date
