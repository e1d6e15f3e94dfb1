"""Decode compressed pixel data in a worker process that cannot take the app down.

Some native decoders do not fail cleanly on damaged or inconsistent data:

* **GDCM** decodes JPEG Baseline, Extended and Lossless (transfer syntaxes
  1.2.840.10008.1.2.4.50, .51, .57 and .70; no other permissively licensed
  decoder for lossless JPEG is installed) and **aborts the whole process**
  (SIGABRT) when, e.g., Bits Allocated does not match the code stream;
* **CharLS** (pyjpegls), the JPEG-LS decoder (1.2.840.10008.1.2.4.80 and .81),
  spends seconds in native code on a truncated code stream, where neither a
  time limit nor a :class:`~recist_app.imaging.progress.CancelToken` can reach it;
* **pylibjpeg-rle** (Rust), the RLE Lossless decoder (1.2.840.10008.1.2.5),
  **panics** when Rows or Columns do not match the segments: a
  ``pyo3_runtime.PanicException``, a ``BaseException`` that passes every
  ``except Exception``.

Files in these transfer syntaxes (:data:`ISOLATED_SYNTAXES`) are decoded in one
long-lived worker process, a fresh Python interpreter running
:mod:`recist_app.imaging._decoder_worker` (never a fork of the application, whose
threads and Qt state it must not inherit) that talks over a socket pair. The
caller waits frame by frame: a worker that gives no frame within the time limit
is killed, as is one whose caller cancels; a worker that dies (abort, segfault)
is reported by its signal. In every case the caller gets one
:class:`~recist_app.imaging.errors.SliceReadError` naming the file, and the next
request starts a fresh worker (about half a second).

Everything else stays in the calling process, so the fast path stays fast:
uncompressed little- and big-endian data (read straight into the volume), the
Deflated syntax (zlib raises Python errors, and inflation is bounded before
reading) and JPEG 2000 / HTJ2K through pylibjpeg-openjpeg or Pillow, which report
damaged code streams as Python errors. The loader names these decoders
explicitly (``decoding_plugin``), so GDCM never decodes in process: a compressed
syntax without such a plugin goes to the worker as well.
"""

from __future__ import annotations

import atexit
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recist_app.imaging.errors import LoadCancelledError, SliceReadError
from recist_app.imaging.limits import WORKER_START_LIMIT_S

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import numpy.typing as npt

    from recist_app.imaging.progress import CancelCheck

__all__ = ["ISOLATED_SYNTAXES", "DecodeJob", "decode_isolated", "stop_worker"]

ISOLATED_SYNTAXES = frozenset(
    {
        "1.2.840.10008.1.2.4.50",  # JPEG Baseline (Process 1): GDCM
        "1.2.840.10008.1.2.4.51",  # JPEG Extended (Process 2 and 4): GDCM
        "1.2.840.10008.1.2.4.57",  # JPEG Lossless (Process 14): GDCM
        "1.2.840.10008.1.2.4.70",  # JPEG Lossless SV1: GDCM
        "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless: CharLS
        "1.2.840.10008.1.2.4.81",  # JPEG-LS Near-Lossless: CharLS
        "1.2.840.10008.1.2.5",  # RLE Lossless: pylibjpeg-rle (Rust)
    }
)
"""Transfer syntaxes whose decoders can abort, stall or panic: decoded in a worker."""

_POLL_S = 0.05
_STOP_WAIT_S = 2.0
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class _Worker:
    """The worker process and its connection; restarted after every failure."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.connection: Connection | None = None

    def start(self, cancel: CancelCheck | None, what: str) -> Connection:
        if (
            self.process is not None
            and self.process.poll() is None
            and self.connection is not None
        ):
            return self.connection
        self.stop()
        ours, theirs = socket.socketpair()
        environment = dict(os.environ)
        # the worker imports this very package, wherever it was imported from
        path = environment.get("PYTHONPATH", "")
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, path]))
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "recist_app.imaging._decoder_worker",
                    str(theirs.fileno()),
                ],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # decoders print ("Must downscale ...")
                stderr=subprocess.DEVNULL,  # and abort with a C++ message
                env=environment,
            )
        except OSError as error:
            ours.close()
            raise SliceReadError(
                f"{what}: cannot start the decoder process: {error.strerror}"
            ) from None
        finally:
            theirs.close()
        self.connection = Connection(ours.detach())
        try:
            message = self.receive(self.connection, WORKER_START_LIMIT_S, cancel, what)
        except _TimeLimitError:
            raise SliceReadError(
                f"{what}: the decoder process did not start within "
                f"{WORKER_START_LIMIT_S:g} s"
            ) from None
        except _WorkerDiedError as error:
            raise SliceReadError(
                f"{what}: the decoder process did not start ({error.reason()})"
            ) from None
        if message != ("ready",):
            self.stop()
            raise SliceReadError(f"{what}: the decoder process did not start")
        return self.connection

    def _wait(
        self,
        connection: Connection,
        limit_s: float,
        cancel: CancelCheck | None,
        what: str,
    ) -> None:
        """Wait for a message; stop the worker on cancel or after ``limit_s``."""
        deadline = time.monotonic() + limit_s
        while True:
            if cancel is not None and cancel():
                self.stop()
                raise LoadCancelledError(f"{what}: cancelled")
            if connection.poll(_POLL_S):
                return
            if time.monotonic() > deadline:
                self.stop()
                raise _TimeLimitError(limit_s)

    def receive(
        self,
        connection: Connection,
        limit_s: float,
        cancel: CancelCheck | None,
        what: str,
    ) -> Any:
        self._wait(connection, limit_s, cancel, what)
        try:
            return connection.recv()
        except (EOFError, OSError):
            raise self._death() from None

    def receive_bytes(self, connection: Connection) -> bytes:
        try:
            return connection.recv_bytes()
        except (EOFError, OSError):
            raise self._death() from None

    def _death(self) -> _WorkerDiedError:
        code = None
        if self.process is not None:
            try:
                code = self.process.wait(_STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                code = None
        self.stop()
        return _WorkerDiedError(code)

    def stop(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.process = None


class _TimeLimitError(Exception):
    def __init__(self, limit_s: float) -> None:
        super().__init__(limit_s)
        self.limit_s = limit_s


class _WorkerDiedError(Exception):
    def __init__(self, exit_code: int | None) -> None:
        super().__init__(exit_code)
        self.exit_code = exit_code

    def reason(self) -> str:
        code = self.exit_code
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the decoder crashed ({name})"
        return f"the decoder process ended (exit status {code})"


_WORKER = _Worker()
_LOCK = threading.Lock()


@atexit.register
def _kill_at_exit() -> None:
    # no lock: a daemon thread may hold it in the middle of a decode
    process = _WORKER.process
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()


def stop_worker() -> None:
    """Stop the worker process (it restarts on the next request)."""
    with _LOCK:
        _WORKER.stop()


def _acquire(cancel: CancelCheck | None, what: str) -> None:
    while not _LOCK.acquire(timeout=_POLL_S):
        if cancel is not None and cancel():
            raise LoadCancelledError(f"{what}: cancelled")


@dataclass(frozen=True, slots=True)
class DecodeJob:
    """Frames of one file to decode in the worker, with the pydicom plugin to use."""

    path: str
    frame_indices: tuple[int, ...]
    plugin: str = ""


def decode_isolated(
    jobs: Sequence[DecodeJob],
    on_frame: Callable[[int, int, npt.NDArray[Any]], None],
    *,
    time_limit_s: float,
    cancel: CancelCheck | None = None,
    what: str = "decoding",
) -> None:
    """Decode the frames of several files in the worker process, in order.

    The worker decodes the next frame while ``on_frame`` copies this one.

    Parameters
    ----------
    jobs
        The files and their 0-based frames, delivered job by job, each job's
        frames in ascending order.
    on_frame
        Called as ``on_frame(job_number, frame_index, pixels)`` for every frame.
    time_limit_s
        Longest wait for any one frame; the worker is stopped after it.
    cancel
        Checked while waiting; cancelling stops the worker at once.
    what
        What is being done, for the cancellation message.

    Raises
    ------
    SliceReadError
        A decoder failed, crashed or gave no frame in time; one line naming the
        file it was decoding.
    LoadCancelledError
        ``cancel`` asked to stop.
    """
    if not jobs:
        return
    _acquire(cancel, what)
    progress = _Progress()
    try:
        _decode_locked(jobs, on_frame, progress, time_limit_s, cancel, what)
    except _TimeLimitError as error:
        raise SliceReadError(
            f"{jobs[progress.job].path}: cannot decode pixel data: the decoder "
            f"gave no frame within {error.limit_s:g} s and was stopped (damaged "
            "code stream)"
        ) from None
    except _WorkerDiedError as error:
        raise SliceReadError(
            f"{jobs[progress.job].path}: cannot decode pixel data: "
            f"{error.reason()}; the pixel data is damaged or does not match the "
            "header"
        ) from None
    finally:
        _LOCK.release()


@dataclass(slots=True)
class _Progress:
    job: int = 0  # the job being decoded: the first one not answered in full


def _frame(job: DecodeJob, data: bytes, dtype: str, shape: tuple[int, ...]) -> Any:
    array = np.frombuffer(data, dtype=np.dtype(dtype))
    if array.size != math.prod(shape):
        raise SliceReadError(
            f"{job.path}: cannot decode pixel data: the decoder gave "
            f"{array.size} values for a {shape} frame"
        )
    return array.reshape(shape)


def _decode_locked(
    jobs: Sequence[DecodeJob],
    on_frame: Callable[[int, int, npt.NDArray[Any]], None],
    progress: _Progress,
    time_limit_s: float,
    cancel: CancelCheck | None,
    what: str,
) -> None:
    connection = _WORKER.start(cancel, what)
    connection.send(
        [(job.path, job.plugin, tuple(sorted(set(job.frame_indices)))) for job in jobs]
    )
    finished = False
    try:
        while True:
            message = _WORKER.receive(connection, time_limit_s, cancel, what)
            kind = message[0]
            if kind == "end":
                finished = True
                return
            if kind == "done":
                progress.job = int(message[1]) + 1
            elif kind == "error":
                _, job, detail = message
                progress.job = int(job)
                _WORKER.receive(connection, time_limit_s, cancel, what)  # "end"
                finished = True
                raise SliceReadError(
                    f"{jobs[progress.job].path}: cannot decode pixel data: {detail}"
                )
            else:
                _, job, number, dtype, shape = message
                data = _WORKER.receive_bytes(connection)
                progress.job = int(job)
                on_frame(
                    int(job),
                    int(number),
                    _frame(jobs[progress.job], data, dtype, shape),
                )
    finally:
        if not finished:
            # the caller stopped early (cancel, a bad frame): the worker may still
            # be sending; a fresh one keeps the protocol in step
            _WORKER.stop()
