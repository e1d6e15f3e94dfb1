"""docs/rules.md section H: iRECIST (immunotherapy), on the same lesions."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from recist_app.recist import (
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    NewLesionFinding,
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


def _overall(reading: Reading) -> list[Response | None]:
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


# ------------------------------------------------------------------ issue 16
# One course per row: the visits (day, targets, non-targets, new lesions) and the
# iRECIST response of every follow-up, checked against Seymour et al. 2017 and the
# iRECIST FAQ.


@dataclass(frozen=True)
class V:
    day: int
    targets: dict[str, TargetValue]
    non_targets: dict[str, str] = field(default_factory=dict)
    new: tuple[NewLesionObservation, ...] = ()


def _nl(
    lesion_id: str,
    size_mm: float | None = None,
    *,
    state: NewLesionState = NewLesionState.UNEQUIVOCAL,
    short_mm: float | None = None,
) -> NewLesionObservation:
    return NewLesionObservation(
        lesion_id=lesion_id, state=state, long_axis_mm=size_mm, short_axis_mm=short_mm
    )


def _course(*visits: V, params: ResponseParameters | None = None) -> Reading:
    """T01 (liver) and T02 (lung) as the visits name them, NT01, new N01–N04."""
    named = {lid for v in visits for lid in v.targets}
    lesions = [
        target(lid, "liver" if lid == "T01" else "lung") for lid in sorted(named)
    ]
    if any(v.non_targets for v in visits):
        lesions.append(non_target("NT01"))
    lesions += [
        new("N01", "lung"),
        new("N02", "bone"),
        new("N03", "lung"),
        Lesion(
            lesion_id="N04",
            role=LesionRole.NEW,
            organ="lymph node",
            location="para-aortic",
            is_lymph_node=True,
        ),
    ]
    reading = build(
        lesions, [Visit(v.day, v.targets, v.non_targets) for v in visits], params=params
    )
    timepoints = tuple(
        dataclasses.replace(timepoint, new_lesions=v.new)
        for timepoint, v in zip(reading.timepoints, visits, strict=True)
    )
    return dataclasses.replace(
        reading, criteria=Criteria.IRECIST, timepoints=timepoints
    )


def _run(rows: dict[str, tuple[list[V], list[Response]]]) -> list[object]:
    return [pytest.param(v, r, id=name) for name, (v, r) in rows.items()]


def _t(mm: TargetValue) -> dict[str, TargetValue]:
    return {"T01": mm}


WINDOW = {
    "H2-57-days-after-iUPD-cannot-confirm-it-a-new-iUPD": (
        [V(0, _t(40.0)), V(28, _t(50.0)), V(85, _t(60.0))],
        [IUPD, IUPD],
    ),
    "H2-56-days-after-iUPD-confirms": (
        [V(0, _t(40.0)), V(28, _t(50.0)), V(84, _t(60.0))],
        [IUPD, ICPD],
    ),
    "H2-28-days-after-iUPD-confirms": (
        [V(0, _t(40.0)), V(28, _t(50.0)), V(56, _t(60.0))],
        [IUPD, ICPD],
    ),
    "H2-27-days-after-iUPD-disregarded-then-confirmed-in-window": (
        [V(0, _t(40.0)), V(28, _t(50.0)), V(55, _t(60.0)), V(84, _t(60.0))],
        [IUPD, IUPD, ICPD],
    ),
    "H2-early-shrinkage-disregarded-not-a-reset": (
        [V(0, _t(40.0)), V(28, _t(50.0)), V(42, _t(30.0)), V(70, _t(56.0))],
        [IUPD, IUPD, ICPD],
    ),
    "H2-too-late-scan-is-a-new-iUPD-confirmed-by-the-next": (
        [V(0, _t(40.0)), V(28, _t(50.0)), V(90, _t(60.0)), V(120, _t(66.0))],
        [IUPD, IUPD, ICPD],
    ),
    "H2-window-runs-from-the-last-iUPD-visit-increases-add-up": (
        [V(0, _t(40.0)), V(28, _t(50.0)), V(70, _t(52.0)), V(112, _t(55.0))],
        [IUPD, IUPD, ICPD],
    ),
}


@pytest.mark.parametrize(("visits", "expected"), _run(WINDOW))
def test_H2_confirmation_window(visits: list[V], expected: list[Response]) -> None:
    assert _overall(_course(*visits)) == expected


def test_H2_too_late_scan_says_why_and_is_not_iCPD() -> None:
    last = assess(_course(V(0, _t(40.0)), V(28, _t(50.0)), V(85, _t(60.0))))
    reasons = " | ".join(last.timepoints[-1].reasons)
    assert "57 days after iUPD at DAY 28 (> 56): too late to confirm" in reasons
    assert "iCPD" not in reasons


def test_H2_window_upper_bound_is_a_parameter() -> None:
    params = ResponseParameters(irecist_confirmation_max_days=70)
    reading = _course(V(0, _t(40.0)), V(28, _t(50.0)), V(85, _t(60.0)), params=params)
    assert _overall(reading) == [IUPD, ICPD]


def _nt(state: str) -> dict[str, str]:
    return {"NT01": state}


NON_TARGET = {
    "H2-nt-unequivocal-progression-unchanged-stays-iUPD": (
        [
            V(0, _t(50.0), _nt("present")),
            V(42, _t(50.0), _nt("unequivocal_progression")),
            V(84, _t(50.0), _nt("unequivocal_progression")),
        ],
        [IUPD, IUPD],
    ),
    "H2-nt-further-increase-confirms": (
        [
            V(0, _t(50.0), _nt("present")),
            V(42, _t(50.0), _nt("unequivocal_progression")),
            V(84, _t(50.0), _nt("further_increase")),
        ],
        [IUPD, ICPD],
    ),
    "H2-nt-unchanged-twice-then-further-increase-confirms": (
        [
            V(0, _t(50.0), _nt("present")),
            V(42, _t(50.0), _nt("unequivocal_progression")),
            V(84, _t(50.0), _nt("unequivocal_progression")),
            V(126, _t(50.0), _nt("further_increase")),
        ],
        [IUPD, IUPD, ICPD],
    ),
    "H3-nt-present-again-resets": (
        [
            V(0, _t(50.0), _nt("present")),
            V(42, _t(50.0), _nt("unequivocal_progression")),
            V(84, _t(50.0), _nt("present")),
        ],
        [IUPD, ISD],
    ),
    "H2-nt-iUPD-confirmed-by-targets-now-meeting-PD": (
        [
            V(0, _t(50.0), _nt("present")),
            V(42, _t(50.0), _nt("unequivocal_progression")),
            V(84, _t(62.0), _nt("unequivocal_progression")),
        ],
        [IUPD, ICPD],
    ),
    "H2-target-iUPD-confirmed-by-non-targets-now-meeting-PD": (
        [
            V(0, _t(40.0), _nt("present")),
            V(42, _t(50.0), _nt("present")),
            V(84, _t(50.0), _nt("further_increase")),
        ],
        [IUPD, ICPD],
    ),
}


@pytest.mark.parametrize(("visits", "expected"), _run(NON_TARGET))
def test_H2_non_target_progression_needs_a_further_increase(
    visits: list[V], expected: list[Response]
) -> None:
    assert _overall(_course(*visits)) == expected


NEW_LESION_GROWTH = {
    "H2-nlnt-8-to-12mm-confirms": ([_nl("N01", 8.0)], [_nl("N01", 12.0)], ICPD),
    "H2-nlnt-any-increase-confirms": ([_nl("N01", 8.0)], [_nl("N01", 8.1)], ICPD),
    "H2-nlnt-unchanged-stays-iUPD": ([_nl("N01", 8.0)], [_nl("N01", 8.0)], IUPD),
    "H2-nlnt-smaller-stays-iUPD": ([_nl("N01", 8.0)], [_nl("N01", 6.0)], IUPD),
    "H2-nlnt-not-measured-stays-iUPD": ([_nl("N01", 8.0)], [_nl("N01")], IUPD),
    "H2-nlnt-node-short-axis-13-to-14mm-confirms": (
        [_nl("N04", 20.0, short_mm=13.0)],
        [_nl("N04", 20.0, short_mm=14.0)],
        ICPD,
    ),
    "H2-nlt-plus-4.9mm-stays-iUPD": ([_nl("N01", 12.0)], [_nl("N01", 16.9)], IUPD),
    "H2-nlt-plus-5mm-confirms": ([_nl("N01", 12.0)], [_nl("N01", 17.0)], ICPD),
    "H2-nlt-plus-4.95mm-exact-stays-iUPD": (
        [_nl("N01", 12.0)],
        [_nl("N01", 16.95)],
        IUPD,
    ),
    "H2-nlt-and-nlnt-growing-together-confirm": (
        [_nl("N01", 12.0), _nl("N03", 6.0)],
        [_nl("N01", 12.0), _nl("N03", 6.5)],
        ICPD,
    ),
}


@pytest.mark.parametrize(
    ("at_iupd", "next_seen", "expected"),
    [pytest.param(*row, id=name) for name, row in NEW_LESION_GROWTH.items()],
)
def test_H2_new_lesion_growth_confirms(
    at_iupd: list[NewLesionObservation],
    next_seen: list[NewLesionObservation],
    expected: Response,
) -> None:
    reading = _course(
        V(0, _t(50.0)),
        V(42, _t(50.0), new=tuple(at_iupd)),
        V(84, _t(50.0), new=tuple(next_seen)),
    )
    assert _overall(reading) == [IUPD, expected]


EXACT = {
    "H2-target-plus-4.95mm-stays-iUPD": (52.95, IUPD),
    "H2-target-plus-4.999mm-stays-iUPD": (52.999, IUPD),
    "H2-target-plus-5mm-confirms": (53.0, ICPD),
}


@pytest.mark.parametrize(
    ("confirming_mm", "expected"),
    [pytest.param(*row, id=name) for name, row in EXACT.items()],
)
def test_H2_further_5mm_is_tested_on_unrounded_diameters(
    confirming_mm: float, expected: Response
) -> None:
    reading = _course(V(0, _t(40.0)), V(42, _t(48.0)), V(84, _t(confirming_mm)))
    assert _overall(reading) == [IUPD, expected]


def test_H2_further_5mm_over_two_targets_is_exact() -> None:
    # 24.00 + 24.00 = 48.00 at iUPD; 26.48 + 26.47 = 52.95: +4.95 mm
    reading = _course(
        V(0, {"T01": 20.0, "T02": 20.0}),
        V(42, {"T01": 24.0, "T02": 24.0}),
        V(84, {"T01": 26.48, "T02": 26.47}),
    )
    assessment = assess(reading)
    assert [t.overall_response for t in assessment.timepoints] == [IUPD, IUPD]
    assert assessment.timepoints[-1].sum_of_diameters_mm == 53.0  # shown rounded


NOT_EVALUABLE = {
    "H3-NE-does-not-reset-growth-in-window-confirms": (
        [V(0, _t(40.0)), V(28, _t(50.0)), V(56, _t("not_evaluable")), V(84, _t(56.0))],
        [IUPD, NE, ICPD],
    ),
    "H3-NE-then-no-change-stays-iUPD": (
        [V(0, _t(40.0)), V(28, _t(50.0)), V(56, _t("not_done")), V(84, _t(50.0))],
        [IUPD, NE, IUPD],
    ),
    "H3-NE-then-shrinkage-resets": (
        [V(0, _t(40.0)), V(28, _t(50.0)), V(56, _t("not_evaluable")), V(84, _t(42.0))],
        [IUPD, NE, ISD],
    ),
    "H2-NE-does-not-extend-the-window-late-growth-is-a-new-iUPD": (
        [V(0, _t(40.0)), V(28, _t(50.0)), V(56, _t("not_evaluable")), V(90, _t(56.0))],
        [IUPD, NE, IUPD],
    ),
}


@pytest.mark.parametrize(("visits", "expected"), _run(NOT_EVALUABLE))
def test_H3_only_iSD_iPR_iCR_reset_iUPD(
    visits: list[V], expected: list[Response]
) -> None:
    assert _overall(_course(*visits)) == expected


AFTER_RESET = {
    "H3-new-lesion-target-back-small-after-reset-is-not-progression": (
        [
            V(0, _t(50.0)),
            V(42, _t(50.0), new=(_nl("N01", 12.0),)),
            V(84, _t(50.0)),
            V(126, _t(50.0), new=(_nl("N01", 4.0),)),
        ],
        [IUPD, ISD, ISD],
    ),
    "H3-new-lesion-target-5mm-over-its-nadir-is-a-new-iUPD": (
        [
            V(0, _t(50.0)),
            V(42, _t(50.0), new=(_nl("N01", 12.0),)),
            V(84, _t(50.0)),
            V(126, _t(50.0), new=(_nl("N01", 4.0),)),
            V(168, _t(50.0), new=(_nl("N01", 6.0),)),
        ],
        [IUPD, ISD, ISD, IUPD],
    ),
    "H3-new-lesion-non-target-back-after-reset-is-not-progression": (
        [
            V(0, _t(50.0)),
            V(42, _t(50.0), new=(_nl("N01", 8.0),)),
            V(84, _t(50.0)),
            V(126, _t(50.0), new=(_nl("N01", 9.0),)),
        ],
        [IUPD, ISD, ISD],
    ),
    "H3-a-lesion-never-seen-after-reset-is-a-new-iUPD": (
        [
            V(0, _t(50.0)),
            V(42, _t(50.0), new=(_nl("N01", 12.0),)),
            V(84, _t(50.0)),
            V(126, _t(50.0), new=(_nl("N02", 4.0),)),
        ],
        [IUPD, ISD, IUPD],
    ),
    "H3-no-iCR-while-a-new-lesion-identified-before-is-seen": (
        [
            V(0, _t(50.0)),
            V(42, _t(30.0), new=(_nl("N01", 12.0),)),
            V(84, _t("disappeared")),
            V(126, _t("disappeared"), new=(_nl("N01", 3.0),)),
        ],
        [IUPD, ICR, IPR],
    ),
}


@pytest.mark.parametrize(("visits", "expected"), _run(AFTER_RESET))
def test_H3_new_lesions_after_a_reset_are_judged_against_their_own_nadir(
    visits: list[V], expected: list[Response]
) -> None:
    assert _overall(_course(*visits)) == expected


def _eq(lesion_id: str, size_mm: float = 12.0) -> NewLesionObservation:
    return _nl(lesion_id, size_mm, state=NewLesionState.EQUIVOCAL)


EQUIVOCAL = {
    "H2-equivocal-new-lesion-after-iUPD-does-not-confirm": (
        [
            V(0, _t(40.0)),
            V(28, _t(50.0)),
            V(56, _t(50.0), new=(_eq("N01"),)),
            V(84, _t(50.0), new=(_eq("N01"),)),
        ],
        [IUPD, IUPD, IUPD],
    ),
    "H2-E2-equivocal-then-unequivocal-confirms-back-dated": (
        [
            V(0, _t(40.0)),
            V(28, _t(50.0)),
            V(56, _t(50.0), new=(_eq("N01"),)),
            V(84, _t(50.0), new=(_nl("N01", 12.0),)),
        ],
        [IUPD, ICPD, ICPD],
    ),
    "H2-E2-back-dated-to-a-disregarded-scan-confirms-at-the-next": (
        [
            V(0, _t(40.0)),
            V(28, _t(50.0)),
            V(42, _t(50.0), new=(_eq("N01"),)),
            V(63, _t(50.0), new=(_eq("N01"),)),
            V(84, _t(50.0), new=(_nl("N01", 12.0),)),
        ],
        [IUPD, IUPD, ICPD, ICPD],
    ),
    "H1-E2-equivocal-lesion-confirmed-later-dates-the-iUPD-back": (
        [
            V(0, _t(50.0)),
            V(42, _t(50.0), new=(_eq("N01"),)),
            V(84, _t(50.0), new=(_nl("N01", 12.0),)),
        ],
        [IUPD, IUPD],
    ),
}


@pytest.mark.parametrize(("visits", "expected"), _run(EQUIVOCAL))
def test_H2_equivocal_new_lesion_confirms_only_once_unequivocal(
    visits: list[V], expected: list[Response]
) -> None:
    assert _overall(_course(*visits)) == expected


def _b4(*later: dict[str, TargetValue]) -> list[V]:
    return [
        V(0, {"T01": 40.0, "T02": 20.0}),
        V(42, {"T01": 75.0, "T02": "not_evaluable"}),  # 75 ≥ 60 + 20 %: PD (B4)
        *(V(42 * (i + 2), values) for i, values in enumerate(later)),
    ]


TARGET_B4 = {
    "H2-B4-iUPD-not-confirmed-by-targets-still-meeting-PD": (
        _b4({"T01": 76.0, "T02": 20.0}),
        [IUPD, IUPD],
    ),
    "H2-B4-iUPD-confirmed-by-5mm-more-of-the-targets-assessed-then": (
        _b4({"T01": 80.0, "T02": 20.0}),
        [IUPD, ICPD],
    ),
    "H2-B4-iUPD-growth-of-the-target-not-assessed-then-does-not-count": (
        _b4({"T01": 75.0, "T02": 40.0}),
        [IUPD, IUPD],
    ),
    "H2-target-not-assessed-at-confirmation-counts-0mm": (
        [
            V(0, {"T01": 40.0, "T02": 20.0}),
            V(42, {"T01": 60.0, "T02": 20.0}),
            V(84, {"T01": 86.0, "T02": "not_evaluable"}),
        ],
        [IUPD, ICPD],
    ),
    "H2-target-not-assessed-at-confirmation-not-enough-growth": (
        [
            V(0, {"T01": 40.0, "T02": 20.0}),
            V(42, {"T01": 60.0, "T02": 20.0}),
            V(84, {"T01": 84.0, "T02": "not_evaluable"}),
        ],
        [IUPD, IUPD],
    ),
}


@pytest.mark.parametrize(("visits", "expected"), _run(TARGET_B4))
def test_H2_target_iUPD_under_B4_needs_a_further_5mm(
    visits: list[V], expected: list[Response]
) -> None:
    assert _overall(_course(*visits)) == expected


def test_H2_E2_back_dated_confirmation_says_where_the_lesion_was_confirmed() -> None:
    reading = _course(
        *EQUIVOCAL["H2-E2-equivocal-then-unequivocal-confirms-back-dated"][0]
    )
    first_sighting = assess(reading).timepoints[1]  # DAY 56
    assert first_sighting.overall_response is ICPD
    assert first_sighting.new_lesions is NewLesionFinding.EQUIVOCAL  # as seen that day
    assert (
        "additional new lesion N01 (confirmed at DAY 84, dated back: E2)"
        in first_sighting.reasons[-1]
    )
