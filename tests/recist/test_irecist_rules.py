"""docs/rules.md section H: iRECIST (immunotherapy), on the same lesions."""

from __future__ import annotations

import dataclasses

import pytest

from recist_app.recist import (
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    NewLesionObservation,
    NewLesionState,
    Reading,
    Response,
    ResponseParameters,
    assess,
)
from recist_app.recist.irecist import new_lesion_targets
from tests.recist.builders import TargetValue, Visit, build, new, non_target, target

ICR, IPR, ISD = Response.ICR, Response.IPR, Response.ISD
IUPD, ICPD, NE = Response.IUPD, Response.ICPD, Response.NE


def _irecist(
    sums: list[TargetValue],
    *,
    new_lesions: dict[int, tuple[NewLesionObservation, ...]] | None = None,
    days: int = 42,
    params: ResponseParameters | None = None,
) -> Reading:
    """One liver target with the given diameters, visits every ``days`` days."""
    lesions = [
        target("T01"),
        new("N01", "lung"),
        new("N02", "bone"),
        new("N03", "lung"),
    ]
    visits = [Visit(i * days, {"T01": value}) for i, value in enumerate(sums)]
    reading = build(lesions, visits, params=params)
    timepoints = list(reading.timepoints)
    for index, observations in (new_lesions or {}).items():
        timepoints[index] = dataclasses.replace(
            timepoints[index], new_lesions=observations
        )
    return dataclasses.replace(
        reading, criteria=Criteria.IRECIST, timepoints=tuple(timepoints)
    )


def _overall(reading: Reading) -> list[Response]:
    return [t.overall_response for t in assess(reading).timepoints]


def _seen(lesion_id: str, size_mm: float | None = None) -> NewLesionObservation:
    return NewLesionObservation(
        lesion_id=lesion_id, state=NewLesionState.UNEQUIVOCAL, long_axis_mm=size_mm
    )


def test_H1_recist_rules_apply_until_progression() -> None:
    assert _overall(_irecist([50.0, 30.0, 30.0])) == [IPR, IPR]


def test_H2_iUPD_confirmed_by_a_5mm_further_increase() -> None:
    overall = _overall(_irecist([50.0, 40.0, 50.0, 55.0]))
    assert overall == [ISD, IUPD, ICPD]


def test_H2_iUPD_without_5mm_further_increase_stays_unconfirmed() -> None:
    overall = _overall(_irecist([50.0, 40.0, 50.0, 54.9]))
    assert overall == [ISD, IUPD, IUPD]


def test_H2_confirmation_before_the_window_does_not_count() -> None:
    reading = _irecist([50.0, 40.0, 50.0, 56.0], days=14)
    overall = _overall(reading)
    assert overall[-1] is IUPD
    assert "< 28" in assess(reading).timepoints[-1].reasons[-1]


def test_H2_new_lesions_alone_drive_iCPD() -> None:
    reading = _irecist(
        [50.0, 45.0, 45.0, 45.0],
        new_lesions={2: (_seen("N01", 12.0),), 3: (_seen("N01", 12.0), _seen("N02"))},
    )
    overall = _overall(reading)
    assert overall == [ISD, IUPD, ICPD]
    assert "additional new lesion N02" in assess(reading).timepoints[-1].reasons[-1]


def test_H2_new_lesion_target_sum_growth_confirms() -> None:
    reading = _irecist(
        [50.0, 45.0, 45.0, 45.0],
        new_lesions={2: (_seen("N01", 12.0),), 3: (_seen("N01", 17.0),)},
    )
    assert _overall(reading)[-1] is ICPD


def test_H3_iUPD_then_iSD_resets_and_a_new_iUPD_needs_new_confirmation() -> None:
    # nadir 40 → 50 iUPD → 42 iSD (reset, nadir stays 40) → 50 iUPD again → 56 iCPD
    overall = _overall(_irecist([50.0, 40.0, 50.0, 42.0, 50.0, 56.0]))
    assert overall == [ISD, IUPD, ISD, IUPD, ICPD]


def test_H3_reset_reason_cites_the_rule() -> None:
    reading = _irecist([50.0, 40.0, 50.0, 42.0])
    assert "(H3)" in assess(reading).timepoints[-1].reasons[-1]


def test_H4_new_lesion_targets_at_most_5_and_2_per_organ() -> None:
    lesions = [target("T01")] + [
        Lesion(lesion_id=f"N0{i}", role=LesionRole.NEW, organ=organ)
        for i, organ in enumerate(
            ["lung", "lung", "lung", "bone", "liver", "adrenal", "skin"], 1
        )
    ]
    reading = build(lesions, [Visit(0, {"T01": 50.0}), Visit(42, {"T01": 50.0})])
    follow = dataclasses.replace(
        reading.timepoints[1],
        new_lesions=tuple(
            _seen(lesion.lesion_id, 8.0 if lesion.lesion_id == "N04" else 15.0)
            for lesion in lesions[1:]
        ),
    )
    reading = dataclasses.replace(
        reading, criteria=Criteria.IRECIST, timepoints=(reading.timepoints[0], follow)
    )
    # N03 is a third lung lesion, N04 is too small: both new-lesion non-targets
    assert new_lesion_targets(reading) == ("N01", "N02", "N05", "N06", "N07")
    assert assess(reading).timepoints[0].new_lesion_sum_mm == 75.0


def test_H5_unconfirmed_iUPD_does_not_preclude_a_later_response() -> None:
    reading = _irecist([50.0, 40.0, 50.0, 30.0, 28.0])
    assessment = assess(reading)
    assert [t.overall_response for t in assessment.timepoints] == [ISD, IUPD, IPR, IPR]
    bor = assessment.best_overall_response
    assert (bor.response, bor.confirmed) == (IPR, True)


def test_H5_iCPD_ends_the_best_response_window() -> None:
    bor = assess(_irecist([50.0, 40.0, 50.0, 56.0, 20.0])).best_overall_response
    assert bor.response is ISD


def test_H5_unconfirmed_progression_only_gives_iUPD() -> None:
    bor = assess(_irecist([50.0, 70.0])).best_overall_response
    assert bor.response is IUPD


def test_H5_confirmed_progression_only_gives_iCPD() -> None:
    bor = assess(_irecist([50.0, 70.0, 80.0])).best_overall_response
    assert bor.response is ICPD


@pytest.mark.parametrize("criteria", list(Criteria))
def test_every_criteria_set_assesses_the_same_reading(criteria: Criteria) -> None:
    def measured(long_mm: float, viable_mm: float) -> Measurement:
        return Measurement(
            lesion_id="T01", long_axis_mm=long_mm, viable_long_axis_mm=viable_mm
        )

    reading = build(
        [target("T01"), non_target("NT01")],
        [
            Visit(0, {"T01": measured(50.0, 40.0)}, {"NT01": "present"}),
            Visit(42, {"T01": measured(30.0, 20.0)}, {"NT01": "present"}),
        ],
    )
    assessment = assess(dataclasses.replace(reading, criteria=criteria))
    assert assessment.criteria is criteria
    expected = Response.IPR if criteria is Criteria.IRECIST else Response.PR
    assert assessment.timepoints[0].overall_response is expected
