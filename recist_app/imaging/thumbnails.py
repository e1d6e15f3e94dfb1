"""Series thumbnails: the middle image of a series, windowed and shrunk.

Only the middle file is read, so a patient list shows a series at a glance without
loading it. No Qt: the workstation wraps the pixels in a ``QPixmap``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from recist_app.imaging.errors import SeriesError
from recist_app.imaging.headers import read_slice_header
from recist_app.imaging.loader import read_file_frames
from recist_app.imaging.windowing import WINDOW_PRESETS, apply_window

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    import numpy.typing as npt

__all__ = ["THUMBNAIL_SIZE_PX", "thumbnail_pixels"]

THUMBNAIL_SIZE_PX = 64
"""Longest side of a thumbnail."""


def thumbnail_pixels(
    paths: Sequence[str | os.PathLike[str]], size_px: int = THUMBNAIL_SIZE_PX
) -> npt.NDArray[np.uint8]:
    """The middle image of a series as a small 8-bit picture.

    CT uses the series' own window (else soft tissue); other modalities are
    windowed between their 1st and 99th percentile.

    Parameters
    ----------
    paths
        The series' files in volume order (one multi-frame file is fine).
    size_px
        Longest side of the result; the image is shrunk by a whole factor.

    Raises
    ------
    SliceReadError
        The middle file cannot be read.
    SeriesError
        ``paths`` is empty.
    """
    if not paths:
        raise SeriesError("a series without files has no thumbnail")
    middle_path = paths[len(paths) // 2]
    header = read_slice_header(middle_path)
    frames = read_file_frames(middle_path)
    pixels: npt.NDArray[Any] = frames[len(frames) // 2]
    step = max(1, math.ceil(max(pixels.shape) / size_px))
    small = np.ascontiguousarray(pixels[::step, ::step])
    slope, intercept = header.rescale_slope, header.rescale_intercept
    if header.modality == "CT":
        windows = [
            (c, w)
            for c, w in zip(header.window_centers, header.window_widths, strict=False)
            if w > 0
        ]
        soft = WINDOW_PRESETS["soft tissue"]
        center, width = windows[0] if windows else (soft.center, soft.width)
    else:
        values = small.astype(np.float64) * slope + intercept
        low, high = np.percentile(values, [1.0, 99.0])
        center, width = (low + high) / 2, max(float(high - low), 1.0)
    return apply_window(
        small,
        float(center),
        float(width),
        rescale_slope=slope,
        rescale_intercept=intercept,
    )
