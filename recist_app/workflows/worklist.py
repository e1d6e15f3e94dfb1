"""The worklist: ``recist-app reading list`` and the workstation's patient list.

:func:`reading_worklist` gives one row per stored reading;
:func:`patient_list` and :func:`patient_studies` what the patient list shows.

Each row shows the patient, criteria, reader, the reading's central-review role,
status (draft or signed), how many visits are read out of those known, the latest
overall response and the best overall response so far, and for a centrally read
patient each primary reader's status and the discordance with its reason
(:mod:`recist_app.workflows.central_reading`), as a text table or as CSV. Who
is looking (``viewer``) decides which readings are listed: the blinding rule
(:func:`~recist_app.workflows.central_reading.visible_records`). A visit is read
when it has a finding or the reader's "no disease"
(:attr:`recist_app.recist.TimePoint.is_read`); a visit not read has no response,
so a reading none of whose visits is read shows ``0/4`` and ``-``, never "NED".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist_app.recist import ReaderRole, ReadingError
from recist_app.store import PatientSummary, StoredSeries, StoredStudy
from recist_app.workflows.central_reading import (
    CentralStatus,
    Viewer,
    central_statuses,
    visible_records,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from recist_app.recist import Reading
    from recist_app.store import Store

__all__ = [
    "PatientSummary",
    "StoredSeries",
    "StoredStudy",
    "WorklistRow",
    "central_review_by_patient",
    "patient_list",
    "patient_studies",
    "reading_worklist",
    "worklist_csv_text",
    "worklist_table_text",
]

_MISSING = "-"
_COLUMNS = (
    ("patient_id", "patient"),
    ("criteria", "criteria"),
    ("reader", "reader"),
    ("role", "role"),
    ("status", "status"),
    ("visits_read", "visits read"),
    ("latest_overall_response", "latest response"),
    ("bor_so_far", "BOR so far"),
    ("central_review", "central review"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorklistRow:
    """One reading on the worklist.

    Parameters
    ----------
    visits_read
        Visits read: a finding recorded, or the reader's "no disease".
    visits_total
        Visits known for the patient: the reading's visits or the indexed
        studies, whichever are more.
    latest_overall_response, bor_so_far
        Response codes (``PR``, ``iUPD``, ...) of the latest follow-up read and
        the best overall response; ``"-"`` while no follow-up is read (or the
        baseline is not) or when the rules cannot assess the reading.
    """

    patient_id: str
    criteria: str
    reader: str
    status: str
    visits_read: int
    visits_total: int
    latest_overall_response: str
    bor_so_far: str
    role: str = "single"
    central_review: str = ""

    def cells(self) -> tuple[str, ...]:
        """The row's values as text, in column order."""
        return (
            self.patient_id,
            self.criteria,
            self.reader,
            self.role,
            self.status,
            f"{self.visits_read}/{self.visits_total}",
            self.latest_overall_response,
            self.bor_so_far,
            self.central_review,
        )


def _visits_read(reading: Reading) -> int:
    return sum(1 for timepoint in reading.timepoints if timepoint.is_read)


def _central_text(status: CentralStatus) -> str:
    """``reader 1 signed, reader 2 draft; discordant: BOR PR vs SD``."""
    text = ", ".join(
        f"{role.value} {status.status_of(role)}"
        for role in (ReaderRole.READER_1, ReaderRole.READER_2)
    )
    if status.discordant is None:
        return text
    if not status.discordant:
        return f"{text}; concordant"
    decision = status.decision
    outcome = (
        "adjudication pending"
        if decision is None
        else f"adjudicated: {decision.accepted_role.value} accepted"
    )
    return f"{text}; discordant: {status.reason}; {outcome}"


def reading_worklist(
    store: Store, *, viewer: Viewer | None = None
) -> tuple[WorklistRow, ...]:
    """The stored readings ``viewer`` may see, by patient, criteria and reader.

    Responses come from the store's response cache when it is current. Without
    ``viewer`` every reading is listed (a site read's view).
    """
    rows: list[WorklistRow] = []
    studies: dict[str, int] = {}
    records = store.readings.list()
    if viewer is not None:
        records = visible_records(store, viewer, records)
    central = {(s.patient_id, s.criteria): s for s in central_statuses(store)}
    for record in records:
        reading = store.readings.load(record.patient_id, record.criteria, record.reader)
        if record.patient_id not in studies:
            studies[record.patient_id] = len(store.images.studies(record.patient_id))
        latest = bor = _MISSING
        try:
            assessment = store.responses.load(
                record.patient_id, record.criteria, record.reader
            )
        except ReadingError:
            pass
        else:
            read = [t.overall_response for t in assessment.timepoints]
            responses = [response for response in read if response is not None]
            if responses and assessment.baseline.read:
                latest = responses[-1].value
                bor = assessment.best_overall_response.response.value
        rows.append(
            WorklistRow(
                patient_id=record.patient_id,
                criteria=record.criteria.value,
                reader=record.reader,
                status=record.status.value,
                visits_read=_visits_read(reading),
                visits_total=max(len(reading.timepoints), studies[record.patient_id]),
                latest_overall_response=latest,
                bor_so_far=bor,
                role=record.reader_role.value,
                central_review=(
                    _central_text(central[record.patient_id, record.criteria])
                    if (record.patient_id, record.criteria) in central
                    else ""
                ),
            )
        )
    return tuple(rows)


def worklist_csv_text(rows: Sequence[WorklistRow]) -> str:
    """The worklist as CSV with a header row (``visits_read`` as ``n/m``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(name for name, _title in _COLUMNS)
    for row in rows:
        writer.writerow(row.cells())
    return buffer.getvalue()


def worklist_table_text(rows: Sequence[WorklistRow]) -> str:
    """The worklist as an aligned text table (``no readings`` when empty)."""
    if not rows:
        return "no readings in the database\n"
    table = [tuple(title for _name, title in _COLUMNS), *(r.cells() for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(_COLUMNS))]
    lines = (
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in table
    )
    return "".join(line.rstrip() + "\n" for line in lines)


def central_review_by_patient(store: Store) -> dict[str, str]:
    """Each centrally read patient's review in one line, for the patient list.

    ``reader 1 signed, reader 2 draft`` while reading; then ``concordant`` or
    ``discordant: BOR PR vs SD; adjudication pending`` (by criteria set when a
    patient has several).
    """
    texts: dict[str, list[str]] = {}
    for status in central_statuses(store):
        texts.setdefault(status.patient_id, []).append(_central_text(status))
    return {patient: " | ".join(lines) for patient, lines in texts.items()}


def patient_list(store: Store) -> tuple[PatientSummary, ...]:
    """Every patient with a reading or an imported study, by patient id."""
    return store.patients()


def patient_studies(store: Store, patient_id: str) -> tuple[StoredStudy, ...]:
    """The indexed studies of a patient, oldest first, with their series."""
    return store.images.studies(patient_id)
