"""``recist-app measure`` and ``propagate`` through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recist_app.cli.main import main
from recist_app.imaging import LESIONS, PhantomSeries, write_phantom_series
from tests.imaging.conftest import liver_geometry


@pytest.fixture(scope="module")
def liver(tmp_path_factory: pytest.TempPathFactory) -> PhantomSeries:
    return write_phantom_series(
        tmp_path_factory.mktemp("measure"),
        geometry=liver_geometry(rows=128, columns=128, slice_count=40),
        lesions=LESIONS[:1],
    )


def test_measure_prints_the_axes_as_json(
    liver: PhantomSeries, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = liver.lesions[0]
    x, y, z = truth.center_lps_mm
    assert (
        main(["measure", liver.folder, "--at", f"{x},{y},{z}", "--format", "json"]) == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert answer["long_axis_mm"] == pytest.approx(truth.long_axis_mm, abs=1.0)
    assert answer["short_axis_mm"] == pytest.approx(truth.short_axis_mm, abs=1.0)
    assert len(answer["long_axis_lps_mm"]) == 2
    assert answer["sop_instance_uid"]
    assert answer["volume_ml"] > 0


@pytest.mark.parametrize("style", ["separate", "equals"])
def test_negative_coordinates_parse_as_typed_and_no_lesion_is_one_line(
    liver: PhantomSeries, capsys: pytest.CaptureFixture[str], style: str
) -> None:
    point = "-20,-50,-60"  # plain liver, no lesion
    argv = ["measure", liver.folder]
    argv += ["--at", point] if style == "separate" else [f"--at={point}"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "no lesion can be delineated" in err


def test_a_bad_point_is_one_line(
    liver: PhantomSeries, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["measure", liver.folder, "--at", "1,2"]) == 2
    assert "expected X,Y,Z" in capsys.readouterr().err
    assert main(["measure", str(tmp_path / "none"), "--at", "1,2,3"]) == 2
    assert "no such folder" in capsys.readouterr().err
