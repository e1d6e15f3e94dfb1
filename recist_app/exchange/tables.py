"""The per-lesion CSV table for statisticians (many patients at once).

The per-visit table is :func:`~recist_app.exchange.assessment_file.visits_csv_text`,
the one layout ``evaluate`` and ``export`` share.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from recist_app.recist import LesionRole

if TYPE_CHECKING:
    from collections.abc import Sequence

    from recist_app.recist import Assessment, CountedDiameter, Reading

__all__ = ["LESION_COLUMNS", "lesion_rows", "lesions_csv_text"]

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
    "counted_diameter_mm",
    "counted_basis",
    "sop_instance_uid",
)
"""One row per lesion per visit where it was recorded; a target's
``counted_diameter_mm`` and ``counted_basis`` are what the assessment counted
(A2, A6, B2–B4, J1)."""


def _counted(assessment: Assessment, visit: str) -> dict[str, CountedDiameter]:
    try:
        return assessment.target_diameters_at(visit)
    except KeyError:
        return {}


def lesion_rows(reading: Reading, assessment: Assessment) -> list[dict[str, Any]]:
    """One row per lesion per visit where it was recorded.

    ``assessment`` is ``assess(reading)``: the targets' counted diameters.
    """
    rows: list[dict[str, Any]] = []
    for timepoint in reading.timepoints:
        counted = _counted(assessment, timepoint.visit)
        common = {
            "patient_id": reading.patient_id,
            "visit": timepoint.visit,
            "date": timepoint.date.isoformat(),
        }
        findings: list[dict[str, Any]] = []
        for m in timepoint.measurements:
            diameter = counted.get(m.lesion_id)
            findings.append(
                {
                    "lesion_id": m.lesion_id,
                    "counted_diameter_mm": None
                    if diameter is None
                    else (diameter.diameter_mm),
                    "counted_basis": None if diameter is None else diameter.basis.value,
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


def lesions_csv_text(items: Sequence[tuple[Reading, Assessment]]) -> str:
    """``lesions.csv``: one row per patient x lesion x visit."""
    return _csv(LESION_COLUMNS, [row for r, a in items for row in lesion_rows(r, a)])
