"""``recist-app import`` and ``recist-app audit verify``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from recist_app.cli import main
from recist_app.imaging.phantom import write_demo_data
from recist_app.recist import Reading
from recist_app.store import open_store


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli-demo") / "dicom"
    write_demo_data(folder, visits=3, slice_count=4, matrix=32, pixel_size_mm=12.0)
    return folder


def test_import_shows_progress_and_is_idempotent(
    demo_folder: Path, database_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{database_path}"
    assert main(["--database", url, "import", str(demo_folder), "--user", "tech"]) == 0
    first = capsys.readouterr()
    assert "scanning [" in first.err
    assert f"{'#' * 30}] 13/13 files" in first.err
    assert "3 studies, 3 series and 12 images added" in first.out
    assert main(["import", str(demo_folder), "--database", url]) == 0
    second = capsys.readouterr()
    assert "0 studies, 0 series and 0 images added" in second.out
    assert "nothing new" in second.out
    with open_store(url) as store:
        assert [p.study_count for p in store.patients()] == [3]


def test_import_of_a_missing_folder_is_one_line_exit_2(
    tmp_path: Path, database_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--database", f"sqlite:///{database_path}", "import", "/no/such"])
    assert code == 2
    assert (
        capsys.readouterr().err
        == "recist-app: error: /no/such: no such file or folder\n"
    )


def test_audit_verify_reports_intact_and_broken_trails(
    database_path: Path, reading: Reading, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{database_path}"
    with open_store(url) as store:
        store.readings.save(reading)
    assert main(["--database", url, "audit", "verify"]) == 0
    assert "audit trail intact: 15 rows checked" in capsys.readouterr().out
    raw = sqlite3.connect(database_path, isolation_level=None)
    try:
        raw.execute("DROP TRIGGER audit_log_no_update")
        raw.execute("UPDATE audit_log SET user_name = 'dr-x' WHERE sequence = 4")
    finally:
        raw.close()
    assert main(["audit", "verify", "--database", url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "audit trail broken at row 4: its content does not match its hash" in err
    assert "missing trigger audit_log_no_update" in err


def test_a_newer_database_is_refused_by_the_cli(
    database_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{database_path}"
    open_store(url).close()
    raw = sqlite3.connect(database_path, isolation_level=None)
    try:
        raw.execute("UPDATE alembic_version SET version_num = 'ffff'")
    finally:
        raw.close()
    assert main(["--database", url, "audit", "verify"]) == 2
    assert "newer than this recist-app knows" in capsys.readouterr().err
