"""Agreement between two blinded central readers (docs/standards.md 3.9).

From each patient's pair of signed primary reads: the best overall response
agreement (percent and Cohen's kappa with its confidence interval), the
agreement on the date of first progression (both without PD, or both with PD
within a tolerance in days), the adjudication rate (discordant patients over
patients with both reads signed) and, among adjudicated patients, how often the
adjudicator accepted each reader (reader bias).

Cohen's kappa is ``(p_o - p_e) / (1 - p_e)`` over the BOR categories either
reader used; its standard error is Cohen's (1960) large-sample approximation
``sqrt(p_o (1 - p_o) / (n (1 - p_e)^2))`` and the interval is ``kappa ± z SE``
clipped to [-1, 1]. With every patient in one category (``p_e = 1``) kappa is
not defined and is ``None``.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from recist_app.endpoints.errors import EndpointError

if TYPE_CHECKING:
    import datetime
    from collections.abc import Sequence

__all__ = [
    "AGREEMENT_KEYS",
    "ReaderAgreement",
    "ReaderPair",
    "agreement_csv_text",
    "cohen_kappa",
    "pd_dates_agree",
    "reader_agreement",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReaderPair:
    """One patient's two signed primary reads, as the agreement needs them.

    Parameters
    ----------
    bor_reader_1, bor_reader_2
        Each reader's confirmed best overall response code (``PR``, ``SD`` ...).
    pd_date_reader_1, pd_date_reader_2
        The date of each reader's first progression (``None``: no PD).
    discordant
        Whether the patient went to adjudication under the trial's rules.
    accepted
        ``"reader 1"`` or ``"reader 2"`` when the adjudicator decided, else
        ``None``.
    """

    patient_id: str
    bor_reader_1: str
    bor_reader_2: str
    pd_date_reader_1: datetime.date | None
    pd_date_reader_2: datetime.date | None
    discordant: bool
    accepted: str | None = None

    def __post_init__(self) -> None:
        if self.accepted not in (None, "reader 1", "reader 2"):
            raise EndpointError(
                f"patient {self.patient_id}: accepted must be 'reader 1' or "
                f"'reader 2', got {self.accepted!r}"
            )


def pd_dates_agree(
    first: datetime.date | None, second: datetime.date | None, tolerance_days: int
) -> bool:
    """Whether two first-PD dates agree: both none, or both within the tolerance."""
    if first is None or second is None:
        return first is None and second is None
    return abs((first - second).days) <= tolerance_days


def cohen_kappa(
    pairs: Sequence[tuple[str, str]], *, confidence: float = 0.95
) -> tuple[float | None, float | None, float | None]:
    """Cohen's kappa of paired ratings, with its confidence interval.

    >>> cohen_kappa([("PR", "PR"), ("SD", "SD"), ("PR", "SD"), ("PD", "PD")])[0]
    0.6363636363636364

    Returns ``(kappa, low, high)``; all ``None`` without pairs or when chance
    agreement is 1 (one category only).
    """
    n = len(pairs)
    if n == 0:
        return None, None, None
    observed = sum(1 for a, b in pairs if a == b) / n
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    expected = sum(first[c] * second[c] for c in set(first) | set(second)) / (n * n)
    if math.isclose(expected, 1.0):
        return None, None, None
    kappa = (observed - expected) / (1 - expected)
    se = math.sqrt(observed * (1 - observed) / (n * (1 - expected) ** 2))
    # the normal quantile from the standard library: scipy.stats alone takes
    # 0.4 s to import, on the workstation's start-up path (issue 23)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    return kappa, max(-1.0, kappa - z * se), min(1.0, kappa + z * se)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReaderAgreement:
    """The agreement report of a central review (module docstring)."""

    patients: int
    bor_agreements: int
    bor_kappa: float | None
    bor_kappa_ci: tuple[float | None, float | None]
    pd_date_agreements: int
    pd_tolerance_days: int
    discordant: int
    adjudicated: int
    accepted_reader_1: int
    accepted_reader_2: int

    @staticmethod
    def _pct(count: int, total: int) -> float | None:
        return None if total == 0 else round(100.0 * count / total, 1)

    def as_dict(self) -> dict[str, Any]:
        """The report under the keys of ``agreement --format json``."""
        low, high = self.bor_kappa_ci
        return {
            "patients_both_signed": self.patients,
            "bor_agreement_n": self.bor_agreements,
            "bor_agreement_pct": self._pct(self.bor_agreements, self.patients),
            "bor_kappa": _round(self.bor_kappa),
            "bor_kappa_ci_low": _round(low),
            "bor_kappa_ci_high": _round(high),
            "pd_date_agreement_n": self.pd_date_agreements,
            "pd_date_agreement_pct": self._pct(self.pd_date_agreements, self.patients),
            "pd_date_tolerance_days": self.pd_tolerance_days,
            "discordant_n": self.discordant,
            "adjudication_rate_pct": self._pct(self.discordant, self.patients),
            "adjudicated_n": self.adjudicated,
            "accepted_reader_1_n": self.accepted_reader_1,
            "accepted_reader_1_pct": self._pct(
                self.accepted_reader_1, self.adjudicated
            ),
            "accepted_reader_2_n": self.accepted_reader_2,
            "accepted_reader_2_pct": self._pct(
                self.accepted_reader_2, self.adjudicated
            ),
        }

    def table_rows(self) -> list[tuple[str, str]]:
        """``(measure, value)`` rows for reports and the Trial view."""
        data = self.as_dict()

        def pct(n_key: str, pct_key: str, of: int) -> str:
            value = data[pct_key]
            return "-" if value is None else f"{data[n_key]}/{of} ({value:.1f} %)"

        kappa = (
            "not defined (one category)"
            if self.bor_kappa is None
            else f"{data['bor_kappa']:.2f} (95 % CI {data['bor_kappa_ci_low']:.2f} "
            f"to {data['bor_kappa_ci_high']:.2f})"
        )
        return [
            ("patients with both reads signed", str(self.patients)),
            (
                "BOR agreement",
                pct("bor_agreement_n", "bor_agreement_pct", self.patients),
            ),
            ("BOR Cohen's kappa", kappa),
            (
                f"first PD date agreement (±{self.pd_tolerance_days} days)",
                pct("pd_date_agreement_n", "pd_date_agreement_pct", self.patients),
            ),
            (
                "adjudication rate",
                pct("discordant_n", "adjudication_rate_pct", self.patients),
            ),
            (
                "adjudicator accepted reader 1",
                pct("accepted_reader_1_n", "accepted_reader_1_pct", self.adjudicated),
            ),
            (
                "adjudicator accepted reader 2",
                pct("accepted_reader_2_n", "accepted_reader_2_pct", self.adjudicated),
            ),
        ]


AGREEMENT_KEYS = tuple(
    ReaderAgreement(
        patients=0,
        bor_agreements=0,
        bor_kappa=None,
        bor_kappa_ci=(None, None),
        pd_date_agreements=0,
        pd_tolerance_days=0,
        discordant=0,
        adjudicated=0,
        accepted_reader_1=0,
        accepted_reader_2=0,
    ).as_dict()
)
"""The keys of :meth:`ReaderAgreement.as_dict`, in order (the CSV's columns)."""


def reader_agreement(
    pairs: Sequence[ReaderPair], *, pd_tolerance_days: int = 0
) -> ReaderAgreement:
    """The agreement report of ``pairs`` (patients with both primary reads signed)."""
    if pd_tolerance_days < 0:
        raise EndpointError(
            f"PD date tolerance must be >= 0 days, got {pd_tolerance_days}"
        )
    kappa, low, high = cohen_kappa([(p.bor_reader_1, p.bor_reader_2) for p in pairs])
    accepted = Counter(p.accepted for p in pairs if p.accepted is not None)
    return ReaderAgreement(
        patients=len(pairs),
        bor_agreements=sum(1 for p in pairs if p.bor_reader_1 == p.bor_reader_2),
        bor_kappa=kappa,
        bor_kappa_ci=(low, high),
        pd_date_agreements=sum(
            1
            for p in pairs
            if pd_dates_agree(p.pd_date_reader_1, p.pd_date_reader_2, pd_tolerance_days)
        ),
        pd_tolerance_days=pd_tolerance_days,
        discordant=sum(1 for p in pairs if p.discordant),
        adjudicated=sum(accepted.values()),
        accepted_reader_1=accepted["reader 1"],
        accepted_reader_2=accepted["reader 2"],
    )


def agreement_csv_text(agreement: ReaderAgreement) -> str:
    """One header row (:data:`AGREEMENT_KEYS`) and one row of values."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    data = agreement.as_dict()
    writer.writerow(AGREEMENT_KEYS)
    writer.writerow("" if data[key] is None else data[key] for key in AGREEMENT_KEYS)
    return buffer.getvalue()
