"""docs/rules.md section A: baseline measurability and selection (A1–A8)."""

from __future__ import annotations

import pytest

from recist_app.recist import (
    ConformanceWarning,
    Lesion,
    Measurement,
    Modality,
    Response,
    ResponseParameters,
    assess,
    check_baseline,
)
from tests.recist.builders import Visit, build, new, non_target, target


def _rules(reading_warnings: tuple[ConformanceWarning, ...]) -> list[str]:
    return [w.rule for w in reading_warnings]


@pytest.mark.parametrize(
    ("long_axis_mm", "thickness_mm", "modality", "warns"),
    [
        (9.9, 5.0, Modality.CT, True),
        (10.0, 5.0, Modality.CT, False),
        (10.0, None, Modality.CT, False),
        (13.9, 7.0, Modality.CT, True),
        (14.0, 7.0, Modality.CT, False),
        (19.9, None, Modality.CHEST_XRAY, True),
        (20.0, None, Modality.CHEST_XRAY, False),
        (12.0, 2.5, Modality.MR, False),
    ],
    ids=[
        "ct-9.9mm-below-10",
        "ct-10mm-measurable",
        "ct-no-thickness-10mm",
        "7mm-slices-need-14mm",
        "7mm-slices-14mm-ok",
        "chest-xray-needs-20mm",
        "chest-xray-20mm-ok",
        "mr-thin-slices-12mm",
    ],
)
def test_A1_non_nodal_measurability_minimum_depends_on_slice_thickness(
    long_axis_mm: float, thickness_mm: float | None, modality: Modality, warns: bool
) -> None:
    reading = build(
        [target("T01")],
        [
            Visit(
                0,
                {"T01": long_axis_mm},
                slice_thickness_mm=thickness_mm,
                modality=modality,
            )
        ],
    )
    warnings = check_baseline(reading)
    assert ("A1" in _rules(warnings)) is warns
    if warns:
        assert "T01" in str(warnings[0])


@pytest.mark.parametrize(
    ("short_axis_mm", "expected"),
    [
        (9.9, "normal"),
        (10.0, "not measurable"),
        (14.9, "not measurable"),
        (15.0, None),
    ],
    ids=["9.9-normal", "10-pathological", "14.9-pathological", "15-measurable"],
)
def test_A2_nodal_target_needs_short_axis_of_15mm(
    short_axis_mm: float, expected: str | None
) -> None:
    reading = build([target("T01", node=True)], [Visit(0, {"T01": short_axis_mm})])
    a2 = [w for w in check_baseline(reading) if w.rule == "A2"]
    if expected is None:
        assert a2 == []
    else:
        assert len(a2) == 1
        assert expected in a2[0].message


def test_A2_node_measured_on_long_axis_only_is_rejected() -> None:
    from recist_app.recist import ReadingError

    with pytest.raises(ReadingError, match="short_axis_mm"):
        build(
            [target("T01", node=True)],
            [
                Visit(
                    0,
                    {"T01": Measurement(lesion_id="T01", long_axis_mm=20.0)},
                )
            ],
        )


def test_A3_at_most_five_targets_in_total() -> None:
    organs = ["liver", "liver", "lung", "lung", "adrenal", "spleen"]
    lesions = [target(f"T0{i + 1}", organ) for i, organ in enumerate(organs)]
    reading = build(lesions, [Visit(0, {f"T0{i + 1}": 20.0 for i in range(6)})])
    a3 = [w for w in check_baseline(reading) if w.rule == "A3"]
    assert len(a3) == 1
    assert "6 target lesions" in a3[0].message


def test_A3_five_targets_two_per_organ_conform() -> None:
    organs = ["liver", "liver", "lung", "lung", "adrenal"]
    lesions = [target(f"T0{i + 1}", organ) for i, organ in enumerate(organs)]
    reading = build(lesions, [Visit(0, {f"T0{i + 1}": 20.0 for i in range(5)})])
    assert check_baseline(reading) == ()


def test_A3_at_most_two_targets_per_organ() -> None:
    lesions = [target("T01"), target("T02"), target("T03", "Liver ")]
    reading = build(lesions, [Visit(0, {"T01": 20.0, "T02": 20.0, "T03": 20.0})])
    a3 = [w for w in check_baseline(reading) if w.rule == "A3"]
    assert len(a3) == 1
    assert "3 targets in liver" in a3[0].message


def test_A3_all_lymph_nodes_count_as_one_organ() -> None:
    lesions = [target("T01", node=True), target("T02", node=True)]
    lesions.append(target("T03", "mediastinum", node=True))
    reading = build(lesions, [Visit(0, {"T01": 20.0, "T02": 18.0, "T03": 16.0})])
    a3 = [w for w in check_baseline(reading) if w.rule == "A3"]
    assert len(a3) == 1
    assert "lymph node" in a3[0].message


@pytest.mark.parametrize(
    ("state", "warns"),
    [("present", False), ("absent", True), ("not_evaluable", True), (None, True)],
)
def test_A4_baseline_non_targets_are_recorded_present(
    state: str | None, warns: bool
) -> None:
    nts = {} if state is None else {"NT01": state}
    reading = build([target("T01"), non_target("NT01")], [Visit(0, {"T01": 20.0}, nts)])
    assert ("A4" in _rules(check_baseline(reading))) is warns


@pytest.mark.parametrize(
    "lesion",
    [target("T01", is_cystic=True), target("T01", previously_irradiated=True)],
    ids=["cystic", "irradiated"],
)
def test_A5_cystic_or_irradiated_target_warns(lesion: Lesion) -> None:
    reading = build([lesion], [Visit(0, {"T01": 20.0})])
    a5 = [w for w in check_baseline(reading) if w.rule == "A5"]
    assert len(a5) == 1
    assert a5[0].lesion_id == "T01"


def test_A6_baseline_sum_is_non_nodal_long_plus_nodal_short_axes() -> None:
    # docs/standards.md 1.3: liver 42 + lung 18 + node short axis 22 = 82 mm
    lesions = [target("T01"), target("T02", "lung"), target("T03", node=True)]
    reading = build(
        lesions,
        [
            Visit(
                0,
                {
                    "T01": 42.0,
                    "T02": 18.0,
                    "T03": Measurement(
                        lesion_id="T03", long_axis_mm=30.0, short_axis_mm=22.0
                    ),
                },
            )
        ],
    )
    assert assess(reading).baseline.sum_of_diameters_mm == 82.0


def test_A6_target_without_baseline_measurement_warns_and_has_no_sum() -> None:
    reading = build([target("T01"), target("T02", "lung")], [Visit(0, {"T01": 30.0})])
    assessment = assess(reading)
    assert assessment.baseline.sum_of_diameters_mm is None
    a6 = [w for w in assessment.baseline.warnings if w.rule == "A6"]
    assert [w.lesion_id for w in a6] == ["T02"]


@pytest.mark.parametrize(
    ("first_dose_day", "warns"),
    [(28, False), (29, True), (0, False), (-1, True)],
    ids=["28-days-before", "29-days-before", "same-day", "after-first-dose"],
)
def test_A7_baseline_within_four_weeks_before_treatment(
    first_dose_day: int, warns: bool
) -> None:
    reading = build(
        [target("T01")], [Visit(0, {"T01": 20.0})], first_dose_day=first_dose_day
    )
    assert ("A7" in _rules(check_baseline(reading))) is warns


def test_A7_window_is_a_parameter() -> None:
    reading = build(
        [target("T01")],
        [Visit(0, {"T01": 20.0})],
        first_dose_day=35,
        params=ResponseParameters(baseline_window_days=42),
    )
    assert "A7" not in _rules(check_baseline(reading))


def test_A8_no_measurable_disease_follows_non_targets_only() -> None:
    reading = build(
        [non_target("NT01")],
        [Visit(0, {}, {"NT01": "present"}), Visit(42, {}, {"NT01": "present"})],
    )
    assessment = assess(reading)
    assert "A8" in _rules(assessment.baseline.warnings)
    visit = assessment.timepoints[0]
    assert visit.target_response is None
    assert visit.overall_response is Response.NON_CR_NON_PD


def test_A8_no_disease_at_all_is_NED_when_the_reader_says_so() -> None:
    reading = build(
        [new("N01")], [Visit(0, no_disease=True), Visit(60, no_disease=True)]
    )
    assessment = assess(reading)
    assert assessment.baseline.read
    assert assessment.baseline.overall_response is Response.NED
    assert assessment.timepoints[0].overall_response is Response.NED
    assert assessment.best_overall_response.response is Response.NED
    assert "NED" in str(assessment.baseline.warnings[-1])


# A8: "no disease" is the reader's explicit choice, never the default of an
# empty visit. (baseline no_disease, follow-up visit, baseline read, disease
# status, follow-up overall response)
NOT_READ_IS_NOT_NED = [
    ("nothing-recorded", False, Visit(60), False, None, None),
    (
        "baseline-not-read-new-lesion-later",
        False,
        Visit(60, new_lesions={"N01": "equivocal"}),
        False,
        None,
        Response.NE,
    ),
    (
        "unequivocal-new-lesion-is-pd",
        False,
        Visit(60, new_lesions={"N01": "unequivocal"}),
        False,
        None,
        Response.PD,
    ),
    ("no-disease-then-not-read", True, Visit(60), True, Response.NED, None),
    (
        "no-disease-then-equivocal",
        True,
        Visit(60, new_lesions={"N01": "equivocal"}),
        True,
        Response.NED,
        Response.NED,
    ),
]


@pytest.mark.parametrize(
    ("no_disease", "follow_up", "read", "status", "overall"),
    [row[1:] for row in NOT_READ_IS_NOT_NED],
    ids=[row[0] for row in NOT_READ_IS_NOT_NED],
)
def test_A8_not_read_is_never_no_evidence_of_disease(
    no_disease: bool,
    follow_up: Visit,
    read: bool,
    status: Response | None,
    overall: Response | None,
) -> None:
    reading = build([new("N01")], [Visit(0, no_disease=no_disease), follow_up])
    assessment = assess(reading)
    assert assessment.baseline.read is read
    assert assessment.baseline.overall_response is status
    assert assessment.timepoints[0].overall_response is overall
    if not read:
        assert "baseline not read" in str(assessment.baseline.warnings[-1])


def test_conforming_baseline_has_no_warnings() -> None:
    reading = build(
        [target("T01"), target("T02", node=True), non_target("NT01")],
        [
            Visit(
                0, {"T01": 42.0, "T02": 18.0}, {"NT01": "present"}, slice_thickness_mm=5
            )
        ],
        first_dose_day=7,
    )
    assert check_baseline(reading) == ()
