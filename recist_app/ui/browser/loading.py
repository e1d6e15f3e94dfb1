"""Background loading of the series a reading shows, middle slice first.

:class:`VolumeLoader` reads series from the files the database indexed (no
rescanning, :func:`recist_app.workflows.images.load_series`) on its task runner.
As soon as a series' middle slice is read it hands over the volume being filled
(``preview``), reports how far loading got (``progress``) and finally the
finished volume (``loaded``). Asking for other series (another patient or visit
order) cancels what is still loading.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from recist_app.ui.background import TaskRunner
from recist_app.workflows.images import load_series

if TYPE_CHECKING:
    from collections.abc import Sequence

    from recist_app.imaging import ImageVolume
    from recist_app.ui.background import Task, TaskContext
    from recist_app.workflows.database import Store

__all__ = ["VolumeLoader"]

_PROGRESS_INTERVAL_S = 0.04


class VolumeLoader(QObject):
    """Loads series by Series Instance UID in the background.

    Only the reports of the latest :meth:`load` request reach the public
    signals; a cancelled request reports nothing more.

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

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._runner = TaskRunner("volume-loader", self)
        self._tasks: list[Task[ImageVolume]] = []
        self._pending: set[str] = set()

    @property
    def pending(self) -> frozenset[str]:
        """Series of the latest request not finished (loaded or failed) yet."""
        return frozenset(self._pending)

    def load(self, series_uids: Sequence[str]) -> None:
        """Cancel what is loading and load ``series_uids`` in this order."""
        self.cancel()
        self._pending = set(series_uids)
        self._tasks = [
            self._submit(series_uid) for series_uid in dict.fromkeys(series_uids)
        ]

    def _submit(self, series_uid: str) -> Task[ImageVolume]:
        def job(context: TaskContext) -> ImageVolume:
            return self._load_one(context, series_uid)

        def done(volume: ImageVolume) -> None:
            self._loaded(series_uid, volume)

        def failed(message: str) -> None:
            self._failed(series_uid, message)

        def progress(report: Any) -> None:
            self._report(series_uid, report)

        return self._runner.submit(
            job,
            done=done,
            failed=failed,
            progress=progress,
            name=f"loading series {series_uid}",
        )

    def cancel(self) -> None:
        """Stop loading; nothing more is reported for the current request."""
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        self._pending.clear()

    def shutdown(self) -> None:
        """Cancel and wait for the loading thread (the window is closing)."""
        self.cancel()
        self._runner.shutdown()

    # ------------------------------------------------------------ worker thread
    def _load_one(self, context: TaskContext, series_uid: str) -> ImageVolume:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done == total or now - last[0] >= _PROGRESS_INTERVAL_S:
                last[0] = now
                context.progress(("progress", (done, total)))

        return load_series(
            self._store,
            series_uid,
            progress=progress,
            cancel=context.token,
            on_preview=lambda volume: context.progress(("preview", volume)),
        )

    # ------------------------------------------------------------ GUI thread
    def _report(self, series_uid: str, report: Any) -> None:
        kind, value = report
        if kind == "preview":
            self.preview.emit(series_uid, value)
        else:
            self.progress.emit(series_uid, int(value[0]), int(value[1]))

    def _loaded(self, series_uid: str, volume: ImageVolume) -> None:
        self._pending.discard(series_uid)
        self.loaded.emit(series_uid, volume)

    def _failed(self, series_uid: str, message: str) -> None:
        self._pending.discard(series_uid)
        self.failed.emit(series_uid, f"series {series_uid}: {message}")
