"""Errors of the PACS clients: one line naming the server and the cause.

Every message starts with the server as the user named it (its settings name, or
its URL without credentials), so ``recist-app pacs find orthanc …`` failing says
which server failed and why: it could not be reached, it refused the
association or the credentials, it no longer holds what was asked for, or it
answered with something that is not DICOM.
"""

from __future__ import annotations

__all__ = [
    "PacsAuthenticationError",
    "PacsConnectionError",
    "PacsError",
    "PacsNotFoundError",
    "PacsQueryError",
    "PacsRefusedError",
    "PacsResponseError",
    "PacsSettingsError",
]


class PacsError(Exception):
    """Base class of every error raised by :mod:`recist_app.pacs`."""


class PacsSettingsError(PacsError):
    """The settings file or a server given on the command line cannot be used."""


class PacsConnectionError(PacsError):
    """The server could not be reached (refused, unknown host, timeout, TLS)."""


class PacsQueryError(PacsError):
    """A query the user typed cannot be asked (a date range that is no date)."""


class PacsRefusedError(PacsError):
    """The server rejected the association or the request (not the credentials)."""


class PacsAuthenticationError(PacsError):
    """The server refused the credentials (HTTP 401 or 403)."""


class PacsNotFoundError(PacsError):
    """The server does not hold (or no longer holds) the study or series asked for."""


class PacsResponseError(PacsError):
    """The server answered with something that is not what DICOM says it must be."""
