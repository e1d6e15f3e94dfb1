"""Where one image lies in the patient, and whether a point in LPS mm is on it.

Used to check drawn geometry read from a file (a reading file's end points)
against the image it names, from that image's header alone: no volume is loaded.
Plain tuple arithmetic, since it works on one header at a time.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from recist_app.imaging.headers import SliceHeader

__all__ = ["ImagePlane"]

Point = tuple[float, float, float]

_POINT_TOLERANCE_MM = 1e-3
"""Rounding allowance on top of half a slice and the pixel grid's edge."""
_DEFAULT_SLICE_MM = 1.0
"""Slice spacing assumed when an image states neither spacing nor thickness."""


def _dot(a: Point, b: Point) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _sub(a: Point, b: Point) -> Point:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _format_point(point: Point) -> str:
    return "(" + ", ".join(f"{c:.1f}" for c in point) + ") mm"


@dataclass(frozen=True, slots=True)
class ImagePlane:
    """An image's pixel grid in LPS mm: frame origins, directions, spacing, size."""

    origins_lps_mm: tuple[Point, ...]
    row_direction: Point
    column_direction: Point
    normal: Point
    row_spacing_mm: float
    column_spacing_mm: float
    rows: int
    columns: int
    half_slice_mm: float

    @classmethod
    def from_header(cls, header: SliceHeader) -> ImagePlane | None:
        """The plane of ``header``'s image, or ``None`` without patient geometry."""
        if (
            header.orientation is None
            or header.pixel_spacing_mm is None
            or not header.frame_positions_lps_mm
            or header.rows <= 0
            or header.columns <= 0
        ):
            return None
        o = header.orientation
        normal = (
            o[1] * o[5] - o[2] * o[4],
            o[2] * o[3] - o[0] * o[5],
            o[0] * o[4] - o[1] * o[3],
        )
        length = math.sqrt(_dot(normal, normal))
        if length < 1e-6:
            return None
        normal = (normal[0] / length, normal[1] / length, normal[2] / length)
        positions = header.frame_positions_lps_mm
        frame_gaps = sorted(
            abs(_dot(_sub(b, a), normal)) for a, b in itertools.pairwise(positions)
        )
        slice_mm = next(
            (
                value
                for value in (
                    frame_gaps[0] if frame_gaps else None,
                    header.spacing_between_slices_mm,
                    header.slice_thickness_mm,
                )
                if value is not None and value > 0
            ),
            _DEFAULT_SLICE_MM,
        )
        return cls(
            origins_lps_mm=positions,
            row_direction=(o[0], o[1], o[2]),
            column_direction=(o[3], o[4], o[5]),
            normal=normal,
            row_spacing_mm=header.pixel_spacing_mm[0],
            column_spacing_mm=header.pixel_spacing_mm[1],
            rows=header.rows,
            columns=header.columns,
            half_slice_mm=slice_mm / 2,
        )

    def point_problem(self, point: Point, name: str) -> str | None:
        """Why ``point`` is not on this image (called ``name``), or ``None``.

        A point is on the image when it lies within half a slice of one of its
        frames' planes and inside its rows × columns.
        """
        distance, origin = min(
            (
                (abs(_dot(_sub(point, origin), self.normal)), origin)
                for origin in self.origins_lps_mm
            ),
            key=lambda item: item[0],
        )
        if distance > self.half_slice_mm + _POINT_TOLERANCE_MM:
            return (
                f"point {_format_point(point)} is {distance:.1f} mm off the plane of "
                f"image {name} (at most {self.half_slice_mm:g} mm, half a slice)"
            )
        offset = _sub(point, origin)
        column = _dot(offset, self.row_direction) / self.column_spacing_mm
        row = _dot(offset, self.column_direction) / self.row_spacing_mm
        edge = _POINT_TOLERANCE_MM / min(self.row_spacing_mm, self.column_spacing_mm)
        if not (
            -0.5 - edge <= column <= self.columns - 0.5 + edge
            and -0.5 - edge <= row <= self.rows - 0.5 + edge
        ):
            return (
                f"point {_format_point(point)} lies outside image {name} "
                f"(column {column:.1f}, row {row:.1f} of {self.columns} × "
                f"{self.rows} pixels)"
            )
        return None
