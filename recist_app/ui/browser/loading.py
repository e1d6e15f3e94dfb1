"""Background loading of the series a reading shows, middle slice first.

:class:`VolumeLoader` reads series from the files the database indexed (no
rescanning) on one worker thread. As soon as a series' middle slice is read it
hands over the volume being filled (``preview``), reports how far loading got
(``progress``) and finally the finished volume (``loaded``). Asking for other
series (another patient or visit order) cancels what is still loading.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from recist_app.imaging import CancelToken, LoadCancelledError, load_volume
from recist_app.ui.browser.worker import SerialWorker
from recist_app.ui.error_dialog import describe_error

if TYPE_CHECKING:
    from collections.abc import Sequence

    from recist_app.store import Store

__all__ = ["VolumeLoader"]

_PROGRESS_INTERVAL_S = 0.04


class VolumeLoader(QObject):
    """Loads series by Series Instance UID in a worker thread.

    Only the reports of the latest :meth:`load` request reach the public
    signals; reports of a cancelled request still in flight are dropped.

    Signals
    -------
    preview(str, ImageVolume)
        The series' volume with its middle slice read; its voxels fill in.
    progress(str, int, int)
        ``(series_uid, slices_done, slices_total)``, at most every 40 ms and at
        the end.
    loaded(str, ImageVolume)
        The finished volume (same voxels as the preview).
    failed(str, str)
        The series cannot be loaded; the message is one line.
    """

    preview = Signal(str, object)
    progress = Signal(str, int, int)
    loaded = Signal(str, object)
    failed = Signal(str, str)

    # Reports from the worker thread carry their request number; Qt queues them
    # to this object's (GUI) thread, where stale ones are dropped.
    _report = Signal(int, str, str, object)

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._worker = SerialWorker("volume-loader")
        self._request = 0
        self._token = CancelToken()
        self._pending: set[str] = set()
        self._report.connect(self._deliver)

    @property
    def pending(self) -> frozenset[str]:
        """Series of the latest request not finished (loaded or failed) yet."""
        return frozenset(self._pending)

    def load(self, series_uids: Sequence[str]) -> None:
        """Cancel what is loading and load ``series_uids`` in this order."""
        self.cancel()
        self._request += 1
        self._token = CancelToken()
        self._pending = set(series_uids)
        for series_uid in dict.fromkeys(series_uids):
            self._worker.submit(
                functools.partial(
                    self._load_one, self._request, series_uid, self._token
                )
            )

    def cancel(self) -> None:
        """Stop loading; nothing more is reported for the current request."""
        self._token.cancel()
        self._request += 1
        self._pending.clear()

    def shutdown(self) -> None:
        """Cancel and wait for the worker thread (the window is closing)."""
        self.cancel()
        self._worker.shutdown()

    # ------------------------------------------------------------ worker thread
    def _load_one(self, request: int, series_uid: str, token: CancelToken) -> None:
        if token.cancelled:
            return
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done == total or now - last[0] >= _PROGRESS_INTERVAL_S:
                last[0] = now
                self._report.emit(request, series_uid, "progress", (done, total))

        try:
            paths = self._store.images.series_files(series_uid)
            volume = load_volume(
                paths,
                progress=progress,
                cancel=token,
                on_preview=lambda preview: self._report.emit(
                    request, series_uid, "preview", preview
                ),
            )
        except LoadCancelledError:
            return
        except Exception as error:
            message = f"series {series_uid}: {describe_error(error)}"
            self._report.emit(request, series_uid, "failed", message)
            return
        self._report.emit(request, series_uid, "loaded", volume)

    # ------------------------------------------------------------ GUI thread
    def _deliver(self, request: int, series_uid: str, kind: str, value: object) -> None:
        if request != self._request:
            return
        if kind == "preview":
            self.preview.emit(series_uid, value)
        elif kind == "progress":
            assert isinstance(value, tuple)
            self.progress.emit(series_uid, int(value[0]), int(value[1]))
        elif kind == "loaded":
            self._pending.discard(series_uid)
            self.loaded.emit(series_uid, value)
        else:
            self._pending.discard(series_uid)
            self.failed.emit(series_uid, str(value))
