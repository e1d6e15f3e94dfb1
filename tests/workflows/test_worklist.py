"""The worklist counts visits read and never shows "NED" for visits not read (A8)."""

from __future__ import annotations

import dataclasses
import datetime
from typing import TYPE_CHECKING

import pytest

from recist_app.recist import Reading, TimePoint
from recist_app.store import open_store
from recist_app.workflows.worklist import reading_worklist, worklist_csv_text

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from recist_app.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'readings.sqlite3'}") as opened:
        yield opened


def _empty(patient_id: str, *, no_disease: bool = False) -> Reading:
    start = datetime.date(2024, 1, 1)
    return Reading(
        patient_id=patient_id,
        reader="dr-a",
        timepoints=tuple(
            TimePoint(
                visit="BASELINE" if n == 0 else f"WEEK {4 * n}",
                date=start + datetime.timedelta(weeks=4 * n),
                is_baseline=n == 0,
                no_disease=no_disease,
            )
            for n in range(4)
        ),
    )


# (reading, visits read, latest response, BOR so far)
WORKLIST = [
    ("nothing-read", _empty("P-1"), "0/4", "-", "-"),
    ("no-disease-recorded", _empty("P-2", no_disease=True), "4/4", "NED", "NED"),
]


@pytest.mark.parametrize(
    ("reading", "read", "latest", "bor"),
    [row[1:] for row in WORKLIST],
    ids=[row[0] for row in WORKLIST],
)
def test_A8_the_worklist_shows_visits_not_read_as_not_read(
    store: Store, reading: Reading, read: str, latest: str, bor: str
) -> None:
    store.readings.save(reading, user="dr-a")
    (row,) = reading_worklist(store)
    assert row.cells()[5:] == (read, latest, bor, "")
    assert (
        f"{reading.patient_id},RECIST 1.1,dr-a,single,draft,{read},{latest},{bor},"
    ) in worklist_csv_text([row])


def test_A8_a_missed_follow_up_is_not_the_latest_response(store: Store) -> None:
    reading = _empty("P-3", no_disease=True)
    missed = dataclasses.replace(reading.timepoints[3], no_disease=False)
    store.readings.save(
        dataclasses.replace(reading, timepoints=(*reading.timepoints[:3], missed)),
        user="dr-a",
    )
    (row,) = reading_worklist(store)
    assert row.cells()[5:] == ("3/4", "NED", "NED", "")
