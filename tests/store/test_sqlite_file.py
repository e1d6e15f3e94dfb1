"""A SQLite file is checked before anything writes to it (issue 17, the database).

A damaged file (SQLite's ``quick_check`` fails) and another application's file
are refused in one line and left byte for byte as they were, with no ``-wal``,
``-shm`` or journal left beside them; a file that cannot be written (file and
folder read-only) is still listed, verified and exported, and writing to it is
refused in one line. These run through the command line, as a user would.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from recist_app.cli import main
from recist_app.exchange import reading_to_dict
from recist_app.recist import Reading
from recist_app.store import StoreError, open_store
from tests.exchange.readings import standards_example
from tests.store.conftest import sqlite_url

PAGE_SIZE = 4096


def _fingerprint(folder: Path) -> dict[str, str]:
    """Every file in ``folder`` with the SHA-256 of its bytes."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
    }


def _reading_file(folder: Path) -> Path:
    path = folder / "LT-01-001.reading.json"
    path.write_text(json.dumps(reading_to_dict(standards_example())), "utf-8")
    return path


def _clinical_file(folder: Path) -> Path:
    path = folder / "clinical.csv"
    path.write_text(
        "patient_id,first_dose_date,data_cutoff_date\nLT-01-001,2024-03-04,2024-12-31\n",
        "utf-8",
    )
    return path


def _stored_database(folder: Path, reading: Reading) -> Path:
    path = folder / "db" / "readings.sqlite3"
    with open_store(sqlite_url(path)) as store:
        store.readings.save(reading)
        store.signing.sign(reading.patient_id, reading.criteria, reading.reader)
    return path


def _page_of(path: Path, table: str) -> int:
    connection = sqlite3.connect(path)
    try:
        (page,) = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
        return int(page)
    finally:
        connection.close()


def _free_space_corruption(path: Path) -> str:
    """Point the lesions page's first free block past its end."""
    offset = (_page_of(path, "lesions") - 1) * PAGE_SIZE
    with path.open("r+b") as file:
        file.seek(offset + 1)
        file.write((4000).to_bytes(2, "big"))
    return "free space corruption"


def _garbage_page(path: Path) -> str:
    """Overwrite the measurements page with garbage, as a bad sector would."""
    offset = (_page_of(path, "measurements") - 1) * PAGE_SIZE
    with path.open("r+b") as file:
        file.seek(offset + 8)
        file.write(b"\xff" * (PAGE_SIZE - 8))
    return ""  # SQLite reports it as malformed or lists the broken cells


@pytest.mark.parametrize(
    "damage", [_free_space_corruption, _garbage_page], ids=["free-space", "garbage"]
)
def test_a_damaged_file_is_refused_in_one_line_and_left_untouched(
    tmp_path: Path,
    reading: Reading,
    damage: Callable[[Path], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _stored_database(tmp_path, reading)
    shown = damage(path)
    before = _fingerprint(path.parent)
    assert list(before) == ["readings.sqlite3"]
    url = sqlite_url(path)
    for command in (
        ["reading", "import", str(_reading_file(tmp_path)), "--user", "dm"],
        ["clinical", "import", str(_clinical_file(tmp_path))],
        ["audit", "verify"],
        ["reading", "list"],
    ):
        assert main([*command, "--database", url]) == 2, command
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert err.startswith(f"recist-app: error: database {url} is damaged (SQLite ")
        assert shown in err
        assert err.endswith("; it was left unchanged: restore it from a backup\n")
        assert _fingerprint(path.parent) == before


def test_another_applications_file_is_refused_without_a_change(tmp_path: Path) -> None:
    path = tmp_path / "invoices.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE invoices (id INTEGER, total REAL)")
    raw.execute("INSERT INTO invoices VALUES (1, 9.5)")
    raw.commit()
    raw.close()
    before = _fingerprint(tmp_path)
    with pytest.raises(StoreError) as caught:
        open_store(sqlite_url(path))
    assert str(caught.value) == (
        f"database {sqlite_url(path)} already holds tables (invoices) but no "
        "recist-app schema version; refusing to use it (it was left unchanged)"
    )
    assert _fingerprint(tmp_path) == before  # no -wal, -shm or journal either
    header = path.read_bytes()[:20]
    assert (header[18], header[19]) == (1, 1)  # still a rollback-journal file


def test_a_closed_wal_database_is_checked_without_files_left_beside_it(
    tmp_path: Path, reading: Reading
) -> None:
    path = _stored_database(tmp_path, reading)
    before = _fingerprint(path.parent)
    from recist_app.store.database import inspect_sqlite_file

    assert inspect_sqlite_file(sqlite_url(path), busy_timeout_s=1.0) is False
    assert _fingerprint(path.parent) == before


def _run_without_write_permission(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``recist-app args`` where permission bits apply, even to root."""
    command = [
        sys.executable,
        "-c",
        "import sys; from recist_app.cli import main; sys.exit(main(sys.argv[1:]))",
        *args,
    ]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("root ignores file permissions and setpriv is missing")
        # Root without these capabilities obeys the permission bits.
        command = [
            setpriv,
            "--bounding-set=-dac_override,-dac_read_search,-fowner",
            "--",
            *command,
        ]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[2],
        env={**os.environ, "RECIST_APP_USER": "dm"},
    )


@pytest.mark.slow
def test_a_read_only_database_is_listed_verified_and_exported(
    tmp_path: Path, reading: Reading
) -> None:
    path = _stored_database(tmp_path, reading)
    folder = path.parent
    out = tmp_path / "out"
    out.mkdir()
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        before = _fingerprint(folder)
        url = sqlite_url(path)
        listed = _run_without_write_permission(["reading", "list", "--database", url])
        assert listed.returncode == 0, listed.stderr
        assert "HCC-001" in listed.stdout
        assert "signed" in listed.stdout
        verified = _run_without_write_permission(["audit", "verify", "--database", url])
        assert verified.returncode == 0, verified.stderr
        assert "the data of 1 reading matches it" in verified.stdout
        exported = _run_without_write_permission(
            ["export", "--database", url, "--all", "--signed-only", "--format",
             "json", "--out", str(out)]
        )  # fmt: skip
        assert exported.returncode == 0, exported.stderr
        assert sorted(p.name for p in out.iterdir()) == [
            "HCC-001_dr-a.assessment.json",
            "HCC-001_dr-a.reading.json",
        ]
        refused = _run_without_write_permission(
            ["clinical", "import", str(_clinical_file(tmp_path)), "--database", url]
        )
        assert refused.returncode == 2
        assert refused.stderr == (
            f"recist-app: error: database {url} is read-only (file or folder): "
            "importing clinical data is not possible; nothing was saved\n"
        )
        assert _fingerprint(folder) == before
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
