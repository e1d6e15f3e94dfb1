"""SDTM TR and the PDF report carry the diameters the assessment counted.

(A2, A6, B2–B4, J1, H4): neither counts a diameter again.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

from recist_app.exchange import ReportSignature, write_pdf_report
from recist_app.exchange.sdtm import build_sdtm
from recist_app.recist import (
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    MeasurementState,
    NewLesionObservation,
    Reading,
    ResponseParameters,
    assess,
)
from tests.exchange.readings import standards_example

if TYPE_CHECKING:
    from pathlib import Path

Row = dict[str, object]


def _tr(reading: Reading) -> dict[tuple[object, object], Row]:
    datasets = build_sdtm(reading, assess(reading), study_id="S")
    return {(row["VISIT"], row.get("TRLNKID")): dict(row) for row in datasets.tr}


def _week_6(reading: Reading, *measurements: Measurement) -> Reading:
    baseline, week_6, week_12 = reading.timepoints
    kept = tuple(
        m
        for m in week_6.measurements
        if m.lesion_id not in {x.lesion_id for x in measurements}
    )
    week_6 = dataclasses.replace(week_6, measurements=(*measurements, *kept))
    return dataclasses.replace(reading, timepoints=(baseline, week_6, week_12))


@pytest.mark.parametrize(("too_small_mm", "counted"), [(5.0, 5), (4.0, 4), (2.5, 2.5)])
def test_B2_too_small_tr_row_carries_the_too_small_mm_that_counted(
    too_small_mm: float, counted: float
) -> None:
    reading = _week_6(
        dataclasses.replace(
            standards_example(), params=ResponseParameters(too_small_mm=too_small_mm)
        ),
        Measurement(lesion_id="T02", state=MeasurementState.TOO_SMALL),
    )
    row = _tr(reading)["WEEK 6", "T02"]
    assert (row["TRORRES"], row["TRSTRESN"], row["TRSTRESU"]) == (
        "TOO SMALL TO MEASURE",
        counted,
        "mm",
    )
    # SUMDIAM (checked against the rows before writing) is the assessment's sum
    assert _tr(reading)["WEEK 6", None]["TRSTRESN"] == 30 + counted + 14


def _viable(reading: Reading) -> Reading:
    """T01 (liver) with a viable part at every visit: 35, 20, 15 mm."""
    timepoints = []
    for timepoint, viable_mm in zip(
        reading.timepoints, (35.0, 20.0, 15.0), strict=True
    ):
        t01, *others = timepoint.measurements
        t01 = dataclasses.replace(t01, viable_long_axis_mm=viable_mm)
        timepoints.append(dataclasses.replace(timepoint, measurements=(t01, *others)))
    return dataclasses.replace(reading, timepoints=tuple(timepoints))


@pytest.mark.parametrize(
    ("criteria", "t01", "sums"),
    [
        (Criteria.RECIST_1_1, [42, 30, 28], [82, 56, 51]),
        (Criteria.MRECIST, [35, 20, 15], None),
    ],
    ids=["recist-long-axis", "mrecist-viable"],
)
def test_J1_tr_rows_are_the_diameters_the_readings_criteria_counted(
    criteria: Criteria, t01: list[float], sums: list[float] | None
) -> None:
    # Under mRECIST the liver target counts its viable part; the lung target has
    # no viable diameter (not assessed, B4) and the node its short axis (A2).
    reading = dataclasses.replace(_viable(standards_example()), criteria=criteria)
    tr = _tr(reading)
    visits = ("SCREENING", "WEEK 6", "WEEK 12")
    assert [tr[visit, "T01"]["TRSTRESN"] for visit in visits] == t01
    assert [tr[visit, "T03"]["TRSTRESN"] for visit in visits] == [22, 14, 12]
    if sums is None:
        assert {tr[visit, "T02"]["TRSTAT"] for visit in visits} == {"NOT DONE"}
        assert all((visit, None) not in tr for visit in visits)  # no complete sum
    else:
        assert [tr[visit, None]["TRSTRESN"] for visit in visits] == sums


def test_J1_mrecist_reading_with_every_viable_diameter_passes_the_sum_check() -> None:
    reading = standards_example()
    timepoints = []
    for timepoint in reading.timepoints:
        t01, t02, t03 = timepoint.measurements
        timepoints.append(
            dataclasses.replace(
                timepoint,
                measurements=(
                    dataclasses.replace(t01, viable_long_axis_mm=20.0),
                    dataclasses.replace(t02, viable_long_axis_mm=10.0),
                    t03,
                ),
            )
        )
    reading = dataclasses.replace(
        reading, criteria=Criteria.MRECIST, timepoints=tuple(timepoints)
    )
    tr = _tr(reading)  # before: long axes in TR, viable SUMDIAM -> check failed
    assert tr["SCREENING", "T01"]["TRSTRESN"] == 20
    assert tr["SCREENING", None]["TRSTRESN"] == 20 + 10 + 22


def test_B2_H4_pdf_report_shows_the_counted_values(tmp_path: Path) -> None:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext not installed (Debian package poppler-utils)")
    reading = _week_6(
        dataclasses.replace(
            standards_example(),
            criteria=Criteria.IRECIST,
            params=ResponseParameters(too_small_mm=4.0),
        ),
        Measurement(lesion_id="T02", state=MeasurementState.TOO_SMALL),
    )
    baseline, week_6, week_12 = reading.timepoints
    week_6 = dataclasses.replace(
        week_6,
        new_lesions=(NewLesionObservation(lesion_id="N01", long_axis_mm=14.0),),
    )
    reading = dataclasses.replace(
        reading,
        lesions=(
            *reading.lesions,
            Lesion(lesion_id="N01", role=LesionRole.NEW, organ="lung"),
        ),
        timepoints=(baseline, week_6, week_12),
    )
    path = tmp_path / "report.pdf"
    write_pdf_report(
        reading,
        assess(reading),
        path,
        images={},
        signature=ReportSignature(status="draft"),
        visits=("WEEK 6",),
    )
    text = subprocess.run(
        [pdftotext, "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line}
    assert rows["T02"][-2:] == ["4", "too_small"]  # Counted mm, State (B2)
    assert rows["T03"][-3:] == ["14", "14", "measured"]  # node: short axis (A2)
    assert rows["N01"][-2:] == ["14", "unequivocal"]  # new-lesion target (H4)
    assert "New-lesion sum (H4): 14 mm" in text
