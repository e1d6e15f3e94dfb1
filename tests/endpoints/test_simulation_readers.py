"""The simulated central review: a second blinded reader with realistic disagreement."""

from __future__ import annotations

import pytest

from recist_app.endpoints import EndpointError, simulate_trial
from recist_app.recist import Assessment, assess


def _first_pd(assessment: Assessment) -> object:
    return next(
        (
            t.date
            for t in assessment.timepoints
            if t.overall_response is not None and t.overall_response.value == "PD"
        ),
        None,
    )


def test_a_second_reader_leaves_the_trial_and_the_first_reader_unchanged() -> None:
    single = simulate_trial(30, seed=11)
    central = simulate_trial(30, seed=11, readers=2)
    assert central.readings == single.readings
    assert central.clinical == single.clinical
    assert central.adverse_events == single.adverse_events
    assert single.second_readings == ()
    assert [r.patient_id for r in central.second_readings] == [
        r.patient_id for r in central.readings
    ]
    for one, two in zip(central.readings, central.second_readings, strict=True):
        # the same scans: the same baseline and the same first follow-up
        assert [t.date for t in two.timepoints[:2]] == [
            t.date for t in one.timepoints[:2]
        ]
        assert [le.lesion_id for le in two.lesions if le.role.value == "target"] == [
            le.lesion_id for le in one.lesions if le.role.value == "target"
        ]


@pytest.mark.parametrize("seed", [2024, 1, 2])
def test_readers_disagree_as_often_as_published_central_reviews(seed: int) -> None:
    trial = simulate_trial(76, seed=seed, readers=2)
    bor = pd = 0
    for one, two in zip(trial.readings, trial.second_readings, strict=True):
        first, second = assess(one), assess(two)
        bor += (
            first.best_overall_response.response
            != second.best_overall_response.response
        )
        pd += _first_pd(first) != _first_pd(second)
    # published: BOR about a quarter, first PD about a third
    assert 0.12 <= bor / 76 <= 0.38, bor
    assert 0.2 <= pd / 76 <= 0.5, pd


def test_one_or_two_readers_only() -> None:
    with pytest.raises(EndpointError, match="readers must be 1 or 2, got 3"):
        simulate_trial(5, readers=3)
