"""Open the reading database; check its audit trail (``recist-app audit verify``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recist_app.store import Store, open_store

if TYPE_CHECKING:
    from recist_app.store import AuditVerification

__all__ = ["Store", "open_database", "verify_audit"]


def open_database(url: str | None = None) -> Store:
    """The reading database at ``url`` (created or upgraded when needed).

    Default: ``$RECIST_APP_DATABASE_URL``, else a SQLite file in the user data
    folder. Close it with ``with`` or :meth:`~recist_app.store.Store.close`.

    Raises
    ------
    StoreError
        The URL, driver, file or schema cannot be used; the message says which.
    """
    return open_store(url or None)


def verify_audit(store: Store) -> AuditVerification:
    """Check every link of the audit trail's hash chain and its append-only guard."""
    return store.audit.verify()
