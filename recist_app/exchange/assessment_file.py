"""The assessment ``recist-assessment/1`` as JSON, and one row per visit as CSV.

Both come from :func:`~recist_app.recist.assessment_to_dict`, the one converter of
an assessment: ``recist-app evaluate`` and ``recist-app export`` write the same
JSON object and the same per-visit CSV layout (:data:`VISIT_COLUMNS`).
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from recist_app.recist import ASSESSMENT_FORMAT, assessment_to_dict

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from recist_app.recist import Assessment

__all__ = [
    "ASSESSMENT_FORMAT",
    "ASSESSMENT_SET_FORMAT",
    "VISIT_COLUMNS",
    "assessment_json_text",
    "assessment_set_json_text",
    "visit_rows",
    "visits_csv_text",
]

ASSESSMENT_SET_FORMAT = "recist-assessment-set/1"

VISIT_COLUMNS = (
    "patient_id",
    "criteria",
    "reader",
    "visit",
    "date",
    "baseline",
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
    "new_lesion_sum_mm",
    "reasons",
)
"""The per-visit CSV: a baseline row (``baseline`` ``Y``: its sum, NED, and the
conformance warnings as reasons) and one row per follow-up (``N``). A visit not
read has empty response columns and says so in ``reasons``."""

BASELINE_NOT_READ_REASON = (
    "not read: no finding recorded and no 'no disease at baseline'"
)

_FOLLOW_UP_VALUES = frozenset(VISIT_COLUMNS) - {"patient_id", "criteria", "reader"}


def _json_text(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def assessment_json_text(assessment: Assessment) -> str:
    """The ``recist-assessment/1`` object as indented JSON text ending in a newline."""
    return _json_text(assessment_to_dict(assessment))


def assessment_set_json_text(assessments: Sequence[Assessment]) -> str:
    """Several criteria's assessments of one reading, side by side, as JSON.

    The object is ``{"format": "recist-assessment-set/1", "patient_id": ...,
    "assessments": [recist-assessment/1, ...]}`` in the order given.
    """
    return _json_text(
        {
            "format": ASSESSMENT_SET_FORMAT,
            "patient_id": assessments[0].patient_id if assessments else None,
            "assessments": [assessment_to_dict(a) for a in assessments],
        }
    )


def visit_rows(assessment: Assessment, *, reader: str = "") -> list[dict[str, Any]]:
    """The :data:`VISIT_COLUMNS` rows of one assessment: the baseline, then each visit.

    ``reader`` fills the ``reader`` column (the assessment does not know who read).
    Missing values are ``None``; reasons are joined by ``" | "``.
    """
    data = assessment_to_dict(assessment)
    common = {
        "patient_id": data["patient_id"],
        "criteria": data["criteria"],
        "reader": reader,
    }
    rows: list[dict[str, Any]] = []
    baseline = data["baseline"]
    if baseline["visit"] is not None:
        rows.append(
            {
                **common,
                "visit": baseline["visit"],
                "date": baseline["date"],
                "baseline": "Y",
                "sum_of_diameters_mm": baseline["sum_of_diameters_mm"],
                "overall_response": baseline["overall_response"],
                "reasons": " | ".join(
                    ([] if baseline["read"] else [BASELINE_NOT_READ_REASON])
                    + [f"{w['rule']}: {w['message']}" for w in baseline["warnings"]]
                ),
            }
        )
    for timepoint in data["timepoints"]:
        values = {k: v for k, v in timepoint.items() if k in _FOLLOW_UP_VALUES}
        values["reasons"] = " | ".join(timepoint["reasons"])
        rows.append({**common, **values, "baseline": "N"})
    return rows


def visits_csv_text(items: Iterable[tuple[Assessment, str]]) -> str:
    """The per-visit CSV of ``(assessment, reader)`` items, one block per item.

    ``recist-app evaluate --format csv`` (one block per criteria) and ``export
    --format csv`` (``responses.csv``, one block per reading) both write it.
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=VISIT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for assessment, reader in items:
        for row in visit_rows(assessment, reader=reader):
            writer.writerow(
                {key: "" if row.get(key) is None else row[key] for key in VISIT_COLUMNS}
            )
    return buffer.getvalue()
