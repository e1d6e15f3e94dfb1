"""Exports end to end: JSON reproduces, CSV, PDF renders, no leaks."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from recist_app.cli import main
from recist_app.exchange import (
    ExchangeError,
    ExportItem,
    ExportOptions,
    Pseudonymizer,
    ReportSignature,
    export_readings,
    read_reading_file,
    write_export,
)
from recist_app.recist import assess
from tests.exchange.demo import BIRTH_DATE, PATIENT_ID, PATIENT_NAME, DemoPatient
from tests.exchange.readings import standards_example

SIGNED = ReportSignature(
    status="signed",
    signed_by="Dr Jane Reader",
    signed_at="2024-08-20T16:45:00+00:00",
    version=1,
)
KEY = Pseudonymizer(b"site-secret-key-for-tests", subject_prefix="LT-01-")


def _item(demo: DemoPatient) -> ExportItem:
    return ExportItem(reading=demo.reading, signature=SIGNED)


def test_json_export_reproduces_its_assessment(
    demo: DemoPatient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = export_readings([_item(demo)], "json", tmp_path)
    assert [f.name for f in files] == [
        "DEMO-HCC-001_Dr_Jane_Reader.assessment.json",
        "DEMO-HCC-001_Dr_Jane_Reader.reading.json",
    ]
    reading_file = tmp_path / "DEMO-HCC-001_Dr_Jane_Reader.reading.json"
    assert read_reading_file(reading_file) == demo.reading  # geometry and reader kept
    assert '"status": "signed"' in reading_file.read_text(encoding="utf-8")
    assert main(["evaluate", str(reading_file)]) == 0
    exported = (tmp_path / "DEMO-HCC-001_Dr_Jane_Reader.assessment.json").read_text(
        encoding="utf-8"
    )
    assert capsys.readouterr().out == exported


def test_csv_export_has_patient_visit_and_lesion_rows(
    demo: DemoPatient, tmp_path: Path
) -> None:
    example = ExportItem(reading=standards_example())
    export_readings([_item(demo), example], "csv", tmp_path)
    with (tmp_path / "responses.csv").open(encoding="utf-8") as handle:
        visits = list(csv.DictReader(handle))
    assert [(r["patient_id"], r["visit"]) for r in visits] == [
        (PATIENT_ID, "BASELINE"),
        (PATIENT_ID, "WEEK 8"),
        (PATIENT_ID, "WEEK 16"),
        (PATIENT_ID, "WEEK 24"),
        ("LT-01-001", "SCREENING"),
        ("LT-01-001", "WEEK 6"),
        ("LT-01-001", "WEEK 12"),
    ]
    assert [r["overall_response"] for r in visits[1:4]] == ["PR", "PR", "PD"]
    assert visits[3]["best_overall_response_so_far"] == "PR"
    with (tmp_path / "lesions.csv").open(encoding="utf-8") as handle:
        lesions = list(csv.DictReader(handle))
    t02 = [r for r in lesions if r["lesion_id"] == "T02" and r["visit"] == "BASELINE"]
    assert t02[0]["is_lymph_node"] == "Y"
    assert t02[0]["short_axis_mm"] == "18.0"
    # A2, A6: the node counted its short axis, as the assessment reports it
    assert (t02[0]["counted_diameter_mm"], t02[0]["counted_basis"]) == (
        "18.0",
        "short_axis",
    )
    non_target = [r for r in lesions if r["lesion_id"] == "NT01"]
    assert {r["counted_basis"] for r in non_target} == {""}
    assert len(lesions) == (4 + 4 + 4 + 5) + 3 * 4


def _poppler(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed (Debian package poppler-utils)")
    return path


def test_pdf_report_renders_with_lesion_ids(demo: DemoPatient, tmp_path: Path) -> None:
    files = export_readings([_item(demo)], "pdf", tmp_path, images=demo.images)
    (pdf,) = files
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        [_poppler("pdftotext"), "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for lesion_id in ("T01", "T02", "T03", "NT01", "N01"):
        assert lesion_id in text
    assert "Signed by Dr Jane Reader" in text
    assert "OVERALL: PD" in text
    subprocess.run(
        [_poppler("pdftoppm"), "-r", "40", "-png", "-f", "4", "-l", "4", str(pdf),
         str(tmp_path / "page")],
        check=True,
    )  # fmt: skip
    png = next(tmp_path.glob("page*.png"))
    assert png.stat().st_size > 10_000  # a page with four key images, not a blank


def _strings(dataset: Dataset) -> list[str]:
    found: list[str] = []

    def visit(ds: Dataset, element: object) -> None:
        value = getattr(element, "value", None)
        if value is not None and not isinstance(value, bytes | list):
            found.append(str(value))
        elif isinstance(value, list):
            found.extend(str(v) for v in value)

    dataset.walk(visit)
    return found


def _texts(path: Path) -> list[str]:
    raw = path.read_bytes()
    texts = [raw.decode("latin-1")]
    if path.suffix == ".dcm":
        texts += _strings(dcmread(path))
    elif path.suffix == ".pdf":
        texts.append(
            subprocess.run(
                [_poppler("pdftotext"), str(path), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
    return texts


def test_deidentified_exports_leak_nothing(demo: DemoPatient, tmp_path: Path) -> None:
    reading = demo.reading
    denied = {PATIENT_ID, PATIENT_NAME, "PHANTOM", BIRTH_DATE, "1958-04-12",
              "Jane Reader", reading.reader}  # fmt: skip
    dates = [t.date for t in reading.timepoints]
    assert reading.first_dose_date is not None
    dates.append(reading.first_dose_date)
    for date in dates:
        denied |= {date.isoformat(), date.strftime("%Y%m%d")}
    for timepoint in reading.timepoints:
        assert timepoint.study_instance_uid is not None
        denied.add(timepoint.study_instance_uid)
    denied |= set(demo.images)  # original SOP Instance UIDs
    options = ExportOptions(study_id="LT-HCC-P2", pseudonymizer=KEY)
    files: list[Path] = []
    for fmt in ("json", "csv", "sdtm", "sr", "pdf"):
        files += export_readings(
            [_item(demo)], fmt, tmp_path / fmt, images=demo.images, options=options
        )
    assert len(files) > 10
    subject = KEY.subject_id(PATIENT_ID)
    for path in files:
        texts = _texts(path)
        for text in texts:
            leaks = [word for word in denied if word in text]
            assert leaks == [], f"{path.name} leaks {leaks}"
        if path.name != "define.csv":  # the variable list names no subject
            assert any(subject in text for text in texts), path.name
    # intervals survive: study days and responses are unchanged
    with (tmp_path / "sdtm" / "rs.csv").open(encoding="utf-8") as handle:
        rs = [
            (r["VISIT"], r["RSTESTCD"], r["RSORRES"], r["RSDY"])
            for r in csv.DictReader(handle)
        ]
    original = export_readings([_item(demo)], "sdtm", tmp_path / "plain")
    assert original
    with (tmp_path / "plain" / "rs.csv").open(encoding="utf-8") as handle:
        plain = [
            (r["VISIT"], r["RSTESTCD"], r["RSORRES"], r["RSDY"])
            for r in csv.DictReader(handle)
        ]
    assert rs == plain


def test_deidentified_sr_is_valid_and_flagged(
    demo: DemoPatient, tmp_path: Path
) -> None:
    options = ExportOptions(study_id="LT-HCC-P2", pseudonymizer=KEY)
    files = export_readings(
        [_item(demo)], "sr", tmp_path, images=demo.images, options=options
    )
    assert len(files) == 4
    sr = dcmread(files[0])
    assert sr.PatientIdentityRemoved == "YES"
    assert sr.ClinicalTrialSubjectID == KEY.subject_id(PATIENT_ID)
    assert sr.LongitudinalTemporalInformationModified == "MODIFIED"
    tool = shutil.which("dciodvfy")
    if tool is None:
        pytest.skip("dciodvfy not installed (Debian package dicom3tools)")
    for path in files:
        report = subprocess.run(
            [tool, str(path)], capture_output=True, text=True, check=False
        )
        output = report.stdout + report.stderr
        assert [
            line for line in output.splitlines() if line.startswith("Error")
        ] == [], output
    # the same key gives the same pseudonyms and UIDs in a second export
    again = export_readings(
        [_item(demo)], "sr", tmp_path / "again", images=demo.images, options=options
    )
    assert dcmread(again[0]).SOPInstanceUID == sr.SOPInstanceUID
    assert dcmread(again[0]).StudyInstanceUID == sr.StudyInstanceUID


def test_failed_export_leaves_no_files(demo: DemoPatient, tmp_path: Path) -> None:
    out = tmp_path / "out"
    partial_images = dict(list(demo.images.items())[: len(demo.images) // 2])
    with pytest.raises(ExchangeError, match="was not found"):
        export_readings([_item(demo)], "sr", out, images=partial_images)
    assert list(out.iterdir()) == []
    with pytest.raises(ExchangeError, match="needs the images"):
        export_readings([_item(demo)], "sr", out)
    with pytest.raises(ExchangeError, match="unknown export format"):
        export_readings([_item(demo)], "docx", out)
    assert list(out.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder_is_one_clear_error(
    demo: DemoPatient, tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ExchangeError, match="not writable"):
            export_readings([_item(demo)], "csv", locked)
    finally:
        locked.chmod(0o700)


def test_output_path_that_is_a_file_is_one_clear_error(
    demo: DemoPatient, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ExchangeError, match="cannot create the output folder"):
        export_readings([_item(demo)], "csv", blocker / "out")


def test_pseudonyms_are_stable_and_keyed() -> None:
    other = Pseudonymizer(b"another-site-secret-key!", subject_prefix="LT-01-")
    assert KEY.subject_id("A") == KEY.subject_id("A") != other.subject_id("A")
    assert 62 <= KEY.shift_days("A") <= 730
    assert len(KEY.uid("1.2.3")) <= 64
    with pytest.raises(ExchangeError, match="at least 16 bytes"):
        Pseudonymizer(b"short")
    reading = standards_example()
    shifted = dataclasses.replace(reading)
    assert assess(shifted) == assess(reading)


# ------------------------------------------------- missed visits, signed = final


def _with_unread_visit(demo: DemoPatient, index: int = 2) -> DemoPatient:
    """The demo reading with follow-up ``index`` left unread (no finding)."""
    timepoints = list(demo.reading.timepoints)
    timepoints[index] = dataclasses.replace(
        timepoints[index], measurements=(), non_target=(), new_lesions=()
    )
    reading = dataclasses.replace(demo.reading, timepoints=tuple(timepoints))
    return dataclasses.replace(demo, reading=reading)


def test_a_signed_reading_with_a_visit_not_read_exports_to_every_format(
    demo: DemoPatient, tmp_path: Path
) -> None:
    missed = _with_unread_visit(demo)
    unread = missed.reading.timepoints[2].visit
    item = ExportItem(reading=missed.reading, signature=SIGNED)
    # SR: the visit not read is skipped, and a note says so
    sr = write_export([item], "sr", tmp_path / "sr", images=demo.images)
    assert len(sr.files) == len(missed.reading.timepoints) - 1
    assert sr.notes == (
        f"patient {PATIENT_ID} (RECIST 1.1, reader Dr Jane Reader): SR of visit "
        f"{unread} not written: the visit is not read (no finding recorded)",
    )
    assert not any(unread.replace(" ", "_") in f.name for f in sr.files)
    # SDTM: no RS record for it (no response), the other visits as before
    write_export([item], "sdtm", tmp_path / "sdtm")
    with (tmp_path / "sdtm" / "rs.csv").open(encoding="utf-8") as handle:
        visits = {row["VISIT"] for row in csv.DictReader(handle)}
    assert unread not in visits
    assert missed.reading.timepoints[3].visit in visits
    # PDF: the visit's page says "not read"
    (pdf,) = write_export([item], "pdf", tmp_path / "pdf", images=demo.images).files
    text = subprocess.run(
        [_poppler("pdftotext"), "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "OVERALL: not read" in text
    # JSON and CSV carry it without a response
    write_export([item], "csv", tmp_path / "csv")
    with (tmp_path / "csv" / "responses.csv").open(encoding="utf-8") as handle:
        rows = {row["visit"]: row for row in csv.DictReader(handle)}
    assert rows[unread]["overall_response"] == ""
    assert rows[unread]["reasons"].startswith("not read")


def _sr_flags(path: Path) -> tuple[str, str, str]:
    sr = dcmread(path)
    return sr.CompletionFlag, sr.PreliminaryFlag, sr.VerificationFlag


def test_a_signed_readings_sr_is_final_and_verified_by_its_signer(
    demo: DemoPatient, tmp_path: Path
) -> None:
    signed = export_readings([_item(demo)], "sr", tmp_path / "a", images=demo.images)
    assert _sr_flags(signed[0]) == ("COMPLETE", "FINAL", "VERIFIED")
    (observer,) = dcmread(signed[0]).VerifyingObserverSequence
    assert str(observer.VerifyingObserverName) == "Dr Jane Reader^"
    assert observer.VerificationDateTime == "20240820164500+0000"
    assert observer.VerifyingOrganization
    draft = export_readings(
        [ExportItem(reading=demo.reading)], "sr", tmp_path / "b", images=demo.images
    )
    assert _sr_flags(draft[0]) == ("PARTIAL", "PRELIMINARY", "UNVERIFIED")
    assert "VerifyingObserverSequence" not in dcmread(draft[0])


def test_a_deidentified_sr_shifts_every_date_it_carries(
    demo: DemoPatient, tmp_path: Path
) -> None:
    options = ExportOptions(study_id="LT-HCC-P2", pseudonymizer=KEY)
    files = export_readings(
        [_item(demo)], "sr", tmp_path, images=demo.images, options=options
    )
    shift = datetime.timedelta(days=KEY.shift_days(PATIENT_ID))
    for path, timepoint in zip(files, demo.reading.timepoints, strict=True):
        sr = dcmread(path)
        visit_day = (timepoint.date - shift).strftime("%Y%m%d")
        assert sr.ContentDate == visit_day
        dated = [
            str(e.ContributionDateTime)
            for e in sr.ContributingEquipmentSequence
            if "ContributionDateTime" in e
        ]
        assert dated
        assert all(value.startswith(visit_day) for value in dated)
        (observer,) = sr.VerifyingObserverSequence
        signed = datetime.datetime(2024, 8, 20, 16, 45, tzinfo=datetime.UTC) - shift
        assert observer.VerificationDateTime == signed.strftime("%Y%m%d%H%M%S%z")
        assert str(observer.VerifyingObserverName) == (
            f"{KEY.person('Dr Jane Reader')}^"
        )
