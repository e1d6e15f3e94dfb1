"""Response and survival by biomarker, recomputed independently on a simulated
trial: counts by hand, scipy for Clopper–Pearson and Fisher, lifelines for the
Kaplan–Meier medians, the log-rank tests and the Cox hazard ratios
(docs/standards.md 3.8)."""

from __future__ import annotations

import csv
import json
import math
import statistics
from typing import TYPE_CHECKING, Any

import pandas as pd  # type: ignore[import-untyped]  # no stubs installed
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from scipy.stats import binomtest, fisher_exact

from recist_app.cli import main
from recist_app.endpoints import (
    BiomarkerTable,
    EndpointError,
    EndpointOptions,
    biomarker_table,
    compute_trial_endpoints,
    parse_biomarkers_csv,
)
from tests.endpoints._builders import make_clinical, make_reading

if TYPE_CHECKING:
    from pathlib import Path

DAYS_PER_MONTH = 30.4375


@pytest.fixture(scope="module")
def trial_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trial")
    assert main(["simulate-trial", str(folder)]) == 0
    return folder


def _analyse(trial_dir: Path, out: Path, *extra: str) -> dict[str, Any]:
    status = main(
        [
            "endpoints",
            "--readings",
            str(trial_dir / "readings"),
            "--clinical",
            str(trial_dir / "clinical.csv"),
            "--biomarkers",
            str(trial_dir / "biomarkers.csv"),
            "--out",
            str(out),
            "--no-plots",
            *extra,
        ]
    )
    assert status == 0
    data: dict[str, Any] = json.loads((out / "endpoints.json").read_text("utf-8"))
    return data


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _median_months(rows: list[dict[str, str]], endpoint: str) -> float | None:
    fitter = KaplanMeierFitter().fit(
        [int(r[f"{endpoint}_days"]) for r in rows],
        [r[f"{endpoint}_event"] == "Y" for r in rows],
    )
    median = float(fitter.median_survival_time_)
    return None if math.isinf(median) else median / DAYS_PER_MONTH


def _logrank(groups: list[list[dict[str, str]]], endpoint: str) -> float:
    if len(groups) == 2:
        first, second = groups
        return float(
            logrank_test(
                [int(r[f"{endpoint}_days"]) for r in first],
                [int(r[f"{endpoint}_days"]) for r in second],
                [r[f"{endpoint}_event"] == "Y" for r in first],
                [r[f"{endpoint}_event"] == "Y" for r in second],
            ).p_value
        )
    return float(
        multivariate_logrank_test(
            [int(r[f"{endpoint}_days"]) for g in groups for r in g],
            [i for i, g in enumerate(groups) for _r in g],
            [r[f"{endpoint}_event"] == "Y" for g in groups for r in g],
        ).p_value
    )


def _cox(groups: list[list[dict[str, str]]], endpoint: str) -> tuple[float, ...]:
    frame = pd.DataFrame(
        {
            "T": [int(r[f"{endpoint}_days"]) for g in groups for r in g],
            "E": [int(r[f"{endpoint}_event"] == "Y") for g in groups for r in g],
            "high": [i for i, g in enumerate(groups) for _r in g],
        }
    )
    fitter = CoxPHFitter().fit(frame, "T", "E")  # Efron ties, Wald intervals
    summary = fitter.summary.loc["high"]
    return (
        float(summary["exp(coef)"]),
        float(summary["exp(coef) lower 95%"]),
        float(summary["exp(coef) upper 95%"]),
    )


def _expected(
    trial_dir: Path, subjects: list[dict[str, str]], cutoffs: dict[str, float]
) -> list[dict[str, Any]]:
    """The biomarkers block from the files, with the field's libraries."""
    markers = _rows(trial_dir / "biomarkers.csv")
    by_id = {r["patient_id"]: r for r in subjects}
    names = [n for n in markers[0] if n != "patient_id"]
    expected = []
    for name in names:
        present = [(m["patient_id"], m[name]) for m in markers if m[name] != ""]
        numbers = [_number(v) for _p, v in present]
        if all(n is not None for n in numbers):
            values = [n for n in numbers if n is not None]
            cutoff = cutoffs.get(name, statistics.median(values))
            labels = ["low", "high"]
            group_of = {
                p: "low" if v <= cutoff else "high"
                for (p, _t), v in zip(present, values, strict=True)
            }
            kind = "numeric"
        else:
            cutoff = None
            labels = sorted({v for _p, v in present})
            group_of = dict(present)
            kind = "categorical"
        groups = [
            [by_id[p] for p, g in group_of.items() if g == label]
            for label in labels
            if label in group_of.values()
        ]
        labels = [label for label in labels if label in group_of.values()]
        entries = []
        table = []
        for label, rows in zip(labels, groups, strict=True):
            population = [r for r in rows if r["in_response_population"] == "Y"]
            responders = sum(r["responder"] == "Y" for r in population)
            interval = binomtest(responders, len(population)).proportion_ci(
                method="exact"
            )
            table.append([responders, len(population) - responders])
            entries.append(
                {
                    "label": label,
                    "n": len(population),
                    "responders": responders,
                    "orr": responders / len(population),
                    "orr_ci": [interval.low, interval.high],
                    "pfs_median_months": _median_months(rows, "pfs"),
                    "os_median_months": _median_months(rows, "os"),
                }
            )
        two = len(groups) == 2
        pfs_hr = _cox(groups, "pfs") if two else None
        os_hr = _cox(groups, "os") if two else None
        expected.append(
            {
                "name": name,
                "kind": kind,
                "cutoff": cutoff,
                "groups": entries,
                "orr_fisher_p": float(fisher_exact(table).pvalue) if two else None,
                "pfs_logrank_p": _logrank(groups, "pfs"),
                "os_logrank_p": _logrank(groups, "os"),
                "pfs_hr": None if pfs_hr is None else pfs_hr[0],
                "pfs_hr_ci": None if pfs_hr is None else list(pfs_hr[1:]),
                "os_hr": None if os_hr is None else os_hr[0],
                "os_hr_ci": None if os_hr is None else list(os_hr[1:]),
            }
        )
    return expected


def _assert_close(actual: Any, expected: Any, where: str = "") -> None:
    if isinstance(expected, dict):
        assert list(actual) == list(expected), where
        for key in expected:
            _assert_close(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), where
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _assert_close(a, e, f"{where}[{index}]")
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=1e-5, abs=1e-6), where
    else:
        assert actual == expected, where


def test_the_biomarkers_block_equals_scipy_and_lifelines_on_the_files(
    trial_dir: Path, tmp_path: Path
) -> None:
    written = _analyse(trial_dir, tmp_path / "out")
    subjects = _rows(tmp_path / "out" / "subjects.csv")
    expected = _expected(trial_dir, subjects, {})
    _assert_close(written["biomarkers"], expected, "biomarkers")
    kinds = {m["name"]: (m["kind"], len(m["groups"])) for m in written["biomarkers"]}
    assert kinds == {
        "pdl1_cps": ("numeric", 2),
        "afp_ng_ml": ("numeric", 2),
        "etiology": ("categorical", 3),  # multivariate log-rank, no HR, no Fisher
    }


def test_pd_l1_goes_with_response_and_the_hr_is_high_versus_low(
    trial_dir: Path, tmp_path: Path
) -> None:
    written = _analyse(trial_dir, tmp_path / "out")
    pdl1 = next(m for m in written["biomarkers"] if m["name"] == "pdl1_cps")
    low, high = pdl1["groups"]
    assert (low["label"], high["label"]) == ("low", "high")
    assert high["orr"] > low["orr"]
    assert pdl1["orr_fisher_p"] < 0.05
    assert pdl1["pfs_hr"] < 1  # high vs low: less progression in the high group
    assert pdl1["pfs_hr_ci"][0] < pdl1["pfs_hr"] < pdl1["pfs_hr_ci"][1]
    missing = sum(1 for r in _rows(trial_dir / "biomarkers.csv") if r["pdl1_cps"] == "")
    treated = {r["patient_id"] for r in _rows(trial_dir / "clinical.csv")}
    assert missing > 0
    assert sum(g["n"] for g in pdl1["groups"]) <= len(treated) - missing


def test_a_chosen_cutoff_splits_there(trial_dir: Path, tmp_path: Path) -> None:
    written = _analyse(
        trial_dir, tmp_path / "out", "--biomarker-cutoff", "afp_ng_ml=400"
    )
    subjects = _rows(tmp_path / "out" / "subjects.csv")
    afp = next(m for m in written["biomarkers"] if m["name"] == "afp_ng_ml")
    assert afp["cutoff"] == 400.0
    expected = _expected(trial_dir, subjects, {"afp_ng_ml": 400.0})
    _assert_close(written["biomarkers"], expected, "biomarkers")
    assert written["options"]["biomarker_cutoffs"] == {"afp_ng_ml": 400.0}
    table = _rows(tmp_path / "out" / "biomarkers.csv")
    assert table[2]["Biomarker"] == "afp_ng_ml (cutoff 400)"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--biomarker-cutoff", "alt=40"],
            "biomarker cutoff alt: no such column in",
        ),
        (
            ["--biomarker-cutoff", "etiology=2"],
            "etiology in ",
        ),
    ],
    ids=["unknown-biomarker", "categorical"],
)
def test_a_cutoff_that_cannot_apply_is_one_line(
    trial_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    status = main(
        [
            "endpoints",
            "--readings",
            str(trial_dir / "readings"),
            "--clinical",
            str(trial_dir / "clinical.csv"),
            "--biomarkers",
            str(trial_dir / "biomarkers.csv"),
            "--out",
            str(tmp_path / "out"),
            "--no-plots",
            *arguments,
        ]
    )
    assert status == 2
    error = capsys.readouterr().err
    assert message in error
    assert error.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "patient_id,afp\nP1,3\nP1,4\n",
            "row 3, column patient_id: patient 'P1' already in row 2",
        ),
        ("id,afp\nP1,3\n", "row 1: missing required column patient_id"),
        ("patient_id,afp,afp\nP1,3,4\n", "row 1, column afp: column twice"),
        ("patient_id\nP1\n", "row 1: no biomarker columns"),
        ("patient_id,afp\nP1,3,4\n", "row 2: 3 cells, but the header has 2"),
    ],
    ids=[
        "duplicate-patient",
        "no-patient-column",
        "column-twice",
        "no-biomarker",
        "cells",
    ],
)
def test_bad_biomarker_files_are_one_line(text: str, message: str) -> None:
    with pytest.raises(EndpointError, match=message):
        parse_biomarkers_csv(text, source="bio.csv")


def test_an_unknown_patient_is_refused_naming_its_row() -> None:
    readings = [make_reading("P1", [(28, "PR"), (60, "PR")])]
    clinical = [make_clinical("P1")]
    table = parse_biomarkers_csv("patient_id,afp\nP1,3\nP7,4\n", source="bio.csv")
    with pytest.raises(
        EndpointError, match=r"bio\.csv, row 3, column patient_id: unknown patient 'P7'"
    ):
        compute_trial_endpoints(readings, clinical, biomarkers=table)


def test_without_events_in_a_group_there_is_no_hazard_ratio() -> None:
    visits = {
        "P1": [(28, "PR"), (60, "PR")],
        "P2": [(28, "SD"), (56, "PD")],
        "P3": [(28, "PR"), (60, "CR")],
        "P4": [(28, "SD"), (84, "PD")],
    }
    readings = [make_reading(p, v) for p, v in visits.items()]
    clinical = [make_clinical(p) for p in visits]
    table = BiomarkerTable(
        names=("marker",),
        values={
            "P1": {"marker": "9"},
            "P2": {"marker": "1"},
            "P3": {"marker": "8"},
            "P4": {"marker": "2"},
        },
    )
    result = compute_trial_endpoints(readings, clinical, biomarkers=table)
    assert result.biomarkers is not None
    (marker,) = result.biomarkers
    assert marker.cutoff == 5.0
    assert [g.patients for g in marker.groups] == [("P2", "P4"), ("P1", "P3")]
    assert marker.pfs_hr is None  # the high group has no progression
    assert marker.pfs_logrank_p is not None
    assert marker.os_hr is None  # nobody died
    assert marker.os_logrank_p is None
    assert marker.orr_fisher_p == pytest.approx(
        float(fisher_exact([[0, 2], [2, 0]]).pvalue)
    )
    rows = biomarker_table(result).rows
    assert rows[0][:3] == ("marker (median 5)", "low", "2")
    options = EndpointOptions(biomarker_cutoffs=(("marker", 8.5),))
    split = compute_trial_endpoints(readings, clinical, options, biomarkers=table)
    assert split.biomarkers is not None
    assert [g.patients for g in split.biomarkers[0].groups] == [
        ("P2", "P3", "P4"),
        ("P1",),
    ]
