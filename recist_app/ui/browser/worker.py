"""One background thread that runs jobs in order, so the GUI thread never waits.

Jobs are plain callables; they report back through Qt signals, which Qt queues to
the receiver's (GUI) thread. Cancellation is the job's business (a
:class:`~recist_app.imaging.CancelToken` it checks); :meth:`SerialWorker.shutdown`
waits for the running job to end, so nothing reports to a deleted widget.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

__all__ = ["SerialWorker"]

Job = Callable[[], None]


class SerialWorker:
    """Runs submitted jobs one after the other on a daemon thread.

    Parameters
    ----------
    name
        The thread's name (shown by debuggers and in crash reports).
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, job: Job) -> None:
        """Queue ``job``; it runs after every job submitted before it."""
        with self._lock:
            if self._closed:
                return
            self._jobs.put(job)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=self._name, daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            job()

    def shutdown(self, *, timeout_s: float = 10.0) -> None:
        """Run no further job; wait up to ``timeout_s`` for the running one."""
        with self._lock:
            self._closed = True
            thread = self._thread
            while True:  # drop queued jobs, they would only report to nobody
                try:
                    self._jobs.get_nowait()
                except queue.Empty:
                    break
            self._jobs.put(None)
        if thread is not None:
            thread.join(timeout_s)
