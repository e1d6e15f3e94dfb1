"""Opening the database: URLs, SQLite settings, migrations, schema versions."""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from recist_app.recist import (
    Lesion,
    LesionRole,
    Measurement,
    NonTargetAssessment,
    Reading,
    TimePoint,
    record_measurement,
)
from recist_app.store import (
    DATABASE_URL_ENV,
    SchemaTooNewError,
    StoreError,
    default_database_url,
    head_revision,
    open_store,
    resolve_database_url,
)
from recist_app.store.database import _alembic_config
from recist_app.store.schema import Base
from tests.store.conftest import sqlite_url
from tests.store.legacy import COLUMNS_AFTER_0001, audit_as_written


def test_default_database_is_a_file_in_the_user_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    url = default_database_url()
    assert url == f"sqlite:///{tmp_path / 'data' / 'recist-app' / 'readings.sqlite3'}"
    assert resolve_database_url(None) == url
    with open_store() as store:
        assert store.patients() == ()
    assert (tmp_path / "data" / "recist-app" / "readings.sqlite3").is_file()


def test_the_environment_variable_and_an_explicit_url_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, "sqlite:////site/readings.db")
    assert resolve_database_url(None) == "sqlite:////site/readings.db"
    assert resolve_database_url("sqlite:////x.db") == "sqlite:////x.db"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(database_path: Path) -> None:
    with open_store(sqlite_url(database_path)) as store:
        with store._unit.engine.connect() as connection:
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
            synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
        assert (journal, foreign_keys, synchronous) == ("wal", 1, 2)
    with sqlite3.connect(database_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()


def test_foreign_keys_are_enforced(store_url: str) -> None:
    with (
        open_store(store_url) as store,
        pytest.raises(StoreError, match="FOREIGN KEY constraint failed"),
        store._unit.session("testing", write=True) as session,
    ):
        session.execute(
            text(
                "INSERT INTO lesions (reading_id, lesion_id, position, role, "
                "organ, location, is_lymph_node, is_cystic, "
                "previously_irradiated) VALUES (999, 'T01', 0, 'target', "
                "'liver', '', 0, 0, 0)"
            )
        )


@pytest.fixture
def store_url(database_path: Path) -> str:
    return sqlite_url(database_path)


def test_the_migrations_create_exactly_the_orm_schema(store_url: str) -> None:
    open_store(store_url).close()
    engine = create_engine(store_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() == head_revision()
    finally:
        engine.dispose()


def _revision_0001_reading() -> Reading:
    """The reading the rows below hold."""
    return Reading(
        patient_id="HCC-001",
        reader="dr-a",
        first_dose_date=datetime.date(2024, 3, 4),
        lesions=(
            Lesion(
                lesion_id="T01",
                role=LesionRole.TARGET,
                organ="liver",
                location="segment 7",
            ),
            Lesion(lesion_id="NT01", role=LesionRole.NON_TARGET, organ="portal vein"),
        ),
        timepoints=(
            TimePoint(
                visit="BASELINE",
                date=datetime.date(2024, 2, 26),
                is_baseline=True,
                slice_thickness_mm=5.0,
                measurements=(Measurement(lesion_id="T01", long_axis_mm=42.0),),
                non_target=(NonTargetAssessment(lesion_id="NT01"),),
            ),
        ),
    )


def test_a_first_revision_database_upgrades_with_its_data_intact(
    store_url: str, reading: Reading
) -> None:
    engine = create_engine(store_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0001")
        # Rows as the revision-0001 program wrote them (plain SQL: today's ORM
        # classes describe the newest schema).
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
                    "(1, 1, 'RECIST 1.1', 'dr-a', 'draft', 1, 0, '2024-03-04', 28, "
                    "42, 1, 1, 5.0, 5.0, 28, '2025-01-02 10:00:00.000000', "
                    "'2025-01-02 10:00:00.000000')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO lesions (id, reading_id, lesion_id, position, role, "
                    "organ, location, is_lymph_node, tracking_uid, is_cystic, "
                    "previously_irradiated) VALUES "
                    "(1, 1, 'T01', 0, 'target', 'liver', 'segment 7', 0, NULL, 0, 0), "
                    "(2, 1, 'NT01', 1, 'non-target', 'portal vein', '', 0, NULL, 0, 0)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO timepoints (id, reading_id, visit, position, "
                    "visit_date, is_baseline, slice_thickness_mm, modality) VALUES "
                    "(1, 1, 'BASELINE', 0, '2024-02-26', 1, 5.0, 'CT')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO measurements (timepoint_id, lesion_row_id, position, "
                    "state, long_axis_mm, parts_mm) VALUES "
                    "(1, 1, 0, 'measured', 42.0, '[]')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO non_target_assessments (timepoint_id, "
                    "lesion_row_id, position, state) VALUES (1, 2, 0, 'present')"
                )
            )
            # ... and the audit rows it wrote, with the columns it had.
            audit_as_written(
                connection, _revision_0001_reading(), without=COLUMNS_AFTER_0001
            )
            tables_before = set(
                connection.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'table'")
                ).scalars()
            )
    finally:
        engine.dispose()
    assert "studies" not in tables_before
    with open_store(store_url) as store:
        loaded = store.readings.load("HCC-001", "RECIST 1.1", "dr-a")
        assert loaded.first_dose_date is not None
        assert loaded.lesion("T01").location == "segment 7"
        # Columns added by later revisions hold the rules' defaults.
        assert loaded.params.irecist_confirmation_min_days == 28
        assert loaded.params.irecist_confirmation_max_days == 56
        assert loaded.params.mrecist_pd_min_increase_mm is None
        assert loaded.timepoint("BASELINE").non_target == (
            NonTargetAssessment(lesion_id="NT01", cytology_confirmed=False),
        )
        measurement = loaded.timepoint("BASELINE").measurement("T01")
        assert measurement is not None
        assert measurement.long_axis_mm == 42.0
        remeasured = Measurement(lesion_id="T01", long_axis_mm=41.0)
        store.readings.update(
            "HCC-001",
            "RECIST 1.1",
            "dr-a",
            lambda r: record_measurement(r, "BASELINE", remeasured),
        )
        assert store.patients()[0].study_count == 0
        assert store.audit.verify().ok


def test_a_newer_schema_is_refused_with_a_clear_message(store_url: str) -> None:
    open_store(store_url).close()
    engine = create_engine(store_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    finally:
        engine.dispose()
    with pytest.raises(SchemaTooNewError, match=r"schema revision 0099, newer than"):
        open_store(store_url)


def test_a_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE invoices (id INTEGER)")
    raw.close()
    with pytest.raises(
        StoreError, match=r"holds tables \(invoices\) but no recist-app"
    ):
        open_store(sqlite_url(path))


def test_a_file_that_is_not_a_database_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not SQLite" * 100)
    with pytest.raises(StoreError, match="file is not a database") as caught:
        open_store(sqlite_url(path))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a valid URL"),
        ("postgresql+nosuchdriver://u:secret@host/db", "driver for postgresql"),
    ],
)
def test_bad_urls_are_one_line_errors_without_passwords(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as caught:
        open_store(url)
    assert "secret" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create folder"):
        open_store(sqlite_url(blocker / "sub" / "readings.db"))


def test_reopening_a_current_database_changes_nothing(
    store_url: str, reading: Reading
) -> None:
    with open_store(store_url) as store:
        store.readings.save(reading)
    with open_store(store_url) as store:
        assert store.readings.load("HCC-001", "RECIST 1.1", "dr-a") == reading


def test_a_failed_upgrade_leaves_the_database_as_it_was(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(store_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0001")
            connection.execute(
                text(
                    "INSERT INTO patients (patient_id, created_at) "
                    "VALUES ('HCC-001', '2025-01-02 10:00:00.000000')"
                )
            )
    finally:
        engine.dispose()
    real_upgrade = command.upgrade

    def upgrade_then_fail(config: Config, revision: str) -> None:
        real_upgrade(config, revision)  # every DDL statement ran...
        raise RuntimeError("disk quota exceeded")  # ...then the upgrade failed

    # The store calls alembic's command.upgrade; make that call fail late.
    monkeypatch.setattr(command, "upgrade", upgrade_then_fail)
    with pytest.raises(StoreError, match="schema upgrade failed: disk quota exceeded"):
        open_store(store_url)
    engine = create_engine(store_url)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == (
                "0001"
            )
            tables = set(
                connection.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'table'")
                ).scalars()
            )
            columns = {
                row[1]
                for row in connection.execute(text("PRAGMA table_info(readings)"))
            }
            patients = connection.execute(text("SELECT patient_id FROM patients"))
            assert list(patients.scalars()) == ["HCC-001"]
    finally:
        engine.dispose()
    assert "studies" not in tables
    assert "irecist_confirmation_min_days" not in columns
    monkeypatch.undo()
    with open_store(store_url) as store:
        assert [p.patient_id for p in store.patients()] == ["HCC-001"]
