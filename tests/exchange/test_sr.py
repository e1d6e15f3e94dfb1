"""DICOM SR TID 1500: validated by dciodvfy/dsrdump, read back, imported back."""

from __future__ import annotations

import dataclasses
import math
import shutil
import subprocess
from pathlib import Path

import highdicom as hd
import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from recist_app.exchange import ExchangeError
from recist_app.exchange.sr import (
    ALGORITHM_NAME,
    LONG_AXIS,
    SHORT_AXIS,
    build_measurement_report,
    import_measurement_report,
    lesion_tracking_uid,
    read_measurement_report,
)
from recist_app.recist import (
    MeasurementMethod,
    NewLesionObservation,
    NewLesionState,
    NonTargetAssessment,
    NonTargetState,
    Reading,
)
from tests.exchange.demo import DemoPatient


def _headers(demo: DemoPatient) -> dict[str, Dataset]:
    return {uid: demo.header(uid) for uid in demo.images}


@pytest.fixture(scope="module")
def written(
    demo: DemoPatient, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sr")
    headers = _headers(demo)
    paths = {}
    for timepoint in demo.reading.timepoints:
        sr = build_measurement_report(demo.reading, timepoint.visit, headers)
        path = folder / f"{timepoint.visit.replace(' ', '_')}.dcm"
        sr.save_as(path)
        paths[timepoint.visit] = path
    return paths


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed (Debian package: see Makefile SYSTEM_TOOLS)")
    return path


def test_every_sr_passes_dciodvfy(written: dict[str, Path]) -> None:
    tool = _tool("dciodvfy")
    for path in written.values():
        result = subprocess.run(
            [tool, str(path)], capture_output=True, text=True, check=False
        )
        report = result.stdout + result.stderr
        errors = [line for line in report.splitlines() if line.startswith("Error")]
        assert errors == [], report


def test_every_sr_is_read_by_dsrdump(written: dict[str, Path]) -> None:
    tool = _tool("dsrdump")
    for visit, path in written.items():
        result = subprocess.run(
            [tool, str(path)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert '"Imaging Measurement Report"' in result.stdout
        assert (
            '(103339001,SCT,"Long Axis")' in result.stdout
            or "Long Axis" in result.stdout
        )
        assert f'"Time Point")="{visit}"' in result.stdout


def test_sr_reads_back_with_highdicom(
    demo: DemoPatient, written: dict[str, Path]
) -> None:
    reading = demo.reading
    tracking: dict[str, set[str]] = {}
    for visit, path in written.items():
        sr = hd.sr.srread(path)
        assert sr.content[0].ConceptNameCodeSequence[0].CodeValue == "126000"
        evidence = {
            str(ref.ReferencedSOPInstanceUID)
            for study in sr.CurrentRequestedProcedureEvidenceSequence
            for series in study.ReferencedSeriesSequence
            for ref in series.ReferencedSOPSequence
        }
        timepoint = reading.timepoint(visit)
        content = sr.content
        assert isinstance(content, hd.sr.MeasurementReport)
        groups = content.get_planar_roi_measurement_groups(
            graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
            reference_type=hd.sr.CodedConcept("111030", "DCM", "Image Region"),
        )
        assert len(groups) == len(timepoint.measurements) + len(timepoint.new_lesions)
        for group in groups:
            lesion_id = str(group.tracking_identifier)
            tracking.setdefault(lesion_id, set()).add(str(group.tracking_uid))
            lesion = reading.lesion(lesion_id)
            assert str(group.tracking_uid) == lesion_tracking_uid(reading, lesion)
            found = timepoint.measurement(lesion_id) or next(
                o for o in timepoint.new_lesions if o.lesion_id == lesion_id
            )
            long_axis = group.get_measurements(name=LONG_AXIS)[0]
            short_axis = group.get_measurements(name=SHORT_AXIS)[0]
            assert long_axis.value == found.long_axis_mm
            assert short_axis.value == found.short_axis_mm
            assert long_axis.unit.value == "mm"
            roi = group.roi
            assert isinstance(roi, hd.sr.ImageRegion)
            sop = roi.ContentSequence[0].ReferencedSOPSequence[0]
            assert sop.ReferencedSOPInstanceUID in evidence
            image = demo.header(str(sop.ReferencedSOPInstanceUID))
            points = np.asarray(roi.value)
            spacing = [float(v) for v in image.PixelSpacing]
            drawn_mm = math.hypot(
                (points[1, 0] - points[0, 0]) * spacing[1],
                (points[1, 1] - points[0, 1]) * spacing[0],
            )
            counted = short_axis.value if lesion.is_lymph_node else long_axis.value
            assert drawn_mm == pytest.approx(counted, abs=0.1)
            assert group.finding_sites[0].value.meaning.lower() in (
                lesion.organ,
                "lymph node",
            )
    # one Tracking UID per lesion, the same at every visit
    assert all(len(uids) == 1 for uids in tracking.values())
    assert len(tracking["T01"]) == 1
    assert len(written) == 4


def test_non_target_lesions_are_in_the_report(written: dict[str, Path]) -> None:
    report = read_measurement_report(hd.sr.srread(written["BASELINE"]))
    assert report.time_point == "BASELINE"
    assert [lesion.lesion_id for lesion in report.lesions][-1] == "NT01"
    assert report.observer == "Dr Jane Reader^"


def test_import_restores_measurements_on_the_images(
    demo: DemoPatient, written: dict[str, Path]
) -> None:
    reading = demo.reading
    visit = "WEEK 24"
    emptied = dataclasses.replace(
        reading.timepoint(visit),
        measurements=(),
        new_lesions=tuple(
            dataclasses.replace(o, long_axis_mm=None, short_axis_mm=None, geometry=None)
            for o in reading.timepoint(visit).new_lesions
        ),
    )
    bare = dataclasses.replace(
        reading,
        timepoints=tuple(
            emptied if t.visit == visit else t for t in reading.timepoints
        ),
    )
    restored = import_measurement_report(
        bare, hd.sr.srread(written[visit]), _headers(demo)
    )
    original, back = reading.timepoint(visit), restored.timepoint(visit)
    for lesion_id in ("T01", "T02", "T03"):
        before, after = original.measurement(lesion_id), back.measurement(lesion_id)
        assert before is not None
        assert after is not None
        assert (after.long_axis_mm, after.short_axis_mm) == (
            before.long_axis_mm,
            before.short_axis_mm,
        )
        assert before.geometry is not None
        assert after.geometry is not None
        assert after.geometry.sop_instance_uid == before.geometry.sop_instance_uid
        axis = "short_axis" if reading.lesion(lesion_id).is_lymph_node else "long_axis"
        drawn, expected = getattr(after.geometry, axis), getattr(before.geometry, axis)
        for a, b in zip(
            (*drawn.start_lps_mm, *drawn.end_lps_mm),
            (*expected.start_lps_mm, *expected.end_lps_mm),
            strict=True,
        ):
            assert a == pytest.approx(b, abs=1e-3)
    assert back.new_lesions[0].long_axis_mm == 14.0
    # and the imported reading writes the same SR again (round trip SR -> app -> SR)
    again = build_measurement_report(restored, visit, _headers(demo))
    first = read_measurement_report(hd.sr.srread(written[visit]))
    second = read_measurement_report(again)
    assert second.lesions == first.lesions


def test_sr_needs_the_measured_images(demo: DemoPatient) -> None:
    with pytest.raises(ExchangeError, match="was not found"):
        build_measurement_report(demo.reading, "BASELINE", {})
    with pytest.raises(ExchangeError, match="no visit"):
        build_measurement_report(demo.reading, "WEEK 99", {})


def test_import_rejects_an_unknown_lesion(
    demo: DemoPatient, written: dict[str, Path]
) -> None:
    reading = dataclasses.replace(
        demo.reading,
        lesions=tuple(
            dataclasses.replace(lesion, lesion_id="X" + lesion.lesion_id)
            if lesion.lesion_id == "NT01"
            else lesion
            for lesion in demo.reading.lesions
        ),
        timepoints=tuple(
            dataclasses.replace(t, non_target=()) for t in demo.reading.timepoints
        ),
    )
    with pytest.raises(ExchangeError, match=r"NT01 .* is not in the reading"):
        import_measurement_report(reading, dcmread(written["BASELINE"]), _headers(demo))


def _with_week_24(
    reading: Reading,
    *,
    non_target: tuple[NonTargetAssessment, ...] | None = None,
    new_lesions: tuple[NewLesionObservation, ...] | None = None,
) -> Reading:
    week_24 = reading.timepoint("WEEK 24")
    week_24 = dataclasses.replace(
        week_24,
        non_target=week_24.non_target if non_target is None else non_target,
        new_lesions=week_24.new_lesions if new_lesions is None else new_lesions,
    )
    return dataclasses.replace(
        reading,
        timepoints=tuple(
            week_24 if t.visit == "WEEK 24" else t for t in reading.timepoints
        ),
    )


def _evaluations_of(sr: Dataset, lesion_id: str) -> dict[str, str]:
    content = sr.content
    assert isinstance(content, hd.sr.MeasurementReport)
    (group,) = [
        g
        for g in content.get_image_measurement_groups()
        if str(g.tracking_identifier) == lesion_id
    ]
    found: dict[str, str] = {}
    for item in group.get_qualitative_evaluations():
        value = item.value
        assert isinstance(value, hd.sr.CodedConcept)
        found[item.name.meaning] = value.meaning
    return found


@pytest.mark.parametrize(
    ("state", "response", "finding"),
    [
        (NonTargetState.PRESENT, "Non-Target Lesion Incomplete Response or "
         "Stable Disease", None),
        (NonTargetState.ABSENT, "Non-Target Lesion Complete Response", None),
        (NonTargetState.UNEQUIVOCAL_PROGRESSION,
         "Non-Target Lesion Progressive Disease", None),
        (NonTargetState.FURTHER_INCREASE, "Non-Target Lesion Progressive Disease",
         "Increase in size"),
        (NonTargetState.NOT_EVALUABLE, None, None),
    ],
    ids=["D2-present", "D1-absent", "D3-unequivocal", "H2-further-increase", "D4-NE"],
)  # fmt: skip
def test_non_target_state_is_in_the_report(
    demo: DemoPatient,
    tmp_path: Path,
    state: NonTargetState,
    response: str | None,
    finding: str | None,
) -> None:
    reading = _with_week_24(
        demo.reading,
        non_target=(NonTargetAssessment(lesion_id="NT01", state=state),),
    )
    path = tmp_path / "week24.dcm"
    build_measurement_report(reading, "WEEK 24", _headers(demo)).save_as(path)
    evaluations = _evaluations_of(hd.sr.srread(path), "NT01")
    assert evaluations.get("Current Response") == response
    assert evaluations.get("Trend") == finding
    if state is NonTargetState.FURTHER_INCREASE and shutil.which("dciodvfy"):
        result = subprocess.run(
            ["dciodvfy", str(path)], capture_output=True, text=True, check=False
        )
        report = result.stdout + result.stderr
        assert [line for line in report.splitlines() if line.startswith("Error")] == []


def test_import_keeps_the_readers_calls_on_a_new_lesion(
    demo: DemoPatient, written: dict[str, Path]
) -> None:
    """The SR brings diameters; state, E3, J5 pattern and J4 cytology stay."""
    (seen,) = demo.reading.timepoint("WEEK 24").new_lesions
    flagged = dataclasses.replace(
        seen,
        state=NewLesionState.EQUIVOCAL,
        not_imaged_at_baseline=True,
        typical_vascular_pattern=False,
        cytology_confirmed=True,
        long_axis_mm=None,
        short_axis_mm=None,
        geometry=None,
    )
    bare = _with_week_24(demo.reading, new_lesions=(flagged,))
    restored = import_measurement_report(
        bare, hd.sr.srread(written["WEEK 24"]), _headers(demo)
    )
    (back,) = restored.timepoint("WEEK 24").new_lesions
    assert back == dataclasses.replace(
        flagged,
        long_axis_mm=seen.long_axis_mm,
        short_axis_mm=seen.short_axis_mm,
        geometry=back.geometry,
    )
    assert back.long_axis_mm == 14.0
    assert back.geometry is not None


@pytest.mark.parametrize(
    ("method", "code"),
    [
        (MeasurementMethod.SEMI_AUTOMATIC, "SEMIAUTO"),
        (MeasurementMethod.SEMI_AUTOMATIC_CORRECTED, "SEMIAUTOCORR"),
    ],
)
def test_a_click_to_measure_diameter_carries_its_method_and_algorithm(
    demo: DemoPatient, method: MeasurementMethod, code: str
) -> None:
    visit = "WEEK 8"
    timepoint = demo.reading.timepoint(visit)
    measured = tuple(
        dataclasses.replace(
            m,
            geometry=dataclasses.replace(m.geometry, method=method)
            if m.geometry is not None and m.lesion_id == "T01"
            else m.geometry,
        )
        for m in timepoint.measurements
    )
    reading = dataclasses.replace(
        demo.reading,
        timepoints=tuple(
            dataclasses.replace(t, measurements=measured) if t.visit == visit else t
            for t in demo.reading.timepoints
        ),
    )
    sr = build_measurement_report(reading, visit, _headers(demo))
    report = read_measurement_report(sr)
    assert report.lesions
    found = {lesion.lesion_id: lesion for lesion in report.lesions}
    assert found["T01"].method is method
    assert found["T02"].method is MeasurementMethod.MANUAL
    values = {
        str(element.value)
        for element in sr.iterall()
        if element.VR in ("SH", "LO", "UT", "ST")
    }
    assert code in values
    assert ALGORITHM_NAME in values
    bare = dataclasses.replace(
        reading,
        timepoints=tuple(
            dataclasses.replace(t, measurements=()) if t.visit == visit else t
            for t in reading.timepoints
        ),
    )
    restored = import_measurement_report(bare, sr, _headers(demo))
    back = restored.timepoint(visit).measurement("T01")
    assert back is not None
    assert back.geometry is not None
    assert back.geometry.method is method
