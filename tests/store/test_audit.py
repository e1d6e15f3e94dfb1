"""The audit trail: append-only triggers, hash chain, tampering found by verify."""

from __future__ import annotations

import dataclasses
import io
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command

from recist_app.recist import Reading
from recist_app.store import Store
from recist_app.store.audit import GENESIS_HASH, audit_row_digest
from recist_app.store.database import _alembic_config, postgresql_lock_statements
from tests.postgres import PostgresServer

KEY = ("HCC-001", "RECIST 1.1", "dr-a")
HASHED_COLUMNS = (
    "sequence",
    "recorded_at",
    "user_name",
    "action",
    "entity",
    "entity_key",
    "patient_id",
    "reason",
    "before_values",
    "after_values",
    "previous_hash",
)


@pytest.fixture
def audited(store: Store, reading: Reading) -> Store:
    store.readings.save(reading)
    store.signing.sign(*KEY)
    store.signing.amend(*KEY, reason="remeasure T01")
    store.readings.save(dataclasses.replace(reading, first_dose_date=None))
    return store


@pytest.fixture
def raw(database_path: Path, audited: Store) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(database_path, isolation_level=None)
    try:
        yield connection
    finally:
        connection.close()


def test_an_untouched_trail_verifies(audited: Store) -> None:
    result = audited.audit.verify()
    assert result.ok
    assert result.rows_checked == len(audited.audit.trail()) > 10
    newest = audited.audit.trail(limit=1)[0]
    assert str(result) == (
        f"audit trail intact: {result.rows_checked} rows checked, "
        f"newest row hash {result.head_hash}; the data of 1 reading matches it"
    )
    assert result.rows_checked == newest.sequence


def test_the_chain_starts_at_the_genesis_hash_and_links_every_row(
    raw: sqlite3.Connection,
) -> None:
    rows = raw.execute(
        "SELECT sequence, recorded_at, user_name, action, entity, entity_key, "
        "patient_id, reason, before_values, after_values, previous_hash, row_hash "
        "FROM audit_log ORDER BY sequence"
    ).fetchall()
    previous = GENESIS_HASH
    names = HASHED_COLUMNS
    for row in rows:
        assert row[10] == previous
        assert audit_row_digest(dict(zip(names, row[:11], strict=True))) == row[11]
        previous = row[11]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET user_name = 'someone else' WHERE sequence = 3",
        "DELETE FROM audit_log WHERE sequence = 3",
        "DELETE FROM audit_log",
    ],
)
def test_triggers_refuse_updates_and_deletes(
    raw: sqlite3.Connection, statement: str
) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="audit_log is append-only"):
        raw.execute(statement)


def test_editing_a_row_by_hand_is_detected_at_that_row(
    raw: sqlite3.Connection, audited: Store
) -> None:
    raw.execute("DROP TRIGGER audit_log_no_update")
    raw.execute(
        "UPDATE audit_log SET after_values = '{\"long_axis_mm\":24.0}' "
        "WHERE sequence = 5"
    )
    result = audited.audit.verify()
    assert not result.ok
    assert result.first_broken_sequence == 5
    assert result.rows_checked == len(audited.audit.trail())
    assert "content does not match its hash" in str(result)
    assert result.missing_triggers == ("audit_log_no_update",)
    assert "append-only protection removed" in str(result)


def test_a_forged_row_hash_breaks_the_next_link(
    raw: sqlite3.Connection, audited: Store
) -> None:
    raw.execute("DROP TRIGGER audit_log_no_update")
    row = raw.execute(
        "SELECT sequence, recorded_at, user_name, action, entity, entity_key, "
        "patient_id, reason, before_values, after_values, previous_hash "
        "FROM audit_log WHERE sequence = 4"
    ).fetchone()
    names = HASHED_COLUMNS
    forged = dict(zip(names, row, strict=True))
    forged["user_name"] = "dr-mallory"
    raw.execute(
        "UPDATE audit_log SET user_name = ?, row_hash = ? WHERE sequence = 4",
        (forged["user_name"], audit_row_digest(forged)),
    )
    # The tamperer also puts the trigger back.
    raw.execute(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'append-only'); END"
    )
    result = audited.audit.verify()
    assert result.first_broken_sequence == 5
    assert "previous-row hash does not match" in (result.problem or "")
    assert result.missing_triggers == ()


def test_a_deleted_row_is_detected(raw: sqlite3.Connection, audited: Store) -> None:
    raw.execute("DROP TRIGGER audit_log_no_delete")
    raw.execute("DELETE FROM audit_log WHERE sequence = 7")
    result = audited.audit.verify()
    assert result.first_broken_sequence == 8
    assert "expected row 7 next, found row 8" in (result.problem or "")


def test_a_long_trail_is_checked_in_batches(store: Store, reading: Reading) -> None:
    store.readings.save(reading)
    result = store.audit.verify(batch_rows=3)
    assert result.ok
    assert result.rows_checked == len(store.audit.trail())


# ------------------------------------------------------------ PostgreSQL


def _postgresql_sql() -> str:
    buffer = io.StringIO()
    config = _alembic_config()
    config.output_buffer = buffer
    config.set_main_option("sqlalchemy.url", "postgresql://")
    command.upgrade(config, "head", sql=True)
    return buffer.getvalue()


def test_the_schema_renders_for_postgresql_with_its_trigger_variant() -> None:
    sql = _postgresql_sql()
    assert "CREATE FUNCTION audit_log_append_only() RETURNS trigger" in sql
    assert "BEFORE TRUNCATE ON audit_log" in sql
    assert "sqlite" not in sql.lower()
    assert "CONSTRAINT ck_readings_status CHECK" in sql


def test_postgresql_accepts_the_schema_and_its_triggers_block_tampering(
    postgres_server: PostgresServer,
) -> None:
    database = postgres_server.new_database()

    def psql(sql: str) -> subprocess.CompletedProcess[str]:
        return postgres_server.psql(sql, database=database)

    created = psql(_postgresql_sql())
    assert created.returncode == 0, created.stderr
    insert = (
        "INSERT INTO audit_log (sequence, recorded_at, user_name, action, entity, "
        "entity_key, previous_hash, row_hash) VALUES (1, 'now', 'dr-a', 'insert', "
        "'patient', 'HCC-001', repeat('0', 64), repeat('a', 64));"
    )
    writer = ";\n".join(postgresql_lock_statements("write", 2.0))
    result = psql(f"BEGIN;\n{writer};\n{insert}\nCOMMIT;")
    assert result.returncode == 0, result.stderr
    for statement, verb in [
        ("UPDATE audit_log SET user_name = 'x'", "update"),
        ("DELETE FROM audit_log", "delete"),
        ("TRUNCATE audit_log", "truncate"),
    ]:
        refused = psql(statement + ";")
        assert refused.returncode != 0
        assert f"audit_log is append-only: {verb} refused" in refused.stderr
    triggers = psql(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass "
        "AND NOT tgisinternal ORDER BY tgname;",
    )
    assert triggers.stdout.split() == [
        "audit_log_no_delete",
        "audit_log_no_truncate",
        "audit_log_no_update",
    ]
    schema_lock = ";\n".join(postgresql_lock_statements("schema", 2.0))
    locked = psql(f"BEGIN;\n{schema_lock};\nCOMMIT;")
    assert locked.returncode == 0, locked.stderr
    count = psql("SELECT count(*) FROM audit_log;")
    assert count.stdout.strip() == "1"


def test_an_unprotectable_backend_is_refused() -> None:
    config = _alembic_config()
    config.output_buffer = io.StringIO()
    config.set_main_option("sqlalchemy.url", "mysql://")
    with pytest.raises(RuntimeError, match="no append-only protection for mysql"):
        command.upgrade(config, "head", sql=True)
