"""The diameter each lesion counted, as ``assess`` reports it (A2, A6, B2–B4, J1, H4).

The rules count a value per target per visit; the assessment carries that very
value and why, so no export or panel counts it again.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recist_app.recist import (
    NO_DIAMETERS,
    CountedBasis,
    CountedDiameter,
    CountedDiameters,
    Criteria,
    Lesion,
    Measurement,
    MeasurementState,
    NewLesionObservation,
    Reading,
    ResponseParameters,
    assess,
)
from tests.recist.builders import Visit, build, new, target
from tests.recist.strategies import readings

RECIST, IRECIST, MRECIST = Criteria.RECIST_1_1, Criteria.IRECIST, Criteria.MRECIST
B = CountedBasis


def _counted(
    follow_up: Measurement | None,
    *,
    node: bool = False,
    criteria: Criteria = RECIST,
    params: ResponseParameters | None = None,
) -> CountedDiameter:
    """What T01 counted at the follow-up (T02 is there for a merge to go into)."""
    lesions = [target("T01", node=node), target("T02")]
    baseline = Measurement(
        lesion_id="T01",
        long_axis_mm=40.0,
        short_axis_mm=30.0 if node else None,
        viable_long_axis_mm=None if node else 35.0,
    )
    t02 = Measurement(lesion_id="T02", long_axis_mm=20.0, viable_long_axis_mm=20.0)
    later: dict[str, float | str | Measurement] = {"T02": t02}
    if follow_up is not None:
        later["T01"] = follow_up
    reading = build(
        lesions,
        [Visit(0, {"T01": baseline, "T02": t02}), Visit(42, later)],
        params=params,
    )
    reading = dataclasses.replace(reading, criteria=criteria)
    (t01, counted_t02) = assess(reading).timepoints[0].target_diameters
    assert counted_t02.diameter_mm == 20.0
    return t01


def _m(state: str = "measured", **values: Any) -> Measurement:
    return Measurement(lesion_id="T01", state=MeasurementState(state), **values)


MEASURED = _m(long_axis_mm=30.0, short_axis_mm=12.0, viable_long_axis_mm=20.0)
Expected = tuple[float | None, CountedBasis]


def _check(counted: CountedDiameter, expected: Expected) -> None:
    assert counted.lesion_id == "T01"
    assert (counted.diameter_mm, counted.basis) == expected


@pytest.mark.parametrize(
    ("measurement", "node", "criteria", "expected"),
    [
        (MEASURED, False, RECIST, (30.0, B.LONG_AXIS)),
        (MEASURED, True, RECIST, (12.0, B.SHORT_AXIS)),
        (_m(long_axis_mm=14.0, short_axis_mm=8.0), True, RECIST, (8.0, B.SHORT_AXIS)),
        (MEASURED, True, MRECIST, (12.0, B.SHORT_AXIS)),  # J4: nodes per RECIST
        (MEASURED, False, IRECIST, (30.0, B.LONG_AXIS)),  # H1
    ],
    ids=["long-axis", "node-short-axis", "node-below-10mm", "mrecist-node", "irecist"],
)
def test_A2_A6_measured_target_counts_long_axis_node_short_axis(
    measurement: Measurement, node: bool, criteria: Criteria, expected: Expected
) -> None:
    _check(_counted(measurement, node=node, criteria=criteria), expected)


@pytest.mark.parametrize(
    ("too_small_mm", "node", "criteria", "expected"),
    [
        (5.0, False, RECIST, (5.0, B.TOO_SMALL)),
        (5.0, True, RECIST, (5.0, B.TOO_SMALL)),
        (3.5, False, RECIST, (3.5, B.TOO_SMALL)),
        (4.0, False, MRECIST, (4.0, B.TOO_SMALL)),
        (4.0, False, IRECIST, (4.0, B.TOO_SMALL)),
    ],
    ids=["default-5mm", "node-5mm", "custom-3.5mm", "mrecist-4mm", "irecist-4mm"],
)
def test_B2_too_small_counts_too_small_mm(
    too_small_mm: float, node: bool, criteria: Criteria, expected: Expected
) -> None:
    params = ResponseParameters(too_small_mm=too_small_mm)
    counted = _counted(_m("too_small"), node=node, criteria=criteria, params=params)
    _check(counted, expected)


@pytest.mark.parametrize(
    ("measurement", "expected"),
    [
        (_m("disappeared"), (0.0, B.DISAPPEARED)),
        (_m(long_axis_mm=3.2), (3.2, B.LONG_AXIS)),  # a value < 5 mm is kept
    ],
    ids=["disappeared-counts-0", "measured-below-5mm-kept"],
)
def test_B2_disappeared_counts_0_and_a_small_value_is_kept(
    measurement: Measurement, expected: Expected
) -> None:
    _check(_counted(measurement), expected)


@pytest.mark.parametrize(
    ("measurement", "expected"),
    [
        (_m("split", parts_mm=(12.3, 9.45)), (21.75, B.SPLIT)),
        (_m("split", parts_mm=(12.3, 9.45, 4.0)), (25.75, B.SPLIT)),
        (_m("merged", merged_into="T02"), (0.0, B.MERGED)),
    ],
    ids=["split-two-parts", "split-three-parts", "merged-counts-0"],
)
def test_B3_split_counts_the_sum_of_parts_merged_counts_0(
    measurement: Measurement, expected: Expected
) -> None:
    _check(_counted(measurement), expected)


@pytest.mark.parametrize(
    ("measurement", "node", "criteria", "basis"),
    [
        (_m("not_evaluable"), False, RECIST, B.NOT_EVALUABLE),
        (_m("not_done"), True, RECIST, B.NOT_DONE),
        (None, False, RECIST, B.MISSING),
        (None, False, IRECIST, B.MISSING),
        (_m(viable_long_axis_mm=20.0), False, RECIST, B.AXIS_NOT_MEASURED),
    ],
    ids=["not-evaluable", "not-done", "missing", "irecist-missing", "no-long-axis"],
)
def test_B4_target_not_assessed_counts_no_value(
    measurement: Measurement | None, node: bool, criteria: Criteria, basis: CountedBasis
) -> None:
    _check(_counted(measurement, node=node, criteria=criteria), (None, basis))


@pytest.mark.parametrize(
    ("measurement", "expected"),
    [
        (MEASURED, (20.0, B.VIABLE_LONG_AXIS)),
        (_m(long_axis_mm=30.0), (None, B.AXIS_NOT_MEASURED)),
        (_m("disappeared"), (0.0, B.DISAPPEARED)),  # J3: no enhancement left
    ],
    ids=["viable-long-axis", "no-viable-not-assessed", "disappeared"],
)
def test_J1_mrecist_counts_the_viable_long_axis(
    measurement: Measurement, expected: Expected
) -> None:
    _check(_counted(measurement, criteria=MRECIST), expected)


def test_B2_too_small_custom_value_is_in_the_sum_and_reported() -> None:
    reading = build(
        [target("T01")],
        [Visit(0, {"T01": 40.0}), Visit(42, {"T01": "too_small"})],
        params=ResponseParameters(too_small_mm=4.0),
    )
    (visit,) = assess(reading).timepoints
    assert tuple(visit.target_diameters) == (
        CountedDiameter("T01", 4_000, B.TOO_SMALL),
    )
    assert visit.sum_of_diameters_mm == 4.0


def test_A6_baseline_reports_what_each_target_counted() -> None:
    reading = build(
        [target("T01"), target("T02", node=True), target("T03")],
        [Visit(0, {"T01": 42.0, "T02": 18.0}), Visit(42, {})],
    )
    baseline = assess(reading).baseline
    assert tuple(baseline.target_diameters) == (
        CountedDiameter("T01", 42_000, B.LONG_AXIS),
        CountedDiameter("T02", 18_000, B.SHORT_AXIS),
        CountedDiameter("T03", None, B.MISSING),
    )
    assert baseline.sum_of_diameters_mm is None  # T03 not measured (A6)


def _irecist(*follow_ups: dict[str, NewLesionObservation]) -> Reading:
    lesions = [target("T01"), new("N01", "lung"), new("N02", "liver"), new("N03")]
    reading = build(
        lesions,
        [Visit(0, {"T01": 40.0})]
        + [Visit(42 * (i + 1), {"T01": 40.0}) for i in range(len(follow_ups))],
    )
    timepoints = [reading.timepoints[0]]
    for timepoint, seen in zip(reading.timepoints[1:], follow_ups, strict=True):
        timepoints.append(
            dataclasses.replace(timepoint, new_lesions=tuple(seen.values()))
        )
    return dataclasses.replace(reading, criteria=IRECIST, timepoints=tuple(timepoints))


def _seen(lesion_id: str, long_axis_mm: float | None) -> NewLesionObservation:
    return NewLesionObservation(lesion_id=lesion_id, long_axis_mm=long_axis_mm)


def test_H4_new_lesion_targets_count_their_diameters_into_the_new_lesion_sum() -> None:
    # N01 15 mm and N02 12 mm are new-lesion targets; N03 (8 mm) is too small.
    reading = _irecist(
        {"N01": _seen("N01", 15.0), "N02": _seen("N02", 12.0), "N03": _seen("N03", 8)},
        {"N01": _seen("N01", 21.5), "N02": _seen("N02", None)},
    )
    first, second = assess(reading).timepoints
    assert tuple(first.new_lesion_diameters) == (
        CountedDiameter("N01", 15_000, B.LONG_AXIS),
        CountedDiameter("N02", 12_000, B.LONG_AXIS),
    )
    assert first.new_lesion_sum_mm == 27.0
    assert tuple(second.new_lesion_diameters) == (
        CountedDiameter("N01", 21_500, B.LONG_AXIS),
        CountedDiameter("N02", None, B.AXIS_NOT_MEASURED),
    )
    assert second.new_lesion_sum_mm == 21.5


@pytest.mark.parametrize("criteria", [RECIST, MRECIST], ids=lambda c: c.value)
def test_H4_only_irecist_measures_new_lesions(criteria: Criteria) -> None:
    reading = dataclasses.replace(
        _irecist({"N01": _seen("N01", 15.0)}), criteria=criteria
    )
    (visit,) = assess(reading).timepoints
    assert visit.new_lesion_sum_mm is None
    assert tuple(visit.new_lesion_diameters) == ()


@settings(max_examples=150, deadline=None)
@given(reading=readings(every_state=True), criteria=st.sampled_from(tuple(Criteria)))
def test_A6_the_sum_is_the_sum_of_the_counted_diameters(
    reading: Reading, criteria: Criteria
) -> None:
    assessment = assess(dataclasses.replace(reading, criteria=criteria))
    targets = [lesion.lesion_id for lesion in reading.lesions if _is_target(lesion)]
    for visit in assessment.timepoints:
        counted = visit.target_diameters
        assert [d.lesion_id for d in counted] == targets
        values = [d.diameter_um for d in counted]
        assert visit.all_targets_assessed == (None not in values)
        if targets and None not in values:
            total = sum(v for v in values if v is not None)
            assert visit.sum_of_diameters_mm == round(total / 1000, 1)
        if visit.new_lesion_sum_mm is not None:
            nl_total = sum(d.diameter_um or 0 for d in visit.new_lesion_diameters)
            assert visit.new_lesion_sum_mm == round(nl_total / 1000, 1)
        for diameter in counted:
            assert (diameter.diameter_um is None) == (
                diameter.basis
                in (B.NOT_EVALUABLE, B.NOT_DONE, B.MISSING, B.AXIS_NOT_MEASURED)
            )


def _is_target(lesion: Lesion) -> bool:
    return lesion.role.value == "target"


# ------------------------------------------------ the per-visit sequence itself
def test_counted_diameters_is_a_sequence_of_counted_diameter() -> None:
    entries = (
        CountedDiameter("T01", 30_000, B.LONG_AXIS),
        CountedDiameter("T02", None, B.NOT_DONE),
        CountedDiameter("T03", 5_000, B.TOO_SMALL),
    )
    counted = CountedDiameters.of(entries)
    assert counted == CountedDiameters(
        ("T01", "T02", "T03"),
        (30_000, None, 5_000),
        ("long_axis", "not_done", "too_small"),
    )
    assert len(counted) == 3
    assert tuple(counted) == entries
    assert counted[1] == entries[1]
    assert counted[-1].basis is B.TOO_SMALL
    assert counted[1:] == entries[1:]
    assert counted.by_lesion()["T03"].diameter_mm == 5.0
    assert tuple(NO_DIAMETERS) == ()


@pytest.mark.parametrize(
    ("ids", "values", "codes", "message"),
    [
        (("T01",), (), ("long_axis",), "differ in length"),
        (("T01",), (1,), (), "differ in length"),
        (("T01",), (1,), ("guessed",), "unknown basis guessed"),
    ],
)
def test_counted_diameters_cannot_be_inconsistent(
    ids: tuple[str, ...], values: tuple[int, ...], codes: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        CountedDiameters(ids, values, codes)
