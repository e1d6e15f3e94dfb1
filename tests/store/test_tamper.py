"""Tampering with plain SQL is found by ``audit verify`` (issue 17, the database).

Each test changes the database the way someone with the file (or a database
login) could, without recist-app, and checks what verify reports: the rows that
differ from the audit trail with their patient, reader, visit and lesion, a
signed reading whose rows are no longer what was signed, a trail cut back or
extended with a forged row (found with an anchor or the audit key), and
disabled or altered triggers.
"""

from __future__ import annotations

import dataclasses
import datetime
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from recist_app.recist import (
    Measurement,
    NewLesionObservation,
    NewLesionState,
    Reading,
    record_measurement,
)
from recist_app.store import (
    ClinicalDates,
    ImportedSignOff,
    SignatureMismatchError,
    Store,
    StoredAdverseEvent,
    StoreError,
    open_store,
)
from recist_app.store._rows import (
    canonical_json,
    reading_to_rows,
    rows_sha256,
    rows_to_snapshot,
)
from recist_app.store.audit import audit_row_digest, audit_row_mac
from tests.store.conftest import sqlite_url

KEY = ("HCC-001", "RECIST 1.1", "dr-a")
AUDIT_KEY = b"site audit key kept in a vault"
LABEL = "HCC-001 / RECIST 1.1 / dr-a"
HASHED = (
    "sequence",
    "recorded_at",
    "user_name",
    "action",
    "entity",
    "entity_key",
    "patient_id",
    "reason",
    "before_values",
    "after_values",
    "previous_hash",
)


@pytest.fixture
def raw(database_path: Path, store: Store) -> Iterator[sqlite3.Connection]:
    """A plain SQLite connection to the store's file: what a tamperer uses."""
    connection = sqlite3.connect(database_path, isolation_level=None)
    try:
        yield connection
    finally:
        connection.close()


def _problems(store: Store) -> list[str]:
    result = store.audit.verify()
    assert not result.ok
    return [str(divergence) for divergence in result.divergences]


def _measurement_where(visit: str, lesion_id: str) -> str:
    return (
        f"timepoint_id = (SELECT id FROM timepoints WHERE visit = '{visit}') AND "
        f"lesion_row_id = (SELECT id FROM lesions WHERE lesion_id = '{lesion_id}')"
    )


# ------------------------------------------------------------ the data


def test_an_edited_measurement_of_a_draft_is_reported_with_where_it_is(
    store: Store, reading: Reading, raw: sqlite3.Connection
) -> None:
    store.readings.save(reading)
    assert store.audit.verify().ok
    raw.execute(
        "UPDATE measurements SET long_axis_mm = 31.0 WHERE "
        + _measurement_where("WEEK 6", "T01")
    )
    result = store.audit.verify()
    assert not result.ok
    assert result.chain_ok  # the chain itself was not touched
    assert [str(d) for d in result.divergences] == [
        f"{LABEL}: visit WEEK 6, lesion T01: measurement long_axis_mm is 31.0 in "
        "the database, 30.0 in the audit trail"
    ]
    found = result.divergences[0]
    assert (found.patient_id, found.visit, found.lesion_id) == (
        "HCC-001",
        "WEEK 6",
        "T01",
    )
    assert str(result).startswith(
        "1 difference between the tables and the audit trail (first: HCC-001"
    )


def test_an_edited_measurement_of_a_signed_reading_breaks_its_signature(
    store: Store, reading: Reading, raw: sqlite3.Connection
) -> None:
    store.readings.save(reading)
    store.signing.sign(*KEY)
    raw.execute(
        "UPDATE measurements SET short_axis_mm = 8.0 WHERE "
        + _measurement_where("WEEK 6", "T02")
    )
    assert _problems(store) == [
        f"{LABEL}: visit WEEK 6, lesion T02: measurement short_axis_mm is 8.0 in "
        "the database, 9.0 in the audit trail",
        f"{LABEL}: the stored reading differs from signed version 1 (visit WEEK 6, "
        "lesion T02: short_axis_mm)",
    ]


def test_a_signed_reading_edited_with_its_snapshot_rewritten_is_still_found(
    store: Store, reading: Reading, raw: sqlite3.Connection
) -> None:
    """Rewriting the signed snapshot and its SHA-256 too: the trail keeps the old."""
    store.readings.save(reading)
    store.signing.sign(*KEY)
    raw.execute(
        "UPDATE measurements SET long_axis_mm = 29.0 WHERE "
        + _measurement_where("WEEK 6", "T01")
    )
    edited = record_measurement(
        reading, "WEEK 6", Measurement(lesion_id="T01", long_axis_mm=29.0)
    )
    rows = reading_to_rows(edited)
    raw.execute(
        "UPDATE reading_versions SET snapshot = ?, snapshot_sha256 = ?",
        (rows_to_snapshot(rows), rows_sha256(rows)),
    )
    problems = _problems(store)
    assert (
        f"{LABEL}: signed version 1: its SHA-256 is not the one the audit trail "
        "recorded at signing"
    ) in problems
    assert any("long_axis_mm is 29.0 in the database, 30.0" in p for p in problems)


def test_a_deleted_finding_is_reported(
    store: Store, reading: Reading, raw: sqlite3.Connection
) -> None:
    store.readings.save(reading)
    raw.execute(
        "DELETE FROM non_target_assessments WHERE "
        + _measurement_where("WEEK 6", "NT01")
    )
    assert _problems(store) == [
        f"{LABEL}: visit WEEK 6, lesion NT01: non-target finding is in the audit "
        "trail but not in the database (deleted outside recist-app)"
    ]


def test_an_inserted_finding_is_reported(
    store: Store, reading: Reading, raw: sqlite3.Connection
) -> None:
    store.readings.save(reading)
    raw.execute(
        "INSERT INTO new_lesion_observations (timepoint_id, lesion_row_id, position, "
        "state, not_imaged_at_baseline) VALUES ((SELECT id FROM timepoints WHERE "
        "visit = 'BASELINE'), (SELECT id FROM lesions WHERE lesion_id = 'N01'), 0, "
        "'unequivocal', 0)"
    )
    assert _problems(store) == [
        f"{LABEL}: visit BASELINE, lesion N01: new-lesion finding is in the database "
        "but not in the audit trail (added outside recist-app)"
    ]


def test_a_draft_made_to_look_signed_is_reported(
    store: Store, reading: Reading, raw: sqlite3.Connection
) -> None:
    store.readings.save(reading)
    rows = reading_to_rows(reading)
    raw.execute(
        "UPDATE readings SET status = 'signed', signed_version = 1, "
        "signed_by = 'dr-a', signed_at = '2024-06-01 10:00:00.000000'"
    )
    raw.execute(
        "INSERT INTO reading_versions (reading_id, version, signed_at, signed_by, "
        "snapshot, snapshot_sha256) VALUES (1, 1, '2024-06-01 10:00:00.000000', "
        "'dr-a', ?, ?)",
        (rows_to_snapshot(rows), rows_sha256(rows)),
    )
    assert _problems(store) == [
        f'{LABEL}: reading status is "signed" in the database, "draft" in the '
        "audit trail",
        f"{LABEL}: reading signed_version is 1 in the database, 0 in the audit trail",
        f'{LABEL}: reading signed_by is "dr-a" in the database, null in the audit '
        "trail",
        f'{LABEL}: reading signed_at is "2024-06-01T10:00:00+00:00" in the '
        "database, null in the audit trail",
        f"{LABEL}: signed version 1 is in the database but not in the audit trail",
    ]


def test_a_reading_patient_and_clinical_row_added_or_removed_are_reported(
    store: Store, reading: Reading, raw: sqlite3.Connection
) -> None:
    store.readings.save(reading)
    store.clinical.replace(
        [
            ClinicalDates(
                patient_id="HCC-001",
                first_dose_date=datetime.date(2024, 3, 4),
                data_cutoff_date=datetime.date(2024, 12, 31),
            )
        ],
        user="dm",
    )
    raw.execute("UPDATE clinical_records SET death_date = '2024-07-01'")
    raw.execute(
        "INSERT INTO patients (patient_id, created_at) "
        "VALUES ('HCC-999', '2024-06-01 10:00:00.000000')"
    )
    assert _problems(store) == [
        "patient HCC-999: the patient is in the database but not in the audit trail "
        "(added outside recist-app)",
        'patient HCC-001: clinical death_date is "2024-07-01" in the database, '
        "null in the audit trail",
    ]


def test_an_adverse_event_changed_added_or_removed_by_hand_is_reported(
    store: Store, raw: sqlite3.Connection
) -> None:
    # issue 17 left the adverse events unbound: audit verify now compares them
    def event(term: str, grade: int) -> StoredAdverseEvent:
        return StoredAdverseEvent(
            patient_id="HCC-001",
            term=term,
            soc="",
            grade=grade,
            start_date=datetime.date(2024, 4, 1),
            end_date=None,
            serious=False,
            related=True,
            action=None,
            source="ae.csv",
        )

    store.adverse_events.replace(
        [event("Hypertension", 2), event("Diarrhoea", 1)], user="dm"
    )
    store.adverse_events.replace([event("Hypertension", 2)], user="dm")  # one removed
    assert store.audit.verify().ok
    raw.execute("UPDATE adverse_events SET grade = 1 WHERE term = 'Hypertension'")
    assert _problems(store) == [
        "patient HCC-001: adverse event Hypertension (grade 1, from 2024-04-01) is "
        "in the database but not in the audit trail",
        "patient HCC-001: adverse event Hypertension (grade 2, from 2024-04-01) is "
        "in the audit trail but not in the database",
    ]
    raw.execute("DELETE FROM adverse_events")
    assert _problems(store) == [
        "patient HCC-001: adverse event Hypertension (grade 2, from 2024-04-01) is "
        "in the audit trail but not in the database",
    ]


def test_a_forged_cached_response_is_reported(
    store: Store, reading: Reading, raw: sqlite3.Connection
) -> None:
    """The worklist shows the cached best response: it must be the computed one."""
    store.readings.save(reading)
    (cached,) = raw.execute(
        "SELECT best_overall_response FROM cached_assessments"
    ).fetchone()
    raw.execute("UPDATE cached_assessments SET best_overall_response = 'CR'")
    assert _problems(store) == [
        f"{LABEL}: its cached responses are not what the rules compute from its rows "
        f'(best overall response "CR" cached, "{cached}" computed)'
    ]


@pytest.mark.parametrize(
    "values", ["{not json", "[1, 2]", '{"status": "signed"}'], ids=str
)
def test_an_audit_row_edited_into_nonsense_is_reported_not_a_crash(
    store: Store, reading: Reading, raw: sqlite3.Connection, values: str
) -> None:
    store.readings.save(reading)
    store.signing.sign(*KEY)
    raw.execute("DROP TRIGGER audit_log_no_update")
    (sequence,) = raw.execute(
        "SELECT sequence FROM audit_log WHERE action = 'sign'"
    ).fetchone()
    raw.execute(
        "UPDATE audit_log SET after_values = ? WHERE sequence = ?", (values, sequence)
    )
    result = store.audit.verify()
    assert result.first_broken_sequence == sequence
    assert (
        f"patient HCC-001: audit row {sequence} holds values recist-app never writes "
        "(edited outside recist-app)"
    ) in [str(d) for d in result.divergences]
    with pytest.raises(SignatureMismatchError, match="is not in the audit trail"):
        store.signing.load_signed(*KEY)


# Every data column of every row kind of the example reading, changed on its own.
_ROWS = {
    "readings": "1 = 1",
    "lesions": "lesion_id = 'T01'",
    "timepoints": "visit = 'BASELINE'",
    "measurements": _measurement_where("BASELINE", "T01"),
    "non_target_assessments": _measurement_where("BASELINE", "NT01"),
    "new_lesion_observations": _measurement_where("WEEK 6", "N01"),
}
_IDENTITY = {"criteria", "reader", "lesion_id", "visit"}
_BOOKKEEPING = {
    "id",
    "patient_row_id",
    "reading_id",
    "timepoint_id",
    "lesion_row_id",
    "revision",
    "created_at",
    "updated_at",
}


def _changed(kind: str, value: object, column: str) -> object:
    if column == "status":
        return "signed" if value == "draft" else "draft"
    if value is None:
        return {"FLOAT": 1.5, "INTEGER": 7, "BOOLEAN": 1, "DATE": "2024-01-01"}.get(
            kind, "x" if "VARCHAR" in kind or kind == "TEXT" else "2024-01-01"
        )
    if kind == "BOOLEAN":
        return 1 - int(str(value))
    if isinstance(value, float):
        return value + 0.5
    if isinstance(value, int):
        return value + 1
    if kind == "DATE":
        return (
            datetime.date.fromisoformat(str(value)) + datetime.timedelta(1)
        ).isoformat()
    if kind == "JSON":
        return "[1.0]"
    return f"{value}x"


def test_every_single_column_changed_by_hand_is_found(
    store: Store, raw: sqlite3.Connection, reading: Reading
) -> None:
    week6 = reading.timepoints[1]
    observation = NewLesionObservation(
        lesion_id="N01", state=NewLesionState.EQUIVOCAL, long_axis_mm=6.0
    )
    reading = dataclasses.replace(
        reading,
        timepoints=(
            reading.timepoints[0],
            dataclasses.replace(week6, new_lesions=(observation,)),
        ),
    )
    store.readings.save(reading)
    cases = 0
    for table, where in _ROWS.items():
        columns = raw.execute(f"PRAGMA table_info({table})").fetchall()
        for _cid, column, kind, *_rest in columns:
            if column in _BOOKKEEPING:
                continue
            rowid, before = raw.execute(
                f"SELECT rowid, {column} FROM {table} WHERE {where}"
            ).fetchone()
            raw.execute(
                f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                (_changed(kind, before, column), rowid),
            )
            result = store.audit.verify()
            assert not result.ok, (table, column)
            found = " | ".join(str(d) for d in result.divergences)
            if column in _IDENTITY:  # the row is now another one
                assert "in the database but not in the audit trail" in found
                assert "in the audit trail but not in the database" in found
            else:
                assert f" {column} is " in found, (table, column, found)
            raw.execute(
                f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (before, rowid)
            )
            cases += 1
    assert store.audit.verify().ok
    # with cytology_confirmed (0009), no_disease (0010), a non-target's mark (0012)
    # and reader_role (0013)
    assert cases == 114


def test_every_path_that_stores_a_reading_leaves_data_that_verifies(
    store: Store, reading: Reading
) -> None:
    """No false alarm: saves, edits, signing, amending, imports and replacements."""
    record = store.readings.save(reading)
    edited = record_measurement(
        reading, "WEEK 6", Measurement(lesion_id="T01", long_axis_mm=28.0)
    )
    store.readings.save(edited, base=reading, base_revision=record.revision)
    store.signing.sign(*KEY)
    store.signing.amend(*KEY, reason="remeasure T01")
    store.readings.update(
        *KEY,
        lambda r: record_measurement(
            r, "WEEK 6", Measurement(lesion_id="T01", long_axis_mm=27.0)
        ),
    )
    store.signing.sign(*KEY)
    signed = ImportedSignOff(
        status="signed",
        signed_by="dr-b",
        signed_at=datetime.datetime(2024, 6, 1, 12, 30, tzinfo=datetime.UTC),
        version=1,
    )
    other = dataclasses.replace(reading, reader="dr-b")
    store.readings.import_reading(
        other, sign_off=signed, source_sha256="ab" * 32, user="imp"
    )
    store.readings.import_reading(
        edited, sign_off=signed, source_sha256="cd" * 32, replace=True, user="imp"
    )
    draft = ImportedSignOff(status="draft", version=2, amendment_reason="typo")
    store.readings.import_reading(
        dataclasses.replace(reading, reader="dr-c"),
        sign_off=draft,
        source_sha256="ef" * 32,
        user="imp",
    )
    store.clinical.replace(
        [
            ClinicalDates(
                patient_id="HCC-002",
                first_dose_date=datetime.date(2024, 3, 4),
                data_cutoff_date=datetime.date(2024, 12, 31),
            )
        ],
        user="dm",
    )
    store.clinical.replace([], user="dm")
    result = store.audit.verify()
    assert result.ok, result.details()
    assert result.readings_checked == 3


# ------------------------------------------------------------ anchors


def test_a_truncated_trail_is_found_only_with_an_anchor(
    store: Store, reading: Reading, raw: sqlite3.Connection
) -> None:
    store.readings.save(reading)
    anchor = store.signing.sign(*KEY).audit_head
    assert anchor == store.audit.head()
    assert anchor is not None
    (sequence,) = raw.execute(
        "SELECT sequence FROM audit_log WHERE row_hash = ?", (anchor,)
    ).fetchone()
    # Whoever can drop the trigger removes the signature's row and undoes the
    # signature in the tables, so the data agree with the shortened trail.
    raw.execute("DROP TRIGGER audit_log_no_delete")
    raw.execute("DELETE FROM audit_log WHERE sequence >= ?", (sequence,))
    raw.execute("DELETE FROM reading_versions")
    raw.execute(
        "UPDATE readings SET status = 'draft', signed_version = 0, signed_by = NULL, "
        "signed_at = NULL"
    )
    raw.execute(
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be "
        "deleted'); END"
    )
    assert store.audit.verify().ok  # from inside, nothing shows
    result = store.audit.verify(expect_heads=[anchor.upper()])
    assert not result.ok
    assert str(result) == (
        f"expected row {anchor} is not in the audit trail (rows were removed or "
        "the trail was rewritten)"
    )


def test_an_anchor_still_in_the_chain_passes_and_says_where(
    store: Store, reading: Reading
) -> None:
    store.readings.save(reading)
    anchor = store.signing.sign(*KEY).audit_head
    assert anchor is not None
    store.signing.amend(*KEY, reason="typo")
    result = store.audit.verify(expect_heads=[anchor])
    assert result.ok
    assert result.anchors[0].sequence == result.rows_checked - 1
    assert f"expected row {anchor[:16]}… found at row" in str(result)
    assert "(1 newer row)" in str(result)


def test_a_malformed_anchor_is_one_line(store: Store) -> None:
    with pytest.raises(StoreError, match="is not a SHA-256 hash"):
        store.audit.verify(expect_heads=["abc"])


# ------------------------------------------------------------ the audit key


def _append_forged_row(raw: sqlite3.Connection, mac: str | None) -> None:
    """Edit a measurement and append a matching audit row, hash recomputed.

    The forger also marks the cached responses stale, as a save would leave
    them, so nothing but the row's MAC gives it away.
    """
    raw.execute(
        "UPDATE measurements SET long_axis_mm = 25.0 WHERE "
        + _measurement_where("WEEK 6", "T01")
    )
    raw.execute("UPDATE cached_assessments SET reading_revision = -1")
    sequence, previous, recorded_at = raw.execute(
        "SELECT sequence, row_hash, recorded_at FROM audit_log "
        "ORDER BY sequence DESC LIMIT 1"
    ).fetchone()
    values = {
        "sequence": sequence + 1,
        "recorded_at": recorded_at,
        "user_name": "dr-a",
        "action": "update",
        "entity": "measurements",
        "entity_key": f"{LABEL} / WEEK 6 / T01",
        "patient_id": "HCC-001",
        "reason": None,
        "before_values": None,
        "after_values": canonical_json({"long_axis_mm": 25.0}),
        "previous_hash": previous,
    }
    row_hash = audit_row_digest(values)
    raw.execute(
        f"INSERT INTO audit_log ({', '.join(HASHED)}, row_hash, row_mac) "
        f"VALUES ({', '.join('?' * len(HASHED))}, ?, ?)",
        (*(values[name] for name in HASHED), row_hash, mac),
    )


def test_a_forged_row_with_a_recomputed_hash_is_found_only_with_the_key(
    database_path: Path, reading: Reading
) -> None:
    url = sqlite_url(database_path)
    with open_store(url, audit_key=AUDIT_KEY) as keyed:
        keyed.readings.save(reading)
        result = keyed.audit.verify()
        assert result.ok
        assert str(result).endswith(
            f"rows 1-{result.rows_checked} carry valid MACs of the audit key"
        )
    raw = sqlite3.connect(database_path, isolation_level=None)
    try:
        _append_forged_row(raw, mac=None)
    finally:
        raw.close()
    with open_store(url) as store:  # without the key the forgery holds
        result = store.audit.verify()
        assert result.ok
        assert "carry a MAC, not checked: no audit key given" in str(result)
    with open_store(url, audit_key=AUDIT_KEY) as keyed:
        result = keyed.audit.verify()
        assert not result.ok
        assert result.key_problem == (
            f"row {result.rows_checked} has no MAC, though rows from 1 on do "
            "(written without the audit key, or forged)"
        )


def test_a_forged_row_with_a_mac_of_another_key_is_found(
    database_path: Path, reading: Reading
) -> None:
    url = sqlite_url(database_path)
    with open_store(url, audit_key=AUDIT_KEY) as keyed:
        keyed.readings.save(reading)
    raw = sqlite3.connect(database_path, isolation_level=None)
    try:
        _append_forged_row(raw, mac="0" * 64)
        (row_hash,) = raw.execute(
            "SELECT row_hash FROM audit_log ORDER BY sequence DESC LIMIT 1"
        ).fetchone()
        assert audit_row_mac(b"guessed key", row_hash) != "0" * 64
    finally:
        raw.close()
    with open_store(url, audit_key=AUDIT_KEY) as keyed:
        result = keyed.audit.verify()
        assert result.key_problem is not None
        assert "its MAC does not match the audit key" in result.key_problem
    with open_store(url, audit_key=b"another site's key") as other:
        result = other.audit.verify()
        assert result.key_problem == (
            "row 1: its MAC does not match the audit key (forged, or another key)"
        )


def test_rows_from_before_the_key_are_accepted_and_named(
    database_path: Path, reading: Reading
) -> None:
    url = sqlite_url(database_path)
    with open_store(url) as store:
        store.readings.save(reading)
        unkeyed = store.audit.verify().rows_checked
    with open_store(url, audit_key=AUDIT_KEY) as keyed:
        result = keyed.audit.verify()
        assert result.key_problem == (
            f"no row of the audit trail carries a MAC of the audit key (the "
            f"{unkeyed} rows were written without it)"
        )
        keyed.signing.sign(*KEY)
        result = keyed.audit.verify()
        assert result.ok
        assert str(result).endswith(
            f"rows {unkeyed + 1}-{result.rows_checked} carry valid MACs of the audit "
            f"key (rows 1-{unkeyed} predate the key)"
        )


# ------------------------------------------------------------ triggers


def test_a_trigger_replaced_by_one_that_refuses_nothing_is_found(
    store: Store, reading: Reading, raw: sqlite3.Connection
) -> None:
    store.readings.save(reading)
    raw.execute("DROP TRIGGER audit_log_no_update")
    raw.execute(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log WHEN 0 "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )
    result = store.audit.verify()
    assert not result.ok
    assert result.missing_triggers == ()
    assert result.trigger_problems == (
        "trigger audit_log_no_update no longer refuses every update (its "
        "definition was changed)",
    )
