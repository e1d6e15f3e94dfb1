"""Measure a lesion at a point; carry a point from one visit's series to another.

The two use cases of click-to-measure and propagation, for the workstation (the
Auto tool, Enter at a follow-up) and the command line (``recist-app measure``,
``recist-app propagate``). They take loaded volumes or DICOM folders and plain
options and return plain results; registrations are cached per pair of series.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recist_app.imaging.bidirectional import measure_bidirectional, slice_outlines_ij
from recist_app.imaging.discovery import discover
from recist_app.imaging.errors import SegmentationError
from recist_app.imaging.geometry import index_to_lps_mm, lps_mm_to_index
from recist_app.imaging.loader import load_volume
from recist_app.imaging.registration import (
    SeriesRegistration,
    locate_point,
    register_series,
)
from recist_app.imaging.segment import DEFAULT_MAX_DIAMETER_MM, segment_lesion
from recist_app.workflows.errors import WorkflowError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from recist_app.imaging.volume import ImageVolume

__all__ = [
    "LesionMeasurement",
    "PredictedMeasurement",
    "PropagatedPoint",
    "forget_registrations",
    "map_point",
    "measure_at_point",
    "measure_in_folder",
    "measure_predicted",
    "measure_predicted_between_folders",
    "propagate_between_folders",
    "propagate_to",
    "registration_for",
    "series_in_folder",
]

Point3 = tuple[float, float, float]
_CACHE_SIZE = 8


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LesionMeasurement:
    """The result of click-to-measure.

    Parameters
    ----------
    long_axis_mm, short_axis_mm
        Edge-to-edge diameters.
    long_axis_lps_mm, short_axis_lps_mm
        End points in patient LPS mm.
    long_axis_ij, short_axis_ij
        The same end points in (column, row) pixels of ``slice_index``.
    slice_index
        Slice the axes are drawn on.
    sop_instance_uid, series_instance_uid
        The image and series the axes are drawn on.
    volume_ml
        Segmented volume.
    outlines_ij
        Volume slice -> ``(N, 2)`` outline in pixels (for the overlay).
    """

    long_axis_mm: float
    short_axis_mm: float
    long_axis_lps_mm: tuple[Point3, Point3]
    short_axis_lps_mm: tuple[Point3, Point3]
    long_axis_ij: tuple[tuple[float, float], tuple[float, float]]
    short_axis_ij: tuple[tuple[float, float], tuple[float, float]]
    slice_index: int
    sop_instance_uid: str
    series_instance_uid: str
    volume_ml: float
    outlines_ij: dict[int, npt.NDArray[np.float64]]

    def as_json(self) -> dict[str, Any]:
        """The answer of ``recist-app measure --format json``."""
        return {
            "long_axis_mm": round(self.long_axis_mm, 2),
            "short_axis_mm": round(self.short_axis_mm, 2),
            "long_axis_lps_mm": [
                [round(c, 3) for c in p] for p in self.long_axis_lps_mm
            ],
            "short_axis_lps_mm": [
                [round(c, 3) for c in p] for p in self.short_axis_lps_mm
            ],
            "sop_instance_uid": self.sop_instance_uid,
            "volume_ml": round(self.volume_ml, 3),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PropagatedPoint:
    """Where a point of one series lies in another."""

    point_lps_mm: Point3
    method: str

    def as_json(self) -> dict[str, Any]:
        """The answer of ``recist-app propagate --format json``."""
        return {
            "point_lps_mm": [round(c, 3) for c in self.point_lps_mm],
            "method": self.method,
        }


def measure_at_point(
    volume: ImageVolume,
    point_lps_mm: Point3,
    *,
    lymph_node: bool = False,
    tolerance_scale: float = 1.0,
    max_diameter_mm: float = DEFAULT_MAX_DIAMETER_MM,
) -> LesionMeasurement:
    """Segment the lesion at a point and measure its long and short axis.

    Raises
    ------
    recist_app.imaging.SegmentationError
        No lesion can be delineated there (one line).
    """
    ijk = lps_mm_to_index(volume, point_lps_mm)
    segmentation = segment_lesion(
        volume,
        (float(ijk[0]), float(ijk[1]), float(ijk[2])),
        max_diameter_mm=max_diameter_mm,
        tolerance_scale=tolerance_scale,
    )
    outlines = slice_outlines_ij(segmentation)
    axes = measure_bidirectional(
        volume, segmentation, lymph_node=lymph_node, outlines_ij=outlines
    )
    return LesionMeasurement(
        long_axis_mm=axes.long_axis_mm,
        short_axis_mm=axes.short_axis_mm,
        long_axis_lps_mm=axes.long_axis_lps_mm,
        short_axis_lps_mm=axes.short_axis_lps_mm,
        long_axis_ij=(axes.long_axis.start_ij, axes.long_axis.end_ij),
        short_axis_ij=(axes.short_axis.start_ij, axes.short_axis.end_ij),
        slice_index=axes.slice_index,
        sop_instance_uid=axes.sop_instance_uid,
        series_instance_uid=volume.series_instance_uid,
        volume_ml=axes.volume_ml,
        outlines_ij=outlines,
    )


def series_in_folder(
    folder: str | Path, series_instance_uid: str | None = None
) -> ImageVolume:
    """Load the series of a DICOM folder (the one named, or its only/largest one).

    Raises
    ------
    WorkflowError
        The folder holds no image series, or not the one named.
    """
    path = Path(folder)
    if not path.exists():
        raise WorkflowError(f"{path}: no such folder")
    found = discover(path)
    volumes = list(found.volumes)
    if series_instance_uid is not None:
        volumes = [v for v in volumes if v.series_instance_uid == series_instance_uid]
        if not volumes:
            raise WorkflowError(f"{path}: no series {series_instance_uid} in it")
    if not volumes:
        raise WorkflowError(f"{path}: no image series found")
    chosen = max(volumes, key=lambda v: len(v.slices))
    return load_volume(chosen)


def measure_in_folder(
    folder: str | Path,
    point_lps_mm: Point3,
    *,
    series_instance_uid: str | None = None,
    lymph_node: bool = False,
) -> LesionMeasurement:
    """:func:`measure_at_point` on a series read from a DICOM folder."""
    volume = series_in_folder(folder, series_instance_uid)
    return measure_at_point(volume, point_lps_mm, lymph_node=lymph_node)


_cache: OrderedDict[tuple[str, str], SeriesRegistration] = OrderedDict()
_cache_lock = threading.Lock()
_forgotten = [0]  # how many times forget_registrations ran


def registration_for(fixed: ImageVolume, moving: ImageVolume) -> SeriesRegistration:
    """The registration of ``moving`` to ``fixed``, computed once per pair.

    Raises
    ------
    recist_app.imaging.RegistrationError
        The series cannot be registered.
    """
    key = (fixed.series_instance_uid, moving.series_instance_uid)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached.fixed is fixed and cached.moving is moving:
            _cache.move_to_end(key)
            return cached
        generation = _forgotten[0]
    registration = register_series(fixed, moving)
    with _cache_lock:
        if generation != _forgotten[0]:
            return registration  # forgotten while it ran: not kept
        _cache[key] = registration
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return registration


def forget_registrations() -> None:
    """Drop the cached registrations (and the volumes they hold).

    The workstation calls it when another patient opens: a registration keeps
    both its series' voxels alive.
    """
    with _cache_lock:
        _cache.clear()
        _forgotten[0] += 1


def propagate_to(
    fixed: ImageVolume, moving: ImageVolume, point_lps_mm: Point3
) -> PropagatedPoint:
    """Where a point of ``fixed`` lies in ``moving`` (registration, then local).

    ``method`` names the last step kept: ``affine registration``, ``... + block
    match`` or ``... + block match + lesion centre``
    (:func:`recist_app.imaging.registration.locate_point`).
    """
    registration = registration_for(fixed, moving)
    found = locate_point(registration, point_lps_mm)
    return PropagatedPoint(point_lps_mm=found.point_lps_mm, method=found.method)


def propagate_between_folders(
    from_folder: str | Path, to_folder: str | Path, point_lps_mm: Point3
) -> PropagatedPoint:
    """:func:`propagate_to` on the series of two DICOM folders."""
    fixed = series_in_folder(from_folder)
    moving = series_in_folder(to_folder)
    return propagate_to(fixed, moving, point_lps_mm)


def map_point(
    registration: SeriesRegistration, point_lps_mm: Point3, *, inverse: bool = False
) -> Point3:
    """The registration's global (affine) transform applied to one point.

    Fast enough for every scroll step of anatomy-linked viewports (no local
    refinement); ``inverse`` maps from the moving series back to the fixed one.
    """
    if inverse:
        return registration.map_point_back(point_lps_mm)
    return registration.map_point(point_lps_mm)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PredictedMeasurement:
    """A lesion found again at a follow-up: where, and its click-to-measure."""

    point: PropagatedPoint
    measurement: LesionMeasurement

    def as_json(self) -> dict[str, Any]:
        """``propagate --measure --format json``: the point and the measurement."""
        return {**self.point.as_json(), "measurement": self.measurement.as_json()}


def measure_predicted(
    fixed: ImageVolume,
    moving: ImageVolume,
    point_lps_mm: Point3,
    *,
    lymph_node: bool = False,
    predicted: PropagatedPoint | None = None,
) -> PredictedMeasurement:
    """Find a lesion of ``fixed`` again in ``moving`` and measure it there.

    The workstation's Enter at a follow-up: :func:`propagate_to` (unless the
    ``predicted`` point is known already), then :func:`measure_at_point` at the
    predicted point, for the reader to check and correct.

    Raises
    ------
    recist_app.imaging.RegistrationError, recist_app.imaging.SegmentationError
        The series cannot be registered, or no lesion is found there (one line).
    """
    found = predicted or propagate_to(fixed, moving, point_lps_mm)
    first_error: SegmentationError | None = None
    for point, step in _near_points(moving, found.point_lps_mm):
        try:
            measurement = measure_at_point(moving, point, lymph_node=lymph_node)
        except SegmentationError as error:
            first_error = first_error or error
            continue
        if step:
            found = PropagatedPoint(
                point_lps_mm=point, method=f"{found.method} + {step}"
            )
        return PredictedMeasurement(point=found, measurement=measurement)
    assert first_error is not None
    raise first_error


_NEAR_IN_PLANE_MM = 4.0
"""How far from a predicted point its neighbours are tried (in plane)."""


def _near_points(volume: ImageVolume, point: Point3) -> list[tuple[Point3, str]]:
    """The predicted point, then its neighbours a few mm and a slice away.

    A prediction a few millimetres off can land just outside a small lesion (a
    node in fat): as a reader would click again a little beside it, its six
    neighbours (4 mm in plane, one slice up and down) are tried, nearest first.
    """
    i, j, k = (float(v) for v in lps_mm_to_index(volume, point))
    di = _NEAR_IN_PLANE_MM / volume.column_spacing_mm
    dj = _NEAR_IN_PLANE_MM / volume.row_spacing_mm
    offsets = [(di, 0, 0), (-di, 0, 0), (0, dj, 0), (0, -dj, 0), (0, 0, 1), (0, 0, -1)]
    points: list[tuple[Point3, str]] = [(point, "")]
    for oi, oj, ok in offsets:
        lps = index_to_lps_mm(volume, [i + oi, j + oj, k + ok])
        points.append(
            ((float(lps[0]), float(lps[1]), float(lps[2])), "a click beside it")
        )
    return points


def measure_predicted_between_folders(
    from_folder: str | Path,
    to_folder: str | Path,
    point_lps_mm: Point3,
    *,
    lymph_node: bool = False,
) -> PredictedMeasurement:
    """:func:`measure_predicted` on the series of two DICOM folders."""
    fixed = series_in_folder(from_folder)
    moving = series_in_folder(to_folder)
    return measure_predicted(fixed, moving, point_lps_mm, lymph_node=lymph_node)
