"""The bounds every DICOM file is checked against before anything is allocated.

A damaged or hostile header can claim 10^20 frames, a 65535 x 65535 frame or a
position of 10^308 mm. Each such value is compared with a limit below while the
header is read, so the file is refused with a reason naming the limit instead of
exhausting memory, looping for ever or overflowing a geometry computation. The
limits are far above anything a CT or MR scanner writes.
"""

from __future__ import annotations

import os

__all__ = [
    "DECODE_TIME_LIMIT_S",
    "MAX_COORDINATE_MM",
    "MAX_FILE_BYTES",
    "MAX_FRAMES",
    "MAX_FRAME_PIXELS",
    "MAX_INFLATED_BYTES",
    "MAX_SPACING_MM",
    "MAX_VOLUME_BYTES",
    "WORKER_START_LIMIT_S",
    "format_bytes",
    "volume_bytes_limit",
]

MAX_FILE_BYTES = 4 * 1024**3
"""Largest file read (4 GiB, the largest value a DICOM element length can give)."""

MAX_INFLATED_BYTES = 1024**3
"""Largest data set a Deflated Explicit VR file may inflate to (1 GiB)."""

MAX_FRAMES = 20_000
"""Most frames in one file (NumberOfFrames); an enhanced CT has a few thousand."""

MAX_FRAME_PIXELS = 16_384 * 16_384
"""Most pixels in one frame (Rows x Columns); CT and MR use 512 to 2048 squared."""

MAX_VOLUME_BYTES = 64 * 1024**3
"""Largest voxel array allocated (64 GiB), lowered to the machine's memory."""

MAX_COORDINATE_MM = 1_000_000.0
"""Largest magnitude of a patient coordinate (1 km): beyond it a position is junk."""

MAX_SPACING_MM = 10_000.0
"""Largest pixel spacing, slice thickness or slice spacing (10 m)."""

DECODE_TIME_LIMIT_S = 20.0
"""Longest a worker-process decoder may take for one frame before it is stopped."""

WORKER_START_LIMIT_S = 120.0
"""Longest the decoder worker process may take to start (imports numpy, pydicom)."""


def volume_bytes_limit() -> int:
    """Largest voxel array to allocate: :data:`MAX_VOLUME_BYTES` or the RAM size.

    Returns
    -------
    int
        Bytes; the physical memory when the system reports it and it is smaller.
    """
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return MAX_VOLUME_BYTES
    return min(MAX_VOLUME_BYTES, physical) if physical > 0 else MAX_VOLUME_BYTES


def format_bytes(count: int) -> str:
    """A byte count for messages: ``"512 MB"``, ``"4 GB"``.

    Examples
    --------
    >>> format_bytes(4 * 1024**3)
    '4 GB'
    >>> format_bytes(1536 * 1024)
    '1.5 MB'
    """
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} bytes"
