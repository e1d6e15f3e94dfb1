"""The cached assessment as JSON text, and back to the frozen result objects.

The cache is written and read by the store only, so this is a private, lossless
encoding of :class:`~recist_app.recist.Assessment` (exports are ``exchange``'s job).
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from recist_app.recist import (
    Assessment,
    BaselineAssessment,
    BestOverallResponse,
    ConformanceWarning,
    CountedBasis,
    CountedDiameter,
    Criteria,
    NewLesionFinding,
    Response,
    TimepointAssessment,
)
from recist_app.store._rows import canonical_json

__all__ = ["assessment_from_json", "assessment_to_json"]


def _date(value: str | None) -> datetime.date | None:
    return None if value is None else datetime.date.fromisoformat(value)


def _response(value: str | None) -> Response | None:
    return None if value is None else Response(value)


def _best(best: BestOverallResponse) -> dict[str, Any]:
    return {
        "response": best.response.value,
        "confirmed": best.confirmed,
        "date": best.date,
        "confirmation_date": best.confirmation_date,
        "reasons": list(best.reasons),
    }


def _timepoint(timepoint: TimepointAssessment) -> dict[str, Any]:
    return {
        "visit": timepoint.visit,
        "date": timepoint.date,
        "sum_of_diameters_mm": timepoint.sum_of_diameters_mm,
        "all_targets_assessed": timepoint.all_targets_assessed,
        "change_from_baseline_mm": timepoint.change_from_baseline_mm,
        "change_from_baseline_pct": timepoint.change_from_baseline_pct,
        "nadir_mm": timepoint.nadir_mm,
        "change_from_nadir_mm": timepoint.change_from_nadir_mm,
        "change_from_nadir_pct": timepoint.change_from_nadir_pct,
        "target_response": _value(timepoint.target_response),
        "non_target_response": _value(timepoint.non_target_response),
        "new_lesions": timepoint.new_lesions.value,
        "overall_response": timepoint.overall_response.value,
        "best_overall_response_so_far": timepoint.best_overall_response_so_far.value,
        "reasons": list(timepoint.reasons),
        "new_lesion_sum_mm": timepoint.new_lesion_sum_mm,
        "target_diameters": _diameters(timepoint.target_diameters),
        "new_lesion_diameters": _diameters(timepoint.new_lesion_diameters),
    }


def _diameters(diameters: tuple[CountedDiameter, ...]) -> list[list[Any]]:
    return [[d.lesion_id, d.diameter_um, d.basis.value] for d in diameters]


def _diameters_from(data: list[list[Any]]) -> tuple[CountedDiameter, ...]:
    return tuple(CountedDiameter(i, v, CountedBasis(b)) for i, v, b in data)


def _value(response: Response | None) -> str | None:
    return None if response is None else response.value


def assessment_to_json(assessment: Assessment) -> str:
    """Lossless JSON text of ``assessment``."""
    baseline = assessment.baseline
    return canonical_json(
        {
            "patient_id": assessment.patient_id,
            "criteria": assessment.criteria.value,
            "engine_version": assessment.engine_version,
            "baseline": {
                "visit": baseline.visit,
                "date": baseline.date,
                "sum_of_diameters_mm": baseline.sum_of_diameters_mm,
                "target_count": baseline.target_count,
                "non_target_count": baseline.non_target_count,
                "overall_response": _value(baseline.overall_response),
                "warnings": [
                    {"rule": w.rule, "message": w.message, "lesion_id": w.lesion_id}
                    for w in baseline.warnings
                ],
                "target_diameters": _diameters(baseline.target_diameters),
            },
            "timepoints": [_timepoint(t) for t in assessment.timepoints],
            "best_overall_response": _best(assessment.best_overall_response),
            "best_overall_response_confirmed": _best(
                assessment.best_overall_response_confirmed
            ),
            "best_overall_response_unconfirmed": _best(
                assessment.best_overall_response_unconfirmed
            ),
        }
    )


def _best_from(data: dict[str, Any]) -> BestOverallResponse:
    return BestOverallResponse(
        response=Response(data["response"]),
        confirmed=data["confirmed"],
        date=_date(data["date"]),
        confirmation_date=_date(data["confirmation_date"]),
        reasons=tuple(data["reasons"]),
    )


def _timepoint_from(data: dict[str, Any]) -> TimepointAssessment:
    return TimepointAssessment(
        visit=data["visit"],
        date=datetime.date.fromisoformat(data["date"]),
        sum_of_diameters_mm=data["sum_of_diameters_mm"],
        all_targets_assessed=data["all_targets_assessed"],
        change_from_baseline_mm=data["change_from_baseline_mm"],
        change_from_baseline_pct=data["change_from_baseline_pct"],
        nadir_mm=data["nadir_mm"],
        change_from_nadir_mm=data["change_from_nadir_mm"],
        change_from_nadir_pct=data["change_from_nadir_pct"],
        target_response=_response(data["target_response"]),
        non_target_response=_response(data["non_target_response"]),
        new_lesions=NewLesionFinding(data["new_lesions"]),
        overall_response=Response(data["overall_response"]),
        best_overall_response_so_far=Response(data["best_overall_response_so_far"]),
        reasons=tuple(data["reasons"]),
        new_lesion_sum_mm=data["new_lesion_sum_mm"],
        target_diameters=_diameters_from(data["target_diameters"]),
        new_lesion_diameters=_diameters_from(data["new_lesion_diameters"]),
    )


def assessment_from_json(text: str) -> Assessment:
    """The assessment encoded by :func:`assessment_to_json`."""
    data = json.loads(text)
    baseline = data["baseline"]
    return Assessment(
        patient_id=data["patient_id"],
        criteria=Criteria(data["criteria"]),
        engine_version=data["engine_version"],
        baseline=BaselineAssessment(
            visit=baseline["visit"],
            date=_date(baseline["date"]),
            sum_of_diameters_mm=baseline["sum_of_diameters_mm"],
            target_count=baseline["target_count"],
            non_target_count=baseline["non_target_count"],
            overall_response=_response(baseline["overall_response"]),
            warnings=tuple(
                ConformanceWarning(
                    rule=w["rule"], message=w["message"], lesion_id=w["lesion_id"]
                )
                for w in baseline["warnings"]
            ),
            target_diameters=_diameters_from(baseline["target_diameters"]),
        ),
        timepoints=tuple(_timepoint_from(t) for t in data["timepoints"]),
        best_overall_response=_best_from(data["best_overall_response"]),
        best_overall_response_confirmed=_best_from(
            data["best_overall_response_confirmed"]
        ),
        best_overall_response_unconfirmed=_best_from(
            data["best_overall_response_unconfirmed"]
        ),
    )
