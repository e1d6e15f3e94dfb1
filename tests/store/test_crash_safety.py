"""Crash safety: a writer killed with SIGKILL at random moments loses nothing saved.

After every kill the database must pass ``PRAGMA integrity_check`` and hold every
measurement whose save call returned (the writer prints a line only after that), and
the audit chain must still verify.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recist_app.recist import Criteria, Measurement
from recist_app.store import open_store
from tests.store.writer_process import PATIENT, crash_reading

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
]

REPO_ROOT = Path(__file__).resolve().parents[2]
KILLS = 22


def _start_writer(url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.writer_process", "crash", url, "dr-crash"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _acknowledged(lines: list[str]) -> dict[tuple[str, str], float]:
    saved: dict[tuple[str, str], float] = {}
    for line in lines:
        if not line.endswith("\n"):
            continue  # killed while printing: not acknowledged
        parts = line.split()
        if parts[0] == "saved":
            saved[parts[1], parts[2]] = float(parts[3])
    return saved


def _integrity(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def test_sigkill_at_random_moments_loses_no_acknowledged_measurement(
    database_path: Path,
) -> None:
    url = f"sqlite:///{database_path}"
    open_store(url).close()
    chance = random.Random(20261124)
    acknowledged: dict[tuple[str, str], float] = {}
    kills = 0
    checks = 0
    started = time.monotonic()
    while kills < KILLS:
        with _start_writer(url) as writer:
            assert writer.stdout is not None
            first = writer.stdout.readline()
            assert first == "ready\n", writer.stderr.read() if writer.stderr else first
            # Once the first write of this run returned, writes go on back to back:
            # a kill after a random delay lands somewhere inside one of them.
            started_writing = writer.stdout.readline()
            assert started_writing.startswith("visit ")
            time.sleep(chance.uniform(0.0, 0.2))
            writer.send_signal(signal.SIGKILL)
            rest = [started_writing, *writer.stdout.readlines()]
            assert writer.wait() == -signal.SIGKILL
        kills += 1
        acknowledged.update(_acknowledged(rest))
        assert _integrity(database_path) == "ok"
        with open_store(url) as store:
            reading = store.readings.load(PATIENT, Criteria.RECIST_1_1, "dr-crash")
            for (visit, lesion_id), value in acknowledged.items():
                assert reading.timepoint(visit).measurement(lesion_id) == Measurement(
                    lesion_id=lesion_id, long_axis_mm=value
                )
            checks += len(acknowledged)
            assert store.audit.verify().ok
    elapsed = time.monotonic() - started
    assert reading.lesions == crash_reading("dr-crash").lesions
    assert acknowledged  # the kills landed while measurements were being saved
    print(  # noqa: T201 - the figures for the record (pytest -s shows them)
        f"\n{kills} SIGKILLs in {elapsed:.1f} s; {len(acknowledged)} acknowledged "
        f"measurements all present ({checks} checks after the kills); "
        f"{len(reading.timepoints)} visits stored"
    )
