"""The assessment ``recist-assessment/1`` as JSON, and one row per visit as CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datetime
    from collections.abc import Sequence

    from recist_app.recist import (
        Assessment,
        BestOverallResponse,
        Response,
        TimepointAssessment,
    )

__all__ = [
    "ASSESSMENT_FORMAT",
    "CSV_COLUMNS",
    "assessment_csv_text",
    "assessment_json_text",
    "assessment_set_json_text",
    "assessment_to_dict",
    "assessments_csv_text",
]

ASSESSMENT_FORMAT = "recist-assessment/1"
ASSESSMENT_SET_FORMAT = "recist-assessment-set/1"

CSV_COLUMNS = (
    "patient_id",
    "criteria",
    "visit",
    "date",
    "sum_of_diameters_mm",
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
    "reasons",
)


def _code(value: Response | None) -> str | None:
    return None if value is None else value.value


def _iso(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _bor_dict(bor: BestOverallResponse) -> dict[str, Any]:
    return {
        "response": bor.response.value,
        "confirmed": bor.confirmed,
        "date": _iso(bor.date),
        "confirmation_date": _iso(bor.confirmation_date),
        "reasons": list(bor.reasons),
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
        "change_from_nadir_pct": timepoint.change_from_nadir_pct,
        "change_from_nadir_mm": timepoint.change_from_nadir_mm,
        "target_response": _code(timepoint.target_response),
        "non_target_response": _code(timepoint.non_target_response),
        "new_lesions": timepoint.new_lesions.value,
        "overall_response": timepoint.overall_response.value,
        "best_overall_response_so_far": timepoint.best_overall_response_so_far.value,
        "reasons": list(timepoint.reasons),
    }


def assessment_to_dict(assessment: Assessment) -> dict[str, Any]:
    """The ``recist-assessment/1`` object (README, File formats) for ``assessment``."""
    baseline = assessment.baseline
    return {
        "format": ASSESSMENT_FORMAT,
        "patient_id": assessment.patient_id,
        "criteria": assessment.criteria.value,
        "engine_version": assessment.engine_version,
        "timepoints": [_timepoint_dict(t) for t in assessment.timepoints],
        "best_overall_response": _bor_dict(assessment.best_overall_response),
        "best_overall_response_confirmed": _bor_dict(
            assessment.best_overall_response_confirmed
        ),
        "best_overall_response_unconfirmed": _bor_dict(
            assessment.best_overall_response_unconfirmed
        ),
        "baseline": {
            "visit": baseline.visit,
            "date": _iso(baseline.date),
            "sum_of_diameters_mm": baseline.sum_of_diameters_mm,
            "target_lesions": baseline.target_count,
            "non_target_lesions": baseline.non_target_count,
            "overall_response": _code(baseline.overall_response),
            "warnings": [str(warning) for warning in baseline.warnings],
        },
    }


def assessment_json_text(assessment: Assessment) -> str:
    """The assessment as indented JSON text ending in a newline."""
    return (
        json.dumps(assessment_to_dict(assessment), indent=2, ensure_ascii=False) + "\n"
    )


def assessment_set_json_text(assessments: Sequence[Assessment]) -> str:
    """Several criteria's assessments of one reading, side by side, as JSON.

    The object is ``{"format": "recist-assessment-set/1", "patient_id": ...,
    "assessments": [recist-assessment/1, ...]}`` in the order given.
    """
    data = {
        "format": ASSESSMENT_SET_FORMAT,
        "patient_id": assessments[0].patient_id if assessments else None,
        "assessments": [assessment_to_dict(a) for a in assessments],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def assessment_csv_text(assessment: Assessment) -> str:
    """One row per follow-up visit, with the reasons joined by ``" | "``."""
    return assessments_csv_text((assessment,))


def assessments_csv_text(assessments: Sequence[Assessment]) -> str:
    """One row per criteria and follow-up visit (the ``criteria`` column tells)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for assessment in assessments:
        for timepoint in assessment.timepoints:
            row = _timepoint_dict(timepoint)
            row["reasons"] = " | ".join(timepoint.reasons)
            row["patient_id"] = assessment.patient_id
            row["criteria"] = assessment.criteria.value
            writer.writerow(
                {key: "" if row[key] is None else row[key] for key in CSV_COLUMNS}
            )
    return buffer.getvalue()
