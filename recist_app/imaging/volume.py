"""The loaded image volume: stored voxels plus their patient geometry.

Index conventions
-----------------
``voxels[k, j, i]``: ``k`` is the slice, ``j`` the row and ``i`` the column.
Vectors named ``*_ijk`` are ``(i, j, k)`` (column, row, slice) like ITK's
``(x, y, z)`` index order. Patient coordinates are DICOM LPS millimetres:
+x towards the patient's left, +y posterior, +z superior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["ImageVolume", "VoxelArray"]

VoxelArray = npt.NDArray[Any]
"""Voxels in their stored integer type (int16/uint16, uint8 for 8-bit data)."""


def _frozen_array(values: npt.ArrayLike, shape: tuple[int, ...], name: str) -> Any:
    array = np.array(values, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: values must be finite")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ImageVolume:
    """A 3-D image in its stored pixel type with its geometry in patient LPS mm.

    Parameters
    ----------
    voxels
        Stored pixel values shaped ``(slices, rows, columns)``, read-only.
        Modality values (HU for CT) are ``voxels * rescale_slope +
        rescale_intercept``; use :meth:`modality_values` for a region.
    spacing_mm
        ``(i, j, k)`` step in mm: column spacing, row spacing, and the mean
        distance between slice origins.
    slice_origins_lps_mm
        ``(slices, 3)`` LPS position of voxel ``(0, 0, k)`` of every slice, as
        written by the scanner; geometry helpers interpolate between them, so
        irregular spacing and gantry tilt stay exact.
    direction
        3x3 matrix whose columns are the LPS unit vectors of the ``i``, ``j``
        and ``k`` axes. With gantry tilt the ``k`` column is not orthogonal to
        the slice plane.
    rescale_slope, rescale_intercept
        Linear modality transform of the stored values.
    sop_instance_uids
        SOP Instance UID of every slice (the enclosing file for multi-frame).
    frame_numbers
        1-based frame number of every slice in a multi-frame file, else ``None``.
    window_centers, window_widths
        The series' own window defaults (may be empty).
    warnings
        One-line notes about the data (gantry tilt, irregular spacing, ...).
    """

    voxels: VoxelArray
    spacing_mm: tuple[float, float, float]
    slice_origins_lps_mm: npt.NDArray[np.float64]
    direction: npt.NDArray[np.float64]
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    sop_instance_uids: tuple[str, ...]
    frame_numbers: tuple[int, ...] | None = None
    series_instance_uid: str = ""
    study_instance_uid: str = ""
    frame_of_reference_uid: str = ""
    patient_id: str = ""
    modality: str = ""
    series_description: str = ""
    slice_thickness_mm: float | None = None
    window_centers: tuple[float, ...] = ()
    window_widths: tuple[float, ...] = ()
    warnings: tuple[str, ...] = ()
    source_paths: tuple[str, ...] = field(default=(), repr=False)
    # Derived once from ``direction`` and the origins (every scroll step of a
    # linked viewer asks for them; numpy on 3-vectors is slow per call).
    _slice_normal: npt.NDArray[np.float64] = field(
        init=False, repr=False, compare=False
    )
    _slice_heights_mm: npt.NDArray[np.float64] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.voxels.ndim != 3 or 0 in self.voxels.shape:
            raise ValueError(
                f"voxels: expected a non-empty (slices, rows, columns) array, "
                f"got shape {self.voxels.shape}"
            )
        count = self.voxels.shape[0]
        if len(self.spacing_mm) != 3 or not all(
            math.isfinite(s) and s > 0 for s in self.spacing_mm
        ):
            raise ValueError(
                f"spacing_mm: expected 3 positive mm, got {self.spacing_mm}"
            )
        origins = _frozen_array(
            self.slice_origins_lps_mm, (count, 3), "slice_origins_lps_mm"
        )
        object.__setattr__(self, "slice_origins_lps_mm", origins)
        direction = _frozen_array(self.direction, (3, 3), "direction")
        if not np.allclose(np.linalg.norm(direction, axis=0), 1.0, atol=1e-4):
            raise ValueError("direction: columns must be unit vectors")
        object.__setattr__(self, "direction", direction)
        normal = np.cross(direction[:, 0], direction[:, 1])
        length = float(np.linalg.norm(normal))
        if length < 1e-6:
            raise ValueError("direction: row and column directions are parallel")
        normal = np.asarray(normal / length, dtype=np.float64)
        normal.setflags(write=False)
        object.__setattr__(self, "_slice_normal", normal)
        heights = np.asarray(origins @ normal, dtype=np.float64)
        heights.setflags(write=False)
        object.__setattr__(self, "_slice_heights_mm", heights)
        if len(self.sop_instance_uids) != count:
            raise ValueError(
                f"sop_instance_uids: {len(self.sop_instance_uids)} UIDs "
                f"for {count} slices"
            )
        if self.frame_numbers is not None and len(self.frame_numbers) != count:
            raise ValueError(
                f"frame_numbers: {len(self.frame_numbers)} numbers for {count} slices"
            )
        if not (math.isfinite(self.rescale_slope) and self.rescale_slope != 0):
            raise ValueError(
                f"rescale_slope: must be finite, non-zero: {self.rescale_slope}"
            )
        if not math.isfinite(self.rescale_intercept):
            raise ValueError("rescale_intercept: must be finite")
        if len(self.window_centers) != len(self.window_widths):
            raise ValueError("window_centers and window_widths differ in length")
        if self.voxels.flags.writeable:
            self.voxels.setflags(write=False)

    @property
    def slice_count(self) -> int:
        """Number of slices (``k`` extent)."""
        return int(self.voxels.shape[0])

    @property
    def rows(self) -> int:
        """Rows per slice (``j`` extent)."""
        return int(self.voxels.shape[1])

    @property
    def columns(self) -> int:
        """Columns per slice (``i`` extent)."""
        return int(self.voxels.shape[2])

    @property
    def column_spacing_mm(self) -> float:
        """Distance between neighbouring columns (along ``i``)."""
        return self.spacing_mm[0]

    @property
    def row_spacing_mm(self) -> float:
        """Distance between neighbouring rows (along ``j``)."""
        return self.spacing_mm[1]

    @property
    def slice_spacing_mm(self) -> float:
        """Mean distance between slice origins (along ``k``)."""
        return self.spacing_mm[2]

    @property
    def origin_lps_mm(self) -> tuple[float, float, float]:
        """LPS position of voxel ``(0, 0, 0)``."""
        x, y, z = (float(v) for v in self.slice_origins_lps_mm[0])
        return (x, y, z)

    @property
    def slice_normal(self) -> npt.NDArray[np.float64]:
        """Unit normal of the slice plane (row direction x column direction).

        Read-only, computed once.
        """
        return self._slice_normal

    @property
    def slice_heights_mm(self) -> npt.NDArray[np.float64]:
        """Each slice's origin along :attr:`slice_normal`, mm (read-only, once)."""
        return self._slice_heights_mm

    @property
    def gantry_tilt_deg(self) -> float:
        """Angle between the stacking direction and the slice normal, degrees."""
        cosine = abs(float(np.dot(self.direction[:, 2], self.slice_normal)))
        return math.degrees(math.acos(min(1.0, cosine)))

    @property
    def nbytes(self) -> int:
        """Bytes held by the voxel array."""
        return int(self.voxels.nbytes)

    def modality_values(self, key: Any = ...) -> npt.NDArray[np.float32]:
        """Return ``voxels[key]`` rescaled to modality units (HU for CT).

        Only the requested region is converted, never the whole volume.

        Parameters
        ----------
        key
            Any numpy index into ``voxels``, e.g. ``k`` for one slice.

        Returns
        -------
        numpy.ndarray
            ``float32`` values ``stored * slope + intercept``.
        """
        region = np.asarray(self.voxels[key], dtype=np.float32)
        if self.rescale_slope != 1.0:
            region *= np.float32(self.rescale_slope)
        if self.rescale_intercept != 0.0:
            region += np.float32(self.rescale_intercept)
        return region

    def stored_value(self, modality_value: float) -> float:
        """Convert a modality value (e.g. HU) to the stored-value scale."""
        return (modality_value - self.rescale_intercept) / self.rescale_slope
