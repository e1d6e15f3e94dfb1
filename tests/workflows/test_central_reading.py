"""Central reading: roles, blinding, discordance, adjudication, final reads.

Every test runs on a SQLite file and on the throw-away PostgreSQL server
(``tests/postgres.py``; skipped with the reason when it cannot run).
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING

import pytest

from recist_app.exchange import reading_to_dict
from recist_app.recist import Criteria, ReaderRole
from recist_app.store import StoreError, open_store
from recist_app.workflows.central_reading import (
    DiscordanceRules,
    Viewer,
    adjudication_csv_text,
    adjudication_list,
    agreement_report,
    central_statuses,
    check_visible,
    decide,
    final_records,
    visible_records,
)
from recist_app.workflows.endpoints import (
    UnreadPatient,
    readings_from_store,
    trial_from_store,
)
from recist_app.workflows.errors import WorkflowError
from recist_app.workflows.export import ExportFormat, ExportRequest, export
from recist_app.workflows.reading_import import import_reading_file
from recist_app.workflows.worklist import reading_worklist
from tests.workflows.central import sized_reading, store_read

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from recist_app.store import Store

R1, R2 = ReaderRole.READER_1, ReaderRole.READER_2
PR = (50.0, 30.0, 30.0)  # confirmed PR
SD = (50.0, 45.0, 45.0)
PD_WEEK_8 = (50.0, 45.0, 70.0)
PD_WEEK_4 = (50.0, 70.0, 75.0)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'readings.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    with open_store(url) as opened:
        yield opened


def test_a_role_is_stored_audited_and_held_by_one_reading(store: Store) -> None:
    store_read(store, "P-1", R1, PR, sign=False)
    record = store.readings.record("P-1", Criteria.RECIST_1_1, "dr-one")
    assert record.reader_role is R1
    role_rows = [e for e in store.audit.trail() if e.entity == "reading role"]
    assert [(e.before, e.after) for e in role_rows] == [
        ({"reader_role": "single"}, {"reader_role": "reader 1"})
    ]
    other = sized_reading("P-1", "dr-other", SD)
    with pytest.raises(StoreError, match="role 'reader 1' is already the reading by"):
        store.readings.save(other, user="dr-other", role=R1)
    assert [r.reader for r in store.readings.list("P-1")] == ["dr-one"]
    assert store.audit.verify().ok


def test_a_primary_reader_sees_only_their_own_read_until_both_are_signed(
    store: Store,
) -> None:
    store_read(store, "P-1", R1, PR)
    store_read(store, "P-1", R2, SD, sign=False)
    store_read(store, "P-2", ReaderRole.SINGLE, SD, sign=False)
    one = Viewer(user="dr-one", role=R1)
    two = Viewer(user="dr-two", role=R2)
    seen = {r.reader for r in visible_records(store, one)}
    assert seen == {"dr-one"}
    assert {r.reader for r in visible_records(store, two)} == {"dr-two"}
    assert {r.reader for r in reading_worklist(store, viewer=one)} == {"dr-one"}
    everyone = {r.reader for r in visible_records(store, Viewer(user="adj"))}
    assert everyone == {"dr-one", "dr-two", "dr-site"}
    hidden = store.readings.record("P-1", Criteria.RECIST_1_1, "dr-two")
    with pytest.raises(WorkflowError, match="blinded: as reader 1"):
        check_visible(store, one, hidden)
    with pytest.raises(WorkflowError, match="no reading of patient P-1"):
        export(
            store,
            ExportRequest(
                formats=(ExportFormat.JSON,),
                out_dir=store_tmp(store),
                patient_id="P-1",
                reader="dr-two",
                viewer=one,
            ),
        )
    store.signing.sign("P-1", Criteria.RECIST_1_1, "dr-two", user="dr-two")
    assert {r.reader for r in visible_records(store, one)} == {"dr-one", "dr-two"}
    check_visible(store, one, hidden)


def store_tmp(store: Store) -> Path:
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix="central-export-"))


# (id, reader 1, reader 2, rules, discordant, reason)
DISCORDANCE = [
    ("same-bor-no-pd", PR, PR, DiscordanceRules(), False, ""),
    ("bor-differs", PR, SD, DiscordanceRules(), True, "BOR PR vs SD"),
    (
        "pd-at-another-visit",
        PD_WEEK_8,
        PD_WEEK_4,
        DiscordanceRules(compare_bor=False),
        True,
        "first PD WEEK 8 vs WEEK 4 (28 days apart)",
    ),
    (
        "pd-within-tolerance",
        PD_WEEK_8,
        PD_WEEK_4,
        DiscordanceRules(compare_bor=False, pd_tolerance_days=28),
        False,
        "",
    ),
    (
        "pd-only-one-reader",
        SD,
        PD_WEEK_8,
        DiscordanceRules(compare_bor=False),
        True,
        "first PD none vs WEEK 8",
    ),
    ("bor-rule-off", PR, SD, DiscordanceRules(compare_bor=False), False, ""),
]


@pytest.mark.parametrize(
    ("one", "two", "rules", "discordant", "reason"),
    [row[1:] for row in DISCORDANCE],
    ids=[row[0] for row in DISCORDANCE],
)
def test_discordance_follows_the_configured_rules(
    store: Store,
    one: tuple[float, ...],
    two: tuple[float, ...],
    rules: DiscordanceRules,
    discordant: bool,
    reason: str,
) -> None:
    store_read(store, "P-1", R1, one)
    store_read(store, "P-1", R2, two)
    (status,) = central_statuses(store, rules=rules)
    assert status.both_signed
    assert status.discordant is discordant
    assert status.reason == reason
    assert status.final_role is (None if discordant else R1)


def test_no_discordance_before_both_reads_are_signed(store: Store) -> None:
    store_read(store, "P-1", R1, PR)
    store_read(store, "P-1", R2, SD, sign=False)
    (status,) = central_statuses(store)
    assert status.discordant is None
    assert status.pending == "waiting for reader 2 draft"
    assert adjudication_list(store) == ()
    with pytest.raises(WorkflowError, match="waiting for reader 2 draft"):
        decide(store, "P-1", accept=R1, reason="r", user="dr-adj")


def test_the_adjudicator_accepts_one_read_which_becomes_final(store: Store) -> None:
    store_read(store, "P-1", R1, PR)
    store_read(store, "P-1", R2, SD)
    store_read(store, "P-2", R1, SD)
    store_read(store, "P-2", R2, SD)
    listed = adjudication_list(store)
    assert [s.patient_id for s in listed] == ["P-1"]
    rows = list(csv.DictReader(io.StringIO(adjudication_csv_text(listed))))
    assert rows[0]["patient_id"] == "P-1"
    assert rows[0]["reason"] == "BOR PR vs SD"
    assert rows[0]["decision"] == "pending"
    with pytest.raises(WorkflowError, match="the two reads agree"):
        decide(store, "P-2", accept=R2, reason="r", user="dr-adj")
    with pytest.raises(StoreError, match="give the reason"):
        decide(store, "P-1", accept=R2, reason="  ", user="dr-adj")
    decision = decide(
        store, "P-1", accept=R2, reason="WEEK 4 shrinkage not confirmed", user="dr-adj"
    )
    assert decision.accepted_role is R2
    assert decision.decided_by == "dr-adj"
    audit = [e for e in store.audit.trail() if e.entity == "adjudication"]
    assert audit[-1].user == "dr-adj"
    assert audit[-1].after is not None
    assert audit[-1].after["accepted_role"] == "reader 2"
    assert audit[-1].reason == "WEEK 4 shrinkage not confirmed"
    finals, pending = final_records(store)
    assert {(r.patient_id, r.reader) for r in finals} == {
        ("P-1", "dr-two"),
        ("P-2", "dr-one"),
    }
    assert pending == []
    rules = DiscordanceRules(concordant_final=R2)
    finals, _ = final_records(store, rules=rules)
    assert ("P-2", "dr-two") in {(r.patient_id, r.reader) for r in finals}
    assert store.audit.verify().ok


def test_endpoints_use_final_reads_and_reader_keeps_per_reader_analyses(
    store: Store, tmp_path: Path
) -> None:
    store_read(store, "P-1", R1, PR)
    store_read(store, "P-1", R2, SD)
    store_read(store, "P-2", R1, PR)
    store_read(store, "P-2", R2, PR)
    store_read(store, "P-3", R1, SD, sign=False)
    store_read(store, "P-4", ReaderRole.SINGLE, PR)
    pending: list[UnreadPatient] = []
    finals = readings_from_store(store, pending=pending)
    assert {(r.patient_id, r.reader) for r in finals} == {
        ("P-2", "dr-one"),
        ("P-4", "dr-site"),
    }
    assert {(p.patient_id, p.reason) for p in pending} == {
        ("P-1", "central read pending: waiting for adjudication"),
        (
            "P-3",
            "central read pending: waiting for reader 1 draft, reader 2 not started",
        ),
    }
    decide(store, "P-1", accept=R2, reason="no confirmation", user="dr-adj")
    second = readings_from_store(store, reader="reader 2")
    assert {(r.patient_id, r.reader) for r in second} == {
        ("P-1", "dr-two"),
        ("P-2", "dr-two"),
    }
    clinical = tmp_path / "clinical.csv"
    clinical.write_text(
        "patient_id,first_dose_date,data_cutoff_date\n"
        + "".join(f"P-{n},2024-01-11,2024-12-31\n" for n in (1, 2, 3, 4)),
        encoding="utf-8",
    )
    analysis = trial_from_store(store, clinical_csv=clinical)
    bors = {s.patient_id: s.bor.response.value for s in analysis.endpoints.subjects}
    assert bors == {"P-1": "SD", "P-2": "PR", "P-4": "PR"}
    assert [u.patient_id for u in analysis.unread] == ["P-3"]
    assert analysis.agreement is not None
    assert analysis.agreement.as_dict()["bor_agreement_pct"] == 50.0


def test_sdtm_writes_both_primary_reads_with_the_accepted_flag(
    store: Store, tmp_path: Path
) -> None:
    store_read(store, "P-1", R1, PR)
    store_read(store, "P-1", R2, SD)
    decide(store, "P-1", accept=R2, reason="no confirmation", user="dr-adj")
    result = export(
        store,
        ExportRequest(formats=(ExportFormat.SDTM,), out_dir=tmp_path, patient_id="P-1"),
    )
    assert result.ok
    for domain in ("tu", "tr", "rs"):
        prefix = domain.upper()
        rows = _csv_rows(tmp_path / f"{domain}.csv")
        by_reader = {(r[f"{prefix}EVALID"], r[f"{prefix}ACPTFL"]) for r in rows}
        assert by_reader == {("READER 1", ""), ("READER 2", "Y")}, domain
        assert {r[f"{prefix}EVAL"] for r in rows} == {"INDEPENDENT ASSESSOR"}
        seqs = [int(r[f"{prefix}SEQ"]) for r in rows]
        assert len(seqs) == len(set(seqs)), domain
    week8 = {
        (r["RSEVALID"], r["RSACPTFL"], r["RSORRES"])
        for r in _csv_rows(tmp_path / "rs.csv")
        if r["RSTESTCD"] == "OVRLRESP"
        and r["VISIT"] == "WEEK 8"
        and r["RSCAT"] == "RECIST 1.1"
    }
    assert week8 == {("READER 1", "", "PR"), ("READER 2", "Y", "SD")}


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_agreement_report_counts_kappa_pd_dates_and_reader_bias(store: Store) -> None:
    pairs = [
        ("P-1", PR, PR),
        ("P-2", SD, SD),
        ("P-3", PR, SD),
        ("P-4", PD_WEEK_8, PD_WEEK_8),
    ]
    for patient, one, two in pairs:
        store_read(store, patient, R1, one)
        store_read(store, patient, R2, two)
    decide(store, "P-3", accept=R1, reason="confirmed at WEEK 8", user="dr-adj")
    report = agreement_report(store).as_dict()
    assert report["patients_both_signed"] == 4
    assert report["bor_agreement_pct"] == 75.0
    assert report["bor_kappa"] == pytest.approx(0.636, abs=0.001)
    assert report["pd_date_agreement_pct"] == 100.0
    assert report["adjudication_rate_pct"] == 25.0
    assert report["accepted_reader_1_n"] == 1
    assert report["accepted_reader_1_pct"] == 100.0
    assert report["accepted_reader_2_n"] == 0
    json.dumps(report)


def test_reading_import_takes_the_role_from_the_file_or_role(
    store: Store, tmp_path: Path
) -> None:
    first = tmp_path / "one.json"
    data = reading_to_dict(sized_reading("P-1", "dr-one", PR))
    data["reader_role"] = "reader 1"
    data["sign_off"] = {
        "status": "signed",
        "signed_by": "dr-one",
        "signed_at": "2024-04-01T10:00:00+00:00",
        "version": 1,
    }
    first.write_text(json.dumps(data), encoding="utf-8")
    imported = import_reading_file(store, first, user="importer")
    assert imported.record.reader_role is R1
    assert imported.record.status.value == "signed"
    second = tmp_path / "two.json"
    second.write_text(
        json.dumps(reading_to_dict(sized_reading("P-1", "dr-two", SD))),
        encoding="utf-8",
    )
    assert (
        import_reading_file(store, second, user="i", role=R2).record.reader_role is R2
    )
    with pytest.raises(WorkflowError, match="reader_role: the file says 'reader 1'"):
        import_reading_file(store, first, user="i", role=R2)
    data["reader_role"] = "reader 3"
    first.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(Exception, match="reader_role: unknown value 'reader 3'"):
        import_reading_file(store, first, user="i")


def test_a_blinded_reader_gets_no_per_reader_analysis_of_the_other_read(
    store: Store,
) -> None:
    store_read(store, "P-1", R1, PR)
    store_read(store, "P-1", R2, SD, sign=False)
    one = Viewer(user="dr-one", role=R1)
    with pytest.raises(WorkflowError, match="no readings by reader 'reader 2'"):
        readings_from_store(store, reader="reader 2", viewer=one)
    (own,) = readings_from_store(store, reader="reader 1", viewer=one)
    assert own.reader == "dr-one"
    store.signing.sign("P-1", Criteria.RECIST_1_1, "dr-two", user="dr-two")
    (other,) = readings_from_store(store, reader="reader 2", viewer=one)
    assert other.reader == "dr-two"
