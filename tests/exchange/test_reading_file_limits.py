"""Reading files beyond the bounds (issue 17): one line and exit 2, never a traceback.

Each case was a traceback or silently accepted before: a diameter of 1e308
(OverflowError in the exact arithmetic), JSON nested 100 000 deep
(RecursionError), an integer of 5000 digits (ValueError), control characters in
ids (printed raw by ``reading list``, written into CSV and XPT), text longer than
the database column (accepted by ``evaluate``, refused by ``reading import``),
non-ASCII lesion ids (the SDTM export failed much later) and absurd diameters.
``evaluate`` and ``reading import`` read through the same reader, so they refuse
the same files with the same line.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String

from recist_app.cli import main
from recist_app.exchange.reading_file import MAX_TEXT_LENGTHS
from recist_app.store.schema import (
    LesionRow,
    MeasurementRow,
    PatientRow,
    ReadingRow,
    TimePointRow,
)

EXAMPLE = Path(__file__).parents[2] / "examples" / "HCC-001.reading.json"

Change = Callable[[dict[str, Any]], object]


def _example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


def _t01(data: dict[str, Any], **values: object) -> None:
    """Change T01's baseline measurement."""
    data["timepoints"][0]["measurements"][0].update(values)


def _rename_t01(data: dict[str, Any], new_id: str) -> None:
    for lesion in data["lesions"]:
        if lesion["lesion_id"] == "T01":
            lesion["lesion_id"] = new_id
    for timepoint in data["timepoints"]:
        for measurement in timepoint["measurements"]:
            if measurement["lesion_id"] == "T01":
                measurement["lesion_id"] = new_id


# (id, change to the example reading, parts of the one-line message)
CASES: list[tuple[str, Change, list[str]]] = [
    (
        "diameter-1e308",
        lambda d: _t01(d, long_axis_mm=1e308),
        [
            "timepoints[0].measurements[0].long_axis_mm",
            "visit BASELINE",
            "lesion T01",
            "1e+308 mm is not a plausible value (at most 1000 mm)",
        ],
    ),
    (
        "diameter-2-m",
        lambda d: _t01(d, long_axis_mm=2000),
        ["long_axis_mm", "lesion T01", "2000 mm is not a plausible value"],
    ),
    (
        "diameter-huge-integer",
        lambda d: _t01(d, short_axis_mm=10**400),
        ["short_axis_mm", "lesion T01", "is not a plausible value"],
    ),
    (
        "split-part-1e308",
        lambda d: _t01(d, state="split", long_axis_mm=None, parts_mm=[1e308]),
        ["parts_mm[0]", "visit BASELINE", "lesion T01", "not a plausible value"],
    ),
    (
        "slice-thickness-1e308",
        lambda d: d["timepoints"][0].update(slice_thickness_mm=1e308),
        ["timepoints[0].slice_thickness_mm", "visit BASELINE", "not a plausible"],
    ),
    (
        "coordinate-1e308",
        lambda d: _t01(
            d,
            geometry={
                "series_instance_uid": "1.2.3",
                "sop_instance_uid": "1.2.3.4",
                "long_axis": {"start_lps_mm": [0, 0, 0], "end_lps_mm": [1e308, 0, 0]},
            },
        ),
        ["geometry.long_axis", "visit BASELINE", "lesion T01", "at most 1e+06 mm"],
    ),
    (
        "param-days-huge",
        lambda d: d["params"].update(confirmation_min_days=10**30),
        ["params.confirmation_min_days", "more than the 3650 allowed"],
    ),
    (
        "param-threshold-1e308",
        lambda d: d["params"].update(too_small_mm=1e308),
        ["params.too_small_mm", "not a plausible value"],
    ),
    (
        "date-year-9999",
        lambda d: d["timepoints"][2].update(date="9999-12-31"),
        ["timepoints[2].date", "visit WEEK 12", "outside 1900-01-01 to 2199-12-31"],
    ),
    (
        "escape-sequence-in-lesion-id",
        lambda d: _rename_t01(d, "T\x1b[31m01"),
        ["lesions[0].lesion_id", "control character U+001B at position 1"],
    ),
    (
        "newline-in-patient-id",
        lambda d: d.update(patient_id="HCC-001\nINJECTED"),
        ["patient_id", "control character U+000A at position 7"],
    ),
    (
        "right-to-left-override-in-visit",
        lambda d: d["timepoints"][1].update(visit="WEEK \u202e6"),
        ["timepoints[1].visit", "format character U+202E"],
    ),
    (
        "nul-in-organ",
        lambda d: d["lesions"][1].update(organ="lymph\x00node"),
        ["lesions[1].organ", "lesion T02", "control character U+0000"],
    ),
    (
        "lone-surrogate-in-reader",
        lambda d: d.update(reader="dr \ud800"),
        ["reader", "surrogate character U+D800"],
    ),
    (
        "non-ascii-lesion-id",
        lambda d: _rename_t01(d, "Tü01"),
        ["lesions[0].lesion_id", "'Tü01': a lesion id must be printable ASCII"],
    ),
    (
        "lesion-id-longer-than-its-column",
        lambda d: _rename_t01(d, "T" * 17),
        ["lesions[0].lesion_id", "17 characters, more than the 16"],
    ),
    (
        "patient-id-longer-than-its-column",
        lambda d: d.update(patient_id="P" * 65),
        ["patient_id", "65 characters, more than the 64 the database holds"],
    ),
    (
        "organ-longer-than-its-column",
        lambda d: d["lesions"][0].update(organ="liver " * 30),
        ["lesions[0].organ", "lesion T01", "180 characters, more than the 128"],
    ),
    (
        "visit-longer-than-its-column",
        lambda d: d["timepoints"][1].update(visit="W" * 65),
        ["timepoints[1].visit", "65 characters, more than the 64"],
    ),
    (
        "merged-into-non-ascii",
        lambda d: d["timepoints"][1]["measurements"][0].update(
            state="merged", long_axis_mm=None, merged_into="Tö02"
        ),
        ["merged_into", "visit WEEK 6", "lesion T01", "printable ASCII"],
    ),
]


def _write(tmp_path: Path, change: Change) -> Path:
    data = copy.deepcopy(_example())
    change(data)
    path = tmp_path / "reading.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("recist-app: error")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("change", "expected"),
    [(change, expected) for _, change, expected in CASES],
    ids=[name for name, _, _ in CASES],
)
def test_evaluate_refuses_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Change,
    expected: list[str],
) -> None:
    path = _write(tmp_path, change)

    assert main(["evaluate", str(path)]) == 2

    line = _one_line(capsys)
    assert str(path) in line
    for part in expected:
        assert part in line


@pytest.mark.parametrize(
    ("change", "expected"),
    [(change, expected) for _, change, expected in CASES],
    ids=[name for name, _, _ in CASES],
)
def test_reading_import_refuses_the_same_files_the_same_way(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Change,
    expected: list[str],
) -> None:
    path = _write(tmp_path, change)
    database = f"sqlite:///{tmp_path / 'readings.sqlite3'}"

    assert main(["reading", "import", str(path), "--database", database]) == 2

    line = _one_line(capsys)
    assert str(path) in line
    for part in expected:
        assert part in line


RAW_CASES = [
    ("nested-100000-deep", '{"a":' * 100_000 + "1" + "}" * 100_000, "nested too deep"),
    ("nested-70-deep", '{"format": ' + "[" * 70 + "]" * 70 + "}", "nested too deep"),
    ("nan", '{"format": NaN}', "NaN is not a number JSON allows"),
    ("infinity", '{"format": -Infinity}', "-Infinity is not a number JSON allows"),
    ("5000-digits", '{"format": ' + "1" * 5000 + "}", "a number with thousands"),
    ("not-utf8", b'{"format": "\xff"}', "not UTF-8 text"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [(text, expected) for _, text, expected in RAW_CASES],
    ids=[name for name, _, _ in RAW_CASES],
)
@pytest.mark.parametrize("command", ["evaluate", "reading import"])
def test_malformed_json_is_one_line_in_both_commands(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str | bytes,
    expected: str,
    command: str,
) -> None:
    path = tmp_path / "reading.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    database = ["--database", f"sqlite:///{tmp_path / 'readings.sqlite3'}"]
    arguments = (
        ["evaluate", str(path)]
        if command == "evaluate"
        else ["reading", "import", str(path), *database]
    )

    assert main(arguments) == 2

    line = _one_line(capsys)
    assert f"{path}: " in line
    assert expected in line


def test_a_diameter_at_the_bound_and_printable_unicode_text_are_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def change(data: dict[str, Any]) -> None:
        _t01(data, long_axis_mm=1000.0)
        data["lesions"][0].update(organ="foie", location="segment VII, sous-capsulaire")
        data["timepoints"][1]["visit"] = "SEMAINE 6 – contrôle"

    assert main(["evaluate", str(_write(tmp_path, change))]) == 0
    assert json.loads(capsys.readouterr().out)["baseline"]["sum_of_diameters_mm"] > 1000


def test_text_limits_are_the_database_column_lengths() -> None:
    columns = {
        "patient_id": PatientRow.__table__.c.patient_id,
        "reader": ReadingRow.__table__.c.reader,
        "signed_by": ReadingRow.__table__.c.signed_by,
        "lesion_id": LesionRow.__table__.c.lesion_id,
        "organ": LesionRow.__table__.c.organ,
        "location": LesionRow.__table__.c.location,
        "tracking_uid": LesionRow.__table__.c.tracking_uid,
        "visit": TimePointRow.__table__.c.visit,
        "study_instance_uid": TimePointRow.__table__.c.study_instance_uid,
        "series_instance_uid": TimePointRow.__table__.c.series_instance_uid,
        "sop_instance_uid": MeasurementRow.__table__.c.geometry_sop_instance_uid,
        "merged_into": MeasurementRow.__table__.c.merged_into,
    }
    lengths = {}
    for key, column in columns.items():
        assert isinstance(column.type, String)
        lengths[key] = column.type.length
    assert lengths == MAX_TEXT_LENGTHS
