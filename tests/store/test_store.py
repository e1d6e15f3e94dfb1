"""Saving, locking, amending, history, the response cache and listings."""

from __future__ import annotations

import dataclasses
import datetime
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from recist_app.recist import (
    ENGINE_VERSION,
    Criteria,
    Measurement,
    MeasurementState,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    ReadingError,
    assess,
    record_measurement,
    record_non_target,
)
from recist_app.store import (
    ConcurrentEditError,
    ReadingLockedError,
    ReadingNotFoundError,
    ReadingStatus,
    Store,
    StoreError,
    open_store,
)
from tests.store.conftest import sqlite_url

KEY = ("HCC-001", Criteria.RECIST_1_1, "dr-a")


def _fixed_clock() -> Iterator[datetime.datetime]:
    start = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)
    for minutes in itertools.count():
        yield start + datetime.timedelta(minutes=minutes)


def _measure(store: Store, visit: str, lesion_id: str, long_mm: float) -> None:
    measurement = Measurement(lesion_id=lesion_id, long_axis_mm=long_mm)
    store.readings.update(*KEY, lambda r: record_measurement(r, visit, measurement))


def test_a_new_reading_is_a_draft_at_revision_one(
    store: Store, reading: Reading
) -> None:
    record = store.readings.save(reading)
    assert record.status is ReadingStatus.DRAFT
    assert record.revision == 1
    assert record.label == "HCC-001 / RECIST 1.1 / dr-a"


def test_saving_an_unchanged_reading_writes_nothing(
    store: Store, reading: Reading
) -> None:
    store.readings.save(reading)
    rows_before = len(store.audit.trail())
    record = store.readings.save(reading)
    assert record.revision == 1
    assert len(store.audit.trail()) == rows_before


def test_one_measurement_is_one_audit_row_with_before_and_after(
    store: Store, reading: Reading
) -> None:
    store.readings.save(reading)
    _measure(store, "WEEK 6", "T01", 28.5)
    latest = store.audit.trail(limit=1)[0]
    assert (latest.action, latest.entity, latest.user) == (
        "update",
        "measurements",
        "dr-a",
    )
    assert latest.entity_key == "HCC-001 / RECIST 1.1 / dr-a / WEEK 6 / T01"
    assert latest.before is not None
    assert latest.before["long_axis_mm"] == 30.0
    assert latest.after is not None
    assert latest.after["long_axis_mm"] == 28.5
    assert store.readings.load(*KEY).timepoint("WEEK 6").measurement("T01") == (
        Measurement(lesion_id="T01", long_axis_mm=28.5)
    )


def test_deleting_a_lesion_deletes_and_audits_its_findings(
    store: Store, reading: Reading
) -> None:
    from recist_app.recist import remove_lesion

    store.readings.save(reading)
    store.readings.update(*KEY, lambda r: remove_lesion(r, "T02"))
    loaded = store.readings.load(*KEY)
    assert [lesion.lesion_id for lesion in loaded.lesions] == ["T01", "NT01", "N01"]
    deleted = {
        entry.entity_key for entry in store.audit.trail() if entry.action == "delete"
    }
    assert deleted == {
        "HCC-001 / RECIST 1.1 / dr-a / T02",
        "HCC-001 / RECIST 1.1 / dr-a / BASELINE / T02",
        "HCC-001 / RECIST 1.1 / dr-a / WEEK 6 / T02",
    }


def test_update_reading_passes_domain_errors_through_and_saves_nothing(
    store: Store, reading: Reading
) -> None:
    store.readings.save(reading)
    with pytest.raises(ReadingError, match="unknown lesion id"):
        store.readings.update(
            *KEY,
            lambda r: record_non_target(
                r, "WEEK 6", NonTargetAssessment(lesion_id="NT09")
            ),
        )
    assert store.readings.record(*KEY).revision == 1


def test_update_reading_refuses_a_change_of_identity(
    store: Store, reading: Reading
) -> None:
    store.readings.save(reading)
    with pytest.raises(StoreError, match="different patient, criteria or reader"):
        store.readings.update(
            *KEY, lambda r: dataclasses.replace(r, patient_id="HCC-002")
        )


def test_a_stale_copy_cannot_overwrite_a_newer_save(
    store: Store, reading: Reading
) -> None:
    first = store.readings.save(reading)
    _measure(store, "WEEK 6", "T01", 27.0)  # another window, same reading
    with pytest.raises(ConcurrentEditError, match="changed elsewhere"):
        store.readings.save(reading, base_revision=first.revision)
    assert store.readings.load(*KEY).timepoint("WEEK 6").measurement("T01") == (
        Measurement(lesion_id="T01", long_axis_mm=27.0)
    )


def test_the_audit_needs_a_user(store: Store, reading: Reading) -> None:
    anonymous = dataclasses.replace(reading, reader="")
    with pytest.raises(StoreError, match="needs who made the change"):
        store.readings.save(anonymous)
    store.readings.save(anonymous, user="site-admin")
    assert store.audit.trail(limit=1)[0].user == "site-admin"


def test_unknown_readings_and_criteria_are_clear_errors(store: Store) -> None:
    with pytest.raises(ReadingNotFoundError, match=r"no reading HCC-404 / RECIST 1\.1"):
        store.readings.load("HCC-404", "RECIST 1.1", "dr-a")
    with pytest.raises(StoreError, match="unknown criteria 'RECIST 2'"):
        store.readings.load("HCC-001", "RECIST 2", "dr-a")


# ------------------------------------------------------------ sign and amend


def test_a_signed_reading_is_locked(store: Store, reading: Reading) -> None:
    store.readings.save(reading)
    signed = store.signing.sign(*KEY)
    assert (signed.status, signed.signed_version, signed.signed_by) == (
        ReadingStatus.SIGNED,
        1,
        "dr-a",
    )
    with pytest.raises(
        ReadingLockedError, match=r"is signed .* amend it with a reason"
    ):
        _measure(store, "WEEK 6", "T01", 10.0)
    with pytest.raises(ReadingLockedError):
        store.readings.save(dataclasses.replace(reading, first_dose_date=None))
    with pytest.raises(ReadingLockedError, match="already signed"):
        store.signing.sign(*KEY)
    assert store.readings.load(*KEY) == reading
    store.readings.save(reading)  # identical: not an edit, allowed


def test_amending_needs_a_reason_and_keeps_the_original(
    store: Store, reading: Reading
) -> None:
    store.readings.save(reading)
    store.signing.sign(*KEY)
    with pytest.raises(StoreError, match="a reason is required"):
        store.signing.amend(*KEY, reason="  ")
    amended = store.signing.amend(*KEY, reason="T01 remeasured on thinner series")
    assert amended.status is ReadingStatus.DRAFT
    assert amended.amendment_reason == "T01 remeasured on thinner series"
    _measure(store, "WEEK 6", "T01", 31.0)
    edit = store.audit.trail(limit=1)[0]
    assert edit.reason == "amendment: T01 remeasured on thinner series"
    store.signing.sign(*KEY, user="dr-b")
    history = store.signing.history(*KEY)
    assert [version.version for version in history] == [1, 2]
    assert history[0].reading == reading
    assert history[0].amendment_reason is None
    assert history[1].amendment_reason == "T01 remeasured on thinner series"
    assert history[1].signed_by == "dr-b"
    assert history[1].reading.timepoint("WEEK 6").measurement("T01") == (
        Measurement(lesion_id="T01", long_axis_mm=31.0)
    )
    assert store.readings.record(*KEY).amendment_reason is None


def test_only_a_signed_reading_can_be_amended(store: Store, reading: Reading) -> None:
    store.readings.save(reading)
    with pytest.raises(StoreError, match="not signed, so it can be edited directly"):
        store.signing.amend(*KEY, reason="why")


# ------------------------------------------------------------ response cache


def test_responses_are_cached_with_the_engine_version(
    store: Store, reading: Reading, database_path: Path
) -> None:
    store.readings.save(reading)
    engine = create_engine(sqlite_url(database_path))
    try:
        with engine.connect() as connection:
            version, best = connection.execute(
                text(
                    "SELECT engine_version, best_overall_response "
                    "FROM cached_assessments"
                )
            ).one()
    finally:
        engine.dispose()
    assert version == ENGINE_VERSION
    assert best == assess(reading).best_overall_response.response.value
    assert store.responses.load(*KEY) == assess(reading)


def test_a_cache_from_another_engine_version_is_recomputed(
    store: Store, reading: Reading, database_path: Path
) -> None:
    store.readings.save(reading)
    engine = create_engine(sqlite_url(database_path))
    try:
        with engine.begin() as connection:
            # An older engine that (say) called this reading PD.
            connection.execute(
                text(
                    "UPDATE cached_assessments SET engine_version = 'old/0', "
                    "assessment = replace(assessment, '\"PR\"', '\"PD\"')"
                )
            )
        assert store.responses.load(*KEY) == assess(reading)
        with engine.connect() as connection:
            version = connection.execute(
                text("SELECT engine_version FROM cached_assessments")
            ).scalar_one()
        assert version == ENGINE_VERSION
    finally:
        engine.dispose()


def test_a_cache_that_does_not_match_the_stored_reading_is_ignored(
    store: Store, reading: Reading, database_path: Path
) -> None:
    store.readings.save(reading)
    engine = create_engine(sqlite_url(database_path))
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE measurements SET long_axis_mm = 60 WHERE long_axis_mm = 30"
                )
            )
            # The cache is keyed by the reading's revision (schema 0006): a
            # change of the stored reading is one that moves it, as every save
            # does.
            connection.execute(text("UPDATE readings SET revision = revision + 1"))
    finally:
        engine.dispose()
    changed = store.readings.load(*KEY)
    assert store.responses.load(*KEY) == assess(changed)


# ------------------------------------------------------------ listings


def test_patients_and_readings_are_listed(store: Store, reading: Reading) -> None:
    store.readings.save(reading)
    store.readings.save(dataclasses.replace(reading, reader="dr-b"))
    store.readings.save(dataclasses.replace(reading, patient_id="HCC-002"))
    patients = store.patients()
    assert [(p.patient_id, p.reading_count) for p in patients] == [
        ("HCC-001", 2),
        ("HCC-002", 1),
    ]
    assert [r.reader for r in store.readings.list("HCC-001")] == ["dr-a", "dr-b"]
    assert len(store.readings.list()) == 3
    assert {e.patient_id for e in store.audit.trail("HCC-002")} == {"HCC-002"}


def test_the_clock_is_injectable_and_must_be_aware(
    database_path: Path, reading: Reading
) -> None:
    ticks = _fixed_clock()
    with open_store(sqlite_url(database_path), clock=lambda: next(ticks)) as store:
        record = store.readings.save(reading)
        assert record.updated_at == datetime.datetime(
            2026, 1, 5, 9, 0, tzinfo=datetime.UTC
        )
    with (
        open_store(
            sqlite_url(database_path), clock=lambda: datetime.datetime(2026, 1, 1)
        ) as store,
        pytest.raises(StoreError, match="aware datetime"),
    ):
        store.readings.save(dataclasses.replace(reading, first_dose_date=None))


def test_a_reading_stored_in_an_invalid_state_is_reported_not_crashed(
    store: Store, reading: Reading, database_path: Path
) -> None:
    store.readings.save(reading)
    engine = create_engine(sqlite_url(database_path))
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE timepoints SET visit_date = '2023-01-01'"))
    finally:
        engine.dispose()
    with pytest.raises(StoreError, match="stored in an invalid state: visit"):
        store.readings.load(*KEY)


def test_split_and_merged_states_are_kept(store: Store, reading: Reading) -> None:
    store.readings.save(reading)
    split = Measurement(
        lesion_id="T01", state=MeasurementState.SPLIT, parts_mm=(12.0, 9.5)
    )
    merged = Measurement(
        lesion_id="T02", state=MeasurementState.MERGED, merged_into="T01"
    )
    store.readings.update(*KEY, lambda r: record_measurement(r, "WEEK 6", split))
    store.readings.update(*KEY, lambda r: record_measurement(r, "WEEK 6", merged))
    week6 = store.readings.load(*KEY).timepoint("WEEK 6")
    assert week6.measurement("T01") == Measurement(
        lesion_id="T01", state=MeasurementState.SPLIT, parts_mm=(12.0, 9.5)
    )
    assert week6.non_target_state("NT01") is NonTargetState.PRESENT


def test_text_longer_than_its_column_is_refused_on_every_backend(
    store: Store, reading: Reading
) -> None:
    from recist_app.recist import Lesion, LesionRole, add_lesion

    store.readings.save(reading)
    long_organ = Lesion(lesion_id="NT02", role=LesionRole.NON_TARGET, organ="x" * 200)
    with pytest.raises(
        StoreError, match="lesion NT02: organ has 200 characters, more than the 128"
    ):
        store.readings.update(*KEY, lambda r: add_lesion(r, long_organ))
    assert store.readings.record(*KEY).revision == 1


def test_responses_are_shown_while_another_program_holds_the_write_lock(
    reading: Reading, database_path: Path
) -> None:
    import sqlite3

    with open_store(sqlite_url(database_path), busy_timeout_s=0.1) as store:
        store.readings.save(reading)
        engine = create_engine(sqlite_url(database_path))
        try:
            with engine.begin() as connection:
                connection.execute(text("DELETE FROM cached_assessments"))
        finally:
            engine.dispose()
        holder = sqlite3.connect(database_path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            assert store.responses.load(*KEY) == assess(reading)
        finally:
            holder.execute("ROLLBACK")
            holder.close()


def test_the_audit_trail_of_one_reading(store: Store, reading: Reading) -> None:
    store.readings.save(reading)
    store.readings.save(dataclasses.replace(reading, reader="dr_b%"))
    _measure(store, "WEEK 6", "T01", 29.0)
    mine = store.audit.trail("HCC-001", criteria="RECIST 1.1", reader="dr-a")
    theirs = store.audit.trail("HCC-001", criteria=Criteria.RECIST_1_1, reader="dr_b%")
    assert mine[0].entity_key == "HCC-001 / RECIST 1.1 / dr-a / WEEK 6 / T01"
    assert all(e.entity_key.startswith("HCC-001 / RECIST 1.1 / dr-a") for e in mine)
    assert all("dr_b%" in e.entity_key for e in theirs)
    assert len(mine) + len(theirs) + 1 == len(store.audit.trail())  # + the patient
    with pytest.raises(StoreError, match="give patient_id, criteria and reader"):
        store.audit.trail(reader="dr-a")
