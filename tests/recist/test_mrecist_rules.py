"""docs/rules.md section J: mRECIST for HCC, on the same lesions as RECIST 1.1."""

from __future__ import annotations

import dataclasses

import pytest

from recist_app.recist import (
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    NewLesionFinding,
    NewLesionObservation,
    NewLesionState,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    Response,
    ResponseParameters,
    assess,
)
from tests.recist.builders import Visit, build, new, non_target, target

CR, PR, SD, PD, NE = Response.CR, Response.PR, Response.SD, Response.PD, Response.NE


def _hcc(
    long_mm: float, viable_mm: float | None, lesion_id: str = "T01"
) -> Measurement:
    return Measurement(
        lesion_id=lesion_id, long_axis_mm=long_mm, viable_long_axis_mm=viable_mm
    )


def _as(reading: Reading, criteria: Criteria) -> Reading:
    return dataclasses.replace(reading, criteria=criteria)


def _two_visit_reading(
    baseline: dict[str, Measurement], follow: dict[str, Measurement]
) -> Reading:
    lesions = [target(lid) for lid in baseline]
    return _as(
        build(lesions, [Visit(0, dict(baseline)), Visit(42, dict(follow))]),
        Criteria.MRECIST,
    )


def test_J1_sum_uses_the_viable_long_axis() -> None:
    reading = _two_visit_reading({"T01": _hcc(50.0, 40.0)}, {"T01": _hcc(50.0, 20.0)})
    assessment = assess(reading)
    assert assessment.baseline.sum_of_diameters_mm == 40.0
    assert assessment.timepoints[0].sum_of_diameters_mm == 20.0


def test_J1_target_measured_without_viable_axis_is_not_assessed() -> None:
    reading = _two_visit_reading({"T01": _hcc(50.0, 40.0)}, {"T01": _hcc(48.0, None)})
    assert assess(reading).timepoints[0].target_response is NE


@pytest.mark.parametrize(
    ("viable_mm", "warns"),
    [(None, True), (9.0, True), (10.0, False)],
    ids=["no-enhancement-recorded", "9mm-enhancing", "10mm-enhancing"],
)
def test_J2_target_needs_10mm_of_arterial_enhancement(
    viable_mm: float | None, warns: bool
) -> None:
    reading = _two_visit_reading(
        {"T01": _hcc(30.0, viable_mm)}, {"T01": _hcc(30.0, 10)}
    )
    rules = [w.rule for w in assess(reading).baseline.warnings]
    assert ("J2" in rules) is warns


def test_J3_CR_with_residual_non_enhancing_tissue() -> None:
    # the lesion is still 35 mm, but none of it enhances: mRECIST CR, RECIST SD
    reading = _two_visit_reading({"T01": _hcc(40.0, 30.0)}, {"T01": _hcc(35.0, 0.0)})
    assert assess(reading).timepoints[0].target_response is CR
    recist = assess(_as(reading, Criteria.RECIST_1_1))
    assert recist.timepoints[0].target_response is SD


def test_J3_mrecist_PR_where_recist_gives_SD_on_the_same_lesions() -> None:
    reading = _two_visit_reading(
        {"T01": _hcc(60.0, 50.0), "T02": _hcc(40.0, 30.0, "T02")},
        {"T01": _hcc(58.0, 30.0), "T02": _hcc(39.0, 20.0, "T02")},
    )
    assert assess(reading).timepoints[0].target_response is PR  # 80 → 50: −37.5 %
    recist = assess(_as(reading, Criteria.RECIST_1_1))
    assert recist.timepoints[0].target_response is SD  # 100 → 97: −3 %


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (ResponseParameters(), PD),
        (ResponseParameters(mrecist_pd_min_increase_mm=5.0), SD),
    ],
    ids=["no-5mm-rule-by-default", "5mm-rule-as-parameter"],
)
def test_J3_progression_without_the_5mm_rule_by_default(
    params: ResponseParameters, expected: Response
) -> None:
    # viable 15 → 18 mm: +20 % but only +3 mm
    reading = _two_visit_reading({"T01": _hcc(30.0, 15.0)}, {"T01": _hcc(30.0, 18.0)})
    reading = dataclasses.replace(reading, params=params)
    assert assess(reading).timepoints[0].target_response is expected


@pytest.mark.parametrize(
    ("cytology", "expected"),
    [(False, Response.NON_CR_NON_PD), (True, PD)],
    ids=["ascites-without-cytology", "ascites-cytology-proven"],
)
def test_J4_ascites_progression_needs_cytology(
    cytology: bool, expected: Response
) -> None:
    reading = build(
        [target("T01"), non_target("NT01", "ascites")],
        [
            Visit(0, {"T01": _hcc(40.0, 30.0)}, {"NT01": "present"}),
            Visit(42, {"T01": _hcc(40.0, 30.0)}),
        ],
    )
    follow = dataclasses.replace(
        reading.timepoints[1],
        non_target=(
            NonTargetAssessment(
                lesion_id="NT01",
                state=NonTargetState.UNEQUIVOCAL_PROGRESSION,
                cytology_confirmed=cytology,
            ),
        ),
    )
    reading = dataclasses.replace(
        reading,
        criteria=Criteria.MRECIST,
        timepoints=(reading.timepoints[0], follow),
    )
    visit = assess(reading).timepoints[0]
    assert visit.non_target_response is expected
    if not cytology:
        assert any("J4" in reason for reason in visit.reasons)


def test_J4_porta_hepatis_node_needs_20mm_short_axis() -> None:
    node = Lesion(
        lesion_id="T02",
        role=LesionRole.TARGET,
        organ="lymph node",
        location="porta hepatis",
        is_lymph_node=True,
    )
    reading = build(
        [target("T01"), node],
        [Visit(0, {"T01": _hcc(40.0, 30.0), "T02": 18.0})],
    )
    warnings = assess(_as(reading, Criteria.MRECIST)).baseline.warnings
    assert [w.lesion_id for w in warnings if w.rule == "J4"] == ["T02"]


def _new_lesion_reading(*observations: NewLesionObservation | None) -> Reading:
    reading = build(
        [target("T01"), new("N01", "liver")],
        [Visit(0, {"T01": _hcc(40.0, 30.0)})]
        + [
            Visit(30 * (i + 1), {"T01": _hcc(40.0, 30.0)})
            for i in range(len(observations))
        ],
    )
    timepoints = [reading.timepoints[0]]
    for timepoint, observation in zip(
        reading.timepoints[1:], observations, strict=True
    ):
        extra = () if observation is None else (observation,)
        timepoints.append(dataclasses.replace(timepoint, new_lesions=extra))
    return dataclasses.replace(
        reading, criteria=Criteria.MRECIST, timepoints=tuple(timepoints)
    )


@pytest.mark.parametrize(
    ("pattern", "size_mm", "expected"),
    [
        (True, 12.0, NewLesionFinding.UNEQUIVOCAL),
        (True, 8.0, NewLesionFinding.EQUIVOCAL),
        (False, 15.0, NewLesionFinding.EQUIVOCAL),
    ],
    ids=["typical-12mm-PD", "typical-8mm-equivocal", "atypical-equivocal"],
)
def test_J5_new_lesion_needs_typical_pattern_and_10mm(
    pattern: bool, size_mm: float, expected: NewLesionFinding
) -> None:
    reading = _new_lesion_reading(
        NewLesionObservation(
            lesion_id="N01",
            state=NewLesionState.EQUIVOCAL,
            long_axis_mm=size_mm,
            typical_vascular_pattern=pattern,
        )
    )
    assert assess(reading).timepoints[0].new_lesions is expected


def test_J5_equivocal_lesion_confirmed_by_10mm_growth_backdates_PD() -> None:
    def atypical(size_mm: float) -> NewLesionObservation:
        return NewLesionObservation(
            lesion_id="N01",
            state=NewLesionState.EQUIVOCAL,
            long_axis_mm=size_mm,
            typical_vascular_pattern=False,
        )

    reading = _new_lesion_reading(atypical(8.0), atypical(12.0), atypical(18.0))
    overall = [t.overall_response for t in assess(reading).timepoints]
    assert overall == [PD, SD, SD]
