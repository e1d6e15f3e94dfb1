"""A workstation's central-review work in its own process, for the concurrency test.

Run as ``python -m tests.workflows.central_process MODE URL GO_FILE ...``; each
process waits for GO_FILE, then works through the workflows as the app does:

- ``read URL GO_FILE ROLE VISITS``: the reader's session saves the reading of
  patient ``CONC-001`` one visit at a time (printing ``saved N`` after each save
  returned), then signs it (``signed``).
- ``adjudicate URL GO_FILE``: lists the discordant patients and each patient's
  central status, again and again, until both reads of ``CONC-001`` are signed;
  prints ``listed N slowest S`` (the slowest listing, in seconds) and
  ``discordant True|False``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from recist_app.recist import ReaderRole
from recist_app.store import open_store
from recist_app.workflows.central_reading import adjudication_list, central_statuses
from recist_app.workflows.reading_session import ReadingSession
from tests.workflows.central import sized_reading

PATIENT = "CONC-001"
READERS = {ReaderRole.READER_1: "dr-one", ReaderRole.READER_2: "dr-two"}
SIZES = {
    ReaderRole.READER_1: (50.0, 40.0, 30.0, 30.0, 29.0, 29.0),  # PR, confirmed
    ReaderRole.READER_2: (50.0, 48.0, 45.0, 44.0, 44.0, 43.0),  # SD
}


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _wait(go: Path) -> None:
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            raise SystemExit("never told to start")
        time.sleep(0.01)


def _read(url: str, role: ReaderRole, visits: int) -> None:
    reader = READERS[role]
    with open_store(url, busy_timeout_s=30.0) as store:
        session = ReadingSession(store, user=reader, role=role)
        for count in range(1, visits + 1):
            session.save(sized_reading(PATIENT, reader, SIZES[role][:count]))
            _say(f"saved {count}")
        session.sign(sized_reading(PATIENT, reader, SIZES[role][:visits]))
        _say("signed")


def _adjudicate(url: str) -> None:
    slowest, listed = 0.0, 0
    deadline = time.monotonic() + 120
    with open_store(url, busy_timeout_s=30.0) as store:
        while time.monotonic() < deadline:
            started = time.monotonic()
            adjudication_list(store)
            statuses = [s for s in central_statuses(store) if s.patient_id == PATIENT]
            slowest = max(slowest, time.monotonic() - started)
            listed += 1
            if statuses and statuses[0].both_signed:
                _say(f"listed {listed} slowest {slowest:.3f}")
                _say(f"discordant {statuses[0].discordant}")
                return
    raise SystemExit("the two reads were never both signed")


def main(argv: list[str]) -> None:
    mode, url, go = argv[0], argv[1], Path(argv[2])
    _wait(go)
    if mode == "read":
        _read(url, ReaderRole(argv[3]), int(argv[4]))
    else:
        _adjudicate(url)


if __name__ == "__main__":
    main(sys.argv[1:])
