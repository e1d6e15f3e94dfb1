"""Benchmark: ``audit verify`` on a trial-sized database, data binding included.

The first trial has 76 patients read monthly. Each patient's reading (5 targets,
a non-target) is grown visit by visit through the app's save path, one save per
gesture, as the workstation's autosave writes it, then signed. ``audit verify``
then checks the whole trail: the hash chain, every row of every reading against
what the replayed trail says it holds, the signatures, the cached responses
(each reading assessed again) and the triggers.

The peer is what verify did before the data were bound to the trail: the hash
chain alone (every row read and its SHA-256 recomputed), measured in the same
run. The figure that matters is verify's time against it: the data binding
costs reading the tables once more and replaying the trail, not a rescan per
reading.

Run: ``.venv/bin/python benchmarks/bench_verify.py [--patients 76] [--visits 12]``.
"""

from __future__ import annotations

import argparse
import datetime
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from recist_app.recist import (
    Lesion,
    LesionRole,
    Measurement,
    NonTargetAssessment,
    Reading,
    TimePoint,
    add_timepoint,
    assess,
    record_measurement,
    record_non_target,
)
from recist_app.store import Store, open_store
from recist_app.store.audit import GENESIS_HASH, link_problem
from recist_app.store.schema import AuditRow

TARGETS = 5


def _read_patient(store: Store, patient_id: str, visits: int) -> None:
    reading = Reading(
        patient_id=patient_id,
        reader="bench",
        lesions=(
            *(
                Lesion(lesion_id=f"T{i:02d}", role=LesionRole.TARGET, organ=f"o{i}")
                for i in range(1, TARGETS + 1)
            ),
            Lesion(lesion_id="NT01", role=LesionRole.NON_TARGET, organ="bone"),
        ),
    )
    record = store.readings.save(reading)
    for index in range(visits):
        visit = f"V{index:02d}"
        date = datetime.date(2024, 1, 1) + datetime.timedelta(days=30 * index)
        edits = [add_timepoint(reading, TimePoint(visit=visit, date=date))]
        for number in range(1, TARGETS + 1):
            edits.append(
                record_measurement(
                    edits[-1],
                    visit,
                    Measurement(
                        lesion_id=f"T{number:02d}",
                        long_axis_mm=30.0 - index + number,
                    ),
                )
            )
        edits.append(
            record_non_target(edits[-1], visit, NonTargetAssessment(lesion_id="NT01"))
        )
        for edited in edits:
            record = store.readings.save(
                edited,
                base=reading,
                base_revision=record.revision,
                assessment=assess(edited),
            )
            reading = edited
    store.signing.sign(patient_id, reading.criteria, reading.reader)


def _chain_only(store: Store) -> int:
    """The peer: read every audit row in order and recompute its hash."""
    with store._unit.session("benchmark", write=False) as session:
        previous, checked, after = GENESIS_HASH, 0, 0
        while True:
            rows = session.scalars(
                select(AuditRow)
                .where(AuditRow.sequence > after)
                .order_by(AuditRow.sequence)
                .limit(2000)
            ).all()
            if not rows:
                return checked
            for row in rows:
                checked += 1
                assert link_problem(row, checked, previous) is None
                previous, after = row.row_hash, row.sequence
            session.expunge_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=76)
    parser.add_argument("--visits", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        url = f"sqlite:///{Path(name) / 'trial.sqlite3'}"
        with open_store(url) as store:
            started = time.perf_counter()
            for number in range(1, args.patients + 1):
                _read_patient(store, f"HCC-{number:03d}", args.visits)
            built_s = time.perf_counter() - started
            timings: dict[str, list[float]] = {"verify": [], "chain": []}
            for _ in range(3):  # alternate, so a change of load weighs on both
                started = time.perf_counter()
                result = store.audit.verify()
                timings["verify"].append(time.perf_counter() - started)
                started = time.perf_counter()
                rows = _chain_only(store)
                timings["chain"].append(time.perf_counter() - started)
            assert result.ok, result.details()
    verify_s, chain_s = min(timings["verify"]), min(timings["chain"])
    print(
        f"trial database: {args.patients} signed readings x {args.visits} visits, "
        f"{rows} audit rows (built in {built_s:.1f} s through the app's save path)"
    )
    print(f"  peer: hash chain only         {chain_s:6.2f} s")
    print(
        f"  audit verify (chain, data, signatures, cache, triggers) {verify_s:6.2f} s "
        f"= {verify_s / chain_s:.2f} x the chain alone, "
        f"{1e6 * verify_s / rows:.0f} us per audit row"
    )


if __name__ == "__main__":
    main()
