"""The decoder worker process of :mod:`recist_app.imaging.isolated_decoder`.

Run as ``python -m recist_app.imaging._decoder_worker FD``: ``FD`` is one end of
a socket pair. A request is a list of jobs ``(path, plugin, frame indices)``. For
each job the worker sends one ``("frame", job, index, dtype, shape)`` message plus
the frame's bytes per frame, then ``("done", job)``; when a decoder raises
(anything, including a Rust ``PanicException``) it sends ``("error", job, text)``
and skips the rest of the request; ``("end",)`` closes every request. Decoding
runs ahead of the parent, which copies one frame while the next is decoded. A
decoder that aborts or hangs takes only this process down; the parent notices
and says so.
"""

from __future__ import annotations

import signal
import socket
import sys
import warnings
from multiprocessing.connection import Connection

import numpy as np


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())[:200]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def serve(connection: Connection) -> None:
    """Answer decode requests until the parent closes the connection."""
    from pydicom.pixels.utils import iter_pixels

    connection.send(("ready",))
    while True:
        try:
            jobs = connection.recv()
        except (EOFError, OSError):
            return
        for job, (path, plugin, indices) in enumerate(jobs):
            try:
                frames = iter_pixels(
                    path, indices=list(indices), decoding_plugin=plugin
                )
                for number, frame in zip(indices, frames, strict=False):
                    array = np.ascontiguousarray(frame)
                    connection.send(
                        ("frame", job, number, array.dtype.str, array.shape)
                    )
                    # flat bytes: send_bytes sends len() items of a 2-D uint8 view
                    connection.send_bytes(array.reshape(-1).view(np.uint8).data)
                connection.send(("done", job))
            except BaseException as error:  # a Rust panic is a BaseException
                connection.send(("error", job, _describe(error)))
                break
        connection.send(("end",))


def main() -> None:
    """Entry point: serve on the socket whose descriptor is the first argument."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's
    warnings.simplefilter("ignore")
    channel = socket.socket(fileno=int(sys.argv[1]))
    serve(Connection(channel.detach()))


if __name__ == "__main__":
    main()
