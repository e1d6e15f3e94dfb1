"""Errors raised by the reading database.

Every message is one line that names the database, patient or reading concerned and
says why, so the ``ui`` and ``cli`` layers can show it as it is.
"""

from __future__ import annotations

__all__ = [
    "ConcurrentEditError",
    "ReadingConflictError",
    "ReadingLockedError",
    "ReadingNotFoundError",
    "SchemaTooNewError",
    "SignatureMismatchError",
    "StoreBusyError",
    "StoreError",
]


class StoreError(Exception):
    """Base class of every error raised by :mod:`recist_app.store`."""


class StoreBusyError(StoreError):
    """Another process held the database's write lock longer than the busy timeout.

    Nothing was written; the same call can be retried.
    """


class SchemaTooNewError(StoreError):
    """The database was written by a newer recist-app; this version refuses it."""


class ReadingNotFoundError(StoreError, LookupError):
    """No reading is stored for this patient, criteria set and reader."""


class ReadingLockedError(StoreError):
    """The reading is signed; it must be amended, with a reason, before edits."""


class ConcurrentEditError(StoreError):
    """The reading changed in the database since the caller loaded it.

    Nothing was saved; reload the reading and apply the change again.
    """


class ReadingConflictError(StoreError):
    """The database holds a different reading for the same patient, criteria, reader.

    Nothing was written; importing with ``replace=True`` overwrites it (audited).
    """


class SignatureMismatchError(StoreError):
    """A signed reading's stored rows are not what was signed.

    Someone changed the database outside recist-app (``recist-app audit verify``
    lists what); the reading must not be used as signed.
    """
