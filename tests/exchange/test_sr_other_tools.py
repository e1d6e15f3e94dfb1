"""`recist-app import-sr` of other tools' TID 1500 reports (issue 17).

dcmqi and 3D Slicer's Quantitative Reporting write TID 1411 volumetric groups
that reference a segment of a DICOM SEG; other tools write TID 1501 image-level
groups. Before, such an SR imported nothing and still exited 0. Now their lengths
are recorded (visits matched by time point, lesions by tracking identifier), and
an SR with no length RECIST uses is refused with one line saying what it holds.
Reports are built with highdicom in both group kinds and with dcmqi's
``tid1500writer`` (from the ``dcmqi`` wheel of the test extra).

The tests use only the command line, which is stable: ``import`` and ``reading
import`` fill the database, ``export --format json`` reads it back.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from recist_app.cli import main
from recist_app.exchange import reading_to_dict
from recist_app.exchange.sr import LONG_AXIS, SHORT_AXIS
from recist_app.recist import Reading, TimePoint
from tests.exchange.demo import PATIENT_ID, DemoPatient

VISIT = "WEEK 24"
LENGTHS = {"T01": (31.5, 21.5), "T02": (17.5, 12.5), "T03": (12.5, 9.5)}
"""What the other tool measured at VISIT (long, short axis in mm)."""


def _without_measurements(reading: Reading) -> Reading:
    def emptied(timepoint: TimePoint) -> TimePoint:
        if timepoint.visit != VISIT:
            return timepoint
        return dataclasses.replace(timepoint, measurements=())

    return dataclasses.replace(
        reading, timepoints=tuple(emptied(t) for t in reading.timepoints)
    )


@pytest.fixture(scope="module")
def indexed(demo: DemoPatient, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the demo images and the reading without VISIT measured."""
    folder = tmp_path_factory.mktemp("other-tools-db")
    database = f"sqlite:///{folder / 'db.sqlite3'}"
    images = Path(next(iter(demo.images.values()))).parents[1]
    assert main(["import", str(images), "--database", database]) == 0
    reading_file = folder / "reading.json"
    reading_file.write_text(
        json.dumps(reading_to_dict(_without_measurements(demo.reading))),
        encoding="utf-8",
    )
    assert main(["reading", "import", str(reading_file), "--database", database]) == 0
    return folder / "db.sqlite3"


@pytest.fixture
def database(indexed: Path, tmp_path: Path) -> str:
    path = tmp_path / "db.sqlite3"
    path.write_bytes(indexed.read_bytes())
    return f"sqlite:///{path}"


def _stored_visit(database: str, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "export"
    arguments = ["export", "--patient", PATIENT_ID, "--format", "json"]
    assert main([*arguments, "--out", str(out), "--database", database]) == 0
    (path,) = out.rglob("*.reading.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    (visit,) = [t for t in data["timepoints"] if t["visit"] == VISIT]
    return {m["lesion_id"]: m for m in visit["measurements"]}


def _visit_images(demo: DemoPatient) -> list[Dataset]:
    series = demo.reading.timepoint(VISIT).series_instance_uid
    images = [dcmread(path) for path in demo.images.values()]
    chosen = [image for image in images if image.SeriesInstanceUID == series]
    return sorted(chosen, key=lambda image: float(image.ImagePositionPatient[2]))


@pytest.fixture(scope="module")
def segmentation(demo: DemoPatient, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DICOM SEG of the visit with one segment per target, as Slicer saves."""
    images = _visit_images(demo)
    mask = np.zeros((len(images), images[0].Rows, images[0].Columns, 3), dtype=bool)
    for number in range(3):
        mask[20 + number, 40:60, 40:60, number] = True
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=number + 1,
            segment_label=lesion_id,
            segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
            segmented_property_type=codes.SCT.Neoplasm,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        )
        for number, lesion_id in enumerate(LENGTHS)
    ]
    segmentation = hd.seg.Segmentation(
        source_images=images,
        pixel_array=mask,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(),
        series_number=40,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="another tool",
        manufacturer_model_name="segmenter",
        software_versions="1",
        device_serial_number="1",
    )
    path = tmp_path_factory.mktemp("seg") / "segmentation.dcm"
    segmentation.save_as(path)
    return path


def _measurements(
    lesion_id: str, quantities: tuple[str, ...], unit: str
) -> list[hd.sr.Measurement]:
    long_axis, short_axis = LENGTHS[lesion_id]
    scale = {"mm": 1.0, "cm": 0.1}[unit]
    length_unit = codes.UCUM.Millimeter if unit == "mm" else codes.UCUM.Centimeter
    found = []
    if "long" in quantities:
        found.append(
            hd.sr.Measurement(name=LONG_AXIS, value=long_axis * scale, unit=length_unit)
        )
    if "short" in quantities:
        found.append(
            hd.sr.Measurement(
                name=SHORT_AXIS, value=short_axis * scale, unit=length_unit
            )
        )
    found.append(  # tools measure volumes too; RECIST does not use them
        hd.sr.Measurement(
            name=codes.SCT.Volume, value=1234.5, unit=codes.UCUM.CubicMillimeter
        )
    )
    return found


def _highdicom_sr(
    demo: DemoPatient,
    segmentation_path: Path,
    folder: Path,
    *,
    kind: str,
    quantities: tuple[str, ...] = ("long", "short"),
    unit: str = "mm",
) -> Path:
    """A TID 1500 report with ``kind`` groups: ``volumetric`` or ``image``."""
    segmentation = hd.seg.segread(segmentation_path)
    groups: list[
        hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations
        | hd.sr.MeasurementsAndQualitativeEvaluations
    ] = []
    for number, lesion_id in enumerate(LENGTHS, start=1):
        common: dict[str, Any] = {
            # another tool's own tracking UID: lesions match by identifier
            "tracking_identifier": hd.sr.TrackingIdentifier(
                identifier=lesion_id, uid=generate_uid()
            ),
            "time_point_context": hd.sr.TimePointContext(time_point=VISIT),
            "measurements": _measurements(lesion_id, quantities, unit),
        }
        if kind == "volumetric":
            groups.append(
                hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
                    referenced_segment=hd.sr.ReferencedSegment.from_segmentation(
                        segmentation, number
                    ),
                    **common,
                )
            )
        else:
            groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(**common))
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
            name="Reader^Other"
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_person_context=observer),
        procedure_reported=codes.LN.CTUnspecifiedBodyRegion,
        imaging_measurements=groups,
    )
    evidence = _visit_images(demo)
    sr = hd.sr.Comprehensive3DSR(
        evidence=[segmentation, *evidence] if kind == "volumetric" else evidence,
        content=report,
        series_instance_uid=generate_uid(),
        series_number=50,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="another tool",
    )
    path = folder / f"{kind}.dcm"
    sr.save_as(path)
    return path


def _import(path: Path, database: str, capsys: pytest.CaptureFixture[str]) -> int:
    code = main(["import-sr", str(path), "--database", database])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code


def _assert_lengths_recorded(stored: dict[str, Any], *, short: bool = True) -> None:
    for lesion_id, (long_axis, short_axis) in LENGTHS.items():
        measurement = stored[lesion_id]
        assert measurement["long_axis_mm"] == pytest.approx(long_axis)
        if short:
            assert measurement["short_axis_mm"] == pytest.approx(short_axis)
        assert "geometry" not in measurement  # no axis drawn on an image


@pytest.mark.parametrize("kind", ["volumetric", "image"])
def test_highdicom_report_of_either_group_kind_is_imported(
    demo: DemoPatient,
    segmentation: Path,
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
) -> None:
    path = _highdicom_sr(demo, segmentation, tmp_path, kind=kind)

    assert _import(path, database, capsys) == 0

    _assert_lengths_recorded(_stored_visit(database, tmp_path))


def test_lengths_in_centimetres_are_recorded_in_millimetres(
    demo: DemoPatient,
    segmentation: Path,
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _highdicom_sr(demo, segmentation, tmp_path, kind="volumetric", unit="cm")

    assert _import(path, database, capsys) == 0

    _assert_lengths_recorded(_stored_visit(database, tmp_path))


def test_report_without_a_length_is_refused_with_what_it_holds(
    demo: DemoPatient,
    segmentation: Path,
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _highdicom_sr(demo, segmentation, tmp_path, kind="volumetric", quantities=())

    assert main(["import-sr", str(path), "--database", database]) == 2

    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith(f"recist-app: error: {path}: SR: nothing to import")
    assert "3 measurement group(s) (3 TID 1411 volumetric)" in err
    assert "(they hold Volume (mm3))" in err
    assert _stored_visit(database, tmp_path) == {}


def _tid1500writer() -> str:
    found = shutil.which("tid1500writer") or shutil.which(
        "tid1500writer", path=str(Path(sys.executable).parent)
    )
    if found is None:
        pytest.skip("dcmqi's tid1500writer is not installed (pip install dcmqi)")
    return found


def _dcmqi_sr(demo: DemoPatient, segmentation_path: Path, folder: Path) -> Path:
    """The report 3D Slicer's Quantitative Reporting saves, written by dcmqi."""
    library = folder / "images"
    context = folder / "context"
    library.mkdir()
    context.mkdir()
    series = demo.reading.timepoint(VISIT).series_instance_uid
    for path in demo.images.values():
        if dcmread(path, stop_before_pixels=True).SeriesInstanceUID == series:
            shutil.copy(path, library / path.name)
    shutil.copy(segmentation_path, context / "segmentation.dcm")
    segmentation = dcmread(segmentation_path, stop_before_pixels=True)

    def item(value: float, code: str, meaning: str) -> dict[str, Any]:
        return {
            "value": f"{value}",
            "quantity": {
                "CodeValue": code,
                "CodingSchemeDesignator": "SCT",
                "CodeMeaning": meaning,
            },
            "units": {
                "CodeValue": "mm",
                "CodingSchemeDesignator": "UCUM",
                "CodeMeaning": "millimeter",
            },
        }

    metadata = {
        "SeriesDescription": "Measurements",
        "SeriesNumber": "1001",
        "InstanceNumber": "1",
        "compositeContext": ["segmentation.dcm"],
        "imageLibrary": sorted(p.name for p in library.iterdir()),
        "observerContext": {
            "ObserverType": "PERSON",
            "PersonObserverName": "Reader^Other",
        },
        "VerificationFlag": "VERIFIED",
        "CompletionFlag": "COMPLETE",
        "activitySession": "1",
        "timePoint": VISIT,
        "Measurements": [
            {
                "TrackingIdentifier": lesion_id,
                "ReferencedSegment": number,
                "SourceSeriesForImageSegmentation": series,
                "segmentationSOPInstanceUID": str(segmentation.SOPInstanceUID),
                "Finding": {
                    "CodeValue": "108369006",
                    "CodingSchemeDesignator": "SCT",
                    "CodeMeaning": "Neoplasm",
                },
                "measurementItems": [
                    item(long_axis, "103339001", "Long Axis"),
                    item(short_axis, "103340004", "Short Axis"),
                ],
            }
            for number, (lesion_id, (long_axis, short_axis)) in enumerate(
                LENGTHS.items(), start=1
            )
        ],
    }
    (folder / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    output = folder / "dcmqi.dcm"
    result = subprocess.run(
        [
            _tid1500writer(),
            "--inputMetadata",
            str(folder / "metadata.json"),
            "--inputImageLibraryDirectory",
            str(library),
            "--inputCompositeContextDirectory",
            str(context),
            "--outputDICOM",
            str(output),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return output


def test_dcmqi_report_with_volumetric_groups_is_imported(
    demo: DemoPatient,
    segmentation: Path,
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _dcmqi_sr(demo, segmentation, tmp_path)
    sr = dcmread(path)
    assert sr.SOPClassUID.name == "Enhanced SR Storage"
    assert sr.Manufacturer == "QIICR"

    assert _import(path, database, capsys) == 0

    _assert_lengths_recorded(_stored_visit(database, tmp_path))
