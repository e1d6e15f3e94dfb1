"""`recist-app import` of anonymised series: every image indexed, ids stable.

Before issue 17 a series without Patient ID was skipped ("no Patient ID in the
files; not indexed") and 6 slices without SOP Instance UIDs were stored as one
image. The store indexes what discovery gives it, so discovery's derived
identifiers fix both; these tests hold the whole path to that.
"""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import UID

from recist_app.cli import main
from recist_app.imaging import PhantomSeries, write_phantom_series
from tests.imaging.conftest import liver_geometry


def _series(folder: Path, description: str = "CT 5mm") -> PhantomSeries:
    return write_phantom_series(
        folder,
        geometry=liver_geometry(rows=16, columns=16, slice_count=6),
        noise_hu=3.0,
        series_description=description,
        lesions=(),
    )


def _strip(series: PhantomSeries, *keywords: str) -> None:
    for name in series.paths:
        dataset = pydicom.dcmread(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for keyword in keywords:
                setattr(dataset, keyword, "")
            dataset.file_meta.MediaStorageSOPInstanceUID = UID("")
            dataset.save_as(name)


def _import(folder: Path, database: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["import", str(folder), "--database", database]) == 0
    out = capsys.readouterr().out
    (summary,) = [line for line in out.splitlines() if "files scanned" in line]
    return summary


def _added(summary: str) -> dict[str, int]:
    found = re.search(
        r"(\d+) patients, (\d+) studies, (\d+) series and (\d+) images added", summary
    )
    assert found, summary
    patients, studies, series, images = (int(n) for n in found.groups())
    return {
        "patients": patients,
        "studies": studies,
        "series": series,
        "images": images,
    }


def test_anonymised_series_is_indexed_once_with_every_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series = _series(tmp_path / "dicom")
    _strip(
        series, "PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"
    )
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"

    first = _import(tmp_path / "dicom", database, capsys)
    shutil.copytree(tmp_path / "dicom", tmp_path / "copy")
    again = _import(tmp_path / "copy", database, capsys)

    assert _added(first) == {"patients": 1, "studies": 1, "series": 1, "images": 6}
    assert _added(again) == {"patients": 0, "studies": 0, "series": 0, "images": 0}
    assert "6 images moved" in again  # the same images, found at a new place


def test_two_series_with_empty_uids_stay_two_series_of_six_images(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("arterial", "venous"):
        series = _series(tmp_path / "dicom" / name, description=f"CT {name}")
        _strip(series, "SeriesInstanceUID", "SOPInstanceUID")
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"

    summary = _import(tmp_path / "dicom", database, capsys)

    assert _added(summary) == {"patients": 1, "studies": 1, "series": 2, "images": 12}


def test_the_import_says_which_patient_was_made_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series = _series(tmp_path / "dicom")
    _strip(series, "PatientID")
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"

    assert main(["import", str(tmp_path / "dicom"), "--database", database]) == 0
    notes = [
        line
        for line in capsys.readouterr().err.splitlines()
        if line.startswith("recist-app: note: ")
    ]
    assert any("ANON-" in note and "no Patient ID" in note for note in notes)


def _patients(database: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    from recist_app.store import open_store

    with open_store(database) as store:
        return [p.patient_id for p in store.patients()]


def test_the_placeholder_patient_gets_its_real_id_and_the_trail_stays_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series = _series(tmp_path / "dicom")
    _strip(series, "PatientID")
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    _import(tmp_path / "dicom", database, capsys)
    (placeholder,) = _patients(database, capsys)
    assert placeholder.startswith("ANON-")

    rename = ["patient", "rename", placeholder, "HCC-042", "--database", database]
    assert main([*rename, "--user", "dr-a"]) == 0
    assert capsys.readouterr().out == f"patient {placeholder} renamed HCC-042\n"
    assert _patients(database, capsys) == ["HCC-042"]
    assert main(["audit", "verify", "--database", database]) == 0
    capsys.readouterr()

    # The same study imported again keeps its real id; a second placeholder study
    # of the same patient merges into it.
    other = _series(tmp_path / "second", description="CT arterial")
    _strip(other, "PatientID", "StudyInstanceUID")
    _import(tmp_path / "second", database, capsys)
    (second,) = [p for p in _patients(database, capsys) if p.startswith("ANON-")]
    assert main(["patient", "rename", second, "HCC-042", "--database", database]) == 0
    assert capsys.readouterr().out == f"patient {second} merged into HCC-042\n"
    assert _patients(database, capsys) == ["HCC-042"]
    assert main(["audit", "verify", "--database", database]) == 0


@pytest.mark.parametrize(
    ("new_id", "message"),
    [
        ("  ", "the new patient id is empty"),
        ("X" * 65, "more than the 64 the database holds"),
        ("A\tB", "control characters"),
    ],
    ids=["empty", "too-long", "control-character"],
)
def test_a_bad_new_id_is_one_line(
    new_id: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    assert main(["patient", "rename", "P1", new_id, "--database", database]) == 2
    assert message in capsys.readouterr().err


def test_a_read_patient_is_never_renamed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from recist_app.recist import Reading
    from recist_app.store import open_store

    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    with open_store(database) as store:
        store.readings.save(Reading(patient_id="HCC-001"), user="dr-a")
    assert (
        main(["patient", "rename", "HCC-001", "HCC-002", "--database", database]) == 2
    )
    err = capsys.readouterr().err
    assert err == (
        "recist-app: error: patient HCC-001: has readings; only a patient with "
        "images alone (not yet read) can be renamed or merged\n"
    )
    assert _patients(database, capsys) == ["HCC-001"]
