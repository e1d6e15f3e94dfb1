"""Registration on a real CT moved by a known rigid transform (issue 19).

The phantoms are drawn by the project; this checks the registration on real
anatomy: the head CT slice bundled with pydicom-data (``693_UNCR.dcm``, 512²,
0.48 mm pixels) made into a 3-D series whose slices shrink towards the top and
bottom (a skull-like dome, so the slices differ along z), and the same series
resampled through a known rotation and shift, as a patient lying differently
at the follow-up. Every point's place in the moved series is then known
exactly: the transform's inverse of the point.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pydicom
import pytest
import SimpleITK
from pydicom.data import get_testdata_file

from recist_app.imaging.registration import locate_point, register_series
from recist_app.imaging.volume import ImageVolume

sitk: Any = SimpleITK  # SimpleITK has no type hints (as in imaging.registration)

SLICES = 24
SLICE_MM = 5.0
ROTATION_DEG = (2.0, -1.5, 6.0)  # about x, y, z
SHIFT_MM = (9.0, -7.0, 6.0)
TOLERANCE_MM = 2.0


def _real_slice() -> tuple[np.ndarray, float, tuple[float, float, float]]:
    """HU of the bundled head CT slice, its pixel size and its origin (LPS)."""
    path = get_testdata_file("693_UNCR.dcm")
    if path is None:
        pytest.skip("pydicom-data's 693_UNCR.dcm is not installed")
    dataset = pydicom.dcmread(path)
    hu = dataset.pixel_array.astype(np.float32) * float(dataset.RescaleSlope) + float(
        dataset.RescaleIntercept
    )
    origin = tuple(float(c) for c in dataset.ImagePositionPatient)
    return np.maximum(hu, -1024.0), float(dataset.PixelSpacing[0]), origin  # type: ignore[return-value]


def _dome(hu: np.ndarray, pixel_mm: float, origin: tuple[float, ...]) -> Any:
    """The slice repeated along z, scaled about its centre like a skull's dome."""
    image2d = sitk.GetImageFromArray(hu)
    image2d.SetSpacing((pixel_mm, pixel_mm))
    centre = image2d.TransformContinuousIndexToPhysicalPoint(
        (hu.shape[1] / 2.0, hu.shape[0] / 2.0)
    )
    planes = []
    for k in range(SLICES):
        height = (k - (SLICES - 1) / 2.0) / (SLICES / 2.0 + 2.0)
        scale = math.sqrt(max(0.2, 1.0 - height * height))
        shrink = sitk.ScaleTransform(2, (1.0 / scale, 1.0 / scale))
        shrink.SetCenter(centre)
        plane = sitk.Resample(image2d, image2d, shrink, sitk.sitkLinear, -1024.0)
        planes.append(sitk.GetArrayFromImage(plane))
    volume = sitk.GetImageFromArray(np.stack(planes))
    volume.SetSpacing((pixel_mm, pixel_mm, SLICE_MM))
    volume.SetOrigin((origin[0], origin[1], origin[2] - SLICE_MM * (SLICES // 2)))
    return volume


def _volume(image: Any, series: str) -> ImageVolume:
    voxels = np.round(sitk.GetArrayFromImage(image)).astype(np.int16)
    spacing = image.GetSpacing()
    origin = np.asarray(image.GetOrigin())
    step = np.array([0.0, 0.0, spacing[2]])
    origins = np.array([origin + k * step for k in range(SLICES)])
    return ImageVolume(
        voxels=voxels,
        spacing_mm=(spacing[0], spacing[1], spacing[2]),
        slice_origins_lps_mm=origins,
        direction=np.eye(3),
        sop_instance_uids=tuple(f"2.25.{series}.{k}" for k in range(SLICES)),
        series_instance_uid=f"2.25.{series}",
        modality="CT",
    )


@pytest.fixture(scope="module")
def moved() -> tuple[ImageVolume, ImageVolume, Any]:
    hu, pixel_mm, origin = _real_slice()
    fixed_image = _dome(hu, pixel_mm, origin)
    centre = fixed_image.TransformContinuousIndexToPhysicalPoint(
        [(n - 1) / 2.0 for n in fixed_image.GetSize()]
    )
    known = sitk.Euler3DTransform(
        centre, *(math.radians(a) for a in ROTATION_DEG), SHIFT_MM
    )
    # moved(x) = fixed(known(x)): what lies at p in the baseline lies at
    # known^-1(p) at the follow-up
    moved_image = sitk.Resample(
        fixed_image, fixed_image, known, sitk.sitkLinear, -1024.0
    )
    return _volume(fixed_image, "1"), _volume(moved_image, "2"), known


POINTS_IJK = [
    (256, 120, 12),  # frontal bone, midline
    (180, 300, 12),  # left hemisphere
    (330, 260, 10),  # the right lateral lesion's edge
    (256, 400, 14),  # occipital bone
    (150, 220, 8),  # lower slice, near the skull
]


def test_a_real_ct_moved_by_a_known_transform_is_registered_within_2_mm(
    moved: tuple[ImageVolume, ImageVolume, Any],
) -> None:
    fixed, moving, known = moved
    registration = register_series(fixed, moving)
    inverse = known.GetInverse()
    errors_global: list[float] = []
    errors_local: list[float] = []
    for i, j, k in POINTS_IJK:
        in_plane = np.array([i * fixed.spacing_mm[0], j * fixed.spacing_mm[1], 0.0])
        lps = np.asarray(fixed.slice_origins_lps_mm[k]) + in_plane
        point = (float(lps[0]), float(lps[1]), float(lps[2]))
        truth = inverse.TransformPoint(point)
        errors_global.append(math.dist(registration.map_point(point), truth))
        found = locate_point(registration, point)
        errors_local.append(math.dist(found.point_lps_mm, truth))
    assert max(errors_global) <= TOLERANCE_MM, errors_global
    assert max(errors_local) <= TOLERANCE_MM, errors_local
