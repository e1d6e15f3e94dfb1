"""`recist-app export`: reads the database, one-line errors, nothing half-written."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from recist_app.cli import main
from recist_app.store import open_store
from tests.exchange.demo import PATIENT_ID, DemoPatient
from tests.exchange.readings import standards_example


@pytest.fixture
def database(demo: DemoPatient, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'readings.sqlite3'}"
    with open_store(url) as store:
        store.readings.save(demo.reading, user="dr-reader")
        store.signing.sign(
            demo.reading.patient_id, demo.reading.criteria, demo.reading.reader
        )
        store.readings.save(standards_example(), user="dr-example")
    return url


def _export(database: str, *args: str) -> int:
    return main(["export", "--database", database, *args])


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "Traceback" not in err
    return err


def test_export_sr_for_one_patient(
    demo: DemoPatient, database: str, tmp_path: Path
) -> None:
    out = tmp_path / "sr"
    images = Path(next(iter(demo.images.values()))).parents[1]
    code = _export(
        database, "--patient", PATIENT_ID, "--format", "sr", "--out", str(out),
        "--images", str(images),
    )  # fmt: skip
    assert code == 0
    assert len(list(out.rglob("*.SR.dcm"))) == 4


def test_export_all_as_sdtm_with_deidentification(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECIST_APP_DEID_KEY", "a-site-secret-of-enough-length")
    out = tmp_path / "sdtm"
    code = _export(
        database, "--all", "--format", "sdtm", "--out", str(out), "--deidentify",
        "--study-id", "LT-HCC-P2",
    )  # fmt: skip
    assert code == 0
    tu = (out / "tu.csv").read_text(encoding="utf-8")
    assert PATIENT_ID not in tu
    assert "LT-01-001" not in tu
    assert tu.count("SUBJ-") == 5 + 4


def test_signed_only_refuses_a_draft(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = _export(
        database, "--patient", "LT-01-001", "--format", "json", "--out", str(out),
        "--signed-only",
    )  # fmt: skip
    assert code == 2
    assert "is not signed" in _error(capsys)
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--patient", "NOBODY", "--format", "csv"], "no reading of patient NOBODY"),
        (["--format", "csv"], "give either --patient ID or --all"),
        (
            ["--patient", PATIENT_ID, "--format", "sr"],
            "the SR export needs the measured images",
        ),
        (
            ["--patient", PATIENT_ID, "--format", "csv", "--deidentify"],
            "de-identification needs the site's key: a key file, or "
            "$RECIST_APP_DEID_KEY",
        ),
    ],
    ids=["unknown-patient", "no-patient", "sr-without-images", "deid-without-key"],
)
def test_bad_requests_are_one_line(
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.delenv("RECIST_APP_DEID_KEY", raising=False)
    out = tmp_path / "out"
    assert _export(database, *args, "--out", str(out)) == 2
    assert message in _error(capsys)
    assert not out.exists() or list(out.iterdir()) == []


def test_unwritable_out_is_one_line(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    code = _export(
        database, "--patient", PATIENT_ID, "--format", "csv", "--out",
        str(blocker / "sub"),
    )  # fmt: skip
    assert code == 2
    assert "cannot create the output folder" in _error(capsys)


def test_export_all_never_stops_at_one_patients_problem(
    demo: DemoPatient,
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # LT-01-001's diameters were typed in: no SR can reference an image for it
    out = tmp_path / "sr"
    images = Path(next(iter(demo.images.values()))).parents[1]
    code = _export(
        database, "--all", "--format", "sr", "--out", str(out), "--images",
        str(images),
    )  # fmt: skip
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "recist-app: not exported: sr: patient LT-01-001 (RECIST 1.1, reader "
        "Dr Example): "
    )
    assert "no lesion was measured on an image" in lines[0]
    assert len(list(out.rglob("*.SR.dcm"))) == 4  # the demo patient's, written
    assert not list(out.glob("LT-01-001*"))


def test_a_signed_reading_with_a_missed_visit_exports_with_a_note(
    demo: DemoPatient, database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    timepoints = list(demo.reading.timepoints)
    missed = timepoints[2].visit
    timepoints[2] = dataclasses.replace(
        timepoints[2], measurements=(), non_target=(), new_lesions=()
    )
    reading = dataclasses.replace(
        demo.reading, reader="Dr Second", timepoints=tuple(timepoints)
    )
    with open_store(database) as store:
        store.readings.save(reading, user="dr-second")
        store.signing.sign(reading.patient_id, reading.criteria, reading.reader)
    images = Path(next(iter(demo.images.values()))).parents[1]
    for fmt in ("json", "csv", "sdtm", "sr", "pdf"):
        out = tmp_path / fmt
        code = _export(
            database, "--patient", PATIENT_ID, "--reader", "Dr Second", "--format",
            fmt, "--out", str(out), "--images", str(images),
        )  # fmt: skip
        assert code == 0, fmt
        err = capsys.readouterr().err
        if fmt == "sr":
            assert err.strip() == (
                f"recist-app: note: patient {PATIENT_ID} (RECIST 1.1, reader Dr "
                f"Second): SR of visit {missed} not written: the visit is not read "
                "(no finding recorded)"
            )
            assert len(list(out.rglob("*.SR.dcm"))) == 3
        else:
            assert err == ""
