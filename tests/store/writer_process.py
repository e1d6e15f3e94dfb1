"""A separate process that writes measurements, for the crash and concurrency tests.

Run as ``python -m tests.store.writer_process MODE URL READER ...``. It prints one
line per save *after* the save call returned, so the parent knows exactly which
measurements the store acknowledged:

- ``crash URL READER``: creates the reading if needed, prints ``ready``, then adds a
  visit and records five measurements per visit, forever (the parent kills it).
- ``share URL READER FIRST_LESION COUNT GO_FILE BUSY_S``: waits for GO_FILE, then
  records its lesions at every visit of the shared reading, retrying on
  StoreBusyError (printing ``busy`` each time).
"""

from __future__ import annotations

import datetime
import functools
import sys
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
from recist_app.store import ReadingNotFoundError, Store, StoreBusyError, open_store

PATIENT = "CRASH-001"
TARGETS = 5
FIRST_DATE = datetime.date(2020, 1, 1)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def crash_reading(reader: str) -> Reading:
    return Reading(
        patient_id=PATIENT,
        reader=reader,
        lesions=tuple(
            Lesion(lesion_id=f"T{i:02d}", role=LesionRole.TARGET, organ=f"organ {i}")
            for i in range(1, TARGETS + 1)
        ),
    )


def long_axis_mm(visit_index: int, lesion_number: int) -> float:
    return round(10.0 + visit_index * 0.1 + lesion_number * 0.01, 3)


def _crash(store: Store, reader: str) -> None:
    try:
        reading = store.readings.load(PATIENT, Criteria.RECIST_1_1, reader)
    except ReadingNotFoundError:
        reading = crash_reading(reader)
        store.readings.save(reading)
    index = len(reading.timepoints)
    _say("ready")
    while True:
        visit = f"V{index:05d}"
        timepoint = TimePoint(
            visit=visit, date=FIRST_DATE + datetime.timedelta(days=index)
        )
        store.readings.update(
            PATIENT,
            Criteria.RECIST_1_1,
            reader,
            functools.partial(add_timepoint, timepoint=timepoint),
        )
        _say(f"visit {visit}")
        for number in range(1, TARGETS + 1):
            value = long_axis_mm(index, number)
            measurement = Measurement(lesion_id=f"T{number:02d}", long_axis_mm=value)
            store.readings.update(
                PATIENT,
                Criteria.RECIST_1_1,
                reader,
                functools.partial(
                    record_measurement, visit=visit, measurement=measurement
                ),
            )
            _say(f"saved {visit} T{number:02d} {value!r}")
        index += 1


def _share(
    store: Store, reader: str, first_lesion: int, count: int, go_file: Path
) -> None:
    reading = store.readings.load(PATIENT, Criteria.RECIST_1_1, reader)
    _say("ready")
    while not go_file.exists():
        time.sleep(0.005)
    for index, timepoint in enumerate(reading.timepoints):
        for number in range(first_lesion, first_lesion + count):
            value = long_axis_mm(index, number)
            measurement = Measurement(lesion_id=f"T{number:02d}", long_axis_mm=value)
            while True:
                try:
                    store.readings.update(
                        PATIENT,
                        Criteria.RECIST_1_1,
                        reader,
                        functools.partial(
                            record_measurement,
                            visit=timepoint.visit,
                            measurement=measurement,
                        ),
                    )
                except StoreBusyError as error:
                    _say(f"busy {error}")
                    continue
                break
            _say(f"saved {timepoint.visit} T{number:02d} {value!r}")
    _say("done")


def main(argv: list[str]) -> int:
    mode, url, reader = argv[:3]
    if mode == "crash":
        with open_store(url) as store:
            _crash(store, reader)
        return 0
    first_lesion, count, go_file, busy_s = argv[3:7]
    with open_store(url, busy_timeout_s=float(busy_s)) as store:
        _share(store, reader, int(first_lesion), int(count), Path(go_file))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
