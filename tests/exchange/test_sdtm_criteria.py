"""SDTM RS: one set of records per criteria set (RSCAT), checked and written."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd  # type: ignore[import-untyped]  # no stubs installed
import pytest

from recist_app.cli import main
from recist_app.exchange import ExchangeError
from recist_app.exchange.sdtm import (
    SdtmDatasets,
    build_sdtm,
    check_sdtm,
    response_assessments,
    write_sdtm,
)
from recist_app.recist import (
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    NewLesionObservation,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    assess,
)
from recist_app.store import open_store
from tests.exchange.readings import standards_example


def _with_viable_diameters() -> Reading:
    """STANDARDS 1.3 lesions, but RECIST SD while the viable parts shrink (PR)."""
    reading = standards_example()
    sizes = {"SCREENING": (42, 40, 18, 16), "WEEK 6": (40, 12, 17, 5),
             "WEEK 12": (40, 10, 17, 4)}  # fmt: skip
    timepoints = []
    for timepoint in reading.timepoints:
        t01, t01_viable, t02, t02_viable = sizes[timepoint.visit]
        measurements = (
            Measurement(
                lesion_id="T01", long_axis_mm=t01, viable_long_axis_mm=t01_viable
            ),
            Measurement(
                lesion_id="T02", long_axis_mm=t02, viable_long_axis_mm=t02_viable
            ),
            timepoint.measurements[2],
        )
        timepoints.append(dataclasses.replace(timepoint, measurements=measurements))
    return dataclasses.replace(reading, timepoints=tuple(timepoints))


def _build(reading: Reading, criteria: tuple[Criteria, ...] | None) -> SdtmDatasets:
    return build_sdtm(
        reading,
        assess(reading),
        study_id="LT-HCC-P2",
        responses=response_assessments(reading, criteria),
    )


def _overall(datasets: SdtmDatasets) -> list[tuple[object, ...]]:
    return [
        (row["RSCAT"], row["VISIT"], row["RSORRES"])
        for row in datasets.rs
        if row["RSTESTCD"] == "OVRLRESP"
    ]


def test_rs_has_recist_and_irecist_records_for_a_recist_reading() -> None:
    reading = standards_example()
    datasets = _build(reading, None)
    assert _overall(datasets) == [
        ("RECIST 1.1", "WEEK 6", "PR"),
        ("RECIST 1.1", "WEEK 12", "PR"),
        ("iRECIST", "WEEK 6", "iPR"),
        ("iRECIST", "WEEK 12", "iPR"),
    ]
    # the RECIST 1.1 records are the docs/standards.md 1.3 example, unchanged
    alone = build_sdtm(reading, assess(reading), study_id="LT-HCC-P2")
    assert datasets.rs[: len(alone.rs)] == alone.rs
    assert [row["RSSEQ"] for row in datasets.rs] == list(range(1, len(datasets.rs) + 1))
    irecist = [row for row in datasets.rs if row["RSCAT"] == "iRECIST"]
    assert [row["RSTESTCD"] for row in irecist] == [
        "TRGRESP", "NTRGRESP", "NEWLIND", "OVRLRESP",
    ] * 2  # fmt: skip
    assert irecist[1]["RSORRES"] == "NON-iCR/NON-iUPD"
    assert irecist[3]["RSLNKGRP"] == "A2"
    assert datasets.tr == alone.tr


def test_rs_adds_mrecist_when_viable_diameters_were_measured() -> None:
    datasets = _build(_with_viable_diameters(), None)
    overall = _overall(datasets)
    assert [c for c, _visit, _result in overall] == [
        "RECIST 1.1", "RECIST 1.1", "iRECIST", "iRECIST", "mRECIST", "mRECIST",
    ]  # fmt: skip
    assert ("RECIST 1.1", "WEEK 6", "SD") in overall
    assert ("mRECIST", "WEEK 6", "PR") in overall


def test_rs_criteria_can_be_chosen() -> None:
    reading = _with_viable_diameters()
    assert {row["RSCAT"] for row in _build(reading, ()).rs} == {"RECIST 1.1"}
    only = _build(reading, (Criteria.MRECIST,))
    assert {row["RSCAT"] for row in only.rs} == {"mRECIST"}


def test_check_rejects_an_unknown_or_duplicated_rscat() -> None:
    datasets = _build(standards_example(), None)
    rs = [dict(row) for row in datasets.rs]
    rs[0]["RSCAT"] = "WHO"
    with pytest.raises(ExchangeError, match="RS row 1 of LT-01-001 has RSCAT 'WHO'"):
        check_sdtm(dataclasses.replace(datasets, rs=tuple(rs)))
    rs = [dict(row) for row in datasets.rs]
    rs[8]["RSCAT"] = "RECIST 1.1"  # iRECIST week 6 TRGRESP now collides
    with pytest.raises(ExchangeError, match=r"two TRGRESP records for RECIST 1\.1"):
        check_sdtm(dataclasses.replace(datasets, rs=tuple(rs)))


def test_check_rejects_criteria_sets_covering_different_visits() -> None:
    datasets = _build(standards_example(), None)
    rs = tuple(
        row
        for row in datasets.rs
        if not (row["RSCAT"] == "iRECIST" and row["VISIT"] == "WEEK 12")
    )
    with pytest.raises(ExchangeError, match="iRECIST assesses visits"):
        check_sdtm(dataclasses.replace(datasets, rs=rs))


def test_xpt_equals_csv_with_every_criteria_set(tmp_path: Path) -> None:
    write_sdtm(_build(_with_viable_diameters(), None), tmp_path)
    from_xpt = pd.read_sas(tmp_path / "rs.xpt", format="xport", encoding="ascii")
    from_csv = pd.read_csv(tmp_path / "rs.csv", dtype=str, keep_default_na=False)
    assert list(from_xpt["RSCAT"]) == list(from_csv["RSCAT"])
    assert list(from_xpt["RSORRES"]) == list(from_csv["RSORRES"])
    assert [int(v) for v in from_xpt["RSSEQ"]] == [int(v) for v in from_csv["RSSEQ"]]
    assert set(from_csv["RSCAT"]) == {"RECIST 1.1", "iRECIST", "mRECIST"}


@pytest.mark.parametrize(
    ("choice", "categories"),
    [("all", {"RECIST 1.1", "iRECIST", "mRECIST"}), ("file", {"RECIST 1.1"}),
     ("irecist", {"iRECIST"})],
)  # fmt: skip
def test_cli_response_criteria(
    tmp_path: Path, choice: str, categories: set[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'readings.sqlite3'}"
    with open_store(url) as store:
        store.readings.save(_with_viable_diameters(), user="dr-example")
    out = tmp_path / "sdtm"
    args = ["export", "--database", url, "--patient", "LT-01-001", "--format", "sdtm"]
    code = main([*args, "--out", str(out), "--response-criteria", choice])
    assert code == 0
    rs = pd.read_csv(out / "rs.csv", dtype=str, keep_default_na=False)
    assert set(rs["RSCAT"]) == categories


def test_issue16_states_reach_TR_and_each_criteria_keeps_its_new_lesion_call() -> None:
    """H2's further increase in TR; NEWLPROG is each criteria set's finding (J4)."""
    reading = _with_viable_diameters()
    effusion = Lesion(
        lesion_id="N01", role=LesionRole.NEW, organ="pleura", location="right effusion"
    )
    week_12 = dataclasses.replace(
        reading.timepoints[2],
        non_target=(
            NonTargetAssessment(
                lesion_id="NT01", state=NonTargetState.FURTHER_INCREASE
            ),
        ),
        new_lesions=(NewLesionObservation(lesion_id="N01", long_axis_mm=20.0),),
    )
    reading = dataclasses.replace(
        reading,
        lesions=(*reading.lesions, effusion),
        timepoints=(*reading.timepoints[:2], week_12),
    )
    datasets = _build(reading, None)
    check_sdtm(datasets)
    states = {
        (row["VISIT"], row["TRLNKID"]): row["TRORRES"]
        for row in datasets.tr
        if row["TRTESTCD"] == "TUMSTATE"
    }
    assert states["WEEK 12", "NT01"] == "FURTHER INCREASE"
    assert states["WEEK 12", "N01"] == "PRESENT"
    progression = {
        row["RSCAT"]: row["RSORRES"]
        for row in datasets.rs
        if row["RSTESTCD"] == "NEWLPROG" and row["VISIT"] == "WEEK 12"
    }
    assert progression == {
        "RECIST 1.1": "UNEQUIVOCAL",
        "iRECIST": "UNEQUIVOCAL",
        "mRECIST": "EQUIVOCAL",  # a new effusion without cytology (J4)
    }
