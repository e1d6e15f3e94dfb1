"""A simulated central review end to end through the command line, on PostgreSQL.

Two blinded readers' signed files are imported with their roles, the
discordant patients listed and adjudicated, the endpoints computed on the
final reads, SDTM written with --ACPTFL on the accepted read, and the
agreement reported, all with ``--database postgresql+psycopg://…`` against the
throw-away server (``tests/postgres.py``).
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING

import pytest

from recist_app.cli import main

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_central_review_runs_end_to_end_on_postgresql(
    postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--database", postgres_url]
    trial = tmp_path / "trial"
    assert (
        main(["simulate-trial", str(trial), "--patients", "24", "--readers", "2"]) == 0
    )
    assert main(["clinical", "import", str(trial / "clinical.csv"), *db]) == 0
    one = sorted(str(p) for p in (trial / "readings").glob("*.json"))
    two = sorted(str(p) for p in (trial / "readings-reader-2").glob("*.json"))
    assert main(["reading", "import", *one, *db]) == 0
    assert main(["reading", "import", *two, *db]) == 0
    capsys.readouterr()

    # every read is signed, so a primary reader sees both reads of a patient
    assert main(["reading", "list", "--format", "csv", "--role", "reader 1", *db]) == 0
    roles = {row["role"] for row in _csv(capsys.readouterr().out)}
    assert roles == {"reader 1", "reader 2"}  # both signed: unblinded

    assert main(["adjudication", "list", "--format", "csv", *db]) == 0
    listed = _csv(capsys.readouterr().out)
    assert listed, "the simulated readers disagree on some patients"
    assert {"patient_id", "reason"} <= set(listed[0])
    assert all(row["reason"] for row in listed)
    for number, row in enumerate(listed):
        accept = "reader 1" if number % 2 == 0 else "reader 2"
        assert (
            main(
                [
                    "adjudication",
                    "decide",
                    row["patient_id"],
                    "--accept",
                    accept,
                    "--reason",
                    f"{accept}'s measurements follow the same targets",
                    "--user",
                    "dr-adjudicator",
                    *db,
                ]
            )
            == 0
        )
    capsys.readouterr()
    assert main(["adjudication", "list", "--format", "csv", "--pending", *db]) == 0
    assert _csv(capsys.readouterr().out) == []

    out = tmp_path / "endpoints"
    assert main(["endpoints", "--out", str(out), "--no-plots", *db]) == 0
    endpoints = json.loads((out / "endpoints.json").read_text(encoding="utf-8"))
    agreement = endpoints["agreement"]
    assert agreement["patients_both_signed"] == 24
    assert agreement["adjudicated_n"] == len(listed)
    assert agreement["accepted_reader_1_n"] == (len(listed) + 1) // 2
    subjects = _csv((out / "subjects.csv").read_text(encoding="utf-8"))
    assert len(subjects) == 24  # every patient has a final read

    sdtm = tmp_path / "sdtm"
    assert main(["export", "--all", "--format", "sdtm", "--out", str(sdtm), *db]) == 0
    rs = _csv((sdtm / "rs.csv").read_text(encoding="utf-8"))
    assert {r["RSEVAL"] for r in rs} == {"INDEPENDENT ASSESSOR"}
    for patient in {r["USUBJID"] for r in rs}:
        flags = {(r["RSEVALID"], r["RSACPTFL"]) for r in rs if r["USUBJID"] == patient}
        accepted = {evalid for evalid, flag in flags if flag == "Y"}
        assert {evalid for evalid, _ in flags} == {"READER 1", "READER 2"}, patient
        assert len(accepted) == 1, patient
    first = listed[0]["patient_id"]
    assert {
        r["RSEVALID"] for r in rs if r["USUBJID"] == first and r["RSACPTFL"] == "Y"
    } == {"READER 1"}

    capsys.readouterr()
    assert main(["agreement", "--format", "json", *db]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == agreement
    assert 0 < report["bor_agreement_pct"] <= 100
    assert -1 <= report["bor_kappa"] <= 1
    assert main(["agreement", "--format", "csv", *db]) == 0
    (row,) = _csv(capsys.readouterr().out)
    assert float(row["bor_agreement_pct"]) == report["bor_agreement_pct"]
