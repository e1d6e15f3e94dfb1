"""The clinical file: one row per treated patient, with the dates endpoints need.

The file is CSV (UTF-8, comma separated, one header row). Columns, in any order:

=============================== ======== =============================================
column                          required meaning
=============================== ======== =============================================
``patient_id``                  yes      the reading's patient id (USUBJID)
``first_dose_date``             yes      first dose of study treatment (TRTSDT); origin
                                         of every time-to-event endpoint
``death_date``                  no       death from any cause (DTHDT)
``last_known_alive_date``       no       last contact with the patient alive (LSTALVDT);
                                         OS censoring
``new_anticancer_therapy_date`` no       first new anticancer therapy (NACTDT)
``data_cutoff_date``            yes      analysis data cut-off; the same in every row
=============================== ======== =============================================

Dates are ISO 8601 calendar dates (``YYYY-MM-DD``); an optional date is left empty.
Rows are checked one by one and the first problem is reported as one line naming the
file, the row (the header is row 1), the column and why: unknown or missing columns,
empty or duplicate ``patient_id``, unparsable dates, a death, last contact or new
therapy before the first dose, last contact after death, first dose after the
cut-off, and a cut-off that differs between rows. Dates after the cut-off are legal
(the endpoints ignore them).
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist_app.endpoints.errors import EndpointError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

__all__ = [
    "CLINICAL_COLUMNS",
    "ClinicalRecord",
    "clinical_csv_text",
    "parse_clinical_csv",
    "read_clinical_csv",
    "write_clinical_csv",
]

CLINICAL_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "first_dose_date",
    "death_date",
    "last_known_alive_date",
    "new_anticancer_therapy_date",
    "data_cutoff_date",
)
_REQUIRED = frozenset({"patient_id", "first_dose_date", "data_cutoff_date"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ClinicalRecord:
    """One patient's clinical dates (docs/standards.md 3.1).

    ``source`` and ``row`` say where the record came from, so later checks (an
    unknown patient, say) can name the row; both are empty for records built in code.
    """

    patient_id: str
    first_dose_date: datetime.date
    data_cutoff_date: datetime.date
    death_date: datetime.date | None = None
    last_known_alive_date: datetime.date | None = None
    new_anticancer_therapy_date: datetime.date | None = None
    source: str = ""
    row: int = 0

    def __post_init__(self) -> None:
        where = self.where
        if not isinstance(self.patient_id, str) or not self.patient_id.strip():
            raise EndpointError(f"{where}, column patient_id: empty patient id")
        checks = (
            ("death_date", self.death_date, "death"),
            ("last_known_alive_date", self.last_known_alive_date, "last contact"),
            (
                "new_anticancer_therapy_date",
                self.new_anticancer_therapy_date,
                "new anticancer therapy",
            ),
        )
        for column, value, what in checks:
            if value is not None and value < self.first_dose_date:
                raise EndpointError(
                    f"{where}, column {column}: {what} {value.isoformat()} is before "
                    f"the first dose {self.first_dose_date.isoformat()}"
                )
        if self.first_dose_date > self.data_cutoff_date:
            raise EndpointError(
                f"{where}, column first_dose_date: first dose "
                f"{self.first_dose_date.isoformat()} is after the data cut-off "
                f"{self.data_cutoff_date.isoformat()}"
            )
        if (
            self.death_date is not None
            and self.last_known_alive_date is not None
            and self.last_known_alive_date > self.death_date
        ):
            raise EndpointError(
                f"{where}, column last_known_alive_date: last contact "
                f"{self.last_known_alive_date.isoformat()} is after death "
                f"{self.death_date.isoformat()}"
            )

    @property
    def where(self) -> str:
        """``"FILE, row N"`` for messages, or the patient when built in code."""
        if self.source:
            return f"{self.source}, row {self.row}"
        return f"clinical record of patient {self.patient_id!r}"


def read_clinical_csv(path: Path) -> tuple[ClinicalRecord, ...]:
    """Read and validate a clinical file (columns in the module docstring).

    Raises
    ------
    EndpointError
        One line naming the file, row, column and the problem.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise EndpointError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise EndpointError(f"{path}: cannot read: {error}") from None
    return parse_clinical_csv(text, source=str(path))


def parse_clinical_csv(
    text: str, *, source: str = "clinical.csv"
) -> tuple[ClinicalRecord, ...]:
    """Parse the text of a clinical file; see :func:`read_clinical_csv`."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise EndpointError(f"{source}: empty file, expected a header row") from None
    except csv.Error as error:
        raise EndpointError(f"{source}, row 1: not valid CSV: {error}") from None
    columns = _check_header([name.strip() for name in header], source)
    records: list[ClinicalRecord] = []
    seen: dict[str, int] = {}
    cutoff: tuple[datetime.date, int] | None = None
    row_number = 1
    try:
        for row_number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            record = _record(cells, columns, source, row_number)
            if record.patient_id in seen:
                raise EndpointError(
                    f"{source}, row {row_number}, column patient_id: patient "
                    f"{record.patient_id!r} already in row {seen[record.patient_id]}"
                )
            seen[record.patient_id] = row_number
            if cutoff is None:
                cutoff = (record.data_cutoff_date, row_number)
            elif record.data_cutoff_date != cutoff[0]:
                raise EndpointError(
                    f"{source}, row {row_number}, column data_cutoff_date: "
                    f"{record.data_cutoff_date.isoformat()} differs from "
                    f"{cutoff[0].isoformat()} in row {cutoff[1]}; one analysis has "
                    "one cut-off"
                )
            records.append(record)
    except csv.Error as error:
        raise EndpointError(
            f"{source}, row {row_number + 1}: not valid CSV: {error}"
        ) from None
    if not records:
        raise EndpointError(f"{source}: no patient rows after the header")
    return tuple(records)


def _check_header(header: list[str], source: str) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        if name not in CLINICAL_COLUMNS:
            raise EndpointError(
                f"{source}, row 1, column {name!r}: unknown column (expected "
                f"{', '.join(CLINICAL_COLUMNS)})"
            )
        if name in columns:
            raise EndpointError(f"{source}, row 1, column {name}: column twice")
        columns[name] = index
    missing = [name for name in CLINICAL_COLUMNS if name in _REQUIRED - set(columns)]
    if missing:
        raise EndpointError(
            f"{source}, row 1: missing required column(s) {', '.join(missing)}"
        )
    return columns


def _record(
    cells: list[str], columns: dict[str, int], source: str, row: int
) -> ClinicalRecord:
    if len(cells) != len(columns):
        raise EndpointError(
            f"{source}, row {row}: {len(cells)} cells, but the header has "
            f"{len(columns)} columns"
        )

    def cell(name: str) -> str:
        index = columns.get(name)
        return "" if index is None else cells[index].strip()

    def date(name: str) -> datetime.date | None:
        value = cell(name)
        if not value:
            if name in _REQUIRED:
                raise EndpointError(
                    f"{source}, row {row}, column {name}: empty, a date is required"
                )
            return None
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise EndpointError(
                f"{source}, row {row}, column {name}: {value!r} is not a date "
                "(expected YYYY-MM-DD)"
            ) from None

    patient_id = cell("patient_id")
    if not patient_id:
        raise EndpointError(f"{source}, row {row}, column patient_id: empty")
    first_dose = date("first_dose_date")
    cutoff = date("data_cutoff_date")
    if first_dose is None or cutoff is None:  # unreachable: required columns
        raise EndpointError(f"{source}, row {row}: a required date is missing")
    return ClinicalRecord(
        patient_id=patient_id,
        first_dose_date=first_dose,
        data_cutoff_date=cutoff,
        death_date=date("death_date"),
        last_known_alive_date=date("last_known_alive_date"),
        new_anticancer_therapy_date=date("new_anticancer_therapy_date"),
        source=source,
        row=row,
    )


def clinical_csv_text(records: Iterable[ClinicalRecord]) -> str:
    """The clinical file for ``records`` (all columns, ISO dates, LF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CLINICAL_COLUMNS)
    for record in records:
        writer.writerow(
            [
                record.patient_id,
                _iso(record.first_dose_date),
                _iso(record.death_date),
                _iso(record.last_known_alive_date),
                _iso(record.new_anticancer_therapy_date),
                _iso(record.data_cutoff_date),
            ]
        )
    return buffer.getvalue()


def write_clinical_csv(records: Sequence[ClinicalRecord], path: Path) -> None:
    """Write ``records`` as a clinical file at ``path``."""
    try:
        path.write_text(clinical_csv_text(records), encoding="utf-8")
    except OSError as error:
        raise EndpointError(f"{path}: cannot write: {error.strerror}") from None


def _iso(value: datetime.date | None) -> str:
    return "" if value is None else value.isoformat()
