"""`recist-app evaluate`: JSON and CSV out, one-line errors with exit status 2."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from recist_app.cli import main
from recist_app.exchange import VISIT_COLUMNS

EXAMPLE = Path(__file__).parents[1] / "examples" / "HCC-001.reading.json"


def test_evaluate_prints_the_assessment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(EXAMPLE)]) == 0
    assessment = json.loads(capsys.readouterr().out)
    assert assessment["format"] == "recist-assessment/1"
    assert [t["overall_response"] for t in assessment["timepoints"]] == ["PR", "PR"]
    assert assessment["best_overall_response"]["response"] == "PR"
    assert assessment["best_overall_response"]["confirmed"] is True
    assert assessment["baseline"]["sum_of_diameters_mm"] == 60.0


def test_evaluate_writes_out_file(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "assessment.json"
    assert main(["evaluate", str(EXAMPLE), "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["patient_id"] == "HCC-001"


def test_evaluate_csv_has_the_baseline_and_one_row_per_visit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["evaluate", str(EXAMPLE), "--format", "csv"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert tuple(rows[0]) == VISIT_COLUMNS
    assert [(row["visit"], row["baseline"]) for row in rows] == [
        ("BASELINE", "Y"),
        ("WEEK 6", "N"),
        ("WEEK 12", "N"),
    ]
    assert rows[0]["sum_of_diameters_mm"] == "60.0"
    assert rows[1]["sum_of_diameters_mm"] == "39.0"
    assert rows[1]["target_response"] == "PR"


def test_evaluate_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["timepoints"][1]["measurements"][0]["lesion_id"] = "T09"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    assert main(["evaluate", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "visit WEEK 6" in lines[0]
    assert "lesion T09" in lines[0]


def test_evaluate_unsupported_criteria_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["criteria"] = "Cheson"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    assert main(["evaluate", str(bad)]) == 2
    assert "criteria" in capsys.readouterr().err


@pytest.mark.slow
def test_installed_command_never_shows_a_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    result = subprocess.run(
        [sys.executable, "-m", "recist_app", "evaluate", str(missing)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"recist-app: error: {missing}: no such file"


def test_evaluate_all_criteria_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(EXAMPLE), "--criteria", "all"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["format"] == "recist-assessment-set/1"
    by_criteria = {a["criteria"]: a for a in result["assessments"]}
    assert list(by_criteria) == ["RECIST 1.1", "iRECIST", "mRECIST"]
    assert by_criteria["iRECIST"]["timepoints"][0]["overall_response"] == "iPR"
    # mRECIST sums the viable liver diameter with the node's short axis: 35 + 18
    assert by_criteria["mRECIST"]["baseline"]["sum_of_diameters_mm"] == 53.0


def test_evaluate_one_other_criteria_as_csv(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["evaluate", str(EXAMPLE), "--criteria", "mrecist", "--format", "csv"])
        == 0
    )
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert {row["criteria"] for row in rows} == {"mRECIST"}
    assert rows[0]["sum_of_diameters_mm"] == "53.0"  # baseline: viable 35 + node 18
    assert rows[1]["sum_of_diameters_mm"] == "29.0"


def test_evaluate_all_criteria_as_csv_is_one_block_per_criteria(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["evaluate", str(EXAMPLE), "--criteria", "all", "--format", "csv"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert [(r["criteria"], r["visit"]) for r in rows] == [
        (criteria, visit)
        for criteria in ("RECIST 1.1", "iRECIST", "mRECIST")
        for visit in ("BASELINE", "WEEK 6", "WEEK 12")
    ]


def test_evaluate_json_carries_the_counted_diameters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["evaluate", str(EXAMPLE), "--criteria", "mrecist"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["baseline"]["target_diameters"] == [
        {"lesion_id": "T01", "diameter_mm": 35.0, "basis": "viable_long_axis"},
        {"lesion_id": "T02", "diameter_mm": 18.0, "basis": "short_axis"},
    ]
    week_6 = result["timepoints"][0]
    assert week_6["target_diameters"][0]["basis"] == "viable_long_axis"
    assert week_6["new_lesion_sum_mm"] is None
    assert week_6["new_lesion_diameters"] == []


def _issue16_reading(tmp_path: Path, *, cytology: object) -> Path:
    """The example with NT01 progressing at week 12, further at week 18, and a new
    right pleural effusion at week 18."""
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["lesions"].append(
        {"lesion_id": "N02", "role": "new", "organ": "pleura",
         "location": "right effusion"}
    )  # fmt: skip
    week_12 = data["timepoints"][2]
    week_12["non_target"] = [{"lesion_id": "NT01", "state": "unequivocal_progression"}]
    week_18 = json.loads(json.dumps(week_12))
    week_18.update(visit="WEEK 18", date="2024-07-08")
    week_18["non_target"] = [{"lesion_id": "NT01", "state": "further_increase"}]
    week_18["new_lesions"] = [
        {"lesion_id": "N02", "state": "unequivocal", "cytology_confirmed": cytology}
    ]
    data["timepoints"].append(week_18)
    path = tmp_path / "HCC-001.reading.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("cytology", "mrecist_new"), [(False, "EQUIVOCAL"), (True, "UNEQUIVOCAL")]
)
def test_evaluate_reads_H2_further_increase_and_J4_cytology_of_a_new_lesion(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    cytology: bool,
    mrecist_new: str,
) -> None:
    path = _issue16_reading(tmp_path, cytology=cytology)
    assert main(["evaluate", str(path), "--criteria", "all"]) == 0
    found = {
        a["criteria"]: a for a in json.loads(capsys.readouterr().out)["assessments"]
    }
    irecist = [t["overall_response"] for t in found["iRECIST"]["timepoints"]]
    assert irecist == ["iPR", "iUPD", "iCPD"]
    assert (
        "further increase of non-target NT01"
        in (found["iRECIST"]["timepoints"][-1]["reasons"][-1])
    )
    assert found["RECIST 1.1"]["timepoints"][-1]["new_lesions"] == "UNEQUIVOCAL"
    assert found["mRECIST"]["timepoints"][-1]["new_lesions"] == mrecist_new


def test_evaluate_refuses_a_cytology_flag_that_is_not_true_or_false(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _issue16_reading(tmp_path, cytology="yes")
    assert main(["evaluate", str(path)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error
    assert "cytology_confirmed" in error
    assert "WEEK 18" in error
