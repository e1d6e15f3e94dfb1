"""Anonymised series (issue 17): missing or clashing identifiers lose no image.

Research exports often remove the Patient ID and the Study, Series and SOP
Instance UIDs, or give every slice the same UID. Discovery indexes such files
under a placeholder patient with identifiers derived from the files' content, so
importing the same files again (from anywhere) gives the same ids, two series
stay two series and every slice stays its own image.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pydicom
from pydicom.uid import UID

from recist_app.imaging import (
    DiscoveryResult,
    PhantomSeries,
    discover,
    load_volume,
    read_slice_header,
    write_phantom_series,
)
from tests.imaging.conftest import liver_geometry

_IDENTIFIERS = ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")


def _series(
    folder: Path, *, visit: int = 0, description: str = "CT 5mm"
) -> PhantomSeries:
    return write_phantom_series(
        folder,
        geometry=liver_geometry(rows=16, columns=16, slice_count=6),
        noise_hu=3.0,
        visit=visit,
        series_description=description,
        lesions=(),
    )


def _strip(series: PhantomSeries, *keywords: str, value: str | None = None) -> None:
    """Remove ``keywords`` from every file (or set them all to ``value``)."""
    for name in series.paths:
        dataset = pydicom.dcmread(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for keyword in keywords:
                if value is None:
                    delattr(dataset, keyword)
                else:
                    setattr(dataset, keyword, value)
            if "SOPInstanceUID" in keywords:
                dataset.file_meta.MediaStorageSOPInstanceUID = UID(value or "")
            dataset.save_as(name)


def _ids(found: DiscoveryResult) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [
        (
            patient.patient_id,
            study.study_instance_uid,
            series.series_instance_uid,
            tuple(r.sop_instance_uid for v in series.volumes for r in v.slices),
        )
        for patient, study, series in found.iter_series()
    ]


def test_series_without_any_identifier_opens_under_a_placeholder_patient(
    tmp_path: Path,
) -> None:
    series = _series(tmp_path / "a")
    _strip(series, *_IDENTIFIERS)

    found = discover(tmp_path)

    assert found.rejected == ()
    ((patient_id, study_uid, series_uid, sop_uids),) = _ids(found)
    assert patient_id.startswith("ANON-")
    assert len(patient_id) == len("ANON-") + 10
    for uid in (study_uid, series_uid, *sop_uids):
        assert uid.startswith("2.25.")
        assert len(uid) <= 64
    assert len(set(sop_uids)) == 6
    (note,) = [n for n in found.notes if patient_id in n]
    assert "no Patient ID" in note
    assert "placeholder patient" in note
    assert any("identifiers derived from the files' content" in n for n in found.notes)


def test_derived_identifiers_are_stable_and_follow_the_content(tmp_path: Path) -> None:
    series = _series(tmp_path / "first")
    _strip(series, *_IDENTIFIERS)
    shutil.copytree(tmp_path / "first", tmp_path / "moved" / "elsewhere")

    first = _ids(discover(tmp_path / "first"))
    again = _ids(discover(tmp_path / "first"))
    moved = _ids(discover(tmp_path / "moved"))

    assert first == again == moved
    ((patient_id, study_uid, series_uid, sop_uids),) = first
    assert patient_id.startswith("ANON-")
    assert all(uid.startswith("2.25.") for uid in (study_uid, series_uid, *sop_uids))


def test_loading_the_files_gives_the_ids_discovery_gave(tmp_path: Path) -> None:
    series = _series(tmp_path)
    _strip(series, *_IDENTIFIERS)
    (info,) = discover(tmp_path).volumes

    volume = load_volume(series.paths)  # as the workstation reopens a series

    assert volume.sop_instance_uids == tuple(r.sop_instance_uid for r in info.slices)
    assert volume.series_instance_uid == info.series_instance_uid
    assert volume.patient_id.startswith("ANON-")
    assert any("derived" in note for note in volume.warnings)


def test_empty_sop_instance_uids_keep_every_slice(tmp_path: Path) -> None:
    series = _series(tmp_path)
    _strip(series, "SOPInstanceUID", "SeriesInstanceUID", value="")

    found = discover(tmp_path)

    ((patient_id, _, series_uid, sop_uids),) = _ids(found)
    assert patient_id == "DEMO-HCC-001"  # a real Patient ID is kept
    assert series_uid.startswith("2.25.")
    assert len(set(sop_uids)) == 6
    assert read_slice_header(series.paths[0]).derived_identifiers == (
        "SeriesInstanceUID",
        "SOPInstanceUID",
    )


def test_two_series_without_uids_stay_two_series(tmp_path: Path) -> None:
    arterial = _series(tmp_path / "arterial", description="CT ARTERIAL")
    venous = _series(tmp_path / "venous", description="CT PORTAL VENOUS")
    for series in (arterial, venous):
        _strip(series, "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")

    found = discover(tmp_path)

    series_found = [s for _, _, s in found.iter_series()]
    assert sorted(s.description for s in series_found) == [
        "CT ARTERIAL",
        "CT PORTAL VENOUS",
    ]
    assert len({s.series_instance_uid for s in series_found}) == 2
    assert [s.slice_count for s in series_found] == [6, 6]


def test_studies_without_patient_id_are_never_merged_into_one_patient(
    tmp_path: Path,
) -> None:
    baseline = _series(tmp_path / "baseline", visit=0)
    follow_up = _series(tmp_path / "follow-up", visit=1)
    for series in (baseline, follow_up):
        _strip(series, "PatientID")

    found = discover(tmp_path)

    placeholders = [p.patient_id for p in found.patients]
    assert len(placeholders) == 2  # one per study: never guess who is who
    assert all(p.startswith("ANON-") for p in placeholders)


def test_files_missing_the_patient_id_join_their_studys_patient(
    tmp_path: Path,
) -> None:
    series = _series(tmp_path)
    for name in series.paths[:2]:
        dataset = pydicom.dcmread(name)
        del dataset.PatientID
        dataset.save_as(name)

    found = discover(tmp_path)

    ((patient_id, _, _, sop_uids),) = _ids(found)
    assert patient_id == "DEMO-HCC-001"
    assert len(sop_uids) == 6
    assert found.notes == (
        "2 file(s) without Patient ID joined the patient named by the other files "
        "of their study",
    )


def test_one_sop_uid_on_every_slice_keeps_every_slice(tmp_path: Path) -> None:
    series = _series(tmp_path)
    _strip(series, "SOPInstanceUID", value="1.2.3.4")
    shutil.copy(series.paths[0], tmp_path / "true_copy.dcm")

    found = discover(tmp_path)

    ((_, _, _, sop_uids),) = _ids(found)
    assert len(sop_uids) == 6
    assert len(set(sop_uids)) == 6
    assert "1.2.3.4" not in sop_uids
    (duplicate,) = found.rejected  # the byte-identical copy, with its reason
    assert Path(duplicate.path).name == "true_copy.dcm"
    assert "duplicate of" in duplicate.reason
    assert any("share SOP Instance UIDs" in note for note in found.notes)
    volume = load_volume(series.paths)
    assert volume.sop_instance_uids == tuple(
        r.sop_instance_uid for v in found.volumes for r in v.slices
    )


def test_files_with_their_identifiers_are_unchanged(tmp_path: Path) -> None:
    series = _series(tmp_path)
    header = read_slice_header(series.paths[0])

    assert header.derived_identifiers == ()
    assert header.patient_id == "DEMO-HCC-001"
    assert header.sop_instance_uid == pydicom.dcmread(series.paths[0]).SOPInstanceUID
    assert discover(tmp_path).notes == ()
