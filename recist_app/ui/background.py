"""The one way the workstation works in the background.

A :class:`TaskRunner` owns one worker thread and runs the jobs submitted to it in
order, so the GUI thread never waits on the disk or the database. A job is a plain
callable given a :class:`TaskContext` (progress reports, a cancel token to pass on
to imaging and workflows); its outcome comes back on the GUI thread, through the
callbacks given to :meth:`TaskRunner.submit`: ``done(result)``, ``failed(message)``
or ``cancelled()``, and ``progress(value)`` while it runs.

Every job runs inside :func:`background_error_boundary`, the one boundary for
background work: a project error becomes its one-line message, a bug becomes one
line too (its traceback goes to stderr for the report), and nothing escapes to kill
the thread or the app. Loading series, thumbnails, DICOM import, exports, the trial
endpoints, the demo set-up and autosave all run this way.
"""

from __future__ import annotations

import queue
import sys
import threading
import traceback
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Signal

from recist_app.imaging import CancelToken, LoadCancelledError
from recist_app.ui.errors import TaskFailedError
from recist_app.workflows.errors import describe_error, is_project_error

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = [
    "Task",
    "TaskContext",
    "TaskRunner",
    "background_error_boundary",
    "live_runners",
    "shutdown_all_runners",
    "shutdown_runners_of",
]

T = TypeVar("T")

_LIVE_RUNNERS: weakref.WeakSet[TaskRunner] = weakref.WeakSet()
"""Every runner not shut down yet: quitting shuts them all down first."""


def live_runners() -> tuple[TaskRunner, ...]:
    """The runners that have not been shut down (for the quit path and tests)."""
    return tuple(_LIVE_RUNNERS)


def shutdown_all_runners(*, timeout_s: float = 10.0) -> None:
    """Shut down every runner still alive, before their QObjects and Python go.

    The quit path calls this (``QCoreApplication.aboutToQuit`` and the main
    window's close): no worker thread may outlive the object it reports to, nor
    run Python while the interpreter finalizes.
    """
    for runner in tuple(_LIVE_RUNNERS):
        runner.shutdown(timeout_s=timeout_s)


def shutdown_runners_of(owner: QObject, *, timeout_s: float = 10.0) -> int:
    """Shut down the runners ``owner`` owns (itself or any descendant); how many.

    A window calls this as it closes, so no runner of its panels, dialogs or
    importers outlives it (Qt deletes children with their parent).
    """
    count = 0
    for runner in tuple(_LIVE_RUNNERS):
        if not shiboken6.isValid(runner):  # its owner is gone: just stop it
            runner.shutdown(timeout_s=timeout_s)
            continue
        parent = runner.parent()
        while parent is not None and parent is not owner:
            parent = parent.parent()
        if parent is owner:
            runner.shutdown(timeout_s=timeout_s)
            count += 1
    return count


@contextmanager
def background_error_boundary(what: str) -> Iterator[None]:
    """Turn any failure of a background job into a :class:`TaskFailedError`.

    A project error keeps its own one-line message; a bug becomes
    ``"<what>: internal error: ..."`` and its traceback is written to stderr.
    Cancellation (:class:`~recist_app.imaging.LoadCancelledError`) passes through.
    ``BaseException`` subclasses that are not exits (a native decoder's panic, say)
    are failures too: a background job must never take the app down.
    """
    try:
        yield
    except (LoadCancelledError, TaskFailedError):
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:
        if isinstance(error, Exception) and is_project_error(error):
            raise TaskFailedError(describe_error(error)) from error
        traceback.print_exception(error, file=sys.stderr)
        raise TaskFailedError(
            f"{what}: internal error: {type(error).__name__}: {describe_error(error)}"
        ) from error


@dataclass(eq=False)
class TaskContext:
    """What a running job may use: report progress, see whether it is cancelled."""

    token: CancelToken
    _report: Callable[[object], None]

    @property
    def cancelled(self) -> bool:
        """Whether the task was cancelled (the job should stop soon)."""
        return self.token.cancelled

    def progress(self, value: object) -> None:
        """Report ``value`` to the task's ``progress`` callback (GUI thread)."""
        self._report(value)


@dataclass(eq=False)
class Task(Generic[T]):
    """One submitted job: cancel it, wait for it, see whether it ended.

    Callbacks run on the GUI thread; ``done`` gets the job's result, ``failed`` its
    one-line message.
    """

    name: str
    job: Callable[[TaskContext], T]
    done: Callable[[T], None] | None = None
    failed: Callable[[str], None] | None = None
    cancelled: Callable[[], None] | None = None
    progress: Callable[[Any], None] | None = None
    token: CancelToken = field(default_factory=CancelToken)
    _finished: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        """Ask the job to stop; its ``cancelled`` callback follows (not ``done``)."""
        self.token.cancel()

    @property
    def finished(self) -> bool:
        """Whether the job has ended (its callback may still be on its way)."""
        return self._finished.is_set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the job has ended; return whether it did within the time."""
        return self._finished.wait(timeout_s)


class _Waker(QObject):
    """Wakes a runner's GUI side; parentless, so Qt never deletes it under a worker."""

    wake = Signal()


class TaskRunner(QObject):
    """Runs submitted jobs one after another on its own daemon thread.

    Parameters
    ----------
    name
        The thread's name (shown by debuggers and in crash reports).
    """

    # Object lifetimes across threads (issue 18, the quit-time aborts
    # ``none_dealloc`` / ``bool_dealloc``): the worker thread never touches this
    # QObject, which its owner may delete at any time, nor hands a Python object
    # to Qt. Outcomes go through a Python queue; the worker only emits the
    # argument-less ``wake`` of a parentless waker that Python keeps alive as
    # long as the worker runs; Qt queues it to the GUI thread, where ``_drain``
    # delivers the outcomes (and drops the connection when this runner dies).
    # Shut down (or detached after a join timed out), the worker emits nothing;
    # every runner is shut down before the app quits.

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._jobs: queue.SimpleQueue[Task[Any] | None] = queue.SimpleQueue()
        self._outbox: queue.SimpleQueue[tuple[Task[Any], str, object]] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._detached = False
        self._queued = 0
        self._running_token = CancelToken()  # the running job's; shutdown cancels it
        self._waker = _Waker()
        self._waker.wake.connect(self._drain)
        _LIVE_RUNNERS.add(self)

    @property
    def busy(self) -> bool:
        """Whether a job is queued or running."""
        with self._lock:
            return self._queued > 0

    def submit(
        self,
        job: Callable[[TaskContext], T],
        *,
        done: Callable[[T], None] | None = None,
        failed: Callable[[str], None] | None = None,
        cancelled: Callable[[], None] | None = None,
        progress: Callable[[Any], None] | None = None,
        name: str | None = None,
    ) -> Task[T]:
        """Queue ``job``; it runs after every job submitted before it.

        After :meth:`shutdown` the task is cancelled at once and never runs.
        """
        task: Task[T] = Task(
            name=name or self._name,
            job=job,
            done=done,
            failed=failed,
            cancelled=cancelled,
            progress=progress,
        )
        with self._lock:
            if self._closed:
                task.cancel()
                task._finished.set()
                return task
            self._queued += 1
            self._jobs.put(task)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=self._name, daemon=True
                )
                self._thread.start()
        return task

    def wait_idle(self, timeout_s: float | None = None) -> bool:
        """Block until every job submitted so far has ended; False on timeout."""
        marker = threading.Event()
        with self._lock:
            if self._closed or self._queued == 0:
                return True
        self.submit(lambda _context: marker.set(), name=f"{self._name}-idle")
        return marker.wait(timeout_s)

    def shutdown(self, *, timeout_s: float = 10.0) -> None:
        """Run no further job; cancel the running one and wait up to ``timeout_s``."""
        with self._lock:
            self._closed = True
            thread = self._thread
            while True:  # drop queued jobs: they would only report to nobody
                try:
                    dropped = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if dropped is not None:
                    dropped.cancel()
                    dropped._finished.set()
            self._jobs.put(None)
        self._running_token.cancel()
        _LIVE_RUNNERS.discard(self)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)
        with self._lock:
            # A job that ignores its cancel token may still run: it must not
            # report to this object, which its owner may delete now.
            self._detached = thread is not None and thread.is_alive()

    @property
    def closed(self) -> bool:
        """Whether :meth:`shutdown` was called (no job runs any more)."""
        return self._closed

    # ------------------------------------------------------------ worker thread
    def _run(self) -> None:
        while True:
            task = self._jobs.get()
            if task is None:
                return
            self._running_token = task.token
            try:
                self._execute(task)
            finally:
                task._finished.set()
                with self._lock:
                    self._queued -= 1
            # not kept while waiting for the next job: a job holds its data (a
            # registration both volumes of a patient no longer open)
            del task

    def _post(self, task: Task[Any], kind: str, value: object) -> None:
        with self._lock:
            if self._detached:
                return
            self._outbox.put((task, kind, value))
            self._waker.wake.emit()

    def _execute(self, task: Task[Any]) -> None:
        if task.token.cancelled:
            self._post(task, "cancelled", None)
            return
        context = TaskContext(
            token=task.token,
            _report=lambda value: self._post(task, "progress", value),
        )
        try:
            with background_error_boundary(task.name):
                result = task.job(context)
        except LoadCancelledError:
            self._post(task, "cancelled", None)
        except TaskFailedError as failure:
            self._post(task, "failed", str(failure))
        else:
            # token() asks again: the job may have been cancelled while it ran.
            self._post(task, "cancelled" if task.token() else "done", result)

    # ------------------------------------------------------------ GUI thread
    def _drain(self) -> None:
        while True:
            try:
                task, kind, value = self._outbox.get_nowait()
            except queue.Empty:
                return
            self._deliver(task, kind, value)

    def _deliver(self, task: Task[Any], kind: str, value: object) -> None:
        if task.token.cancelled and kind != "cancelled":
            # Cancelled after the report left the worker: the caller has moved
            # on, so the result is dropped (progress) or reported as cancelled.
            if kind != "progress" and task.cancelled is not None:
                task.cancelled()
            return
        if kind == "progress":
            if task.progress is not None:
                task.progress(value)
        elif kind == "done":
            if task.done is not None:
                task.done(value)
        elif kind == "failed":
            if task.failed is not None:
                task.failed(str(value))
        elif task.cancelled is not None:
            task.cancelled()
