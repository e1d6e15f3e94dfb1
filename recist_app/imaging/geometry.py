"""Geometry in millimetres: index <-> patient LPS, lengths and lesion axes.

Vectors named ``*_ijk`` are voxel indices ``(i, j, k)`` = (column, row, slice);
``*_ij`` are in-plane ``(i, j)`` = (column, row) pixel coordinates, possibly
fractional. Every length is computed in millimetre space, honouring the row and
column spacing separately, never in pixel space.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from skimage import measure

if TYPE_CHECKING:
    from collections.abc import Callable

    from recist_app.imaging.volume import ImageVolume

__all__ = [
    "Axis",
    "LesionAxes",
    "affine_lps_mm",
    "in_plane_length_mm",
    "index_to_lps_mm",
    "lesion_contour_ij",
    "lps_mm_to_index",
    "measure_lesion_axes",
    "perpendicular_direction_ij",
    "perpendicular_short_axis",
    "segment_length_mm",
    "slice_index_at",
]

FloatArray = npt.NDArray[np.float64]

_SHORT_AXIS_STEP_MM = 0.02

# scikit-image ships no type hints; give the two functions used here their types.
_find_contours: Callable[[FloatArray, float], list[FloatArray]] = measure.find_contours
_points_in_poly: Callable[[FloatArray, FloatArray], npt.NDArray[np.bool_]] = (
    measure.points_in_poly
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Axis:
    """A measured diameter: its end points in pixel ``(i, j)`` and its length.

    Parameters
    ----------
    start_ij, end_ij
        End points in (column, row) pixel coordinates of the slice.
    length_mm
        Distance between the end points in millimetres.
    """

    start_ij: tuple[float, float]
    end_ij: tuple[float, float]
    length_mm: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.length_mm) and self.length_mm >= 0):
            raise ValueError(
                f"length_mm: must be finite and >= 0, got {self.length_mm}"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class LesionAxes:
    """Long axis and the perpendicular short axis of a lesion outline."""

    long_axis: Axis
    short_axis: Axis


def affine_lps_mm(volume: ImageVolume) -> FloatArray:
    """Return the 4x4 matrix mapping homogeneous ``(i, j, k, 1)`` to LPS mm.

    It uses the mean slice spacing; :func:`index_to_lps_mm` is exact for
    irregular spacing too.
    """
    affine = np.eye(4)
    affine[:3, :3] = volume.direction * np.asarray(volume.spacing_mm)
    affine[:3, 3] = volume.slice_origins_lps_mm[0]
    return affine


def _slice_origin_at(volume: ImageVolume, k: FloatArray) -> FloatArray:
    origins = volume.slice_origins_lps_mm
    if volume.slice_count == 1:
        step = volume.direction[:, 2] * volume.slice_spacing_mm
        return np.asarray(origins[0] + k[:, None] * step, dtype=np.float64)
    # np.minimum/np.maximum, not np.clip: the same values without clip's Python
    # layer, which was most of a single point's cost (a linked scroll step maps
    # one point per viewport, issue 18's bench_view).
    lower = np.minimum(np.maximum(np.floor(k), 0), volume.slice_count - 2)
    lower = lower.astype(np.intp)
    fraction = (k - lower)[:, None]
    start = origins[lower]
    return np.asarray(start + fraction * (origins[lower + 1] - start), dtype=np.float64)


def index_to_lps_mm(volume: ImageVolume, ijk: npt.ArrayLike) -> FloatArray:
    """Convert voxel indices to patient LPS millimetres.

    Parameters
    ----------
    volume
        The volume the indices refer to.
    ijk
        One ``(i, j, k)`` triple or an ``(N, 3)`` array; fractional values are
        allowed (e.g. the end point of a drawn line).

    Returns
    -------
    numpy.ndarray
        ``(3,)`` or ``(N, 3)`` LPS coordinates in mm.
    """
    points = np.asarray(ijk, dtype=np.float64)
    single = points.ndim == 1
    points = np.atleast_2d(points)
    if points.shape[1] != 3:
        raise ValueError(f"ijk: expected (i, j, k) triples, got shape {points.shape}")
    origin = _slice_origin_at(volume, points[:, 2])
    row_step = volume.direction[:, 0] * volume.column_spacing_mm
    column_step = volume.direction[:, 1] * volume.row_spacing_mm
    lps = origin + points[:, :1] * row_step + points[:, 1:2] * column_step
    return lps[0] if single else lps


def lps_mm_to_index(volume: ImageVolume, lps_mm: npt.ArrayLike) -> FloatArray:
    """Convert patient LPS millimetres to fractional voxel indices ``(i, j, k)``.

    Parameters
    ----------
    volume
        The target volume.
    lps_mm
        One LPS point or an ``(N, 3)`` array.

    Returns
    -------
    numpy.ndarray
        ``(3,)`` or ``(N, 3)`` fractional indices (outside the volume allowed).
    """
    points = np.asarray(lps_mm, dtype=np.float64)
    single = points.ndim == 1
    points = np.atleast_2d(points)
    if points.shape[1] != 3:
        raise ValueError(f"lps_mm: expected (x, y, z) points, got shape {points.shape}")
    k = _slice_k(volume, points)
    delta = points - _slice_origin_at(volume, k)
    i = delta @ volume.direction[:, 0] / volume.column_spacing_mm
    j = delta @ volume.direction[:, 1] / volume.row_spacing_mm
    result = np.stack([i, j, k], axis=1)
    return result[0] if single else result


def slice_index_at(volume: ImageVolume, lps_mm: npt.ArrayLike) -> float:
    """The fractional slice index ``k`` of one LPS point, outside allowed.

    ``lps_mm_to_index(volume, lps_mm)[2]`` without the in-plane indices: the
    linked viewports map one point a scroll step and need only its slice
    (issue 18).
    """
    points = np.asarray(lps_mm, dtype=np.float64).reshape(1, 3)
    return float(_slice_k(volume, points)[0])


def _slice_k(volume: ImageVolume, points: FloatArray) -> FloatArray:
    """Fractional slice indices of ``(N, 3)`` LPS points."""
    normal = volume.slice_normal
    heights = points @ normal
    slice_heights = volume.slice_heights_mm
    if volume.slice_count == 1:
        step = volume.slice_spacing_mm * float(volume.direction[:, 2] @ normal)
        return np.asarray((heights - slice_heights[0]) / step, dtype=np.float64)
    return _interpolate_linear(heights, slice_heights)


def _interpolate_linear(values: FloatArray, table: FloatArray) -> FloatArray:
    """Fractional position of ``values`` in the monotonic ``table``, extrapolated."""
    order = np.argsort(table)
    sorted_table = table[order]
    positions = np.arange(table.size, dtype=np.float64)[order]
    lower = np.minimum(
        np.maximum(np.searchsorted(sorted_table, values) - 1, 0), table.size - 2
    )
    left, right = sorted_table[lower], sorted_table[lower + 1]
    fraction = (values - left) / (right - left)
    return np.asarray(
        positions[lower] + fraction * (positions[lower + 1] - positions[lower]),
        dtype=np.float64,
    )


def segment_length_mm(
    volume: ImageVolume, start_ijk: npt.ArrayLike, end_ijk: npt.ArrayLike
) -> float:
    """Return the length in mm of the segment between two voxel positions."""
    start, end = index_to_lps_mm(volume, np.array([start_ijk, end_ijk], dtype=float))
    return float(np.linalg.norm(end - start))


def in_plane_length_mm(
    start_ij: tuple[float, float],
    end_ij: tuple[float, float],
    *,
    row_spacing_mm: float,
    column_spacing_mm: float,
) -> float:
    """Return the in-plane length in mm of a segment given in pixels.

    Examples
    --------
    >>> in_plane_length_mm((0, 0), (3, 4), row_spacing_mm=1.0, column_spacing_mm=1.0)
    5.0
    >>> in_plane_length_mm((0, 0), (0, 10), row_spacing_mm=0.5, column_spacing_mm=2.0)
    5.0
    """
    di = (end_ij[0] - start_ij[0]) * column_spacing_mm
    dj = (end_ij[1] - start_ij[1]) * row_spacing_mm
    return math.hypot(di, dj)


def perpendicular_direction_ij(
    start_ij: tuple[float, float],
    end_ij: tuple[float, float],
    *,
    row_spacing_mm: float,
    column_spacing_mm: float,
) -> tuple[float, float]:
    """Return the pixel step ``(di, dj)`` of 1 mm perpendicular to a segment.

    The perpendicular is taken in millimetre space, so with non-square pixels it
    is not perpendicular on screen in pixel units.

    Examples
    --------
    >>> perpendicular_direction_ij(
    ...     (0, 0), (10, 0), row_spacing_mm=0.5, column_spacing_mm=1.0
    ... )
    (-0.0, 2.0)
    """
    ux = (end_ij[0] - start_ij[0]) * column_spacing_mm
    uy = (end_ij[1] - start_ij[1]) * row_spacing_mm
    norm = math.hypot(ux, uy)
    if norm == 0:
        raise ValueError("the segment has zero length; no perpendicular exists")
    vx, vy = -uy / norm, ux / norm
    return (vx / column_spacing_mm, vy / row_spacing_mm)


def _to_mm(
    points_ij: FloatArray, row_spacing_mm: float, column_spacing_mm: float
) -> FloatArray:
    return np.asarray(points_ij * np.array([column_spacing_mm, row_spacing_mm]))


def _to_ij(
    point_mm: FloatArray, row_spacing_mm: float, column_spacing_mm: float
) -> tuple[float, float]:
    return (float(point_mm[0] / column_spacing_mm), float(point_mm[1] / row_spacing_mm))


def _cross(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.asarray(a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0])


def perpendicular_short_axis(
    contour_ij: npt.ArrayLike,
    long_start_ij: tuple[float, float],
    long_end_ij: tuple[float, float],
    *,
    row_spacing_mm: float,
    column_spacing_mm: float,
) -> Axis:
    """Return the longest chord of an outline perpendicular to its long axis.

    Perpendicularity and lengths are evaluated in millimetre space, as RECIST
    requires, so non-square pixels give the right short axis.

    Parameters
    ----------
    contour_ij
        ``(N, 2)`` closed outline in (column, row) pixel coordinates.
    long_start_ij, long_end_ij
        End points of the long axis in pixel coordinates.
    row_spacing_mm, column_spacing_mm
        Pixel spacing of the slice.

    Returns
    -------
    Axis
        The short axis; its chord crosses the long axis segment.
    """
    polygon = _to_mm(
        np.asarray(contour_ij, dtype=np.float64), row_spacing_mm, column_spacing_mm
    )
    if polygon.ndim != 2 or polygon.shape[0] < 3 or polygon.shape[1] != 2:
        raise ValueError("contour_ij: expected an (N >= 3, 2) outline")
    start = _to_mm(
        np.asarray(long_start_ij, dtype=np.float64), row_spacing_mm, column_spacing_mm
    )
    end = _to_mm(
        np.asarray(long_end_ij, dtype=np.float64), row_spacing_mm, column_spacing_mm
    )
    along = end - start
    length = float(np.linalg.norm(along))
    if length == 0:
        raise ValueError("the long axis has zero length")
    unit = along / length
    perpendicular = np.array([-unit[1], unit[0]])
    samples = max(3, math.ceil(length / _SHORT_AXIS_STEP_MM))
    # Interior points only: at the long-axis ends the chord is degenerate.
    fractions = np.linspace(0.0, 1.0, samples + 2)[1:-1]
    points = start + fractions[:, None] * along
    edge_start = polygon
    edge = np.roll(polygon, -1, axis=0) - polygon
    denominator = _cross(perpendicular, edge)
    valid_edge = np.abs(denominator) > 1e-12
    safe = np.where(valid_edge, denominator, 1.0)
    offset = edge_start[None, :, :] - points[:, None, :]
    s = _cross(offset, edge[None, :, :]) / safe
    r = _cross(offset, perpendicular[None, None, :]) / safe
    hit = valid_edge[None, :] & (r >= 0) & (r < 1)
    positive = np.where(hit & (s >= 0), s, np.inf).min(axis=1)
    negative = np.where(hit & (s < 0), s, -np.inf).max(axis=1)
    widths = positive - negative
    widths[~np.isfinite(widths)] = -1.0
    best = int(np.argmax(widths))
    if widths[best] <= 0:
        raise ValueError("the outline does not surround its long axis")
    chord_start = points[best] + negative[best] * perpendicular
    chord_end = points[best] + positive[best] * perpendicular
    return Axis(
        start_ij=_to_ij(chord_start, row_spacing_mm, column_spacing_mm),
        end_ij=_to_ij(chord_end, row_spacing_mm, column_spacing_mm),
        length_mm=float(widths[best]),
    )


def _convex_hull(points: FloatArray) -> FloatArray:
    """Andrew's monotone chain; returns hull vertices (few, for the long axis)."""
    unique = np.unique(points, axis=0)
    if unique.shape[0] < 3:
        return unique
    ordered = [tuple(p) for p in unique]

    def half(sequence: list[tuple[float, float]]) -> list[tuple[float, float]]:
        chain: list[tuple[float, float]] = []
        for p in sequence:
            while (
                len(chain) >= 2
                and (
                    (chain[-1][0] - chain[-2][0]) * (p[1] - chain[-2][1])
                    - (chain[-1][1] - chain[-2][1]) * (p[0] - chain[-2][0])
                )
                <= 0
            ):
                chain.pop()
            chain.append(p)
        return chain

    lower = half(ordered)
    upper = half(ordered[::-1])
    return np.array(lower[:-1] + upper[:-1], dtype=np.float64)


def outline_long_axis(
    contour_ij: npt.ArrayLike, *, row_spacing_mm: float, column_spacing_mm: float
) -> Axis:
    """The longest diameter of an outline (in mm), without its short axis.

    Raises
    ------
    ValueError
        When the outline is a single point.
    """
    outline = np.asarray(contour_ij, dtype=np.float64)
    hull = _convex_hull(_to_mm(outline, row_spacing_mm, column_spacing_mm))
    if hull.shape[0] < 2:
        raise ValueError("contour_ij: the outline is a single point")
    distances = np.linalg.norm(hull[:, None, :] - hull[None, :, :], axis=2)
    first, second = np.unravel_index(int(np.argmax(distances)), distances.shape)
    return Axis(
        start_ij=_to_ij(hull[first], row_spacing_mm, column_spacing_mm),
        end_ij=_to_ij(hull[second], row_spacing_mm, column_spacing_mm),
        length_mm=float(distances[first, second]),
    )


def measure_lesion_axes(
    contour_ij: npt.ArrayLike, *, row_spacing_mm: float, column_spacing_mm: float
) -> LesionAxes:
    """Measure the long axis and the perpendicular short axis of an outline.

    Parameters
    ----------
    contour_ij
        ``(N, 2)`` closed outline in (column, row) pixel coordinates, e.g. from
        :func:`lesion_contour_ij`.
    row_spacing_mm, column_spacing_mm
        Pixel spacing of the slice.

    Returns
    -------
    LesionAxes
        The longest diameter in mm and the longest chord perpendicular to it.
    """
    outline = np.asarray(contour_ij, dtype=np.float64)
    long_axis = outline_long_axis(
        outline, row_spacing_mm=row_spacing_mm, column_spacing_mm=column_spacing_mm
    )
    short_axis = perpendicular_short_axis(
        outline,
        long_axis.start_ij,
        long_axis.end_ij,
        row_spacing_mm=row_spacing_mm,
        column_spacing_mm=column_spacing_mm,
    )
    return LesionAxes(long_axis=long_axis, short_axis=short_axis)


def lesion_contour_ij(
    image: npt.ArrayLike, *, level: float, seed_ij: tuple[float, float]
) -> FloatArray:
    """Return the closed iso-line at ``level`` that surrounds ``seed_ij``.

    Sub-pixel accurate (marching squares), so a partial-volume edge gives the
    true boundary rather than a pixel staircase.

    Parameters
    ----------
    image
        A 2-D slice (any numeric type), indexed ``[row, column]``.
    level
        Iso-value of the boundary, e.g. halfway between lesion and background.
    seed_ij
        A (column, row) point inside the lesion.

    Returns
    -------
    numpy.ndarray
        ``(N, 2)`` outline in (column, row) pixel coordinates.

    Raises
    ------
    ValueError
        When no closed iso-line surrounds the seed.
    """
    pixels = np.asarray(image, dtype=np.float64)
    seed_rc = np.array([[seed_ij[1], seed_ij[0]]])
    best: FloatArray | None = None
    best_area = math.inf
    for contour in _find_contours(pixels, level):
        closed = np.allclose(contour[0], contour[-1])
        if not closed or not _points_in_poly(seed_rc, contour)[0]:
            continue
        area = 0.5 * abs(float(_cross(contour, np.roll(contour, -1, axis=0)).sum()))
        if area < best_area:
            best, best_area = contour, area
    if best is None:
        raise ValueError(f"no closed outline at level {level} surrounds {seed_ij}")
    return np.asarray(best[:, ::-1], dtype=np.float64)
