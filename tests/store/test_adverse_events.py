"""Adverse events in the database (revision 0007): round trip, audit, up/downgrade."""

from __future__ import annotations

import dataclasses
import datetime
from typing import TYPE_CHECKING

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from recist_app.store import (
    ClinicalDates,
    StoredAdverseEvent,
    StoreError,
    open_store,
)
from recist_app.store.database import _alembic_config
from tests.store.conftest import sqlite_url

if TYPE_CHECKING:
    from pathlib import Path

    from recist_app.store import Store

START = datetime.date(2024, 3, 20)


def event(patient_id: str = "HCC-001", **changes: object) -> StoredAdverseEvent:
    values: dict[str, object] = {
        "term": "Hypertension",
        "soc": "Vascular disorders",
        "grade": 3,
        "start_date": START,
        "end_date": START + datetime.timedelta(days=12),
        "serious": False,
        "related": True,
        "action": "reduced",
        "source": "ae.csv",
        **changes,
    }
    return StoredAdverseEvent(patient_id=patient_id, **values)  # type: ignore[arg-type]


def test_adverse_events_round_trip_and_create_their_patients(store: Store) -> None:
    assert store.adverse_events.records() == ()
    rows = [
        event("HCC-002", term="Diarrhea", soc="", grade=1, end_date=None, action=None),
        event("HCC-001"),
        event(
            "HCC-001",
            grade=2,
            start_date=START + datetime.timedelta(days=40),
            end_date=None,
        ),
    ]
    summary = store.adverse_events.replace(rows, user="dm")
    assert (summary.inserted, summary.deleted, summary.unchanged) == (3, 0, 0)
    assert store.adverse_events.records() == (rows[1], rows[2], rows[0])
    assert {p.patient_id for p in store.patients()} == {"HCC-001", "HCC-002"}


def test_an_import_replaces_the_set_by_content_and_audits_each_change(
    store: Store,
) -> None:
    twice = [event(), event()]  # the same event twice is two rows
    store.adverse_events.replace([*twice, event("HCC-002")], user="dm")
    before = len(store.audit.trail())
    again = store.adverse_events.replace([*twice, event("HCC-002")], user="dm")
    assert not again.changed
    assert again.unchanged == 3
    assert len(store.audit.trail()) == before  # nothing changed, nothing audited
    regraded = event("HCC-002", grade=4)
    summary = store.adverse_events.replace([event(), regraded], user="dm-2")
    assert (summary.inserted, summary.deleted, summary.unchanged) == (1, 2, 1)
    assert store.adverse_events.records() == (event(), regraded)
    audited = [e for e in store.audit.trail() if e.entity == "adverse_event"]
    latest = [e for e in audited if e.user == "dm-2"]
    assert sorted(e.action for e in latest) == ["delete", "delete", "insert"]
    insert = next(e for e in latest if e.action == "insert")
    assert insert.patient_id == "HCC-002"
    assert insert.after is not None
    assert insert.after["grade"] == 4
    assert insert.entity_key == "HCC-002/Hypertension/2024-03-20"
    assert store.audit.verify().ok


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (event(grade=6), "grade 6 is not 1 to 5"),
        (event(action="stopped"), "unknown action 'stopped'"),
        (event(end_date=START - datetime.timedelta(days=1)), "ends before it starts"),
        (event(term=" "), "empty term"),
        (event("X" * 65), "1 to 64 characters"),
    ],
    ids=["grade", "action", "dates", "term", "patient"],
)
def test_a_bad_row_changes_nothing(
    store: Store, bad: StoredAdverseEvent, message: str
) -> None:
    store.adverse_events.replace([event()], user="dm")
    with pytest.raises(StoreError, match=message):
        store.adverse_events.replace([event("HCC-009"), bad], user="dm")
    assert store.adverse_events.records() == (event(),)
    assert "HCC-009" not in {p.patient_id for p in store.patients()}


def test_the_audit_user_is_required(store: Store) -> None:
    with pytest.raises(StoreError, match="who made the change"):
        store.adverse_events.replace([event()], user=" ")
    assert store.adverse_events.records() == ()


def _columns(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_a_revision_0006_database_upgrades_with_its_data_and_downgrades_again(
    database_path: Path,
) -> None:
    url = sqlite_url(database_path)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0006")
            connection.execute(
                text(
                    "INSERT INTO patients (id, patient_id, created_at) "
                    "VALUES (1, 'HCC-001', '2025-01-02 10:00:00.000000')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO clinical_records (id, patient_row_id, "
                    "first_dose_date, data_cutoff_date, source, imported_at) VALUES "
                    "(1, 1, '2024-03-04', '2025-06-30', 'clinical.csv', "
                    "'2025-01-02 10:00:00.000000')"
                )
            )
    finally:
        engine.dispose()
    assert "adverse_events" not in _columns(url)
    clinical = ClinicalDates(
        patient_id="HCC-001",
        first_dose_date=datetime.date(2024, 3, 4),
        data_cutoff_date=datetime.date(2025, 6, 30),
        source="clinical.csv",
    )
    with open_store(url) as store:  # upgrades to 0007
        assert store.clinical.records() == (clinical,)
        assert store.adverse_events.records() == ()
        store.adverse_events.replace([event()], user="dm")
        assert store.adverse_events.records() == (event(),)
        # The chain is intact; the rows written above by plain SQL (a database of
        # revision 0006, made by hand here) are not in the trail, and verify says so.
        verified = store.audit.verify()
        assert verified.first_broken_sequence is None
        assert not verified.ok
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0006")
        with engine.connect() as connection:
            assert "adverse_events" not in inspect(connection).get_table_names()
            dates = connection.execute(
                text("SELECT first_dose_date FROM clinical_records")
            ).scalar_one()
            assert str(dates) == "2024-03-04"
    finally:
        engine.dispose()
    with open_store(url) as store:  # and upgrades again on open
        assert store.clinical.records() == (clinical,)
        assert store.adverse_events.records() == ()
        changed = dataclasses.replace(event(), grade=2)
        store.adverse_events.replace([changed], user="dm")
        assert store.adverse_events.records() == (changed,)
