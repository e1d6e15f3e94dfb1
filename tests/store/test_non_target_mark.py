"""Schema revision 0012: where a non-target lesion was marked (issue 18).

Upgrading keeps every non-target (no mark, as before); a mark drawn afterwards is
stored and reloaded; downgrading drops the marks and keeps the states.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import TYPE_CHECKING

from alembic import command
from sqlalchemy import create_engine, inspect

from recist_app.recist import (
    AxisGeometry,
    Lesion,
    LesionRole,
    MeasurementGeometry,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    TimePoint,
    record_non_target,
)
from recist_app.store import head_revision, open_store
from recist_app.store.database import _alembic_config
from tests.store.conftest import sqlite_url

if TYPE_CHECKING:
    from pathlib import Path

READING = Reading(
    patient_id="HCC-002",
    reader="dr-b",
    lesions=(Lesion(lesion_id="NT01", role=LesionRole.NON_TARGET, organ="lung"),),
    timepoints=(
        TimePoint(
            visit="BASELINE",
            date=datetime.date(2024, 2, 26),
            is_baseline=True,
            non_target=(NonTargetAssessment(lesion_id="NT01"),),
        ),
    ),
)

MARK = MeasurementGeometry(
    series_instance_uid="1.2.826.0.1.3680043.8.498.1",
    sop_instance_uid="1.2.826.0.1.3680043.8.498.1.9",
    long_axis=AxisGeometry(
        start_lps_mm=(60.0, -10.0, 110.0), end_lps_mm=(70.0, -10.0, 110.0)
    ),
)


def _columns(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        table = inspect(engine).get_columns("non_target_assessments")
        return {column["name"] for column in table}
    finally:
        engine.dispose()


def test_0012_upgrade_keeps_non_targets_and_stores_marks_downgrade_drops_them(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path / "readings.sqlite3")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0011")
    finally:
        engine.dispose()
    assert "geometry_sop_instance_uid" not in _columns(url)
    with open_store(url) as store:  # upgrades 0011 -> head
        first = store.readings.save(READING, user="dr-b")  # no mark: as before
        assert store.readings.load("HCC-002", reader="dr-b") == READING
        marked = record_non_target(
            READING,
            "BASELINE",
            dataclasses.replace(READING.timepoints[0].non_target[0], geometry=MARK),
        )
        store.readings.save(
            marked, user="dr-b", base=READING, base_revision=first.revision
        )
        loaded = store.readings.load("HCC-002", reader="dr-b")
        assert loaded.timepoints[0].non_target[0].geometry == MARK
        assert store.audit.verify().ok
    assert "geometry_sop_instance_uid" in _columns(url)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            assert head_revision() >= "0012"  # later revisions downgrade first
            command.downgrade(_alembic_config(connection), "0011")
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT state FROM non_target_assessments"
            ).all()
    finally:
        engine.dispose()
    assert "geometry_sop_instance_uid" not in _columns(url)
    assert [row[0] for row in rows] == [NonTargetState.PRESENT.value]
