"""The segmentation's faster in-plane morphology equals scipy's own operations.

Click-to-measure (issue 19) fills holes slice by slice, takes shells around the
region and opens the band in the slice plane. These run on every click, so they
are done a faster way: one labelling, one chamfer distance, separable minimum
and maximum filters. Each must give exactly the voxels the plain scipy
operation gives, on random masks of every shape, with empty slices and masks
touching the array's edge.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from scipy import ndimage

from recist_app.imaging import segment

_CROSS = ndimage.generate_binary_structure(3, 1)
_CROSS[0] = _CROSS[2] = False
_SQUARE = np.ones((1, 3, 3), dtype=bool)


def _masks(count: int) -> list[npt.NDArray[np.bool_]]:
    rng = np.random.default_rng(20261203)
    masks = []
    for index in range(count):
        shape = tuple(int(n) for n in rng.integers(1, 24, 3))
        smooth = ndimage.gaussian_filter(rng.random(shape), 1.2)
        mask = smooth > rng.uniform(0.42, 0.58)
        if index % 5 == 0:
            mask[int(rng.integers(0, shape[0]))] = False  # a slice without it
        masks.append(mask)
    masks.append(np.zeros((4, 6, 6), dtype=bool))
    masks.append(np.ones((4, 6, 6), dtype=bool))
    return masks


MASKS = _masks(200)


def test_fill_slices_is_binary_fill_holes_of_every_slice() -> None:
    for mask in MASKS:
        expected = np.stack([ndimage.binary_fill_holes(plane) for plane in mask])
        np.testing.assert_array_equal(segment._fill_slices(mask), expected)


@pytest.mark.parametrize("width", [1, 2, 3, 5])
def test_shell_is_the_in_plane_dilations_minus_the_region(width: int) -> None:
    for mask in MASKS:
        grown = ndimage.binary_dilation(mask, _CROSS, iterations=width)
        shell = segment._shell(segment._in_plane_steps(mask), 0, width)
        np.testing.assert_array_equal(shell, grown & ~mask)


@pytest.mark.parametrize("pixel_mm", [0.5, 0.78, 1.0, 1.5])
def test_outer_shell_is_the_far_dilation_minus_the_near(pixel_mm: float) -> None:
    gap = max(2, round(segment._SHELL_GAP_MM / pixel_mm))
    width = max(2, round(segment._SHELL_WIDTH_MM / pixel_mm))
    for mask in MASKS:
        near = ndimage.binary_dilation(mask, _CROSS, iterations=gap)
        far = ndimage.binary_dilation(near, _CROSS, iterations=width)
        np.testing.assert_array_equal(
            segment._outer_shell(mask, (pixel_mm, pixel_mm, 5.0)), far & ~near
        )


def test_in_plane_erosion_and_opening_are_scipys() -> None:
    for mask in MASKS:
        np.testing.assert_array_equal(
            segment._erode_in_plane(mask), ndimage.binary_erosion(mask, _SQUARE)
        )
        np.testing.assert_array_equal(
            segment._dilate_in_plane(segment._erode_in_plane(mask)),
            ndimage.binary_opening(mask, _SQUARE),
        )
