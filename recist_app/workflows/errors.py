"""Errors of the workflows layer, and the one description of any project error.

A workflow raises :class:`WorkflowError` (or a subclass) for what it checks itself
and lets the errors of the layers below pass unchanged: each is already one line
naming the file, field, visit or lesion. :func:`is_project_error` tells the CLI's
and the app's error boundaries which exceptions are the user's to read (one line,
no traceback) and which are bugs.
"""

from __future__ import annotations

__all__ = [
    "NoClinicalDataError",
    "VisitAssignmentError",
    "WorkflowError",
    "describe_error",
    "is_project_error",
    "project_error_types",
]


class WorkflowError(Exception):
    """Base class of every error raised by :mod:`recist_app.workflows`."""


class NoClinicalDataError(WorkflowError):
    """The database has readings but no clinical data (first dose, cut-off) yet."""


class VisitAssignmentError(WorkflowError):
    """Assigning studies to visits would lose findings; the message names the visit."""


def project_error_types() -> tuple[type[Exception], ...]:
    """The base error of every layer, and ``OSError`` (a file the user named).

    Imported when asked, not at start-up: the CLI needs them only once something
    went wrong, and the store's module pulls in SQLAlchemy.
    """
    from recist_app.endpoints.errors import EndpointError
    from recist_app.exchange.errors import ExchangeError
    from recist_app.imaging.errors import ImagingError
    from recist_app.pacs.errors import PacsError
    from recist_app.recist.errors import ReadingError
    from recist_app.store.errors import StoreError

    return (
        ReadingError,
        ImagingError,
        StoreError,
        ExchangeError,
        EndpointError,
        PacsError,
        WorkflowError,
        OSError,
    )


def is_project_error(error: BaseException) -> bool:
    """Whether ``error`` is one the project raises for the user to read."""
    return isinstance(error, project_error_types())


def describe_error(error: BaseException) -> str:
    r"""``error`` as one readable line (never a traceback).

    >>> describe_error(FileNotFoundError(2, "No such file or directory", "a.json"))
    'a.json: no such file or directory'
    >>> describe_error(WorkflowError("visit WEEK 6:\\n  no images"))
    'visit WEEK 6: no images'
    """
    if isinstance(error, OSError) and error.strerror:
        reason = error.strerror[:1].lower() + error.strerror[1:]
        where = error.filename if error.filename is not None else None
        text = f"{where}: {reason}" if where is not None else reason
    else:
        text = str(error)
        if isinstance(error, KeyError) and type(error) is KeyError and error.args:
            text = f"unknown {error.args[0]!s}"
    text = " ".join(text.split())
    return text or type(error).__name__
