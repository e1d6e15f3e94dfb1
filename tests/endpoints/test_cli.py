"""``recist-app simulate-trial`` and ``recist-app endpoints`` end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from recist_app.cli import main


@pytest.fixture(scope="module")
def trial_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trial")
    assert main(["simulate-trial", str(folder), "--patients", "30", "--seed", "5"]) == 0
    return folder


def test_simulate_trial_writes_readings_and_clinical_file(trial_dir: Path) -> None:
    readings = sorted((trial_dir / "readings").glob("*.reading.json"))
    assert len(readings) == 30
    assert json.loads(readings[0].read_text())["format"] == "recist-reading/1"
    with (trial_dir / "clinical.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 30
    assert rows[0]["patient_id"] == "HCC-001"
    with (trial_dir / "adverse_events.csv").open(newline="") as handle:
        events = list(csv.DictReader(handle))
    assert len(events) > 30
    assert {e["patient_id"] for e in events} <= {r["patient_id"] for r in rows}
    with (trial_dir / "biomarkers.csv").open(newline="") as handle:
        markers = list(csv.DictReader(handle))
    assert [m["patient_id"] for m in markers] == [r["patient_id"] for r in rows]
    assert list(markers[0]) == ["patient_id", "pdl1_cps", "afp_ng_ml", "etiology"]


@pytest.mark.slow
def test_endpoints_writes_json_csv_plots_and_reports(
    trial_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    status = main(
        [
            "endpoints",
            "--readings",
            str(trial_dir / "readings"),
            "--clinical",
            str(trial_dir / "clinical.csv"),
            "--out",
            str(out),
        ]
    )
    assert status == 0
    assert "ORR (CR+PR)" in capsys.readouterr().out
    data = json.loads((out / "endpoints.json").read_text())
    assert data["format"] == "recist-endpoints/1"
    assert data["treated"] == 30
    assert 0 <= data["orr"]["ci_lower"] <= data["orr"]["estimate"] <= 1
    assert data["orr"]["count"] == sum(s["responder"] for s in data["subjects"])
    assert data["pfs"]["events"] + data["pfs"]["numbers_at_risk"][0]["at_risk"] > 30
    with (out / "subjects.csv").open(newline="") as handle:
        subjects = list(csv.DictReader(handle))
    assert len(subjects) == 30
    assert {row["pfs_event"] for row in subjects} <= {"Y", "N"}
    for stem in ("waterfall", "spider", "swimmer", "km_pfs", "km_ttp", "km_os"):
        png = (out / f"{stem}.png").read_bytes()
        assert png.startswith(b"\x89PNG")
        assert len(png) > 10_000
    pdf = (out / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 6
    html = (out / "report.html").read_text()
    assert html.count("<img") == 6  # no AE or biomarker plots without their files
    assert "HCC-001" in html
    assert not (out / "adverse_events.png").exists()
    assert (out / "adam" / "adtte.xpt").is_file()


@pytest.mark.slow
def test_endpoints_with_adverse_events_and_biomarkers_adds_their_tables_and_plots(
    trial_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    status = main(
        [
            "endpoints",
            "--readings",
            str(trial_dir / "readings"),
            "--clinical",
            str(trial_dir / "clinical.csv"),
            "--adverse-events",
            str(trial_dir / "adverse_events.csv"),
            "--biomarkers",
            str(trial_dir / "biomarkers.csv"),
            "--out",
            str(out),
        ]
    )
    assert status == 0
    for stem in ("adverse_events", "forest", "orr_by_biomarker"):
        png = (out / f"{stem}.png").read_bytes()
        assert png.startswith(b"\x89PNG")
        assert len(png) > 10_000
    html = (out / "report.html").read_text()
    assert html.count("<img") == 9
    assert "Treatment-emergent adverse events by system organ class" in html
    assert "Response and survival by biomarker" in html
    assert (out / "safety.csv").read_text().startswith("System organ class / term,")
    assert (out / "adam" / "adae.csv").is_file()


def test_endpoints_switches_change_the_analysis(
    trial_dir: Path, tmp_path: Path
) -> None:
    common = [
        "endpoints",
        "--readings",
        str(trial_dir / "readings"),
        "--clinical",
        str(trial_dir / "clinical.csv"),
        "--no-plots",
    ]
    assert main([*common, "--out", str(tmp_path / "a")]) == 0
    assert (
        main(
            [
                *common,
                "--out",
                str(tmp_path / "b"),
                "--unconfirmed",
                "--cbr",
                "cr-pr-sd-24w",
                "--cbr-non-cr-non-pd",
                "--no-censor-new-therapy",
                "--no-censor-missed-assessments",
                "--survival-ci",
                "linear",
            ]
        )
        == 0
    )
    primary = json.loads((tmp_path / "a" / "endpoints.json").read_text())
    sensitivity = json.loads((tmp_path / "b" / "endpoints.json").read_text())
    assert sensitivity["options"]["cbr_definition"] == "cr-pr-sd-24w"
    assert sensitivity["options"]["cbr_counts_non_cr_non_pd"] is True
    assert primary["options"]["cbr_counts_non_cr_non_pd"] is False
    assert sensitivity["orr"]["count"] >= primary["orr"]["count"]
    assert sensitivity["cbr"]["count"] >= primary["cbr"]["count"]
    assert not (tmp_path / "a" / "report.pdf").exists()


def test_bad_clinical_row_is_one_line_and_exit_2(
    trial_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (trial_dir / "clinical.csv").read_text().splitlines()
    cells = lines[3].split(",")
    cells[2] = "1999-01-01"  # death before first dose
    lines[3] = ",".join(cells)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    status = main(
        [
            "endpoints",
            "--readings",
            str(trial_dir / "readings"),
            "--clinical",
            str(bad),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert status == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert f"{bad}, row 4, column death_date: death 1999-01-01 is before" in error
    assert "Traceback" not in error


def test_missing_readings_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        [
            "endpoints",
            "--readings",
            str(tmp_path / "none"),
            "--clinical",
            str(tmp_path / "c.csv"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert status == 2
    assert "not a folder" in capsys.readouterr().err


def test_endpoints_from_the_database_match_the_reading_files(
    trial_dir: Path, tmp_path: Path
) -> None:
    from recist_app.exchange import read_reading_file
    from recist_app.store import open_store

    url = f"sqlite:///{tmp_path / 'readings.sqlite3'}"
    with open_store(url) as store:
        for path in sorted((trial_dir / "readings").glob("*.json")):
            store.readings.save(read_reading_file(path), user="test")
    common = ["endpoints", "--clinical", str(trial_dir / "clinical.csv"), "--no-plots"]
    assert main([*common, "--database", url, "--out", str(tmp_path / "db")]) == 0
    assert (
        main(
            [
                *common,
                "--readings",
                str(trial_dir / "readings"),
                "--out",
                str(tmp_path / "files"),
            ]
        )
        == 0
    )
    from_db = json.loads((tmp_path / "db" / "endpoints.json").read_text())
    from_files = json.loads((tmp_path / "files" / "endpoints.json").read_text())
    assert from_db == from_files


def test_database_with_two_readers_of_one_patient_asks_for_a_reader(
    trial_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import dataclasses

    from recist_app.exchange import read_reading_file
    from recist_app.store import open_store

    url = f"sqlite:///{tmp_path / 'two.sqlite3'}"
    reading = read_reading_file(trial_dir / "readings" / "HCC-001.reading.json")
    with open_store(url) as store:
        store.readings.save(dataclasses.replace(reading, reader="dr-a"), user="t")
        store.readings.save(dataclasses.replace(reading, reader="dr-b"), user="t")
    argv = [
        "endpoints",
        "--database",
        url,
        "--clinical",
        str(trial_dir / "clinical.csv"),
        "--out",
        str(tmp_path / "out"),
    ]
    assert main(argv) == 2
    assert "patient 'HCC-001': 2 RECIST 1.1 readings" in capsys.readouterr().err
    assert main([*argv, "--reader", "dr-a", "--allow-unread-patients"]) == 0


def test_clinical_import_then_endpoints_from_the_database_alone(
    trial_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from recist_app.exchange import read_reading_file
    from recist_app.store import open_store

    url = f"sqlite:///{tmp_path / 'readings.sqlite3'}"
    with open_store(url) as store:
        for path in sorted((trial_dir / "readings").glob("*.json")):
            store.readings.save(read_reading_file(path), user="test")
    out = ["--no-plots", "--database", url, "--out"]
    assert main(["endpoints", *out, str(tmp_path / "none")]) == 2
    assert "no clinical data; import it (recist-app clinical import" in (
        capsys.readouterr().err
    )
    clinical = str(trial_dir / "clinical.csv")
    assert main(["clinical", "import", clinical, "--database", url]) == 0
    assert "30 added" in capsys.readouterr().out
    assert main(["clinical", "import", clinical, "--database", url]) == 0
    assert "30 unchanged" in capsys.readouterr().out
    assert main(["endpoints", *out, str(tmp_path / "db")]) == 0
    files = ["--readings", str(trial_dir / "readings"), "--clinical", clinical]
    assert main(["endpoints", "--no-plots", *files, "--out", str(tmp_path / "f")]) == 0
    from_db = json.loads((tmp_path / "db" / "endpoints.json").read_text())
    from_files = json.loads((tmp_path / "f" / "endpoints.json").read_text())
    assert from_db == from_files
    with open_store(url) as store:
        assert sum(e.entity == "clinical" for e in store.audit.trail()) == 30


def test_a_bad_clinical_row_is_one_line_and_changes_nothing(
    trial_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from recist_app.store import open_store

    url = f"sqlite:///{tmp_path / 'readings.sqlite3'}"
    good = trial_dir / "clinical.csv"
    assert main(["clinical", "import", str(good), "--database", url]) == 0
    lines = good.read_text().splitlines()
    cells = lines[3].split(",")
    cells[2] = "2001-01-01"  # death long before the first dose
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([*lines[:3], ",".join(cells), *lines[4:6]]) + "\n")
    capsys.readouterr()
    assert main(["clinical", "import", str(bad), "--database", url]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "bad.csv, row 4, column death_date: death 2001-01-01 is before" in error
    with open_store(url) as store:
        assert len(store.clinical.records()) == 30  # the earlier import is intact


def test_endpoints_under_irecist_and_mrecist(
    trial_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = [
        "endpoints",
        "--no-plots",
        "--readings",
        str(trial_dir / "readings"),
        "--clinical",
        str(trial_dir / "clinical.csv"),
    ]
    for name in ("iRECIST", "mrecist"):
        out = tmp_path / name
        assert main([*common, "--criteria", name, "--out", str(out)]) == 0
        data = json.loads((out / "endpoints.json").read_text())
        assert data["criteria"] == {"iRECIST": "iRECIST", "mrecist": "mRECIST"}[name]
    assert (
        "iCPD"
        in json.loads((tmp_path / "iRECIST" / "endpoints.json").read_text())[
            "bor_counts"
        ]["confirmed"]
    )
    with pytest.raises(SystemExit):
        main([*common, "--criteria", "WHO", "--out", str(tmp_path / "x")])
    assert "unknown criteria 'WHO'" in capsys.readouterr().err


def test_clinical_import_stores_adverse_events_and_refuses_bad_rows(
    trial_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from recist_app.store import open_store

    url = f"sqlite:///{tmp_path / 'readings.sqlite3'}"
    ae = trial_dir / "adverse_events.csv"
    # Adverse events alone need the clinical data first.
    assert (
        main(["clinical", "import", "--adverse-events", str(ae), "--database", url])
        == 2
    )
    assert "no clinical data" in capsys.readouterr().err
    status = main(
        [
            "clinical",
            "import",
            str(trial_dir / "clinical.csv"),
            "--adverse-events",
            str(ae),
            "--database",
            url,
        ]
    )
    assert status == 0
    assert "clinical rows: 30 added" in capsys.readouterr().out
    with open_store(url) as store:
        stored = store.adverse_events.records()
        trail = len(store.audit.trail())
    lines = ae.read_text().splitlines()
    assert len(stored) == len(lines) - 1
    for index, value, column in (
        (0, "HCC-999", "patient_id"),
        (3, "6", "grade"),
        (5, "2000-01-01", "end_date"),
        (8, "halved", "action"),
    ):
        bad_lines = list(lines)
        cells = next(csv.reader([bad_lines[5]]))
        cells[index] = value
        bad_lines[5] = ",".join(f'"{c}"' if "," in c else c for c in cells)
        bad = tmp_path / "bad.csv"
        bad.write_text("\n".join(bad_lines) + "\n")
        status = main(
            ["clinical", "import", "--adverse-events", str(bad), "--database", url]
        )
        assert status == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1
        assert f"{bad}, row 6, column {column}: " in error
        with open_store(url) as store:  # nothing stored
            assert store.adverse_events.records() == stored
            assert len(store.audit.trail()) == trail
    assert main(["clinical", "import", "--database", url]) == 2
    assert "give CLINICAL.csv, --adverse-events AE.csv, or both" in (
        capsys.readouterr().err
    )
