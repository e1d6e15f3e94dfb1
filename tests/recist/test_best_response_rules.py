"""docs/rules.md section G: best overall response with and without confirmation."""

from __future__ import annotations

import datetime

import pytest

from recist_app.recist import (
    BestOverallResponse,
    Response,
    ResponseEvent,
    ResponseParameters,
    assess,
    best_overall_responses,
)
from tests.recist.builders import (
    BASE_DATE,
    CR_NOT_EVALUATED,
    Visit,
    build,
    day,
    event,
    non_target,
    target,
)

CR, PR, SD, PD, NE = Response.CR, Response.PR, Response.SD, Response.PD, Response.NE
NONCRPD = Response.NON_CR_NON_PD


def _bor(
    *responses: tuple[int, Response] | ResponseEvent,
    params: ResponseParameters | None = None,
) -> tuple[BestOverallResponse, BestOverallResponse]:
    events = [r if isinstance(r, ResponseEvent) else event(*r) for r in responses]
    return best_overall_responses(
        events, reference_date=BASE_DATE, params=params or ResponseParameters()
    )


def _confirmed(*responses: tuple[int, Response] | ResponseEvent) -> Response:
    return _bor(*responses)[0].response


# Table 3: first response at day 42, the next one 28 days later (day 70), or
# with the SD minimum not met: first at day 14, next at day 35 (both < 42 days).
TABLE_3 = [
    # first, next, BOR when the SD minimum is met, BOR when it is not
    (CR, CR, CR, None),
    (CR, PR, SD, PD),
    (CR, SD, SD, PD),
    (CR, PD, SD, PD),
    (CR, NE, SD, NE),
    (PR, CR, PR, None),
    (PR, PR, PR, None),
    (PR, SD, SD, NE),
    (PR, PD, SD, PD),
    (PR, NE, SD, NE),
    (NE, NE, NE, NE),
]


@pytest.mark.parametrize(
    ("first", "then", "expected", "_early"),
    TABLE_3,
    ids=[f"{f}-{n}->{e}" for f, n, e, _ in TABLE_3],
)
def test_G3_table_3_confirmation_sd_minimum_met(
    first: Response, then: Response, expected: Response, _early: Response | None
) -> None:
    assert _confirmed((42, first), (70, then)) is expected


EARLY = [row for row in TABLE_3 if row[3] is not None]


@pytest.mark.parametrize(
    ("first", "then", "_late", "expected"),
    EARLY,
    ids=[f"{f}-{n}->{e}" for f, n, _, e in EARLY],
)
def test_G3_table_3_confirmation_sd_minimum_not_met(
    first: Response, then: Response, _late: Response, expected: Response
) -> None:
    # both assessments before day 42; the second is too soon to confirm anyway
    assert _confirmed((14, first), (35, then)) is expected


@pytest.mark.parametrize(
    ("gap_days", "expected"),
    [(27, SD), (28, PR)],
    ids=["27-days-not-confirmed", "28-days-confirmed"],
)
def test_G2_confirmation_needs_28_days(gap_days: int, expected: Response) -> None:
    confirmed, _ = _bor((56, PR), (56 + gap_days, PR))
    assert confirmed.response is expected


def test_G2_confirmation_window_is_a_parameter() -> None:
    params = ResponseParameters(confirmation_min_days=56)
    confirmed, _ = _bor((56, PR), (98, PR), params=params)
    assert confirmed.response is SD


def test_G3_one_NE_between_does_not_break_confirmation() -> None:
    confirmed, _ = _bor((42, CR), (56, NE), (84, CR))
    assert confirmed.response is CR
    assert confirmed.confirmed
    assert confirmed.date == day(42)
    assert confirmed.confirmation_date == day(84)


def test_G3_two_NE_between_break_confirmation() -> None:
    confirmed, _ = _bor((42, PR), (56, NE), (70, NE), (98, PR))
    assert confirmed.response is SD


def test_G3_PR_confirmed_by_later_CR_is_PR() -> None:
    confirmed, _ = _bor((42, PR), (84, CR))
    assert confirmed.response is PR


def test_G3_PR_after_CR_cannot_confirm() -> None:
    confirmed, _ = _bor((42, PR), (56, CR), (84, PR))
    assert confirmed.response is SD


def test_G3_CR_confirmed_after_earlier_PR() -> None:
    confirmed, _ = _bor((42, PR), (84, CR), (126, CR))
    assert confirmed.response is CR
    assert confirmed.date == day(84)


def test_G3_CR_then_PR_flags_the_table_3_footnote() -> None:
    confirmed, _ = _bor((14, CR), (35, PR))
    assert confirmed.response is PD
    assert "Table 3 footnote" in confirmed.reasons[0]


@pytest.mark.parametrize(
    ("sd_day", "expected"),
    [(41, NE), (42, SD)],
    ids=["day-41-too-early", "day-42-qualifies"],
)
def test_G4_stable_disease_needs_42_days_after_start(
    sd_day: int, expected: Response
) -> None:
    confirmed, unconfirmed = _bor((sd_day, SD))
    assert confirmed.response is expected
    assert unconfirmed.response is expected


def test_G4_early_SD_then_PD_is_PD() -> None:
    confirmed, _ = _bor((30, SD), (60, PD))
    assert confirmed.response is PD
    assert confirmed.date == day(60)


def test_G4_counts_from_first_dose_when_known() -> None:
    lesions = [target("T01")]
    visits = [Visit(0, {"T01": 50.0}), Visit(45, {"T01": 48.0})]
    from_baseline = assess(build(lesions, visits)).best_overall_response
    from_dose = assess(build(lesions, visits, first_dose_day=7)).best_overall_response
    assert from_baseline.response is SD  # day 45 after baseline
    assert from_dose.response is NE  # day 38 after first dose


def test_G4_sd_minimum_is_a_parameter() -> None:
    params = ResponseParameters(sd_min_days=56)
    confirmed, _ = _bor((42, SD), params=params)
    assert confirmed.response is NE


def test_G4_non_CR_non_PD_needs_the_same_minimum() -> None:
    assert _confirmed((42, NONCRPD)) is NONCRPD
    assert _confirmed((30, NONCRPD)) is NE


def test_G1_best_response_stops_at_first_progression() -> None:
    confirmed, unconfirmed = _bor((42, SD), (84, PD), (126, PR), (168, PR))
    assert confirmed.response is SD
    assert unconfirmed.response is SD


def test_G1_ignores_assessments_before_first_dose() -> None:
    lesions = [target("T01")]
    visits = [
        Visit(0, {"T01": 50.0}),
        Visit(3, {"T01": 30.0}),  # before treatment start
        Visit(50, {"T01": 48.0}),
    ]
    bor = assess(build(lesions, visits, first_dose_day=5)).best_overall_response
    assert bor.response is SD


def test_G5_without_confirmation_best_single_response_counts() -> None:
    confirmed, unconfirmed = _bor((42, PR), (70, SD))
    assert unconfirmed.response is PR
    assert not unconfirmed.confirmed
    assert confirmed.response is SD


def test_G5_require_confirmation_false_selects_unconfirmed() -> None:
    lesions = [target("T01")]
    visits = [
        Visit(0, {"T01": 50.0}),
        Visit(42, {"T01": 30.0}),
        Visit(70, {"T01": 45.0}),
    ]
    params = ResponseParameters(require_confirmation=False)
    assessment = assess(build(lesions, visits, params=params))
    assert assessment.best_overall_response.response is PR
    assert assessment.best_overall_response_confirmed.response is SD


def test_G6_unconfirmed_PR_followed_by_SD_is_SD() -> None:
    confirmed, _ = _bor((42, PR), (84, SD))
    assert confirmed.response is SD
    assert any("not confirmed" in reason for reason in confirmed.reasons)


def test_no_follow_up_is_NE() -> None:
    confirmed, unconfirmed = _bor()
    assert confirmed.response is NE
    assert unconfirmed.response is NE


def test_best_response_so_far_uses_only_earlier_visits() -> None:
    lesions = [target("T01")]
    visits = [
        Visit(0, {"T01": 50.0}),
        Visit(28, {"T01": 30.0}),
        Visit(56, {"T01": 30.0}),
        Visit(84, {"T01": 40.0}),
    ]
    so_far = [
        t.best_overall_response_so_far
        for t in assess(build(lesions, visits)).timepoints
    ]
    assert so_far == [NE, PR, PR]


def test_standards_example_confirmed_PR() -> None:
    # docs/standards.md 1.3: week 6 −31.7 % PR, week 12 −37.8 % PR 42 days later
    lesions = [target("T01"), target("T02", "lung"), target("T03", node=True)]
    reading = build(
        lesions,
        [
            Visit(0, {"T01": 42.0, "T02": 18.0, "T03": 22.0}),
            Visit(49, {"T01": 30.0, "T02": 12.0, "T03": 14.0}),
            Visit(91, {"T01": 28.0, "T02": 11.0, "T03": 12.0}),
        ],
        first_dose_day=7,
    )
    assessment = assess(reading)
    assert [t.change_from_baseline_pct for t in assessment.timepoints] == [-31.7, -37.8]
    bor = assessment.best_overall_response
    assert (bor.response, bor.confirmed) == (PR, True)
    assert bor.date == BASE_DATE + datetime.timedelta(days=49)
    assert bor.confirmation_date == BASE_DATE + datetime.timedelta(days=91)


# G3, Table 3 after a CR: the next visit's targets and non-targets tell whether
# disease was seen again (footnote: PD) or the non-targets were not evaluated.
# (first day, next day, next visit's categories, confirmed BOR)
AFTER_CR = [
    ("not-evaluated-early", 14, 35, CR_NOT_EVALUATED, NE),
    ("not-evaluated-sd-minimum-met", 42, 70, CR_NOT_EVALUATED, SD),
    ("residual-target-early", 14, 35, (PR, Response.CR), PD),
    ("non-target-present-early", 14, 35, (CR, NONCRPD), PD),
    ("residual-target-sd-minimum-met", 42, 70, (PR, NONCRPD), SD),
]


@pytest.mark.parametrize(
    ("first_day", "next_day", "categories", "expected"),
    [row[1:] for row in AFTER_CR],
    ids=[row[0] for row in AFTER_CR],
)
def test_G3_cr_then_pr_is_pd_only_when_disease_was_seen(
    first_day: int,
    next_day: int,
    categories: tuple[Response | None, Response | None],
    expected: Response,
) -> None:
    confirmed = _bor((first_day, CR), event(next_day, PR, categories))[0]
    assert confirmed.response is expected


def test_G3_cr_then_not_evaluated_is_ne() -> None:
    # targets still CR, non-targets not evaluated: PR by Table 1, no disease seen
    confirmed, unconfirmed = _bor((14, CR), event(35, PR, CR_NOT_EVALUATED))
    assert confirmed.response is NE
    assert not any("Table 3 footnote" in r and "PD" in r for r in confirmed.reasons)
    assert any("no disease seen after the CR" in r for r in confirmed.reasons)
    assert unconfirmed.response is CR  # G5: the best single response


def test_G3_cr_then_not_evaluated_is_sd_once_sd_minimum_met() -> None:
    confirmed, _ = _bor((42, CR), event(70, PR, CR_NOT_EVALUATED))
    assert confirmed.response is SD


def test_G3_cr_then_not_evaluated_then_disease_is_pd() -> None:
    confirmed, _ = _bor((14, CR), event(28, PR, CR_NOT_EVALUATED), (35, SD))
    assert confirmed.response is PD
    assert "Table 3 footnote" in confirmed.reasons[-1]


def test_G3_pr_after_cr_with_non_targets_not_evaluated_confirms_the_pr() -> None:
    # admiralonco's "no PR after a CR" is about disease seen again: targets still
    # CR with non-targets not evaluated confirm the PR (STANDARDS.md 3.2)
    confirmed, _ = _bor((42, PR), (56, CR), event(84, PR, CR_NOT_EVALUATED))
    assert (confirmed.response, confirmed.confirmed) == (PR, True)
    assert (confirmed.date, confirmed.confirmation_date) == (day(42), day(84))


def test_G3_pr_after_cr_with_disease_seen_still_cannot_confirm() -> None:
    confirmed, _ = _bor((42, PR), (56, CR), event(84, PR, (PR, NONCRPD)))
    assert confirmed.response is SD


@pytest.mark.parametrize(
    ("max_ne", "expected"),
    [(1, CR), (0, PR)],  # without an NE allowed, that visit's PR is confirmed
    ids=["counts-as-the-one-ne-allowed", "no-ne-allowed"],
)
def test_G3_cr_confirmed_across_a_visit_with_non_targets_not_evaluated(
    max_ne: int, expected: Response
) -> None:
    params = ResponseParameters(max_ne_between_confirmation=max_ne)
    confirmed, _ = _bor(
        (42, CR), event(70, PR, CR_NOT_EVALUATED), (98, CR), params=params
    )
    assert confirmed.response is expected


def test_G3_cr_then_not_evaluated_through_assess_is_ne() -> None:
    # the engine gives the events their categories: CR at day 14 (targets gone,
    # non-target absent), day 35 targets still gone, non-target not evaluated
    lesions = [target("T01"), non_target("NT01")]
    reading = build(
        lesions,
        [
            Visit(0, {"T01": 30.0}, {"NT01": "present"}),
            Visit(14, {"T01": "disappeared"}, {"NT01": "absent"}),
            Visit(35, {"T01": "disappeared"}, {"NT01": "not_evaluable"}),
        ],
    )
    assessment = assess(reading)
    assert [t.overall_response for t in assessment.timepoints] == [CR, PR]
    assert assessment.best_overall_response_confirmed.response is NE
    assert assessment.timepoints[-1].best_overall_response_so_far is NE
