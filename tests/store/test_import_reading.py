"""readings.import_reading: one transaction per reading, sign-off kept, conflicts."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from recist_app.recist import Lesion, LesionRole
from recist_app.store import (
    ImportedSignOff,
    ImportOutcome,
    ReadingConflictError,
    ReadingStatus,
    Store,
    StoreError,
)
from tests.store.conftest import example_reading

SHA = "ab" * 32
SIGNED = ImportedSignOff(
    status="signed",
    signed_by="dr-a",
    signed_at=datetime.datetime(2024, 5, 2, 9, 30, tzinfo=datetime.UTC),
    version=1,
)


def test_created_then_unchanged_then_conflict_then_replaced(store: Store) -> None:
    reading = example_reading()
    first = store.readings.import_reading(reading, source_sha256=SHA, user="importer")
    assert first.outcome is ImportOutcome.CREATED
    audit = store.audit.trail()
    again = store.readings.import_reading(reading, source_sha256=SHA, user="importer")
    assert again.outcome is ImportOutcome.UNCHANGED
    assert again.record == first.record
    assert store.audit.trail() == audit
    changed = dataclasses.replace(reading, first_dose_date=datetime.date(2024, 3, 5))
    with pytest.raises(ReadingConflictError, match=r"differs \(params: first_dose"):
        store.readings.import_reading(changed, source_sha256="cd" * 32, user="importer")
    assert store.readings.load("HCC-001", reader="dr-a") == reading
    replaced = store.readings.import_reading(
        changed, source_sha256="cd" * 32, replace=True, user="importer"
    )
    assert replaced.outcome is ImportOutcome.REPLACED
    assert replaced.record.revision > first.record.revision
    assert store.readings.load("HCC-001", reader="dr-a") == changed
    assert store.audit.verify().ok


def test_replacing_a_signed_reading_keeps_its_signed_version_in_the_history(
    store: Store,
) -> None:
    reading = example_reading()
    store.readings.import_reading(
        reading, sign_off=SIGNED, source_sha256=SHA, user="imp"
    )
    extra = Lesion(lesion_id="NT02", role=LesionRole.NON_TARGET, organ="bone")
    changed = dataclasses.replace(reading, lesions=(*reading.lesions, extra))
    with pytest.raises(ReadingConflictError, match="lesion NT02: only in the file"):
        store.readings.import_reading(
            changed, sign_off=SIGNED, source_sha256=SHA, user="imp"
        )
    result = store.readings.import_reading(
        changed, sign_off=SIGNED, source_sha256="ef" * 32, replace=True, user="imp"
    )
    assert result.record.status is ReadingStatus.SIGNED
    assert result.record.signed_version == 2  # version 1 is taken by the first
    history = store.signing.history("HCC-001", reader="dr-a")
    assert [(v.version, v.reading) for v in history] == [(1, reading), (2, changed)]
    # The replacement, then its signature: the chain head at sign-off.
    newest, replaced = store.audit.trail(limit=2)
    assert (replaced.action, newest.action) == ("replace", "sign")
    assert replaced.before is not None
    assert replaced.before["status"] == "signed"
    assert newest.after is not None
    assert newest.after["signed_version"] == 2
    assert result.record.audit_head == store.audit.head()


def test_a_reading_the_database_cannot_hold_leaves_nothing_behind(
    store: Store,
) -> None:
    reading = example_reading(patient_id="HCC-777")
    too_long = dataclasses.replace(reading.lesions[0], organ="x" * 300)
    bad = dataclasses.replace(reading, lesions=(too_long, *reading.lesions[1:]))
    with pytest.raises(StoreError, match="organ has 300 characters"):
        store.readings.import_reading(
            bad, sign_off=SIGNED, source_sha256=SHA, user="imp"
        )
    assert store.patients() == ()
    assert store.audit.trail() == ()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": "signed", "signed_at": SIGNED.signed_at, "version": 1}, "who"),
        ({"status": "signed", "signed_by": "dr-a", "version": 1}, "when"),
        ({"status": "final"}, "'draft' or 'signed'"),
        (
            {"signed_at": datetime.datetime(2024, 1, 1, 12, 0)},
            "UTC offset",
        ),
    ],
)
def test_an_incomplete_sign_off_is_refused(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(StoreError, match=message):
        ImportedSignOff(**fields)  # type: ignore[arg-type]
