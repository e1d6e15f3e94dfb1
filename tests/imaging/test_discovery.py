"""Discovery: grouping, phase hints, and a reason for every file left out."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate
from pydicom.uid import MPEG2MPML, generate_uid

from recist_app.imaging import (
    CancelToken,
    LoadCancelledError,
    PhantomSeries,
    contrast_phase_hint,
    discover,
    group_volumes,
    read_slice_header,
    write_phantom_series,
)
from tests.imaging.conftest import copy_series, liver_geometry


def _small(folder: Path, **changes: object) -> PhantomSeries:
    visit = int(changes.pop("visit", 0))  # type: ignore[call-overload]
    description = str(changes.pop("series_description", "CT PORTAL VENOUS 5mm"))
    return write_phantom_series(
        folder,
        geometry=liver_geometry(rows=32, columns=32, slice_count=8, **changes),
        noise_hu=0.0,
        visit=visit,
        series_description=description,
        lesions=(),
    )


def _edit(path: Path, **values: object) -> None:
    dataset = pydicom.dcmread(path)
    for keyword, value in values.items():
        setattr(dataset, keyword, value)
    dataset.save_as(path)


def test_groups_patient_studies_and_series_with_reader_fields(tmp_path: Path) -> None:
    baseline = _small(tmp_path / "a", visit=0)
    follow_up = _small(tmp_path / "b", visit=1, series_description="CT ARTERIAL 2mm")
    (tmp_path / "notes.txt").write_text("not DICOM")
    (tmp_path / "b" / "thumbs.db").write_bytes(b"\x00" * 300)

    found = discover(tmp_path)

    assert found.rejected == ()
    assert sorted(Path(p).name for p in found.skipped) == ["notes.txt", "thumbs.db"]
    (patient,) = found.patients
    assert patient.patient_id == "DEMO-HCC-001"
    assert [s.study_instance_uid for s in patient.studies] == [
        baseline.study_instance_uid,
        follow_up.study_instance_uid,
    ]
    first = patient.studies[0]
    assert first.date == "20240226"
    (series,) = first.series
    assert series.modality == "CT"
    assert series.slice_count == 8
    assert series.slice_thickness_mm == 2.5
    assert series.contrast_agent == "Iohexol 350"
    assert series.phase_hint == "portal venous"
    assert series.image_type[:2] == ("ORIGINAL", "PRIMARY")
    assert patient.studies[1].series[0].phase_hint == "arterial"
    (volume,) = series.volumes
    assert volume.label == "axial 32x32x8, 2.5 mm"
    assert volume.warnings == ()


@pytest.mark.parametrize(
    ("description", "agent", "expected"),
    [
        ("Abd/Pelvis PORTAL VENOUS", "", "portal venous"),
        ("Liver late arterial 1.25mm", "", "arterial"),
        ("CHEST W/O CONTRAST", "", "non-contrast"),
        ("Native 5mm", "", "non-contrast"),
        ("DELAYED 3 min", "Omnipaque", "delayed"),
        ("Thorax 5mm", "Iopamidol", "contrast (phase not stated)"),
        ("Thorax 5mm", "", ""),
    ],
)
def test_contrast_phase_hint(description: str, agent: str, expected: str) -> None:
    assert contrast_phase_hint(description, agent) == expected


def test_unusable_files_each_get_one_line_reason(tmp_path: Path) -> None:
    series = _small(tmp_path / "s")
    paths = [Path(p) for p in series.paths]
    _edit(paths[0], ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"])
    no_pixels = pydicom.dcmread(paths[1])
    del no_pixels.PixelData
    no_pixels.save_as(tmp_path / "no_pixels.dcm")
    truncated = tmp_path / "truncated.dcm"
    truncated.write_bytes(paths[2].read_bytes()[:-500])
    no_geometry = pydicom.dcmread(paths[3])
    del no_geometry.ImageOrientationPatient
    no_geometry.SOPInstanceUID = generate_uid()
    no_geometry.save_as(tmp_path / "no_geometry.dcm")

    found = discover(tmp_path)

    reasons = {Path(item.path).name: item.reason for item in found.rejected}
    assert "localizer" in reasons[paths[0].name]
    assert reasons["no_pixels.dcm"].startswith("no pixel data")
    assert reasons["truncated.dcm"].startswith("truncated")
    assert "ImageOrientationPatient" in reasons["no_geometry.dcm"]
    for item in found.rejected:
        assert item.reason
        assert "\n" not in item.reason
        assert str(item).startswith(item.path)
    (series_info,) = [s for _, _, s in found.iter_series()]
    assert series_info.slice_count == 7
    assert any("localizer" in item.reason for item in series_info.excluded)


def test_mixed_orientations_split_into_volumes(tmp_path: Path) -> None:
    axial = _small(tmp_path / "axial")
    coronal = _small(tmp_path / "coronal", orientation=(1, 0, 0, 0, 0, -1))
    for index, name in enumerate(coronal.paths):
        _edit(
            Path(name),
            SeriesInstanceUID=axial.series_instance_uid,
            SOPInstanceUID=generate_uid(entropy_srcs=["coronal", str(index)]),
        )

    found = discover(tmp_path)

    (series,) = [s for _, _, s in found.iter_series()]
    assert sorted(v.plane for v in series.volumes) == ["axial", "coronal"]
    assert all("split" in v.warnings[0] for v in series.volumes)


def test_duplicates_gaps_and_irregular_spacing_are_reported(tmp_path: Path) -> None:
    series = _small(tmp_path / "s")
    paths = [Path(p) for p in series.paths]
    shutil.copy(paths[0], tmp_path / "s" / "copy_of_first.dcm")
    paths[4].unlink()  # a missing slice in the middle

    (volume,) = discover(tmp_path).volumes

    assert volume.slice_count == 7
    text = " | ".join(volume.warnings)
    assert "1 duplicate file(s) of the same SOP instance" in text
    assert "missing slice(s) suspected" in text
    assert "irregular slice spacing" in text


def test_repeated_positions_split_by_acquisition(tmp_path: Path) -> None:
    first = _small(tmp_path / "one")
    second = _small(tmp_path / "two", visit=1)
    for index, name in enumerate(second.paths):
        _edit(
            Path(name),
            SeriesInstanceUID=first.series_instance_uid,
            StudyInstanceUID=first.study_instance_uid,
            AcquisitionNumber=2,
            SOPInstanceUID=generate_uid(entropy_srcs=["second", str(index)]),
        )

    (series,) = [s for _, _, s in discover(tmp_path).iter_series()]

    assert [v.slice_count for v in series.volumes] == [8, 8]
    assert "split into 2 volumes by acquisition number" in series.volumes[0].warnings[0]


def test_group_volumes_keeps_first_of_true_duplicates(tmp_path: Path) -> None:
    series = _small(tmp_path)
    headers = [read_slice_header(p) for p in series.paths]
    clash = dataclasses.replace(headers[2], sop_instance_uid="1.2.3", path="x")

    (volume,) = group_volumes([*headers, clash])

    assert volume.slice_count == 8
    assert any("repeat the position" in note for note in volume.warnings)


@pytest.fixture
def media_folder(tmp_path: Path) -> Path:
    """A copy of pydicom's DICOMDIR test media (CT and MR studies)."""
    source = Path(get_testdata_file("DICOMDIR", read=False)).parent  # type: ignore[arg-type]
    target = tmp_path / "media"
    shutil.copytree(source, target)
    return target


def test_dicomdir_is_followed_and_missing_references_reported(
    media_folder: Path,
) -> None:
    dicomdir = media_folder / "DICOMDIR"
    complete = discover(dicomdir)
    assert complete.files_scanned > 20
    assert complete.volumes
    missing_file = Path(complete.volumes[0].slices[0].header.path)
    missing_file.unlink()

    found = discover(dicomdir)

    (missing,) = [r for r in found.rejected if "missing" in r.reason]
    assert missing.path == str(missing_file)
    assert missing.reason == f"referenced by {dicomdir} but missing"


def test_dicomdir_inside_a_folder_is_not_an_image(media_folder: Path) -> None:
    found = discover(media_folder)

    assert not [r for r in found.rejected if "DICOMDIR" in r.reason]
    assert found.volumes
    assert {p.patient_id for p in found.patients} == {
        p.patient_id for p in discover(media_folder / "DICOMDIR").patients
    }


def test_progress_and_cancellation(tmp_path: Path, axial_series: PhantomSeries) -> None:
    copy_series(axial_series, tmp_path)
    calls: list[tuple[int, int]] = []
    discover(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (20, 20)
    assert [done for done, _ in calls] == list(range(1, 21))

    token = CancelToken()

    def cancel_after_five(done: int, total: int) -> None:
        if done == 5:
            token.cancel()

    with pytest.raises(LoadCancelledError, match="cancelled"):
        discover(tmp_path, progress=cancel_after_five, cancel=token)


def test_undecodable_syntax_and_skewed_orientation_are_refused(tmp_path: Path) -> None:
    series = _small(tmp_path / "s")
    mpeg = pydicom.dcmread(series.paths[0])
    mpeg.file_meta.TransferSyntaxUID = MPEG2MPML
    mpeg.PixelData = encapsulate([b"\x00\x00\x01\xb3" + b"\x00" * 60])
    mpeg.SOPInstanceUID = generate_uid()
    mpeg.save_as(tmp_path / "mpeg.dcm")
    skewed = pydicom.dcmread(series.paths[1])
    skewed.ImageOrientationPatient = [1, 0, 0, 0.5, 0.866025, 0]
    skewed.SOPInstanceUID = generate_uid()
    skewed.save_as(tmp_path / "skewed.dcm")

    found = discover([tmp_path / "mpeg.dcm", tmp_path / "skewed.dcm"])

    reasons = {Path(item.path).name: item.reason for item in found.rejected}
    assert reasons["mpeg.dcm"].startswith("unsupported transfer syntax MPEG2")
    assert "not perpendicular" in reasons["skewed.dcm"]
    assert found.volumes == ()
