"""Adverse events: the AE file, treatment emergence and the safety summary.

The file is CSV (UTF-8, comma separated, one header row), one row per event:

=============== ======== ====================================================
column          required meaning
=============== ======== ====================================================
``patient_id``  yes      a patient of the clinical file
``term``        yes      CTCAE v5 term (``Hypertension``)
``soc``         no       system organ class; may be empty
``grade``       yes      CTCAE grade 1–5
``start_date``  yes      onset, ``YYYY-MM-DD``
``end_date``    no       resolution, on or after the start; empty if ongoing
``serious``     yes      ``Y`` or ``N``
``related``     yes      ``Y`` or ``N``: related to study treatment
``action``      no       action taken with study treatment: ``none``,
                         ``interrupted``, ``reduced``, ``discontinued``; may be
                         empty
=============== ======== ====================================================

The first problem is one line naming the file, the row (the header is row 1) and
the column: unknown or missing columns, an empty term, a grade outside 1–5, an
unparsable date, an end before the start, a value other than Y/N, an unknown
action, and (:func:`check_adverse_events`) a patient without a clinical row or a
term given under two system organ classes.

**Treatment-emergent** (docs/standards.md 3.7): started on or after the patient's
first dose and on or before the data cut-off; the other rows are excluded and
counted (``excluded_not_treatment_emergent``, rows). The **safety population** is
every patient of the clinical file (each has a first dose). In the summary each
patient counts once per term, at the worst grade of that term; percentages are of
the safety population, one decimal.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from recist_app.endpoints.errors import EndpointError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path

    from recist_app.endpoints.subject import SubjectEndpoints

__all__ = [
    "ADVERSE_EVENT_COLUMNS",
    "GRADES",
    "AdverseEvent",
    "AeAction",
    "SafetySummary",
    "TermSummary",
    "adverse_events_csv_text",
    "check_adverse_events",
    "is_treatment_emergent",
    "parse_adverse_events_csv",
    "read_adverse_events_csv",
    "summarise_adverse_events",
]

ADVERSE_EVENT_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "term",
    "soc",
    "grade",
    "start_date",
    "end_date",
    "serious",
    "related",
    "action",
)
_REQUIRED = frozenset(
    {"patient_id", "term", "grade", "start_date", "serious", "related"}
)
GRADES: tuple[int, ...] = (1, 2, 3, 4, 5)
"""CTCAE v5 grades: mild, moderate, severe, life-threatening, death."""


class AeAction(StrEnum):
    """Action taken with study treatment because of the event."""

    NONE = "none"
    INTERRUPTED = "interrupted"
    REDUCED = "reduced"
    DISCONTINUED = "discontinued"


@dataclass(frozen=True, slots=True, kw_only=True)
class AdverseEvent:
    """One adverse event row; ``source`` and ``row`` say where it was read."""

    patient_id: str
    term: str
    grade: int
    start_date: datetime.date
    soc: str = ""
    end_date: datetime.date | None = None
    serious: bool = False
    related: bool = False
    action: AeAction | None = None
    source: str = ""
    row: int = 0

    def __post_init__(self) -> None:
        where = self.where
        if not isinstance(self.patient_id, str) or not self.patient_id.strip():
            raise EndpointError(f"{where}, column patient_id: empty patient id")
        if not isinstance(self.term, str) or not self.term.strip():
            raise EndpointError(f"{where}, column term: empty term")
        if (
            isinstance(self.grade, bool)
            or not isinstance(self.grade, int)
            or self.grade not in GRADES
        ):
            raise EndpointError(
                f"{where}, column grade: {self.grade!r} is not a CTCAE grade (1–5)"
            )
        if self.end_date is not None and self.end_date < self.start_date:
            raise EndpointError(
                f"{where}, column end_date: end {self.end_date.isoformat()} is "
                f"before the start {self.start_date.isoformat()}"
            )
        if self.action is not None:
            object.__setattr__(self, "action", AeAction(self.action))

    @property
    def where(self) -> str:
        """``"FILE, row N"`` for messages, or the patient and term in code."""
        if self.source:
            return f"{self.source}, row {self.row}"
        return f"adverse event {self.term!r} of patient {self.patient_id!r}"


def is_treatment_emergent(
    event: AdverseEvent, first_dose: datetime.date, cutoff: datetime.date
) -> bool:
    """Started on or after the first dose and on or before the data cut-off.

    >>> event = AdverseEvent(
    ...     patient_id="A", term="Fatigue", grade=1,
    ...     start_date=datetime.date(2024, 3, 4))
    >>> is_treatment_emergent(
    ...     event, datetime.date(2024, 3, 4), datetime.date(2024, 12, 31))
    True
    """
    return first_dose <= event.start_date <= cutoff


# ------------------------------------------------------------------ the file


def read_adverse_events_csv(path: Path) -> tuple[AdverseEvent, ...]:
    """Read and check an adverse event file (columns in the module docstring).

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
    return parse_adverse_events_csv(text, source=str(path))


def parse_adverse_events_csv(
    text: str, *, source: str = "adverse_events.csv"
) -> tuple[AdverseEvent, ...]:
    """Parse the text of an adverse event file; see :func:`read_adverse_events_csv`.

    A file with a header and no rows is legal: no adverse events were reported.
    """
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise EndpointError(f"{source}: empty file, expected a header row") from None
    except csv.Error as error:
        raise EndpointError(f"{source}, row 1: not valid CSV: {error}") from None
    columns = _check_header([name.strip() for name in header], source)
    events: list[AdverseEvent] = []
    row_number = 1
    try:
        for row_number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            events.append(_event(cells, columns, source, row_number))
    except csv.Error as error:
        raise EndpointError(
            f"{source}, row {row_number + 1}: not valid CSV: {error}"
        ) from None
    return tuple(events)


def _check_header(header: list[str], source: str) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        if name not in ADVERSE_EVENT_COLUMNS:
            raise EndpointError(
                f"{source}, row 1, column {name!r}: unknown column (expected "
                f"{', '.join(ADVERSE_EVENT_COLUMNS)})"
            )
        if name in columns:
            raise EndpointError(f"{source}, row 1, column {name}: column twice")
        columns[name] = index
    missing = [c for c in ADVERSE_EVENT_COLUMNS if c in _REQUIRED - set(columns)]
    if missing:
        raise EndpointError(
            f"{source}, row 1: missing required column(s) {', '.join(missing)}"
        )
    return columns


@dataclass(frozen=True, slots=True)
class _Row:
    """One row's cells by column name, with the row's messages."""

    cells: list[str]
    columns: dict[str, int]
    source: str
    row: int

    def where(self, name: str) -> str:
        return f"{self.source}, row {self.row}, column {name}"

    def cell(self, name: str) -> str:
        index = self.columns.get(name)
        return "" if index is None else self.cells[index].strip()

    def required(self, name: str) -> str:
        value = self.cell(name)
        if not value:
            raise EndpointError(f"{self.where(name)}: empty, a value is required")
        return value

    def date(self, name: str) -> datetime.date | None:
        value = self.required(name) if name in _REQUIRED else self.cell(name)
        if not value:
            return None
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise EndpointError(
                f"{self.where(name)}: {value!r} is not a date (expected YYYY-MM-DD)"
            ) from None

    def flag(self, name: str) -> bool:
        value = self.required(name)
        if value.upper() not in ("Y", "N"):
            raise EndpointError(f"{self.where(name)}: {value!r} is not Y or N")
        return value.upper() == "Y"

    def grade(self) -> int:
        text = self.required("grade")
        if text not in {str(g) for g in GRADES}:
            raise EndpointError(
                f"{self.where('grade')}: {text!r} is not a CTCAE grade (1–5)"
            )
        return int(text)

    def action(self) -> AeAction | None:
        text = self.cell("action")
        if not text:
            return None
        try:
            return AeAction(text.lower())
        except ValueError:
            raise EndpointError(
                f"{self.where('action')}: unknown action {text!r} (expected "
                f"{', '.join(a.value for a in AeAction)}, or empty)"
            ) from None


def _event(
    cells: list[str], columns: dict[str, int], source: str, row: int
) -> AdverseEvent:
    if len(cells) != len(columns):
        raise EndpointError(
            f"{source}, row {row}: {len(cells)} cells, but the header has "
            f"{len(columns)} columns"
        )
    read = _Row(cells, columns, source, row)
    patient_id = read.required("patient_id")
    term = read.required("term")
    grade = read.grade()
    start = read.date("start_date")
    if start is None:  # unreachable: a required column
        raise EndpointError(f"{read.where('start_date')}: empty, a date is required")
    end = read.date("end_date")
    if end is not None and end < start:
        raise EndpointError(
            f"{read.where('end_date')}: end {end.isoformat()} is before the start "
            f"{start.isoformat()}"
        )
    return AdverseEvent(
        patient_id=patient_id,
        term=term,
        soc=read.cell("soc"),
        grade=grade,
        start_date=start,
        end_date=end,
        serious=read.flag("serious"),
        related=read.flag("related"),
        action=read.action(),
        source=source,
        row=row,
    )


def check_adverse_events(
    events: Iterable[AdverseEvent],
    patients: Iterable[str],
    *,
    what: str = "the clinical data",
) -> None:
    """Every event's patient is a trial patient; each term has one SOC.

    Parameters
    ----------
    events
        The rows to check.
    patients
        The patient ids of the clinical data.
    what
        Names the clinical data in the message ("the clinical file").

    Raises
    ------
    EndpointError
        One line naming the first offending row and column.
    """
    known = set(patients)
    soc_of: dict[str, tuple[str, AdverseEvent]] = {}
    for event in events:
        if event.patient_id not in known:
            raise EndpointError(
                f"{event.where}, column patient_id: unknown patient "
                f"{event.patient_id!r}, not in {what}"
            )
        if not event.soc:
            continue
        first = soc_of.setdefault(event.term, (event.soc, event))
        if first[0] != event.soc:
            other = f"row {first[1].row}" if first[1].row else "another row"
            raise EndpointError(
                f"{event.where}, column soc: term {event.term!r} is under "
                f"{event.soc!r} here and under {first[0]!r} in {other}"
            )


def adverse_events_csv_text(events: Iterable[AdverseEvent]) -> str:
    """The adverse event file for ``events`` (all columns, LF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ADVERSE_EVENT_COLUMNS)
    for event in events:
        writer.writerow(
            [
                event.patient_id,
                event.term,
                event.soc,
                event.grade,
                event.start_date.isoformat(),
                "" if event.end_date is None else event.end_date.isoformat(),
                "Y" if event.serious else "N",
                "Y" if event.related else "N",
                "" if event.action is None else event.action.value,
            ]
        )
    return buffer.getvalue()


# ------------------------------------------------------------------ the summary


@dataclass(frozen=True, slots=True, kw_only=True)
class TermSummary:
    """One term's row of the safety table: patients, each at their worst grade.

    ``worst_grade_counts[g - 1]`` is the number of patients whose worst grade of
    this term is ``g``.
    """

    term: str
    soc: str
    any_grade_n: int
    grade_3_plus_n: int
    related_n: int
    worst_grade_counts: tuple[int, int, int, int, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetySummary:
    """The treatment-emergent adverse events of one analysis.

    ``events`` holds every row given, ``treatment_emergent`` says for each
    whether it counts; ``by_term`` is sorted by frequency, then term.
    """

    safety_population: int
    excluded_not_treatment_emergent: int
    patients_with_any: int
    patients_grade_3_plus: int
    patients_serious: int
    patients_related: int
    patients_leading_to_discontinuation: int
    patients_grade_5: int
    by_term: tuple[TermSummary, ...]
    events: tuple[AdverseEvent, ...]
    treatment_emergent: tuple[bool, ...]

    def percent(self, count: int) -> float | None:
        """``count`` as a percentage of the safety population, one decimal."""
        if not self.safety_population:
            return None
        return round(100 * count / self.safety_population, 1)

    @property
    def emergent_events(self) -> tuple[AdverseEvent, ...]:
        """The treatment-emergent rows, in file order."""
        return tuple(
            event
            for event, emergent in zip(
                self.events, self.treatment_emergent, strict=True
            )
            if emergent
        )


def summarise_adverse_events(
    events: Sequence[AdverseEvent],
    subjects: Sequence[SubjectEndpoints],
    data_cutoff_date: datetime.date,
) -> SafetySummary:
    """The safety summary of ``events`` for the patients of ``subjects``.

    Parameters
    ----------
    events
        Every adverse event row.
    subjects
        The trial's patients (the safety population) with their first dose.
    data_cutoff_date
        Events starting after it are not treatment-emergent.

    Raises
    ------
    EndpointError
        An event of a patient who is not in ``subjects``, or a term under two
        system organ classes.
    """
    first_dose = {s.patient_id: s.first_dose_date for s in subjects}
    check_adverse_events(events, first_dose)
    flags = tuple(
        is_treatment_emergent(e, first_dose[e.patient_id], data_cutoff_date)
        for e in events
    )
    emergent = [e for e, keep in zip(events, flags, strict=True) if keep]
    soc_of = {e.term: e.soc for e in events if e.soc}
    worst: dict[str, dict[str, int]] = defaultdict(dict)
    related: dict[str, set[str]] = defaultdict(set)
    for event in emergent:
        by_patient = worst[event.term]
        by_patient[event.patient_id] = max(
            event.grade, by_patient.get(event.patient_id, 0)
        )
        if event.related:
            related[event.term].add(event.patient_id)
    terms = []
    for term, by_patient in worst.items():
        counts = tuple(
            sum(1 for grade in by_patient.values() if grade == g) for g in GRADES
        )
        terms.append(
            TermSummary(
                term=term,
                soc=soc_of.get(term, ""),
                any_grade_n=len(by_patient),
                grade_3_plus_n=sum(counts[2:]),
                related_n=len(related[term]),
                worst_grade_counts=(
                    counts[0],
                    counts[1],
                    counts[2],
                    counts[3],
                    counts[4],
                ),
            )
        )
    terms.sort(key=lambda t: (-t.any_grade_n, t.term))

    def with_any(condition: Callable[[AdverseEvent], bool]) -> int:
        return len({e.patient_id for e in emergent if condition(e)})

    return SafetySummary(
        safety_population=len(subjects),
        excluded_not_treatment_emergent=len(events) - len(emergent),
        patients_with_any=with_any(lambda _e: True),
        patients_grade_3_plus=with_any(lambda e: e.grade >= 3),
        patients_serious=with_any(lambda e: e.serious),
        patients_related=with_any(lambda e: e.related),
        patients_leading_to_discontinuation=with_any(
            lambda e: e.action is AeAction.DISCONTINUED
        ),
        patients_grade_5=with_any(lambda e: e.grade == 5),
        by_term=tuple(terms),
        events=tuple(events),
        treatment_emergent=flags,
    )
