"""Small generated phantom series shared by the imaging tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from recist_app.imaging import (
    LESIONS,
    PhantomSeries,
    SeriesGeometry,
    write_phantom_series,
)

LIVER_CENTRE = (-70.0, 10.0, -60.0)


def liver_geometry(**changes: object) -> SeriesGeometry:
    """A small series centred on the liver lesion T01 (42 x 30 mm at baseline)."""
    settings: dict[str, object] = {
        "rows": 64,
        "columns": 64,
        "slice_count": 20,
        "pixel_spacing_mm": (1.0, 1.0),
        "slice_spacing_mm": 2.5,
        "center_lps_mm": LIVER_CENTRE,
    }
    settings.update(changes)
    return SeriesGeometry(**settings)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def axial_series(tmp_path_factory: pytest.TempPathFactory) -> PhantomSeries:
    """A shuffled 64x64x20 axial series of the liver lesion, no noise."""
    folder = tmp_path_factory.mktemp("axial")
    return write_phantom_series(
        folder,
        geometry=liver_geometry(),
        noise_hu=0.0,
        shuffle=True,
        lesions=LESIONS[:1],
    )


@pytest.fixture(scope="session")
def noisy_series(tmp_path_factory: pytest.TempPathFactory) -> PhantomSeries:
    """A 64x64x20 series with noise, for transfer-syntax round trips."""
    folder = tmp_path_factory.mktemp("noisy")
    return write_phantom_series(
        folder, geometry=liver_geometry(), noise_hu=12.0, seed=3
    )


def copy_series(series: PhantomSeries, target: Path) -> list[Path]:
    """Copy a series' files into ``target``; return the new paths."""
    target.mkdir(parents=True, exist_ok=True)
    copies = []
    for name in series.paths:
        destination = target / Path(name).name
        destination.write_bytes(Path(name).read_bytes())
        copies.append(destination)
    return copies
