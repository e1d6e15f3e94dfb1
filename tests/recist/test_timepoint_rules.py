"""docs/rules.md sections B–F: per-timepoint target, non-target, new, overall."""

from __future__ import annotations

import pytest

from recist_app.recist import (
    Lesion,
    Measurement,
    MeasurementState,
    NewLesionFinding,
    NewLesionObservation,
    NewLesionState,
    Recist11Rules,
    Response,
    ResponseParameters,
    TimepointAssessment,
    assess,
)
from tests.recist.builders import TargetValue, Visit, build, new, non_target, target

CR, PR, SD, PD, NE = Response.CR, Response.PR, Response.SD, Response.PD, Response.NE
NONCRPD = Response.NON_CR_NON_PD


def _follow_up(
    baseline: dict[str, TargetValue],
    *later: dict[str, TargetValue],
    lesions: list[Lesion] | None = None,
    params: ResponseParameters | None = None,
) -> TimepointAssessment:
    """Assess targets only; return the last follow-up."""
    lesion_list = lesions or [target(lid) for lid in baseline]
    visits = [Visit(0, baseline)] + [
        Visit(42 * (i + 1), values) for i, values in enumerate(later)
    ]
    reading = build(lesion_list, visits, params=params)
    return assess(reading).timepoints[-1]


# --------------------------------------------------------------------------- B
def test_B1_node_keeps_its_short_axis_in_the_sum_below_10mm() -> None:
    lesions = [target("T01"), target("T02", node=True)]
    visit = _follow_up(
        {"T01": 40.0, "T02": 20.0}, {"T01": 30.0, "T02": 8.0}, lesions=lesions
    )
    assert visit.sum_of_diameters_mm == 38.0


@pytest.mark.parametrize(
    ("value", "counted_mm"),
    [
        ("too_small", 5.0),
        ("disappeared", 0.0),
        (3.0, 3.0),
        (4.9, 4.9),
    ],
    ids=[
        "too-small-counts-5",
        "disappeared-counts-0",
        "measured-3mm-kept",
        "4.9mm-kept",
    ],
)
def test_B2_too_small_counts_5mm_disappeared_0mm(
    value: TargetValue, counted_mm: float
) -> None:
    visit = _follow_up({"T01": 40.0, "T02": 40.0}, {"T01": 30.0, "T02": value})
    assert visit.sum_of_diameters_mm == 30.0 + counted_mm


def test_B2_too_small_default_is_a_parameter() -> None:
    visit = _follow_up(
        {"T01": 40.0},
        {"T01": "too_small"},
        params=ResponseParameters(too_small_mm=4.0),
    )
    assert visit.sum_of_diameters_mm == 4.0


def test_B3_split_lesion_sums_its_parts() -> None:
    split = Measurement(
        lesion_id="T01", state=MeasurementState.SPLIT, parts_mm=(12.0, 9.5)
    )
    visit = _follow_up({"T01": 40.0}, {"T01": split})
    assert visit.sum_of_diameters_mm == 21.5


def test_B3_merged_lesion_counts_0_and_the_mass_is_measured_once() -> None:
    merged = Measurement(
        lesion_id="T02", state=MeasurementState.MERGED, merged_into="T01"
    )
    visit = _follow_up({"T01": 30.0, "T02": 20.0}, {"T01": 45.0, "T02": merged})
    assert visit.sum_of_diameters_mm == 45.0
    assert visit.target_response is SD


@pytest.mark.parametrize("missing", ["not_evaluable", "not_done", None])
def test_B4_missing_target_makes_target_response_NE(missing: str | None) -> None:
    follow: dict[str, TargetValue] = {"T01": 30.0}
    if missing is not None:
        follow["T02"] = missing
    visit = _follow_up({"T01": 40.0, "T02": 30.0}, follow)
    assert visit.target_response is NE
    assert visit.sum_of_diameters_mm is None
    assert not visit.all_targets_assessed
    assert any("B4" in reason for reason in visit.reasons)


def test_B4_missing_target_is_PD_when_assessed_sum_already_progresses() -> None:
    # nadir 50 (baseline); assessed T01 alone 61 mm = +22 % and +11 mm → PD
    visit = _follow_up({"T01": 30.0, "T02": 20.0}, {"T01": 61.0, "T02": "not_done"})
    assert visit.target_response is PD
    assert "B4" in visit.reasons[0]


def test_B4_missing_target_is_NE_when_assessed_sum_below_PD() -> None:
    visit = _follow_up({"T01": 30.0, "T02": 20.0}, {"T01": 59.0, "T02": "not_done"})
    assert visit.target_response is NE


# --------------------------------------------------------------------------- C
@pytest.mark.parametrize(
    ("follow", "expected"),
    [
        ({"T01": "disappeared", "T02": 9.9}, CR),
        ({"T01": "disappeared", "T02": 10.0}, PR),
        ({"T01": "disappeared", "T02": "disappeared"}, CR),
        ({"T01": "too_small", "T02": 5.0}, PR),
        ({"T01": 0.0, "T02": 0.0}, CR),
    ],
    ids=["node-9.9-CR", "node-10-not-CR", "all-gone-CR", "too-small-not-CR", "zero-CR"],
)
def test_C1_complete_response_needs_non_nodal_zero_and_nodes_below_10mm(
    follow: dict[str, TargetValue], expected: Response
) -> None:
    lesions = [target("T01"), target("T02", node=True)]
    visit = _follow_up({"T01": 40.0, "T02": 20.0}, follow, lesions=lesions)
    assert visit.target_response is expected


def test_C1_CR_with_nodes_keeps_a_nonzero_sum() -> None:
    lesions = [target("T01"), target("T02", node=True)]
    visit = _follow_up(
        {"T01": 40.0, "T02": 20.0}, {"T01": "disappeared", "T02": 7.0}, lesions=lesions
    )
    assert visit.target_response is CR
    assert visit.sum_of_diameters_mm == 7.0


@pytest.mark.parametrize(
    ("baseline_mm", "follow_mm", "expected"),
    [
        (100.0, 70.0, PR),
        (100.0, 70.1, SD),
        (33.3, 23.31, PR),
        (33.3, 23.32, SD),
        (82.0, 56.0, PR),
    ],
    ids=[
        "-30.0%-PR",
        "-29.9%-SD",
        "decimal-exact-30%-PR",
        "decimal-29.97%-SD",
        "standards-82-56",
    ],
)
def test_C2_partial_response_at_exactly_30_percent_decrease(
    baseline_mm: float, follow_mm: float, expected: Response
) -> None:
    visit = _follow_up({"T01": baseline_mm}, {"T01": follow_mm})
    assert visit.target_response is expected


def test_C2_reason_reads_like_a_radiologist() -> None:
    lesions = [target("T01"), target("T02", "lung"), target("T03", node=True)]
    visit = _follow_up(
        {"T01": 42.0, "T02": 18.0, "T03": 22.0},
        {"T01": 30.0, "T02": 12.0, "T03": 14.0},
        lesions=lesions,
    )
    assert visit.reasons[0] == "sum 56.0 mm is −31.7 % from baseline 82.0 mm → PR (C2)"
    assert visit.change_from_baseline_pct == -31.7


@pytest.mark.parametrize(
    ("nadir_mm", "follow_mm", "expected"),
    [
        (25.0, 30.0, PD),  # +20.0 % and +5.0 mm
        (25.0, 29.9, SD),  # +19.6 %
        (20.0, 24.9, SD),  # +24.5 % but only +4.9 mm
        (20.0, 25.0, PD),  # +25 % and +5.0 mm
        (100.0, 119.9, SD),  # +19.9 %, +19.9 mm
        (100.0, 120.0, PD),  # exactly +20 %
    ],
    ids=[
        "20%-5mm-PD",
        "19.6%-SD",
        "24.5%-4.9mm-SD",
        "25%-5mm-PD",
        "19.9%-SD",
        "20.0%-PD",
    ],
)
def test_C3_progression_needs_20_percent_and_5mm_over_nadir(
    nadir_mm: float, follow_mm: float, expected: Response
) -> None:
    visit = _follow_up({"T01": nadir_mm}, {"T01": follow_mm})
    assert visit.target_response is expected


def test_C3_20_percent_without_5mm_says_why_it_is_not_PD() -> None:
    visit = _follow_up({"T01": 20.0}, {"T01": 24.9})
    assert "not PD (C3)" in visit.reasons[0]


def test_C3_absolute_rule_can_be_switched_off() -> None:
    visit = _follow_up(
        {"T01": 20.0}, {"T01": 24.9}, params=ResponseParameters(pd_min_increase_mm=None)
    )
    assert visit.target_response is PD


def test_C4_stable_disease_is_neither_PR_nor_PD() -> None:
    visit = _follow_up({"T01": 50.0}, {"T01": 45.0})
    assert visit.target_response is SD
    assert visit.reasons[-1].endswith("SD (Table 1)")


def test_C5_progression_is_decided_before_partial_response() -> None:
    # 65 is −35 % from baseline 100, but +30 % / +15 mm from the nadir 50
    visit = _follow_up({"T01": 100.0}, {"T01": 50.0}, {"T01": 65.0})
    assert visit.change_from_baseline_pct == -35.0
    assert visit.target_response is PD


def test_C6_nadir_includes_baseline_when_smallest() -> None:
    visit = _follow_up({"T01": 40.0}, {"T01": 45.0}, {"T01": 48.0})
    assert visit.nadir_mm == 40.0
    assert visit.target_response is PD  # +20 %, +8 mm over baseline nadir


def test_C6_nadir_is_the_smallest_previous_complete_sum() -> None:
    lesions = [target("T01"), target("T02", "lung")]
    reading = build(
        lesions,
        [
            Visit(0, {"T01": 50.0, "T02": 50.0}),
            Visit(42, {"T01": 30.0, "T02": 30.0}),
            Visit(84, {"T01": 10.0, "T02": "not_done"}),  # partial: not a nadir
            Visit(126, {"T01": 30.0, "T02": 33.0}),
        ],
    )
    visits = assess(reading).timepoints
    assert visits[1].target_response is NE
    assert visits[2].nadir_mm == 60.0  # not the partial 10 mm
    assert visits[2].target_response is PR  # 63 mm: +5 % over nadir, −37 % overall


# --------------------------------------------------------------------------- D
@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ({"NT01": "absent", "NT02": "absent"}, CR),
        ({"NT01": "absent", "NT02": "present"}, NONCRPD),
        ({"NT01": "unequivocal_progression", "NT02": "not_evaluable"}, PD),
        ({"NT01": "further_increase", "NT02": "present"}, PD),
        ({"NT01": "present", "NT02": "not_evaluable"}, NE),
        ({"NT01": "present"}, NE),
    ],
    ids=[
        "D1-all-absent-CR",
        "D2-persisting",
        "D3-unequivocal-PD",
        "D3-further-increase-is-progression-too",
        "D4-not-evaluable-NE",
        "D4-missing-NE",
    ],
)
def test_D_non_target_response(states: dict[str, str], expected: Response) -> None:
    reading = build(
        [target("T01"), non_target("NT01"), non_target("NT02", node=True)],
        [
            Visit(0, {"T01": 30.0}, {"NT01": "present", "NT02": "present"}),
            Visit(42, {"T01": 30.0}, states),
        ],
    )
    assert assess(reading).timepoints[0].non_target_response is expected


# --------------------------------------------------------------------------- E
def _with_new(*states: dict[str, str]) -> list[TimepointAssessment]:
    visits = [Visit(0, {"T01": 50.0})]
    visits += [Visit(42 * (i + 1), {"T01": 30.0}, {}, s) for i, s in enumerate(states)]
    reading = build([target("T01"), new("N01"), new("N02", "bone")], visits)
    return list(assess(reading).timepoints)


def test_E1_unequivocal_new_lesion_is_PD_when_first_seen() -> None:
    visits = _with_new({}, {"N01": "unequivocal"})
    assert visits[0].overall_response is PR
    assert visits[1].new_lesions is NewLesionFinding.UNEQUIVOCAL
    assert visits[1].overall_response is PD


def test_E2_equivocal_new_lesion_is_not_PD() -> None:
    visits = _with_new({"N01": "equivocal"}, {})
    assert visits[0].new_lesions is NewLesionFinding.EQUIVOCAL
    assert visits[0].overall_response is PR
    assert visits[1].overall_response is PR


def test_E2_confirmed_equivocal_lesion_backdates_PD_to_first_observation() -> None:
    visits = _with_new(
        {"N01": "equivocal"}, {"N01": "equivocal"}, {"N01": "unequivocal"}
    )
    assert [v.overall_response for v in visits] == [PD, PR, PD]
    assert "E2" in visits[0].reasons[-1]
    assert visits[0].new_lesions is NewLesionFinding.EQUIVOCAL


def test_E2_backdated_PD_sets_the_best_response() -> None:
    reading = build(
        [target("T01"), new("N01")],
        [
            Visit(0, {"T01": 50.0}),
            Visit(30, {"T01": 30.0}, {}, {"N01": "equivocal"}),
            Visit(60, {"T01": 30.0}, {}, {"N01": "unequivocal"}),
        ],
    )
    bor = assess(reading).best_overall_response
    assert bor.response is PD
    assert bor.date == reading.timepoints[1].date


def test_E3_new_lesion_in_area_not_scanned_at_baseline_is_PD() -> None:
    reading = build(
        [target("T01"), new("N01", "brain")],
        [Visit(0, {"T01": 50.0}), Visit(42, {"T01": 30.0})],
    )
    follow = reading.timepoints[1]
    import dataclasses

    follow = dataclasses.replace(
        follow,
        new_lesions=(
            NewLesionObservation(
                lesion_id="N01",
                state=NewLesionState.EQUIVOCAL,
                not_imaged_at_baseline=True,
            ),
        ),
    )
    reading = dataclasses.replace(reading, timepoints=(reading.timepoints[0], follow))
    visit = assess(reading).timepoints[0]
    assert visit.new_lesions is NewLesionFinding.UNEQUIVOCAL
    assert visit.overall_response is PD
    assert "E3" in visit.reasons[-2]


# --------------------------------------------------------------------------- F
NO, EQ, YES = (
    NewLesionFinding.NONE,
    NewLesionFinding.EQUIVOCAL,
    NewLesionFinding.UNEQUIVOCAL,
)

TABLE_1 = [
    (CR, CR, NO, CR),
    (CR, None, NO, CR),
    (CR, NONCRPD, NO, PR),
    (CR, NE, NO, PR),
    (PR, NONCRPD, NO, PR),
    (PR, NE, NO, PR),
    (PR, CR, NO, PR),
    (SD, NONCRPD, NO, SD),
    (SD, NE, NO, SD),
    (NE, NONCRPD, NO, NE),
    (NE, CR, NO, NE),
    (PD, CR, NO, PD),
    (PD, NE, YES, PD),
    (CR, PD, NO, PD),
    (SD, PD, NO, PD),
    (CR, CR, YES, PD),
    (PR, NONCRPD, YES, PD),
    (PR, NONCRPD, EQ, PR),
]


@pytest.mark.parametrize(
    ("target_r", "non_target_r", "new_lesions", "expected"),
    TABLE_1,
    ids=[f"{t}+{n}+{nl}->{e}" for t, n, nl, e in TABLE_1],
)
def test_F_table_1_overall_response_with_targets(
    target_r: Response,
    non_target_r: Response | None,
    new_lesions: NewLesionFinding,
    expected: Response,
) -> None:
    overall, reason = Recist11Rules().combine_overall(
        target_r, non_target_r, new_lesions
    )
    assert overall is expected
    assert "Table 1" in reason


TABLE_2 = [
    (CR, NO, CR),
    (NONCRPD, NO, NONCRPD),
    (NE, NO, NE),
    (PD, NO, PD),
    (PD, YES, PD),
    (CR, YES, PD),
    (NONCRPD, EQ, NONCRPD),
    (None, NO, Response.NED),
    (None, YES, PD),
]


@pytest.mark.parametrize(
    ("non_target_r", "new_lesions", "expected"),
    TABLE_2,
    ids=[f"{n}+{nl}->{e}" for n, nl, e in TABLE_2],
)
def test_F_table_2_overall_response_without_targets(
    non_target_r: Response | None, new_lesions: NewLesionFinding, expected: Response
) -> None:
    overall, reason = Recist11Rules().combine_overall(None, non_target_r, new_lesions)
    assert overall is expected
    assert "Table 2" in reason
