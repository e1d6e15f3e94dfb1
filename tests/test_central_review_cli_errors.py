"""Central-review commands refuse bad input in one line, exit status 2."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from recist_app.cli import main
from recist_app.recist import ReaderRole
from recist_app.store import open_store
from tests.workflows.central import store_read

if TYPE_CHECKING:
    from pathlib import Path

PR = (50.0, 30.0, 30.0)


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'readings.sqlite3'}"
    with open_store(url) as store:
        store_read(store, "P-1", ReaderRole.READER_1, PR)
        store_read(store, "P-1", ReaderRole.READER_2, PR)
        store_read(store, "P-2", ReaderRole.READER_1, PR, sign=False)
    return url


# (id, arguments, the one line)
REFUSED = [
    (
        "concordant",
        ["adjudication", "decide", "P-1", "--accept", "reader 2", "--reason", "r"],
        "adjudicating P-1: the two reads agree; the final read is reader 1's",
    ),
    (
        "not-signed",
        ["adjudication", "decide", "P-2", "--accept", "reader 1", "--reason", "r"],
        "adjudicating P-2: waiting for reader 1 draft, reader 2 not started",
    ),
    (
        "no-such-patient",
        ["adjudication", "decide", "P-9", "--accept", "reader 1", "--reason", "r"],
        "adjudicating P-9: no reader 1 / reader 2 reading under RECIST 1.1",
    ),
    (
        "accept-adjudicator",
        ["adjudication", "decide", "P-1", "--accept", "adjudicator", "--reason", "r"],
        "--accept 'reader 1' or 'reader 2', not 'adjudicator'",
    ),
    (
        "unknown-role",
        ["reading", "list", "--role", "reader 3"],
        "unknown reader role 'reader 3'",
    ),
    (
        "negative-tolerance",
        ["agreement", "--pd-tolerance-days", "-3"],
        "--pd-tolerance-days: must be >= 0, got -3",
    ),
]


@pytest.mark.parametrize(
    ("arguments", "line"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_central_review_commands_refuse_in_one_line(
    url: str, arguments: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main([*arguments, "--database", url])
    except SystemExit as exited:  # argparse refuses an option value itself
        code = int(str(exited.code))
    assert code == 2
    err = capsys.readouterr().err
    assert line in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3  # argparse adds its usage lines


def test_agreement_without_two_signed_reads_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    assert main(["agreement", "--database", url]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(
        "no patient has both primary reads (reader 1, reader 2) signed under RECIST 1.1"
    )
    assert len(err.splitlines()) == 1
