"""Errors raised by the imaging layer.

Every message is one line that names the file or series and says why, so the
``ui`` and ``cli`` layers can show it as is.
"""

from __future__ import annotations

__all__ = [
    "ImagingError",
    "LoadCancelledError",
    "NotDicomError",
    "PhantomError",
    "RegistrationError",
    "SegmentationError",
    "SeriesError",
    "SliceReadError",
]


class ImagingError(Exception):
    """Base class of every error raised by :mod:`recist_app.imaging`."""


class SliceReadError(ImagingError):
    """A DICOM file cannot be read or decoded; the message names the file."""


class NotDicomError(SliceReadError):
    """The file is not DICOM at all (no preamble, unreadable as a data set)."""


class SeriesError(ImagingError):
    """A set of slices does not form one loadable volume (mixed geometry, ...)."""


class LoadCancelledError(ImagingError):
    """Loading or scanning was cancelled by the caller."""


class PhantomError(ImagingError):
    """Invalid options for the demo phantom, or its files cannot be written."""


class SegmentationError(ImagingError):
    """No lesion can be delineated at the point given (click-to-measure)."""


class RegistrationError(ImagingError):
    """Two series cannot be registered (no overlap, no body, no convergence)."""
