"""Open the reading database; check its audit trail (``recist-app audit verify``).

The site's audit key (``$RECIST_APP_AUDIT_KEY``) is read here, once for every
command and the workstation: with it, every audit row written gets an HMAC and
``audit verify`` checks them (README, Reliability).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from recist_app.environment import AUDIT_KEY_ENV
from recist_app.store import Store, open_store
from recist_app.workflows.errors import WorkflowError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from recist_app.store import AuditVerification

__all__ = [
    "AUDIT_KEY_ENV",
    "MIN_AUDIT_KEY_LENGTH",
    "Store",
    "audit_key",
    "open_database",
    "verify_audit",
]

MIN_AUDIT_KEY_LENGTH = 16
"""Shorter keys are refused: a key that can be guessed protects nothing."""


def audit_key(environ: Mapping[str, str] | None = None) -> bytes | None:
    """The site's audit key from ``$RECIST_APP_AUDIT_KEY``, or ``None`` if unset.

    Raises
    ------
    WorkflowError
        The key is shorter than :data:`MIN_AUDIT_KEY_LENGTH` characters.
    """
    environ = os.environ if environ is None else environ
    value = environ.get(AUDIT_KEY_ENV, "")
    if not value:
        return None
    if len(value.strip()) < MIN_AUDIT_KEY_LENGTH:
        raise WorkflowError(
            f"${AUDIT_KEY_ENV} holds {len(value.strip())} characters; the audit key "
            f"needs at least {MIN_AUDIT_KEY_LENGTH}"
        )
    return value.strip().encode("utf-8")


def open_database(url: str | None = None) -> Store:
    """The reading database at ``url`` (created or upgraded when needed).

    Default: ``$RECIST_APP_DATABASE_URL``, else a SQLite file in the user data
    folder. Audit rows get an HMAC under ``$RECIST_APP_AUDIT_KEY`` when it is
    set. Close it with ``with`` or :meth:`~recist_app.store.Store.close`.

    Raises
    ------
    StoreError
        The URL, driver, file or schema cannot be used; the message says which.
    WorkflowError
        The audit key is too short.
    """
    return open_store(url or None, audit_key=audit_key())


def verify_audit(
    store: Store, *, expect_heads: Iterable[str] = ()
) -> AuditVerification:
    """Check the audit trail: its chain, the data against it, its triggers, the key.

    ``expect_heads`` are hashes written down earlier (printed at sign-off and on
    PDF reports); each must still be a row of the chain.
    """
    return store.audit.verify(expect_heads=expect_heads)
