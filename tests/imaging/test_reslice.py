"""Axial, coronal and sagittal slices come out in radiological orientation."""

from __future__ import annotations

import numpy as np
import pytest

from recist_app.imaging import (
    ImageVolume,
    Plane,
    extract_slice,
    index_to_lps_mm,
    plane_axis,
    plane_slice_count,
)


def _volume(direction: np.ndarray, spacing: tuple[float, float, float]) -> ImageVolume:
    shape = (4, 5, 6)  # k, j, i
    voxels = np.arange(np.prod(shape), dtype=np.int16).reshape(shape)
    origins = np.array([k * spacing[2] * direction[:, 2] for k in range(shape[0])])
    return ImageVolume(
        voxels=voxels,
        spacing_mm=spacing,
        slice_origins_lps_mm=origins,
        direction=direction,
        sop_instance_uids=tuple(str(k) for k in range(shape[0])),
    )


AXIAL = np.eye(3)
# descending slices and a row direction pointing to the patient's right
FLIPPED = np.column_stack([[-1.0, 0, 0], [0, 1.0, 0], [0, 0, -1.0]])
# a coronal acquisition: rows go left, columns go down (inferior), slices go anterior
CORONAL = np.column_stack([[1.0, 0, 0], [0, 0, -1.0], [0, -1.0, 0]])


def _lps(volume: ImageVolume, image: object, row: float, column: float) -> np.ndarray:
    from recist_app.imaging import SliceImage

    assert isinstance(image, SliceImage)
    return index_to_lps_mm(volume, image.display_to_ijk(row, column))


@pytest.mark.parametrize(
    "direction", [AXIAL, FLIPPED, CORONAL], ids=["axial", "flipped", "coronal"]
)
@pytest.mark.parametrize("plane", list(Plane))
def test_display_follows_radiological_convention(
    direction: np.ndarray, plane: Plane
) -> None:
    volume = _volume(direction, (0.7, 0.9, 2.5))
    image = extract_slice(volume, plane, plane_slice_count(volume, plane) // 2)
    rows, columns = image.pixels.shape
    top_left = _lps(volume, image, 0, 0)
    down = _lps(volume, image, rows - 1, 0) - top_left
    right = _lps(volume, image, 0, columns - 1) - top_left
    if plane is Plane.AXIAL:
        assert down[1] > 0  # anterior at the top: rows go posterior (+y)
        assert right[0] > 0  # patient's right on the viewer's left: columns go +x
    elif plane is Plane.CORONAL:
        assert down[2] < 0  # superior at the top
        assert right[0] > 0
    else:
        assert down[2] < 0
        assert right[1] > 0  # anterior on the left
    for row, column in [(0, 0), (rows - 1, columns - 1), (1, 2)]:
        i, j, k = (int(v) for v in image.display_to_ijk(row, column))
        assert image.pixels[row, column] == volume.voxels[k, j, i]
        assert image.ijk_to_display((i, j, k)) == pytest.approx((row, column))


def test_aspect_ratio_uses_the_spacings() -> None:
    volume = _volume(AXIAL, (0.7, 0.9, 2.5))
    axial = extract_slice(volume, Plane.AXIAL, 1)
    coronal = extract_slice(volume, Plane.CORONAL, 1)
    sagittal = extract_slice(volume, Plane.SAGITTAL, 1)
    assert axial.pixels.shape == (5, 6)
    assert axial.aspect_ratio == pytest.approx(0.9 / 0.7)
    assert coronal.pixels.shape == (4, 6)
    assert coronal.aspect_ratio == pytest.approx(2.5 / 0.7)
    assert sagittal.pixels.shape == (4, 5)
    assert sagittal.aspect_ratio == pytest.approx(2.5 / 0.9)


def test_planes_map_to_the_closest_array_axes() -> None:
    volume = _volume(CORONAL, (1.0, 1.0, 1.0))
    assert plane_axis(volume, Plane.CORONAL) == 2  # the acquisition plane
    assert plane_axis(volume, Plane.AXIAL) == 1
    assert plane_axis(volume, Plane.SAGITTAL) == 0
    assert plane_slice_count(volume, Plane.AXIAL) == 5


def test_slice_index_out_of_range_is_refused() -> None:
    volume = _volume(AXIAL, (1.0, 1.0, 1.0))
    with pytest.raises(IndexError, match="outside"):
        extract_slice(volume, Plane.AXIAL, 4)
