"""The response cache, keyed by the reading's revision and the engine (0006)."""

from __future__ import annotations

import datetime
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, create_engine, inspect, text

from recist_app.recist import (
    ENGINE_VERSION,
    Assessment,
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    Reading,
    TimePoint,
    assess,
    assessment_from_dict,
    assessment_to_dict,
    record_measurement,
)
from recist_app.store import Store, StoreError, open_store
from recist_app.store._rows import canonical_json
from recist_app.store.database import _alembic_config
from tests.store.conftest import example_reading, sqlite_url

KEY = ("HCC-001", Criteria.RECIST_1_1, "dr-a")
MARK = "served from the cache"


def _to_json(assessment: Assessment) -> str:
    """The cache's text: canonical JSON of the one assessment converter's dict."""
    return canonical_json(assessment_to_dict(assessment))


def _from_json(text: str) -> Assessment:
    return assessment_from_dict(json.loads(text))


def _cache(database_path: Path) -> tuple[int, str]:
    with sqlite3.connect(database_path) as connection:
        found = connection.execute(
            "SELECT reading_revision, assessment FROM cached_assessments"
        ).fetchone()
    connection.close()
    assert found is not None
    return int(found[0]), str(found[1])


def _mark(database_path: Path, *, revision: int | None = None) -> None:
    """Make the cached assessment recognisable (and key it to ``revision``)."""
    _revision, cached = _cache(database_path)
    data = json.loads(cached)
    data["best_overall_response"]["reasons"] = [MARK]
    with sqlite3.connect(database_path) as connection:
        connection.execute(
            "UPDATE cached_assessments SET assessment = ?", (json.dumps(data),)
        )
        if revision is not None:
            connection.execute(
                "UPDATE cached_assessments SET reading_revision = ?", (revision,)
            )
    connection.close()


def _served_from_cache(assessment: Assessment) -> bool:
    return assessment.best_overall_response.reasons == (MARK,)


def _remeasured(reading: Reading, long_axis_mm: float) -> Reading:
    return record_measurement(
        reading, "WEEK 6", Measurement(lesion_id="T01", long_axis_mm=long_axis_mm)
    )


def test_a_save_caches_the_responses_of_its_revision(
    store: Store, reading: Reading, database_path: Path
) -> None:
    record = store.readings.save(reading)
    revision, cached = _cache(database_path)
    assert revision == record.revision
    assert _from_json(cached) == assess(reading)


def test_the_cache_of_the_stored_revision_is_served_as_it_is(
    store: Store,
    reading: Reading,
    database_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store.readings.save(reading)
    _mark(database_path)

    def no_assessing(_reading: Reading) -> Assessment:
        raise AssertionError("assessed although the cache is valid")

    monkeypatch.setattr("recist_app.store.responses.assess", no_assessing)
    assert _served_from_cache(store.responses.load(*KEY))


def test_a_cache_is_stale_after_another_save_and_valid_after_reloading(
    store: Store, reading: Reading, database_path: Path
) -> None:
    first = store.readings.save(reading)
    changed = _remeasured(reading, 27.0)
    second = store.readings.save(changed)  # say, from another workstation
    # The cache of the first revision, left behind: stale now.
    _mark(database_path, revision=first.revision)
    assert store.responses.load(*KEY) == assess(changed)
    revision, cached = _cache(database_path)
    assert revision == second.revision  # refreshed by the load
    assert _from_json(cached) == assess(changed)
    _mark(database_path)
    assert _served_from_cache(store.responses.load(*KEY))


def test_signing_and_amending_keep_the_cache_valid(
    store: Store, reading: Reading, database_path: Path
) -> None:
    store.readings.save(reading)
    _mark(database_path)
    signed = store.signing.sign(*KEY)
    assert _cache(database_path)[0] == signed.revision
    assert _served_from_cache(store.responses.load(*KEY))
    amended = store.signing.amend(*KEY, reason="T01 remeasured")
    assert _cache(database_path)[0] == amended.revision
    assert _served_from_cache(store.responses.load(*KEY))


def test_an_assessment_handed_in_is_cached_without_assessing_again(
    store: Store,
    reading: Reading,
    database_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = store.readings.save(reading)
    changed = _remeasured(reading, 26.0)
    assessment = assess(changed)

    def no_assessing(_reading: Reading) -> Assessment:
        raise AssertionError("assessed although the caller handed it in")

    monkeypatch.setattr("recist_app.store.responses.assess", no_assessing)
    saved = store.readings.save(
        changed, base=reading, base_revision=record.revision, assessment=assessment
    )
    assert _cache(database_path) == (saved.revision, _to_json(assessment))
    monkeypatch.undo()
    assert store.responses.load(*KEY) == assessment


def test_an_assessment_of_another_reading_is_refused(
    store: Store, reading: Reading
) -> None:
    record = store.readings.save(reading)
    other = assess(example_reading(patient_id="HCC-002"))
    with pytest.raises(StoreError, match="the assessment handed in is of HCC-002"):
        store.readings.save(
            _remeasured(reading, 25.0),
            base=reading,
            base_revision=record.revision,
            assessment=other,
        )
    assert store.readings.record(*KEY).revision == record.revision


# ------------------------------------------------------------ migration 0006


def _small_reading() -> Reading:
    """What :func:`_insert_a_revision_0005_reading` stores."""
    return Reading(
        patient_id="HCC-001",
        reader="dr-a",
        first_dose_date=datetime.date(2024, 3, 4),
        lesions=(Lesion(lesion_id="T01", role=LesionRole.TARGET, organ="liver"),),
        timepoints=(
            TimePoint(
                visit="BASELINE",
                date=datetime.date(2024, 2, 26),
                is_baseline=True,
                slice_thickness_mm=5.0,
                measurements=(Measurement(lesion_id="T01", long_axis_mm=42.0),),
            ),
        ),
    )


def _remeasured_baseline(reading: Reading) -> Reading:
    return record_measurement(
        reading, "BASELINE", Measurement(lesion_id="T01", long_axis_mm=41.0)
    )


def _marked_assessment() -> str:
    data = json.loads(_to_json(assess(_small_reading())))
    data["best_overall_response"]["reasons"] = [MARK]
    return json.dumps(data)


def _insert_a_revision_0005_reading(connection: Connection) -> None:
    """A reading at revision 3 and its cached responses, as revision 0005 wrote."""
    statements = [
        "INSERT INTO patients (id, patient_id, created_at) "
        "VALUES (1, 'HCC-001', '2025-01-02 10:00:00.000000')",
        "INSERT INTO readings (id, patient_row_id, criteria, reader, status, "
        "revision, signed_version, first_dose_date, confirmation_min_days, "
        "sd_min_days, require_confirmation, max_ne_between_confirmation, "
        "too_small_mm, pd_min_increase_mm, baseline_window_days, "
        "irecist_confirmation_min_days, irecist_confirmation_max_days, "
        "mrecist_pd_min_increase_mm, created_at, updated_at) VALUES "
        "(1, 1, 'RECIST 1.1', 'dr-a', 'draft', 3, 0, '2024-03-04', 28, 42, 1, 1, "
        "5.0, 5.0, 28, 28, 56, NULL, '2025-01-02 10:00:00.000000', "
        "'2025-01-02 10:00:00.000000')",
        "INSERT INTO lesions (id, reading_id, lesion_id, position, role, organ, "
        "location, is_lymph_node, tracking_uid, is_cystic, previously_irradiated) "
        "VALUES (1, 1, 'T01', 0, 'target', 'liver', '', 0, NULL, 0, 0)",
        "INSERT INTO timepoints (id, reading_id, visit, position, visit_date, "
        "is_baseline, slice_thickness_mm, modality) VALUES "
        "(1, 1, 'BASELINE', 0, '2024-02-26', 1, 5.0, 'CT')",
        "INSERT INTO measurements (id, timepoint_id, lesion_row_id, position, "
        "state, long_axis_mm, parts_mm) VALUES (1, 1, 1, 0, 'measured', 42.0, '[]')",
    ]
    for statement in statements:
        connection.execute(text(statement))
    connection.execute(
        text(
            "INSERT INTO cached_assessments (reading_id, engine_version, "
            "reading_sha256, computed_at, best_overall_response, "
            "best_response_confirmed, assessment) VALUES (1, :engine, :digest, "
            "'2025-01-02 10:00:00.000000', 'NE', 0, :assessment)"
        ),
        {
            "engine": ENGINE_VERSION,
            "digest": "a" * 64,
            "assessment": _marked_assessment(),
        },
    )


def _cache_table(connection: Connection) -> dict[str, Any]:
    found = inspect(connection)
    return {
        "columns": [
            (c["name"], str(c["type"]), c["nullable"])
            for c in found.get_columns("cached_assessments")
        ],
        "primary_key": found.get_pk_constraint("cached_assessments"),
        "foreign_keys": found.get_foreign_keys("cached_assessments"),
    }


def test_a_revision_0005_database_upgrades_keeping_its_cached_responses(
    database_path: Path,
) -> None:
    url = sqlite_url(database_path)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0005")
            _insert_a_revision_0005_reading(connection)
    finally:
        engine.dispose()
    with open_store(url) as store:
        assert store.readings.load(*KEY) == _small_reading()
        assert _cache(database_path) == (3, _marked_assessment())
        # Kept, and valid for the reading's revision: served as it is.
        assert _served_from_cache(store.responses.load(*KEY))
        # The next save moves the revision on and caches anew.
        store.readings.update(*KEY, _remeasured_baseline)
        expected = assess(_remeasured_baseline(_small_reading()))
        assert store.responses.load(*KEY) == expected
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            names = {name for name, _type, _null in _cache_table(connection)["columns"]}
            assert "reading_sha256" not in names
            assert "reading_revision" in names
    finally:
        engine.dispose()


def test_downgrading_to_0005_keeps_the_cache_rows_to_be_recomputed(
    database_path: Path,
) -> None:
    url = sqlite_url(database_path)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0005")
            before = _cache_table(connection)
            _insert_a_revision_0005_reading(connection)
            command.upgrade(_alembic_config(connection), "0006")
            revision = connection.execute(
                text("SELECT reading_revision FROM cached_assessments")
            ).scalar_one()
            assert revision == 3
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0005")
        with engine.connect() as connection:
            assert _cache_table(connection) == before
            rows = connection.execute(
                text(
                    "SELECT reading_id, engine_version, reading_sha256, assessment "
                    "FROM cached_assessments"
                )
            ).all()
            # An empty digest matches no reading: revision 0005 recomputes it.
            assert [tuple(row) for row in rows] == [
                (1, ENGINE_VERSION, "", _marked_assessment())
            ]
    finally:
        engine.dispose()
    with open_store(url) as store:  # and upgrades again on open
        assert store.readings.load(*KEY) == _small_reading()
        assert _cache(database_path)[0] == 3
