"""The one Assessment <-> dict converter: lossless, JSON-ready, strict on input."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recist_app.recist import (
    ASSESSMENT_FORMAT,
    Assessment,
    AssessmentDataError,
    BaselineAssessment,
    BestOverallResponse,
    ConformanceWarning,
    CountedDiameter,
    Criteria,
    Reading,
    TimepointAssessment,
    assess,
    assessment_from_dict,
    assessment_to_dict,
)
from tests.recist.builders import Visit, build, target
from tests.recist.strategies import readings


def _assessed(reading: Reading, criteria: Criteria) -> Assessment:
    return assess(dataclasses.replace(reading, criteria=criteria))


@settings(max_examples=150, deadline=None)
@given(reading=readings(every_state=True), criteria=st.sampled_from(tuple(Criteria)))
def test_dict_round_trip_is_the_identity(reading: Reading, criteria: Criteria) -> None:
    assessment = _assessed(reading, criteria)
    data = assessment_to_dict(assessment)
    # JSON-ready: through JSON text and back, nothing changes
    through_json = json.loads(json.dumps(data, allow_nan=False))
    assert through_json == data
    assert assessment_from_dict(through_json) == assessment
    assert assessment_to_dict(assessment_from_dict(through_json)) == data


def _names(kind: type) -> set[str]:
    return {field.name for field in dataclasses.fields(kind)}


def _reading_with_follow_up() -> Reading:
    """T01 40 -> 30 mm; node T02 12 mm at baseline (an A2 warning)."""
    lesions = [target("T01"), target("T02", node=True)]
    return build(
        lesions,
        [Visit(0, {"T01": 40.0, "T02": 12.0}), Visit(42, {"T01": 30.0, "T02": 8.0})],
    )


def test_every_field_of_every_result_object_is_a_key() -> None:
    data = assessment_to_dict(assess(_reading_with_follow_up()))
    assert set(data) == _names(Assessment) | {"format"}
    assert set(data["baseline"]) == _names(BaselineAssessment)
    assert set(data["timepoints"][0]) == _names(TimepointAssessment)
    for name in ("", "_confirmed", "_unconfirmed"):
        assert set(data[f"best_overall_response{name}"]) == _names(BestOverallResponse)
    (warning,) = data["baseline"]["warnings"]
    assert set(warning) == _names(ConformanceWarning)
    # the engine's micrometres are written in millimetres
    assert set(data["timepoints"][0]["target_diameters"][0]) == {
        "lesion_id",
        "diameter_mm",
        "basis",
    }
    assert set(CountedDiameter._fields) == {"lesion_id", "diameter_um", "basis"}


def test_codes_and_dates_are_plain_json_values() -> None:
    data = assessment_to_dict(assess(_reading_with_follow_up()))
    assert data["format"] == ASSESSMENT_FORMAT
    assert data["criteria"] == "RECIST 1.1"
    timepoint = data["timepoints"][0]
    assert timepoint["date"] == "2024-02-12"
    assert timepoint["overall_response"] == "SD"
    assert timepoint["target_diameters"] == [
        {"lesion_id": "T01", "diameter_mm": 30.0, "basis": "long_axis"},
        {"lesion_id": "T02", "diameter_mm": 8.0, "basis": "short_axis"},
    ]
    assert data["baseline"]["target_diameters"] == [
        {"lesion_id": "T01", "diameter_mm": 40.0, "basis": "long_axis"},
        {"lesion_id": "T02", "diameter_mm": 12.0, "basis": "short_axis"},
    ]
    assert data["baseline"]["warnings"][0]["rule"] == "A2"


def _set(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    data = copy.deepcopy(assessment_to_dict(assess(_reading_with_follow_up())))
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("format",), "recist-reading/1", "format must be 'recist-assessment/1'"),
        (("criteria",), "Cheson", "assessment: criteria must be one of"),
        (("timepoints", 0, "overall_response"), "XX", "[0]: overall_response must"),
        (("timepoints", 0, "date"), "2024-13-01", "timepoints[0]: date must be"),
        (("timepoints", 0, "sum_of_diameters_mm"), "30", "sum_of_diameters_mm must"),
        (("timepoints", 0, "all_targets_assessed"), 1, "true or false"),
        (("baseline", "target_count"), 1.5, "target_count must be an integer"),
        (
            ("timepoints", 0, "target_diameters", 0, "basis"),
            "guessed",
            "assessment.timepoints[0].target_diameters[0]: basis must be one of",
        ),
        (("best_overall_response", "reasons"), "PR", "a list of strings"),
    ],
    ids=lambda value: str(value)[:30],
)
def test_a_bad_value_is_an_error_naming_its_field(
    path: tuple[str | int, ...], value: object, message: str
) -> None:
    with pytest.raises(AssessmentDataError) as error:
        assessment_from_dict(_set(path, value))
    assert message in str(error.value)


def test_an_unknown_or_missing_key_is_an_error() -> None:
    data = assessment_to_dict(assess(_reading_with_follow_up()))
    extra = copy.deepcopy(data)
    extra["timepoints"][0]["colour"] = "red"
    with pytest.raises(AssessmentDataError, match=r"timepoints\[0\]: unknown key"):
        assessment_from_dict(extra)
    missing = copy.deepcopy(data)
    del missing["baseline"]["warnings"]
    with pytest.raises(AssessmentDataError, match="baseline: missing warnings"):
        assessment_from_dict(missing)
