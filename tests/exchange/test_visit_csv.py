"""One per-visit layout: `evaluate --format csv` and `export --format csv` agree.

Both write :data:`~recist_app.exchange.VISIT_COLUMNS` from the one assessment
converter, so iRECIST's new-lesion sum (H4) reaches the JSON and both CSVs.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from recist_app.cli import main
from recist_app.exchange import VISIT_COLUMNS, read_reading_file
from recist_app.store import open_store

EXAMPLE = Path(__file__).parents[2] / "examples" / "HCC-001.reading.json"


def _reading_file(tmp_path: Path, criteria: str) -> Path:
    """The example under ``criteria``, read by dr-a, with N01 measured (H4)."""
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["criteria"] = criteria
    data["reader"] = "dr-a"
    week_6, week_12 = data["timepoints"][1:]
    week_6["new_lesions"] = [
        {"lesion_id": "N01", "state": "unequivocal", "long_axis_mm": 14.0}
    ]
    week_12["new_lesions"] = [
        {"lesion_id": "N01", "state": "unequivocal", "long_axis_mm": 21.5}
    ]
    path = tmp_path / f"{criteria.replace(' ', '_')}.reading.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _evaluate(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["evaluate", *args]) == 0
    return capsys.readouterr().out


def _export_csv(reading_file: Path, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'readings.sqlite3'}"
    with open_store(url) as store:
        store.readings.save(read_reading_file(reading_file), user="dr-a")
    out = tmp_path / "csv"
    code = main(
        ["export", "--database", url, "--patient", "HCC-001", "--format", "csv",
         "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    return (out / "responses.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("criteria", ["RECIST 1.1", "iRECIST", "mRECIST"])
def test_evaluate_and_export_write_the_same_per_visit_rows(
    criteria: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reading_file = _reading_file(tmp_path, criteria)
    evaluated = _evaluate(capsys, str(reading_file), "--format", "csv")
    exported = _export_csv(reading_file, tmp_path)
    assert exported == evaluated
    rows = list(csv.DictReader(evaluated.splitlines()))
    assert tuple(rows[0]) == VISIT_COLUMNS
    assert [(r["visit"], r["baseline"], r["reader"]) for r in rows] == [
        ("BASELINE", "Y", "dr-a"),
        ("WEEK 6", "N", "dr-a"),
        ("WEEK 12", "N", "dr-a"),
    ]
    assert {r["criteria"] for r in rows} == {criteria}


def test_H4_new_lesion_sum_reaches_evaluate_json_and_both_csvs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reading_file = _reading_file(tmp_path, "iRECIST")
    data = json.loads(_evaluate(capsys, str(reading_file)))
    week_6, week_12 = data["timepoints"]
    assert week_6["new_lesion_sum_mm"] == 14.0
    assert week_6["new_lesion_diameters"] == [
        {"lesion_id": "N01", "diameter_mm": 14.0, "basis": "long_axis"}
    ]
    assert week_12["new_lesion_sum_mm"] == 21.5
    evaluated = _evaluate(capsys, str(reading_file), "--format", "csv")
    exported = _export_csv(reading_file, tmp_path)
    for text in (evaluated, exported):
        rows = list(csv.DictReader(text.splitlines()))
        assert [r["new_lesion_sum_mm"] for r in rows] == ["", "14.0", "21.5"]
        assert [r["overall_response"] for r in rows[1:]] == ["iUPD", "iCPD"]
