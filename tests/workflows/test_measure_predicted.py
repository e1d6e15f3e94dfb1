"""Enter at a follow-up, headless: measure the lesion where it is predicted."""

from __future__ import annotations

import numpy as np
import pytest

from recist_app.imaging import ImageVolume, index_to_lps_mm
from recist_app.imaging.errors import SegmentationError
from recist_app.workflows.measure import (
    PropagatedPoint,
    _near_points,
    measure_predicted,
)

LESION_SLICE = 9


def disc_volume(series_uid: str, radius_mm: float) -> ImageVolume:
    """64 x 64 x 16 noisy soft tissue (40 HU), a 200 HU disc 3 slices thick."""
    noise = np.random.default_rng(7).normal(0.0, 10.0, (16, 64, 64))
    voxels = (40 + 1024 + noise).astype(np.int16)
    j, i = np.mgrid[0:64, 0:64]
    disc = np.hypot(i - 32, j - 32) <= radius_mm
    voxels[LESION_SLICE - 1 : LESION_SLICE + 2][:, disc] += 160
    return ImageVolume(
        voxels=voxels,
        spacing_mm=(1.0, 1.0, 5.0),
        slice_origins_lps_mm=np.array([[0.0, 0.0, 5.0 * k] for k in range(16)]),
        direction=np.eye(3),
        rescale_intercept=-1024.0,
        sop_instance_uids=tuple(f"{series_uid}.{k + 1}" for k in range(16)),
        series_instance_uid=series_uid,
        patient_id="PREDICTED",
        modality="CT",
    )


def _lps(i: float, j: float, k: float) -> tuple[float, float, float]:
    volume = disc_volume("1.2.3", 12.0)
    x, y, z = (float(v) for v in index_to_lps_mm(volume, [i, j, k]))
    return (x, y, z)


def test_the_predicted_point_is_measured_where_it_is() -> None:
    volume = disc_volume("1.2.3", radius_mm=12.0)
    predicted = PropagatedPoint(
        point_lps_mm=_lps(32.0, 32.0, LESION_SLICE), method="affine registration"
    )
    found = measure_predicted(
        volume, volume, predicted.point_lps_mm, predicted=predicted
    )
    assert found.point == predicted
    assert found.measurement.long_axis_mm == pytest.approx(24.0, abs=1.5)
    assert abs(found.measurement.slice_index - LESION_SLICE) <= 1


def test_the_points_tried_beside_a_prediction_are_4_mm_and_a_slice_away() -> None:
    volume = disc_volume("1.2.3", radius_mm=12.0)
    point = _lps(32.0, 32.0, LESION_SLICE)
    tried = _near_points(volume, point)
    assert tried[0] == (point, "")
    offsets = sorted(
        tuple(round(b - a, 3) for a, b in zip(point, near, strict=True))
        for near, step in tried[1:]
    )
    assert offsets == sorted(
        [
            (4.0, 0, 0),
            (-4.0, 0, 0),
            (0, 4.0, 0),
            (0, -4.0, 0),
            (0, 0, 5.0),
            (0, 0, -5.0),
        ]
    )
    assert {step for _near, step in tried[1:]} == {"a click beside it"}


def test_no_lesion_anywhere_near_raises_the_first_one_line_error() -> None:
    volume = disc_volume("1.2.3", radius_mm=12.0)
    predicted = PropagatedPoint(
        point_lps_mm=_lps(32.0, 32.0, 2), method="affine registration"
    )
    with pytest.raises(SegmentationError) as raised:
        measure_predicted(volume, volume, predicted.point_lps_mm, predicted=predicted)
    assert "\n" not in str(raised.value)
    assert "voxel (32, 32, 2)" in str(raised.value)
