"""A demo patient for exchange tests: phantom CT studies and a reading on them."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset

from recist_app.imaging import LESIONS, SeriesGeometry, write_phantom_series
from recist_app.recist import (
    AxisGeometry,
    Lesion,
    LesionRole,
    Measurement,
    MeasurementGeometry,
    NewLesionObservation,
    NewLesionState,
    NonTargetAssessment,
    Reading,
    TimePoint,
)

PATIENT_ID = "DEMO-HCC-001"
PATIENT_NAME = "DEMO^PHANTOM"
BIRTH_DATE = "19580412"
FIRST_DOSE = datetime.date(2024, 3, 1)

# Small but real: 128x128 pixels of 3 mm, 5 mm slices through the lesions.
GEOMETRY = SeriesGeometry(
    rows=128,
    columns=128,
    slice_count=44,
    pixel_spacing_mm=(3.0, 3.0),
    slice_spacing_mm=5.0,
    center_lps_mm=(0.0, 0.0, 15.0),
)


@dataclass(frozen=True, slots=True)
class DemoPatient:
    """Files of the demo patient and the reading made on them."""

    reading: Reading
    images: dict[str, Path]
    """SOP Instance UID -> file of every image of every visit."""

    def header(self, sop_instance_uid: str) -> Dataset:
        return dcmread(self.images[sop_instance_uid], stop_before_pixels=True)


def _axis(
    center: tuple[float, float, float], direction: np.ndarray, length: float
) -> AxisGeometry:
    start = np.asarray(center) - direction * length / 2
    end = np.asarray(center) + direction * length / 2
    return AxisGeometry(
        start_lps_mm=(float(start[0]), float(start[1]), float(start[2])),
        end_lps_mm=(float(end[0]), float(end[1]), float(end[2])),
    )


def write_demo_patient(
    folder: Path, visits: int = 3, geometry: SeriesGeometry = GEOMETRY
) -> DemoPatient:
    """Write ``visits`` CT studies of the phantom and the reading of them."""
    specs = {spec.lesion_id: spec for spec in LESIONS}
    images: dict[str, Path] = {}
    timepoints: list[TimePoint] = []
    seen: set[str] = set()
    for visit in range(visits):
        series = write_phantom_series(
            folder / f"visit{visit}", geometry=geometry, visit=visit, noise_hu=0.0
        )
        for path in series.paths:
            sop = str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)
            images[sop] = Path(path)
        measurements: list[Measurement] = []
        non_target: list[NonTargetAssessment] = []
        new: list[NewLesionObservation] = []
        for truth in series.lesions:
            spec = specs[truth.lesion_id]
            seen.add(truth.lesion_id)
            angle = math.radians(spec.angle_deg)
            long_dir = (
                math.cos(angle) * geometry.row_direction
                + math.sin(angle) * geometry.column_direction
            )
            short_dir = (
                -math.sin(angle) * geometry.row_direction
                + math.cos(angle) * geometry.column_direction
            )
            drawn = MeasurementGeometry(
                series_instance_uid=series.series_instance_uid,
                sop_instance_uid=truth.sop_instance_uid,
                long_axis=_axis(truth.center_lps_mm, long_dir, truth.long_axis_mm),
                short_axis=_axis(truth.center_lps_mm, short_dir, truth.short_axis_mm),
            )
            if spec.role == "target":
                measurements.append(
                    Measurement(
                        lesion_id=truth.lesion_id,
                        long_axis_mm=truth.long_axis_mm,
                        short_axis_mm=truth.short_axis_mm,
                        geometry=drawn,
                    )
                )
            elif spec.role == "non-target":
                non_target.append(NonTargetAssessment(lesion_id=truth.lesion_id))
            else:
                new.append(
                    NewLesionObservation(
                        lesion_id=truth.lesion_id,
                        state=NewLesionState.UNEQUIVOCAL,
                        long_axis_mm=truth.long_axis_mm,
                        short_axis_mm=truth.short_axis_mm,
                        geometry=drawn,
                    )
                )
        timepoints.append(
            TimePoint(
                visit=series.visit,
                date=datetime.date.fromisoformat(series.study_date),
                is_baseline=visit == 0,
                slice_thickness_mm=5.0,
                study_instance_uid=series.study_instance_uid,
                series_instance_uid=series.series_instance_uid,
                measurements=tuple(measurements),
                non_target=tuple(non_target),
                new_lesions=tuple(new),
            )
        )
    lesions = tuple(
        Lesion(
            lesion_id=spec.lesion_id,
            role=LesionRole(spec.role),
            organ=spec.organ,
            location=spec.location,
            is_lymph_node=spec.is_lymph_node,
        )
        for spec in LESIONS
        if spec.lesion_id in seen
    )
    reading = Reading(
        patient_id=PATIENT_ID,
        first_dose_date=FIRST_DOSE,
        lesions=lesions,
        timepoints=tuple(timepoints),
        reader="Dr Jane Reader",
    )
    return DemoPatient(reading=reading, images=images)
