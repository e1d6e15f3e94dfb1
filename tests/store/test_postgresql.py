"""The store on a real PostgreSQL server: tampering, triggers and least privilege.

A throw-away server runs on 127.0.0.1 for the session (``tests/postgres.py``).
The role test runs ``docs/postgresql/roles.sql`` and ``grants.sql`` exactly as
the README tells a site to, then the app's work as the working role, and checks
that this role cannot disable the audit trail's triggers or touch its rows.
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest

from recist_app.recist import Measurement, Reading, record_measurement
from recist_app.store import (
    ClinicalDates,
    ImportedSignOff,
    StoreBusyError,
    StoredAdverseEvent,
    StoreError,
    open_store,
)
from tests.postgres import PostgresServer

KEY = ("HCC-001", "RECIST 1.1", "dr-a")
LABEL = "HCC-001 / RECIST 1.1 / dr-a"
DOCS = Path(__file__).parents[2] / "docs" / "postgresql"


def _database(server: PostgresServer) -> tuple[str, str]:
    name = server.new_database()
    return name, server.url(name)


def test_an_edited_measurement_is_found_on_postgresql(
    postgres_server: PostgresServer, reading: Reading
) -> None:
    name, url = _database(postgres_server)
    with open_store(url) as store:
        store.readings.save(reading)
        store.signing.sign(*KEY)
        assert store.audit.verify().ok
        edited = postgres_server.psql(
            "UPDATE measurements SET long_axis_mm = 31.0 WHERE timepoint_id = "
            "(SELECT id FROM timepoints WHERE visit = 'WEEK 6') AND lesion_row_id = "
            "(SELECT id FROM lesions WHERE lesion_id = 'T01');",
            database=name,
        )
        assert edited.returncode == 0, edited.stderr
        result = store.audit.verify()
        assert [str(d) for d in result.divergences] == [
            f"{LABEL}: visit WEEK 6, lesion T01: measurement long_axis_mm is 31.0 "
            "in the database, 30.0 in the audit trail",
            f"{LABEL}: the stored reading differs from signed version 1 (visit "
            "WEEK 6, lesion T01: long_axis_mm)",
        ]


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        (
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
            "trigger audit_log_no_update is disabled (ALTER TABLE ... ENABLE TRIGGER)",
        ),
        (
            "ALTER TABLE audit_log DISABLE TRIGGER ALL",
            "trigger audit_log_no_delete is disabled (ALTER TABLE ... ENABLE TRIGGER)",
        ),
        (
            "ALTER TABLE audit_log ENABLE REPLICA TRIGGER audit_log_no_truncate",
            "trigger audit_log_no_truncate fires only on replicas (it is disabled)",
        ),
        (
            "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
            "trigger audit_log_no_update no longer refuses every update (its "
            "definition or function was changed)",
        ),
    ],
    ids=["disabled", "all-disabled", "replica-only", "function-replaced"],
)
def test_a_disabled_or_altered_trigger_is_found_on_postgresql(
    postgres_server: PostgresServer, reading: Reading, statement: str, problem: str
) -> None:
    name, url = _database(postgres_server)
    with open_store(url) as store:
        store.readings.save(reading)
        assert store.audit.verify().ok
        altered = postgres_server.psql(statement + ";", database=name)
        assert altered.returncode == 0, altered.stderr
        result = store.audit.verify()
        assert not result.ok
        assert problem in result.trigger_problems
        assert result.divergences == ()
        assert "append-only protection off: " in str(result)


def test_a_dropped_trigger_is_found_on_postgresql(
    postgres_server: PostgresServer, reading: Reading
) -> None:
    name, url = _database(postgres_server)
    with open_store(url) as store:
        store.readings.save(reading)
        dropped = postgres_server.psql(
            "DROP TRIGGER audit_log_no_truncate ON audit_log;", database=name
        )
        assert dropped.returncode == 0, dropped.stderr
        assert store.audit.verify().missing_triggers == ("audit_log_no_truncate",)


def test_a_writer_waits_for_another_and_then_gives_up_in_one_line(
    postgres_server: PostgresServer, reading: Reading
) -> None:
    _name, url = _database(postgres_server)
    with open_store(url) as first, open_store(url, busy_timeout_s=0.3) as second:
        first.readings.save(reading)
        with (
            first._unit.session("holding the write lock", write=True),
            pytest.raises(StoreBusyError, match=r"is busy: .* 0.3 s"),
        ):
            second.readings.save(dataclasses.replace(reading, reader="dr-b"))
        second.readings.save(dataclasses.replace(reading, reader="dr-b"))
        assert second.audit.verify().ok


def test_the_working_role_cannot_touch_the_audit_trail_yet_does_its_work(
    postgres_server: PostgresServer, reading: Reading
) -> None:
    roles = postgres_server.psql((DOCS / "roles.sql").read_text())
    assert roles.returncode == 0, roles.stderr
    owner_url = postgres_server.url("recist", user="recist_owner")
    app_url = postgres_server.url("recist", user="recist_app")
    # Before the owner has created the schema, the working role cannot.
    with pytest.raises(StoreError, match="permission denied"):
        open_store(app_url).close()
    open_store(owner_url).close()  # the owner creates (or upgrades) the schema
    grants = postgres_server.psql(
        (DOCS / "grants.sql").read_text(), database="recist", user="recist_owner"
    )
    assert grants.returncode == 0, grants.stderr
    with open_store(app_url) as store:  # every kind of write, as recist_app
        record = store.readings.save(reading)
        edited = record_measurement(
            reading, "WEEK 6", Measurement(lesion_id="T01", long_axis_mm=28.0)
        )
        store.readings.save(edited, base=reading, base_revision=record.revision)
        store.responses.load(*KEY)
        store.signing.sign(*KEY)
        store.signing.amend(*KEY, reason="remeasure")
        store.readings.update(*KEY, lambda r: r)
        store.signing.sign(*KEY)
        store.readings.import_reading(
            dataclasses.replace(reading, reader="dr-b"),
            sign_off=ImportedSignOff(
                status="signed",
                signed_by="dr-b",
                signed_at=datetime.datetime(2024, 6, 1, tzinfo=datetime.UTC),
                version=1,
            ),
            source_sha256="ab" * 32,
            user="imp",
        )
        dates = ClinicalDates(
            patient_id="HCC-001",
            first_dose_date=datetime.date(2024, 3, 4),
            data_cutoff_date=datetime.date(2024, 12, 31),
        )
        store.clinical.replace([dates], user="dm")
        store.clinical.replace([], user="dm")
        # adverse events imported and replaced (grants.sql lacked the table)
        event = StoredAdverseEvent(
            patient_id="HCC-001",
            term="Hypertension",
            soc="Vascular disorders",
            grade=3,
            start_date=datetime.date(2024, 4, 1),
            end_date=None,
            serious=False,
            related=True,
            action="reduced",
            source="ae.csv",
        )
        store.adverse_events.replace([event], user="dm")
        store.adverse_events.replace([], user="dm")
        # the central review: roles and the adjudicator's decision, replaced once
        store.central.set_role(*KEY, "reader 1", user="coordinator")
        store.central.set_role(
            "HCC-001", "RECIST 1.1", "dr-b", "reader 2", user="coordinator"
        )
        store.central.decide("HCC-001", "RECIST 1.1", "reader 2", reason="r", user="a")
        store.central.decide("HCC-001", "RECIST 1.1", "reader 1", reason="s", user="a")
        assert [d.accepted_role.value for d in store.central.decisions()] == [
            "reader 1"
        ]
        result = store.audit.verify()
        assert result.ok, result.details()
    for statement, refusal in [
        ("ALTER TABLE audit_log DISABLE TRIGGER ALL", "must be owner of table"),
        ("UPDATE audit_log SET user_name = 'x'", "permission denied"),
        ("DELETE FROM audit_log", "permission denied"),
        ("TRUNCATE audit_log", "permission denied"),
        ("DROP TABLE audit_log", "must be owner of table"),
        ("UPDATE reading_versions SET signed_by = 'x'", "permission denied"),
        ("CREATE TABLE mine (id integer)", "permission denied for schema public"),
        # Why writers take an advisory lock, not a table lock on audit_log:
        (
            "BEGIN; LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE",
            "permission denied",
        ),
    ]:
        refused = postgres_server.psql(
            statement + ";", database="recist", user="recist_app"
        )
        assert refused.returncode != 0, statement
        assert refusal in refused.stderr, (statement, refused.stderr)
