"""Adverse events: the file's rules, treatment emergence, and the safety summary
recomputed by hand on a simulated trial (docs/standards.md 3.7)."""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import pytest

from recist_app.cli import main
from recist_app.endpoints import (
    AdverseEvent,
    EndpointError,
    compute_trial_endpoints,
    endpoints_to_dict,
    is_treatment_emergent,
    parse_adverse_events_csv,
    safety_table,
    simulate_trial,
)
from tests.endpoints._builders import day, make_clinical, make_reading

if TYPE_CHECKING:
    from pathlib import Path

HEADER = "patient_id,term,soc,grade,start_date,end_date,serious,related,action"
GOOD = "HCC-001,Hypertension,Vascular disorders,3,2024-03-01,2024-03-20,N,Y,reduced"


@pytest.fixture(scope="module")
def trial_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trial")
    assert main(["simulate-trial", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def analysed(trial_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    status = main(
        [
            "endpoints",
            "--readings",
            str(trial_dir / "readings"),
            "--clinical",
            str(trial_dir / "clinical.csv"),
            "--adverse-events",
            str(trial_dir / "adverse_events.csv"),
            "--out",
            str(out),
            "--no-plots",
        ]
    )
    assert status == 0
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# ------------------------------------------------------------------ the file


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (GOOD.replace(",3,", ",6,"), "grade", "'6' is not a CTCAE grade (1–5)"),
        (GOOD.replace(",3,", ",2.5,"), "grade", "'2.5' is not a CTCAE grade"),
        (
            GOOD.replace("2024-03-20", "2024-02-20"),
            "end_date",
            "end 2024-02-20 is before the start 2024-03-01",
        ),
        (GOOD.replace("reduced", "paused"), "action", "unknown action 'paused'"),
        (GOOD.replace(",N,Y,", ",maybe,Y,"), "serious", "'maybe' is not Y or N"),
        (GOOD.replace(",N,Y,", ",N,,"), "related", "empty, a value is required"),
        (GOOD.replace("2024-03-01", "01/03/2024"), "start_date", "is not a date"),
        (GOOD.replace("Hypertension", ""), "term", "empty, a value is required"),
    ],
    ids=[
        "grade-6",
        "grade-text",
        "end-before-start",
        "action",
        "serious",
        "related",
        "date",
        "term",
    ],
)
def test_a_bad_row_is_one_line_naming_row_and_column(
    row: str, column: str, message: str
) -> None:
    text = f"{HEADER}\n{GOOD}\n{row}\n"
    with pytest.raises(EndpointError) as raised:
        parse_adverse_events_csv(text, source="ae.csv")
    assert str(raised.value).startswith(f"ae.csv, row 3, column {column}: ")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_header_problems_name_the_column() -> None:
    with pytest.raises(EndpointError, match="row 1, column 'toxicity': unknown"):
        parse_adverse_events_csv(HEADER + ",toxicity\n", source="ae.csv")
    with pytest.raises(EndpointError, match=r"missing required column.* grade"):
        parse_adverse_events_csv("patient_id,term,start_date,serious,related\n")
    assert parse_adverse_events_csv(HEADER + "\n") == ()  # no events reported


def test_optional_cells_may_be_empty_and_values_are_read() -> None:
    (event,) = parse_adverse_events_csv(
        f"{HEADER}\nHCC-002,Fatigue,,1,2024-03-01,,n,y,\n", source="ae.csv"
    )
    assert event == AdverseEvent(
        patient_id="HCC-002",
        term="Fatigue",
        grade=1,
        start_date=datetime.date(2024, 3, 1),
        related=True,
        source="ae.csv",
        row=2,
    )


def test_unknown_patients_and_terms_under_two_socs_are_refused() -> None:
    reading, clinical = make_reading("P1", [(28, "SD")]), make_clinical("P1")

    def analyse(*events: AdverseEvent) -> None:
        compute_trial_endpoints([reading], [clinical], adverse_events=events)

    other = AdverseEvent(
        patient_id="P2",
        term="Fatigue",
        grade=1,
        start_date=day(3),
        source="ae.csv",
        row=4,
    )
    with pytest.raises(
        EndpointError,
        match=r"ae.csv, row 4, column patient_id: "
        r"unknown patient 'P2', not in the clinical data",
    ):
        analyse(other)
    first = AdverseEvent(
        patient_id="P1",
        term="Fatigue",
        soc="General disorders",
        grade=1,
        start_date=day(3),
        source="ae.csv",
        row=2,
    )
    second = AdverseEvent(
        patient_id="P1",
        term="Fatigue",
        soc="Investigations",
        grade=1,
        start_date=day(9),
        source="ae.csv",
        row=5,
    )
    with pytest.raises(
        EndpointError,
        match=r"row 5, column soc: term 'Fatigue' is "
        r"under 'Investigations' here and under 'General disorders' "
        r"in row 2",
    ):
        analyse(first, second)


@pytest.mark.parametrize(
    ("start", "emergent"),
    [(-1, False), (0, True), (200, True), (730, True), (731, False)],
    ids=[
        "day-before-first-dose",
        "first-dose",
        "on-treatment",
        "cutoff",
        "after-cutoff",
    ],
)
def test_treatment_emergent_means_from_first_dose_to_cutoff(
    start: int, emergent: bool
) -> None:
    cutoff = day(730)
    event = AdverseEvent(patient_id="P1", term="Nausea", grade=1, start_date=day(start))
    assert is_treatment_emergent(event, day(0), cutoff) is emergent
    reading = make_reading("P1", [(28, "SD")])
    clinical = make_clinical("P1")
    assert clinical.data_cutoff_date == cutoff
    result = compute_trial_endpoints([reading], [clinical], adverse_events=[event])
    assert result.adverse_events is not None
    assert result.adverse_events.excluded_not_treatment_emergent == (not emergent)
    assert result.adverse_events.patients_with_any == emergent


# ------------------------------------------------------------------ by hand


def _by_hand(trial_dir: Path) -> dict[str, Any]:
    """The ``adverse_events`` block of endpoints.json, counted with plain loops."""
    clinical = {r["patient_id"]: r for r in _rows(trial_dir / "clinical.csv")}
    events = _rows(trial_dir / "adverse_events.csv")
    population = len(clinical)
    emergent = []
    for event in events:
        record = clinical[event["patient_id"]]
        if (
            record["first_dose_date"]
            <= event["start_date"]
            <= record["data_cutoff_date"]
        ):
            emergent.append(event)
    soc_of: dict[str, str] = {}
    for event in events:
        if event["soc"] and event["term"] not in soc_of:
            soc_of[event["term"]] = event["soc"]
    worst: dict[str, dict[str, int]] = defaultdict(dict)
    related: dict[str, set[str]] = defaultdict(set)
    for event in emergent:
        grade = int(event["grade"])
        patients = worst[event["term"]]
        patients[event["patient_id"]] = max(grade, patients.get(event["patient_id"], 0))
        if event["related"] == "Y":
            related[event["term"]].add(event["patient_id"])

    def patients_with(condition: Any) -> int:
        return len({e["patient_id"] for e in emergent if condition(e)})

    def pct(count: int) -> float:
        return round(100 * count / population, 1)

    by_term: list[dict[str, Any]] = []
    for term, patients in worst.items():
        counts = {
            str(g): sum(1 for v in patients.values() if v == g) for g in range(1, 6)
        }
        severe = counts["3"] + counts["4"] + counts["5"]
        by_term.append(
            {
                "term": term,
                "soc": soc_of.get(term, ""),
                "any_grade_n": len(patients),
                "any_grade_pct": pct(len(patients)),
                "grade_3_plus_n": severe,
                "grade_3_plus_pct": pct(severe),
                "related_n": len(related[term]),
                "worst_grade_counts": counts,
            }
        )
    by_term.sort(key=lambda t: (-t["any_grade_n"], t["term"]))
    return {
        "safety_population": population,
        "excluded_not_treatment_emergent": len(events) - len(emergent),
        "patients_with_any": patients_with(lambda _e: True),
        "patients_grade_3_plus": patients_with(lambda e: int(e["grade"]) >= 3),
        "patients_serious": patients_with(lambda e: e["serious"] == "Y"),
        "patients_related": patients_with(lambda e: e["related"] == "Y"),
        "patients_leading_to_discontinuation": patients_with(
            lambda e: e["action"] == "discontinued"
        ),
        "patients_grade_5": patients_with(lambda e: e["grade"] == "5"),
        "by_term": by_term,
    }


def test_simulated_adverse_events_cover_every_rule(trial_dir: Path) -> None:
    events = _rows(trial_dir / "adverse_events.csv")
    clinical = {r["patient_id"]: r for r in _rows(trial_dir / "clinical.csv")}
    assert {e["grade"] for e in events} == {"1", "2", "3", "4", "5"}
    assert {e["action"] for e in events} == {
        "",
        "none",
        "interrupted",
        "reduced",
        "discontinued",
    }
    assert any(e["soc"] == "" for e in events)
    assert any(e["end_date"] == "" for e in events)
    before = [
        e
        for e in events
        if e["start_date"] < clinical[e["patient_id"]]["first_dose_date"]
    ]
    after = [
        e
        for e in events
        if e["start_date"] > clinical[e["patient_id"]]["data_cutoff_date"]
    ]
    assert before
    assert after
    for event in events:
        if event["grade"] == "5":  # fatal events on the day of death
            assert event["start_date"] == clinical[event["patient_id"]]["death_date"]
    pairs = [(e["patient_id"], e["term"]) for e in events]
    assert len(set(pairs)) < len(pairs)  # some patients have a term twice
    terms = {e["term"] for e in events}
    assert {"Hypertension", "Hypothyroidism", "Proteinuria", "Diarrhea"} <= terms


def test_the_adverse_events_block_equals_a_count_by_hand(
    trial_dir: Path, analysed: Path
) -> None:
    written = json.loads((analysed / "endpoints.json").read_text(encoding="utf-8"))
    block = written["adverse_events"]
    expected = _by_hand(trial_dir)
    assert list(block) == list(expected)  # exactly the specified keys, in order
    assert block == expected
    assert list(block["by_term"][0]) == [
        "term",
        "soc",
        "any_grade_n",
        "any_grade_pct",
        "grade_3_plus_n",
        "grade_3_plus_pct",
        "related_n",
        "worst_grade_counts",
    ]
    assert block["excluded_not_treatment_emergent"] > 0
    assert block["patients_grade_5"] > 0


def test_the_safety_table_groups_the_terms_by_soc(
    trial_dir: Path, analysed: Path
) -> None:
    table = _rows(analysed / "safety.csv")
    expected = _by_hand(trial_dir)
    population = expected["safety_population"]
    clinical = {r["patient_id"]: r for r in _rows(trial_dir / "clinical.csv")}
    emergent = [
        e
        for e in _rows(trial_dir / "adverse_events.csv")
        if clinical[e["patient_id"]]["first_dose_date"]
        <= e["start_date"]
        <= clinical[e["patient_id"]]["data_cutoff_date"]
    ]
    soc_of = {t["term"]: t["soc"] for t in expected["by_term"]}

    def cell(patients: set[str]) -> str:
        return f"{len(patients)} ({100 * len(patients) / population:.1f} %)"

    name, any_grade, severe = table[0].values()
    assert (name, any_grade) == ("Any TEAE", cell({e["patient_id"] for e in emergent}))
    assert severe == cell({e["patient_id"] for e in emergent if e["grade"] >= "3"})
    socs = [
        row for row in table[1:] if not row["System organ class / term"].startswith(" ")
    ]
    assert len(socs) == len(set(soc_of.values()))
    current = ""
    for row in table[1:]:
        label = row["System organ class / term"]
        if not label.startswith(" "):
            current = label
            members = {e["patient_id"] for e in emergent if soc_of[e["term"]] == label}
            assert row["Any grade, n (%)"] == cell(members)
            continue
        term = label.strip()
        assert soc_of[term] == current  # each term under its SOC
        members = {e["patient_id"] for e in emergent if e["term"] == term}
        assert row["Any grade, n (%)"] == cell(members)
    counts = [int(row["Any grade, n (%)"].split()[0]) for row in socs]
    assert counts == sorted(counts, reverse=True)


def test_the_safety_table_is_the_one_the_view_shows() -> None:
    trial = simulate_trial(30, seed=4)
    result = compute_trial_endpoints(
        trial.readings, trial.clinical, adverse_events=trial.adverse_events
    )
    table = safety_table(result)
    text = table.csv_text()
    assert text.splitlines()[0] == (
        'System organ class / term,"Any grade, n (%)","Grade ≥ 3, n (%)"'
    )
    assert endpoints_to_dict(result)["adverse_events"]["safety_population"] == 30
    without = compute_trial_endpoints(trial.readings, trial.clinical)
    assert safety_table(without).rows == ()
    assert endpoints_to_dict(without)["adverse_events"] is None
    assert list(csv.reader(io.StringIO(text)))[1][0] == "Any TEAE"
