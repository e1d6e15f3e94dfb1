"""docs/standards.md 3.3 (Clopper–Pearson) and 3.6 (Kaplan–Meier) test vectors."""

from __future__ import annotations

import math

import pytest

from recist_app.endpoints import (
    EndpointError,
    LandmarkEstimate,
    SurvivalCi,
    clopper_pearson,
    kaplan_meier,
)


@pytest.mark.parametrize(
    ("count", "total", "estimate", "lower", "upper"),
    [
        (7, 50, 0.14, 0.0582, 0.2674),
        (23, 76, 0.3026, 0.2025, 0.4187),
        (0, 76, 0.0, 0.0, 0.0474),
        (76, 76, 1.0, 0.9526, 1.0),
    ],
    ids=["scipy-docs-7of50", "23of76", "0of76", "76of76"],
)
def test_clopper_pearson_reproduces_standards_vectors(
    count: int, total: int, estimate: float, lower: float, upper: float
) -> None:
    result = clopper_pearson(count, total)
    assert result.estimate is not None
    assert result.lower is not None
    assert result.upper is not None
    assert round(result.estimate, 4) == estimate
    assert round(result.lower, 4) == lower
    assert round(result.upper, 4) == upper


def test_clopper_pearson_of_empty_population_is_not_estimable() -> None:
    result = clopper_pearson(0, 0)
    assert (result.estimate, result.lower, result.upper) == (None, None, None)


def test_clopper_pearson_rejects_impossible_counts() -> None:
    with pytest.raises(EndpointError, match="count <= total"):
        clopper_pearson(5, 3)


DURATIONS = [30.0, 45, 60, 60, 90, 120, 150, 180, 200, 250, 300, 365]
EVENTS = [bool(e) for e in (1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 0)]


def test_kaplan_meier_median_and_its_interval_match_standards_vector() -> None:
    fit = kaplan_meier(DURATIONS, EVENTS, label="PFS")
    assert fit.median_days == 200
    assert fit.median_lower_days == 60
    assert fit.median_upper_days == math.inf
    assert (fit.subjects, fit.events, fit.censored) == (12, 7, 5)


@pytest.mark.parametrize(
    ("time_days", "survival", "lower", "upper"),
    [(91.31, 0.7333, 0.3790, 0.9056), (182.63, 0.5238, 0.2013, 0.7704)],
    ids=["3-months", "6-months"],
)
def test_kaplan_meier_landmarks_match_standards_vector(
    time_days: float, survival: float, lower: float, upper: float
) -> None:
    estimate = kaplan_meier(DURATIONS, EVENTS, label="PFS").at(time_days)
    assert estimate.estimable
    assert estimate.survival is not None
    assert estimate.lower is not None
    assert estimate.upper is not None
    assert round(estimate.survival, 4) == survival
    assert round(estimate.lower, 4) == lower
    assert round(estimate.upper, 4) == upper


def test_linear_greenwood_interval_matches_standards_vector() -> None:
    fit = kaplan_meier(DURATIONS, EVENTS, label="PFS", ci_method=SurvivalCi.LINEAR)
    estimate = fit.at(182.63)
    assert estimate.lower is not None
    assert estimate.upper is not None
    assert round(estimate.lower, 4) == 0.2163
    assert round(estimate.upper, 4) == 0.8313


def test_landmark_beyond_last_follow_up_is_not_estimable() -> None:
    estimate = kaplan_meier(DURATIONS, EVENTS, label="PFS").at(400)
    assert not estimate.estimable
    assert estimate.survival is None


def test_median_when_survival_sits_exactly_at_half_is_start_of_interval() -> None:
    # Ŝ = 0.5 on [20, 30): lifelines (and we) report 20; SAS/R would report 25.
    fit = kaplan_meier([10.0, 20, 30, 40], [True] * 4, label="OS")
    assert fit.at(25).survival == 0.5
    assert fit.median_days == 20


def test_median_not_reached_is_infinite() -> None:
    fit = kaplan_meier([10.0, 20, 30, 40], [True, False, False, False], label="OS")
    assert fit.median_days == math.inf


def test_numbers_at_risk_count_follow_up_at_or_after_time() -> None:
    fit = kaplan_meier(DURATIONS, EVENTS, label="PFS")
    assert [fit.at_risk(t) for t in (0, 60, 61, 365, 366)] == [12, 10, 8, 1, 0]


def test_mortality_is_complement_with_flipped_interval() -> None:
    survival = LandmarkEstimate(
        time_days=182.63, estimable=True, survival=0.8, lower=0.7, upper=0.9
    )
    mortality = survival.complement()
    assert mortality.survival == pytest.approx(0.2)
    assert mortality.lower == pytest.approx(0.1)
    assert mortality.upper == pytest.approx(0.3)


def test_kaplan_meier_of_no_subjects_is_empty_not_an_error() -> None:
    fit = kaplan_meier([], [], label="DOR")
    assert fit.subjects == 0
    assert fit.median_days is None
    assert not fit.at(10).estimable


def test_kaplan_meier_rejects_negative_durations() -> None:
    with pytest.raises(EndpointError, match="durations"):
        kaplan_meier([-1.0], [True], label="PFS")
