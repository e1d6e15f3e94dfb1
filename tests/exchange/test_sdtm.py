"""SDTM TU/TR/RS: the standards.md 1.3 example, cross-domain checks, XPT read-back."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd  # type: ignore[import-untyped]  # no stubs installed
import pytest
from hypothesis import given, settings

from recist_app.exchange import ExchangeError
from recist_app.exchange.sdtm import (
    SdtmDatasets,
    build_sdtm,
    check_sdtm,
    study_day,
    write_sdtm,
)
from recist_app.exchange.xpt import XptVariable, ibm_float, write_xpt
from recist_app.recist import (
    Lesion,
    LesionRole,
    Measurement,
    MeasurementState,
    NewLesionObservation,
    NewLesionState,
    Reading,
    assess,
)
from tests.exchange.readings import standards_example
from tests.recist.strategies import readings


def _example() -> SdtmDatasets:
    reading = standards_example()
    return build_sdtm(reading, assess(reading), study_id="LT-HCC-P2")


def _table(rows: Sequence[Mapping[str, object]], columns: str) -> list[list[object]]:
    names = columns.split()
    return [[row.get(name) for name in names] for row in rows]


def test_standards_example_tu_is_reproduced() -> None:
    tu = _example().tu
    assert {row["STUDYID"] for row in tu} == {"LT-HCC-P2"}
    assert {row["USUBJID"] for row in tu} == {"LT-01-001"}
    assert _table(
        tu,
        "TUSEQ TULNKID TUTESTCD TUTEST TUORRES TUSTRESC TULOC TULAT TUMETHOD "
        "TUEVAL VISITNUM VISIT TUDTC TUDY",
    ) == [
        [1, "T01", "TUMIDENT", "Tumor Identification", "TARGET", "TARGET",
         "LIVER", None, "CT SCAN", "INVESTIGATOR", 1, "SCREENING", "2024-02-26", -7],
        [2, "T02", "TUMIDENT", "Tumor Identification", "TARGET", "TARGET",
         "LUNG", "RIGHT", "CT SCAN", "INVESTIGATOR", 1, "SCREENING", "2024-02-26",
         -7],
        [3, "T03", "TUMIDENT", "Tumor Identification", "TARGET", "TARGET",
         "LYMPH NODE", None, "CT SCAN", "INVESTIGATOR", 1, "SCREENING",
         "2024-02-26", -7],
        [4, "NT01", "TUMIDENT", "Tumor Identification", "NON-TARGET", "NON-TARGET",
         "PORTAL VEIN", None, "CT SCAN", "INVESTIGATOR", 1, "SCREENING",
         "2024-02-26", -7],
    ]  # fmt: skip


def test_standards_example_tr_is_reproduced() -> None:
    tr = _example().tr
    expected: list[list[object]] = []
    visits = [
        (1, "SCREENING", "2024-02-26", -7, (42, 18, 22, 82)),
        (2, "WEEK 6", "2024-04-15", 43, (30, 12, 14, 56)),
        (3, "WEEK 12", "2024-05-27", 85, (28, 11, 12, 51)),
    ]
    seq = 0
    for number, visit, date, day, (t01, t02, t03, total) in visits:
        group = f"A{number}"
        for link, code, value in (
            ("T01", "LDIAM", t01),
            ("T02", "LDIAM", t02),
            ("T03", "LPERP", t03),
        ):
            seq += 1
            expected.append(
                [seq, "TARGET", group, link, code, str(value), value, number, visit,
                 date, day, "mm", "CT SCAN"]
            )  # fmt: skip
        seq += 1
        expected.append(
            [seq, "NON-TARGET", group, "NT01", "TUMSTATE", "PRESENT", None, number,
             visit, date, day, None, "CT SCAN"]
        )  # fmt: skip
        seq += 1
        expected.append(
            [seq, "TARGET", group, None, "SUMDIAM", str(total), total, number, visit,
             None, None, "mm", None]
        )  # fmt: skip
    assert (
        _table(
            tr,
            "TRSEQ TRGRPID TRLNKGRP TRLNKID TRTESTCD TRORRES TRSTRESN VISITNUM VISIT "
            "TRDTC TRDY TRORRESU TRMETHOD",
        )
        == expected
    )
    assert {row["TREVAL"] for row in tr} == {"INVESTIGATOR"}


def test_standards_example_rs_is_reproduced() -> None:
    rs = _example().rs
    expected: list[list[object]] = []
    for number, visit, date, day in ((2, "WEEK 6", "2024-04-15", 43),
                                     (3, "WEEK 12", "2024-05-27", 85)):  # fmt: skip
        for link, code, name, result in (
            (None, "TRGRESP", "Target Response", "PR"),
            (None, "NTRGRESP", "Non-target Response", "NON-CR/NON-PD"),
            (None, "NEWLIND", "New Lesion Indicator", "N"),
            (f"A{number}", "OVRLRESP", "Overall Response", "PR"),
        ):
            expected.append(
                [len(expected) + 1, link, code, name, result, result, number, visit,
                 date, day, "RECIST 1.1", "INVESTIGATOR"]
            )  # fmt: skip
    assert (
        _table(
            rs,
            "RSSEQ RSLNKGRP RSTESTCD RSTEST RSORRES RSSTRESC VISITNUM VISIT RSDTC "
            "RSDY RSCAT RSEVAL",
        )
        == expected
    )


def test_every_link_id_has_a_tu_row_and_sums_match() -> None:
    datasets = _example()
    tu_ids = {row["TULNKID"] for row in datasets.tu}
    tr_ids = {row["TRLNKID"] for row in datasets.tr if row["TRTESTCD"] != "SUMDIAM"}
    assert tu_ids == tr_ids
    for row in datasets.tr:
        if row["TRTESTCD"] == "SUMDIAM":
            parts = [
                other["TRSTRESN"]
                for other in datasets.tr
                if other["TRLNKGRP"] == row["TRLNKGRP"]
                and other["TRTESTCD"] in ("LDIAM", "LPERP")
            ]
            assert sum(parts) == row["TRSTRESN"]  # type: ignore[arg-type]


def test_check_rejects_an_orphan_link_id() -> None:
    datasets = _example()
    broken = dataclasses.replace(datasets, tu=datasets.tu[:-1])
    with pytest.raises(ExchangeError, match="NT01, which has no TU row"):
        check_sdtm(broken)


def test_check_rejects_a_wrong_sum() -> None:
    datasets = _example()
    tr = [dict(row) for row in datasets.tr]
    tr[0]["TRSTRESN"] = 43
    with pytest.raises(ExchangeError, match=r"SUMDIAM 82 .* is not the sum"):
        check_sdtm(dataclasses.replace(datasets, tr=tuple(tr)))


def test_states_new_lesions_and_split_are_coded() -> None:
    reading = standards_example()
    week6, week12 = reading.timepoints[1], reading.timepoints[2]
    week6 = dataclasses.replace(
        week6,
        measurements=(
            Measurement(lesion_id="T01", state=MeasurementState.TOO_SMALL),
            Measurement(lesion_id="T02", state=MeasurementState.DISAPPEARED),
            Measurement(lesion_id="T03", state=MeasurementState.NOT_EVALUABLE),
        ),
    )
    week12 = dataclasses.replace(
        week12,
        measurements=(
            Measurement(
                lesion_id="T01", state=MeasurementState.SPLIT, parts_mm=(20.0, 15.5)
            ),
            *week12.measurements[1:],
        ),
        new_lesions=(
            NewLesionObservation(lesion_id="N01", state=NewLesionState.UNEQUIVOCAL),
        ),
    )
    reading = dataclasses.replace(
        reading,
        lesions=(
            *reading.lesions,
            Lesion(lesion_id="N01", role=LesionRole.NEW, organ="bone"),
        ),
        timepoints=(reading.timepoints[0], week6, week12),
    )
    datasets = build_sdtm(reading, assess(reading), study_id="S")
    by = {(r["VISIT"], r.get("TRLNKID")): r for r in datasets.tr}
    assert by["WEEK 6", "T01"]["TRORRES"] == "TOO SMALL TO MEASURE"
    assert by["WEEK 6", "T01"]["TRSTRESN"] == 5
    assert by["WEEK 6", "T02"]["TRSTRESN"] == 0
    assert by["WEEK 6", "T03"]["TRSTAT"] == "NOT DONE"
    assert by["WEEK 6", "T03"]["TRREASND"] == "NOT EVALUABLE"
    assert by["WEEK 12", "T01.1"]["TRSTRESN"] == 20
    assert by["WEEK 12", "T01.2"]["TRSTRESN"] == 15.5
    assert by["WEEK 12", "N01"]["TRGRPID"] == "NEW"
    sums = [r for r in datasets.tr if r["TRTESTCD"] == "SUMDIAM"]
    assert [r["VISIT"] for r in sums] == ["SCREENING", "WEEK 12"]  # NE at week 6
    assert sums[-1]["TRSTRESN"] == 20 + 15.5 + 11 + 12
    tu = {r["TULNKID"]: r for r in datasets.tu}
    assert tu["N01"]["TUORRES"] == "NEW"
    assert tu["N01"]["VISIT"] == "WEEK 12"
    assert {"T01.1", "T01.2"} <= set(tu)
    rs = {(r["VISIT"], r["RSTESTCD"]): r["RSORRES"] for r in datasets.rs}
    assert rs["WEEK 12", "NEWLIND"] == "Y"
    assert rs["WEEK 12", "NEWLPROG"] == "UNEQUIVOCAL"
    assert rs["WEEK 12", "OVRLRESP"] == "PD"


def test_study_day_has_no_day_zero() -> None:
    first = datetime.date(2024, 3, 4)
    assert study_day(first, first) == 1
    assert study_day(datetime.date(2024, 3, 3), first) == -1
    assert study_day(first, None) is None


def _read_back(path: Path) -> pd.DataFrame:
    frame = pd.read_sas(path, format="xport", encoding="ascii")
    assert isinstance(frame, pd.DataFrame)
    return frame


def test_xpt_reads_back_equal_to_the_csv(tmp_path: Path) -> None:
    datasets = _example()
    write_sdtm(datasets, tmp_path)
    for domain in ("tu", "tr", "rs"):
        from_xpt = _read_back(tmp_path / f"{domain}.xpt")
        from_csv = pd.read_csv(
            tmp_path / f"{domain}.csv", dtype=str, keep_default_na=False
        )
        assert list(from_xpt.columns) == list(from_csv.columns)
        assert len(from_xpt) == len(from_csv) > 0
        for column in from_csv.columns:
            if from_xpt[column].dtype == object:
                assert list(from_xpt[column]) == list(from_csv[column]), column
            else:
                expected = [float(v) if v else None for v in from_csv[column]]
                got = [None if pd.isna(v) else float(v) for v in from_xpt[column]]
                assert got == expected, column
    define = pd.read_csv(tmp_path / "define.csv", dtype=str)
    assert set(define["dataset"]) == {"TU", "TR", "RS"}
    assert (define["label"].str.len() <= 40).all()
    assert (define["variable"].str.len() <= 8).all()


def test_ibm_float_known_values() -> None:
    assert ibm_float(1.0).hex() == "4110000000000000"
    assert ibm_float(-118.625).hex() == "c276a00000000000"
    assert ibm_float(0.0) == bytes(8)
    assert ibm_float(None)[:1] == b"."


def test_xpt_refuses_values_that_do_not_fit(tmp_path: Path) -> None:
    variables = [XptVariable(name="A", label="a", numeric=False, length=2)]
    with pytest.raises(ExchangeError, match="longer than 2 bytes"):
        write_xpt(tmp_path / "a.xpt", "A", "a", variables, [{"A": "abc"}])
    with pytest.raises(ExchangeError, match="not a SAS v5 name"):
        XptVariable(name="TOOLONGNAME", label="x", numeric=True)


@settings(max_examples=60, deadline=None)
@given(reading=readings())
def test_any_valid_reading_passes_the_cross_domain_checks(reading: Reading) -> None:
    assessment = assess(reading)
    datasets = build_sdtm(reading, assessment, study_id="S")  # runs check_sdtm
    tu_ids = {row["TULNKID"] for row in datasets.tu}
    assert {row["TRLNKID"] for row in datasets.tr if row.get("TRLNKID")} <= tu_ids
    overall = [row for row in datasets.rs if row["RSTESTCD"] == "OVRLRESP"]
    read = [t for t in assessment.timepoints if t.is_read]  # not read: no RS
    assert len(overall) == len(read) + (
        assessment.baseline.overall_response is not None
    )
