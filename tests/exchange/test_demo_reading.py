"""The demo reading drawn from the phantom's ground truth sits on the lesions."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recist_app.cli import main
from recist_app.exchange import (
    DEMO_READER,
    ExchangeError,
    read_reading_file,
    reading_from_ground_truth,
)
from recist_app.imaging import load_volume, lps_mm_to_index, write_demo_data
from recist_app.recist import (
    Criteria,
    LesionRole,
    Measurement,
    MeasurementState,
    NewLesionObservation,
    NonTargetState,
    Response,
    assess,
)

# 128 x 128 pixels of 3.125 mm cover the same 400 mm field as the real demo.
SMALL: dict[str, Any] = {
    "matrix": 128,
    "pixel_size_mm": 3.125,
    "slice_count": 60,
    "noise_hu": 0.0,
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("demo")
    return folder, write_demo_data(folder, **SMALL)


@pytest.mark.slow
def test_every_lesion_is_measured_at_every_visit_with_true_diameters(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    _folder, truth = demo
    reading = reading_from_ground_truth(truth)

    assert reading.reader == DEMO_READER
    assert [t.visit for t in reading.timepoints] == [
        s["visit"] for s in truth["studies"]
    ]
    for timepoint, study in zip(reading.timepoints, truth["studies"], strict=True):
        sizes = {
            lesion["lesion_id"]: (lesion["long_axis_mm"], lesion["short_axis_mm"])
            for lesion in study["lesions"]
        }
        assert {m.lesion_id for m in timepoint.measurements} == {"T01", "T02", "T03"}
        for measurement in timepoint.measurements:
            assert measurement.state is MeasurementState.MEASURED
            assert measurement.long_axis_mm == pytest.approx(
                sizes[measurement.lesion_id][0], abs=0.05
            )
            assert measurement.short_axis_mm == pytest.approx(
                sizes[measurement.lesion_id][1], abs=0.05
            )
        assert [(n.lesion_id, n.state) for n in timepoint.non_target] == [
            ("NT01", NonTargetState.PRESENT)
        ]
    assert [n.lesion_id for t in reading.timepoints for n in t.new_lesions] == ["N01"]
    assert reading.timepoints[-1].new_lesions[0].long_axis_mm == pytest.approx(14.0)


@pytest.mark.slow
def test_demo_course_is_confirmed_pr_then_pd(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    assessment = assess(reading_from_ground_truth(demo[1]))

    overall = [t.overall_response for t in assessment.timepoints]
    assert overall == [Response.PR, Response.PR, Response.PD]
    assert assessment.best_overall_response.response is Response.PR
    assert assessment.best_overall_response.confirmed
    assert assessment.baseline.warnings == ()


@pytest.mark.slow
def test_measurement_lines_lie_on_the_named_image_through_the_lesion(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    folder, truth = demo
    reading = reading_from_ground_truth(truth)
    for timepoint, study in zip(reading.timepoints, truth["studies"], strict=True):
        volume = load_volume(folder / study["folder"])
        sop_to_slice = {
            uid: index for index, uid in enumerate(volume.sop_instance_uids)
        }
        observations: list[Measurement | NewLesionObservation] = [
            *timepoint.measurements,
            *timepoint.new_lesions,
        ]
        for observation in observations:
            geometry = observation.geometry
            assert geometry is not None
            assert geometry.series_instance_uid == volume.series_instance_uid
            k_expected = sop_to_slice[geometry.sop_instance_uid]
            for axis in (geometry.long_axis, geometry.short_axis):
                assert axis is not None
                for point in (axis.start_lps_mm, axis.end_lps_mm):
                    i, j, k = lps_mm_to_index(volume, np.asarray(point))
                    assert k == pytest.approx(k_expected, abs=1e-3)
                    assert 0 <= i < volume.voxels.shape[2]
                    assert 0 <= j < volume.voxels.shape[1]
                # the line's middle is inside the lesion (soft tissue or its
                # arterially enhancing part, not fat/air)
                middle = np.mean([axis.start_lps_mm, axis.end_lps_mm], axis=0)
                i, j, k = (round(float(v)) for v in lps_mm_to_index(volume, middle))
                assert (
                    0
                    <= volume.voxels[k, j, i] * volume.rescale_slope
                    + (volume.rescale_intercept)
                    <= 200
                )


@pytest.mark.slow
def test_lesion_outside_the_field_of_view_is_not_read(tmp_path: Path) -> None:
    # 30 slices of 5 mm stop short of the lung nodules at the apex
    truth = write_demo_data(tmp_path, **{**SMALL, "slice_count": 30}, visits=3)
    reading = reading_from_ground_truth(truth)

    roles = {lesion.lesion_id: lesion.role for lesion in reading.lesions}
    assert "NT01" not in roles
    assert roles["T01"] is LesionRole.TARGET


def test_not_ground_truth_is_one_clear_error() -> None:
    with pytest.raises(ExchangeError, match="ground truth: format must be"):
        reading_from_ground_truth({"format": "something-else"})
    with pytest.raises(ExchangeError, match="ground truth: missing or bad field"):
        reading_from_ground_truth({"format": "recist-phantom-truth/1"})


@pytest.mark.slow
def test_demo_data_cli_writes_the_reading_file_for_the_patient_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    status = main(
        [
            "demo-data",
            str(out),
            "--matrix",
            "96",
            "--pixel-size",
            "4.2",
            "--seed",
            "7",
            "--patient-id",
            "DEMO-HCC-002",
            "--patient-name",
            "DEMO^SECOND",
        ]
    )

    assert status == 0
    assert "demo reading written to" in capsys.readouterr().err
    reading = read_reading_file(out / "DEMO-HCC-002.reading.json")
    truth = json.loads((out / "ground_truth.json").read_text())
    assert reading.patient_id == truth["patient_id"] == "DEMO-HCC-002"
    assert truth["patient_name"] == "DEMO^SECOND"
    assert reading == reading_from_ground_truth(truth)
    baseline_sum = assess(reading).baseline.sum_of_diameters_mm
    assert baseline_sum is not None
    assert math.isclose(baseline_sum, 42.0 + 18.0 + 16.0, abs_tol=0.1)


def test_J1_the_demo_hcc_reading_has_a_real_mrecist_assessment(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    # issue 18: the liver target has an arterially enhancing part; the reading
    # measures it, so mRECIST assesses every visit (no more NE throughout).
    _folder, truth = demo
    reading = dataclasses.replace(
        reading_from_ground_truth(truth), criteria=Criteria.MRECIST
    )
    baseline = reading.timepoints[0]
    viable = {m.lesion_id: m.viable_long_axis_mm for m in baseline.measurements}
    assert viable == {"T01": 16.0, "T02": None, "T03": 16.0}
    assessment = assess(reading)
    responses = [str(t.overall_response) for t in assessment.timepoints]
    assert "NE" not in responses
    assert responses == ["PR", "PR", "PD"]
