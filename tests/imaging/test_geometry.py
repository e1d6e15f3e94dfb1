"""Index <-> LPS conversions and lesion axes, all in millimetre space."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recist_app.imaging import (
    ImageVolume,
    affine_lps_mm,
    in_plane_length_mm,
    index_to_lps_mm,
    lesion_contour_ij,
    lps_mm_to_index,
    measure_lesion_axes,
    perpendicular_direction_ij,
    perpendicular_short_axis,
    segment_length_mm,
    slice_index_at,
)


def _volume(
    *,
    spacing: tuple[float, float, float] = (0.5, 0.8, 2.0),
    origins: np.ndarray | None = None,
    direction: np.ndarray | None = None,
    slices: int = 5,
) -> ImageVolume:
    direction = np.eye(3) if direction is None else direction
    if origins is None:
        origins = np.array(
            [[10.0, -20.0, 30.0 + k * spacing[2]] for k in range(slices)]
        )
    return ImageVolume(
        voxels=np.zeros((len(origins), 8, 6), dtype=np.int16),
        spacing_mm=spacing,
        slice_origins_lps_mm=origins,
        direction=direction,
        sop_instance_uids=tuple(str(k) for k in range(len(origins))),
    )


def test_index_to_lps_uses_column_then_row_spacing() -> None:
    volume = _volume()
    np.testing.assert_allclose(index_to_lps_mm(volume, (2, 3, 1)), (11.0, -17.6, 32.0))
    np.testing.assert_allclose(
        affine_lps_mm(volume) @ np.array([2, 3, 1, 1.0]), (11.0, -17.6, 32.0, 1.0)
    )


def test_segment_length_honours_anisotropic_pixels() -> None:
    volume = _volume()
    # 4 columns (0.5 mm) and 3 rows (0.8 mm): 2 mm by 2.4 mm
    assert segment_length_mm(volume, (0, 0, 0), (4, 3, 0)) == pytest.approx(
        math.hypot(2.0, 2.4)
    )
    assert in_plane_length_mm(
        (0, 0), (4, 3), row_spacing_mm=0.8, column_spacing_mm=0.5
    ) == pytest.approx(math.hypot(2.0, 2.4))


def test_irregular_slices_use_their_own_positions() -> None:
    heights = [0.0, 2.0, 5.0, 6.0]
    origins = np.array([[0.0, 0.0, h] for h in heights])
    volume = _volume(origins=origins, spacing=(1.0, 1.0, 2.0))
    assert index_to_lps_mm(volume, (0, 0, 2))[2] == pytest.approx(5.0)
    assert index_to_lps_mm(volume, (0, 0, 1.5))[2] == pytest.approx(3.5)
    assert lps_mm_to_index(volume, (0.0, 0.0, 5.5))[2] == pytest.approx(2.5)


def test_sheared_stack_maps_exactly() -> None:
    tilt = math.radians(15)
    column = np.array([0.0, math.cos(tilt), math.sin(tilt)])
    normal = np.cross([1.0, 0.0, 0.0], column)
    direction = np.column_stack([[1.0, 0.0, 0.0], column, [0.0, 0.0, 1.0]])
    origins = np.array([[0.0, 0.0, 3.0 * k] for k in range(4)])
    volume = _volume(origins=origins, direction=direction, spacing=(1.0, 1.0, 3.0))
    point = index_to_lps_mm(volume, (2.0, 5.0, 2.0))
    np.testing.assert_allclose(point, [2.0, 5 * column[1], 6.0 + 5 * column[2]])
    np.testing.assert_allclose(
        lps_mm_to_index(volume, point), (2.0, 5.0, 2.0), atol=1e-9
    )
    assert volume.gantry_tilt_deg == pytest.approx(15.0)
    assert float(normal @ volume.slice_normal) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(
    angles=st.tuples(
        st.floats(-math.pi, math.pi), st.floats(-math.pi, math.pi), st.floats(-1.5, 1.5)
    ),
    spacing=st.tuples(st.floats(0.2, 3.0), st.floats(0.2, 3.0), st.floats(0.5, 8.0)),
    ijk=st.tuples(st.floats(-5, 20), st.floats(-5, 20), st.floats(-1, 6)),
)
def test_index_and_lps_round_trip(
    angles: tuple[float, float, float],
    spacing: tuple[float, float, float],
    ijk: tuple[float, float, float],
) -> None:
    a, b, c = angles
    rz = np.array(
        [[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]]
    )
    ry = np.array(
        [[math.cos(b), 0, math.sin(b)], [0, 1, 0], [-math.sin(b), 0, math.cos(b)]]
    )
    rx = np.array(
        [[1, 0, 0], [0, math.cos(c), -math.sin(c)], [0, math.sin(c), math.cos(c)]]
    )
    direction = rz @ ry @ rx
    origins = np.array(
        [[5.0, 6.0, 7.0] + k * spacing[2] * direction[:, 2] for k in range(5)]
    )
    volume = _volume(origins=origins, direction=direction, spacing=spacing)
    lps = index_to_lps_mm(volume, ijk)
    np.testing.assert_allclose(lps_mm_to_index(volume, lps), ijk, atol=1e-6)
    np.testing.assert_allclose(
        (affine_lps_mm(volume) @ np.array([*ijk, 1.0]))[:3], lps, atol=1e-6
    )


@pytest.mark.parametrize("heights", [[0.0, 2.0, 5.0, 6.0], [9.0, 6.0, 4.5, 0.0], [3.0]])
def test_slice_index_at_is_the_k_of_lps_to_index(heights: list[float]) -> None:
    """The linked viewports' one-point slice lookup: the same k, bit for bit."""
    origins = np.array([[0.0, 0.0, h] for h in heights])
    volume = _volume(origins=origins, spacing=(1.0, 1.0, 2.0))
    rng = np.random.default_rng(18)
    for point in rng.uniform(-15, 15, (200, 3)):
        assert slice_index_at(volume, point) == lps_mm_to_index(volume, point)[2]


def test_many_points_convert_at_once() -> None:
    volume = _volume()
    points = np.array([[0, 0, 0], [1, 1, 1], [5, 7, 4]], dtype=float)
    lps = index_to_lps_mm(volume, points)
    assert lps.shape == (3, 3)
    np.testing.assert_allclose(lps_mm_to_index(volume, lps), points, atol=1e-9)


def test_perpendicular_is_taken_in_millimetres() -> None:
    di, dj = perpendicular_direction_ij(
        (0.0, 0.0), (10.0, 10.0), row_spacing_mm=2.0, column_spacing_mm=1.0
    )
    # long axis in mm is (10, 20); the perpendicular in mm must be orthogonal to it
    assert (di * 1.0) * 10 + (dj * 2.0) * 20 == pytest.approx(0.0)
    assert math.hypot(di * 1.0, dj * 2.0) == pytest.approx(1.0)
    # in pixel units it is not orthogonal: a pixel-space shortcut would be wrong
    assert di * 10 + dj * 10 != pytest.approx(0.0)


def _ellipse_ij(
    semi_long_mm: float,
    semi_short_mm: float,
    angle: float,
    row_spacing_mm: float,
    column_spacing_mm: float,
) -> np.ndarray:
    t = np.linspace(0, 2 * math.pi, 720, endpoint=False)
    x = semi_long_mm * np.cos(t) * math.cos(angle) - semi_short_mm * np.sin(
        t
    ) * math.sin(angle)
    y = semi_long_mm * np.cos(t) * math.sin(angle) + semi_short_mm * np.sin(
        t
    ) * math.cos(angle)
    return np.column_stack([50 + x / column_spacing_mm, 50 + y / row_spacing_mm])


@pytest.mark.parametrize("angle_deg", [0, 25, 60, 90, 135])
def test_axes_of_an_ellipse_on_non_square_pixels(angle_deg: float) -> None:
    outline = _ellipse_ij(20.0, 12.0, math.radians(angle_deg), 0.9, 0.6)
    axes = measure_lesion_axes(outline, row_spacing_mm=0.9, column_spacing_mm=0.6)
    assert axes.long_axis.length_mm == pytest.approx(40.0, abs=0.01)
    assert axes.short_axis.length_mm == pytest.approx(24.0, abs=0.01)
    long_mm = np.subtract(axes.long_axis.end_ij, axes.long_axis.start_ij) * [0.6, 0.9]
    short_mm = np.subtract(axes.short_axis.end_ij, axes.short_axis.start_ij) * [
        0.6,
        0.9,
    ]
    assert float(long_mm @ short_mm) == pytest.approx(0.0, abs=1e-6)


def test_short_axis_of_an_l_shape_is_the_longest_perpendicular_chord() -> None:
    # an L: 0..10 x 0..2 plus 0..2 x 0..6 (mm, square 1 mm pixels)
    outline = np.array([[0, 0], [10, 0], [10, 2], [2, 2], [2, 6], [0, 6]], dtype=float)
    axis = perpendicular_short_axis(
        outline, (0.0, 1.0), (10.0, 1.0), row_spacing_mm=1.0, column_spacing_mm=1.0
    )
    assert axis.length_mm == pytest.approx(6.0)


def test_contour_follows_a_partial_volume_edge() -> None:
    rows, columns = np.mgrid[0:64, 0:64]
    distance = np.hypot(columns - 30.3, rows - 31.7) - 10.0
    image = 100.0 * np.clip(0.5 - distance, 0.0, 1.0)
    outline = lesion_contour_ij(image, level=50.0, seed_ij=(30.0, 32.0))
    radii = np.hypot(outline[:, 0] - 30.3, outline[:, 1] - 31.7)
    np.testing.assert_allclose(radii, 10.0, atol=0.1)  # a tenth of a pixel
    with pytest.raises(ValueError, match="no closed outline"):
        lesion_contour_ij(image, level=50.0, seed_ij=(2.0, 2.0))


def test_slice_normal_and_heights_are_computed_once_and_read_only() -> None:
    tilt = math.radians(20)
    direction = np.array(
        [
            [1.0, 0.0, 0.0],
            [0.0, math.cos(tilt), -math.sin(tilt)],
            [0, math.sin(tilt), math.cos(tilt)],
        ]
    ).T
    origins = np.array([[0.0, 0.0, 0.0], [0.0, 0.5, 2.1], [0.0, 1.0, 4.0]])
    volume = _volume(direction=direction, origins=origins)
    expected = np.cross(direction[:, 0], direction[:, 1])
    np.testing.assert_allclose(volume.slice_normal, expected / np.linalg.norm(expected))
    np.testing.assert_allclose(volume.slice_heights_mm, origins @ volume.slice_normal)
    assert volume.slice_normal is volume.slice_normal  # not recomputed per call
    with pytest.raises(ValueError, match="read-only"):
        volume.slice_heights_mm[0] = 1.0


def test_parallel_row_and_column_directions_are_refused() -> None:
    direction = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]).T
    with pytest.raises(ValueError, match="direction: row and column directions"):
        _volume(direction=direction)
