"""Window/level to 8 bits: the lookup path equals the DICOM formula."""

from __future__ import annotations

import numpy as np
import pytest

from recist_app.imaging import (
    WINDOW_PRESETS,
    PhantomSeries,
    WindowPreset,
    apply_window,
    load_volume,
    series_window_presets,
    windowing,
)


def _reference(values: np.ndarray, center: float, width: float) -> np.ndarray:
    # DICOM PS3.3 C.11.2.1.2.1, scaled to 0..255
    out = ((values - (center - 0.5)) / (width - 1) + 0.5) * 255
    out = np.where(values <= center - 0.5 - (width - 1) / 2, 0, out)
    out = np.where(values > center - 0.5 + (width - 1) / 2, 255, out)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.uint8, np.int32, np.float32])
@pytest.mark.parametrize("name", list(WINDOW_PRESETS))
def test_every_dtype_and_preset_matches_the_formula(dtype: type, name: str) -> None:
    preset = WINDOW_PRESETS[name]
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    low, high = (info.min, info.max) if info else (-3000, 3000)
    stored: np.ndarray = np.linspace(max(low, -3000), min(high, 4000), 5000).astype(
        dtype
    )
    slope, intercept = 1.0, (-1024.0 if dtype in (np.uint16, np.uint8) else 0.0)
    shown = apply_window(
        stored,
        preset.center,
        preset.width,
        rescale_slope=slope,
        rescale_intercept=intercept,
    )
    expected = _reference(
        stored.astype(np.float64) + intercept, preset.center, preset.width
    )
    assert shown.dtype == np.uint8
    np.testing.assert_array_equal(shown, expected)


def test_presets_cover_the_reading_windows() -> None:
    assert set(WINDOW_PRESETS) == {
        "soft tissue",
        "liver",
        "lung",
        "bone",
        "brain",
        "mediastinum",
    }
    assert WINDOW_PRESETS["lung"].center < 0 < WINDOW_PRESETS["bone"].center


def test_slope_is_folded_into_the_table() -> None:
    stored = np.array([0, 100, 200], dtype=np.int16)
    shown = apply_window(
        stored, 100.0, 200.0, rescale_slope=2.0, rescale_intercept=-100.0
    )
    np.testing.assert_array_equal(shown, _reference(stored * 2.0 - 100.0, 100.0, 200.0))


def test_invalid_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="width"):
        WindowPreset(name="bad", center=0.0, width=0.0)
    with pytest.raises(ValueError, match="invalid"):
        apply_window(np.zeros(3, dtype=np.int16), 0.0, -5.0)


def test_series_defaults_come_from_the_headers(axial_series: PhantomSeries) -> None:
    volume = load_volume(axial_series.folder)
    presets = series_window_presets(volume)
    assert [(p.center, p.width) for p in presets] == [(40.0, 400.0), (-600.0, 1500.0)]
    shown = apply_window(
        volume.voxels[10],
        presets[0].center,
        presets[0].width,
        rescale_slope=volume.rescale_slope,
        rescale_intercept=volume.rescale_intercept,
    )
    assert shown.shape == (64, 64)
    assert shown.dtype == np.uint8


def test_the_lookup_table_computes_only_the_window_yet_equals_the_formula() -> None:
    # issue 18's bench_view: a new window (a W/L drag) built the whole 65,536
    # entry table, a millisecond a step; only the window's stored values are
    # computed now, and every entry must stay what the formula gives
    import random

    from recist_app.imaging import windowing

    rng = random.Random(18)
    cases: list[tuple[str, float, float, float, float]] = [
        ("<i2", 40.0, 400.0, 1.0, -1024.0),
        ("<u2", 40.0, 400.0, 1.0, -1024.0),
        ("<i2", -40000.0, 100.0, 1.0, 0.0),  # below every stored value
        ("<i2", 40000.0, 100.0, 1.0, 0.0),  # above every stored value
        ("<u1", 127.0, 10.0, 1.0, 0.0),
        ("<i2", 40.0, 1.0, 1.0, 0.0),  # width 1: a threshold
        ("<i2", 40.0, 400.0, -1.0, 0.0),  # negative slope: the whole table
    ]
    for _ in range(300):
        cases.append(
            (
                rng.choice(["<i2", "<u2", "<u1", "<i1"]),
                rng.uniform(-70000, 70000)
                if rng.random() < 0.2
                else rng.uniform(-3000, 3000),
                rng.uniform(0.5, 5000),
                rng.choice([1.0, 0.5, 2.5, 0.1, 1.7, 0.001, 1000.0]),
                rng.uniform(-3000, 1000),
            )
        )
    for dtype, center, width, slope, intercept in cases:
        table = windowing.window_lookup_table(
            np.dtype(dtype),
            center,
            width,
            rescale_slope=slope,
            rescale_intercept=intercept,
        )
        info = np.iinfo(np.dtype(dtype))
        stored = np.arange(info.min, info.max + 1, dtype=np.float64)
        expected = windowing._window_uint8(stored * slope + intercept, center, width)
        assert np.array_equal(table, expected), (dtype, center, width, slope, intercept)


def test_linear_piece_alone_equals_the_piecewise_formula_at_the_bounds() -> None:
    """``_window_uint8`` drops the outer pieces' tests: never a different value.

    At, one ulp around and just beyond both bounds of random windows (and at
    infinities and far values), the rounded and clipped linear piece must give
    what the standard's three pieces give.
    """
    rng = np.random.default_rng(18)
    checked = 0
    for _ in range(3000):
        center = float(rng.uniform(-5000, 5000))
        width = float(rng.choice([rng.uniform(1.0001, 3.0), rng.uniform(1, 8000)]))
        lower = center - 0.5 - (width - 1) / 2
        upper = center - 0.5 + (width - 1) / 2
        edges = np.array([lower, upper, center - 0.5, center])
        values = np.concatenate(
            [
                edges,
                np.nextafter(edges, np.inf),
                np.nextafter(edges, -np.inf),
                edges + rng.uniform(-1e-9, 1e-9, 4),
                rng.uniform(lower - 3, upper + 3, 40),
                [np.inf, -np.inf, 1e300, -1e300],
            ]
        )
        got = windowing._window_uint8(values, center, width)
        np.testing.assert_array_equal(got, _reference(values, center, width))
        checked += values.size
    assert checked > 100_000
