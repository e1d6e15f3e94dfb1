"""The measurement method in the database (click-to-measure, revision 0011)."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

from alembic import command
from sqlalchemy import Connection, create_engine, inspect, text

from recist_app.recist import (
    AxisGeometry,
    Lesion,
    LesionRole,
    Measurement,
    MeasurementGeometry,
    MeasurementMethod,
    Reading,
    TimePoint,
)
from recist_app.store import open_store
from recist_app.store.database import _alembic_config
from tests.store.conftest import sqlite_url

KEY = ("HCC-002", "RECIST 1.1", "dr-a")
SERIES = "1.2.3.4"


def _geometry(method: MeasurementMethod, sop: str) -> MeasurementGeometry:
    return MeasurementGeometry(
        series_instance_uid=SERIES,
        sop_instance_uid=sop,
        long_axis=AxisGeometry(
            start_lps_mm=(0.0, 0.0, 0.0), end_lps_mm=(42.0, 0.0, 0.0)
        ),
        short_axis=AxisGeometry(
            start_lps_mm=(21.0, -15.0, 0.0), end_lps_mm=(21.0, 15.0, 0.0)
        ),
        method=method,
    )


def _reading(corrected: MeasurementMethod) -> Reading:
    def measured(lesion_id: str, method: MeasurementMethod, sop: str) -> Measurement:
        return Measurement(
            lesion_id=lesion_id,
            long_axis_mm=42.0,
            short_axis_mm=30.0,
            geometry=_geometry(method, sop),
        )

    return Reading(
        patient_id="HCC-002",
        reader="dr-a",
        lesions=(
            Lesion(lesion_id="T01", role=LesionRole.TARGET, organ="liver"),
            Lesion(lesion_id="T02", role=LesionRole.TARGET, organ="liver"),
            Lesion(lesion_id="T03", role=LesionRole.TARGET, organ="liver"),
        ),
        timepoints=(
            TimePoint(
                visit="BASELINE",
                date=datetime.date(2024, 2, 26),
                is_baseline=True,
                measurements=(
                    measured("T01", MeasurementMethod.MANUAL, "1.2.3.4.1"),
                    measured("T02", MeasurementMethod.SEMI_AUTOMATIC, "1.2.3.4.2"),
                    measured("T03", corrected, "1.2.3.4.3"),
                ),
            ),
        ),
    )


def _methods(connection: Connection) -> list[str]:
    rows = connection.execute(
        text("SELECT geometry_method FROM measurements ORDER BY position")
    ).all()
    return [str(row[0]) for row in rows]


def _method_type(connection: Connection) -> str:
    columns = inspect(connection).get_columns("measurements")
    return next(str(c["type"]) for c in columns if c["name"] == "geometry_method")


def test_every_method_survives_save_and_load_and_is_audited(
    database_path: Path,
) -> None:
    reading = _reading(MeasurementMethod.SEMI_AUTOMATIC_CORRECTED)
    with open_store(sqlite_url(database_path)) as store:
        store.readings.save(reading, user="tester")
        assert store.readings.load(*KEY) == reading
        assert store.audit.verify().ok


def test_a_revision_0010_database_upgrades_with_its_methods_and_downgrades(
    database_path: Path,
) -> None:
    url = sqlite_url(database_path)
    stored = _reading(MeasurementMethod.SEMI_AUTOMATIC)
    with open_store(url) as store:
        store.readings.save(stored, user="tester")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0010")
            assert _method_type(connection) == "VARCHAR(16)"
            assert _methods(connection) == [
                "manual",
                "semi-automatic",
                "semi-automatic",
            ]
    finally:
        engine.dispose()
    with open_store(url) as store:  # upgrades on open, the rows intact
        assert store.readings.load(*KEY) == stored
        assert store.audit.verify().ok
        corrected = _reading(MeasurementMethod.SEMI_AUTOMATIC_CORRECTED)
        store.readings.save(corrected, user="tester")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            assert _method_type(connection) == "VARCHAR(32)"
            assert _methods(connection)[2] == "semi-automatic, corrected"
            command.downgrade(_alembic_config(connection), "0010")
            assert _methods(connection) == [
                "manual",
                "semi-automatic",
                "semi-automatic",
            ]
            count = connection.execute(
                text("SELECT count(*) FROM measurements")
            ).scalar()
            assert count == 3
    finally:
        engine.dispose()


def test_the_method_is_a_field_with_a_manual_default() -> None:
    geometry = MeasurementGeometry(series_instance_uid=SERIES, sop_instance_uid="1.2")
    assert geometry.method is MeasurementMethod.MANUAL
    changed = dataclasses.replace(geometry, method="semi-automatic, corrected")  # type: ignore[arg-type]
    assert changed.method is MeasurementMethod.SEMI_AUTOMATIC_CORRECTED
