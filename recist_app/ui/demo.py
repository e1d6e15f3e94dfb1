"""The demo patient: generated once into the user data folder, then opened.

No Qt here, so the slow part (writing the phantom studies) can run in a worker
thread while the GUI shows a progress dialog.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recist_app.imaging import load_volume, write_demo_data
from recist_app.recist import Reading, TimePoint

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from recist_app.imaging import ImageVolume

__all__ = ["DemoPatient", "ensure_demo_data", "open_demo_patient", "reading_from_truth"]

_TRUTH_NAME = "ground_truth.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoPatient:
    """An empty reading with one timepoint per demo study, and its volumes."""

    reading: Reading
    volumes: dict[str, ImageVolume]
    folder: Path


def ensure_demo_data(
    folder: Path, *, progress: Callable[[str], None] | None = None, **options: Any
) -> dict[str, Any]:
    """Write the demo studies into ``folder`` unless they are already there."""
    truth_path = folder / _TRUTH_NAME
    if truth_path.is_file():
        truth: dict[str, Any] = json.loads(truth_path.read_text(encoding="utf-8"))
        return truth
    folder.mkdir(parents=True, exist_ok=True)
    return write_demo_data(folder, progress=progress, **options)


def reading_from_truth(truth: dict[str, Any]) -> Reading:
    """A new reading with the demo visits, ready for lesions to be marked."""
    timepoints = []
    for index, study in enumerate(truth["studies"]):
        geometry = study.get("geometry", {})
        thickness = geometry.get("slice_thickness_mm") or geometry.get(
            "slice_spacing_mm"
        )
        timepoints.append(
            TimePoint(
                visit=study["visit"],
                date=datetime.date.fromisoformat(study["date"]),
                is_baseline=index == 0,
                slice_thickness_mm=float(thickness) if thickness else None,
                study_instance_uid=study["study_instance_uid"],
                series_instance_uid=study["series_instance_uid"],
            )
        )
    return Reading(patient_id=truth["patient_id"], timepoints=tuple(timepoints))


def open_demo_patient(
    folder: Path, *, progress: Callable[[str], None] | None = None, **options: Any
) -> DemoPatient:
    """Generate (first time only) and load the demo patient from ``folder``."""
    truth = ensure_demo_data(folder, progress=progress, **options)
    volumes: dict[str, ImageVolume] = {}
    for study in truth["studies"]:
        if progress is not None:
            progress(f"Loading {study['visit']}…")
        volume = load_volume(folder / study["folder"])
        volumes[volume.series_instance_uid] = volume
    return DemoPatient(
        reading=reading_from_truth(truth), volumes=volumes, folder=folder
    )
