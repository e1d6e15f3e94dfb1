"""Axial, coronal and sagittal slices of a volume, oriented for display.

Each plane is taken along the array axis closest to the anatomical axis, so an
axial acquisition gives axial slices directly and coronal/sagittal slices by
reslicing (no interpolation). Slices follow radiological convention: the
patient's right on the viewer's left, anterior up in axial, superior up in
coronal and sagittal, anterior left in sagittal. The pixel aspect ratio to draw
with is ``row_spacing_mm / column_spacing_mm``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from recist_app.imaging.volume import ImageVolume

__all__ = ["Plane", "SliceImage", "extract_slice", "plane_axis", "plane_slice_count"]


class Plane(StrEnum):
    """Anatomical viewing planes."""

    AXIAL = "axial"
    CORONAL = "coronal"
    SAGITTAL = "sagittal"


# plane -> (LPS axis held fixed, LPS axis shown vertically and its sign downwards,
#           LPS axis shown horizontally, increasing to the right)
_LAYOUT: dict[Plane, tuple[int, int, int, int]] = {
    Plane.AXIAL: (2, 1, +1, 0),  # rows run anterior -> posterior, columns right -> left
    Plane.CORONAL: (1, 2, -1, 0),  # rows run superior -> inferior
    Plane.SAGITTAL: (0, 2, -1, 1),  # columns run anterior -> posterior
}


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SliceImage:
    """A 2-D slice ready to display, and how its pixels map back to voxels.

    Parameters
    ----------
    pixels
        ``(rows, columns)`` stored values (a view of the volume when possible).
    plane
        The anatomical plane.
    index
        Position along the plane's fixed array axis.
    row_spacing_mm, column_spacing_mm
        Distance between display rows and between display columns.
    origin_ijk
        Voxel index ``(i, j, k)`` of display pixel (row 0, column 0).
    row_step_ijk, column_step_ijk
        Voxel index change for one display row down / one column right.
    """

    pixels: npt.NDArray[Any]
    plane: Plane
    index: int
    row_spacing_mm: float
    column_spacing_mm: float
    origin_ijk: tuple[int, int, int]
    row_step_ijk: tuple[int, int, int]
    column_step_ijk: tuple[int, int, int]

    @property
    def aspect_ratio(self) -> float:
        """Pixel height / width to draw with (``row / column`` spacing)."""
        return self.row_spacing_mm / self.column_spacing_mm

    def display_to_ijk(self, row: float, column: float) -> tuple[float, float, float]:
        """Voxel index ``(i, j, k)`` of a (fractional) display position."""
        values = (
            np.asarray(self.origin_ijk, dtype=np.float64)
            + row * np.asarray(self.row_step_ijk)
            + column * np.asarray(self.column_step_ijk)
        )
        return (float(values[0]), float(values[1]), float(values[2]))

    def ijk_to_display(self, ijk: npt.ArrayLike) -> tuple[float, float]:
        """Display ``(row, column)`` of a voxel index lying in this slice."""
        offset = np.asarray(ijk, dtype=np.float64) - np.asarray(self.origin_ijk)
        row = float(offset @ np.asarray(self.row_step_ijk))
        column = float(offset @ np.asarray(self.column_step_ijk))
        return (row, column)


def _axis_directions(volume: ImageVolume) -> npt.NDArray[np.float64]:
    """LPS direction (columns) of the i, j axes and the slice normal for k."""
    directions = np.array(volume.direction, dtype=np.float64)
    normal = volume.slice_normal
    directions[:, 2] = (
        normal if float(normal @ volume.direction[:, 2]) >= 0 else -normal
    )
    return directions


def _assignment(volume: ImageVolume) -> dict[int, int]:
    """Map each LPS axis (0=x, 1=y, 2=z) to the closest array axis (0=i, 1=j, 2=k)."""
    weights = np.abs(_axis_directions(volume))
    best = max(
        itertools.permutations(range(3)),
        key=lambda perm: sum(weights[lps, array] for lps, array in enumerate(perm)),
    )
    return dict(enumerate(best))


def plane_axis(volume: ImageVolume, plane: Plane) -> int:
    """The array axis (0=i, 1=j, 2=k) held fixed for ``plane``."""
    return _assignment(volume)[_LAYOUT[Plane(plane)][0]]


def plane_slice_count(volume: ImageVolume, plane: Plane) -> int:
    """Number of slices available in ``plane``."""
    axis = plane_axis(volume, plane)
    return int(volume.voxels.shape[2 - axis])


def extract_slice(volume: ImageVolume, plane: Plane, index: int) -> SliceImage:
    """Return one slice of ``volume`` in ``plane``, oriented for display.

    Parameters
    ----------
    volume
        The volume.
    plane
        Axial, coronal or sagittal.
    index
        Slice position along the plane's fixed axis (see :func:`plane_slice_count`).

    Returns
    -------
    SliceImage
        Pixels plus spacings and the display -> voxel index mapping.
    """
    plane = Plane(plane)
    assignment = _assignment(volume)
    fixed_lps, vertical_lps, vertical_sign, horizontal_lps = _LAYOUT[plane]
    fixed, vertical, horizontal = (
        assignment[fixed_lps],
        assignment[vertical_lps],
        assignment[horizontal_lps],
    )
    count = volume.voxels.shape[2 - fixed]
    if not 0 <= index < count:
        raise IndexError(f"{plane} slice {index} is outside 0..{count - 1}")
    directions = _axis_directions(volume)
    flip_vertical = np.sign(directions[vertical_lps, vertical]) != vertical_sign
    flip_horizontal = directions[horizontal_lps, horizontal] < 0
    plane_pixels = np.take(volume.voxels, index, axis=2 - fixed)
    # remaining numpy axes keep their order; put the vertical one first
    remaining = [axis for axis in (2, 1, 0) if axis != fixed]
    if remaining[0] != vertical:
        plane_pixels = plane_pixels.T
    if flip_vertical:
        plane_pixels = plane_pixels[::-1, :]
    if flip_horizontal:
        plane_pixels = plane_pixels[:, ::-1]
    origin = [0, 0, 0]
    origin[fixed] = index
    row_step = [0, 0, 0]
    column_step = [0, 0, 0]
    row_step[vertical] = -1 if flip_vertical else 1
    column_step[horizontal] = -1 if flip_horizontal else 1
    if flip_vertical:
        origin[vertical] = volume.voxels.shape[2 - vertical] - 1
    if flip_horizontal:
        origin[horizontal] = volume.voxels.shape[2 - horizontal] - 1
    return SliceImage(
        pixels=plane_pixels,
        plane=plane,
        index=index,
        row_spacing_mm=volume.spacing_mm[vertical],
        column_spacing_mm=volume.spacing_mm[horizontal],
        origin_ijk=(origin[0], origin[1], origin[2]),
        row_step_ijk=(row_step[0], row_step[1], row_step[2]),
        column_step_ijk=(column_step[0], column_step[1], column_step[2]),
    )
