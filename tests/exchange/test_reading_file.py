"""The reading file recist-reading/1: strict parsing and lossless round trip."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from recist_app.exchange import (
    ExchangeError,
    parse_reading,
    read_reading_file,
    reading_to_dict,
    write_reading_file,
)
from recist_app.recist import MeasurementState, Reading
from tests.recist.strategies import readings

EXAMPLE = Path(__file__).parents[2] / "examples" / "HCC-001.reading.json"


def _example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


def test_design_example_parses() -> None:
    reading = read_reading_file(EXAMPLE)
    assert reading.patient_id == "HCC-001"
    assert [t.visit for t in reading.timepoints] == ["BASELINE", "WEEK 6", "WEEK 12"]
    assert reading.baseline is not None
    assert reading.lesion("T02").is_lymph_node


def _break(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(_example())
    change(data)
    return data


BAD_INPUTS = [
    (
        "unknown-top-key",
        lambda d: d.update(colour="red"),
        ["(top level)", "unknown key 'colour'"],
    ),
    (
        "unknown-measurement-key",
        lambda d: d["timepoints"][1]["measurements"][0].update(diameter=3),
        ["timepoints[1].measurements[0]", "unknown key 'diameter'", "lesion T01"],
    ),
    (
        "wrong-type-diameter",
        lambda d: d["timepoints"][1]["measurements"][0].update(long_axis_mm="30"),
        ["timepoints[1].measurements[0].long_axis_mm", "expected a number"],
    ),
    (
        "wrong-type-lesions",
        lambda d: d.update(lesions={}),
        ["lesions", "expected a list"],
    ),
    (
        "unknown-lesion-id",
        lambda d: d["timepoints"][1]["measurements"][0].update(lesion_id="T09"),
        ["visit WEEK 6", "lesion T09", "unknown lesion id"],
    ),
    (
        "dates-out-of-order",
        lambda d: d["timepoints"][2].update(date="2024-04-01"),
        ["visit WEEK 12", "dates out of order"],
    ),
    (
        "baseline-target-unmeasured",
        lambda d: d["timepoints"][0]["measurements"].pop(1),
        ["visit BASELINE", "lesion T02", "no baseline measurement"],
    ),
    (
        "two-baselines",
        lambda d: d["timepoints"][2].update(baseline=True),
        ["more than one baseline", "BASELINE, WEEK 12"],
    ),
    (
        "no-baseline",
        lambda d: d["timepoints"][0].update(baseline=False),
        ["no baseline visit"],
    ),
    (
        "bad-date",
        lambda d: d["timepoints"][1].update(date="15/04/2024"),
        ["timepoints[1].date", "visit WEEK 6", "YYYY-MM-DD"],
    ),
    (
        "unknown-state",
        lambda d: d["timepoints"][1]["measurements"][0].update(state="gone"),
        ["state", "unknown value 'gone'", "lesion T01"],
    ),
    (
        "wrong-role-reference",
        lambda d: d["timepoints"][1]["non_target"][0].update(lesion_id="T01"),
        ["lesion T01", "needs a non-target lesion"],
    ),
    (
        "node-without-short-axis",
        lambda d: d["timepoints"][1]["measurements"][1].update(
            short_axis_mm=None, long_axis_mm=12.0
        ),
        ["visit WEEK 6", "lesion T02", "short_axis_mm"],
    ),
    (
        "negative-diameter",
        lambda d: d["timepoints"][1]["measurements"][0].update(long_axis_mm=-1),
        ["lesion T01", "finite and >= 0"],
    ),
    (
        "wrong-format",
        lambda d: d.update(format="recist-reading/2"),
        ["format", "recist-reading/1"],
    ),
    (
        "unknown-param",
        lambda d: d["params"].update(confirm_days=28),
        ["params", "unknown key 'confirm_days'"],
    ),
    (
        "param-wrong-type",
        lambda d: d["params"].update(sd_min_days="42"),
        ["params.sd_min_days", "expected int"],
    ),
    (
        "duplicate-lesion",
        lambda d: d["lesions"].append(dict(d["lesions"][0])),
        ["lesion T01", "duplicate"],
    ),
    (
        "A8-no-disease-with-findings",
        lambda d: d["timepoints"][1].update(no_disease=True),
        ["timepoints[1]", "visit WEEK 6", "no_disease", "together with findings"],
    ),
    (
        "A8-no-disease-not-a-boolean",
        lambda d: d["timepoints"][1].update(no_disease="yes"),
        ["timepoints[1].no_disease", "expected true or false"],
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    [(change, expected) for _, change, expected in BAD_INPUTS],
    ids=[name for name, _, _ in BAD_INPUTS],
)
def test_bad_input_is_one_line_naming_field_visit_and_lesion(
    change: Any, expected: list[str]
) -> None:
    with pytest.raises(ExchangeError) as caught:
        parse_reading(_break(change), source="HCC-001.json")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("HCC-001.json: ")
    for part in expected:
        assert part in message


def test_missing_file_and_bad_json_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ExchangeError, match="no such file"):
        read_reading_file(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": ', encoding="utf-8")
    with pytest.raises(ExchangeError, match=r"broken.json: not valid JSON: .* line 1"):
        read_reading_file(broken)


def test_split_and_merged_states_parse() -> None:
    data = _example()
    data["lesions"].append(
        {"lesion_id": "T03", "role": "target", "organ": "lung", "is_lymph_node": False}
    )
    data["timepoints"][0]["measurements"].append(
        {"lesion_id": "T03", "state": "measured", "long_axis_mm": 15.0}
    )
    data["timepoints"][1]["measurements"].append(
        {"lesion_id": "T03", "state": "merged", "merged_into": "T01"}
    )
    data["timepoints"][2]["measurements"][0] = {
        "lesion_id": "T01",
        "state": "split",
        "parts_mm": [12.0, 10.0],
    }
    reading = parse_reading(data)
    assert reading.timepoints[1].measurement("T03").state is MeasurementState.MERGED  # type: ignore[union-attr]
    assert reading.timepoints[2].measurement("T01").parts_mm == (12.0, 10.0)  # type: ignore[union-attr]


@settings(max_examples=100, deadline=None)
@given(readings())
def test_reading_file_round_trip_is_lossless(reading: Reading) -> None:
    text = json.dumps(reading_to_dict(reading))
    assert parse_reading(json.loads(text)) == reading


def test_write_then_read(tmp_path: Path) -> None:
    reading = read_reading_file(EXAMPLE)
    path = tmp_path / "out.json"
    write_reading_file(reading, path)
    assert read_reading_file(path) == reading
    assert not (tmp_path / "out.json.tmp").exists()


def test_A8_no_disease_at_baseline_is_read_from_and_written_to_the_file() -> None:
    data = {
        "format": "recist-reading/1",
        "patient_id": "HCC-900",
        "lesions": [],
        "timepoints": [
            {"visit": "BASELINE", "date": "2024-01-01", "no_disease": True},
            {"visit": "WEEK 4", "date": "2024-01-29"},
        ],
    }
    reading = parse_reading(data)
    assert reading.timepoints[0].no_disease
    assert not reading.timepoints[1].no_disease
    written = reading_to_dict(reading)
    assert written["timepoints"][0]["no_disease"] is True
    assert "no_disease" not in written["timepoints"][1]  # written only when set
    assert parse_reading(written) == reading
