"""Time to progression (docs/standards.md 3.5, TTP): PFS without death as an event.

Each PFS censoring row (docs/standards.md 3.4) is checked for TTP against the
same situation's PFS: progression is the same event and the same censoring rows
apply; only a death without progression differs — censored at the last adequate
assessment (CNSR 6), or at the first dose when there is none (CNSR 2). The trial
level is recomputed with lifelines from the subjects' TTP rows.
"""

from __future__ import annotations

import math

import pytest
from lifelines import KaplanMeierFitter

from recist_app.endpoints import (
    CNSR_EVENT,
    EndpointOptions,
    PfsCensoring,
    SubjectEndpoints,
    TtpCensoring,
    compute_trial_endpoints,
    derive_subject,
    endpoints_to_dict,
    simulate_trial,
    subjects_table,
)
from tests.endpoints._builders import day, make_clinical, make_reading

PRIMARY = EndpointOptions()
EVENT = CNSR_EVENT


def derive(
    visits: list[tuple[int, str]],
    *,
    baseline: bool = True,
    death: int | None = None,
    new_therapy: int | None = None,
) -> SubjectEndpoints:
    return derive_subject(
        make_reading("P1", visits, baseline=baseline),
        make_clinical("P1", death=death, new_therapy=new_therapy),
        PRIMARY,
    )


# situation, visits, death, new therapy, baseline -> PFS (cnsr, end day),
# TTP (cnsr, end day)
CASES = [
    (
        "row1_no_baseline",
        [(28, "SD"), (56, "PD")],
        None,
        None,
        False,
        (PfsCensoring.NO_BASELINE, 0),
        (PfsCensoring.NO_BASELINE, 0),
    ),
    (
        "row2_no_adequate_assessment",
        [(28, "NE"), (56, "NE")],
        None,
        None,
        True,
        (PfsCensoring.NO_ADEQUATE_ASSESSMENT, 0),
        (PfsCensoring.NO_ADEQUATE_ASSESSMENT, 0),
    ),
    (
        "row3_progression_is_the_event",
        [(28, "SD"), (56, "SD"), (84, "PD")],
        None,
        None,
        True,
        (EVENT, 84),
        (EVENT, 84),
    ),
    (
        "row3_progression_then_death_is_the_progression",
        [(28, "SD"), (56, "PD")],
        120,
        None,
        True,
        (EVENT, 56),
        (EVENT, 56),
    ),
    (
        "row4_death_without_progression_is_censored_at_last_adequate",
        [(28, "SD"), (56, "SD")],
        80,
        None,
        True,
        (EVENT, 80),
        (TtpCensoring.DEATH_WITHOUT_PROGRESSION, 56),
    ),
    (
        "row4_death_before_any_assessment_is_censored_at_first_dose",
        [],
        20,
        None,
        True,
        (EVENT, 20),
        (PfsCensoring.NO_ADEQUATE_ASSESSMENT, 0),
    ),
    (
        "row5_progression_after_missed_assessments",
        [(28, "SD"), (28 + 64, "PD")],
        None,
        None,
        True,
        (PfsCensoring.MISSED_ASSESSMENTS, 28),
        (PfsCensoring.MISSED_ASSESSMENTS, 28),
    ),
    (
        "row5_late_death_is_death_without_progression",
        [(28, "SD"), (56, "NE")],
        150,
        None,
        True,
        (PfsCensoring.MISSED_ASSESSMENTS, 28),
        (TtpCensoring.DEATH_WITHOUT_PROGRESSION, 28),
    ),
    (
        "row6_new_therapy_before_progression",
        [(28, "SD"), (56, "SD"), (84, "PD")],
        None,
        60,
        True,
        (PfsCensoring.NEW_THERAPY, 56),
        (PfsCensoring.NEW_THERAPY, 56),
    ),
    (
        "row6_new_therapy_then_death",
        [(28, "SD"), (56, "SD")],
        100,
        60,
        True,
        (PfsCensoring.NEW_THERAPY, 56),
        (PfsCensoring.NEW_THERAPY, 56),
    ),
    (
        "row7_alive_without_progression",
        [(28, "SD"), (56, "PR")],
        None,
        None,
        True,
        (PfsCensoring.NO_EVENT, 56),
        (PfsCensoring.NO_EVENT, 56),
    ),
]


@pytest.mark.parametrize(
    ("visits", "death", "new_therapy", "baseline", "pfs_expected", "ttp_expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_TTP_censors_death_without_progression_and_otherwise_follows_pfs(
    visits: list[tuple[int, str]],
    death: int | None,
    new_therapy: int | None,
    baseline: bool,
    pfs_expected: tuple[int, int],
    ttp_expected: tuple[int, int],
) -> None:
    subject = derive(visits, death=death, new_therapy=new_therapy, baseline=baseline)
    for tte, (cnsr, end) in ((subject.pfs, pfs_expected), (subject.ttp, ttp_expected)):
        assert (tte.cnsr, tte.end_date, tte.event) == (cnsr, day(end), cnsr == EVENT)
        assert tte.days == end + 1
        assert tte.start_date == day(0)
    if subject.ttp.cnsr == TtpCensoring.DEATH_WITHOUT_PROGRESSION:
        assert subject.ttp.reason.startswith("death")


def test_TTP_under_irecist_an_iupd_followed_by_death_is_progression() -> None:
    from dataclasses import replace

    from recist_app.recist import Criteria

    reading = replace(
        make_reading("P1", [(28, "SD"), (56, "PD")]), criteria=Criteria.IRECIST
    )
    died = derive_subject(reading, make_clinical("P1", death=70), PRIMARY)
    assert (died.ttp.event, died.ttp.end_date) == (True, day(56))
    assert died.ttp == died.pfs
    alive = derive_subject(reading, make_clinical("P1"), PRIMARY)
    assert (alive.ttp.event, alive.ttp.cnsr) == (False, PfsCensoring.NO_EVENT)


def test_trial_TTP_is_kaplan_meier_of_the_subjects_rows_recomputed_with_lifelines() -> (
    None
):
    trial = simulate_trial(76)
    result = compute_trial_endpoints(trial.readings, trial.clinical)
    table = subjects_table(result)
    rows = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
    durations = [int(row["ttp_days"]) for row in rows]
    events = [row["ttp_event"] == "Y" for row in rows]
    # Deaths without progression are the only difference from PFS.
    for row in rows:
        if row["pfs_event"] != row["ttp_event"]:
            assert row["pfs_event"] == "Y"
            assert row["progression_date"] == ""
            assert row["ttp_cnsr"] in {
                str(TtpCensoring.DEATH_WITHOUT_PROGRESSION),
                str(PfsCensoring.NO_ADEQUATE_ASSESSMENT),
            }
    assert sum(events) < sum(row["pfs_event"] == "Y" for row in rows)
    fitter = KaplanMeierFitter().fit(durations, events)
    written = endpoints_to_dict(result)["ttp"]
    assert written["events"] == sum(events)
    assert written["subjects"] == 76
    assert written["median_days"] == pytest.approx(fitter.median_survival_time_)
    for rate, months in zip(written["rates"], (3, 6), strict=True):
        expected = float(fitter.survival_function_at_times(months * 30.4375).iloc[0])
        assert rate["estimate"] == pytest.approx(expected, abs=1e-6)
        assert rate["ci_lower"] < rate["estimate"] < rate["ci_upper"]
    for point in written["numbers_at_risk"]:
        assert point["at_risk"] == sum(d >= point["time_days"] for d in durations)
    assert math.isfinite(written["median_ci_lower_days"])
    assert [row["ttp_reason"] for row in rows] == [
        s.ttp.reason for s in result.subjects
    ]
