"""Reader agreement: Cohen's kappa, first-PD agreement, adjudication rate, bias."""

from __future__ import annotations

import datetime

import pytest

from recist_app.endpoints import (
    AGREEMENT_KEYS,
    EndpointError,
    ReaderPair,
    agreement_csv_text,
    cohen_kappa,
    pd_dates_agree,
    reader_agreement,
)

# (id, pairs, kappa, low, high): kappa by hand, (p_o - p_e) / (1 - p_e)
KAPPA = [
    ("perfect", [("PR", "PR"), ("SD", "SD"), ("PD", "PD")], 1.0, 1.0, 1.0),
    # p_o = 0.75, p_e = 5/16 -> 0.6364; SE = sqrt(.75*.25/(4*(11/16)^2)) = 0.3149
    (
        "three-of-four",
        [("PR", "PR"), ("SD", "SD"), ("PR", "SD"), ("PD", "PD")],
        0.6364,
        0.0191,
        1.0,
    ),
    # p_o = 0, p_e = 0.5 -> -1
    ("always-swapped", [("PR", "SD"), ("SD", "PR")], -1.0, -1.0, -1.0),
]


@pytest.mark.parametrize(
    ("pairs", "kappa", "low", "high"),
    [row[1:] for row in KAPPA],
    ids=[row[0] for row in KAPPA],
)
def test_cohen_kappa_matches_the_hand_computed_value(
    pairs: list[tuple[str, str]], kappa: float, low: float, high: float
) -> None:
    found = cohen_kappa(pairs)
    assert found == pytest.approx((kappa, low, high), abs=1e-4)


def test_kappa_is_not_defined_with_one_category_or_no_patient() -> None:
    assert cohen_kappa([("SD", "SD"), ("SD", "SD")]) == (None, None, None)
    assert cohen_kappa([]) == (None, None, None)


D = datetime.date


@pytest.mark.parametrize(
    ("first", "second", "tolerance", "agree"),
    [
        (None, None, 0, True),
        (D(2024, 1, 1), None, 30, False),
        (D(2024, 1, 1), D(2024, 1, 1), 0, True),
        (D(2024, 1, 1), D(2024, 1, 29), 0, False),
        (D(2024, 1, 1), D(2024, 1, 29), 28, True),
    ],
    ids=["neither", "one-only", "same-day", "apart", "within-tolerance"],
)
def test_first_pd_dates_agree_within_the_tolerance(
    first: datetime.date | None,
    second: datetime.date | None,
    tolerance: int,
    agree: bool,
) -> None:
    assert pd_dates_agree(first, second, tolerance) is agree


def _pair(
    patient: str, one: str, two: str, *, accepted: str | None = None
) -> ReaderPair:
    return ReaderPair(
        patient_id=patient,
        bor_reader_1=one,
        bor_reader_2=two,
        pd_date_reader_1=None,
        pd_date_reader_2=None,
        discordant=one != two,
        accepted=accepted,
    )


def test_the_report_counts_agreement_adjudication_and_reader_bias() -> None:
    pairs = [
        _pair("P-1", "PR", "PR"),
        _pair("P-2", "PR", "SD", accepted="reader 2"),
        _pair("P-3", "SD", "PD", accepted="reader 1"),
        _pair("P-4", "SD", "PD", accepted="reader 2"),
        _pair("P-5", "SD", "SD"),
    ]
    report = reader_agreement(pairs).as_dict()
    assert tuple(report) == AGREEMENT_KEYS
    assert report["bor_agreement_pct"] == 40.0
    assert report["adjudication_rate_pct"] == 60.0
    assert report["adjudicated_n"] == 3
    assert report["accepted_reader_1_pct"] == 33.3
    assert report["accepted_reader_2_pct"] == 66.7
    assert report["pd_date_agreement_pct"] == 100.0
    header, values = agreement_csv_text(reader_agreement(pairs)).splitlines()
    assert header.split(",") == list(AGREEMENT_KEYS)
    assert values.split(",")[AGREEMENT_KEYS.index("bor_agreement_pct")] == "40.0"


def test_an_accepted_read_must_be_reader_1_or_2() -> None:
    with pytest.raises(EndpointError, match="patient P-1: accepted must be"):
        _pair("P-1", "PR", "SD", accepted="adjudicator")
    with pytest.raises(EndpointError, match="tolerance must be >= 0"):
        reader_agreement([], pd_tolerance_days=-1)
