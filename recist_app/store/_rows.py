"""Conversion between a domain :class:`~recist_app.recist.Reading` and table rows.

A reading becomes a :class:`ReadingRows`: one dictionary of column values per row,
keyed by what identifies the row inside the reading (lesion id, visit label, visit and
lesion). The same form serves three purposes, so they can never disagree:

- the store diffs stored rows against a new reading and writes only what changed;
- the audit trail records each changed row's values before and after;
- a signed version's snapshot is this form as canonical JSON.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from recist_app.recist import (
    AxisGeometry,
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    MeasurementGeometry,
    MeasurementMethod,
    MeasurementState,
    Modality,
    NewLesionObservation,
    NewLesionState,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    ResponseParameters,
    TimePoint,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "GEOMETRY_COLUMNS",
    "LESION_COLUMNS",
    "MEASUREMENT_COLUMNS",
    "NEW_LESION_COLUMNS",
    "NON_TARGET_COLUMNS",
    "READING_COLUMNS",
    "VIABLE_GEOMETRY_COLUMNS",
    "VISIT_COLUMNS",
    "FindingKey",
    "ReadingRows",
    "Values",
    "add_lesion_rows",
    "add_timepoint_rows",
    "canonical_json",
    "empty_rows",
    "later_column_defaults",
    "reading_from_rows",
    "reading_to_rows",
    "reading_values",
    "rows_from_snapshot",
    "rows_sha256",
    "rows_to_snapshot",
]

Values = dict[str, Any]
FindingKey = tuple[str, str]  # (visit, lesion_id)

SNAPSHOT_FORMAT = "recist-app-reading-snapshot/1"
_DATE_COLUMNS = frozenset({"first_dose_date", "visit_date"})
_AXES = ("long_axis", "short_axis")
_ENDS = ("start", "end")
_LPS = ("l", "p", "s")
GEOMETRY_COLUMNS = (
    "geometry_series_instance_uid",
    "geometry_sop_instance_uid",
    "geometry_method",
    *(
        f"{axis}_{end}_{coordinate}_mm"
        for axis in _AXES
        for end in _ENDS
        for coordinate in _LPS
    ),
)
# Where the mRECIST viable long axis was drawn: the same columns, prefixed.
_VIABLE = "viable_"
VIABLE_GEOMETRY_COLUMNS = tuple(f"{_VIABLE}{name}" for name in GEOMETRY_COLUMNS)

READING_COLUMNS = (
    "first_dose_date",
    "confirmation_min_days",
    "sd_min_days",
    "require_confirmation",
    "max_ne_between_confirmation",
    "too_small_mm",
    "pd_min_increase_mm",
    "baseline_window_days",
    "irecist_confirmation_min_days",
    "irecist_confirmation_max_days",
    "mrecist_pd_min_increase_mm",
)
LESION_COLUMNS = (
    "lesion_id",
    "position",
    "role",
    "organ",
    "location",
    "is_lymph_node",
    "tracking_uid",
    "is_cystic",
    "previously_irradiated",
)
VISIT_COLUMNS = (
    "visit",
    "position",
    "visit_date",
    "is_baseline",
    "slice_thickness_mm",
    "modality",
    "study_instance_uid",
    "series_instance_uid",
    "no_disease",
)
MEASUREMENT_COLUMNS = (
    "position",
    "state",
    "long_axis_mm",
    "short_axis_mm",
    "viable_long_axis_mm",
    "parts_mm",
    "merged_into",
    *GEOMETRY_COLUMNS,
    *VIABLE_GEOMETRY_COLUMNS,
)
NON_TARGET_COLUMNS = (
    "position",
    "state",
    "cytology_confirmed",
    *GEOMETRY_COLUMNS,  # revision 0012: where the lesion was marked
)
NEW_LESION_COLUMNS = (
    "position",
    "state",
    "not_imaged_at_baseline",
    "long_axis_mm",
    "short_axis_mm",
    "typical_vascular_pattern",
    "cytology_confirmed",
    *GEOMETRY_COLUMNS,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingRows:
    """A reading as column values: the reading row and its child rows by key."""

    patient_id: str
    criteria: str
    reader: str
    reading: Values
    lesions: dict[str, Values] = field(default_factory=dict)
    timepoints: dict[str, Values] = field(default_factory=dict)
    measurements: dict[FindingKey, Values] = field(default_factory=dict)
    non_target: dict[FindingKey, Values] = field(default_factory=dict)
    new_lesions: dict[FindingKey, Values] = field(default_factory=dict)


def _json_default(value: object) -> object:
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def canonical_json(value: object) -> str:
    """JSON with sorted keys and no spaces: the same text for the same values."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )


# ------------------------------------------------------------- domain -> rows


def _geometry_values(geometry: MeasurementGeometry | None, prefix: str = "") -> Values:
    """The geometry columns (names starting with ``prefix``) of ``geometry``."""
    values: Values = {f"{prefix}{name}": None for name in GEOMETRY_COLUMNS}
    if geometry is None:
        return values
    values[f"{prefix}geometry_series_instance_uid"] = geometry.series_instance_uid
    values[f"{prefix}geometry_sop_instance_uid"] = geometry.sop_instance_uid
    values[f"{prefix}geometry_method"] = geometry.method.value
    for axis_name in _AXES:
        axis: AxisGeometry | None = getattr(geometry, axis_name)
        if axis is None:
            continue
        for end, point in zip(_ENDS, (axis.start_lps_mm, axis.end_lps_mm), strict=True):
            for coordinate, value in zip(_LPS, point, strict=True):
                values[f"{prefix}{axis_name}_{end}_{coordinate}_mm"] = _float(value)
    return values


def _float(value: float) -> float:
    """``value`` as the database holds it: a float, and ``-0.0`` as ``0.0``.

    SQLite stores a whole-number REAL as an integer, so ``-0.0`` reads back as
    ``0.0``; the rows (and the audit values taken from them) say the same.
    """
    return float(value) + 0.0


def _optional_float(value: float | None) -> float | None:
    return None if value is None else _float(value)


def reading_values(reading: Reading) -> Values:
    """Column values of the reading row itself (first dose date and parameters)."""
    params = reading.params
    return {
        "first_dose_date": reading.first_dose_date,
        "confirmation_min_days": params.confirmation_min_days,
        "sd_min_days": params.sd_min_days,
        "require_confirmation": params.require_confirmation,
        "max_ne_between_confirmation": params.max_ne_between_confirmation,
        "too_small_mm": _float(params.too_small_mm),
        "pd_min_increase_mm": _optional_float(params.pd_min_increase_mm),
        "baseline_window_days": params.baseline_window_days,
        "irecist_confirmation_min_days": params.irecist_confirmation_min_days,
        "irecist_confirmation_max_days": params.irecist_confirmation_max_days,
        "mrecist_pd_min_increase_mm": _optional_float(
            params.mrecist_pd_min_increase_mm
        ),
    }


def empty_rows(reading: Reading) -> ReadingRows:
    """The reading row of ``reading`` with no child rows yet."""
    return ReadingRows(
        patient_id=reading.patient_id,
        criteria=reading.criteria.value,
        reader=reading.reader,
        reading=reading_values(reading),
    )


def add_lesion_rows(rows: ReadingRows, reading: Reading) -> None:
    """Add the row of every lesion of ``reading`` to ``rows``."""
    for position, lesion in enumerate(reading.lesions):
        rows.lesions[lesion.lesion_id] = {
            "lesion_id": lesion.lesion_id,
            "position": position,
            "role": lesion.role.value,
            "organ": lesion.organ,
            "location": lesion.location,
            "is_lymph_node": lesion.is_lymph_node,
            "tracking_uid": lesion.tracking_uid,
            "is_cystic": lesion.is_cystic,
            "previously_irradiated": lesion.previously_irradiated,
        }


def reading_to_rows(reading: Reading) -> ReadingRows:
    """Column values of every row that stores ``reading``."""
    rows = empty_rows(reading)
    add_lesion_rows(rows, reading)
    for position, timepoint in enumerate(reading.timepoints):
        add_timepoint_rows(rows, position, timepoint)
    return rows


def add_timepoint_rows(rows: ReadingRows, position: int, timepoint: TimePoint) -> None:
    """Add the rows of ``timepoint`` (its visit row and its findings) to ``rows``.

    ``position`` is the timepoint's index in its reading.
    """
    visit = timepoint.visit
    rows.timepoints[visit] = {
        "visit": visit,
        "position": position,
        "visit_date": timepoint.date,
        "is_baseline": timepoint.is_baseline,
        "slice_thickness_mm": _optional_float(timepoint.slice_thickness_mm),
        "modality": timepoint.modality.value,
        "study_instance_uid": timepoint.study_instance_uid,
        "series_instance_uid": timepoint.series_instance_uid,
        "no_disease": timepoint.no_disease,
    }
    for index, measurement in enumerate(timepoint.measurements):
        rows.measurements[visit, measurement.lesion_id] = {
            "position": index,
            "state": measurement.state.value,
            "long_axis_mm": _optional_float(measurement.long_axis_mm),
            "short_axis_mm": _optional_float(measurement.short_axis_mm),
            "viable_long_axis_mm": _optional_float(measurement.viable_long_axis_mm),
            "parts_mm": [_float(part) for part in measurement.parts_mm],
            "merged_into": measurement.merged_into,
            **_geometry_values(measurement.geometry),
            **_geometry_values(measurement.viable_geometry, _VIABLE),
        }
    for index, assessment in enumerate(timepoint.non_target):
        rows.non_target[visit, assessment.lesion_id] = {
            "position": index,
            "state": assessment.state.value,
            "cytology_confirmed": assessment.cytology_confirmed,
            **_geometry_values(assessment.geometry),
        }
    for index, observation in enumerate(timepoint.new_lesions):
        rows.new_lesions[visit, observation.lesion_id] = {
            "position": index,
            "state": observation.state.value,
            "not_imaged_at_baseline": observation.not_imaged_at_baseline,
            "long_axis_mm": _optional_float(observation.long_axis_mm),
            "short_axis_mm": _optional_float(observation.short_axis_mm),
            "typical_vascular_pattern": observation.typical_vascular_pattern,
            "cytology_confirmed": observation.cytology_confirmed,
            **_geometry_values(observation.geometry),
        }


# ------------------------------------------------------------- rows -> domain


def _axis(values: Mapping[str, Any], axis_name: str) -> AxisGeometry | None:
    points = []
    for end in _ENDS:
        coordinates = [values[f"{axis_name}_{end}_{c}_mm"] for c in _LPS]
        if any(c is None for c in coordinates):
            return None
        points.append((coordinates[0], coordinates[1], coordinates[2]))
    return AxisGeometry(start_lps_mm=points[0], end_lps_mm=points[1])


def _geometry(
    values: Mapping[str, Any], prefix: str = ""
) -> MeasurementGeometry | None:
    """The geometry stored in the columns whose names start with ``prefix``."""
    if values[f"{prefix}geometry_series_instance_uid"] is None:
        return None
    return MeasurementGeometry(
        series_instance_uid=values[f"{prefix}geometry_series_instance_uid"],
        sop_instance_uid=values[f"{prefix}geometry_sop_instance_uid"],
        long_axis=_axis(values, f"{prefix}long_axis"),
        short_axis=_axis(values, f"{prefix}short_axis"),
        method=MeasurementMethod(values[f"{prefix}geometry_method"]),
    )


def _in_position_order(
    items: Mapping[FindingKey, Values], visit: str
) -> list[tuple[str, Values]]:
    found = [(key[1], values) for key, values in items.items() if key[0] == visit]
    return sorted(found, key=lambda item: int(item[1]["position"]))


def _timepoint(rows: ReadingRows, values: Mapping[str, Any]) -> TimePoint:
    visit = values["visit"]
    measurements = tuple(
        Measurement(
            lesion_id=lesion_id,
            state=MeasurementState(v["state"]),
            long_axis_mm=v["long_axis_mm"],
            short_axis_mm=v["short_axis_mm"],
            viable_long_axis_mm=v["viable_long_axis_mm"],
            parts_mm=tuple(v["parts_mm"]),
            merged_into=v["merged_into"],
            geometry=_geometry(v),
            viable_geometry=_geometry(v, _VIABLE),
        )
        for lesion_id, v in _in_position_order(rows.measurements, visit)
    )
    non_target = tuple(
        NonTargetAssessment(
            lesion_id=lesion_id,
            state=NonTargetState(v["state"]),
            cytology_confirmed=v["cytology_confirmed"],
            geometry=_geometry(v),
        )
        for lesion_id, v in _in_position_order(rows.non_target, visit)
    )
    new_lesions = tuple(
        NewLesionObservation(
            lesion_id=lesion_id,
            state=NewLesionState(v["state"]),
            not_imaged_at_baseline=v["not_imaged_at_baseline"],
            long_axis_mm=v["long_axis_mm"],
            short_axis_mm=v["short_axis_mm"],
            typical_vascular_pattern=v["typical_vascular_pattern"],
            cytology_confirmed=v["cytology_confirmed"],
            geometry=_geometry(v),
        )
        for lesion_id, v in _in_position_order(rows.new_lesions, visit)
    )
    return TimePoint(
        visit=visit,
        date=values["visit_date"],
        is_baseline=values["is_baseline"],
        slice_thickness_mm=values["slice_thickness_mm"],
        modality=Modality(values["modality"]),
        measurements=measurements,
        non_target=non_target,
        new_lesions=new_lesions,
        study_instance_uid=values["study_instance_uid"],
        series_instance_uid=values["series_instance_uid"],
        no_disease=bool(values["no_disease"]),
    )


def reading_from_rows(rows: ReadingRows) -> Reading:
    """The domain reading stored in ``rows``; raises ``ReadingError`` if invalid."""
    values = rows.reading
    params = ResponseParameters(
        confirmation_min_days=values["confirmation_min_days"],
        sd_min_days=values["sd_min_days"],
        require_confirmation=values["require_confirmation"],
        max_ne_between_confirmation=values["max_ne_between_confirmation"],
        too_small_mm=values["too_small_mm"],
        pd_min_increase_mm=values["pd_min_increase_mm"],
        baseline_window_days=values["baseline_window_days"],
        irecist_confirmation_min_days=values["irecist_confirmation_min_days"],
        irecist_confirmation_max_days=values["irecist_confirmation_max_days"],
        mrecist_pd_min_increase_mm=values["mrecist_pd_min_increase_mm"],
    )
    lesions = tuple(
        Lesion(
            lesion_id=v["lesion_id"],
            role=LesionRole(v["role"]),
            organ=v["organ"],
            location=v["location"],
            is_lymph_node=v["is_lymph_node"],
            tracking_uid=v["tracking_uid"],
            is_cystic=v["is_cystic"],
            previously_irradiated=v["previously_irradiated"],
        )
        for v in sorted(rows.lesions.values(), key=lambda v: int(v["position"]))
    )
    timepoints = tuple(
        _timepoint(rows, v)
        for v in sorted(rows.timepoints.values(), key=lambda v: int(v["position"]))
    )
    return Reading(
        patient_id=rows.patient_id,
        criteria=Criteria(rows.criteria),
        first_dose_date=values["first_dose_date"],
        params=params,
        lesions=lesions,
        timepoints=timepoints,
        reader=rows.reader,
    )


# ------------------------------------------------------------- snapshots


def rows_to_snapshot(rows: ReadingRows) -> str:
    """Canonical JSON of ``rows``: a signed version, kept whole."""
    return canonical_json(
        {
            "format": SNAPSHOT_FORMAT,
            "patient_id": rows.patient_id,
            "criteria": rows.criteria,
            "reader": rows.reader,
            "reading": rows.reading,
            "lesions": [rows.lesions[key] for key in sorted(rows.lesions)],
            "timepoints": [rows.timepoints[key] for key in sorted(rows.timepoints)],
            **{
                name: [
                    {"visit": key[0], "lesion_id": key[1], "values": items[key]}
                    for key in sorted(items)
                ]
                for name, items in (
                    ("measurements", rows.measurements),
                    ("non_target", rows.non_target),
                    ("new_lesions", rows.new_lesions),
                )
            },
        }
    )


def _with_dates(values: Mapping[str, Any]) -> Values:
    return {
        name: (
            datetime.date.fromisoformat(value)
            if name in _DATE_COLUMNS and value is not None
            else value
        )
        for name, value in values.items()
    }


def _field_defaults(cls: type, names: tuple[str, ...]) -> Values:
    return {
        item.name: item.default
        for item in dataclasses.fields(cls)
        if item.name in names and item.default is not dataclasses.MISSING
    }


# Columns added after the first schema revision: a snapshot signed before they
# existed reads back with the domain defaults the migration gave them.
_LATER_COLUMNS: dict[str, Values] = {
    "reading": _field_defaults(
        ResponseParameters,
        (
            "irecist_confirmation_min_days",
            "irecist_confirmation_max_days",
            "mrecist_pd_min_increase_mm",
        ),
    ),
    "timepoints": {"no_disease": False},  # revision 0010: not the reader's A8
    "measurements": dict.fromkeys(VIABLE_GEOMETRY_COLUMNS),  # no viable line
    "non_target": {
        **_field_defaults(NonTargetAssessment, ("cytology_confirmed",)),
        **dict.fromkeys(GEOMETRY_COLUMNS),  # revision 0012: no mark drawn
    },
    "new_lesions": _field_defaults(
        NewLesionObservation, ("typical_vascular_pattern", "cytology_confirmed")
    ),
}


def later_column_defaults(name: str) -> Values:
    """Values of the columns added after revision 0001 to rows of ``name``.

    ``name`` is ``"reading"`` or a :class:`ReadingRows` field (``"measurements"``
    ...). Rows written before a column existed (in signed snapshots, in the
    audit trail) hold what the migration gave them.
    """
    return dict(_LATER_COLUMNS.get(name, {}))


def _findings(data: Mapping[str, Any], name: str) -> dict[FindingKey, Values]:
    defaults = _LATER_COLUMNS.get(name, {})
    return {
        (item["visit"], item["lesion_id"]): {**defaults, **item["values"]}
        for item in data[name]
    }


def rows_from_snapshot(text: str) -> ReadingRows:
    """Parse a snapshot written by :func:`rows_to_snapshot` (any schema revision)."""
    data = json.loads(text)
    if data.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"unknown snapshot format {data.get('format')!r}")
    return ReadingRows(
        patient_id=data["patient_id"],
        criteria=data["criteria"],
        reader=data["reader"],
        reading=_with_dates({**_LATER_COLUMNS["reading"], **data["reading"]}),
        lesions={v["lesion_id"]: dict(v) for v in data["lesions"]},
        timepoints={
            v["visit"]: _with_dates({**_LATER_COLUMNS["timepoints"], **v})
            for v in data["timepoints"]
        },
        measurements=_findings(data, "measurements"),
        non_target=_findings(data, "non_target"),
        new_lesions=_findings(data, "new_lesions"),
    )


def rows_sha256(rows: ReadingRows) -> str:
    """SHA-256 of the snapshot of ``rows``: equal readings give equal digests."""
    return hashlib.sha256(rows_to_snapshot(rows).encode("utf-8")).hexdigest()
