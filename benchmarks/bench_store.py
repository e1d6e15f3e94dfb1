"""Benchmark: how long the workstation's autosave takes, as a reading grows.

Every edit is saved the moment it is made, so a save must stay well under what a
radiologist notices, and must not slow down late in a long reading. Readings of 5
target lesions are grown to 1, 12 and 24 visits (each visit added and measured
through the save path) and the app's save path is timed on each:
``store.readings.save`` with the reading saved last as ``base``, its
``base_revision`` and the assessment the document already computed, one
measurement of the last visit changed per save. For comparison the same saves go
through the full diff (no ``base``: the store reads the whole stored reading and
diffs it).

The peer is the floor of any durable save on this disk: one raw ``sqlite3``
INSERT + COMMIT in WAL mode with ``synchronous=FULL`` (one fsync). The saves run
in rounds, one save of each visit count and one raw commit per round, so a change
of the disk's load during the run weighs on every figure alike. Each figure is
printed as a ratio to the raw commit's figure of the same percentile.

With ``--audit-key`` the store has a site audit key, so every audit row also
gets an HMAC (issue 17); the same goals hold.

Run: ``.venv/bin/python benchmarks/bench_store.py [--saves N] [--audit-key]``.
"""

from __future__ import annotations

import argparse
import datetime
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from recist_app.recist import (
    Lesion,
    LesionRole,
    Measurement,
    Reading,
    TimePoint,
    add_timepoint,
    assess,
    record_measurement,
)
from recist_app.store import ReadingRecord, Store, open_store

TARGETS = 5
VISIT_COUNTS = (1, 12, 24)
GOAL_P95_MS = 20.0
GOAL_SPREAD = 1.5  # 1, 12 and 24 visits within this factor of each other
WARM_UP_SAVES = 10


def _percentile(times_ms: list[float], percent: float) -> float:
    ordered = sorted(times_ms)
    index = min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))
    return ordered[index]


@dataclass(frozen=True, slots=True)
class Figures:
    """Median and 95th percentile of one series of timings, in ms."""

    p50_ms: float
    p95_ms: float

    @classmethod
    def of(cls, times_ms: list[float]) -> Figures:
        return cls(statistics.median(times_ms), _percentile(times_ms, 95))


class _RawCommit:
    """The peer: one row inserted and committed with plain ``sqlite3``."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode = WAL")
        self._connection.execute("PRAGMA synchronous = FULL")
        self._connection.execute("CREATE TABLE m (visit TEXT, mm REAL)")
        self._count = 0

    def commit_ms(self) -> float:
        self._count += 1
        started = time.perf_counter()
        self._connection.execute("BEGIN IMMEDIATE")
        self._connection.execute("INSERT INTO m VALUES (?, ?)", (str(self._count), 1.0))
        self._connection.execute("COMMIT")
        return (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self._connection.close()


class _Reader:
    """One reading being read: what the app's document keeps between saves."""

    def __init__(self, store: Store, patient_id: str) -> None:
        self.store = store
        self.reading = Reading(
            patient_id=patient_id,
            reader="bench",
            lesions=tuple(
                Lesion(lesion_id=f"T{i:02d}", role=LesionRole.TARGET, organ=f"o{i}")
                for i in range(1, TARGETS + 1)
            ),
        )
        self.record: ReadingRecord = store.readings.save(self.reading)
        self.edits = 0

    def save(self, reading: Reading, *, base: bool) -> float:
        """Save ``reading`` as the app does (or by full diff); the time in ms."""
        if base:
            assessment = assess(reading)  # the document has it already
            started = time.perf_counter()
            record = self.store.readings.save(
                reading,
                base=self.reading,
                base_revision=self.record.revision,
                assessment=assessment,
            )
        else:
            started = time.perf_counter()
            record = self.store.readings.save(reading)
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.reading, self.record = reading, record
        return elapsed_ms

    def add_visit(self) -> None:
        index = len(self.reading.timepoints)
        visit = f"V{index:02d}"
        date = datetime.date(2024, 1, 1) + datetime.timedelta(days=28 * index)
        self.save(
            add_timepoint(self.reading, TimePoint(visit=visit, date=date)), base=True
        )
        for number in range(1, TARGETS + 1):
            self.save(self._measured(visit, number), base=True)

    def _measured(self, visit: str, number: int) -> Reading:
        self.edits += 1
        measurement = Measurement(
            lesion_id=f"T{number:02d}", long_axis_mm=20.0 + (self.edits % 97) / 4
        )
        return record_measurement(self.reading, visit, measurement)

    def one_measurement(self) -> Reading:
        """The reading with one measurement of the last visit changed."""
        visit = self.reading.timepoints[-1].visit
        return self._measured(visit, self.edits % TARGETS + 1)


def _rounds(
    readers: dict[int, _Reader], raw: _RawCommit, saves: int, *, base: bool
) -> tuple[dict[int, list[float]], list[float]]:
    """``saves`` rounds of one save per reader and one raw commit, in turn."""
    for reader in readers.values():
        for _ in range(WARM_UP_SAVES):
            reader.save(reader.one_measurement(), base=base)
    times: dict[int, list[float]] = {visits: [] for visits in readers}
    raw_times: list[float] = []
    order = list(readers)
    for index in range(saves):
        turn = order[index % len(order) :] + order[: index % len(order)]
        for visits in turn:
            reader = readers[visits]
            times[visits].append(reader.save(reader.one_measurement(), base=base))
        raw_times.append(raw.commit_ms())
    return times, raw_times


def _verdict(ok: bool) -> str:
    return "OK" if ok else "MISS"


def _spread(figures: dict[int, Figures], attribute: str) -> float:
    values: list[float] = [getattr(f, attribute) for f in figures.values()]
    return max(values) / min(values)


def _report(
    title: str, times: dict[int, list[float]], raw_times: list[float], saves: int
) -> None:
    raw = Figures.of(raw_times)
    print(
        f"{title}: {TARGETS} targets, one measurement changed per save, "
        f"{saves} saves per visit count"
    )
    print(
        f"  raw sqlite3 INSERT+COMMIT (WAL, synchronous=FULL), same rounds: "
        f"p50 {raw.p50_ms:.2f} ms, p95 {raw.p95_ms:.2f} ms"
    )
    figures = {visits: Figures.of(found) for visits, found in times.items()}
    for visits, found in figures.items():
        print(
            f"  {visits:3d} visits: p50 {found.p50_ms:6.2f} ms "
            f"= {found.p50_ms / raw.p50_ms:5.2f} x raw, "
            f"p95 {found.p95_ms:6.2f} ms = {found.p95_ms / raw.p95_ms:5.2f} x raw"
        )
    first, last = figures[VISIT_COUNTS[0]], figures[VISIT_COUNTS[-1]]
    print(
        f"  {VISIT_COUNTS[-1]} vs {VISIT_COUNTS[0]} visits: "
        f"p50 {last.p50_ms / first.p50_ms:.2f} x, "
        f"p95 {last.p95_ms / first.p95_ms:.2f} x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=300, help="saves per visit count")
    parser.add_argument(
        "--audit-key", action="store_true", help="an HMAC on every audit row"
    )
    args = parser.parse_args()
    saves: int = args.saves
    key = b"benchmark audit key, 32 bytes.." if args.audit_key else None
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        raw_commit = _RawCommit(folder / "raw.sqlite3")
        try:
            url = f"sqlite:///{folder / 'store.sqlite3'}"
            with open_store(url, audit_key=key) as store:
                readers = {
                    visits: _Reader(store, f"BENCH-{visits:02d}")
                    for visits in VISIT_COUNTS
                }
                for visits, reader in readers.items():
                    while len(reader.reading.timepoints) < visits:
                        reader.add_visit()
                app_times, raw_times = _rounds(readers, raw_commit, saves, base=True)
                full_times, more_raw = _rounds(
                    readers, raw_commit, max(saves // 3, 20), base=False
                )
        finally:
            raw_commit.close()
    _report(
        "app save (readings.save with base, base_revision, assessment"
        + (", audit key)" if key else ")"),
        app_times,
        raw_times,
        saves,
    )
    _report(
        "full diff for comparison (readings.save without base)",
        full_times,
        more_raw,
        len(more_raw),
    )
    app = {visits: Figures.of(times) for visits, times in app_times.items()}
    worst_p95 = max(f.p95_ms for f in app.values())
    print(
        f"goal: app save p95 <= {GOAL_P95_MS:.0f} ms at every visit count "
        f"(worst {worst_p95:.2f} ms): {_verdict(worst_p95 <= GOAL_P95_MS)}"
    )
    for attribute in ("p50_ms", "p95_ms"):
        spread = _spread(app, attribute)
        print(
            f"goal: {', '.join(map(str, VISIT_COUNTS))} visits within "
            f"{GOAL_SPREAD}x of each other, {attribute[:3]} (max/min {spread:.2f}x): "
            f"{_verdict(spread <= GOAL_SPREAD)}"
        )


if __name__ == "__main__":
    main()
