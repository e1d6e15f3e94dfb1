"""The demo phantom: valid DICOM, deterministic, a real RECIST course."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pydicom
import pytest

from recist_app.imaging import (
    LESIONS,
    PhantomError,
    SeriesGeometry,
    discover,
    load_volume,
    write_demo_data,
    write_phantom_series,
)
from recist_app.imaging.phantom import TRANSFER_SYNTAXES
from tests.imaging.conftest import liver_geometry

DCIODVFY = shutil.which("dciodvfy")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo")
    truth = write_demo_data(
        out, seed=7, slice_count=14, slice_spacing_mm=20.0, pixel_size_mm=4.0, matrix=96
    )
    return out, truth


def test_demo_writes_one_patient_with_a_study_per_visit(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    out, truth = demo
    assert json.loads((out / "ground_truth.json").read_text()) == truth
    found = discover(out)
    assert found.rejected == ()
    (patient,) = found.patients
    assert patient.patient_id == truth["patient_id"] == "DEMO-HCC-001"
    assert [s.date for s in patient.studies] == [
        "20240226",
        "20240422",
        "20240617",
        "20240812",
    ]
    assert [s["visit"] for s in truth["studies"]] == [
        "BASELINE",
        "WEEK 8",
        "WEEK 16",
        "WEEK 24",
    ]
    for study, expected in zip(patient.studies, truth["studies"], strict=True):
        assert study.study_instance_uid == expected["study_instance_uid"]
        (series,) = study.series
        assert series.slice_count == 14
        assert series.volumes[0].columns == 96


def test_ground_truth_lesions_are_sensible_for_recist(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    _, truth = demo
    lesions = {item["lesion_id"]: item for item in truth["lesions"]}
    assert set(lesions) == {"T01", "T02", "T03", "NT01", "N01"}
    assert lesions["T01"]["organ"] == "liver"
    assert lesions["T02"]["is_lymph_node"] is True
    assert lesions["T03"]["organ"] == "lung"
    assert lesions["NT01"]["role"] == "non-target"
    assert lesions["N01"]["role"] == "new"
    baseline = {m["lesion_id"]: m for m in truth["studies"][0]["lesions"]}
    # RECIST 1.1: targets >= 10 mm long axis, nodes >= 15 mm short axis
    assert baseline["T01"]["long_axis_mm"] >= 10
    assert baseline["T03"]["long_axis_mm"] >= 10
    assert baseline["T02"]["short_axis_mm"] >= 15
    assert baseline["NT01"]["long_axis_mm"] < 10
    assert "N01" not in baseline
    for study in truth["studies"]:
        for lesion in study["lesions"]:
            assert len(lesion["center_lps_mm"]) == 3
            assert 0 <= lesion["slice_index"] < 14


def _sum_of_diameters(study: dict[str, Any]) -> float:
    total = 0.0
    for lesion in study["lesions"]:
        if lesion["role"] != "target":
            continue
        key = "short_axis_mm" if lesion["is_lymph_node"] else "long_axis_mm"
        total += lesion[key]
    return total


def test_sizes_follow_a_response_course(demo: tuple[Path, dict[str, Any]]) -> None:
    _, truth = demo
    sums = [_sum_of_diameters(study) for study in truth["studies"]]
    baseline, week8, week16, week24 = sums
    assert (week8 - baseline) / baseline <= -0.30  # PR
    assert (week16 - baseline) / baseline <= -0.30  # confirmed PR, the nadir
    nadir = min(sums)
    assert (week24 - nadir) / nadir >= 0.20  # PD: +20 % ...
    assert week24 - nadir >= 5.0  # ... and +5 mm
    new_at_24 = [m for m in truth["studies"][3]["lesions"] if m["role"] == "new"]
    assert [m["lesion_id"] for m in new_at_24] == ["N01"]


def test_same_seed_same_files_other_seed_other_uids(tmp_path: Path) -> None:
    geometry = liver_geometry(rows=16, columns=16, slice_count=3)
    first = write_phantom_series(
        tmp_path / "a", geometry=geometry, seed=11, shuffle=True
    )
    again = write_phantom_series(
        tmp_path / "b", geometry=geometry, seed=11, shuffle=True
    )
    other = write_phantom_series(
        tmp_path / "c", geometry=geometry, seed=12, shuffle=True
    )
    assert [Path(p).name for p in first.paths] == [Path(p).name for p in again.paths]
    for one, two in zip(first.paths, again.paths, strict=True):
        assert Path(one).read_bytes() == Path(two).read_bytes()
    assert first.series_instance_uid == again.series_instance_uid
    assert other.series_instance_uid != first.series_instance_uid
    assert other.study_instance_uid != first.study_instance_uid


def test_shuffled_names_hide_the_slice_order(tmp_path: Path) -> None:
    series = write_phantom_series(
        tmp_path,
        geometry=liver_geometry(rows=16, columns=16, slice_count=12),
        shuffle=True,
    )
    by_name = sorted(series.paths)
    instances = [
        int(pydicom.dcmread(p, stop_before_pixels=True).InstanceNumber) for p in by_name
    ]
    assert instances != sorted(instances)
    assert load_volume(tmp_path).slice_count == 12


def test_default_demo_geometry_is_a_512_matrix() -> None:
    geometry = SeriesGeometry()
    assert (geometry.rows, geometry.columns) == (512, 512)
    assert geometry.slice_count * geometry.slice_spacing_mm >= 300


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"visits": 2}, "visits must be 3 or 4"),
        ({"slice_count": 0}, "slice_count"),
        ({"pixel_size_mm": -1.0}, "spacings"),
    ],
)
def test_bad_options_are_one_line_errors(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(PhantomError, match=message):
        write_demo_data(tmp_path, **options)


def test_unknown_transfer_syntax_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PhantomError, match="choose one of"):
        write_phantom_series(tmp_path, transfer_syntax="mpeg")


@pytest.mark.skipif(
    DCIODVFY is None, reason="dciodvfy (Debian dicom3tools) is not installed"
)
@pytest.mark.parametrize("syntax", ["explicit", "jpeg2000"])
def test_phantom_files_pass_dciodvfy(tmp_path: Path, syntax: str) -> None:
    assert DCIODVFY is not None
    series = write_phantom_series(
        tmp_path,
        geometry=liver_geometry(rows=32, columns=32, slice_count=2),
        transfer_syntax=syntax,
        lesions=LESIONS,
    )
    for path in series.paths:
        result = subprocess.run(
            [DCIODVFY, path], capture_output=True, text=True, check=False, timeout=60
        )
        report = result.stdout + result.stderr
        problems = [
            line
            for line in report.splitlines()
            if line.startswith(("Error", "Warning"))
        ]
        assert problems == [], report
        assert "CTImage" in report


def test_every_transfer_syntax_is_known_to_the_writer() -> None:
    assert set(TRANSFER_SYNTAXES) == {
        "explicit",
        "implicit",
        "deflate",
        "rle",
        "jpeg-ls",
        "jpeg2000",
    }
