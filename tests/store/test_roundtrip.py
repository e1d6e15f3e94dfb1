"""Domain reading -> database -> domain reading is the identity, for any reading."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings

from recist_app.exchange import (
    ExchangeError,
    assessment_json_text,
    parse_reading,
    read_reading_file,
    reading_to_dict,
    write_reading_file,
)
from recist_app.recist import (
    AxisGeometry,
    Lesion,
    Measurement,
    MeasurementGeometry,
    NewLesionObservation,
    NonTargetAssessment,
    Reading,
    ResponseParameters,
    TimePoint,
    assess,
)
from recist_app.store import Store
from recist_app.store._rows import (
    GEOMETRY_COLUMNS,
    LESION_COLUMNS,
    MEASUREMENT_COLUMNS,
    NEW_LESION_COLUMNS,
    NON_TARGET_COLUMNS,
    READING_COLUMNS,
    VIABLE_GEOMETRY_COLUMNS,
    VISIT_COLUMNS,
    reading_from_rows,
    reading_to_rows,
    rows_from_snapshot,
    rows_to_snapshot,
)
from tests.store.strategies import readings

ROUND_TRIP = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
        HealthCheck.too_slow,
    ],
)


@ROUND_TRIP
@given(reading=readings())
def test_generated_reading_round_trips_through_the_database(
    store: Store, reading: Reading
) -> None:
    store.readings.save(reading, user="tester")
    loaded = store.readings.load(reading.patient_id, reading.criteria, reading.reader)
    assert loaded == reading


@ROUND_TRIP
@given(first=readings(patient_id="P-EDIT"), second=readings(patient_id="P-EDIT"))
def test_saving_over_a_stored_reading_stores_exactly_the_new_one(
    store: Store, first: Reading, second: Reading
) -> None:
    # Same key, so the second save is a diff against the first: every insert,
    # update and delete path of the writer runs.
    second = Reading(
        patient_id=second.patient_id,
        criteria=first.criteria,
        reader=first.reader,
        first_dose_date=second.first_dose_date,
        params=second.params,
        lesions=second.lesions,
        timepoints=second.timepoints,
    )
    store.readings.save(first, user="tester")
    store.readings.save(second, user="tester")
    assert store.readings.load(first.patient_id, first.criteria, first.reader) == second
    assert store.audit.verify().ok


@settings(max_examples=150, deadline=None)
@given(reading=readings())
def test_rows_and_snapshot_round_trip_without_a_database(reading: Reading) -> None:
    rows = reading_to_rows(reading)
    assert reading_from_rows(rows) == reading
    assert reading_from_rows(rows_from_snapshot(rows_to_snapshot(rows))) == reading


@settings(max_examples=20)
@given(reading=readings())
def test_row_values_use_exactly_the_declared_columns(reading: Reading) -> None:
    rows = reading_to_rows(reading)
    assert tuple(rows.reading) == READING_COLUMNS
    for values in rows.lesions.values():
        assert tuple(values) == LESION_COLUMNS
    for values in rows.timepoints.values():
        assert tuple(values) == VISIT_COLUMNS
    for values in rows.measurements.values():
        assert tuple(values) == MEASUREMENT_COLUMNS
    for values in rows.non_target.values():
        assert tuple(values) == NON_TARGET_COLUMNS
    for values in rows.new_lesions.values():
        assert tuple(values) == NEW_LESION_COLUMNS


@ROUND_TRIP
@given(reading=readings())
def test_reading_file_to_database_to_reading_file_is_identical(
    store: Store, reading: Reading
) -> None:
    # The CLI converts DB -> domain -> file with exchange; the file must not change.
    # Values are compared, not text: SQLite stores -0.0 as 0.0 (equal numbers).
    file_data = json.loads(json.dumps(reading_to_dict(reading)))
    try:
        parsed = parse_reading(file_data)
    except ExchangeError:
        assume(False)  # the file format is stricter than a reading in progress
    store.readings.save(parsed, user="tester")
    loaded = store.readings.load(parsed.patient_id, parsed.criteria, parsed.reader)
    assert json.loads(json.dumps(reading_to_dict(loaded))) == file_data


def test_evaluate_on_an_exported_file_equals_what_the_store_shows(
    store: Store, reading: Reading, tmp_path: Path
) -> None:
    store.readings.save(reading)
    path = tmp_path / "reading.json"
    write_reading_file(store.readings.load("HCC-001", reading.criteria, "dr-a"), path)
    from_file = assess(read_reading_file(path))
    shown = store.responses.load("HCC-001", reading.criteria, "dr-a")
    assert assessment_json_text(shown) == assessment_json_text(from_file)


@pytest.mark.parametrize("criteria", ["RECIST 1.1", "mRECIST", "iRECIST"])
def test_every_criteria_set_is_stored(
    store: Store, reading: Reading, criteria: str
) -> None:
    changed = Reading(
        patient_id=reading.patient_id,
        criteria=criteria,  # type: ignore[arg-type]
        reader=reading.reader,
        lesions=reading.lesions,
        timepoints=reading.timepoints,
    )
    store.readings.save(changed)
    assert store.readings.load(reading.patient_id, criteria, reading.reader) == changed


def _names(cls: type) -> set[str]:
    return {item.name for item in dataclasses.fields(cls)}


def test_every_domain_field_has_a_column() -> None:
    # A field added to the domain model must get a column (and a migration)
    # here, or it would be silently dropped on save.
    assert _names(ResponseParameters) == set(READING_COLUMNS) - {"first_dose_date"}
    assert _names(Reading) == {
        "patient_id",
        "criteria",
        "reader",
        "first_dose_date",
        "params",
        "lesions",
        "timepoints",
    }
    assert _names(Lesion) == set(LESION_COLUMNS) - {"position"}
    assert _names(TimePoint) == (set(VISIT_COLUMNS) - {"position", "visit_date"}) | {
        "date",
        "measurements",
        "non_target",
        "new_lesions",
    }
    geometry = set(GEOMETRY_COLUMNS)
    viable_geometry = set(VIABLE_GEOMETRY_COLUMNS)
    assert viable_geometry == {f"viable_{name}" for name in geometry}
    assert _names(Measurement) == (
        set(MEASUREMENT_COLUMNS) - {"position"} - geometry - viable_geometry
    ) | {"lesion_id", "geometry", "viable_geometry"}
    assert _names(NonTargetAssessment) == (
        set(NON_TARGET_COLUMNS) - {"position"} - geometry
    ) | {"lesion_id", "geometry"}
    assert _names(NewLesionObservation) == (
        set(NEW_LESION_COLUMNS) - {"position"} - geometry
    ) | {"lesion_id", "geometry"}
    assert _names(MeasurementGeometry) == {
        "series_instance_uid",
        "sop_instance_uid",
        "long_axis",
        "short_axis",
        "method",
    }
    assert _names(AxisGeometry) == {"start_lps_mm", "end_lps_mm"}


def test_a_snapshot_signed_before_later_columns_reads_with_their_defaults(
    reading: Reading,
) -> None:
    data = json.loads(rows_to_snapshot(reading_to_rows(reading)))
    for name in (
        "irecist_confirmation_min_days",
        "irecist_confirmation_max_days",
        "mrecist_pd_min_increase_mm",
    ):
        del data["reading"][name]
    for item in data["non_target"]:
        del item["values"]["cytology_confirmed"]
    for item in data["new_lesions"]:
        del item["values"]["typical_vascular_pattern"]
        del item["values"]["cytology_confirmed"]  # revision 0009
    for item in data["measurements"]:  # revision 0005
        for name in VIABLE_GEOMETRY_COLUMNS:
            del item["values"][name]
    assert reading_from_rows(rows_from_snapshot(json.dumps(data))) == reading
