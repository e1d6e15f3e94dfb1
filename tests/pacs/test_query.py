"""Study queries: the dates a reader types, and the table and CSV of the answers."""

from __future__ import annotations

import csv
import datetime
import io

import pytest

from recist_app.pacs import PacsQueryError, StudyMatch, StudyQuery, parse_date_range
from recist_app.workflows.pacs import studies_csv_text, studies_table_text

D = datetime.date


@pytest.mark.parametrize(
    ("text", "expected", "dicom"),
    [
        ("20240101", (D(2024, 1, 1), D(2024, 1, 1)), "20240101"),
        ("2024-01-01", (D(2024, 1, 1), D(2024, 1, 1)), "20240101"),
        ("20240101-20240630", (D(2024, 1, 1), D(2024, 6, 30)), "20240101-20240630"),
        ("20240101-", (D(2024, 1, 1), None), "20240101-"),
        ("-20240630", (None, D(2024, 6, 30)), "-20240630"),
        ("2024-01-01..2024-06-30", (D(2024, 1, 1), D(2024, 6, 30)),
         "20240101-20240630"),
        ("..2024-06-30", (None, D(2024, 6, 30)), "-20240630"),
        ("", (None, None), ""),
    ],
    ids=["dicom-day", "iso-day", "dicom-range", "open-end", "open-start", "iso-range",
         "iso-open-start", "empty"],
)  # fmt: skip
def test_date_ranges_as_typed_become_dicom_ranges(
    text: str, expected: tuple[D | None, D | None], dicom: str
) -> None:
    assert parse_date_range(text) == expected
    query = StudyQuery(date_from=expected[0], date_to=expected[1])
    assert query.dicom_date_range == dicom


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-13-01", "is not a date"),
        ("20240230", "is not a date"),
        ("2024", "is not a date"),
        ("20240630-20240101", "ends before it starts"),
        ("-", "needs a start or an end"),
        ("yesterday", "is not a date"),
    ],
    ids=["month-13", "february-30", "year-only", "reversed", "no-end", "words"],
)
def test_bad_dates_are_refused_in_one_line(text: str, message: str) -> None:
    with pytest.raises(PacsQueryError, match=message):
        parse_date_range(text)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"patient_id": "A\\B"}, "may not hold"),
        ({"modality": "ct scan"}, "DICOM modality code"),
        ({"date_from": D(2024, 2, 1), "date_to": D(2024, 1, 1)}, "before"),
        ({"patient_id": "x" * 65}, "longer than 64"),
    ],
    ids=["backslash", "modality", "reversed-dates", "too-long"],
)
def test_a_query_that_cannot_be_asked_is_never_built(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        StudyQuery(**fields)  # type: ignore[arg-type]


STUDIES = (
    StudyMatch(
        study_instance_uid="1.2.3.1",
        patient_id="HCC-001",
        patient_name="DOE^JANE",
        study_date=D(2024, 2, 26),
        modalities=("CT", "SR"),
        series_count=2,
        instance_count=17,
        description="CT, with a comma",
    ),
    StudyMatch(study_instance_uid="1.2.3.2", patient_id="HCC-001"),
)


def test_find_csv_has_one_row_per_study_with_its_study_instance_uid() -> None:
    rows = list(csv.DictReader(io.StringIO(studies_csv_text(STUDIES))))
    assert [row["study_instance_uid"] for row in rows] == ["1.2.3.1", "1.2.3.2"]
    assert rows[0]["modalities"] == "CT/SR"
    assert rows[0]["study_description"] == "CT, with a comma"
    assert rows[1]["series"] == ""


def test_find_table_is_aligned_and_says_when_nothing_was_found() -> None:
    lines = studies_table_text(STUDIES).splitlines()
    assert lines[0].split()[0] == "patient"
    assert lines[1].index("1.2.3.1") == lines[0].index("StudyInstanceUID")
    assert studies_table_text(()) == "no study found\n"
