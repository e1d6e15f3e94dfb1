"""One test per PFS censoring row of docs/standards.md 3.4 (rows 1–7), plus switches.

Monthly scans: interval 28 days, window 7 days, so "2 missed assessments" means a
gap of more than 2 × 28 + 7 = 63 days. Durations are end − first dose + 1 days.
"""

from __future__ import annotations

from recist_app.endpoints import (
    CNSR_EVENT,
    EndpointOptions,
    PfsCensoring,
    SubjectEndpoints,
    derive_subject,
)
from tests.endpoints._builders import day, make_clinical, make_reading

PRIMARY = EndpointOptions()


def derive(
    visits: list[tuple[int, str]],
    *,
    options: EndpointOptions = PRIMARY,
    baseline: bool = True,
    death: int | None = None,
    new_therapy: int | None = None,
) -> SubjectEndpoints:
    return derive_subject(
        make_reading("P1", visits, baseline=baseline),
        make_clinical("P1", death=death, new_therapy=new_therapy),
        options,
    )


def test_row1_no_baseline_assessment_censored_at_first_dose() -> None:
    pfs = derive([(28, "SD"), (56, "PD")], baseline=False).pfs
    assert (pfs.event, pfs.cnsr, pfs.end_date, pfs.days) == (
        False,
        PfsCensoring.NO_BASELINE,
        day(0),
        1,
    )


def test_row1_treated_patient_never_read_censored_at_first_dose() -> None:
    subject = derive_subject(None, make_clinical("P9", death=30), PRIMARY)
    assert subject.pfs.cnsr == PfsCensoring.NO_BASELINE
    assert subject.bor_missing
    assert subject.os.event


def test_row2_no_adequate_assessment_and_no_early_death_censored_at_first_dose() -> (
    None
):
    pfs = derive([(28, "NE"), (56, "NE")]).pfs
    assert (pfs.event, pfs.cnsr, pfs.end_date) == (
        False,
        PfsCensoring.NO_ADEQUATE_ASSESSMENT,
        day(0),
    )
    late_death = derive([(28, "NE")], death=100).pfs
    assert late_death.cnsr == PfsCensoring.NO_ADEQUATE_ASSESSMENT
    assert late_death.end_date == day(0)


def test_row3_documented_progression_is_an_event_at_the_pd_visit() -> None:
    pfs = derive([(28, "SD"), (56, "SD"), (84, "PD")]).pfs
    assert (pfs.event, pfs.cnsr, pfs.end_date, pfs.days) == (
        True,
        CNSR_EVENT,
        day(84),
        85,
    )
    unscheduled = derive([(28, "SD"), (40, "PD")]).pfs
    assert (unscheduled.event, unscheduled.end_date) == (True, day(40))


def test_row4_death_without_progression_within_two_intervals_is_an_event() -> None:
    pfs = derive([(28, "SD")], death=28 + 63).pfs
    assert (pfs.event, pfs.cnsr, pfs.end_date) == (True, CNSR_EVENT, day(91))
    before_first_scan = derive([], death=20).pfs
    assert (before_first_scan.event, before_first_scan.end_date) == (True, day(20))


def test_row5_event_after_two_missed_assessments_censored_at_last_adequate() -> None:
    progression = derive([(28, "SD"), (28 + 64, "PD")]).pfs
    assert (progression.event, progression.cnsr, progression.end_date) == (
        False,
        PfsCensoring.MISSED_ASSESSMENTS,
        day(28),
    )
    death = derive([(28, "SD"), (56, "NE")], death=150).pfs
    assert (death.cnsr, death.end_date) == (PfsCensoring.MISSED_ASSESSMENTS, day(28))


def test_row5_switched_off_counts_the_late_event() -> None:
    options = EndpointOptions(censor_after_missed_assessments=False)
    pfs = derive([(28, "SD"), (28 + 64, "PD")], options=options).pfs
    assert (pfs.event, pfs.end_date) == (True, day(92))


def test_row6_new_therapy_before_progression_censored_at_last_adequate_before() -> None:
    pfs = derive([(28, "SD"), (56, "SD"), (84, "PD")], new_therapy=60).pfs
    assert (pfs.event, pfs.cnsr, pfs.end_date) == (
        False,
        PfsCensoring.NEW_THERAPY,
        day(56),
    )
    same_day = derive([(28, "SD"), (56, "SD")], new_therapy=56).pfs
    assert (same_day.cnsr, same_day.end_date) == (PfsCensoring.NEW_THERAPY, day(56))
    after_pd = derive([(28, "SD"), (56, "PD")], new_therapy=70).pfs
    assert (after_pd.event, after_pd.end_date) == (True, day(56))


def test_row6_switched_off_ignores_the_new_therapy() -> None:
    options = EndpointOptions(censor_at_new_therapy=False)
    pfs = derive([(28, "SD"), (56, "SD"), (84, "PD")], new_therapy=60, options=options)
    assert (pfs.pfs.event, pfs.pfs.end_date) == (True, day(84))


def test_row7_alive_without_progression_censored_at_last_adequate_assessment() -> None:
    pfs = derive([(28, "SD"), (56, "PR"), (84, "PR"), (112, "NE")]).pfs
    assert (pfs.event, pfs.cnsr, pfs.end_date, pfs.days) == (
        False,
        PfsCensoring.NO_EVENT,
        day(84),
        85,
    )


def test_row7_scans_and_death_after_cutoff_are_ignored() -> None:
    subject = derive_subject(
        make_reading("P1", [(28, "SD"), (56, "SD"), (84, "PD")]),
        make_clinical("P1", death=100, cutoff=day(60)),
        PRIMARY,
    )
    assert (subject.pfs.cnsr, subject.pfs.end_date) == (
        PfsCensoring.NO_EVENT,
        day(56),
    )
    assert subject.death_date is None
    assert not subject.os.event
    assert subject.os.end_date == day(60)  # died after the cut-off: alive at it
