"""``recist-app demo-data OUT_DIR`` writes the phantom; bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recist_app.cli import main
from recist_app.imaging import discover

SMALL = [
    "--slices",
    "6",
    "--slice-spacing",
    "40",
    "--pixel-size",
    "6",
    "--matrix",
    "64",
]


def test_demo_data_writes_studies_and_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"

    status = main(
        ["demo-data", str(out), *SMALL, "--seed", "3", "--visits", "3", "--shuffle"]
    )

    assert status == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out / "ground_truth.json")
    assert captured.err.count("slices written") == 3  # progress on stderr
    truth = json.loads((out / "ground_truth.json").read_text())
    assert truth["seed"] == 3
    assert [s["visit"] for s in truth["studies"]] == ["BASELINE", "WEEK 8", "WEEK 16"]
    (patient,) = discover(out).patients
    assert len(patient.studies) == 3
    assert all(study.series[0].slice_count == 6 for study in patient.studies)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--slices", "0"], "must be > 0"),
        (["--pixel-size", "abc"], "not a number"),
        (["--visits", "2"], "invalid choice"),
    ],
)
def test_bad_options_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["demo-data", str(tmp_path / "x"), *arguments])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_non_empty_or_file_target_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "keep.txt").write_text("x")
    assert main(["demo-data", str(tmp_path), *SMALL]) == 2
    error = capsys.readouterr().err
    assert error.startswith("recist-app: error: ")
    assert "not empty" in error
    assert error.count("\n") == 1

    assert main(["demo-data", str(tmp_path / "keep.txt"), *SMALL]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_phantom_errors_become_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo-data", str(tmp_path / "d"), "--slice-spacing", "500"]) == 2
    error = capsys.readouterr().err
    assert "spacings must be in (0, 100] mm" in error
    assert error.count("\n") == 1
