"""The clinical CSV: parsing, one-line errors naming file, row and column."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from recist_app.endpoints import (
    CLINICAL_COLUMNS,
    EndpointError,
    EndpointOptions,
    clinical_csv_text,
    compute_trial_endpoints,
    parse_clinical_csv,
    read_clinical_csv,
)
from tests.endpoints._builders import make_reading

HEADER = ",".join(CLINICAL_COLUMNS)


def csv_text(*rows: str) -> str:
    return "\n".join((HEADER, *rows)) + "\n"


GOOD = "P1,2024-01-01,,2024-06-01,,2025-01-01"


def test_valid_file_parses_and_round_trips() -> None:
    text = csv_text(GOOD, "P2,2024-02-01,2024-05-01,2024-05-01,2024-04-01,2025-01-01")
    records = parse_clinical_csv(text, source="c.csv")
    assert [r.patient_id for r in records] == ["P1", "P2"]
    assert records[1].death_date == datetime.date(2024, 5, 1)
    assert records[0].death_date is None
    assert records[1].row == 3
    assert clinical_csv_text(records) == text
    again = parse_clinical_csv(clinical_csv_text(records), source="c.csv")
    assert again == records


def test_columns_may_come_in_any_order_and_optional_ones_may_be_absent() -> None:
    text = "data_cutoff_date,patient_id,first_dose_date\n2025-01-01,P1,2024-01-01\n"
    (record,) = parse_clinical_csv(text)
    assert record.last_known_alive_date is None


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "P1,2024-01-01,2023-12-01,,,2025-01-01",
            "c.csv, row 2, column death_date: death 2023-12-01 is before the first "
            "dose 2024-01-01",
        ),
        (
            "P1,2024-13-01,,,,2025-01-01",
            "c.csv, row 2, column first_dose_date: '2024-13-01' is not a date "
            "(expected YYYY-MM-DD)",
        ),
        (
            "P1,,,,,2025-01-01",
            "c.csv, row 2, column first_dose_date: empty, a date is required",
        ),
        (",2024-01-01,,,,2025-01-01", "c.csv, row 2, column patient_id: empty"),
        (
            "P1,2024-01-01,2024-03-01,2024-04-01,,2025-01-01",
            "c.csv, row 2, column last_known_alive_date: last contact 2024-04-01 is "
            "after death 2024-03-01",
        ),
        (
            "P1,2024-01-01,,,2023-01-01,2025-01-01",
            "c.csv, row 2, column new_anticancer_therapy_date: new anticancer "
            "therapy 2023-01-01 is before the first dose 2024-01-01",
        ),
        (
            "P1,2026-01-01,,,,2025-01-01",
            "c.csv, row 2, column first_dose_date: first dose 2026-01-01 is after the "
            "data cut-off 2025-01-01",
        ),
        ("P1,2024-01-01,,,2025-01-01", "c.csv, row 2: 5 cells, but the header has 6"),
    ],
    ids=[
        "death-before-first-dose",
        "unparsable-date",
        "missing-first-dose",
        "empty-patient",
        "alive-after-death",
        "therapy-before-dose",
        "dose-after-cutoff",
        "short-row",
    ],
)
def test_bad_row_gives_one_line_naming_file_row_and_column(
    row: str, message: str
) -> None:
    with pytest.raises(EndpointError) as caught:
        parse_clinical_csv(csv_text(row), source="c.csv")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_duplicate_patient_names_both_rows() -> None:
    with pytest.raises(EndpointError, match=r"row 3, column patient_id: .* row 2"):
        parse_clinical_csv(csv_text(GOOD, GOOD), source="c.csv")


def test_cutoff_must_be_the_same_in_every_row() -> None:
    other = "P2,2024-01-01,,,,2025-02-01"
    with pytest.raises(EndpointError, match="row 3, column data_cutoff_date"):
        parse_clinical_csv(csv_text(GOOD, other), source="c.csv")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        (HEADER + "\n", "no patient rows"),
        (HEADER + ",site\n" + GOOD + ",X\n", "row 1, column 'site': unknown column"),
        ("patient_id,first_dose_date\nP1,2024-01-01\n", "missing required column"),
    ],
    ids=["empty", "header-only", "unknown-column", "missing-column"],
)
def test_bad_file_structure(text: str, message: str) -> None:
    with pytest.raises(EndpointError, match=message):
        parse_clinical_csv(text, source="c.csv")


def test_unknown_patient_names_the_clinical_row() -> None:
    records = parse_clinical_csv(
        csv_text(GOOD, "P7,2024-01-01,,,,2025-01-01"), source="c.csv"
    )
    with pytest.raises(
        EndpointError,
        match=r"^c\.csv, row 3, column patient_id: unknown patient 'P7'",
    ):
        compute_trial_endpoints([make_reading("P1", [(28, "SD")])], records)


def test_unknown_patient_allowed_counts_as_never_assessed() -> None:
    records = parse_clinical_csv(
        csv_text(GOOD, "P7,2024-01-01,,,,2025-01-01"), source="c.csv"
    )
    result = compute_trial_endpoints(
        [make_reading("P1", [(28, "SD")])],
        records,
        EndpointOptions(allow_unread_patients=True),
    )
    assert result.treated == 2
    assert result.response_population == 1  # P7 has no measurable disease known


def test_reading_without_clinical_row_is_an_error() -> None:
    records = parse_clinical_csv(csv_text(GOOD), source="c.csv")
    readings = [make_reading("P1", []), make_reading("P2", [])]
    with pytest.raises(EndpointError, match="patient 'P2' has no row"):
        compute_trial_endpoints(readings, records)


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(EndpointError, match="no such file"):
        read_clinical_csv(tmp_path / "nope.csv")
