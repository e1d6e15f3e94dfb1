"""Opening the reading database: URL, engine settings and schema migrations.

SQLite (the default, one file in the user data folder) runs in WAL mode with
``synchronous=FULL`` and foreign keys on, set on every new connection. Write units of
work start with ``BEGIN IMMEDIATE`` so two processes never both read and then try to
write (SQLite would fail one of them without waiting); a writer waits up to the busy
timeout for the lock and then gets :class:`~recist_app.store.errors.StoreBusyError`.
PostgreSQL takes an advisory lock with a ``lock_timeout`` for the same effect.

Before anything writes to an existing SQLite file, :func:`inspect_sqlite_file` reads
it through a read-only connection: a file that is not SQLite, fails SQLite's
``quick_check`` (damaged) or holds another application's tables is refused in one
line and left exactly as it was (no WAL switch, no journal, no upgrade). A file
that cannot be written (file or folder) opens read-only: listing, verifying and
exporting work; writing is refused in one line.

The schema is versioned with Alembic; opening upgrades an older database and refuses
a newer one.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool, StaticPool

from recist_app.environment import DATABASE_URL_ENV
from recist_app.store.errors import SchemaTooNewError, StoreBusyError, StoreError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Connection, Engine

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_BUSY_TIMEOUT_S",
    "WRITE_OPTIONS",
    "create_store_engine",
    "default_database_url",
    "describe_url",
    "head_revision",
    "inspect_sqlite_file",
    "migrate_to_head",
    "postgresql_lock_statements",
    "resolve_database_url",
    "schema_revision",
    "translate_database_errors",
]

DEFAULT_BUSY_TIMEOUT_S = 10.0
DATABASE_FILE_NAME = "readings.sqlite3"
MIGRATIONS_LOCATION = "recist_app.store:migrations"

WRITE_OPTIONS = {"recist_app_lock": "write"}
"""Execution options that make a session's transaction take the write lock."""
_SCHEMA_OPTIONS = {"recist_app_lock": "schema"}
_POSTGRES_SCHEMA_LOCK_KEY = 0x7265636973  # "recis": one key for schema upgrades
_POSTGRES_WRITE_LOCK_KEY = 0x7265636977  # "reciw": one key for every writer

_SQLITE_BUSY_TEXTS = (
    "database is locked",
    "database is busy",
    "database table is locked",
)
_POSTGRES_LOCK_NOT_AVAILABLE = "55P03"
_SQLITE_HEADER = b"SQLite format 3\x00"
_SQLITE_WAL_VERSION = 2  # header bytes 18 and 19: 1 legacy journal, 2 WAL
_SQLITE_READ_ONLY_TEXTS = ("readonly database", "read-only database")
_SHOWN_INTEGRITY_LENGTH = 160


def default_database_url() -> str:
    """``sqlite:///`` URL of the default database file in the user data folder."""
    folder = Path(platformdirs.user_data_dir("recist-app", appauthor=False))
    return f"sqlite:///{folder / DATABASE_FILE_NAME}"


def resolve_database_url(url: str | None) -> str:
    """``url``, else ``$RECIST_APP_DATABASE_URL``, else :func:`default_database_url`."""
    if url:
        return url
    return os.environ.get(DATABASE_URL_ENV) or default_database_url()


def describe_url(url: str) -> str:
    """The URL for messages, with any password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def _sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _read_only_uri(path: Path, *, immutable: bool) -> str:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    return uri + ("&immutable=1" if immutable else "")


def _wal_without_writer(path: Path, header: bytes) -> bool:
    """A WAL-mode file no program has open for writing (it has no ``-wal`` file).

    Reading it with ``immutable=1`` then creates no ``-wal``/``-shm`` files
    beside it, which a read-only connection to a WAL file otherwise does.
    """
    wal = path.with_name(path.name + "-wal")
    in_wal_mode = len(header) >= 20 and header[18] == header[19] == _SQLITE_WAL_VERSION
    return in_wal_mode and not wal.exists()


def _integrity_problem(rows: list[tuple[Any, ...]]) -> str | None:
    lines = [str(row[0]) for row in rows]
    if lines == ["ok"]:
        return None
    first = " ".join(lines[0].split()) if lines else "no answer"
    if len(first) > _SHOWN_INTEGRITY_LENGTH:
        first = first[: _SHOWN_INTEGRITY_LENGTH - 1] + "…"
    more = f" and {len(lines) - 1} more" if len(lines) > 1 else ""
    return f"{first}{more}"


def inspect_sqlite_file(url: str, *, busy_timeout_s: float) -> bool:
    """Check an existing SQLite file without changing it; whether it is read-only.

    A missing or empty file is a new database (``False``). An existing one is read
    through a read-only connection: its header, SQLite's ``quick_check`` and its
    tables. Nothing is written, so a refused file is left byte for byte as it was.

    Raises
    ------
    StoreError
        The file is not a SQLite database, is damaged, or holds another
        application's tables.
    StoreBusyError
        Another program held a lock on it past the busy timeout.
    """
    try:
        if make_url(url).get_backend_name() != "sqlite":
            return False
    except ArgumentError:
        return False  # create_store_engine says why
    path = _sqlite_file(url)
    if path is None or not path.exists() or path.stat().st_size == 0:
        return False
    shown = describe_url(url)
    unchanged = "it was left unchanged"
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except OSError as error:
        raise StoreError(
            f"database {shown}: cannot read it: {error.strerror}"
        ) from None
    if not header.startswith(_SQLITE_HEADER):
        raise StoreError(
            f"database {shown}: the file is not a database (no SQLite header); "
            f"{unchanged}"
        )
    read_only = not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))
    uri = _read_only_uri(path, immutable=_wal_without_writer(path, header))
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=busy_timeout_s)
        try:
            problem = _integrity_problem(
                connection.execute("PRAGMA quick_check").fetchall()
            )
            tables = {
                name
                for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            }
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        if any(text in str(error) for text in _SQLITE_BUSY_TEXTS):
            raise StoreBusyError(
                f"database {shown} is busy: another program held its lock for more "
                f"than {busy_timeout_s:g} s while opening it; try again"
            ) from None
        problem = _first_line(error)
    if problem is not None:
        raise StoreError(
            f"database {shown} is damaged (SQLite integrity check: {problem}); "
            f"{unchanged}: restore it from a backup"
        )
    if tables and "alembic_version" not in tables:
        raise StoreError(
            f"database {shown} already holds tables ({', '.join(sorted(tables))}) "
            f"but no recist-app schema version; refusing to use it ({unchanged})"
        )
    return read_only


def create_store_engine(
    url: str, *, busy_timeout_s: float, read_only: bool = False
) -> Engine:
    """An engine for ``url`` with the store's connection settings.

    With ``read_only`` (a SQLite file that cannot be written) every connection is
    opened read-only and nothing switches the file's journal mode.

    Raises
    ------
    StoreError
        The URL is malformed, its driver is not installed, or the SQLite file's
        folder cannot be created.
    """
    shown = describe_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"database URL {shown} is not a valid URL") from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": busy_timeout_s, "check_same_thread": False}
        path = _sqlite_file(url)
        if path is None:
            kwargs["poolclass"] = StaticPool
        elif read_only:
            with path.open("rb") as file:
                immutable = _wal_without_writer(path, file.read(100))
            uri = _read_only_uri(path, immutable=immutable)
            kwargs["poolclass"] = NullPool
            kwargs["creator"] = lambda: sqlite3.connect(
                uri, uri=True, timeout=busy_timeout_s, check_same_thread=False
            )
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(
                    f"database {shown}: cannot create folder {path.parent}: "
                    f"{error.strerror}"
                ) from None
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as error:
        raise StoreError(
            f"database {shown}: the driver for {parsed.drivername} is not installed "
            f"({error})"
        ) from None
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, read_only=read_only)
    elif engine.dialect.name == "postgresql":
        _configure_postgresql(engine, busy_timeout_s)
    return engine


def _configure_sqlite(engine: Engine, *, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, record: object) -> None:
        # SQLAlchemy, not the driver, decides when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            if not read_only:  # switching to WAL writes the file's header
                cursor.execute("PRAGMA journal_mode = WAL")
                # FULL: a commit that returned survives a power cut too.
                cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("recist_app_lock"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def postgresql_lock_statements(lock: str, busy_timeout_s: float) -> tuple[str, ...]:
    """Statements that open a PostgreSQL write (``lock="write"``) or schema unit.

    Writers take a transaction-scoped advisory lock, one at a time as on SQLite,
    since each appends to the hash chain; a schema upgrade takes another (the
    tables may not exist yet). Advisory locks need no privilege on any table, so
    the app's role can hold only the grants it needs (no ``UPDATE`` on
    ``audit_log``, which ``LOCK TABLE`` in an exclusive mode would require).
    ``lock_timeout`` bounds the wait.
    """
    timeout_ms = max(1, round(busy_timeout_s * 1000))
    key = _POSTGRES_SCHEMA_LOCK_KEY if lock == "schema" else _POSTGRES_WRITE_LOCK_KEY
    return (
        f"SET LOCAL lock_timeout = {timeout_ms}",
        f"SELECT pg_advisory_xact_lock({key})",
    )


def _configure_postgresql(engine: Engine, busy_timeout_s: float) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        lock = connection.get_execution_options().get("recist_app_lock")
        if lock is not None:
            for statement in postgresql_lock_statements(lock, busy_timeout_s):
                connection.exec_driver_sql(statement)


def _is_busy(error: DBAPIError) -> bool:
    original = error.orig
    if isinstance(original, sqlite3.OperationalError):
        return any(text in str(original) for text in _SQLITE_BUSY_TEXTS)
    code = getattr(original, "pgcode", None) or getattr(original, "sqlstate", None)
    return code == _POSTGRES_LOCK_NOT_AVAILABLE


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


@contextmanager
def translate_database_errors(
    url: str, what: str, *, busy_timeout_s: float
) -> Iterator[None]:
    """Turn driver errors inside the block into one-line store errors."""
    try:
        yield
    except DBAPIError as error:
        shown = describe_url(url)
        if _is_busy(error):
            raise StoreBusyError(
                f"database {shown} is busy: another program held its write lock for "
                f"more than {busy_timeout_s:g} s while {what}; nothing was saved, "
                "try again"
            ) from None
        detail = _first_line(error.orig) if error.orig is not None else str(error)
        if any(text in detail for text in _SQLITE_READ_ONLY_TEXTS):
            raise StoreError(
                f"database {shown} is read-only (file or folder): {what} is not "
                "possible; nothing was saved"
            ) from None
        raise StoreError(f"database {shown}: {what} failed: {detail}") from None


# ------------------------------------------------------------- migrations


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this version of recist-app knows."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:
        raise StoreError("recist-app ships no database migrations")
    return head


def schema_revision(connection: Connection) -> str | None:
    """The schema revision stored in the database, or ``None`` when unversioned."""
    return MigrationContext.configure(connection).get_current_revision()


def _check_revision(connection: Connection, shown: str) -> str | None:
    current = schema_revision(connection)
    if current is None:
        tables = set(inspect(connection).get_table_names())
        if tables:
            raise StoreError(
                f"database {shown} already holds tables ({', '.join(sorted(tables))}) "
                "but no recist-app schema version; refusing to use it"
            )
        return None
    known = {
        script.revision
        for script in ScriptDirectory.from_config(_alembic_config()).walk_revisions()
    }
    if current not in known:
        raise SchemaTooNewError(
            f"database {shown} has schema revision {current}, newer than this "
            f"recist-app knows (newest {head_revision()}); upgrade recist-app to "
            "open it"
        )
    return current


def migrate_to_head(
    engine: Engine, url: str, *, busy_timeout_s: float, read_only: bool = False
) -> None:
    """Upgrade the database to the newest revision; refuse a newer schema.

    The upgrade runs inside one write transaction, so two programs opening an old
    database at the same moment upgrade it once, and a failed upgrade leaves the
    database as it was. A read-only database must already be at the newest
    revision.
    """
    shown = describe_url(url)
    head = head_revision()
    with translate_database_errors(url, "opening", busy_timeout_s=busy_timeout_s):
        with engine.connect() as connection:
            current = _check_revision(connection, shown)
        if current == head:
            return
        if read_only:
            raise StoreError(
                f"database {shown} is read-only and at schema revision "
                f"{current or '(none)'}; this recist-app needs {head}: open a "
                "writable copy to upgrade it"
            )
        with engine.connect() as connection:
            connection = connection.execution_options(**_SCHEMA_OPTIONS)
            with connection.begin():
                current = _check_revision(connection, shown)
                if current != head:
                    try:
                        command.upgrade(_alembic_config(connection), "head")
                    except RuntimeError as error:  # raised by our migration scripts
                        raise StoreError(
                            f"database {shown}: schema upgrade failed: {error}"
                        ) from None
