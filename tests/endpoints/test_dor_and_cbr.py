"""Duration of response and clinical benefit (docs/standards.md 3.3, 3.5).

Days: ``day(n)`` is n days after the first dose (study day n + 1); durations are
end − start + 1 days, as ADTTE's AVAL.
"""

from __future__ import annotations

import datetime

import pytest

from recist_app.endpoints import (
    CbrDefinition,
    EndpointOptions,
    Population,
    SubjectEndpoints,
    compute_trial_endpoints,
    derive_subject,
)
from recist_app.recist import (
    Lesion,
    LesionRole,
    NonTargetAssessment,
    Reading,
    Response,
    TimePoint,
)
from tests.endpoints._builders import (
    FIRST_DOSE,
    day,
    make_clinical,
    make_reading,
)

SD_24_WEEKS = EndpointOptions(cbr_definition=CbrDefinition.CR_PR_SD_24_WEEKS)


def derive(
    visits: list[tuple[int, str]],
    *,
    options: EndpointOptions | None = None,
    death: int | None = None,
    new_therapy: int | None = None,
) -> SubjectEndpoints:
    return derive_subject(
        make_reading("P1", visits),
        make_clinical("P1", death=death, new_therapy=new_therapy),
        options or EndpointOptions(),
    )


# (visits, confirmation required, DOR start day): RECIST 1.1 §4.4.1, DOR runs from
# the first CR/PR that was later confirmed (whichever is first recorded).
DOR_STARTS = [
    ("pr-confirmed-by-cr-then-cr", [(56, "PR"), (84, "CR"), (112, "CR")], True, 56),
    (
        "pr-unconfirmed-then-pr-confirmed",
        [(28, "PR"), (56, "SD"), (84, "PR"), (112, "PR")],
        True,
        84,
    ),
    ("cr-after-pr-only-14-days", [(56, "PR"), (70, "CR"), (98, "CR")], True, 56),
    ("unconfirmed-first-cr-or-pr", [(28, "PR"), (56, "CR")], False, 28),
]


@pytest.mark.parametrize(
    ("visits", "confirmed", "start_day"),
    [row[1:] for row in DOR_STARTS],
    ids=[row[0] for row in DOR_STARTS],
)
def test_dor_starts_at_first_confirmed_response(
    visits: list[tuple[int, str]], confirmed: bool, start_day: int
) -> None:
    subject = derive(visits, options=EndpointOptions(use_confirmed_response=confirmed))
    assert subject.responder
    assert subject.dor is not None
    assert subject.dor.start_date == day(start_day)
    assert subject.dor.end_date == subject.pfs.end_date


def test_dor_starts_at_the_pr_although_the_bor_is_the_later_cr() -> None:
    subject = derive([(56, "PR"), (84, "CR"), (112, "CR"), (140, "PD")])
    assert subject.bor.response is Response.CR
    assert subject.bor.date == day(84)  # the BOR names its own first CR
    assert subject.dor is not None
    assert (subject.dor.start_date, subject.dor.end_date) == (day(56), day(140))
    assert subject.dor.days == 140 - 56 + 1
    assert subject.dor.event


def test_median_dor_and_its_numbers_at_risk_follow_the_start() -> None:
    readings = [
        make_reading(f"P{i}", [(56, "PR"), (84, "CR"), (112, "CR"), (140 + i, "PD")])
        for i in range(4)
    ]
    clinical = [make_clinical(f"P{i}") for i in range(4)]
    result = compute_trial_endpoints(readings, clinical)
    assert result.dor.events == 4
    # from the PR at day 56, not the CR at day 84: 85, 86, 87, 88 days
    assert result.dor.median_days == pytest.approx(86.0)


# CBR "response-6m": a responder whose DOR (end − start + 1) is ≥ 183 days,
# whether PD ended it or it is censored after that long.
RESPONSE_6M = [
    ("pd-dor-182-days", 56 + 181, None, False),
    ("pd-dor-183-days", 56 + 182, None, True),
    ("censored-dor-182-days", None, 56 + 181, False),
    ("censored-dor-183-days", None, 56 + 182, True),
]


@pytest.mark.parametrize(
    ("pd_day", "last_day", "counts"),
    [row[1:] for row in RESPONSE_6M],
    ids=[row[0] for row in RESPONSE_6M],
)
def test_cbr_response_6m_needs_a_dor_of_183_days(
    pd_day: int | None, last_day: int | None, counts: bool
) -> None:
    # monthly scans, so no PD follows missed assessments (PFS row 5)
    visits = [(56, "PR"), *((d, "CR") for d in range(84, 56 + 170, 28))]
    if pd_day is not None:
        visits.append((pd_day, "PD"))
    if last_day is not None:
        visits.append((last_day, "CR"))
    subject = derive(visits)
    assert subject.dor is not None
    assert subject.dor.start_date == day(56)
    assert subject.clinical_benefit is counts


# CBR "cr-pr-sd-24w": SD lasts from the first dose until progression criteria are
# met (RECIST 1.1 §4.4.2), days end − start + 1; 24 weeks = 168 days.
SD_24W = [
    ("sd-then-pd-lasting-180-days", [(151, "SD"), (179, "PD")], True),
    ("sd-then-pd-lasting-168-days", [(100, "SD"), (167, "PD")], True),
    ("sd-then-pd-lasting-167-days", [(100, "SD"), (166, "PD")], False),
    ("sd-documented-168-days", [(84, "SD"), (167, "SD")], True),
    ("sd-documented-167-days", [(84, "SD"), (166, "SD")], False),
    ("sd-then-not-evaluable", [(84, "SD"), (196, "NE")], False),
    ("confirmed-pr-counts", [(28, "PR"), (56, "PR"), (84, "PD")], True),
    ("early-sd-is-no-sd", [(30, "SD"), (200, "PD")], False),
]


@pytest.mark.parametrize(
    ("visits", "counts"),
    [row[1:] for row in SD_24W],
    ids=[row[0] for row in SD_24W],
)
def test_cbr_sd_24_weeks_lasts_until_progression(
    visits: list[tuple[int, str]], counts: bool
) -> None:
    assert derive(visits, options=SD_24_WEEKS).clinical_benefit is counts


def test_cbr_sd_lasts_until_new_therapy_only_as_documented() -> None:
    # a PD after a new anticancer therapy does not extend the SD documented
    subject = derive([(84, "SD"), (140, "SD"), (300, "PD")], options=SD_24_WEEKS)
    assert subject.clinical_benefit
    stopped = derive(
        [(84, "SD"), (140, "SD"), (300, "PD")], options=SD_24_WEEKS, new_therapy=150
    )
    assert not stopped.clinical_benefit


def _non_target_only(patient_id: str, days: list[int]) -> Reading:
    lesion = Lesion(lesion_id="NT01", role=LesionRole.NON_TARGET, organ="bone")
    present = (NonTargetAssessment(lesion_id="NT01"),)
    return Reading(
        patient_id=patient_id,
        first_dose_date=FIRST_DOSE,
        lesions=(lesion,),
        timepoints=(
            TimePoint(
                visit="BASELINE",
                date=FIRST_DOSE - datetime.timedelta(days=7),
                is_baseline=True,
                non_target=present,
            ),
            *(
                TimePoint(visit=f"V{n}", date=day(d), non_target=present)
                for n, d in enumerate(days, start=1)
            ),
        ),
    )


@pytest.mark.parametrize(
    ("counts_non_cr_non_pd", "expected"),
    [(False, False), (True, True)],
    ids=["not-sd-by-default", "counted-when-asked"],
)
def test_cbr_non_cr_non_pd_is_not_sd_unless_asked(
    counts_non_cr_non_pd: bool, expected: bool
) -> None:
    options = EndpointOptions(
        cbr_definition=CbrDefinition.CR_PR_SD_24_WEEKS,
        cbr_counts_non_cr_non_pd=counts_non_cr_non_pd,
        population=Population.ALL_TREATED,
    )
    subject = derive_subject(
        _non_target_only("P1", [84, 196]), make_clinical("P1"), options
    )
    assert subject.bor.response is Response.NON_CR_NON_PD
    assert subject.disease_control  # DCR counts it with population "all"
    assert subject.clinical_benefit is expected
