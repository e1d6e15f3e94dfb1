"""Window/level to 8-bit display values, with the usual CT presets.

Integer slices go through a lookup table indexed by the stored value, so no
float copy of the slice is made and the series' rescale is folded into the table.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from recist_app.imaging.volume import ImageVolume

__all__ = [
    "WINDOW_PRESETS",
    "WindowPreset",
    "apply_window",
    "series_window_presets",
    "window_lookup_table",
    "window_table_parts",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowPreset:
    """A named window in modality units (HU for CT).

    Parameters
    ----------
    name
        Label shown to the reader.
    center
        Window level (centre).
    width
        Window width, > 0.
    """

    name: str
    center: float
    width: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.center) and math.isfinite(self.width)):
            raise ValueError(f"{self.name}: center and width must be finite")
        if self.width <= 0:
            raise ValueError(f"{self.name}: width must be > 0, got {self.width}")


WINDOW_PRESETS: MappingProxyType[str, WindowPreset] = MappingProxyType(
    {
        preset.name: preset
        for preset in (
            WindowPreset(name="soft tissue", center=40.0, width=400.0),
            WindowPreset(name="liver", center=60.0, width=160.0),
            WindowPreset(name="lung", center=-600.0, width=1500.0),
            WindowPreset(name="bone", center=400.0, width=1800.0),
            WindowPreset(name="brain", center=40.0, width=80.0),
            WindowPreset(name="mediastinum", center=50.0, width=350.0),
        )
    }
)
"""Common CT windows (centre/width in HU), keyed by name."""


def series_window_presets(volume: ImageVolume) -> tuple[WindowPreset, ...]:
    """Return the series' own windows (Window Center/Width), first one first."""
    return tuple(
        WindowPreset(name=f"series {number}", center=center, width=width)
        for number, (center, width) in enumerate(
            zip(volume.window_centers, volume.window_widths, strict=True), start=1
        )
        if width > 0
    )


def _window_bounds(center: float, width: float) -> tuple[float, float]:
    """Values at or below the first are black, above the second white."""
    return center - 0.5 - (width - 1) / 2, center - 0.5 + (width - 1) / 2


def _window_uint8(
    values: npt.NDArray[Any], center: float, width: float
) -> npt.NDArray[np.uint8]:
    # DICOM PS3.3 C.11.2.1.2.1 linear VOI function, scaled to 0..255.
    if width <= 1:
        return np.where(values > center - 0.5, 255, 0).astype(np.uint8)
    # ((values - (center - 0.5)) / (width - 1) + 0.5) * 255, rounded and
    # clipped, in place in one array. The standard's two outer pieces (0 at or
    # below the lower bound, 255 above the upper one) need no test of their
    # own: there the linear piece is at most 0 or more than 255 (within
    # rounding far below a half), which the rounding and the clip turn into 0
    # and 255. Four array passes fewer on every window/level drag step (issue
    # 18); tested against the piecewise definition at and around both bounds.
    scaled = values - (center - 0.5)
    scaled /= width - 1
    scaled += 0.5
    scaled *= 255.0
    np.rint(scaled, out=scaled)
    np.maximum(scaled, 0, out=scaled)
    np.minimum(scaled, 255, out=scaled)
    return scaled.astype(np.uint8)


def window_lookup_table(
    dtype: npt.DTypeLike,
    center: float,
    width: float,
    *,
    rescale_slope: float = 1.0,
    rescale_intercept: float = 0.0,
) -> npt.NDArray[np.uint8]:
    """Return the uint8 table for every stored value of an 8/16-bit ``dtype``.

    Index the table with ``stored - dtype_min`` (see :func:`apply_window`).
    """
    return _cached_table(
        np.dtype(dtype).str, center, width, rescale_slope, rescale_intercept
    )


def window_table_parts(
    dtype: npt.DTypeLike,
    center: float,
    width: float,
    *,
    rescale_slope: float = 1.0,
    rescale_intercept: float = 0.0,
) -> tuple[int, int, npt.NDArray[np.uint8]]:
    """The parts of :func:`window_lookup_table` that depend on the window.

    Returns ``(first, last, values)``: entries before ``first`` are 0, entries
    from ``last`` on are 255, and ``values`` are entries ``first:last``
    (a 400 HU window: about 400 of 65,536 entries, so that a new window while
    dragging costs microseconds; the whole table when the slope is negative or
    the window a threshold).
    """
    minimum, size = _integer_range(np.dtype(dtype).str)
    slope, intercept = rescale_slope, rescale_intercept
    if slope > 0 and width > 1:
        # only the stored values whose modality value lies within the window
        # (and a margin of 2) are computed, the same formula as everywhere
        lower, upper = _window_bounds(center, width)
        first = max(0, math.floor((lower - intercept) / slope) - minimum - 2)
        last = math.ceil((upper - intercept) / slope) - minimum + 3
        first, last = min(first, size), max(0, min(last, size))
        last = max(first, last)
    else:
        first, last = 0, size
    stored = np.arange(first + minimum, last + minimum, 1.0)
    stored *= slope
    stored += intercept
    return first, last, _window_uint8(stored, center, width)


@functools.lru_cache(maxsize=16)
def _integer_range(dtype: str) -> tuple[int, int]:
    """The smallest value of an integer type and the number of its values."""
    info = np.iinfo(np.dtype(dtype))
    return int(info.min), int(info.max) - int(info.min) + 1


@functools.lru_cache(maxsize=32)
def _cached_table(
    dtype: str, center: float, width: float, slope: float, intercept: float
) -> npt.NDArray[np.uint8]:
    first, last, values = window_table_parts(
        dtype, center, width, rescale_slope=slope, rescale_intercept=intercept
    )
    table = np.zeros(_integer_range(dtype)[1], dtype=np.uint8)
    table[first:last] = values
    table[last:] = 255
    table.setflags(write=False)  # shared between callers through the cache
    return table


def apply_window(
    pixels: npt.NDArray[Any],
    center: float,
    width: float,
    *,
    rescale_slope: float = 1.0,
    rescale_intercept: float = 0.0,
) -> npt.NDArray[np.uint8]:
    """Map stored pixel values to 0..255 for display.

    Parameters
    ----------
    pixels
        Stored values (any shape); 8/16-bit integers use a lookup table.
    center, width
        Window in modality units (HU for CT).
    rescale_slope, rescale_intercept
        The modality transform of ``pixels`` (e.g. ``volume.rescale_slope``).

    Returns
    -------
    numpy.ndarray
        ``uint8`` image of the same shape.

    Examples
    --------
    >>> import numpy as np
    >>> apply_window(np.array([-1024, 0, 1024], dtype=np.int16), 0.0, 400.0)
    array([  0, 128, 255], dtype=uint8)
    """
    if not (math.isfinite(center) and math.isfinite(width) and width > 0):
        raise ValueError(f"window: invalid centre {center} / width {width}")
    dtype = pixels.dtype
    if dtype.kind in "iu" and dtype.itemsize <= 2:
        table = window_lookup_table(
            dtype,
            center,
            width,
            rescale_slope=rescale_slope,
            rescale_intercept=rescale_intercept,
        )
        minimum = _integer_range(dtype.str)[0]
        if minimum == 0:
            return np.asarray(table[pixels], dtype=np.uint8)
        unsigned = np.dtype(f"u{dtype.itemsize}")
        # Flipping the sign bit maps [min, max] onto [0, 2**bits - 1] in place of
        # a widening subtraction.
        index = pixels.view(unsigned) ^ unsigned.type(-minimum)
        return np.asarray(table[index], dtype=np.uint8)
    values = np.asarray(pixels, dtype=np.float64) * rescale_slope + rescale_intercept
    return _window_uint8(values, center, width)
