"""Benchmark: how long one measurement takes to be saved, as a reading grows.

Every measurement is saved the moment it is made (issue 4), so the save must stay
well under what a radiologist notices (~100 ms) even late in a long reading. The
peer measured in the same run is the floor of any durable save on this disk: one
raw ``sqlite3`` INSERT + COMMIT in WAL mode with ``synchronous=FULL`` (one fsync).
The ratio says what diffing, auditing and caching cost on top of that fsync.

Run: ``.venv/bin/python benchmarks/bench_store.py [--visits N]``.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from recist_app.recist import (
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    Reading,
    TimePoint,
    add_timepoint,
    record_measurement,
)
from recist_app.store import open_store

TARGETS = 5
GOAL_MS = 100.0


def _raw_commit_ms(folder: Path, count: int) -> list[float]:
    connection = sqlite3.connect(folder / "raw.sqlite3", isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("CREATE TABLE m (visit TEXT, lesion TEXT, mm REAL)")
        times = []
        for index in range(count):
            started = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO m VALUES (?, 'T01', ?)", (str(index), 1.0))
            connection.execute("COMMIT")
            times.append((time.perf_counter() - started) * 1000)
        return times
    finally:
        connection.close()


def _store_save_ms(folder: Path, visits: int) -> dict[int, list[float]]:
    reading = Reading(
        patient_id="BENCH-001",
        reader="bench",
        lesions=tuple(
            Lesion(lesion_id=f"T{i:02d}", role=LesionRole.TARGET, organ=f"organ {i}")
            for i in range(1, TARGETS + 1)
        ),
    )
    by_visit: dict[int, list[float]] = {}
    with open_store(f"sqlite:///{folder / 'store.sqlite3'}") as store:
        store.readings.save(reading)
        for index in range(visits):
            visit = f"V{index:02d}"
            timepoint = TimePoint(
                visit=visit,
                date=datetime.date(2024, 1, 1) + datetime.timedelta(days=28 * index),
            )
            store.readings.update(
                "BENCH-001",
                Criteria.RECIST_1_1,
                "bench",
                functools.partial(add_timepoint, timepoint=timepoint),
            )
            times = []
            for number in range(1, TARGETS + 1):
                measurement = Measurement(
                    lesion_id=f"T{number:02d}", long_axis_mm=20.0 + index + number
                )
                started = time.perf_counter()
                store.readings.update(
                    "BENCH-001",
                    Criteria.RECIST_1_1,
                    "bench",
                    functools.partial(
                        record_measurement, visit=visit, measurement=measurement
                    ),
                )
                times.append((time.perf_counter() - started) * 1000)
            by_visit[index + 1] = times
    return by_visit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=24)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        raw = statistics.median(_raw_commit_ms(folder, 50))
        by_visit = _store_save_ms(folder, args.visits)
    print(f"raw sqlite3 INSERT+COMMIT (WAL, synchronous=FULL): median {raw:.2f} ms")
    print("readings.update, median per visit count (5 targets each):")
    for visits in (1, args.visits // 2, args.visits):
        median = statistics.median(by_visit[visits])
        print(
            f"  {visits:3d} visits: {median:7.2f} ms = {median / raw:5.1f} x raw commit"
        )
    worst = max(max(times) for times in by_visit.values())
    verdict = "OK" if worst <= GOAL_MS else "SLOW"
    print(f"worst single save {worst:.1f} ms (goal <= {GOAL_MS:.0f} ms): {verdict}")


if __name__ == "__main__":
    main()
