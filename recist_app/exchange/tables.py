"""Per-visit and per-lesion CSV tables for statisticians (many patients at once)."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from recist_app.recist import LesionRole

if TYPE_CHECKING:
    from collections.abc import Sequence

    from recist_app.recist import Assessment, Reading

__all__ = [
    "LESION_COLUMNS",
    "VISIT_COLUMNS",
    "lesion_rows",
    "lesions_csv_text",
    "visit_rows",
    "visits_csv_text",
]

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
    "reasons",
)
LESION_COLUMNS = (
    "patient_id",
    "visit",
    "date",
    "lesion_id",
    "role",
    "organ",
    "location",
    "is_lymph_node",
    "state",
    "long_axis_mm",
    "short_axis_mm",
    "parts_mm",
    "merged_into",
    "sop_instance_uid",
)


def _code(value: object) -> str:
    return "" if value is None else str(getattr(value, "value", value))


def visit_rows(reading: Reading, assessment: Assessment) -> list[dict[str, Any]]:
    """One row per visit: the baseline (sum only) and every follow-up."""
    rows: list[dict[str, Any]] = []
    baseline = assessment.baseline
    common = {
        "patient_id": reading.patient_id,
        "criteria": reading.criteria.value,
        "reader": reading.reader,
    }
    if reading.baseline is not None:
        rows.append(
            {
                **common,
                "visit": reading.baseline.visit,
                "date": reading.baseline.date.isoformat(),
                "baseline": "Y",
                "sum_of_diameters_mm": baseline.sum_of_diameters_mm,
                "overall_response": _code(baseline.overall_response),
                "reasons": " | ".join(str(w) for w in baseline.warnings),
            }
        )
    for timepoint in assessment.timepoints:
        rows.append(
            {
                **common,
                "visit": timepoint.visit,
                "date": timepoint.date.isoformat(),
                "baseline": "N",
                "sum_of_diameters_mm": timepoint.sum_of_diameters_mm,
                "change_from_baseline_mm": timepoint.change_from_baseline_mm,
                "change_from_baseline_pct": timepoint.change_from_baseline_pct,
                "nadir_mm": timepoint.nadir_mm,
                "change_from_nadir_mm": timepoint.change_from_nadir_mm,
                "change_from_nadir_pct": timepoint.change_from_nadir_pct,
                "target_response": _code(timepoint.target_response),
                "non_target_response": _code(timepoint.non_target_response),
                "new_lesions": _code(timepoint.new_lesions),
                "overall_response": _code(timepoint.overall_response),
                "best_overall_response_so_far": _code(
                    timepoint.best_overall_response_so_far
                ),
                "reasons": " | ".join(timepoint.reasons),
            }
        )
    return rows


def lesion_rows(reading: Reading) -> list[dict[str, Any]]:
    """One row per lesion per visit where it was assessed."""
    rows: list[dict[str, Any]] = []
    for timepoint in reading.timepoints:
        common = {
            "patient_id": reading.patient_id,
            "visit": timepoint.visit,
            "date": timepoint.date.isoformat(),
        }
        findings: list[dict[str, Any]] = []
        for m in timepoint.measurements:
            findings.append(
                {
                    "lesion_id": m.lesion_id,
                    "state": m.state.value,
                    "long_axis_mm": m.long_axis_mm,
                    "short_axis_mm": m.short_axis_mm,
                    "parts_mm": " ".join(f"{p:g}" for p in m.parts_mm),
                    "merged_into": m.merged_into,
                    "sop_instance_uid": m.geometry.sop_instance_uid
                    if m.geometry
                    else None,
                }
            )
        for a in timepoint.non_target:
            findings.append({"lesion_id": a.lesion_id, "state": a.state.value})
        for o in timepoint.new_lesions:
            findings.append(
                {
                    "lesion_id": o.lesion_id,
                    "state": o.state.value,
                    "long_axis_mm": o.long_axis_mm,
                    "short_axis_mm": o.short_axis_mm,
                    "sop_instance_uid": o.geometry.sop_instance_uid
                    if o.geometry
                    else None,
                }
            )
        for finding in findings:
            lesion = reading.lesion(finding["lesion_id"])
            rows.append(
                {
                    **common,
                    "role": lesion.role.value,
                    "organ": lesion.organ,
                    "location": lesion.location,
                    "is_lymph_node": "Y" if lesion.is_lymph_node else "N",
                    **finding,
                }
            )
    order = {role: index for index, role in enumerate(LesionRole)}
    rows.sort(key=lambda r: (r["date"], order[LesionRole(r["role"])]))
    return rows


def _csv(columns: Sequence[str], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {key: "" if row.get(key) is None else row[key] for key in columns}
        )
    return buffer.getvalue()


def visits_csv_text(items: Sequence[tuple[Reading, Assessment]]) -> str:
    """``responses.csv``: one row per patient x visit, for any number of patients."""
    return _csv(VISIT_COLUMNS, [row for r, a in items for row in visit_rows(r, a)])


def lesions_csv_text(readings: Sequence[Reading]) -> str:
    """``lesions.csv``: one row per patient x lesion x visit."""
    return _csv(LESION_COLUMNS, [row for r in readings for row in lesion_rows(r)])
