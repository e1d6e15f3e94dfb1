"""``--demo`` sets up two patients: one read through all visits, one unread."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pytest

from recist_app.exchange import DEMO_READER, read_reading_file
from recist_app.recist import Lesion, LesionRole, Response, assess
from recist_app.store import open_store
from recist_app.workflows.demo import DEMO_PATIENTS, set_up_demo_patients
from recist_app.workflows.errors import is_project_error

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from recist_app.store import Store

SMALL: dict[str, Any] = {
    "matrix": 96,
    "pixel_size_mm": 4.2,
    "noise_hu": 0.0,
    "slice_count": 30,
    "slice_spacing_mm": 10.0,
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'readings.sqlite3'}") as opened:
        yield opened


@pytest.mark.slow
def test_first_use_generates_indexes_and_imports_both_patients(
    tmp_path: Path, store: Store
) -> None:
    steps: list[str] = []

    demo = set_up_demo_patients(
        tmp_path / "demo", store, user="tester", progress=steps.append, **SMALL
    )

    assert demo.read_patient_id == DEMO_PATIENTS[0].patient_id
    patients = {p.patient_id: p for p in store.patients()}
    assert set(patients) == {spec.patient_id for spec in DEMO_PATIENTS}
    assert all(p.study_count == 4 for p in patients.values())
    # the read patient: the imported file, every visit read, PR confirmed then PD
    read = store.readings.load(demo.read_patient_id, reader=DEMO_READER)
    assert read == read_reading_file(demo.reading_file)
    assessment = assess(read)
    assert [t.overall_response for t in assessment.timepoints] == [
        Response.PR,
        Response.PR,
        Response.PD,
    ]
    assert assessment.best_overall_response.confirmed
    # the unread patient: its four visits, nothing marked yet
    unread = store.readings.load(demo.unread_patient_id, reader=DEMO_READER)
    assert [t.visit for t in unread.timepoints] == [t.visit for t in read.timepoints]
    assert unread.lesions == ()
    assert {t.series_instance_uid for t in unread.timepoints}.isdisjoint(
        {t.series_instance_uid for t in read.timepoints}
    )
    assert any("Importing the reading" in step for step in steps)


@pytest.mark.slow
def test_second_use_changes_nothing_and_keeps_the_users_work(
    tmp_path: Path, store: Store
) -> None:
    folder = tmp_path / "demo"
    demo = set_up_demo_patients(folder, store, user="tester", **SMALL)
    unread = store.readings.load(demo.unread_patient_id, reader=DEMO_READER)
    worked_on = dataclasses.replace(
        unread,
        lesions=(Lesion(lesion_id="T01", role=LesionRole.TARGET, organ="liver"),),
    )
    store.readings.save(worked_on, user="reader")
    audit_before = len(store.audit.trail())
    steps: list[str] = []

    set_up_demo_patients(folder, store, user="tester", progress=steps.append, **SMALL)

    assert steps == []  # nothing written, indexed or imported again
    assert len(store.audit.trail()) == audit_before
    assert store.readings.load(demo.unread_patient_id, reader=DEMO_READER) == worked_on


def test_unwritable_folder_is_one_clear_error(tmp_path: Path, store: Store) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    with pytest.raises(Exception, match="file/DEMO-HCC-001") as raised:
        set_up_demo_patients(blocker, store, user="tester", **SMALL)
    assert is_project_error(raised.value)
