"""The one converter between an :class:`~recist_app.recist.Assessment` and a dict.

:func:`assessment_to_dict` gives the ``recist-assessment/1`` object: JSON-ready (ISO
dates, enum members as their codes, lists for tuples), lossless, its keys the field
names of the result objects. :func:`assessment_from_dict` is its exact inverse. Every
output that carries an assessment uses them: ``recist-app evaluate`` and the JSON
export, the store's response cache, the per-visit CSV, SDTM, the PDF report and the
panels, so a field added here reaches all of them.

A follow-up that was not read has ``"overall_response": null`` (and
``new_lesions`` and the target and non-target responses ``null``): no response,
never "no disease"; the baseline's ``read`` says whether it was read.

A counted diameter (A2, A6, B2–B4, J1, H4) is ``{"lesion_id", "diameter_mm",
"basis"}``: the engine's exact micrometres as millimetres (``null`` when not
assessed) and why the lesion counted it.
"""

from __future__ import annotations

import datetime
import math
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from recist_app.recist.assessment import (
    NO_DIAMETERS,
    Assessment,
    BaselineAssessment,
    BestOverallResponse,
    ConformanceWarning,
    CountedDiameter,
    CountedDiameters,
    TimepointAssessment,
)
from recist_app.recist.enums import (
    CountedBasis,
    Criteria,
    NewLesionFinding,
    Response,
)
from recist_app.recist.errors import AssessmentDataError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["ASSESSMENT_FORMAT", "assessment_from_dict", "assessment_to_dict"]

ASSESSMENT_FORMAT = "recist-assessment/1"

_E = TypeVar("_E", bound=StrEnum)

# ------------------------------------------------------------------ to dict


def _code(value: StrEnum | None) -> str | None:
    return None if value is None else value.value


def _iso(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _diameters(diameters: Iterable[CountedDiameter]) -> list[dict[str, Any]]:
    return [
        {
            "lesion_id": d.lesion_id,
            "diameter_mm": d.diameter_mm,
            "basis": d.basis.value,
        }
        for d in diameters
    ]


def _warning_dict(warning: ConformanceWarning) -> dict[str, Any]:
    return {
        "rule": warning.rule,
        "message": warning.message,
        "lesion_id": warning.lesion_id,
    }


def _baseline_dict(baseline: BaselineAssessment) -> dict[str, Any]:
    return {
        "visit": baseline.visit,
        "date": _iso(baseline.date),
        "read": baseline.read,
        "sum_of_diameters_mm": baseline.sum_of_diameters_mm,
        "target_count": baseline.target_count,
        "non_target_count": baseline.non_target_count,
        "overall_response": _code(baseline.overall_response),
        "target_diameters": _diameters(baseline.target_diameters),
        "warnings": [_warning_dict(w) for w in baseline.warnings],
    }


def _timepoint_dict(timepoint: TimepointAssessment) -> dict[str, Any]:
    return {
        "visit": timepoint.visit,
        "date": timepoint.date.isoformat(),
        "sum_of_diameters_mm": timepoint.sum_of_diameters_mm,
        "all_targets_assessed": timepoint.all_targets_assessed,
        "change_from_baseline_mm": timepoint.change_from_baseline_mm,
        "change_from_baseline_pct": timepoint.change_from_baseline_pct,
        "nadir_mm": timepoint.nadir_mm,
        "change_from_nadir_mm": timepoint.change_from_nadir_mm,
        "change_from_nadir_pct": timepoint.change_from_nadir_pct,
        "target_response": _code(timepoint.target_response),
        "non_target_response": _code(timepoint.non_target_response),
        "new_lesions": _code(timepoint.new_lesions),
        "overall_response": _code(timepoint.overall_response),
        "best_overall_response_so_far": timepoint.best_overall_response_so_far.value,
        "new_lesion_sum_mm": timepoint.new_lesion_sum_mm,
        "target_diameters": _diameters(timepoint.target_diameters),
        "new_lesion_diameters": _diameters(timepoint.new_lesion_diameters),
        "reasons": list(timepoint.reasons),
    }


def _best_dict(best: BestOverallResponse) -> dict[str, Any]:
    return {
        "response": best.response.value,
        "confirmed": best.confirmed,
        "date": _iso(best.date),
        "confirmation_date": _iso(best.confirmation_date),
        "reasons": list(best.reasons),
    }


def assessment_to_dict(assessment: Assessment) -> dict[str, Any]:
    """The ``recist-assessment/1`` object of ``assessment`` (JSON-ready, lossless).

    >>> import datetime
    >>> from recist_app.recist import Lesion, Measurement, Reading, TimePoint, assess
    >>> reading = Reading(
    ...     patient_id="P1",
    ...     lesions=(Lesion(lesion_id="T01", role="target", organ="liver"),),
    ...     timepoints=(
    ...         TimePoint(visit="BASELINE", date=datetime.date(2024, 1, 1),
    ...                   is_baseline=True,
    ...                   measurements=(Measurement(lesion_id="T01",
    ...                                             long_axis_mm=50.0),)),
    ...         TimePoint(visit="WEEK 6", date=datetime.date(2024, 2, 12),
    ...                   measurements=(Measurement(lesion_id="T01",
    ...                                             state="too_small"),)),
    ...     ),
    ... )
    >>> data = assessment_to_dict(assess(reading))
    >>> data["timepoints"][0]["target_diameters"]
    [{'lesion_id': 'T01', 'diameter_mm': 5.0, 'basis': 'too_small'}]
    >>> assessment_from_dict(data) == assess(reading)
    True
    """
    return {
        "format": ASSESSMENT_FORMAT,
        "patient_id": assessment.patient_id,
        "criteria": assessment.criteria.value,
        "engine_version": assessment.engine_version,
        "baseline": _baseline_dict(assessment.baseline),
        "timepoints": [_timepoint_dict(t) for t in assessment.timepoints],
        "best_overall_response": _best_dict(assessment.best_overall_response),
        "best_overall_response_confirmed": _best_dict(
            assessment.best_overall_response_confirmed
        ),
        "best_overall_response_unconfirmed": _best_dict(
            assessment.best_overall_response_unconfirmed
        ),
    }


# ------------------------------------------------------------------ from dict


class _Object:
    """One JSON object of the assessment, read field by field.

    Every key must be present and no other may be (the object is the exact image
    of a result object); a bad value raises :class:`AssessmentDataError` naming
    the field and where it is.
    """

    def __init__(self, data: object, where: str, keys: Iterable[str]) -> None:
        if not isinstance(data, dict):
            raise AssessmentDataError(f"{where}: expected an object")
        expected = tuple(keys)
        missing = [key for key in expected if key not in data]
        unknown = sorted(str(key) for key in data if key not in expected)
        if missing:
            raise AssessmentDataError(f"{where}: missing {', '.join(missing)}")
        if unknown:
            raise AssessmentDataError(f"{where}: unknown key {', '.join(unknown)}")
        self._data: dict[str, Any] = data
        self._where = where

    def _error(self, key: str, expected: str) -> AssessmentDataError:
        value = self._data[key]
        return AssessmentDataError(
            f"{self._where}: {key} must be {expected}, got {value!r}"
        )

    def text(self, key: str) -> str:
        value = self._data[key]
        if not isinstance(value, str):
            raise self._error(key, "a string")
        return value

    def optional_text(self, key: str) -> str | None:
        return None if self._data[key] is None else self.text(key)

    def integer(self, key: str) -> int:
        value = self._data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._error(key, "an integer")
        return value

    def flag(self, key: str) -> bool:
        value = self._data[key]
        if not isinstance(value, bool):
            raise self._error(key, "true or false")
        return value

    def number(self, key: str) -> float | None:
        value = self._data[key]
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self._error(key, "a finite number or null")
        return value

    def date(self, key: str) -> datetime.date:
        try:
            return datetime.date.fromisoformat(self.text(key))
        except ValueError:
            raise self._error(key, "an ISO date") from None

    def optional_date(self, key: str) -> datetime.date | None:
        return None if self._data[key] is None else self.date(key)

    def code(self, key: str, kind: type[_E]) -> _E:
        try:
            return kind(self.text(key))
        except ValueError:
            codes = ", ".join(member.value for member in kind)
            raise self._error(key, f"one of {codes}") from None

    def optional_code(self, key: str, kind: type[_E]) -> _E | None:
        return None if self._data[key] is None else self.code(key, kind)

    def texts(self, key: str) -> tuple[str, ...]:
        value = self._data[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._error(key, "a list of strings")
        return tuple(value)

    def objects(self, key: str) -> list[tuple[str, object]]:
        """The items of list ``key`` with the place each is at."""
        value = self._data[key]
        if not isinstance(value, list):
            raise self._error(key, "a list")
        return [(f"{self._where}.{key}[{i}]", item) for i, item in enumerate(value)]

    def child(self, key: str) -> tuple[str, object]:
        return f"{self._where}.{key}", self._data[key]


_DIAMETER_KEYS = ("lesion_id", "diameter_mm", "basis")
_WARNING_KEYS = ("rule", "message", "lesion_id")
_BEST_KEYS = ("response", "confirmed", "date", "confirmation_date", "reasons")
_BASELINE_KEYS = (
    "visit",
    "date",
    "read",
    "sum_of_diameters_mm",
    "target_count",
    "non_target_count",
    "overall_response",
    "target_diameters",
    "warnings",
)
_TIMEPOINT_KEYS = (
    "visit",
    "date",
    "sum_of_diameters_mm",
    "all_targets_assessed",
    "change_from_baseline_mm",
    "change_from_baseline_pct",
    "nadir_mm",
    "change_from_nadir_mm",
    "change_from_nadir_pct",
    "target_response",
    "non_target_response",
    "new_lesions",
    "overall_response",
    "best_overall_response_so_far",
    "new_lesion_sum_mm",
    "target_diameters",
    "new_lesion_diameters",
    "reasons",
)
_ASSESSMENT_KEYS = (
    "format",
    "patient_id",
    "criteria",
    "engine_version",
    "baseline",
    "timepoints",
    "best_overall_response",
    "best_overall_response_confirmed",
    "best_overall_response_unconfirmed",
)


def _diameters_from(fields: _Object, key: str) -> CountedDiameters:
    ids: list[str] = []
    values_um: list[int | None] = []
    codes: list[str] = []
    for where, item in fields.objects(key):
        diameter = _Object(item, where, _DIAMETER_KEYS)
        value_mm = diameter.number("diameter_mm")
        ids.append(diameter.text("lesion_id"))
        # the engine's micrometres, written as mm / 1000: exact back
        values_um.append(None if value_mm is None else round(value_mm * 1000))
        codes.append(diameter.code("basis", CountedBasis).value)
    if not ids:
        return NO_DIAMETERS
    return CountedDiameters(tuple(ids), tuple(values_um), tuple(codes))


def _baseline_from(where: str, data: object) -> BaselineAssessment:
    fields = _Object(data, where, _BASELINE_KEYS)
    warnings: list[ConformanceWarning] = []
    for place, item in fields.objects("warnings"):
        warning = _Object(item, place, _WARNING_KEYS)
        warnings.append(
            ConformanceWarning(
                rule=warning.text("rule"),
                message=warning.text("message"),
                lesion_id=warning.optional_text("lesion_id"),
            )
        )
    return BaselineAssessment(
        visit=fields.optional_text("visit"),
        date=fields.optional_date("date"),
        read=fields.flag("read"),
        sum_of_diameters_mm=fields.number("sum_of_diameters_mm"),
        target_count=fields.integer("target_count"),
        non_target_count=fields.integer("non_target_count"),
        overall_response=fields.optional_code("overall_response", Response),
        warnings=tuple(warnings),
        target_diameters=_diameters_from(fields, "target_diameters"),
    )


def _timepoint_from(where: str, data: object) -> TimepointAssessment:
    fields = _Object(data, where, _TIMEPOINT_KEYS)
    return TimepointAssessment(
        visit=fields.text("visit"),
        date=fields.date("date"),
        sum_of_diameters_mm=fields.number("sum_of_diameters_mm"),
        all_targets_assessed=fields.flag("all_targets_assessed"),
        change_from_baseline_mm=fields.number("change_from_baseline_mm"),
        change_from_baseline_pct=fields.number("change_from_baseline_pct"),
        nadir_mm=fields.number("nadir_mm"),
        change_from_nadir_mm=fields.number("change_from_nadir_mm"),
        change_from_nadir_pct=fields.number("change_from_nadir_pct"),
        target_response=fields.optional_code("target_response", Response),
        non_target_response=fields.optional_code("non_target_response", Response),
        new_lesions=fields.optional_code("new_lesions", NewLesionFinding),
        overall_response=fields.optional_code("overall_response", Response),
        best_overall_response_so_far=fields.code(
            "best_overall_response_so_far", Response
        ),
        reasons=fields.texts("reasons"),
        target_diameters=_diameters_from(fields, "target_diameters"),
        new_lesion_sum_mm=fields.number("new_lesion_sum_mm"),
        new_lesion_diameters=_diameters_from(fields, "new_lesion_diameters"),
    )


def _best_from(where: str, data: object) -> BestOverallResponse:
    fields = _Object(data, where, _BEST_KEYS)
    return BestOverallResponse(
        response=fields.code("response", Response),
        confirmed=fields.flag("confirmed"),
        date=fields.optional_date("date"),
        confirmation_date=fields.optional_date("confirmation_date"),
        reasons=fields.texts("reasons"),
    )


def assessment_from_dict(data: object) -> Assessment:
    """The assessment :func:`assessment_to_dict` made ``data`` from.

    Raises
    ------
    AssessmentDataError
        ``data`` is not a ``recist-assessment/1`` object; the message names the
        field (``assessment.timepoints[2]: overall_response must be ...``).
    """
    fields = _Object(data, "assessment", _ASSESSMENT_KEYS)
    if fields.text("format") != ASSESSMENT_FORMAT:
        raise AssessmentDataError(
            f"assessment: format must be {ASSESSMENT_FORMAT!r}, "
            f"got {fields.text('format')!r}"
        )
    return Assessment(
        patient_id=fields.text("patient_id"),
        criteria=fields.code("criteria", Criteria),
        engine_version=fields.text("engine_version"),
        baseline=_baseline_from(*fields.child("baseline")),
        timepoints=tuple(
            _timepoint_from(where, item) for where, item in fields.objects("timepoints")
        ),
        best_overall_response=_best_from(*fields.child("best_overall_response")),
        best_overall_response_confirmed=_best_from(
            *fields.child("best_overall_response_confirmed")
        ),
        best_overall_response_unconfirmed=_best_from(
            *fields.child("best_overall_response_unconfirmed")
        ),
    )
