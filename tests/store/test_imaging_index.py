"""Indexing DICOM folders: idempotent, file locations kept, edge cases reported."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from recist_app.imaging.discovery import (
    DiscoveryResult,
    PatientInfo,
    SeriesInfo,
    StudyInfo,
)
from recist_app.imaging.phantom import write_demo_data
from recist_app.store import Store, StoreError
from recist_app.workflows.errors import WorkflowError
from recist_app.workflows.images import import_dicom


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "dicom"
    write_demo_data(folder, visits=3, slice_count=6, matrix=64, pixel_size_mm=6.0)
    return folder


def test_a_folder_is_indexed_with_its_file_locations(
    store: Store, demo_folder: Path
) -> None:
    seen: list[tuple[int, int]] = []
    summary = import_dicom(
        store, demo_folder, user="importer", progress=lambda d, t: seen.append((d, t))
    )
    assert (summary.patients_added, summary.studies_added, summary.series_added) == (
        1,
        3,
        3,
    )
    assert summary.files_added == 18
    assert summary.changed
    assert seen[-1] == (summary.files_scanned, summary.files_scanned)
    studies = store.images.studies("DEMO-HCC-001")
    assert [len(study.series) for study in studies] == [1, 1, 1]
    assert studies[0].study_date is not None
    assert studies[0].study_date < studies[1].study_date  # type: ignore[operator]
    series = studies[0].series[0]
    assert (series.modality, series.file_count, series.slice_count) == ("CT", 6, 6)
    paths = store.images.series_files(series.series_instance_uid)
    assert len(paths) == 6
    assert all(path.is_absolute() and path.is_file() for path in paths)
    assert all(path.is_relative_to(demo_folder) for path in paths)
    patients = store.patients()
    assert [(p.patient_id, p.study_count, p.reading_count) for p in patients] == [
        ("DEMO-HCC-001", 3, 0)
    ]
    imports = [entry for entry in store.audit.trail() if entry.action == "import"]
    assert len(imports) == 6
    assert {entry.user for entry in imports} == {"importer"}


def test_importing_twice_adds_nothing(store: Store, demo_folder: Path) -> None:
    import_dicom(store, demo_folder, user="importer")
    audit_rows = len(store.audit.trail())
    studies = store.images.studies("DEMO-HCC-001")
    again = import_dicom(store, demo_folder, user="importer")
    assert not again.changed
    assert (again.studies_added, again.series_added, again.files_added) == (0, 0, 0)
    assert len(store.audit.trail()) == audit_rows
    assert store.images.studies("DEMO-HCC-001") == studies


def test_a_moved_folder_updates_the_locations_only(
    store: Store, demo_folder: Path, tmp_path: Path
) -> None:
    import_dicom(store, demo_folder, user="importer")
    moved = tmp_path / "moved"
    shutil.copytree(demo_folder, moved)
    summary = import_dicom(store, moved, user="importer")
    assert (summary.files_added, summary.files_moved, summary.series_added) == (
        0,
        18,
        0,
    )
    uid = store.images.studies("DEMO-HCC-001")[0].series[0].series_instance_uid
    assert all(path.is_relative_to(moved) for path in store.images.series_files(uid))


def test_reopening_the_database_needs_no_rescan(
    database_path: Path, demo_folder: Path
) -> None:
    from recist_app.store import open_store

    url = f"sqlite:///{database_path}"
    with open_store(url) as store:
        import_dicom(store, demo_folder, user="importer")
    with open_store(url) as store:
        studies = store.images.studies("DEMO-HCC-001")
        assert (
            len(store.images.series_files(studies[-1].series[0].series_instance_uid))
            == 6
        )


def _series(uid: str) -> SeriesInfo:
    return SeriesInfo(
        series_instance_uid=uid,
        series_number=1,
        modality="CT",
        description="arterial",
        date="20240101",
        time="",
        image_type=(),
        slice_thickness_mm=5.0,
        contrast_agent="",
        phase_hint="arterial",
        body_part="ABDOMEN",
        volumes=(),
    )


def _study(uid: str, series_uid: str) -> StudyInfo:
    return StudyInfo(
        study_instance_uid=uid,
        date="2024013",  # malformed: stored without a date
        time="",
        description="CT abdomen",
        accession_number="",
        series=(_series(series_uid),),
    )


def _result(*patients: PatientInfo) -> DiscoveryResult:
    return DiscoveryResult(
        patients=patients, rejected=(), skipped=(), directories=(), files_scanned=0
    )


def _patient(patient_id: str, *studies: StudyInfo) -> PatientInfo:
    return PatientInfo(
        patient_id=patient_id, patient_name="", birth_date="", sex="", studies=studies
    )


def test_series_without_patient_id_or_with_a_conflicting_owner_are_reported(
    store: Store,
) -> None:
    summary = store.images.record_discovery(
        _result(
            _patient("", _study("1.2.3", "1.2.3.1")),
            _patient("HCC-001", _study("1.2.4", "1.2.4.1")),
        ),
        user="importer",
    )
    assert summary.skipped == (
        "series 1.2.3.1: no Patient ID in the files; not indexed",
    )
    again = store.images.record_discovery(
        _result(_patient("HCC-002", _study("1.2.4", "1.2.4.1"))), user="importer"
    )
    assert again.skipped == (
        "study 1.2.4: already indexed under patient HCC-001, found again under "
        "HCC-002; not indexed",
    )
    study = store.images.studies("HCC-001")[0]
    assert study.study_date is None
    assert study.series[0].series_date is not None


def test_unknown_series_and_folders_are_clear_errors(
    store: Store, tmp_path: Path
) -> None:
    with pytest.raises(StoreError, match=r"series 1\.2\.9 is not in database"):
        store.images.series_files("1.2.9")
    with pytest.raises(WorkflowError, match="no such file or folder"):
        import_dicom(store, tmp_path / "missing", user="importer")
