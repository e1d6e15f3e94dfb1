"""Schema revision 0009: a new lesion's cytology flag (mRECIST J4).

Also the non-target state ``further_increase`` (iRECIST H2), which needs no
column: an upgraded database of any revision stores and reloads it.
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, create_engine, inspect, text

from recist_app.recist import (
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    NewLesionObservation,
    NewLesionState,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    TimePoint,
    record_new_lesion,
    record_non_target,
)
from recist_app.store import head_revision, open_store
from recist_app.store.database import _alembic_config
from tests.store.conftest import sqlite_url
from tests.store.legacy import audit_as_written

KEY = ("HCC-001", Criteria.MRECIST, "dr-a")

STORED = Reading(
    patient_id="HCC-001",
    criteria=Criteria.MRECIST,
    reader="dr-a",
    first_dose_date=datetime.date(2024, 3, 4),
    lesions=(
        Lesion(lesion_id="T01", role=LesionRole.TARGET, organ="liver"),
        Lesion(lesion_id="NT01", role=LesionRole.NON_TARGET, organ="peritoneum"),
        Lesion(lesion_id="N01", role=LesionRole.NEW, organ="pleura", location="right"),
    ),
    timepoints=(
        TimePoint(
            visit="BASELINE",
            date=datetime.date(2024, 2, 26),
            is_baseline=True,
            measurements=(
                Measurement(
                    lesion_id="T01", long_axis_mm=42.0, viable_long_axis_mm=30.0
                ),
            ),
        ),
        TimePoint(
            visit="WEEK 6",
            date=datetime.date(2024, 4, 15),
            measurements=(
                Measurement(
                    lesion_id="T01", long_axis_mm=40.0, viable_long_axis_mm=28.0
                ),
            ),
            new_lesions=(
                NewLesionObservation(
                    lesion_id="N01",
                    state=NewLesionState.UNEQUIVOCAL,
                    long_axis_mm=31.5,
                    typical_vascular_pattern=None,
                ),
            ),
        ),
    ),
)
"""A reading as the revision-0008 program stored it (no non-target state yet)."""


def _insert_a_revision_0008_reading(connection: Connection) -> None:
    """Rows as the revision-0008 program wrote them (plain SQL), and its audit."""
    statements = [
        "INSERT INTO patients (id, patient_id, created_at) "
        "VALUES (1, 'HCC-001', '2025-01-02 10:00:00.000000')",
        "INSERT INTO readings (id, patient_row_id, criteria, reader, status, "
        "revision, signed_version, first_dose_date, confirmation_min_days, "
        "sd_min_days, require_confirmation, max_ne_between_confirmation, "
        "too_small_mm, pd_min_increase_mm, baseline_window_days, "
        "irecist_confirmation_min_days, irecist_confirmation_max_days, "
        "mrecist_pd_min_increase_mm, created_at, updated_at) VALUES "
        "(1, 1, 'mRECIST', 'dr-a', 'draft', 1, 0, '2024-03-04', 28, 42, 1, 1, "
        "5.0, 5.0, 28, 28, 56, NULL, '2025-01-02 10:00:00.000000', "
        "'2025-01-02 10:00:00.000000')",
        "INSERT INTO lesions (id, reading_id, lesion_id, position, role, organ, "
        "location, is_lymph_node, tracking_uid, is_cystic, previously_irradiated) "
        "VALUES (1, 1, 'T01', 0, 'target', 'liver', '', 0, NULL, 0, 0), "
        "(2, 1, 'NT01', 1, 'non-target', 'peritoneum', '', 0, NULL, 0, 0), "
        "(3, 1, 'N01', 2, 'new', 'pleura', 'right', 0, NULL, 0, 0)",
        "INSERT INTO timepoints (id, reading_id, visit, position, visit_date, "
        "is_baseline, slice_thickness_mm, modality) VALUES "
        "(1, 1, 'BASELINE', 0, '2024-02-26', 1, NULL, 'CT'), "
        "(2, 1, 'WEEK 6', 1, '2024-04-15', 0, NULL, 'CT')",
        "INSERT INTO measurements (id, timepoint_id, lesion_row_id, position, "
        "state, long_axis_mm, short_axis_mm, viable_long_axis_mm, parts_mm) "
        "VALUES (1, 1, 1, 0, 'measured', 42.0, NULL, 30.0, '[]'), "
        "(2, 2, 1, 0, 'measured', 40.0, NULL, 28.0, '[]')",
        "INSERT INTO new_lesion_observations (id, timepoint_id, lesion_row_id, "
        "position, state, not_imaged_at_baseline, long_axis_mm, short_axis_mm, "
        "typical_vascular_pattern) VALUES "
        "(1, 2, 3, 0, 'unequivocal', 0, 31.5, NULL, NULL)",
    ]
    for statement in statements:
        connection.execute(text(statement))
    # The audit rows it wrote: new lesions without the column 0009 adds (the
    # non-targets' flag of the same name is not in this reading).
    audit_as_written(connection, STORED, without={"cytology_confirmed"})


def _table(connection: Connection, name: str) -> dict[str, Any]:
    found = inspect(connection)
    return {
        "columns": [
            (c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(name)
        ],
        "unique": found.get_unique_constraints(name),
        "foreign_keys": sorted(
            found.get_foreign_keys(name), key=lambda fk: str(fk["name"])
        ),
    }


def _current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def test_a_revision_0008_database_upgrades_with_its_data_intact(
    database_path: Path,
) -> None:
    url = sqlite_url(database_path)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0008")
            _insert_a_revision_0008_reading(connection)
            columns = _table(connection, "new_lesion_observations")["columns"]
            assert "cytology_confirmed" not in [name for name, *_ in columns]
    finally:
        engine.dispose()
    with open_store(url) as store:
        result = store.audit.verify()
        assert result.ok, result.details()
        loaded = store.readings.load(*KEY)
        assert loaded == STORED
        (n01,) = loaded.timepoint("WEEK 6").new_lesions
        assert n01.cytology_confirmed is False
        # The upgraded database records the flag and iRECIST's further increase.
        proven = dataclasses.replace(n01, cytology_confirmed=True)
        increased = NonTargetAssessment(
            lesion_id="NT01", state=NonTargetState.FURTHER_INCREASE
        )
        store.readings.update(
            *KEY,
            lambda r: record_non_target(
                record_new_lesion(r, "WEEK 6", proven), "WEEK 6", increased
            ),
            user="dr-a",
        )
        reopened = store.readings.load(*KEY).timepoint("WEEK 6")
        assert reopened.new_lesions == (proven,)
        assert reopened.non_target == (increased,)
        result = store.audit.verify()
        assert result.ok, result.details()
        (update,) = [
            e
            for e in store.audit.trail()
            if e.entity == "new_lesions" and e.action == "update"
        ]
        assert update.before is not None
        assert update.after is not None
        assert (
            update.before["cytology_confirmed"],
            update.after["cytology_confirmed"],
        ) == (
            False,
            True,
        )
    assert _current_revision(url) == head_revision()


def test_downgrading_to_0008_drops_only_the_cytology_flag(
    database_path: Path,
) -> None:
    url = sqlite_url(database_path)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0008")
            before = _table(connection, "new_lesion_observations")
            _insert_a_revision_0008_reading(connection)
            command.upgrade(_alembic_config(connection), "0009")
            assert _table(connection, "new_lesion_observations") != before
            connection.execute(
                text("UPDATE new_lesion_observations SET cytology_confirmed = 1")
            )
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0008")
        with engine.connect() as connection:
            assert _table(connection, "new_lesion_observations") == before
            rows = connection.execute(
                text(
                    "SELECT state, long_axis_mm, not_imaged_at_baseline "
                    "FROM new_lesion_observations"
                )
            ).all()
            assert [tuple(row) for row in rows] == [("unequivocal", 31.5, 0)]
    finally:
        engine.dispose()
    assert _current_revision(url) == "0008"
    with open_store(url) as store:  # and upgrades again on open
        (n01,) = store.readings.load(*KEY).timepoint("WEEK 6").new_lesions
        assert n01.cytology_confirmed is False
        assert n01.long_axis_mm == 31.5
    assert _current_revision(url) == head_revision()
