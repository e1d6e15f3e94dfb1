"""Tampering seen from the command line: ``audit verify``, exports, the audit key.

End to end through ``recist-app``: a signed reading file is imported (the CLI
prints the chain head to keep), its measurement edited with plain SQL, and then
``audit verify`` lists the difference, ``export`` refuses to put the edited value
under the signer's name, and an anchor or the audit key finds what the trail
alone cannot.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from recist_app.cli import main
from recist_app.environment import AUDIT_KEY_ENV
from recist_app.exchange import reading_to_dict
from recist_app.store import SignatureMismatchError, open_store
from recist_app.workflows.endpoints import readings_from_store
from tests.exchange.readings import standards_example

LABEL = "LT-01-001 / RECIST 1.1 / Dr Example"
HEAD = re.compile(r"audit trail head ([0-9a-f]{64})")


@pytest.fixture
def signed_file(tmp_path: Path) -> Path:
    data = reading_to_dict(standards_example())
    data["sign_off"] = {
        "status": "signed",
        "signed_by": "Dr Example",
        "signed_at": "2024-06-03T14:05:09+02:00",
        "version": 1,
    }
    path = tmp_path / "LT-01-001.reading.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "readings.sqlite3"


def _import(database: Path, path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Import ``path``; return the chain head the command printed."""
    url = f"sqlite:///{database}"
    assert (
        main(["reading", "import", str(path), "--database", url, "--user", "dm"]) == 0
    )
    out = capsys.readouterr().out
    found = HEAD.search(out)
    assert found is not None, out
    return found.group(1)


def _edit_t01_at_week_6(database: Path) -> None:
    raw = sqlite3.connect(database, isolation_level=None)
    try:
        raw.execute(
            "UPDATE measurements SET long_axis_mm = 20.0 WHERE timepoint_id = "
            "(SELECT id FROM timepoints WHERE visit = 'WEEK 6') AND lesion_row_id = "
            "(SELECT id FROM lesions WHERE lesion_id = 'T01')"
        )
    finally:
        raw.close()


def _verify(database: Path, *args: str) -> int:
    return main(["audit", "verify", "--database", f"sqlite:///{database}", *args])


def test_an_edited_signed_measurement_is_listed_and_never_exported_as_signed(
    database: Path,
    signed_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{database}"
    _import(database, signed_file, capsys)
    assert _verify(database) == 0
    assert "the data of 1 reading matches it" in capsys.readouterr().out
    _edit_t01_at_week_6(database)

    assert _verify(database) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"{url}: {LABEL}: visit WEEK 6, lesion T01: measurement long_axis_mm is "
        "20.0 in the database, 30.0 in the audit trail",
        f"{url}: {LABEL}: the stored reading differs from signed version 1 (visit "
        "WEEK 6, lesion T01: long_axis_mm)",
        f"recist-app: error: {url}: 2 differences between the tables and the audit "
        f"trail (first: {LABEL}: visit WEEK 6, lesion T01: measurement long_axis_mm "
        "is 20.0 in the database, 30.0 in the audit trail)",
    ]

    for fmt in ("json", "pdf", "sdtm"):
        out = tmp_path / f"export-{fmt}"
        code = main(
            ["export", "--database", url, "--all", "--signed-only", "--format", fmt,
             "--out", str(out)]
        )  # fmt: skip
        assert code == 2
        err = capsys.readouterr().err.strip()
        # --all: the patient's own line (the others, none here, are written)
        assert err == (
            f"recist-app: not exported: {LABEL}: the stored reading differs from "
            "signed version 1 (visit WEEK 6, lesion T01: long_axis_mm): its "
            "signature does not cover what is stored, so it is not used as signed "
            "(recist-app audit verify lists what changed)"
        )
        assert not out.exists() or list(out.iterdir()) == []
    code = main(
        ["export", "--database", url, "--patient", "LT-01-001", "--signed-only",
         "--format", "json", "--out", str(tmp_path / "one")]
    )  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err.strip().endswith("; nothing was exported")
    with open_store(url) as store, pytest.raises(SignatureMismatchError):
        readings_from_store(store, signed_only=True)


def _pdf_text(path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(
        [tool, "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_head_at_sign_off_is_on_the_pdf_and_checks_out(
    database: Path,
    signed_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    head = _import(database, signed_file, capsys)
    out = tmp_path / "pdf"
    code = main(
        ["export", "--database", f"sqlite:///{database}", "--patient", "LT-01-001",
         "--format", "pdf", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    [pdf] = out.glob("*.pdf")
    assert f"Audit trail at sign-off: {head}" in _pdf_text(pdf)
    capsys.readouterr()
    assert _verify(database, "--expect-head", head) == 0
    assert f"expected row {head[:16]}… found at row" in capsys.readouterr().out


def test_a_trail_cut_back_past_the_head_is_found_with_it(
    database: Path,
    signed_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    head = _import(database, signed_file, capsys)
    raw = sqlite3.connect(database, isolation_level=None)
    try:  # remove the import's rows and the reading they recorded
        raw.execute("DROP TRIGGER audit_log_no_delete")
        raw.execute("DELETE FROM audit_log WHERE entity <> 'patient'")
        for table in (
            "measurements",
            "non_target_assessments",
            "cached_assessments",
            "reading_versions",
            "lesions",
            "timepoints",
            "readings",
        ):
            raw.execute(f"DELETE FROM {table}")
        raw.execute(
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be "
            "deleted'); END"
        )
    finally:
        raw.close()
    assert _verify(database) == 0  # nothing to see from inside
    capsys.readouterr()
    assert _verify(database, "--expect-head", head) == 2
    assert capsys.readouterr().err == (
        f"recist-app: error: sqlite:///{database}: expected row {head} is not in the "
        "audit trail (rows were removed or the trail was rewritten)\n"
    )
    assert _verify(database, "--expect-head", "not-a-hash") == 2
    assert "is not a SHA-256 hash" in capsys.readouterr().err


def test_the_audit_key_finds_a_forged_row_and_a_short_key_is_refused(
    database: Path,
    signed_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(AUDIT_KEY_ENV, "short")
    assert _verify(database) == 2
    assert capsys.readouterr().err == (
        f"recist-app: error: ${AUDIT_KEY_ENV} holds 5 characters; the audit key "
        "needs at least 16\n"
    )
    monkeypatch.setenv(AUDIT_KEY_ENV, "a site key kept in the vault")
    _import(database, signed_file, capsys)
    assert _verify(database) == 0
    assert "carry valid MACs of the audit key" in capsys.readouterr().out
    raw = sqlite3.connect(database, isolation_level=None)
    try:  # a row appended by someone who can compute hashes, not MACs
        from recist_app.store.audit import audit_row_digest

        names = (
            "sequence", "recorded_at", "user_name", "action", "entity",
            "entity_key", "patient_id", "reason", "before_values", "after_values",
            "previous_hash",
        )  # fmt: skip
        sequence, previous = raw.execute(
            "SELECT sequence, row_hash FROM audit_log ORDER BY sequence DESC LIMIT 1"
        ).fetchone()
        values = dict(zip(names, (
            sequence + 1, "2024-06-04T00:00:00+00:00", "Dr Example", "amend",
            "reading", LABEL, "LT-01-001", "typo", None,
            '{"amendment_reason":"typo","status":"draft"}', previous,
        ), strict=True))  # fmt: skip
        raw.execute(
            f"INSERT INTO audit_log ({', '.join(names)}, row_hash) VALUES "
            f"({', '.join('?' * len(names))}, ?)",
            (*values.values(), audit_row_digest(values)),
        )
        raw.execute("UPDATE readings SET status = 'draft', amendment_reason = 'typo'")
    finally:
        raw.close()
    assert _verify(database) == 2
    err = capsys.readouterr().err
    assert f"row {sequence + 1} has no MAC, though rows from 1 on do" in err
    monkeypatch.delenv(AUDIT_KEY_ENV)
    assert _verify(database) == 0  # without the key the forgery holds
    assert "carry a MAC, not checked" in capsys.readouterr().out
