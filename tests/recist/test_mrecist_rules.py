"""docs/rules.md section J: mRECIST for HCC, on the same lesions as RECIST 1.1."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

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
from recist_app.recist.mrecist import is_porta_hepatis_node
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


# ------------------------------------------------------------------ issue 16


def _new_course(lesion: Lesion, *observations: NewLesionObservation | None) -> Reading:
    """T01 stable, ``lesion`` seen as ``observations`` at monthly follow-ups."""
    reading = build(
        [target("T01"), lesion],
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


def _new(
    organ: str,
    location: str = "",
    *,
    node: bool = False,
) -> Lesion:
    return Lesion(
        lesion_id="N01",
        role=LesionRole.NEW,
        organ=organ,
        location=location,
        is_lymph_node=node,
    )


def _seen(
    *,
    long_mm: float | None = None,
    short_mm: float | None = None,
    cytology: bool = False,
    pattern: bool | None = None,
    state: NewLesionState = NewLesionState.UNEQUIVOCAL,
) -> NewLesionObservation:
    return NewLesionObservation(
        lesion_id="N01",
        state=state,
        long_axis_mm=long_mm,
        short_axis_mm=short_mm,
        cytology_confirmed=cytology,
        typical_vascular_pattern=pattern,
    )


UNEQ, EQ = NewLesionFinding.UNEQUIVOCAL, NewLesionFinding.EQUIVOCAL

NEW_FLUID = {
    "J4-new-pleural-effusion-without-cytology-is-not-PD": (
        _new("pleura", "right effusion"),
        _seen(),
        (EQ, SD),
    ),
    "J4-new-pleural-effusion-cytology-proven-is-PD": (
        _new("pleura", "right effusion"),
        _seen(cytology=True),
        (UNEQ, PD),
    ),
    "J4-new-ascites-without-cytology-is-not-PD": (
        _new("peritoneum", "ascites"),
        _seen(),
        (EQ, SD),
    ),
    "J4-new-ascites-cytology-proven-is-PD-even-if-called-equivocal": (
        _new("ascites"),
        _seen(cytology=True, state=NewLesionState.EQUIVOCAL),
        (UNEQ, PD),
    ),
    "J4-new-peritoneal-nodule-is-the-readers-call": (
        _new("peritoneum", "omentum"),
        _seen(long_mm=15.0),
        (UNEQ, PD),
    ),
}


@pytest.mark.parametrize(
    ("lesion", "observation", "expected"),
    [pytest.param(*row, id=name) for name, row in NEW_FLUID.items()],
)
def test_J4_new_effusion_or_ascites_is_PD_only_when_cytology_proven(
    lesion: Lesion,
    observation: NewLesionObservation,
    expected: tuple[NewLesionFinding, Response],
) -> None:
    visit = assess(_new_course(lesion, observation)).timepoints[0]
    assert (visit.new_lesions, visit.overall_response) == expected
    if expected[1] is SD:
        assert any("not cytologically proven" in r and "J4" in r for r in visit.reasons)


def test_J4_effusion_proven_later_dates_PD_back_to_its_first_sighting() -> None:
    reading = _new_course(
        _new("pleura", "left effusion"), _seen(), _seen(), _seen(cytology=True)
    )
    visits = assess(reading).timepoints
    assert [v.overall_response for v in visits] == [PD, SD, PD]
    assert "E2" in visits[0].reasons[-1]
    recist = assess(_as(reading, Criteria.RECIST_1_1)).timepoints
    assert [v.overall_response for v in recist] == [PD, PD, PD]


PORTA_HEPATIS = {
    "J4-porta-hepatis-node-15mm-is-not-PD": ("porta hepatis", 15.0, (EQ, SD)),
    "J4-porta-hepatis-node-19.99mm-is-not-PD": ("porta hepatis", 19.99, (EQ, SD)),
    "J4-porta-hepatis-node-20mm-is-PD": ("porta hepatis", 20.0, (UNEQ, PD)),
    "J4-hepatic-hilum-node-15mm-is-not-PD": ("hepatic hilum", 15.0, (EQ, SD)),
    "J4-Hepatic-Hilum-any-case-20mm-is-PD": ("Hepatic Hilum", 21.0, (UNEQ, PD)),
    "J4-liver-hilum-node-15mm-is-not-PD": ("liver hilum", 15.0, (EQ, SD)),
    "J4-porta-hepatis-node-without-short-axis-is-not-PD": (
        "porta hepatis",
        None,
        (EQ, SD),
    ),
    "J4-para-aortic-node-15mm-is-the-readers-call": ("para-aortic", 15.0, (UNEQ, PD)),
    "J4-portocaval-is-not-the-porta-hepatis": ("portocaval", 15.0, (UNEQ, PD)),
}


@pytest.mark.parametrize(
    ("location", "short_mm", "expected"),
    [pytest.param(*row, id=name) for name, row in PORTA_HEPATIS.items()],
)
def test_J4_new_porta_hepatis_node_is_malignant_only_from_20mm(
    location: str, short_mm: float | None, expected: tuple[NewLesionFinding, Response]
) -> None:
    node = _new("lymph node", location, node=True)
    observation = _seen(long_mm=25.0, short_mm=short_mm)
    visit = assess(_new_course(node, observation)).timepoints[0]
    assert (visit.new_lesions, visit.overall_response) == expected
    recist = assess(_as(_new_course(node, observation), Criteria.RECIST_1_1))
    assert recist.timepoints[0].overall_response is PD  # RECIST: the reader's call


@pytest.mark.parametrize(
    "location", ["porta hepatis", "hepatic hilum", "Hepatic hilum", "liver hilum"]
)
def test_J4_porta_hepatis_baseline_warning_covers_its_synonyms(location: str) -> None:
    node = Lesion(
        lesion_id="T02",
        role=LesionRole.TARGET,
        organ="lymph node",
        location=location,
        is_lymph_node=True,
    )
    reading = build(
        [target("T01"), node],
        [Visit(0, {"T01": _hcc(40.0, 30.0), "T02": 18.0})],
    )
    warnings = assess(_as(reading, Criteria.MRECIST)).baseline.warnings
    assert [w.lesion_id for w in warnings if w.rule == "J4"] == ["T02"]


def test_J4_every_vocabulary_synonym_of_the_porta_hepatis_is_recognised() -> None:
    vocabulary = json.loads(
        (Path(__file__).parents[2] / "resources" / "vocabulary.json").read_text()
    )
    (nodes,) = [o for o in vocabulary["organs"] if o.get("lymph_node")]
    synonyms = {"porta hepatis", *nodes["synonyms"]["porta hepatis"]}
    assert "hepatic hilum" in synonyms
    for location in {*nodes["locations"], *synonyms}:
        node = _new("lymph node", location, node=True)
        assert is_porta_hepatis_node(node) is (location in synonyms), location


def _atypical(
    size_mm: float, organ_pattern: bool | None = False
) -> NewLesionObservation:
    return _seen(long_mm=size_mm, pattern=organ_pattern, state=NewLesionState.EQUIVOCAL)


GROWTH = {
    "J5-atypical-liver-lesion-grown-10mm-is-PD-from-then-on": (
        _new("liver", "segment VII"),
        [_atypical(8.0), _atypical(12.0), _atypical(18.0), _atypical(18.0)],
        [(EQ, PD), (EQ, SD), (UNEQ, PD), (UNEQ, PD)],
    ),
    "J5-growth-is-exact-9.99mm-is-not-enough": (
        _new("liver"),
        [_atypical(8.0), _atypical(17.99)],
        [(EQ, SD), (EQ, SD)],
    ),
    "J5-growth-counts-from-the-first-sighting-not-the-last": (
        _new("liver"),
        [_atypical(8.0), _atypical(13.0), _atypical(18.0)],
        [(EQ, PD), (EQ, SD), (UNEQ, PD)],
    ),
    "J5-unassessed-pattern-equivocal-liver-lesion-confirmed-by-growth": (
        _new("liver"),
        [_atypical(11.0, None), _atypical(21.0, None)],
        [(EQ, PD), (UNEQ, PD)],
    ),
    "J5-small-typical-lesion-confirmed-once-10mm": (
        _new("liver"),
        [_atypical(8.0, True), _atypical(10.0, True)],
        [(EQ, PD), (UNEQ, PD)],
    ),
    "J5-growth-rule-is-for-liver-lesions-only": (
        _new("lung", "right lower lobe"),
        [_atypical(8.0), _atypical(18.0)],
        [(EQ, SD), (EQ, SD)],
    ),
    "J5-vascular-pattern-is-for-liver-lesions-only": (
        _new("bone", "spine"),
        [_seen(long_mm=15.0, pattern=False)],
        [(UNEQ, PD)],
    ),
}


@pytest.mark.parametrize(
    ("lesion", "observations", "expected"),
    [pytest.param(*row, id=name) for name, row in GROWTH.items()],
)
def test_J5_new_liver_lesion_confirmed_by_10mm_growth(
    lesion: Lesion,
    observations: list[NewLesionObservation],
    expected: list[tuple[NewLesionFinding, Response]],
) -> None:
    visits = assess(_new_course(lesion, *observations)).timepoints
    assert [(v.new_lesions, v.overall_response) for v in visits] == expected


def test_J5_growth_confirmation_says_why_and_dates_the_BOR_back() -> None:
    reading = _new_course(
        _new("liver"), _atypical(8.0), _atypical(12.0), _atypical(18.0)
    )
    assessment = assess(reading)
    confirming = assessment.timepoints[2]
    assert any(
        "grew 8.0 → 18.0 mm since DAY 30, ≥ 10 mm, J5" in r for r in confirming.reasons
    )
    assert "E2" in assessment.timepoints[0].reasons[-1]
    bor = assessment.best_overall_response
    assert (bor.response, bor.date) == (PD, reading.timepoints[1].date)
