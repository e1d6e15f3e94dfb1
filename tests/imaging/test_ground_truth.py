"""Generated series of known geometry load with the right mm geometry and sizes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from recist_app.imaging import (
    LESIONS,
    ImageVolume,
    PhantomSeries,
    SeriesGeometry,
    index_to_lps_mm,
    lesion_contour_ij,
    load_volume,
    lps_mm_to_index,
    measure_lesion_axes,
    write_phantom_series,
)
from tests.imaging.conftest import liver_geometry

LIVER_HU = 60.0
LESION_HU = 25.0

# 30 deg about z, then 30 deg about the new row axis: a doubly oblique plane
_ROW = (math.cos(math.pi / 6), math.sin(math.pi / 6), 0.0)
_COLUMN = (
    -math.sin(math.pi / 6) * math.cos(math.pi / 6),
    math.cos(math.pi / 6) * math.cos(math.pi / 6),
    -math.sin(math.pi / 6),
)

CASES = {
    "shuffled-axial": liver_geometry(),
    "descending-z": liver_geometry(descending=True),
    "anisotropic-pixels": liver_geometry(
        rows=56, columns=80, pixel_spacing_mm=(1.1, 0.7), slice_spacing_mm=3.0
    ),
    "oblique": liver_geometry(orientation=(*_ROW, *_COLUMN)),
    "coronal": liver_geometry(orientation=(1, 0, 0, 0, 0, -1), rows=72),
    "gantry-tilt": liver_geometry(gantry_tilt_deg=17.0),
}


@pytest.fixture(scope="module", params=list(CASES), ids=list(CASES))
def case(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[SeriesGeometry, PhantomSeries, ImageVolume]:
    geometry = CASES[request.param]
    folder = tmp_path_factory.mktemp(request.param)
    series = write_phantom_series(
        folder, geometry=geometry, noise_hu=0.0, shuffle=True, lesions=LESIONS[:1]
    )
    return geometry, series, load_volume(Path(folder))


def test_spacing_matches_the_written_geometry(
    case: tuple[SeriesGeometry, PhantomSeries, ImageVolume],
) -> None:
    geometry, _, volume = case
    row_spacing, column_spacing = geometry.pixel_spacing_mm
    plane_distance = geometry.slice_spacing_mm  # table increment
    assert volume.column_spacing_mm == pytest.approx(column_spacing)
    assert volume.row_spacing_mm == pytest.approx(row_spacing)
    assert volume.slice_spacing_mm == pytest.approx(plane_distance, abs=1e-4)
    assert volume.voxels.shape == (
        geometry.slice_count,
        geometry.rows,
        geometry.columns,
    )
    assert volume.voxels.dtype == np.int16


def test_direction_and_origin_match(
    case: tuple[SeriesGeometry, PhantomSeries, ImageVolume],
) -> None:
    geometry, _, volume = case
    np.testing.assert_allclose(
        volume.direction[:, 0], geometry.row_direction, atol=1e-5
    )
    np.testing.assert_allclose(
        volume.direction[:, 1], geometry.column_direction, atol=1e-5
    )
    np.testing.assert_allclose(
        volume.direction[:, 2], geometry.stack_direction, atol=1e-5
    )
    lowest = min(
        _written_origins(geometry), key=lambda origin: float(origin @ geometry.normal)
    )
    np.testing.assert_allclose(volume.origin_lps_mm, lowest, atol=1e-3)
    heights = volume.slice_origins_lps_mm @ volume.slice_normal
    assert np.all(np.diff(heights) > 0), "slices must be sorted along the normal"


def _written_origins(geometry: SeriesGeometry) -> list[np.ndarray]:
    from recist_app.imaging.phantom import slice_origins_lps_mm

    return list(slice_origins_lps_mm(geometry))


def test_lesion_centre_maps_to_its_slice(
    case: tuple[SeriesGeometry, PhantomSeries, ImageVolume],
) -> None:
    _, series, volume = case
    (truth,) = series.lesions
    ijk = lps_mm_to_index(volume, truth.center_lps_mm)
    assert ijk[2] == pytest.approx(truth.slice_index, abs=1e-3)
    assert volume.sop_instance_uids[truth.slice_index] == truth.sop_instance_uid
    np.testing.assert_allclose(
        index_to_lps_mm(volume, ijk), truth.center_lps_mm, atol=1e-3
    )


def test_lesion_axes_match_truth_within_half_a_pixel(
    case: tuple[SeriesGeometry, PhantomSeries, ImageVolume],
) -> None:
    _, series, volume = case
    (truth,) = series.lesions
    i, j, _ = lps_mm_to_index(volume, truth.center_lps_mm)
    image = volume.modality_values(truth.slice_index)
    outline = lesion_contour_ij(image, level=(LIVER_HU + LESION_HU) / 2, seed_ij=(i, j))
    axes = measure_lesion_axes(
        outline,
        row_spacing_mm=volume.row_spacing_mm,
        column_spacing_mm=volume.column_spacing_mm,
    )
    half_pixel = 0.5 * max(volume.row_spacing_mm, volume.column_spacing_mm)
    assert axes.long_axis.length_mm == pytest.approx(truth.long_axis_mm, abs=half_pixel)
    assert axes.short_axis.length_mm == pytest.approx(
        truth.short_axis_mm, abs=half_pixel
    )


def test_hu_values_are_rescaled_on_demand_only(
    case: tuple[SeriesGeometry, PhantomSeries, ImageVolume],
) -> None:
    _, series, volume = case
    (truth,) = series.lesions
    i, j, k = np.rint(lps_mm_to_index(volume, truth.center_lps_mm)).astype(int)
    assert volume.rescale_intercept == -1024.0
    assert int(volume.voxels[k, j, i]) == LESION_HU + 1024
    assert volume.modality_values(k)[j, i] == pytest.approx(LESION_HU)


def test_tilted_volume_warns(tmp_path: Path) -> None:
    geometry = liver_geometry(gantry_tilt_deg=12.0, slice_count=6)
    write_phantom_series(tmp_path, geometry=geometry, noise_hu=0.0, lesions=())
    volume = load_volume(tmp_path)
    assert volume.gantry_tilt_deg == pytest.approx(12.0, abs=0.01)
    assert any("gantry tilt 12.0" in note for note in volume.warnings)


# CT numbers around each demo lesion (phantom anatomy) and of the lesion itself
SURROUNDINGS_HU = {
    "T01": (60.0, 25.0),  # liver
    "T02": (-85.0, 45.0),  # retroperitoneal fat
    "T03": (-850.0, 30.0),  # lung
    "NT01": (-850.0, 30.0),
    "N01": (60.0, 20.0),
}


@pytest.mark.parametrize(
    ("lesion_id", "visit"),
    [
        ("T01", 0),
        ("T02", 0),
        ("T03", 0),
        ("NT01", 0),
        ("N01", 3),
        ("T01", 2),
        ("T02", 2),
    ],
)
def test_every_demo_lesion_measures_as_its_truth(
    tmp_path: Path, lesion_id: str, visit: int
) -> None:
    spec = next(s for s in LESIONS if s.lesion_id == lesion_id)
    geometry = SeriesGeometry(
        rows=96,
        columns=96,
        slice_count=5,
        pixel_spacing_mm=(0.78125, 0.78125),
        slice_spacing_mm=5.0,
        center_lps_mm=spec.center_lps_mm,
    )
    series = write_phantom_series(
        tmp_path, geometry=geometry, visit=visit, noise_hu=0.0, lesions=LESIONS
    )
    truth = next(t for t in series.lesions if t.lesion_id == lesion_id)
    volume = load_volume(tmp_path)
    background, lesion = SURROUNDINGS_HU[lesion_id]
    i, j, _ = lps_mm_to_index(volume, truth.center_lps_mm)
    outline = lesion_contour_ij(
        volume.modality_values(truth.slice_index),
        level=(background + lesion) / 2,
        seed_ij=(i, j),
    )
    axes = measure_lesion_axes(
        outline, row_spacing_mm=0.78125, column_spacing_mm=0.78125
    )
    assert axes.long_axis.length_mm == pytest.approx(truth.long_axis_mm, abs=0.39)
    assert axes.short_axis.length_mm == pytest.approx(truth.short_axis_mm, abs=0.39)
