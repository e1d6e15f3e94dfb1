"""RECIST long and short axis of a segmented lesion, edge to edge.

The long axis is the greatest in-plane diameter over the axial slices the lesion
covers; the short axis is the longest chord perpendicular to it on the same
slice. For lymph nodes the slice is the one with the greatest short axis (RECIST
1.1 measures nodes by their short axis). Both are measured on the lesion's
sub-pixel outline (the 0.5 iso-line of the partial-volume membership), so the
ends lie on the lesion's edge as a reader draws them, not on the centres of the
outermost pixels, which is about one pixel short.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from recist_app.imaging.errors import SegmentationError
from recist_app.imaging.geometry import (
    Axis,
    index_to_lps_mm,
    lesion_contour_ij,
    measure_lesion_axes,
    outline_long_axis,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy.typing as npt

    from recist_app.imaging.segment import LesionSegmentation
    from recist_app.imaging.volume import ImageVolume

__all__ = ["BidirectionalMeasurement", "measure_bidirectional", "slice_outlines_ij"]

Point3 = tuple[float, float, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class BidirectionalMeasurement:
    """The long and short axis of a lesion on one slice of its volume.

    Parameters
    ----------
    slice_index
        Volume slice ``k`` the axes are drawn on.
    long_axis, short_axis
        End points in (column, row) pixels of that slice and lengths in mm.
    long_axis_lps_mm, short_axis_lps_mm
        The same end points in patient LPS millimetres.
    sop_instance_uid
        The image the axes are drawn on.
    volume_ml
        The segmented lesion's volume.
    """

    slice_index: int
    long_axis: Axis
    short_axis: Axis
    long_axis_lps_mm: tuple[Point3, Point3]
    short_axis_lps_mm: tuple[Point3, Point3]
    sop_instance_uid: str
    volume_ml: float

    @property
    def long_axis_mm(self) -> float:
        """Length of the long axis."""
        return self.long_axis.length_mm

    @property
    def short_axis_mm(self) -> float:
        """Length of the short axis."""
        return self.short_axis.length_mm


def _outline_on(
    segmentation: LesionSegmentation, local_k: int
) -> npt.NDArray[np.float64] | None:
    """The slice's outline in box pixels (column, row), around its deepest pixel."""
    mask = segmentation.mask[local_k]
    if not mask.any():
        return None
    labels, count = ndimage.label(mask)
    if count > 1:  # the largest piece (the others are a few partial pixels)
        sizes = np.bincount(labels.ravel())[1:]
        mask = labels == int(np.argmax(sizes)) + 1
    depth = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    row, column = np.unravel_index(int(np.argmax(depth)), depth.shape)
    field = np.pad(segmentation.membership[local_k].astype(np.float64), 1)
    field[1:-1, 1:-1][~mask & ~ndimage.binary_dilation(mask)] = 0.0
    try:
        outline = lesion_contour_ij(
            field, level=0.5, seed_ij=(float(column) + 1, float(row) + 1)
        )
    except ValueError:
        return None
    return outline - 1.0


def slice_outlines_ij(
    segmentation: LesionSegmentation,
) -> dict[int, npt.NDArray[np.float64]]:
    """Every covered slice's outline in (column, row) pixels of the volume.

    Returns
    -------
    dict
        Volume slice index ``k`` -> ``(N, 2)`` closed outline.
    """
    i0, j0, k0 = segmentation.offset_ijk
    outlines: dict[int, npt.NDArray[np.float64]] = {}
    for local_k in range(segmentation.mask.shape[0]):
        outline = _outline_on(segmentation, local_k)
        if outline is not None:
            outlines[k0 + local_k] = outline + np.array([i0, j0])
    return outlines


def _lps(volume: ImageVolume, axis: Axis, k: int) -> tuple[Point3, Point3]:
    points = index_to_lps_mm(
        volume, [[*axis.start_ij, float(k)], [*axis.end_ij, float(k)]]
    )
    start, end = (tuple(float(c) for c in p) for p in points)
    return (start[0], start[1], start[2]), (end[0], end[1], end[2])


def measure_bidirectional(
    volume: ImageVolume,
    segmentation: LesionSegmentation,
    *,
    lymph_node: bool = False,
    outlines_ij: Mapping[int, npt.NDArray[np.float64]] | None = None,
) -> BidirectionalMeasurement:
    """Measure the lesion RECIST-style on the slice where it is greatest.

    Parameters
    ----------
    volume
        The series the segmentation was made on.
    segmentation
        The lesion.
    lymph_node
        Pick the slice with the greatest short axis instead of long axis.
    outlines_ij
        :func:`slice_outlines_ij` of the segmentation, when the caller has it.

    Returns
    -------
    BidirectionalMeasurement
        The axes in pixels and LPS mm, and the image they are drawn on.

    Raises
    ------
    SegmentationError
        When no slice has a closed outline.
    """
    outlines = slice_outlines_ij(segmentation) if outlines_ij is None else outlines_ij
    spacing = {
        "row_spacing_mm": volume.row_spacing_mm,
        "column_spacing_mm": volume.column_spacing_mm,
    }
    best = None
    if lymph_node:
        # nodes: the slice with the greatest short axis, so every slice's is
        # measured
        best_key = -1.0
        for k, outline in outlines.items():
            try:
                axes = measure_lesion_axes(outline, **spacing)
            except ValueError:
                continue
            if axes.short_axis.length_mm > best_key:
                best, best_key = (k, axes), axes.short_axis.length_mm
    else:
        # the slice with the greatest long axis: long axes first (cheap), then
        # the short axis only there (the next slice if it has none); the same
        # slice as measuring both everywhere, in a fraction of the time
        longest: list[tuple[float, int]] = []
        for k, outline in outlines.items():
            try:
                length = outline_long_axis(outline, **spacing).length_mm
            except ValueError:
                continue
            longest.append((length, k))
        for _length, k in sorted(longest, key=lambda item: -item[0]):
            try:
                best = (k, measure_lesion_axes(outlines[k], **spacing))
            except ValueError:
                continue
            break
    if best is None:
        i, j, k = segmentation.seed_ijk
        raise SegmentationError(
            f"voxel ({i}, {j}, {k}): no lesion can be delineated: "
            "the region has no closed outline on any slice"
        )
    k, axes = best
    return BidirectionalMeasurement(
        slice_index=k,
        long_axis=axes.long_axis,
        short_axis=axes.short_axis,
        long_axis_lps_mm=_lps(volume, axes.long_axis, k),
        short_axis_lps_mm=_lps(volume, axes.short_axis, k),
        sop_instance_uid=volume.sop_instance_uids[k],
        volume_ml=segmentation.volume_ml,
    )
