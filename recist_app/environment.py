"""The environment variables recist-app reads, named once for every layer."""

from __future__ import annotations

__all__ = [
    "AUDIT_KEY_ENV",
    "CONFIG_DIR_ENV",
    "DATABASE_URL_ENV",
    "DEID_KEY_ENV",
    "PACS_SETTINGS_ENV",
    "READER_ROLE_ENV",
    "USER_ENV",
]

DATABASE_URL_ENV = "RECIST_APP_DATABASE_URL"
"""The reading database's SQLAlchemy URL when ``--database`` is not given."""

USER_ENV = "RECIST_APP_USER"
"""Who works, for the audit trail and signatures, when not the login name."""

READER_ROLE_ENV = "RECIST_APP_READER_ROLE"
"""Who works in a central review (``reader 1``, ``reader 2``, ``adjudicator``,
``single``) when the command line or the app is not told: it decides what the
blinding shows."""

DEID_KEY_ENV = "RECIST_APP_DEID_KEY"
"""Holds the site's de-identification key when no key file is given."""

AUDIT_KEY_ENV = "RECIST_APP_AUDIT_KEY"
"""Holds the site's audit key: every audit row gets an HMAC under it, and
``audit verify`` checks them. Kept outside the database (a secret store, the
environment of the accounts that run recist-app), never in it."""

PACS_SETTINGS_ENV = "RECIST_APP_PACS_SETTINGS"
"""The PACS settings file (servers, our AE title, the download folder) when not
``pacs.toml`` in the user config folder."""
CONFIG_DIR_ENV = "RECIST_APP_CONFIG_DIR"
"""The folder of the remembered settings (the reader identity) when not the user
config folder platformdirs names; tests point it at a temporary folder."""
