"""The reader's "no disease" at a visit in the database (rule A8, revision 0010)."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, create_engine, inspect, text

from recist_app.recist import (
    Lesion,
    LesionRole,
    Measurement,
    Reading,
    TimePoint,
    assess,
    set_no_disease,
)
from recist_app.store import Store, head_revision, open_store
from recist_app.store._rows import reading_to_rows, rows_to_snapshot
from recist_app.store.database import _alembic_config
from tests.store.conftest import sqlite_url
from tests.store.legacy import append_raw_audit, audit_as_written

KEY = ("HCC-002", "RECIST 1.1", "dr-a")
SIGNED_AT = "2025-01-03T09:00:00+00:00"


def _no_disease_reading() -> Reading:
    return Reading(
        patient_id="HCC-002",
        reader="dr-a",
        lesions=(Lesion(lesion_id="N01", role=LesionRole.NEW, organ="lung"),),
        timepoints=(
            TimePoint(
                visit="BASELINE",
                date=datetime.date(2024, 2, 26),
                is_baseline=True,
                no_disease=True,
            ),
            TimePoint(visit="WEEK 8", date=datetime.date(2024, 4, 22)),
        ),
    )


def _stored_before_0010() -> Reading:
    """A signed reading with a follow-up left empty, as revision 0008 stored it."""
    return Reading(
        patient_id="HCC-002",
        reader="dr-a",
        first_dose_date=datetime.date(2024, 3, 4),
        lesions=(Lesion(lesion_id="T01", role=LesionRole.TARGET, organ="liver"),),
        timepoints=(
            TimePoint(
                visit="BASELINE",
                date=datetime.date(2024, 2, 26),
                is_baseline=True,
                measurements=(Measurement(lesion_id="T01", long_axis_mm=42.0),),
            ),
            TimePoint(visit="WEEK 8", date=datetime.date(2024, 4, 22)),
        ),
    )


def test_no_disease_survives_save_and_load_and_is_audited(store: Store) -> None:
    reading = _no_disease_reading()
    store.readings.save(reading, user="tester")
    loaded = store.readings.load(*KEY)
    assert loaded == reading
    assert assess(loaded).baseline.overall_response is not None  # NED
    store.readings.update(
        *KEY, lambda r: set_no_disease(r, "WEEK 8", True), user="tester"
    )
    assert store.readings.load(*KEY).timepoint("WEEK 8").no_disease
    update = [e for e in store.audit.trail() if e.action == "update"][-1]
    assert update.entity == "timepoints"
    assert update.before is not None
    assert update.after is not None
    assert (update.before["no_disease"], update.after["no_disease"]) == (False, True)
    assert update.before["visit_date"] == update.after["visit_date"]
    assert store.audit.verify().ok


def _insert_a_signed_revision_0008_reading(connection: Connection) -> None:
    """Rows, signed version and audit rows as the revision-0008 program wrote them."""
    connection.execute(
        text(
            "INSERT INTO patients (id, patient_id, created_at) "
            "VALUES (1, 'HCC-002', '2025-01-02 10:00:00.000000')"
        )
    )
    connection.execute(
        text(
            "INSERT INTO readings (id, patient_row_id, criteria, reader, status, "
            "revision, signed_version, signed_at, signed_by, first_dose_date, "
            "confirmation_min_days, sd_min_days, require_confirmation, "
            "max_ne_between_confirmation, too_small_mm, pd_min_increase_mm, "
            "baseline_window_days, irecist_confirmation_min_days, "
            "irecist_confirmation_max_days, mrecist_pd_min_increase_mm, "
            "created_at, updated_at) VALUES (1, 1, 'RECIST 1.1', 'dr-a', 'signed', "
            "2, 1, '2025-01-03 09:00:00.000000', 'dr-a', '2024-03-04', 28, 42, 1, "
            "1, 5.0, 5.0, 28, 28, 56, NULL, '2025-01-02 10:00:00.000000', "
            "'2025-01-03 09:00:00.000000')"
        )
    )
    connection.execute(
        text(
            "INSERT INTO lesions (id, reading_id, lesion_id, position, role, organ, "
            "location, is_lymph_node, tracking_uid, is_cystic, "
            "previously_irradiated) VALUES "
            "(1, 1, 'T01', 0, 'target', 'liver', '', 0, NULL, 0, 0)"
        )
    )
    connection.execute(
        text(
            "INSERT INTO timepoints (id, reading_id, visit, position, visit_date, "
            "is_baseline, slice_thickness_mm, modality) VALUES "
            "(1, 1, 'BASELINE', 0, '2024-02-26', 1, NULL, 'CT'), "
            "(2, 1, 'WEEK 8', 1, '2024-04-22', 0, NULL, 'CT')"
        )
    )
    connection.execute(
        text(
            "INSERT INTO measurements (timepoint_id, lesion_row_id, position, "
            "state, long_axis_mm, parts_mm) VALUES (1, 1, 0, 'measured', 42.0, '[]')"
        )
    )
    reading = _stored_before_0010()
    audit_as_written(connection, reading, without={"no_disease"})
    rows = reading_to_rows(reading)
    for values in rows.timepoints.values():
        del values["no_disease"]  # the snapshot as that program signed it
    snapshot = rows_to_snapshot(rows)
    digest = hashlib.sha256(snapshot.encode("utf-8")).hexdigest()
    connection.execute(
        text(
            "INSERT INTO reading_versions (reading_id, version, signed_at, "
            "signed_by, amendment_reason, snapshot, snapshot_sha256) VALUES "
            "(1, 1, '2025-01-03 09:00:00.000000', 'dr-a', NULL, :snapshot, "
            ":digest)"
        ),
        {"snapshot": snapshot, "digest": digest},
    )
    append_raw_audit(
        connection,
        [
            (
                "sign",
                "reading",
                "HCC-002 / RECIST 1.1 / dr-a",
                "HCC-002",
                {
                    "status": "signed",
                    "signed_version": 1,
                    "signed_by": "dr-a",
                    "signed_at": SIGNED_AT,
                    "snapshot_sha256": digest,
                },
            )
        ],
    )


def _timepoint_columns(connection: Connection) -> list[tuple[str, str, bool]]:
    return [
        (c["name"], str(c["type"]), c["nullable"])
        for c in inspect(connection).get_columns("timepoints")
    ]


def test_a_revision_0008_database_upgrades_with_its_signed_reading_intact(
    database_path: Path,
) -> None:
    url = sqlite_url(database_path)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0008")
            _insert_a_signed_revision_0008_reading(connection)
            assert "no_disease" not in {c[0] for c in _timepoint_columns(connection)}
    finally:
        engine.dispose()
    with open_store(url) as store:
        result = store.audit.verify()
        assert result.ok, result.details()
        signed = store.signing.load_signed(*KEY)  # still exactly what was signed
        assert signed.reading == _stored_before_0010()
        loaded = store.readings.load(*KEY)
        assert not loaded.timepoint("WEEK 8").no_disease
        # the empty follow-up was taken as read before; it is not read now
        (week8,) = assess(loaded).timepoints
        assert week8.overall_response is None
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == (
                head_revision()
            )
    finally:
        engine.dispose()


def test_downgrading_to_0009_drops_only_the_no_disease_column(
    database_path: Path,
) -> None:
    url = sqlite_url(database_path)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0008")
            before = _timepoint_columns(connection)
            _insert_a_signed_revision_0008_reading(connection)
            command.upgrade(_alembic_config(connection), "0010")
            assert _timepoint_columns(connection) == [
                *before,
                ("no_disease", "BOOLEAN", False),
            ]
            command.downgrade(_alembic_config(connection), "0009")
        with engine.connect() as connection:
            assert _timepoint_columns(connection) == before
            rows = connection.execute(
                text("SELECT visit, visit_date FROM timepoints ORDER BY position")
            ).all()
            assert [tuple(row) for row in rows] == [
                ("BASELINE", "2024-02-26"),
                ("WEEK 8", "2024-04-22"),
            ]
    finally:
        engine.dispose()
    with open_store(url) as store:  # and upgrades again on open
        assert store.audit.verify().ok
        assert store.readings.load(*KEY) == _stored_before_0010()


def test_a_visit_flagged_no_disease_with_findings_cannot_be_stored(
    store: Store,
) -> None:
    reading = _no_disease_reading()
    store.readings.save(reading, user="tester")
    with pytest.raises(Exception, match="target or non-target lesion T09"):
        store.readings.update(
            *KEY,
            lambda r: Reading(
                patient_id=r.patient_id,
                reader=r.reader,
                lesions=(
                    *r.lesions,
                    Lesion(lesion_id="T09", role=LesionRole.TARGET, organ="liver"),
                ),
                timepoints=r.timepoints,
            ),
            user="tester",
        )
    assert store.readings.load(*KEY) == reading
