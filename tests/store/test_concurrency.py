"""Two processes writing one SQLite file: no corruption, no silent loss.

A writer that cannot get the write lock within its busy timeout gets a clear
StoreBusyError and nothing is written; the writer processes retry on it.
"""

from __future__ import annotations

import datetime
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recist_app.recist import (
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    Reading,
    TimePoint,
    record_measurement,
)
from recist_app.store import StoreBusyError, open_store
from tests.store.writer_process import PATIENT, long_axis_mm

REPO_ROOT = Path(__file__).resolve().parents[2]
VISITS = 8
LESIONS_PER_WRITER = 3


def _shared_reading() -> Reading:
    return Reading(
        patient_id=PATIENT,
        reader="dr-share",
        lesions=tuple(
            Lesion(lesion_id=f"T{i:02d}", role=LesionRole.TARGET, organ=f"organ {i}")
            for i in range(1, 2 * LESIONS_PER_WRITER + 1)
        ),
        timepoints=tuple(
            TimePoint(
                visit=f"V{i:02d}",
                date=datetime.date(2024, 1, 1) + datetime.timedelta(days=30 * i),
            )
            for i in range(VISITS)
        ),
    )


def _writer(
    url: str, first_lesion: int, go: Path, busy_s: float
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.store.writer_process",
            "share",
            url,
            "dr-share",
            str(first_lesion),
            str(LESIONS_PER_WRITER),
            str(go),
            str(busy_s),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("busy_s", [10.0, 0.001], ids=["waits", "busy-retries"])
def test_two_processes_writing_the_same_reading_keep_every_measurement(
    database_path: Path, tmp_path: Path, busy_s: float
) -> None:
    url = f"sqlite:///{database_path}"
    with open_store(url) as store:
        store.readings.save(_shared_reading())
    go = tmp_path / "go"
    writers = [
        _writer(url, 1, go, busy_s),
        _writer(url, 1 + LESIONS_PER_WRITER, go, busy_s),
    ]
    outputs: list[list[str]] = []
    try:
        for writer in writers:
            assert writer.stdout is not None
            assert writer.stdout.readline() == "ready\n"
        go.touch()  # both start writing at the same moment
        for writer in writers:
            out, err = writer.communicate(timeout=120)
            assert writer.returncode == 0, err
            outputs.append(out.splitlines())
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.communicate()
    saved = [line for out in outputs for line in out if line.startswith("saved ")]
    busy = [line for out in outputs for line in out if line.startswith("busy ")]
    assert len(saved) == 2 * LESIONS_PER_WRITER * VISITS
    for line in busy:
        assert "is busy: another program held its write lock" in line
    connection = sqlite3.connect(database_path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        connection.close()
    with open_store(url) as store:
        reading = store.readings.load(PATIENT, Criteria.RECIST_1_1, "dr-share")
        for line in saved:
            _, visit, lesion_id, value = line.split()
            assert reading.timepoint(visit).measurement(lesion_id) == Measurement(
                lesion_id=lesion_id, long_axis_mm=float(value)
            )
        for index, timepoint in enumerate(reading.timepoints):
            assert len(timepoint.measurements) == 2 * LESIONS_PER_WRITER
            for measurement in timepoint.measurements:
                number = int(measurement.lesion_id[1:])
                assert measurement.long_axis_mm == long_axis_mm(index, number)
        assert store.audit.verify().ok
        assert store.readings.record(PATIENT, "RECIST 1.1", "dr-share").revision == (
            1 + len(saved)
        )
    print(  # noqa: T201 - the figures for the record (pytest -s shows them)
        f"\nbusy timeout {busy_s} s: {len(saved)} measurements from 2 processes, "
        f"{len(busy)} busy errors retried, all present"
    )


def test_a_writer_blocked_past_its_timeout_gets_a_clear_busy_error(
    database_path: Path, reading: Reading
) -> None:
    url = f"sqlite:///{database_path}"
    remeasured = Measurement(lesion_id="T01", long_axis_mm=12.0)
    with open_store(url, busy_timeout_s=0.2) as store:
        store.readings.save(reading)
        holder = sqlite3.connect(database_path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # another program holds the lock
            started = time.monotonic()
            with pytest.raises(StoreBusyError) as caught:
                store.readings.update(
                    "HCC-001",
                    "RECIST 1.1",
                    "dr-a",
                    lambda r: record_measurement(r, "WEEK 6", remeasured),
                )
            waited = time.monotonic() - started
            message = str(caught.value)
            assert (
                "is busy: another program held its write lock for more than 0.2 s"
                in (message)
            )
            assert "nothing was saved, try again" in message
            assert "\n" not in message
            assert 0.15 < waited < 5.0
            # Reading still works while the lock is held (WAL).
            assert store.readings.load("HCC-001", "RECIST 1.1", "dr-a") == reading
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        store.readings.update(
            "HCC-001",
            "RECIST 1.1",
            "dr-a",
            lambda r: record_measurement(r, "WEEK 6", remeasured),
        )
        week6 = store.readings.load("HCC-001", "RECIST 1.1", "dr-a").timepoint("WEEK 6")
        assert week6.measurement("T01") == Measurement(
            lesion_id="T01", long_axis_mm=12.0
        )
        assert store.audit.verify().ok


@pytest.mark.slow
def test_programs_opening_a_new_database_at_once_create_it_once(
    database_path: Path,
) -> None:
    url = f"sqlite:///{database_path}"
    script = (
        "import sys; from recist_app.store import open_store; "
        "open_store(sys.argv[1]).close(); print('opened')"
    )
    openers = [
        subprocess.Popen(
            [sys.executable, "-c", script, url],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for opener in openers:
        out, err = opener.communicate(timeout=120)
        assert (opener.returncode, out) == (0, "opened\n"), err
    with open_store(url) as store:
        assert store.audit.verify().ok
    connection = sqlite3.connect(database_path)
    try:
        assert connection.execute(
            "SELECT count(*) FROM alembic_version"
        ).fetchone() == (1,)
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        connection.close()
