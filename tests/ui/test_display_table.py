"""The viewer's display lookup table against the window formula (issue 18)."""

from __future__ import annotations

import random

import numpy as np

from recist_app.imaging import windowing
from recist_app.ui.viewer.slice_view import _rgb32_table, _table_index


def test_display_table_is_the_window_formula_rotated_for_signed_types() -> None:
    """The viewer's 32-bit table: entry ``u`` is the formula at stored ``u``.

    ``u`` is the stored value viewed as unsigned; the table is written region by
    region (black, the window's entries, white) straight into that order.
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
        table = _rgb32_table(dtype, center, width, slope, intercept)
        info = np.iinfo(np.dtype(dtype))
        stored = np.arange(info.min, info.max + 1).astype(dtype)
        grey = windowing._window_uint8(
            stored.astype(np.float64) * slope + intercept, center, width
        ).astype(np.uint32)
        expected = 0xFF000000 | grey * 0x010101
        looked_up = table[_table_index(stored)]
        assert np.array_equal(looked_up, expected), (dtype, center, width, slope)
