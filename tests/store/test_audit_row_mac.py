"""Schema revision 0008: the audit rows' HMAC column and the entity-key index."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from recist_app.recist import Reading
from recist_app.store import head_revision, open_store
from recist_app.store.database import _alembic_config
from tests.store.conftest import sqlite_url
from tests.store.legacy import audit_as_written

KEY = ("HCC-001", "RECIST 1.1", "dr-a")
AUDIT_KEY = b"site audit key kept in a vault"
TRIGGERS = ["audit_log_no_delete", "audit_log_no_update"]


def _triggers(connection: object) -> list[str]:
    return sorted(
        connection.execute(  # type: ignore[attr-defined]
            text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        ).scalars()
    )


def _write_a_revision_0007_database(url: str) -> None:
    """A draft reading as the revision-0007 program stored it, audit rows too."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0007")
            connection.execute(
                text(
                    "INSERT INTO patients (id, patient_id, created_at) "
                    "VALUES (1, 'HCC-001', '2025-01-02 10:00:00.000000')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO readings (id, patient_row_id, criteria, reader, "
                    "status, revision, signed_version, first_dose_date, "
                    "confirmation_min_days, sd_min_days, require_confirmation, "
                    "max_ne_between_confirmation, too_small_mm, pd_min_increase_mm, "
                    "baseline_window_days, irecist_confirmation_min_days, "
                    "irecist_confirmation_max_days, mrecist_pd_min_increase_mm, "
                    "created_at, updated_at) VALUES (1, 1, 'RECIST 1.1', 'dr-a', "
                    "'draft', 1, 0, NULL, 28, 42, 1, 1, 5.0, 5.0, 28, 28, 56, NULL, "
                    "'2025-01-02 10:00:00.000000', '2025-01-02 10:00:00.000000')"
                )
            )
            audit_as_written(connection, Reading(patient_id="HCC-001", reader="dr-a"))
            columns = {c["name"] for c in inspect(connection).get_columns("audit_log")}
            assert "row_mac" not in columns
    finally:
        engine.dispose()


def test_a_revision_0007_database_upgrades_and_is_keyed_from_then_on(
    database_path: Path,
) -> None:
    url = sqlite_url(database_path)
    _write_a_revision_0007_database(url)
    with open_store(url) as store:  # upgrades; the old rows verify as before
        result = store.audit.verify()
        assert result.ok, result.details()
        old_rows = result.rows_checked
    with open_store(url, audit_key=AUDIT_KEY) as store:
        assert not store.audit.verify().ok  # the key has vouched for nothing yet
        store.signing.sign(*KEY)
        result = store.audit.verify()
        assert result.ok, result.details()
        assert result.first_keyed_sequence == old_rows + 1
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            indexes = inspect(connection).get_indexes("audit_log")
            assert [i["name"] for i in indexes] == ["ix_audit_log_entity_key"]
            macs = connection.execute(
                text("SELECT row_mac IS NOT NULL FROM audit_log ORDER BY sequence")
            ).scalars()
            assert list(macs) == [False] * old_rows + [True]
            assert _triggers(connection) == TRIGGERS
    finally:
        engine.dispose()


def test_downgrading_to_0007_drops_the_macs_and_keeps_the_triggers(
    database_path: Path, reading: Reading
) -> None:
    url = sqlite_url(database_path)
    with open_store(url, audit_key=AUDIT_KEY) as store:
        store.readings.save(reading)
        store.signing.sign(*KEY)
        rows = store.audit.verify().rows_checked
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0007")
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == (
                "0007"
            )
            columns = {c["name"] for c in inspect(connection).get_columns("audit_log")}
            assert "row_mac" not in columns
            assert inspect(connection).get_indexes("audit_log") == []
            assert _triggers(connection) == TRIGGERS  # the table was not copied
            count = connection.execute(text("SELECT count(*) FROM audit_log"))
            assert count.scalar() == rows
    finally:
        engine.dispose()
    with open_store(url) as store:  # and upgrades again on open
        result = store.audit.verify()
        assert result.ok, result.details()
        assert store.readings.load(*KEY) == reading
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == (
                head_revision()
            )
    finally:
        engine.dispose()
