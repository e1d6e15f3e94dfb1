"""Series thumbnails: the middle image, windowed and shrunk off the GUI thread.

Only the middle file of a series is read (its location comes from the database,
nothing is rescanned). Thumbnails are kept for the session, so a patient list
refreshed or reopened shows them at once.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPixmap

from recist_app.imaging import (
    WINDOW_PRESETS,
    apply_window,
    read_file_frames,
    read_slice_header,
)
from recist_app.ui.browser.worker import SerialWorker

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import numpy.typing as npt

    from recist_app.store import Store

__all__ = ["THUMBNAIL_SIZE_PX", "ThumbnailCache", "thumbnail_pixels"]

THUMBNAIL_SIZE_PX = 64
"""Longest side of a thumbnail."""


def thumbnail_pixels(
    paths: Sequence[Path], size_px: int = THUMBNAIL_SIZE_PX
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
    recist_app.imaging.ImagingError
        The middle file cannot be read.
    ValueError
        ``paths`` is empty.
    """
    if not paths:
        raise ValueError("a series without files has no thumbnail")
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


def _to_pixmap(pixels: npt.NDArray[np.uint8]) -> QPixmap:
    height, width = pixels.shape
    image = QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8)
    return QPixmap.fromImage(image.copy())


class ThumbnailCache(QObject):
    """Thumbnails by Series Instance UID, computed in a worker thread.

    Signals
    -------
    ready(str)
        The thumbnail of this series is in the cache (:meth:`pixmap`).
    """

    ready = Signal(str)
    _computed = Signal(str, object)

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._pixmaps: dict[str, QPixmap] = {}
        self._pending: set[str] = set()
        self._worker = SerialWorker("thumbnails")
        self._computed.connect(self._arrived)

    def pixmap(self, series_uid: str) -> QPixmap | None:
        """The cached thumbnail, or ``None`` (not computed yet, or unreadable)."""
        return self._pixmaps.get(series_uid)

    @property
    def pending(self) -> frozenset[str]:
        """Series whose thumbnail is being computed."""
        return frozenset(self._pending)

    def request(self, series_uid: str) -> None:
        """Compute the thumbnail unless it is cached or on its way."""
        if series_uid in self._pixmaps or series_uid in self._pending:
            return
        self._pending.add(series_uid)
        self._worker.submit(lambda: self._compute(series_uid))

    def shutdown(self) -> None:
        """Stop computing (the window is closing)."""
        self._worker.shutdown()

    def _compute(self, series_uid: str) -> None:
        try:
            pixels = thumbnail_pixels(self._store.images.series_files(series_uid))
        except Exception:
            # No thumbnail is not an error the reader must act on; opening the
            # series reports why it cannot be read.
            self._computed.emit(series_uid, None)
            return
        self._computed.emit(series_uid, pixels)

    def _arrived(self, series_uid: str, pixels: object) -> None:
        self._pending.discard(series_uid)
        if isinstance(pixels, np.ndarray):
            self._pixmaps[series_uid] = _to_pixmap(pixels)
            self.ready.emit(series_uid)
