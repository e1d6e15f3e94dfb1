"""Revision 0013: reading roles and adjudications, upgraded with data and downgraded."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from recist_app.recist import Criteria, ReaderRole
from recist_app.store import StoreError, head_revision, open_store
from recist_app.store.database import _alembic_config
from tests.store.conftest import sqlite_url
from tests.store.test_no_disease import (
    KEY,
    _insert_a_signed_revision_0008_reading,
    _stored_before_0010,
)
from tests.workflows.central import store_read

if TYPE_CHECKING:
    from pathlib import Path

    from recist_app.store import Store


def test_a_revision_0010_database_upgrades_with_every_reading_a_site_read(
    database_path: Path,
) -> None:
    url = sqlite_url(database_path)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0008")
            _insert_a_signed_revision_0008_reading(connection)
            command.upgrade(_alembic_config(connection), "0010")
            columns = {c["name"] for c in inspect(connection).get_columns("readings")}
            assert "reader_role" not in columns
    finally:
        engine.dispose()
    with open_store(url) as store:
        result = store.audit.verify()
        assert result.ok, result.details()
        record = store.readings.record(*KEY)
        assert record.reader_role is ReaderRole.SINGLE
        assert store.signing.load_signed(*KEY).reading == _stored_before_0010()
        assert store.central.decisions() == ()
        # the signed reading takes a role without being unlocked or changed
        moved = store.central.set_role(*KEY, "reader 1", user="coordinator")
        assert moved.reader_role is ReaderRole.READER_1
        assert moved.status.value == "signed"
        assert store.signing.load_signed(*KEY).reading == _stored_before_0010()
        assert store.audit.verify().ok
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            assert current == head_revision()
    finally:
        engine.dispose()


def test_downgrading_to_0012_drops_the_roles_and_decisions_only(
    database_path: Path,
) -> None:
    url = sqlite_url(database_path)
    with open_store(url) as store:
        store_read(store, "P-1", ReaderRole.READER_1, (50.0, 30.0, 30.0))
        store_read(store, "P-1", ReaderRole.READER_2, (50.0, 45.0, 45.0))
        store.central.decide(
            "P-1", Criteria.RECIST_1_1, "reader 2", reason="r", user="dr-adj"
        )
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0012")
            tables = set(inspect(connection).get_table_names())
            assert "adjudications" not in tables
            columns = {c["name"] for c in inspect(connection).get_columns("readings")}
            assert "reader_role" not in columns
            readers = connection.execute(
                text("SELECT reader, status FROM readings ORDER BY reader")
            ).all()
            assert [tuple(r) for r in readers] == [
                ("dr-one", "signed"),
                ("dr-two", "signed"),
            ]
            visits = connection.execute(text("SELECT count(*) FROM timepoints"))
            assert visits.scalar_one() == 6
    finally:
        engine.dispose()


def test_a_role_other_than_the_four_is_refused(store: Store) -> None:
    store_read(store, "P-1", ReaderRole.SINGLE, (50.0, 30.0, 30.0), sign=False)
    key = ("P-1", Criteria.RECIST_1_1, "dr-site")
    with pytest.raises(StoreError, match="unknown reader role 'reader 3'"):
        store.central.set_role(*key, "reader 3", user="coordinator")
    assert store.readings.record(*key).reader_role is ReaderRole.SINGLE


@pytest.mark.parametrize(
    ("accepted", "reason", "problem"),
    [
        ("adjudicator", "r", "accept 'reader 1' or 'reader 2'"),
        ("reader 1", " ", "give the reason"),
        ("reader 1", "x" * 2001, "more than 2000"),
    ],
    ids=["not-a-primary-read", "no-reason", "reason-too-long"],
)
def test_an_adjudication_needs_reader_1_or_2_and_a_reason(
    store: Store, accepted: str, reason: str, problem: str
) -> None:
    store_read(store, "P-1", ReaderRole.READER_1, (50.0, 30.0, 30.0))
    with pytest.raises(StoreError, match=problem):
        store.central.decide(
            "P-1", Criteria.RECIST_1_1, accepted, reason=reason, user="dr-adj"
        )
    assert store.central.decisions() == ()


def test_an_adjudication_changed_or_added_by_hand_is_found_by_audit_verify(
    store: Store, database_path: Path
) -> None:
    # issue 20's left-out point: audit verify compares the adjudications table
    # with the trail's "adjudication" rows, as it does the clinical rows
    import sqlite3

    store_read(store, "P-1", ReaderRole.READER_1, (50.0, 30.0, 30.0))
    store_read(store, "P-1", ReaderRole.READER_2, (50.0, 20.0, 60.0))
    store.central.decide(
        "P-1", Criteria.RECIST_1_1, "reader 1", reason="PD not seen", user="dr-adj"
    )
    assert store.audit.verify().ok
    raw = sqlite3.connect(database_path, isolation_level=None)
    try:
        raw.execute("UPDATE adjudications SET accepted_role = 'reader 2'")
        problems = [str(d) for d in store.audit.verify().divergences]
        assert problems == [
            "patient P-1: adjudication P-1 / RECIST 1.1: accepted_role is "
            '"reader 2" in the database, "reader 1" in the audit trail'
        ]
        raw.execute("DELETE FROM adjudications")
        problems = [str(d) for d in store.audit.verify().divergences]
        assert problems == [
            "patient P-1: adjudication P-1 / RECIST 1.1 is in the audit trail but "
            "not in the database"
        ]
    finally:
        raw.close()
