"""Where the mRECIST viable line was drawn, in the database (revision 0005)."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, create_engine, inspect, text

from recist_app.recist import (
    AxisGeometry,
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    MeasurementGeometry,
    MeasurementMethod,
    Reading,
    TimePoint,
    record_measurement,
)
from recist_app.store import (
    ImportedSignOff,
    ImportOutcome,
    ReadingConflictError,
    Store,
    head_revision,
    open_store,
)
from recist_app.store._rows import VIABLE_GEOMETRY_COLUMNS
from recist_app.store.database import _alembic_config
from tests.store.conftest import example_reading, sqlite_url
from tests.store.legacy import audit_as_written

ARTERIAL_SERIES = "1.2.826.0.1.3680043.8.498.2"
VIABLE = MeasurementGeometry(
    series_instance_uid=ARTERIAL_SERIES,
    sop_instance_uid=f"{ARTERIAL_SERIES}.17",
    long_axis=AxisGeometry(
        start_lps_mm=(15.25, -20.5, 103.0), end_lps_mm=(40.75, -20.5, 103.0)
    ),
    method=MeasurementMethod.MANUAL,
)


def _with_viable(reading: Reading, geometry: MeasurementGeometry) -> Reading:
    """``reading`` under mRECIST, its baseline only, T01 with a viable line."""
    baseline = reading.timepoints[0]
    t01 = baseline.measurements[0]
    assert t01.lesion_id == "T01"
    assert geometry.long_axis is not None
    viable = dataclasses.replace(
        t01, viable_long_axis_mm=geometry.long_axis.length_mm, viable_geometry=geometry
    )
    timepoint = dataclasses.replace(
        baseline, measurements=(viable, *baseline.measurements[1:])
    )
    return dataclasses.replace(
        reading, criteria=Criteria.MRECIST, timepoints=(timepoint,)
    )


@pytest.fixture
def viable_reading() -> Reading:
    return _with_viable(example_reading(), VIABLE)


def test_the_viable_line_survives_save_and_load(
    store: Store, viable_reading: Reading
) -> None:
    store.readings.save(viable_reading, user="tester")
    loaded = store.readings.load("HCC-001", Criteria.MRECIST, "dr-a")
    assert loaded == viable_reading
    t01 = loaded.timepoint("BASELINE").measurement("T01")
    assert t01 is not None
    assert t01.viable_geometry == VIABLE
    assert t01.geometry is not None
    assert t01.geometry.series_instance_uid != VIABLE.series_instance_uid


def test_moving_the_viable_line_is_an_audited_update(
    store: Store, viable_reading: Reading
) -> None:
    store.readings.save(viable_reading, user="tester")
    moved = MeasurementGeometry(
        series_instance_uid=ARTERIAL_SERIES,
        sop_instance_uid=f"{ARTERIAL_SERIES}.18",
        long_axis=AxisGeometry(
            start_lps_mm=(15.25, -20.5, 108.0), end_lps_mm=(44.0, -20.5, 108.0)
        ),
    )
    t01 = viable_reading.timepoints[0].measurements[0]
    remeasured = dataclasses.replace(
        t01, viable_long_axis_mm=28.75, viable_geometry=moved
    )
    store.readings.update(
        "HCC-001",
        Criteria.MRECIST,
        "dr-a",
        lambda r: record_measurement(r, "BASELINE", remeasured),
        user="tester",
    )
    baseline = store.readings.load("HCC-001", Criteria.MRECIST, "dr-a").timepoints[0]
    assert baseline.measurements[0].viable_geometry == moved
    update = [e for e in store.audit.trail() if e.action == "update"][-1]
    assert update.entity == "measurements"
    assert update.before is not None
    assert update.after is not None
    assert update.before["viable_geometry_sop_instance_uid"] == f"{ARTERIAL_SERIES}.17"
    assert update.after["viable_geometry_sop_instance_uid"] == f"{ARTERIAL_SERIES}.18"
    assert update.after["viable_long_axis_end_l_mm"] == 44.0
    assert update.before["long_axis_end_l_mm"] == update.after["long_axis_end_l_mm"]
    assert store.audit.verify().ok


def test_a_signed_version_keeps_the_viable_line(
    store: Store, viable_reading: Reading
) -> None:
    signed = ImportedSignOff(
        status="signed",
        signed_by="dr-a",
        signed_at=datetime.datetime(2024, 5, 2, 9, 30, tzinfo=datetime.UTC),
        version=1,
    )
    store.readings.import_reading(
        viable_reading, sign_off=signed, source_sha256="ab" * 32, user="imp"
    )
    (version,) = store.signing.history("HCC-001", Criteria.MRECIST, "dr-a")
    assert version.reading == viable_reading


def test_reimporting_a_viable_line_is_unchanged_and_moving_it_a_conflict(
    store: Store, viable_reading: Reading
) -> None:
    first = store.readings.import_reading(
        viable_reading, source_sha256="ab" * 32, user="imp"
    )
    assert first.outcome is ImportOutcome.CREATED
    audit = store.audit.trail()
    again = store.readings.import_reading(
        viable_reading, source_sha256="ab" * 32, user="imp"
    )
    assert again.outcome is ImportOutcome.UNCHANGED
    assert store.audit.trail() == audit
    other_image = dataclasses.replace(VIABLE, sop_instance_uid=f"{ARTERIAL_SERIES}.19")
    moved = _with_viable(example_reading(), other_image)
    with pytest.raises(
        ReadingConflictError,
        match=r"visit BASELINE, lesion T01: viable_geometry_sop_instance_uid",
    ):
        store.readings.import_reading(moved, source_sha256="cd" * 32, user="imp")
    assert store.readings.load("HCC-001", Criteria.MRECIST, "dr-a") == viable_reading


# ------------------------------------------------------------- revision 0005


def _insert_a_revision_0004_reading(connection: Connection) -> None:
    """Rows as the revision-0004 program wrote them (plain SQL)."""
    connection.execute(
        text(
            "INSERT INTO patients (id, patient_id, created_at) "
            "VALUES (1, 'HCC-001', '2025-01-02 10:00:00.000000')"
        )
    )
    connection.execute(
        text(
            "INSERT INTO readings (id, patient_row_id, criteria, reader, status, "
            "revision, signed_version, first_dose_date, confirmation_min_days, "
            "sd_min_days, require_confirmation, max_ne_between_confirmation, "
            "too_small_mm, pd_min_increase_mm, baseline_window_days, "
            "irecist_confirmation_min_days, irecist_confirmation_max_days, "
            "mrecist_pd_min_increase_mm, created_at, updated_at) VALUES "
            "(1, 1, 'mRECIST', 'dr-a', 'draft', 1, 0, '2024-03-04', 28, 42, 1, 1, "
            "5.0, 5.0, 28, 28, 56, NULL, '2025-01-02 10:00:00.000000', "
            "'2025-01-02 10:00:00.000000')"
        )
    )
    connection.execute(
        text(
            "INSERT INTO lesions (id, reading_id, lesion_id, position, role, organ, "
            "location, is_lymph_node, tracking_uid, is_cystic, "
            "previously_irradiated) VALUES "
            "(1, 1, 'T01', 0, 'target', 'liver', 'segment 7', 0, NULL, 0, 0)"
        )
    )
    connection.execute(
        text(
            "INSERT INTO timepoints (id, reading_id, visit, position, visit_date, "
            "is_baseline, slice_thickness_mm, modality) VALUES "
            "(1, 1, 'BASELINE', 0, '2024-02-26', 1, 5.0, 'CT')"
        )
    )
    connection.execute(
        text(
            "INSERT INTO measurements (id, timepoint_id, lesion_row_id, position, "
            "state, long_axis_mm, short_axis_mm, viable_long_axis_mm, parts_mm, "
            "geometry_series_instance_uid, geometry_sop_instance_uid, "
            "geometry_method, long_axis_start_l_mm, long_axis_start_p_mm, "
            "long_axis_start_s_mm, long_axis_end_l_mm, long_axis_end_p_mm, "
            "long_axis_end_s_mm) VALUES "
            "(1, 1, 1, 0, 'measured', 42.0, 30.0, 25.5, '[]', '1.2.3', '1.2.3.17', "
            "'manual', 10.5, -20.25, 103.0, 52.5, -20.25, 103.0)"
        )
    )
    # ... and the audit rows it wrote, without the columns 0005 added.
    stored = Reading(
        patient_id="HCC-001",
        criteria=Criteria.MRECIST,
        reader="dr-a",
        first_dose_date=datetime.date(2024, 3, 4),
        lesions=(
            Lesion(
                lesion_id="T01",
                role=LesionRole.TARGET,
                organ="liver",
                location="segment 7",
            ),
        ),
        timepoints=(
            TimePoint(
                visit="BASELINE",
                date=datetime.date(2024, 2, 26),
                is_baseline=True,
                slice_thickness_mm=5.0,
                measurements=(
                    Measurement(
                        lesion_id="T01",
                        long_axis_mm=42.0,
                        short_axis_mm=30.0,
                        viable_long_axis_mm=25.5,
                        geometry=MeasurementGeometry(
                            series_instance_uid="1.2.3",
                            sop_instance_uid="1.2.3.17",
                            long_axis=AxisGeometry(
                                start_lps_mm=(10.5, -20.25, 103.0),
                                end_lps_mm=(52.5, -20.25, 103.0),
                            ),
                        ),
                    ),
                ),
            ),
        ),
    )
    audit_as_written(connection, stored, without=VIABLE_GEOMETRY_COLUMNS)


def _measurement_table(connection: Connection) -> dict[str, Any]:
    found = inspect(connection)
    return {
        "columns": [
            (c["name"], str(c["type"]), c["nullable"])
            for c in found.get_columns("measurements")
        ],
        "unique": found.get_unique_constraints("measurements"),
        "foreign_keys": sorted(
            found.get_foreign_keys("measurements"), key=lambda fk: str(fk["name"])
        ),
    }


def test_a_revision_0004_database_upgrades_with_its_data_intact(
    database_path: Path,
) -> None:
    url = sqlite_url(database_path)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0004")
        with engine.begin() as connection:
            _insert_a_revision_0004_reading(connection)
            columns = {
                c["name"] for c in inspect(connection).get_columns("measurements")
            }
            assert not columns & set(VIABLE_GEOMETRY_COLUMNS)
    finally:
        engine.dispose()
    with open_store(url) as store:
        loaded = store.readings.load("HCC-001", Criteria.MRECIST, "dr-a")
        t01 = loaded.timepoint("BASELINE").measurement("T01")
        assert t01 == Measurement(
            lesion_id="T01",
            long_axis_mm=42.0,
            short_axis_mm=30.0,
            viable_long_axis_mm=25.5,
            geometry=MeasurementGeometry(
                series_instance_uid="1.2.3",
                sop_instance_uid="1.2.3.17",
                long_axis=AxisGeometry(
                    start_lps_mm=(10.5, -20.25, 103.0),
                    end_lps_mm=(52.5, -20.25, 103.0),
                ),
            ),
        )
        # The upgraded database stores the viable line from now on.
        drawn = dataclasses.replace(t01, viable_geometry=VIABLE)
        store.readings.update(
            "HCC-001",
            Criteria.MRECIST,
            "dr-a",
            lambda r: record_measurement(r, "BASELINE", drawn),
            user="dr-a",
        )
        reopened = store.readings.load("HCC-001", Criteria.MRECIST, "dr-a")
        assert reopened.timepoint("BASELINE").measurement("T01") == drawn
        assert store.audit.verify().ok
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == (
                head_revision()
            )
    finally:
        engine.dispose()


def test_downgrading_to_0004_drops_only_the_viable_line(database_path: Path) -> None:
    url = sqlite_url(database_path)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0004")
            before = _measurement_table(connection)
            _insert_a_revision_0004_reading(connection)
            command.upgrade(_alembic_config(connection), "0005")
            connection.execute(
                text(
                    "UPDATE measurements SET viable_geometry_series_instance_uid = "
                    "'1.2.4', viable_geometry_sop_instance_uid = '1.2.4.17'"
                )
            )
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0004")
        with engine.connect() as connection:
            assert _measurement_table(connection) == before
            rows = connection.execute(
                text(
                    "SELECT long_axis_mm, viable_long_axis_mm, "
                    "geometry_sop_instance_uid, long_axis_end_l_mm FROM measurements"
                )
            ).all()
            assert [tuple(row) for row in rows] == [(42.0, 25.5, "1.2.3.17", 52.5)]
    finally:
        engine.dispose()
    with open_store(url) as store:  # and upgrades again on open
        t01 = store.readings.load("HCC-001", Criteria.MRECIST, "dr-a").timepoints[0]
        assert t01.measurements[0].viable_geometry is None
        assert t01.measurements[0].viable_long_axis_mm == 25.5
