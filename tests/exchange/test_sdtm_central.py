"""SDTM of a central review: both primary reads, --EVALID, --ACPTFL, one --SEQ."""

from __future__ import annotations

import pytest

from recist_app.exchange import ExchangeError
from recist_app.exchange.sdtm import (
    SdtmDatasets,
    build_sdtm,
    check_sdtm,
    merge_sdtm,
)
from recist_app.recist import assess
from tests.workflows.central import sized_reading


def _datasets(
    reader: str, sizes: tuple[float, ...], evalid: str, *, accepted: bool
) -> SdtmDatasets:
    reading = sized_reading("P-1", reader, sizes)
    return build_sdtm(
        reading,
        assess(reading),
        study_id="S",
        evaluator="INDEPENDENT ASSESSOR",
        evaluator_id=evalid,
        accepted=accepted,
    )


def test_both_readers_of_a_subject_merge_with_one_seq_each_and_the_flag() -> None:
    one = _datasets("dr-one", (50.0, 30.0, 30.0), "READER 1", accepted=False)
    two = _datasets("dr-two", (50.0, 45.0, 45.0), "READER 2", accepted=True)
    merged = merge_sdtm([one, two])
    check_sdtm(merged)
    for domain in ("TU", "TR", "RS"):
        rows = merged.rows(domain)
        seqs = [row[f"{domain}SEQ"] for row in rows]
        assert seqs == list(range(1, len(rows) + 1)), domain
        flags = {(row[f"{domain}EVALID"], row.get(f"{domain}ACPTFL")) for row in rows}
        assert flags == {("READER 1", None), ("READER 2", "Y")}, domain
        assert "TUACPTFL" in {v.name for v in merged.variables("TU")}


def test_one_reader_still_has_one_record_per_test_and_visit() -> None:
    one = _datasets("dr-one", (50.0, 30.0, 30.0), "READER 1", accepted=False)
    twice = merge_sdtm([one, one])
    with pytest.raises(ExchangeError, match="RS of P-1 by READER 1 has two TRGRESP"):
        check_sdtm(twice)
