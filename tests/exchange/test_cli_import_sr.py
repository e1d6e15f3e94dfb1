"""`recist-app import-sr`: SR -> database -> SR keeps lesion ids, UIDs, lengths."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import highdicom as hd
import pytest
from pydicom import dcmread

from recist_app.cli import main
from recist_app.exchange.sr import build_measurement_report, read_measurement_report
from recist_app.recist import Measurement, Reading
from recist_app.store import open_store
from recist_app.workflows.images import import_dicom
from tests.exchange.demo import PATIENT_ID, DemoPatient

VISIT = "WEEK 24"


def _images_folder(demo: DemoPatient) -> Path:
    return Path(next(iter(demo.images.values()))).parents[1]


def _without_visit_measurements(reading: Reading, visit: str) -> Reading:
    timepoint = reading.timepoint(visit)
    emptied = dataclasses.replace(
        timepoint,
        measurements=(),
        new_lesions=tuple(
            dataclasses.replace(o, long_axis_mm=None, short_axis_mm=None, geometry=None)
            for o in timepoint.new_lesions
        ),
    )
    return dataclasses.replace(
        reading,
        timepoints=tuple(
            emptied if t.visit == visit else t for t in reading.timepoints
        ),
    )


@pytest.fixture(scope="module")
def sr_files(
    demo: DemoPatient, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sr-in")
    headers = {uid: demo.header(uid) for uid in demo.images}
    files = {}
    for timepoint in demo.reading.timepoints:
        path = folder / f"{timepoint.visit.replace(' ', '_')}.dcm"
        build_measurement_report(demo.reading, timepoint.visit, headers).save_as(path)
        files[timepoint.visit] = path
    return files


@pytest.fixture(scope="module")
def indexed(demo: DemoPatient, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the demo images indexed, copied for each test."""
    path = tmp_path_factory.mktemp("db") / "images.sqlite3"
    with open_store(f"sqlite:///{path}") as store:
        import_dicom(store, _images_folder(demo), user="importer")
    return path


@pytest.fixture
def database(demo: DemoPatient, indexed: Path, tmp_path: Path) -> str:
    path = tmp_path / "readings.sqlite3"
    path.write_bytes(indexed.read_bytes())
    url = f"sqlite:///{path}"
    with open_store(url) as store:
        store.readings.save(
            _without_visit_measurements(demo.reading, VISIT), user="dr-reader"
        )
    return url


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "Traceback" not in err
    return err


def _stored(url: str, reading: Reading) -> Reading:
    with open_store(url) as store:
        return store.readings.load(reading.patient_id, reading.criteria, reading.reader)


def test_round_trip_sr_to_database_to_sr(
    demo: DemoPatient,
    database: str,
    sr_files: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["import-sr", str(sr_files[VISIT]), "--database", database])
    assert code == 0, capsys.readouterr().err
    assert f"visit {VISIT}: 4 measurements (T01, T02, T03, N01)" in (
        capsys.readouterr().out
    )
    stored = _stored(database, demo.reading).timepoint(VISIT)
    original = demo.reading.timepoint(VISIT)
    for before in original.measurements:
        after = stored.measurement(before.lesion_id)
        assert after is not None
        assert (after.long_axis_mm, after.short_axis_mm) == (
            before.long_axis_mm,
            before.short_axis_mm,
        )
        assert after.geometry is not None
        assert before.geometry is not None
        assert after.geometry.sop_instance_uid == before.geometry.sop_instance_uid
    out = tmp_path / "out"
    code = main(
        ["export", "--database", database, "--patient", PATIENT_ID, "--format", "sr",
         "--out", str(out), "--images", str(_images_folder(demo))]
    )  # fmt: skip
    assert code == 0
    (exported,) = out.rglob(f"*_{VISIT.replace(' ', '_')}.SR.dcm")
    first = read_measurement_report(hd.sr.srread(sr_files[VISIT]))
    second = read_measurement_report(hd.sr.srread(exported))
    assert [lesion.lesion_id for lesion in second.lesions] == [
        "T01", "T02", "T03", "N01", "NT01",
    ]  # fmt: skip
    # lesion ids, tracking UIDs, lengths, measured image and drawn points agree
    assert second.lesions == first.lesions
    assert second.time_point == first.time_point == VISIT


def test_import_with_an_images_folder_instead_of_the_index(
    demo: DemoPatient, tmp_path: Path, sr_files: dict[str, Path]
) -> None:
    url = f"sqlite:///{tmp_path / 'bare.sqlite3'}"
    with open_store(url) as store:
        store.readings.save(
            _without_visit_measurements(demo.reading, VISIT), user="dr-reader"
        )
    args = ["import-sr", str(sr_files[VISIT]), "--database", url]
    assert main(args) == 2  # the images were never indexed
    assert main([*args, "--images", str(_images_folder(demo))]) == 0
    assert _stored(url, demo.reading).timepoint(VISIT).measurement("T01") is not None


def _patched_sr(source: Path, folder: Path, **changes: str) -> Path:
    dataset = dcmread(source)
    for keyword, value in changes.items():
        setattr(dataset, keyword, value)
    path = folder / "patched.dcm"
    dataset.save_as(path)
    return path


def test_bad_files_are_one_line_and_change_nothing(
    demo: DemoPatient,
    database: str,
    sr_files: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _stored(database, demo.reading)
    text = tmp_path / "notes.txt"
    text.write_text("not dicom", encoding="utf-8")
    image = next(iter(demo.images.values()))
    other = _patched_sr(sr_files[VISIT], tmp_path, PatientID="SOMEONE-ELSE")
    cases = [
        ([str(text)], "notes.txt: not a DICOM file"),
        ([str(image)], "not a DICOM SR (CT)"),
        ([str(tmp_path / "missing.dcm")], "missing.dcm: no such file"),
        ([str(other)], "patient SOMEONE-ELSE has no reading in"),
        # the good file is not saved when a later one fails
        ([str(sr_files[VISIT]), str(text)], "notes.txt: not a DICOM file"),
    ]
    for files, message in cases:
        assert main(["import-sr", *files, "--database", database]) == 2
        assert message in _error(capsys)
    assert _stored(database, demo.reading) == before


def test_unknown_lesion_and_signed_reading_are_refused(
    demo: DemoPatient,
    database: str,
    sr_files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    reading = _without_visit_measurements(demo.reading, VISIT)
    renamed = dataclasses.replace(
        reading,
        lesions=tuple(
            dataclasses.replace(lesion, lesion_id="X02")
            if lesion.lesion_id == "T02"
            else lesion
            for lesion in reading.lesions
        ),
        timepoints=tuple(
            dataclasses.replace(
                t,
                measurements=tuple(
                    dataclasses.replace(m, lesion_id="X02")
                    if m.lesion_id == "T02"
                    else m
                    for m in t.measurements
                ),
            )
            for t in reading.timepoints
        ),
    )
    with open_store(database) as store:
        store.readings.save(renamed, user="dr-reader")
    assert main(["import-sr", str(sr_files[VISIT]), "--database", database]) == 2
    assert "lesion T02" in (err := _error(capsys))
    assert "is not in the reading" in err
    with open_store(database) as store:
        store.signing.sign(reading.patient_id, reading.criteria, reading.reader)
    assert main(["import-sr", str(sr_files[VISIT]), "--database", database]) == 2
    assert "is signed; amend it before importing" in _error(capsys)


def _with_t01_at(reading: Reading, visit: str, measurement: Measurement) -> Reading:
    return dataclasses.replace(
        reading,
        timepoints=tuple(
            dataclasses.replace(
                t,
                measurements=tuple(
                    measurement if m.lesion_id == "T01" else m for m in t.measurements
                ),
            )
            if t.visit == visit
            else t
            for t in reading.timepoints
        ),
    )


def test_an_sr_whose_value_is_not_its_drawn_line_is_refused(
    demo: DemoPatient,
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    t01 = demo.reading.timepoint(VISIT).measurement("T01")
    assert t01 is not None
    assert t01.long_axis_mm is not None
    wrong = dataclasses.replace(t01, long_axis_mm=t01.long_axis_mm + 2.0)
    headers = {uid: demo.header(uid) for uid in demo.images}
    path = tmp_path / "wrong.dcm"
    build_measurement_report(
        _with_t01_at(demo.reading, VISIT, wrong), VISIT, headers
    ).save_as(path)
    before = _stored(database, demo.reading)
    assert main(["import-sr", str(path), "--database", database]) == 2
    err = _error(capsys)
    assert "wrong.dcm: SR import: lesion T01: the line drawn on image" in err
    assert "a diameter drawn must be the length of its line" in err
    assert _stored(database, demo.reading) == before


def test_an_sr_line_on_another_visits_image_is_refused(
    demo: DemoPatient,
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    earlier = demo.reading.timepoints[-2].visit
    elsewhere = demo.reading.timepoint(earlier).measurement("T01")
    assert elsewhere is not None
    headers = {uid: demo.header(uid) for uid in demo.images}
    path = tmp_path / "elsewhere.dcm"
    build_measurement_report(
        _with_t01_at(demo.reading, VISIT, elsewhere), VISIT, headers
    ).save_as(path)
    before = _stored(database, demo.reading)
    assert main(["import-sr", str(path), "--database", database]) == 2
    err = _error(capsys)
    assert f"visit {VISIT}, lesion T01: image" in err
    assert f"is in visit {earlier}'s study, not in this visit's" in err
    assert _stored(database, demo.reading) == before
