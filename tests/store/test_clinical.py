"""Clinical dates in the database (revision 0004): round trip, audit, upgrade."""

from __future__ import annotations

import datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from recist_app.recist import Criteria, Reading
from recist_app.store import ClinicalDates, Store, StoreError, open_store
from recist_app.store.database import _alembic_config
from tests.store.legacy import audit_as_written

CUTOFF = datetime.date(2025, 6, 30)


def dates(patient_id: str, **changes: datetime.date | None) -> ClinicalDates:
    values: dict[str, datetime.date | None] = {
        "death_date": None,
        "last_known_alive_date": datetime.date(2025, 6, 1),
        "new_anticancer_therapy_date": None,
        **changes,
    }
    return ClinicalDates(
        patient_id=patient_id,
        first_dose_date=datetime.date(2024, 3, 4),
        data_cutoff_date=CUTOFF,
        source="clinical.csv",
        **values,
    )


def test_clinical_rows_round_trip_in_patient_order(store: Store) -> None:
    assert store.clinical.records() == ()
    rows = [dates("HCC-002", death_date=datetime.date(2024, 9, 1)), dates("HCC-001")]
    summary = store.clinical.replace(rows, user="dm")
    assert (summary.inserted, summary.updated, summary.deleted) == (2, 0, 0)
    assert store.clinical.records() == (rows[1], rows[0])
    assert {p.patient_id for p in store.patients()} == {"HCC-001", "HCC-002"}


def test_an_import_replaces_the_set_and_audits_each_change(store: Store) -> None:
    store.clinical.replace([dates("A"), dates("B")], user="dm")
    before = len(store.audit.trail())
    again = store.clinical.replace([dates("A"), dates("B")], user="dm")
    assert not again.changed
    assert again.unchanged == 2
    assert len(store.audit.trail()) == before  # nothing changed, nothing audited
    died = datetime.date(2025, 1, 2)
    summary = store.clinical.replace(
        [dates("A", death_date=died, last_known_alive_date=died), dates("C")],
        user="dm-2",
    )
    assert (summary.inserted, summary.updated, summary.deleted) == (1, 1, 1)
    assert [r.patient_id for r in store.clinical.records()] == ["A", "C"]
    clinical = [e for e in store.audit.trail() if e.entity == "clinical"]
    update = next(e for e in clinical if e.action == "update")
    assert update.user == "dm-2"
    assert update.before is not None
    assert update.before["death_date"] is None
    assert update.after is not None
    assert update.after["death_date"] == "2025-01-02"
    deleted = next(e for e in clinical if e.action == "delete")
    assert deleted.patient_id == "B"
    assert store.audit.verify().ok


def test_bad_rows_change_nothing(store: Store) -> None:
    store.clinical.replace([dates("A")], user="dm")
    with pytest.raises(StoreError, match="patient 'B' given twice"):
        store.clinical.replace([dates("B"), dates("B")], user="dm")
    with pytest.raises(StoreError, match="longer than 64 characters"):
        store.clinical.replace([dates("X" * 65)], user="dm")
    with pytest.raises(StoreError, match="who made the change"):
        store.clinical.replace([dates("C")], user=" ")
    assert [r.patient_id for r in store.clinical.records()] == ["A"]


def test_a_revision_0003_database_upgrades_with_its_data_intact(
    database_path: object,
) -> None:
    url = f"sqlite:///{database_path}"
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0003")
        with engine.begin() as connection:
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
                    "baseline_window_days, created_at, updated_at) VALUES "
                    "(1, 1, 'iRECIST', 'dr-a', 'draft', 1, 0, '2024-03-04', 28, "
                    "42, 1, 1, 5.0, 5.0, 28, '2025-01-02 10:00:00.000000', "
                    "'2025-01-02 10:00:00.000000')"
                )
            )
            # ... and the audit rows it wrote, with the columns it had.
            audit_as_written(
                connection,
                Reading(
                    patient_id="HCC-001",
                    criteria=Criteria.IRECIST,
                    reader="dr-a",
                    first_dose_date=datetime.date(2024, 3, 4),
                ),
            )
            assert "clinical_records" not in inspect(connection).get_table_names()
    finally:
        engine.dispose()
    with open_store(url) as store:
        loaded = store.readings.load("HCC-001", "iRECIST", "dr-a")
        assert loaded.first_dose_date == datetime.date(2024, 3, 4)
        assert loaded.params.irecist_confirmation_max_days == 56
        assert store.clinical.records() == ()
        store.clinical.replace([dates("HCC-001")], user="dm")
        assert [p.patient_id for p in store.patients()] == ["HCC-001"]
        assert store.clinical.records() == (dates("HCC-001"),)
        assert store.audit.verify().ok
