"""Saving with the reading saved last (``base``): the change is found in memory.

The same edits saved through both paths (diffing ``base`` in memory, and diffing
the whole stored reading) must leave byte-identical databases: the same rows, the
same audit rows with the same values before and after (and so the same hash
chain), the same cached responses.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from recist_app.recist import (
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    MeasurementState,
    NewLesionObservation,
    NewLesionState,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    ReadingError,
    ResponseParameters,
    TimePoint,
    add_lesion,
    add_timepoint,
    assess,
    record_measurement,
    record_new_lesion,
    record_non_target,
    remove_lesion,
    remove_timepoint,
    replace_lesion,
)
from recist_app.store import (
    ConcurrentEditError,
    ReadingLockedError,
    Store,
    StoreError,
    open_store,
)
from tests.store.conftest import example_reading
from tests.store.strategies import readings

KEY = ("HCC-001", Criteria.RECIST_1_1, "dr-a")
NOW = datetime.datetime(2026, 3, 2, 8, 30, tzinfo=datetime.UTC)
TABLES = (
    "patients",
    "readings",
    "lesions",
    "timepoints",
    "measurements",
    "non_target_assessments",
    "new_lesion_observations",
    "reading_versions",
    "cached_assessments",
    "audit_log",
)


@contextmanager
def _memory_store() -> Iterator[Store]:
    with open_store("sqlite://", clock=lambda: NOW) as store:
        yield store


def _dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every reading table, in primary key order."""
    dumped: dict[str, list[tuple[Any, ...]]] = {}
    with store._unit.session("dumping", write=False) as session:
        connection = session.connection()
        for table in TABLES:
            key = inspect(connection).get_pk_constraint(table)["constrained_columns"]
            rows = connection.execute(
                text(f"SELECT * FROM {table} ORDER BY {', '.join(key)}")
            )
            dumped[table] = [tuple(row) for row in rows]
    return dumped


def _audit_values(store: Store) -> list[tuple[Any, ...]]:
    return [
        (e.action, e.entity, e.entity_key, e.user, e.reason, e.before, e.after)
        for e in reversed(store.audit.trail())
    ]


Edit = Callable[[Reading], Reading]


def _edits() -> list[tuple[str, Edit]]:
    """Realistic edits, each reusing what it leaves alone (as the app's do)."""
    week12 = TimePoint(visit="WEEK 12", date=datetime.date(2024, 5, 27))
    week3 = TimePoint(visit="WEEK 3", date=datetime.date(2024, 3, 18))
    nt02 = Lesion(lesion_id="NT02", role=LesionRole.NON_TARGET, organ="bone")
    return [
        (
            "measure",
            lambda r: record_measurement(
                r, "WEEK 6", Measurement(lesion_id="T01", long_axis_mm=28.5)
            ),
        ),
        (
            "a diameter of -0.0 (the database holds 0.0)",
            lambda r: record_measurement(
                r, "WEEK 6", Measurement(lesion_id="T01", long_axis_mm=-0.0)
            ),
        ),
        (
            "measured again",
            lambda r: record_measurement(
                r, "WEEK 6", Measurement(lesion_id="T01", long_axis_mm=28.0)
            ),
        ),
        (
            "remeasure the baseline",
            lambda r: record_measurement(
                r, "BASELINE", Measurement(lesion_id="T02", short_axis_mm=17.0)
            ),
        ),
        ("add a visit at the end", lambda r: add_timepoint(r, week12)),
        (
            "measure at the new visit",
            lambda r: record_measurement(
                r,
                "WEEK 12",
                Measurement(lesion_id="T01", state=MeasurementState.DISAPPEARED),
            ),
        ),
        (
            "non-target",
            lambda r: record_non_target(
                r,
                "WEEK 12",
                NonTargetAssessment(lesion_id="NT01", state=NonTargetState.ABSENT),
            ),
        ),
        (
            "new lesion",
            lambda r: record_new_lesion(
                r,
                "WEEK 12",
                NewLesionObservation(lesion_id="N01", state=NewLesionState.UNEQUIVOCAL),
            ),
        ),
        ("add a visit between (later ones move)", lambda r: add_timepoint(r, week3)),
        ("add a lesion", lambda r: add_lesion(r, nt02)),
        (
            "rename an organ",
            lambda r: replace_lesion(
                r, dataclasses.replace(r.lesion("T01"), organ="liver segment 7")
            ),
        ),
        (
            "lesions reordered",
            lambda r: dataclasses.replace(r, lesions=tuple(reversed(r.lesions))),
        ),
        (
            "parameters",
            lambda r: dataclasses.replace(
                r,
                first_dose_date=datetime.date(2024, 3, 5),
                params=ResponseParameters(sd_min_days=56),
            ),
        ),
        ("remove a visit", lambda r: remove_timepoint(r, "WEEK 3")),
        ("remove a lesion and its findings", lambda r: remove_lesion(r, "T02")),
        ("nothing at all", lambda r: r),
    ]


def test_each_edit_saved_in_memory_writes_what_the_full_diff_writes() -> None:
    names, edits = zip(*_edits(), strict=True)
    saved: list[Reading] = [example_reading()]
    with _memory_store() as by_base, _memory_store() as by_diff:
        record = by_base.readings.save(saved[0])
        by_diff.readings.save(saved[0])
        for name, edit in zip(names, edits, strict=True):
            changed = edit(saved[-1])
            record = by_base.readings.save(
                changed,
                base=saved[-1],
                base_revision=record.revision,
                assessment=assess(changed),
            )
            diff_record = by_diff.readings.save(changed)
            assert record == diff_record, name
            assert _audit_values(by_base) == _audit_values(by_diff), name
            assert _dump(by_base) == _dump(by_diff), name
            saved.append(changed)
        assert by_base.readings.load(*KEY) == saved[-1]
        assert by_base.audit.verify().ok
        # Every edit but the last changed something, each one revision.
        assert record.revision == len(edits)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    first=readings(patient_id="HCC-001"),
    data=st.data(),
)
def test_any_two_readings_diff_the_same_in_memory_and_in_the_database(
    first: Reading, data: st.DataObject
) -> None:
    second = data.draw(readings(patient_id="HCC-001"))
    second = dataclasses.replace(second, criteria=first.criteria, reader=first.reader)
    # Keep some visits the very same objects, as an edit does.
    kept = data.draw(st.sets(st.integers(0, 3)))
    timepoints = list(second.timepoints)
    for index in sorted(kept):
        if index < len(first.timepoints) and index < len(timepoints):
            candidate = first.timepoints[index]
            others = {t.visit for j, t in enumerate(timepoints) if j != index}
            if candidate.visit not in others:
                timepoints[index] = candidate
    with contextlib.suppress(ReadingError):  # else diff the reading as drawn
        second = dataclasses.replace(second, timepoints=tuple(timepoints))
    with _memory_store() as by_base, _memory_store() as by_diff:
        record = by_base.readings.save(first, user="tester")
        by_diff.readings.save(first, user="tester")
        by_base.readings.save(
            second, user="tester", base=first, base_revision=record.revision
        )
        by_diff.readings.save(second, user="tester")
        assert _audit_values(by_base) == _audit_values(by_diff)
        assert _dump(by_base) == _dump(by_diff)
        key = (second.patient_id, second.criteria, second.reader)
        assert by_base.readings.load(*key) == second


def test_a_stale_base_revision_saves_nothing(store: Store, reading: Reading) -> None:
    first = store.readings.save(reading)
    other = record_measurement(
        reading, "WEEK 6", Measurement(lesion_id="T01", long_axis_mm=27.0)
    )
    second = store.readings.save(other)  # another window, same reading
    before = _dump(store)
    mine = record_measurement(
        reading, "WEEK 6", Measurement(lesion_id="T02", short_axis_mm=8.0)
    )
    with pytest.raises(
        ConcurrentEditError,
        match=rf"changed elsewhere \(now revision {second.revision}, yours "
        rf"{first.revision}\); nothing was saved",
    ):
        store.readings.save(mine, base=reading, base_revision=first.revision)
    assert _dump(store) == before
    assert store.readings.load(*KEY) == other


def test_a_base_that_is_not_the_stored_reading_is_refused(
    store: Store, reading: Reading
) -> None:
    record = store.readings.save(reading)
    week12 = TimePoint(visit="WEEK 12", date=datetime.date(2024, 5, 27))
    imagined = record_measurement(
        add_timepoint(reading, week12),
        "WEEK 12",
        Measurement(lesion_id="T01", long_axis_mm=20.0),
    )
    changed = record_measurement(
        imagined, "WEEK 12", Measurement(lesion_id="T01", long_axis_mm=19.0)
    )
    before = _dump(store)
    # WEEK 12 is not stored, so its measurement cannot be updated.
    with pytest.raises(StoreError, match="is not stored as the change expects"):
        store.readings.save(changed, base=imagined, base_revision=record.revision)
    assert _dump(store) == before


def test_a_base_needs_its_revision_and_the_same_reading(
    store: Store, reading: Reading
) -> None:
    record = store.readings.save(reading)
    with pytest.raises(StoreError, match="a base reading needs its base_revision"):
        store.readings.save(reading, base=reading)
    other = dataclasses.replace(reading, reader="dr-b")
    with pytest.raises(StoreError, match=r"the base reading is HCC-001 / RECIST 1\.1"):
        store.readings.save(other, base=reading, base_revision=record.revision)


def test_a_signed_reading_refuses_an_edit_saved_with_its_base(
    store: Store, reading: Reading
) -> None:
    store.readings.save(reading)
    signed = store.signing.sign(*KEY)
    changed = record_measurement(
        reading, "WEEK 6", Measurement(lesion_id="T01", long_axis_mm=10.0)
    )
    with pytest.raises(ReadingLockedError, match="is signed"):
        store.readings.save(changed, base=reading, base_revision=signed.revision)
    # Saving it unchanged is not an edit.
    again = store.readings.save(reading, base=reading, base_revision=signed.revision)
    assert again.revision == signed.revision


def test_a_first_save_with_a_base_creates_the_reading(store: Store) -> None:
    reading = example_reading()
    record = store.readings.save(reading, base=reading, base_revision=0)
    assert record.revision == 1
    assert store.readings.load(*KEY) == reading
