"""The demo patient's complete reading, drawn from the phantom's ground truth.

``recist-app demo-data`` writes DICOM studies whose lesions have known centres,
axis directions and diameters (``ground_truth.json``, format
``recist-phantom-truth/1``). This module turns that truth into the reading a
careful radiologist would make of those studies: every target measured at every
visit with both axes drawn on the image through the lesion's centre, the non-target
followed, and the new lesion recorded (measured) at the visit it appears. The
measurement end points lie exactly on the image the truth names, so imported into
the database they appear on the images where the lesions are.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import TYPE_CHECKING, Any

from recist_app.exchange.errors import ExchangeError
from recist_app.recist import (
    AxisGeometry,
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    MeasurementGeometry,
    MeasurementState,
    NewLesionObservation,
    NewLesionState,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    ReadingError,
    TimePoint,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "DEMO_READER",
    "FIRST_DOSE_DELAY_DAYS",
    "reading_from_ground_truth",
    "unread_reading_from_ground_truth",
]

DEMO_READER = "demo-radiologist"
"""The reader named in the demo reading file."""

FIRST_DOSE_DELAY_DAYS = 5
"""First dose of the demo patient: this many days after the baseline scan."""

_TRUTH_FORMAT = "recist-phantom-truth/1"

Point3 = tuple[float, float, float]


def _point(values: Sequence[float]) -> Point3:
    x, y, z = (float(v) for v in values)
    return (x, y, z)


def _axis(center: Point3, direction: Point3, length_mm: float) -> AxisGeometry:
    """The axis of ``length_mm`` through ``center`` along unit ``direction``."""
    half = length_mm / 2
    start = tuple(c - half * d for c, d in zip(center, direction, strict=True))
    end = tuple(c + half * d for c, d in zip(center, direction, strict=True))
    # Round to a micrometre: the reading file keeps end points readable, and the
    # rounded length still equals the truth to well under 0.01 mm.
    return AxisGeometry(
        start_lps_mm=_point([round(v, 3) for v in start]),
        end_lps_mm=_point([round(v, 3) for v in end]),
    )


def _geometry(
    lesion: Mapping[str, Any], series_instance_uid: str
) -> tuple[float, float, MeasurementGeometry]:
    center = _point(lesion["center_lps_mm"])
    long_mm = float(lesion["long_axis_mm"])
    short_mm = float(lesion["short_axis_mm"])
    long_axis = _axis(center, _point(lesion["long_axis_direction_lps"]), long_mm)
    short_axis = _axis(center, _point(lesion["short_axis_direction_lps"]), short_mm)
    geometry = MeasurementGeometry(
        series_instance_uid=series_instance_uid,
        sop_instance_uid=str(lesion["sop_instance_uid"]),
        long_axis=long_axis,
        short_axis=short_axis,
    )
    # The recorded diameters are the drawn lines' lengths (to 0.1 mm, as a
    # viewer shows them), so the numbers and the lines always agree.
    return (
        round(long_axis.length_mm, 1),
        round(short_axis.length_mm, 1),
        geometry,
    )


def _viable(
    lesion: Mapping[str, Any], series_instance_uid: str
) -> tuple[float | None, MeasurementGeometry | None]:
    """The arterially enhancing part's long axis (mRECIST J1), if the phantom has one.

    Drawn through the enhancing part's centre along the lesion's long axis, on
    the same image: the demo's series is read in one (arterial-like) phase.
    """
    length = lesion.get("viable_long_axis_mm")
    if length is None or bool(lesion.get("is_lymph_node")):
        return None, None
    axis = _axis(
        _point(lesion.get("viable_center_lps_mm") or lesion["center_lps_mm"]),
        _point(lesion["long_axis_direction_lps"]),
        float(length),
    )
    geometry = MeasurementGeometry(
        series_instance_uid=series_instance_uid,
        sop_instance_uid=str(lesion["sop_instance_uid"]),
        long_axis=axis,
    )
    return round(axis.length_mm, 1), geometry


def _timepoint(
    study: Mapping[str, Any], index: int, roles: Mapping[str, LesionRole]
) -> TimePoint:
    series_uid = str(study["series_instance_uid"])
    seen = {str(lesion["lesion_id"]): lesion for lesion in study["lesions"]}
    measurements: list[Measurement] = []
    non_target: list[NonTargetAssessment] = []
    new_lesions: list[NewLesionObservation] = []
    for lesion_id, role in roles.items():
        truth = seen.get(lesion_id)
        if role is LesionRole.TARGET:
            if truth is None:  # outside this series' field of view
                measurements.append(
                    Measurement(
                        lesion_id=lesion_id, state=MeasurementState.NOT_EVALUABLE
                    )
                )
                continue
            long_mm, short_mm, geometry = _geometry(truth, series_uid)
            viable_mm, viable_geometry = _viable(truth, series_uid)
            measurements.append(
                Measurement(
                    lesion_id=lesion_id,
                    long_axis_mm=long_mm,
                    short_axis_mm=short_mm,
                    geometry=geometry,
                    viable_long_axis_mm=viable_mm,
                    viable_geometry=viable_geometry,
                )
            )
        elif role is LesionRole.NON_TARGET:
            # the phantom's non-targets persist; one outside the field of view
            # cannot be assessed
            state = NonTargetState.PRESENT if truth else NonTargetState.NOT_EVALUABLE
            non_target.append(NonTargetAssessment(lesion_id=lesion_id, state=state))
        elif truth is not None and index > 0:
            long_mm, short_mm, geometry = _geometry(truth, series_uid)
            new_lesions.append(
                NewLesionObservation(
                    lesion_id=lesion_id,
                    state=NewLesionState.UNEQUIVOCAL,
                    long_axis_mm=long_mm,
                    short_axis_mm=short_mm,
                    geometry=geometry,
                )
            )
    thickness = study.get("slice_thickness_mm") or study["geometry"].get(
        "slice_spacing_mm"
    )
    return TimePoint(
        visit=str(study["visit"]),
        date=datetime.date.fromisoformat(str(study["date"])),
        is_baseline=index == 0,
        slice_thickness_mm=float(thickness) if thickness else None,
        study_instance_uid=str(study["study_instance_uid"]),
        series_instance_uid=series_uid,
        measurements=tuple(measurements),
        non_target=tuple(non_target),
        new_lesions=tuple(new_lesions),
    )


def reading_from_ground_truth(
    truth: Mapping[str, Any], *, reader: str = DEMO_READER
) -> Reading:
    """The complete RECIST 1.1 reading of the phantom patient described by ``truth``.

    Parameters
    ----------
    truth
        The dictionary ``write_demo_data`` returns (``ground_truth.json``).
    reader
        Who the reading file names as reader.

    Raises
    ------
    ExchangeError
        When ``truth`` is not phantom ground truth.
    """
    if truth.get("format") != _TRUTH_FORMAT:
        raise ExchangeError(
            f"ground truth: format must be {_TRUTH_FORMAT!r}, "
            f"got {truth.get('format')!r}"
        )
    try:
        # A reader records only what the baseline images show: a baseline lesion
        # outside the field of view is not part of the reading.
        at_baseline = {
            str(lesion["lesion_id"]) for lesion in truth["studies"][0]["lesions"]
        }
        recorded = [
            lesion
            for lesion in truth["lesions"]
            if lesion["role"] == LesionRole.NEW.value
            or str(lesion["lesion_id"]) in at_baseline
        ]
        roles = {
            str(lesion["lesion_id"]): LesionRole(lesion["role"]) for lesion in recorded
        }
        lesions = tuple(
            Lesion(
                lesion_id=str(lesion["lesion_id"]),
                role=LesionRole(lesion["role"]),
                organ=str(lesion["organ"]),
                location=str(lesion.get("location", "")),
                is_lymph_node=bool(lesion["is_lymph_node"]),
            )
            for lesion in recorded
        )
        timepoints = tuple(
            _timepoint(study, index, roles)
            for index, study in enumerate(truth["studies"])
        )
        baseline = timepoints[0].date
        return Reading(
            patient_id=str(truth["patient_id"]),
            criteria=Criteria(truth.get("criteria", Criteria.RECIST_1_1.value)),
            first_dose_date=baseline + datetime.timedelta(days=FIRST_DOSE_DELAY_DAYS),
            lesions=lesions,
            timepoints=timepoints,
            reader=reader,
        )
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise ExchangeError(f"ground truth: missing or bad field: {error}") from error
    except ReadingError as error:
        raise ExchangeError(f"ground truth: {error}") from error


def unread_reading_from_ground_truth(
    truth: Mapping[str, Any], *, reader: str = DEMO_READER
) -> Reading:
    """The same patient's reading before anyone read it: visits, no lesions.

    One timepoint per study (baseline first) with its date and series, as the
    timepoint assignment leaves it, ready for lesions to be marked.
    """
    read = reading_from_ground_truth(truth, reader=reader)
    return dataclasses.replace(
        read,
        lesions=(),
        timepoints=tuple(
            dataclasses.replace(
                timepoint, measurements=(), non_target=(), new_lesions=()
            )
            for timepoint in read.timepoints
        ),
    )
