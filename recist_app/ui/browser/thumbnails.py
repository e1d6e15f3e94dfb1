"""Series thumbnails for the patient list, computed off the GUI thread.

Only the middle file of a series is read
(:func:`recist_app.workflows.images.series_thumbnail`; its location comes from the
database, nothing is rescanned). Thumbnails are kept for the session, so a patient
list refreshed or reopened shows them at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPixmap

from recist_app.imaging import THUMBNAIL_SIZE_PX
from recist_app.ui.background import TaskRunner
from recist_app.workflows.images import series_thumbnail

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from recist_app.workflows.database import Store

__all__ = ["THUMBNAIL_SIZE_PX", "ThumbnailCache"]


def _to_pixmap(pixels: npt.NDArray[np.uint8]) -> QPixmap:
    height, width = pixels.shape
    image = QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8)
    return QPixmap.fromImage(image.copy())


class ThumbnailCache(QObject):
    """Thumbnails by Series Instance UID, computed in the background.

    A series whose middle image cannot be read gets no thumbnail: that is not an
    error the reader must act on (opening the series says why it cannot be read).

    Signals
    -------
    ready(str)
        The thumbnail of this series is in the cache (:meth:`pixmap`).
    """

    ready = Signal(str)

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._pixmaps: dict[str, QPixmap] = {}
        self._pending: set[str] = set()
        self._runner = TaskRunner("thumbnails", self)

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
        self._runner.submit(
            lambda _context: series_thumbnail(self._store, series_uid),
            done=lambda pixels: self._arrived(series_uid, pixels),
            failed=lambda _message: self._pending.discard(series_uid),
            name=f"thumbnail of series {series_uid}",
        )

    def shutdown(self) -> None:
        """Stop computing (the window is closing)."""
        self._runner.shutdown()

    def _arrived(self, series_uid: str, pixels: npt.NDArray[np.uint8]) -> None:
        self._pending.discard(series_uid)
        self._pixmaps[series_uid] = _to_pixmap(pixels)
        self.ready.emit(series_uid)
