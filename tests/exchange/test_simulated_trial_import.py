"""Issue 10 proof: the simulated trial goes into the database like any reading.

``recist-app simulate-trial`` writes reading files and a clinical file;
``recist-app reading import`` and ``recist-app clinical import`` put them into
one database, and the endpoints computed from the database are those computed
from the files, under every criteria set. The worklist lists every patient, and
the database exports the readings that were imported.
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING

import pytest

from recist_app.cli import main

if TYPE_CHECKING:
    from pathlib import Path

PATIENTS = 12


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    """The simulated trial's files, and a database they were imported into."""
    root = tmp_path_factory.mktemp("simulated")
    out = root / "trial"
    status = main(["simulate-trial", str(out), "--patients", str(PATIENTS)])
    assert status == 0
    url = f"sqlite:///{root / 'trial.sqlite3'}"
    files = sorted((out / "readings").glob("*.reading.json"))
    assert len(files) == PATIENTS
    argv = ["reading", "import", "--database", url, "--user", "dr-import"]
    assert main([*argv, *map(str, files)]) == 0
    clinical = ["clinical", "import", "--database", url, "--user", "dr-import"]
    assert main([*clinical, str(out / "clinical.csv")]) == 0
    return {"out": out, "url": url}


def test_every_reading_file_is_imported_once(
    trial: dict[str, Path | str], capsys: pytest.CaptureFixture[str]
) -> None:
    out, url = trial["out"], str(trial["url"])
    assert not isinstance(out, str)
    files = sorted(str(p) for p in (out / "readings").glob("*.reading.json"))
    capsys.readouterr()
    # Importing the same files again changes nothing.
    assert main(["reading", "import", "--database", url, "--user", "x", *files]) == 0
    summary = capsys.readouterr().out.splitlines()[-1]
    assert summary == (
        f"{PATIENTS} files: 0 imported, {PATIENTS} unchanged, 0 replaced, 0 refused"
    )


@pytest.mark.parametrize("criteria", ["RECIST 1.1", "iRECIST", "mRECIST"])
def test_endpoints_from_the_database_are_those_from_the_files(
    trial: dict[str, Path | str], tmp_path: Path, criteria: str
) -> None:
    out, url = trial["out"], str(trial["url"])
    assert not isinstance(out, str)
    common = ["endpoints", "--criteria", criteria, "--no-plots", "--out"]
    assert main([*common, str(tmp_path / "db"), "--database", url]) == 0
    files = [
        "--readings",
        str(out / "readings"),
        "--clinical",
        str(out / "clinical.csv"),
    ]
    assert main([*common, str(tmp_path / "files"), *files]) == 0
    from_db = json.loads((tmp_path / "db" / "endpoints.json").read_text())
    from_files = json.loads((tmp_path / "files" / "endpoints.json").read_text())
    assert from_db["treated"] == PATIENTS
    assert from_db["criteria"] == criteria
    assert from_db == from_files
    for name in ("subjects.csv", "summary.csv"):
        assert (tmp_path / "db" / name).read_text() == (
            tmp_path / "files" / name
        ).read_text()


def test_the_worklist_lists_every_patient(
    trial: dict[str, Path | str], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    url = str(trial["url"])
    patients = [f"HCC-{n:03d}" for n in range(1, PATIENTS + 1)]
    assert main(["reading", "list", "--database", url]) == 0
    header, *lines = capsys.readouterr().out.splitlines()
    assert header.split()[:2] == ["patient", "criteria"]
    assert sorted(line.split()[0] for line in lines) == patients
    assert main(["reading", "list", "--database", url, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert sorted(row["patient_id"] for row in rows) == patients
    assert {row["criteria"] for row in rows} == {"RECIST 1.1"}
    assert {row["status"] for row in rows} == {"draft"}
    # Every visit of every simulated reading was read.
    for row in rows:
        read, known = row["visits_read"].split("/")
        assert read == known != "0"


def test_the_database_exports_the_readings_it_imported(
    trial: dict[str, Path | str], tmp_path: Path
) -> None:
    out, url = trial["out"], str(trial["url"])
    assert not isinstance(out, str)
    argv = ["export", "--database", url, "--all", "--format", "json"]
    assert main([*argv, "--out", str(tmp_path / "export")]) == 0
    exported = sorted((tmp_path / "export").glob("*.reading.json"))
    assert len(exported) == PATIENTS
    for path in exported:
        data = json.loads(path.read_text())
        assert data.pop("sign_off")["status"] == "draft"
        original = out / "readings" / f"{data['patient_id']}.reading.json"
        assert data == json.loads(original.read_text())
