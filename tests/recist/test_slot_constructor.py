"""``new_timepoint_assessment`` builds exactly what ``TimepointAssessment(...)`` builds.

Issue 23: ``assess`` builds one per follow-up through the slot descriptors
instead of the frozen ``__init__``; the object must be the same, and classes
that check themselves or have defaults are refused.
"""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from recist_app.recist.assessment import (
    NO_DIAMETERS,
    CountedDiameters,
    TimepointAssessment,
    _slot_constructor,
    new_timepoint_assessment,
)
from recist_app.recist.enums import NewLesionFinding, Response


def test_it_builds_the_same_object_as_the_constructor() -> None:
    values = {
        "visit": "WEEK 6",
        "date": datetime.date(2024, 2, 12),
        "sum_of_diameters_mm": 35.0,
        "all_targets_assessed": True,
        "change_from_baseline_mm": -15.0,
        "change_from_baseline_pct": -30.0,
        "nadir_mm": 50.0,
        "change_from_nadir_mm": -15.0,
        "change_from_nadir_pct": -30.0,
        "target_response": Response.PR,
        "non_target_response": None,
        "new_lesions": NewLesionFinding.NONE,
        "overall_response": Response.PR,
        "best_overall_response_so_far": Response.PR,
        "reasons": ("a", "b"),
        "target_diameters": CountedDiameters(("T01",), (35_000,), ("long_axis",)),
        "new_lesion_sum_mm": None,
        "new_lesion_diameters": NO_DIAMETERS,
    }
    names = [field.name for field in dataclasses.fields(TimepointAssessment)]
    assert names == list(values)  # the order the engine passes them in
    built = new_timepoint_assessment(*values.values())
    expected = TimepointAssessment(**values)  # type: ignore[arg-type]
    assert built == expected
    assert repr(built) == repr(expected)
    assert type(built) is TimepointAssessment
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.visit = "WEEK 7"  # type: ignore[misc]


def test_classes_that_check_themselves_or_have_defaults_are_refused() -> None:
    with pytest.raises(TypeError, match="checks itself"):
        _slot_constructor(CountedDiameters)

    @dataclasses.dataclass(frozen=True, slots=True)
    class WithDefault:
        value: int = 0

    with pytest.raises(TypeError, match="defaults"):
        _slot_constructor(WithDefault)
