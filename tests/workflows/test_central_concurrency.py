"""Several workstations on one database: two readers and the adjudicator at once.

Reader 1 and reader 2 each save their read of the same patient visit by visit
and sign it, in processes of their own, while a third process (the adjudicator)
lists the discordant patients again and again. Nothing is lost (every visit of
both reads is stored, both are signed, the audit trail verifies), the listing
never waits for the writers (its slowest round stays under
:data:`SLOWEST_LISTING_S`, generous for a loaded 2-core machine; the app runs it
in the background anyway), and the adjudicator sees the discordance once both
reads are signed. On SQLite (WAL: readers never wait for the writer) and on
PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recist_app.recist import Criteria, ReaderRole
from recist_app.store import ReadingStatus, open_store
from recist_app.workflows.central_reading import adjudication_list
from tests.workflows.central_process import PATIENT, READERS, SIZES

if TYPE_CHECKING:
    from collections.abc import Sequence

REPO_ROOT = Path(__file__).parents[2]
VISITS = len(SIZES[ReaderRole.READER_1])
SLOWEST_LISTING_S = 5.0


def _start(args: Sequence[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.workflows.central_process", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_readers_and_the_adjudicator_at_once_lose_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'readings.sqlite3'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    with open_store(url):
        pass  # created and migrated once, before the workstations start
    go = tmp_path / "go"
    processes = [
        _start(["read", url, str(go), role.value, str(VISITS)]) for role in READERS
    ]
    processes.append(_start(["adjudicate", url, str(go)]))
    go.touch()
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
        outputs.append(out.splitlines())
    for lines in outputs[:2]:
        assert lines == [*(f"saved {n}" for n in range(1, VISITS + 1)), "signed"]
    listed, discordant = outputs[2]
    slowest = float(listed.split()[-1])
    assert slowest < SLOWEST_LISTING_S, listed
    assert discordant == "discordant True"
    with open_store(url) as store:
        for role, reader in READERS.items():
            record = store.readings.record(PATIENT, Criteria.RECIST_1_1, reader)
            assert record.status is ReadingStatus.SIGNED
            assert record.reader_role is role
            reading = store.readings.load(PATIENT, Criteria.RECIST_1_1, reader)
            sizes = [t.measurements[0].long_axis_mm for t in reading.timepoints]
            assert tuple(sizes) == SIZES[role]
        (status,) = adjudication_list(store)
        assert status.reason == "BOR PR vs SD"
        assert store.audit.verify().ok
