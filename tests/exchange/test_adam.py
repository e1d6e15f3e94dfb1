"""ADaM datasets: every value checked against subjects.csv, endpoints.json, the
AE and biomarker files and the readings' own assessments; the SAS transport
files read back; ``export --format adam`` from the database (docs/standards.md
1.5)."""

from __future__ import annotations

import csv
import datetime
import json
import re
from typing import TYPE_CHECKING, Any

import pandas as pd  # type: ignore[import-untyped]  # no stubs installed
import pytest

from recist_app.cli import main
from recist_app.endpoints import simulate_trial
from recist_app.exchange import read_reading_file, sas_date
from recist_app.recist import assess
from recist_app.store import open_store

if TYPE_CHECKING:
    from pathlib import Path

AVAL = {"CR": 1, "PR": 2, "SD": 3, "NON-CR/NON-PD": 4, "PD": 5, "NE": 6, "MISSING": 7}
ACTION = {
    "none": "DOSE NOT CHANGED",
    "interrupted": "DRUG INTERRUPTED",
    "reduced": "DOSE REDUCED",
    "discontinued": "DRUG WITHDRAWN",
    "": "",
}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def trial_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trial")
    assert main(["simulate-trial", str(folder), "--patients", "40", "--seed", "9"]) == 0
    return folder


@pytest.fixture(scope="module")
def out(trial_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("endpoints")
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
            "--study-id",
            "LT-HCC-P2",
            "--out",
            str(folder),
            "--no-plots",
        ]
    )
    assert status == 0
    return folder


def test_endpoints_writes_the_four_datasets_with_their_define_list(out: Path) -> None:
    names = sorted(p.name for p in (out / "adam").iterdir())
    assert names == [
        "adae.csv",
        "adae.xpt",
        "adrs.csv",
        "adrs.xpt",
        "adsl.csv",
        "adsl.xpt",
        "adtte.csv",
        "adtte.xpt",
        "define.csv",
    ]
    define = _rows(out / "adam" / "define.csv")
    for dataset in ("ADSL", "ADRS", "ADTTE", "ADAE"):
        listed = [r for r in define if r["dataset"] == dataset]
        with (out / "adam" / f"{dataset.lower()}.csv").open(encoding="utf-8") as f:
            header = next(csv.reader(f))
        assert [r["variable"] for r in listed] == header
        for row in listed:
            assert re.fullmatch(r"[A-Z][A-Z0-9]{0,7}", row["variable"])
            assert 0 < len(row["label"]) <= 40
            assert row["type"] in ("Char", "Num")
            if row["variable"].endswith("DT"):
                assert (row["type"], row["display_format"]) == ("Num", "DATE9.")
    assert {r["variable"] for r in define if r["dataset"] == "ADTTE"} >= {
        "STUDYID",
        "USUBJID",
        "PARAMCD",
        "PARAM",
        "AVAL",
        "CNSR",
        "STARTDT",
        "ADT",
        "EVNTDESC",
        "CNSDTDSC",
    }


def test_adsl_equals_subjects_csv_and_the_biomarker_file(
    trial_dir: Path, out: Path
) -> None:
    adsl = _rows(out / "adam" / "adsl.csv")
    subjects = _rows(out / "subjects.csv")
    written = json.loads((out / "endpoints.json").read_text(encoding="utf-8"))
    assert [r["USUBJID"] for r in adsl] == [s["patient_id"] for s in subjects]
    for row, subject in zip(adsl, subjects, strict=True):
        assert row["STUDYID"] == "LT-HCC-P2"
        assert row["TRTSDT"] == subject["first_dose_date"]
        assert row["DTHDT"] == subject["death_date"]
        assert row["DTHFL"] == ("Y" if subject["death_date"] else "")
        assert row["NACTDT"] == subject["new_anticancer_therapy_date"]
        assert row["DCUTDT"] == written["data_cutoff_date"]
        assert row["SAFFL"] == "Y"
        assert row["EFFFL"] == subject["in_response_population"]
    markers = {r["patient_id"]: r for r in _rows(trial_dir / "biomarkers.csv")}
    blocks = {m["name"]: m for m in written["biomarkers"]}
    for name, variable in (
        ("pdl1_cps", "PDL1C"),
        ("afp_ng_ml", "AFPNG"),
        ("etiology", "ETIOL"),
    ):
        cutoff = blocks[name]["cutoff"]
        for row in adsl:
            raw = markers[row["USUBJID"]][name]
            group = row[f"{variable}GR1"]
            if raw == "":
                assert (row[variable], group) == ("", "")
            elif cutoff is None:
                assert (row[variable], group) == (raw, raw)
            else:
                assert float(row[variable]) == float(raw)
                assert group == ("low" if float(raw) <= cutoff else "high")


def test_adrs_equals_the_assessments_and_the_best_responses(
    trial_dir: Path, out: Path
) -> None:
    adrs = _rows(out / "adam" / "adrs.csv")
    subjects = {s["patient_id"]: s for s in _rows(out / "subjects.csv")}
    written = json.loads((out / "endpoints.json").read_text(encoding="utf-8"))
    unconfirmed = {
        s["patient_id"]: s["bor_unconfirmed"]["date"] or "" for s in written["subjects"]
    }
    cutoff = written["data_cutoff_date"]
    for path in sorted((trial_dir / "readings").glob("*.json")):
        reading = read_reading_file(path)
        subject = subjects[reading.patient_id]
        rows = [r for r in adrs if r["USUBJID"] == reading.patient_id]
        assert [int(r["ASEQ"]) for r in rows] == list(range(1, len(rows) + 1))
        visits = [
            t
            for t in assess(reading).timepoints
            if subject["first_dose_date"] <= t.date.isoformat() <= cutoff
        ]
        overall = [r for r in rows if r["PARAMCD"] == "OVR"]
        assert [(r["AVISIT"], r["ADT"], r["AVALC"]) for r in overall] == [
            (t.visit, t.date.isoformat(), str(t.overall_response)) for t in visits
        ]
        therapy = subject["new_anticancer_therapy_date"]
        for row in overall:
            assert row["AVAL"] == str(AVAL[row["AVALC"]])
            assert row["ANL01FL"] == (
                "Y" if not therapy or row["ADT"] <= therapy else ""
            )
            first = datetime.date.fromisoformat(subject["first_dose_date"])
            day = (datetime.date.fromisoformat(row["ADT"]) - first).days + 1
            assert row["ADY"] == str(day)
        (bor,) = [r for r in rows if r["PARAMCD"] == "BOR"]
        (cbor,) = [r for r in rows if r["PARAMCD"] == "CBOR"]
        assert (bor["AVALC"], bor["ADT"]) == (
            subject["bor_unconfirmed"],
            unconfirmed[reading.patient_id],
        )
        assert (cbor["AVALC"], cbor["ADT"]) == (
            subject["bor_confirmed"],
            subject["bor_confirmed_date"],
        )
        assert cbor["PARAM"] == "Best Confirmed Overall Response by Investigator"
        assert cbor["PARCAT3"] == "RECIST 1.1"
        assert (bor["ANL01FL"], cbor["ANL01FL"]) == ("Y", "Y")


def test_adtte_equals_subjects_csv(out: Path) -> None:
    adtte = _rows(out / "adam" / "adtte.csv")
    subjects = _rows(out / "subjects.csv")
    assert {r["PARAMCD"] for r in adtte} == {"PFS", "TTP", "OS", "DOR"}
    for subject in subjects:
        rows = {r["PARAMCD"]: r for r in adtte if r["USUBJID"] == subject["patient_id"]}
        expected_params = {"PFS", "TTP", "OS"} | (
            {"DOR"} if subject["dor_days"] else set()
        )
        assert set(rows) == expected_params
        assert [rows[p]["ASEQ"] for p in sorted(rows)] == [
            str(n) for n in range(1, len(rows) + 1)
        ]
        for param in ("pfs", "ttp", "os"):
            row = rows[param.upper()]
            assert row["AVAL"] == subject[f"{param}_days"]
            assert row["CNSR"] == subject[f"{param}_cnsr"]
            assert row["ADT"] == subject[f"{param}_end_date"]
            assert row["STARTDT"] == subject["first_dose_date"]
            assert row["AVALU"] == "DAYS"
            start = datetime.date.fromisoformat(row["STARTDT"])
            end = datetime.date.fromisoformat(row["ADT"])
            assert int(row["AVAL"]) == (end - start).days + 1
            if row["CNSR"] == "0":
                death = row["ADT"] == subject["death_date"]
                progression = row["ADT"] == subject["progression_date"]
                assert row["EVNTDESC"] == (
                    "Disease Progression" if progression and param != "os" else "Death"
                )
                assert death or progression
                assert row["CNSDTDSC"] == ""
            else:
                assert row["CNSDTDSC"]
        if subject["dor_days"]:
            dor = rows["DOR"]
            assert (dor["AVAL"], dor["CNSR"]) == (
                subject["dor_days"],
                subject["dor_cnsr"],
            )
            assert dor["STARTDT"] == subject["bor_confirmed_date"]
        if subject["ttp_cnsr"] == "6":
            assert rows["TTP"]["EVNTDESC"] == "Death without Progression"
            assert rows["PFS"]["EVNTDESC"] == "Death"
        if subject["os_cnsr"] == "1":
            assert (rows["OS"]["EVNTDESC"], rows["OS"]["CNSDTDSC"]) == (
                "Alive",
                "Alive During Study",
            )


def test_adae_equals_the_ae_file_with_treatment_emergence(
    trial_dir: Path, out: Path
) -> None:
    adae = _rows(out / "adam" / "adae.csv")
    clinical = {r["patient_id"]: r for r in _rows(trial_dir / "clinical.csv")}
    events = _rows(trial_dir / "adverse_events.csv")
    order = list(clinical)

    def key(e: dict[str, str]) -> tuple[int, str, str]:
        return (order.index(e["patient_id"]), e["start_date"], e["term"])

    # ASEQ order: patient, start, term (rows of equal key keep the file's order)
    assert len(adae) == len(events)
    assert sorted(
        (r["USUBJID"], r["ASTDT"], r["AETERM"], r["ATOXGR"]) for r in adae
    ) == sorted(
        (e["patient_id"], e["start_date"], e["term"], e["grade"]) for e in events
    )
    written = json.loads((out / "endpoints.json").read_text(encoding="utf-8"))
    emergent = [r for r in adae if r["TRTEMFL"] == "Y"]
    assert (
        len(adae) - len(emergent)
        == written["adverse_events"]["excluded_not_treatment_emergent"]
    )
    by_key: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for event in sorted(events, key=key):
        by_key.setdefault(
            (event["patient_id"], event["start_date"], event["term"], event["grade"]),
            [],
        ).append(event)
    for row in adae:
        event = by_key[(row["USUBJID"], row["ASTDT"], row["AETERM"], row["ATOXGR"])][0]
        record = clinical[row["USUBJID"]]
        inside = record["first_dose_date"] <= row["ASTDT"] <= record["data_cutoff_date"]
        assert row["TRTEMFL"] == ("Y" if inside else "")
        assert row["AETOXGR"] == event["grade"]
        assert row["AEBODSYS"] == event["soc"]
        assert row["AENDT"] == event["end_date"]
        assert row["AESER"] == event["serious"]
        assert row["AEREL"] == event["related"]
        assert row["AEACN"] == ACTION[event["action"]]


def _close(xpt: Any, text: str, kind: str) -> bool:
    if kind == "Char":
        return (xpt.decode() if isinstance(xpt, bytes) else str(xpt)).rstrip() == text
    if text == "":
        return bool(pd.isna(xpt))
    if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        return abs(float(xpt) - sas_date(datetime.date.fromisoformat(text))) < 1e-6
    # pandas reads an IBM zero as 5.4e-79
    return abs(float(xpt) - float(text)) < 1e-6


def test_the_transport_files_hold_the_csv_values(out: Path) -> None:
    define = _rows(out / "adam" / "define.csv")
    for dataset in ("adsl", "adrs", "adtte", "adae"):
        frame = pd.read_sas(out / "adam" / f"{dataset}.xpt", format="xport")
        rows = _rows(out / "adam" / f"{dataset}.csv")
        kinds = {
            r["variable"]: r["type"] for r in define if r["dataset"] == dataset.upper()
        }
        assert list(frame.columns) == list(kinds)
        assert len(frame) == len(rows)
        for index, row in enumerate(rows):
            for name, kind in kinds.items():
                assert _close(frame.iloc[index][name], row[name], kind), (
                    dataset,
                    index,
                    name,
                )


@pytest.mark.slow
def test_export_adam_from_the_database_equals_endpoints_database(
    trial_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'trial.sqlite3'}"
    with open_store(url) as store:
        for path in sorted((trial_dir / "readings").glob("*.json")):
            store.readings.save(read_reading_file(path), user="dr-test")
    assert (
        main(
            [
                "clinical",
                "import",
                str(trial_dir / "clinical.csv"),
                "--adverse-events",
                str(trial_dir / "adverse_events.csv"),
                "--database",
                url,
            ]
        )
        == 0
    )
    assert "adverse events: " in capsys.readouterr().out
    assert (
        main(
            ["endpoints", "--database", url, "--out", str(tmp_path / "e"), "--no-plots"]
        )
        == 0
    )
    assert (
        main(
            [
                "export",
                "--all",
                "--format",
                "adam",
                "--database",
                url,
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 0
    )
    for name in ("adsl.csv", "adrs.csv", "adtte.csv", "adae.csv", "define.csv"):
        assert (tmp_path / "x" / name).read_text() == (
            tmp_path / "e" / "adam" / name
        ).read_text(), name
    assert (
        main(
            [
                "export",
                "--patient",
                "HCC-003",
                "--format",
                "adam",
                "--database",
                url,
                "--out",
                str(tmp_path / "one"),
            ]
        )
        == 0
    )
    for name in ("adsl.csv", "adrs.csv", "adtte.csv"):
        rows = _rows(tmp_path / "one" / name)
        assert rows
        assert {r["USUBJID"] for r in rows} == {"HCC-003"}
        every = [r for r in _rows(tmp_path / "x" / name) if r["USUBJID"] == "HCC-003"]
        assert rows == every


@pytest.mark.slow
def test_deidentified_adam_keeps_intervals_and_leaks_no_id_or_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recist_app.endpoints import adverse_events_csv_text, write_clinical_csv

    trial = simulate_trial(8, seed=3)
    url = f"sqlite:///{tmp_path / 'trial.sqlite3'}"
    with open_store(url) as store:
        for reading in trial.readings:
            store.readings.save(reading, user="dr-test")
    write_clinical_csv(trial.clinical, tmp_path / "clinical.csv")
    (tmp_path / "ae.csv").write_text(adverse_events_csv_text(trial.adverse_events))
    assert (
        main(
            [
                "clinical",
                "import",
                str(tmp_path / "clinical.csv"),
                "--adverse-events",
                str(tmp_path / "ae.csv"),
                "--database",
                url,
            ]
        )
        == 0
    )
    monkeypatch.setenv("RECIST_APP_DEID_KEY", "site-secret-key-for-tests")
    plain, hidden = tmp_path / "plain", tmp_path / "hidden"
    for folder, extra in ((plain, []), (hidden, ["--deidentify"])):
        assert (
            main(
                [
                    "export",
                    "--all",
                    "--format",
                    "adam",
                    "--database",
                    url,
                    "--out",
                    str(folder),
                    *extra,
                ]
            )
            == 0
        )
    patients = {r.patient_id.encode() for r in trial.clinical}
    for path in hidden.iterdir():
        data = path.read_bytes()
        assert not any(patient in data for patient in patients), path.name
    date = re.compile(r"\d{4}-\d\d-\d\d")
    for name in ("adsl.csv", "adrs.csv", "adtte.csv", "adae.csv"):
        original, shifted = _rows(plain / name), _rows(hidden / name)
        assert len(original) == len(shifted)
        shifts: dict[str, set[int]] = {}
        for before, after in zip(original, shifted, strict=True):
            assert after["USUBJID"].startswith("SUBJ-")
            for column, value in before.items():
                if not date.fullmatch(value):
                    assert after[column] == value or column == "USUBJID"
                    continue
                moved = datetime.date.fromisoformat(
                    value
                ) - datetime.date.fromisoformat(after[column])
                shifts.setdefault(after["USUBJID"], set()).add(moved.days)
        # one shift per patient, 62 to 730 days back: intervals (AVAL, ADY) kept
        assert all(len(days) == 1 for days in shifts.values())
        assert all(62 <= next(iter(d)) <= 730 for d in shifts.values())
