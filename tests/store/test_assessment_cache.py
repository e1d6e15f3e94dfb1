"""The response cache holds the one converter's dict: what it returns is ``assess``.

Each test makes the second load come from the cache (``assess`` is out of reach of
the store then), so a field the cache dropped or changed would show.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import create_engine, text

import recist_app.store.responses as store_module
from recist_app.recist import (
    Criteria,
    Measurement,
    MeasurementState,
    NewLesionObservation,
    Reading,
    assess,
    assessment_to_dict,
)
from tests.store.conftest import example_reading, sqlite_url
from tests.store.strategies import readings

if TYPE_CHECKING:
    from pathlib import Path

    from recist_app.recist import Assessment
    from recist_app.store import Store


def _no_assess(reading: Reading) -> Assessment:
    raise AssertionError("load_assessment recomputed instead of reading the cache")


def _cached(store: Store, reading: Reading, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as patch:
        patch.setattr(store_module, "assess", _no_assess)
        return store.responses.load(
            reading.patient_id, reading.criteria, reading.reader
        )


def _every_count(criteria: Criteria) -> Reading:
    """T01 split, T02 (node) too small at WEEK 6; a measured new lesion (H4)."""
    reading = example_reading()
    week_6 = reading.timepoints[1]
    week_6 = dataclasses.replace(
        week_6,
        measurements=(
            Measurement(
                lesion_id="T01",
                state=MeasurementState.SPLIT,
                parts_mm=(12.3, 9.45),
            ),
            Measurement(lesion_id="T02", state=MeasurementState.TOO_SMALL),
        ),
        new_lesions=(NewLesionObservation(lesion_id="N01", long_axis_mm=14.0),),
    )
    baseline = reading.timepoints[0]
    viable = Measurement(lesion_id="T01", long_axis_mm=42.0, viable_long_axis_mm=35.0)
    baseline = dataclasses.replace(
        baseline, measurements=(viable, *baseline.measurements[1:])
    )
    return dataclasses.replace(
        reading, criteria=criteria, timepoints=(baseline, week_6)
    )


@pytest.mark.parametrize("criteria", list(Criteria), ids=lambda c: c.value)
def test_the_cached_assessment_is_what_assess_gives(
    store: Store, criteria: Criteria, monkeypatch: pytest.MonkeyPatch
) -> None:
    reading = _every_count(criteria)
    store.readings.save(reading, user="tester")
    cached = _cached(store, reading, monkeypatch)
    assert cached == assess(reading)
    week_6 = assess(reading).timepoint("WEEK 6")
    assert [d.diameter_mm for d in week_6.target_diameters] == [21.75, 5.0]
    if criteria is Criteria.IRECIST:
        assert week_6.new_lesion_sum_mm == 14.0


def test_the_cache_stores_the_canonical_json_of_the_dict(
    store: Store, database_path: Path
) -> None:
    reading = _every_count(Criteria.IRECIST)
    store.readings.save(reading, user="tester")
    engine = create_engine(sqlite_url(database_path))
    try:
        with engine.connect() as connection:
            stored = connection.execute(
                text("SELECT assessment FROM cached_assessments")
            ).scalar_one()
    finally:
        engine.dispose()
    expected = assessment_to_dict(assess(reading))
    assert json.loads(stored) == expected
    assert stored == json.dumps(
        expected, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(reading=readings())
def test_any_cached_assessment_round_trips(
    store: Store, reading: Reading, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.readings.save(reading, user="tester")
    # The first load recaches when the database changed a value while storing it
    # (SQLite keeps -0.0 as 0.0, so the saved rows' digest differs).
    store.responses.load(reading.patient_id, reading.criteria, reading.reader)
    assert _cached(store, reading, monkeypatch) == assess(reading)
