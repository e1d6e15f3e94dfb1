"""The viewer's display lookup table against the window formula (issue 18)."""

from __future__ import annotations

import dataclasses
import random
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PySide6.QtGui import QImage

from recist_app.imaging import windowing
from recist_app.ui.viewer.slice_view import SliceView, _rgb32_table
from tests.ui.conftest import BASELINE_SERIES, disc_volume

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot


def test_display_table_looked_up_clipped_is_the_window_formula() -> None:
    """The viewer's 32-bit table: ``stored - origin``, clipped, is the formula.

    The table holds black, the window's own entries and white; every stored
    value of the type, below, inside and above the window, must look up the
    grey of the window formula.
    """
    rng = random.Random(23)
    cases = [
        ("<i2", 40.0, 400.0, 1.0, -1024.0),
        ("<u2", 40.0, 400.0, 1.0, -1024.0),
        ("<i2", -40000.0, 100.0, 1.0, 0.0),
        ("<i2", 40000.0, 100.0, 1.0, 0.0),
        ("<i2", 0.0, 100.0, 1.0, 0.0),  # the window straddles stored 0: wraps
        ("<i1", 0.0, 30.0, 1.0, 0.0),
        ("<i2", 40.0, 400.0, -1.0, 0.0),
    ]
    cases += [
        (
            rng.choice(["<i2", "<u2", "<u1", "<i1"]),
            rng.uniform(-3000, 3000),
            rng.uniform(0.5, 5000),
            rng.choice([1.0, 0.5, 2.5, 0.1, -1.0]),
            rng.uniform(-3000, 1000),
        )
        for _ in range(200)
    ]
    for dtype, center, width, slope, intercept in cases:
        origin, table = _rgb32_table(dtype, center, width, slope, intercept)
        info = np.iinfo(np.dtype(dtype))
        stored = np.arange(info.min, info.max + 1).astype(dtype)
        grey = windowing._window_uint8(
            stored.astype(np.float64) * slope + intercept, center, width
        ).astype(np.uint32)
        expected = 0xFF000000 | grey * 0x010101
        index = np.clip(stored.astype(np.int64) - origin, 0, table.size - 1)
        assert np.array_equal(table[index], expected), (dtype, center, width, slope)
    # a soft-tissue window of a CT holds its own entries only, not the type's
    assert _rgb32_table("<i2", 40.0, 400.0, 1.0, -1024.0)[1].size < 420


def _image_pixels(image: QImage) -> np.ndarray:
    bits = np.frombuffer(image.constBits(), np.uint32)
    return bits.reshape(image.height(), image.bytesPerLine() // 4)[
        :, : image.width()
    ].copy()


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.uint8, np.int8])
def test_view_pixels_are_the_window_formula_step_after_step(
    qtbot: QtBot, dtype: type[np.integer]
) -> None:
    """The slice the view shows is the formula on the block it shows, every step.

    Zoomed and panned, scrolled and windowed step after step (the index and
    pixel buffers are reused between steps), with the full range of the type
    in the slices: below, inside and above every window.
    """
    info = np.iinfo(dtype)
    rng = np.random.default_rng(18)
    base = disc_volume(BASELINE_SERIES, radius_mm=12.0)
    voxels = rng.integers(
        info.min, int(info.max) + 1, size=base.voxels.shape, dtype=dtype
    )
    volume = dataclasses.replace(base, voxels=voxels, rescale_intercept=-24.0)
    view = SliceView()
    qtbot.addWidget(view)
    view.resize(300, 260)
    view.set_volume(volume)
    view.show()
    qtbot.waitExposed(view)
    view.zoom_by(2.0)
    view.pan_by(17.0, -9.0)
    shown: list[tuple[QImage, np.ndarray]] = []
    for step in range(12):
        center, width = -60.0 + 23.0 * step, 5.0 + 70.0 * (step % 4)
        view.set_slice_index(step % volume.slice_count)
        view.set_window(center, width)
        rendered = view._slice_image()
        assert rendered is not None
        image, (i0, i1, j0, j1) = rendered
        stored = voxels[step % volume.slice_count, j0:j1, i0:i1]
        grey = windowing._window_uint8(
            stored.astype(np.float64) - 24.0, center, width
        ).astype(np.uint32)
        expected = 0xFF000000 | grey * 0x010101
        assert 0 < i1 - i0 < volume.columns
        assert 0 < j1 - j0 < volume.rows
        assert np.array_equal(_image_pixels(image), expected), step
        shown.append((image, expected))
    # the image shown before the last one keeps its pixels (two buffers)
    previous_image, previous_expected = shown[-2]
    assert np.array_equal(_image_pixels(previous_image), previous_expected)
