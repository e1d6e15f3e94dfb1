"""BOR derivation through the endpoint pipeline (docs/standards.md 3.1–3.2)."""

from __future__ import annotations

import pytest

from recist_app.endpoints import EndpointOptions, SubjectEndpoints, derive_subject
from recist_app.recist import Response
from tests.endpoints._builders import day, make_clinical, make_reading


def derive(
    visits: list[tuple[int, str]],
    *,
    new_therapy: int | None = None,
    options: EndpointOptions | None = None,
) -> SubjectEndpoints:
    return derive_subject(
        make_reading("P1", visits),
        make_clinical("P1", new_therapy=new_therapy),
        options or EndpointOptions(),
    )


def test_confirmation_with_one_intervening_ne_confirms_pr() -> None:
    subject = derive([(28, "PR"), (56, "NE"), (84, "PR")])
    bor = subject.bor_confirmed
    assert (bor.response, bor.confirmed) == (Response.PR, True)
    assert (bor.date, bor.confirmation_date) == (day(28), day(84))
    assert subject.responder
    assert subject.dor is not None
    assert subject.dor.start_date == day(28)


def test_two_intervening_ne_break_the_confirmation() -> None:
    subject = derive([(28, "PR"), (56, "NE"), (70, "NE"), (112, "PR")])
    assert subject.bor_confirmed.response is Response.SD
    assert subject.bor_unconfirmed.response is Response.PR
    assert not subject.responder
    assert subject.disease_control


@pytest.mark.parametrize(
    ("visits", "expected"),
    [
        ([(35, "SD"), (63, "PD")], Response.PD),
        ([(42, "SD"), (70, "PD")], Response.SD),
        ([(28, "PR"), (49, "PD")], Response.PD),
    ],
    ids=["sd-day-35-too-early", "sd-day-42-counts", "unconfirmed-early-pr-then-pd"],
)
def test_late_sd_needs_42_days_after_first_dose(
    visits: list[tuple[int, str]], expected: Response
) -> None:
    assert derive(visits).bor_confirmed.response is expected


def test_cr_followed_by_pr_is_neither_confirmed_cr_nor_pr() -> None:
    subject = derive([(28, "CR"), (56, "PR")])
    assert subject.bor_confirmed.response is Response.SD
    assert subject.bor_unconfirmed.response is Response.CR
    assert subject.first_response_date == day(28)


def test_cr_followed_by_pr_then_pr_confirms_pr_from_the_later_pr() -> None:
    bor = derive([(28, "CR"), (56, "PR"), (84, "PR")]).bor_confirmed
    assert (bor.response, bor.date, bor.confirmation_date) == (
        Response.PR,
        day(56),
        day(84),
    )


def test_confirmed_cr() -> None:
    bor = derive([(28, "CR"), (56, "CR")]).bor_confirmed
    assert (bor.response, bor.confirmed) == (Response.CR, True)


def test_responses_after_new_therapy_do_not_count() -> None:
    subject = derive([(28, "PR"), (56, "PR")], new_therapy=40)
    assert subject.bor_confirmed.response is not Response.PR
    assert not subject.responder


def test_unconfirmed_option_counts_a_single_pr_as_response() -> None:
    subject = derive(
        [(28, "PR"), (56, "SD")], options=EndpointOptions(use_confirmed_response=False)
    )
    assert subject.bor.response is Response.PR
    assert subject.responder


def test_no_post_baseline_assessment_is_missing() -> None:
    subject = derive([])
    assert subject.bor_missing
    assert subject.bor_category == "MISSING"
    assert not subject.disease_control
