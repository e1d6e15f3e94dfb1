"""Analysis options: the protocol parameters and the sensitivity switches."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from recist_app.endpoints.errors import EndpointError

__all__ = [
    "DAYS_PER_MONTH",
    "CbrDefinition",
    "EndpointOptions",
    "Population",
    "SurvivalCi",
]

DAYS_PER_MONTH = 30.4375  # admiralonco vignettes/adtte.Rmd: months = days / 30.4375


class CbrDefinition(StrEnum):
    """Which clinical benefit rate to report (docs/standards.md 3.3)."""

    RESPONSE_6_MONTHS = "response-6m"
    """This trial: confirmed CR/PR whose duration of response is ≥ 183 days."""
    CR_PR_SD_24_WEEKS = "cr-pr-sd-24w"
    """The other common one: confirmed CR/PR, or SD lasting ≥ 24 weeks (168 days)
    from the first dose until progression (RECIST 1.1 §4.4.2); NON-CR/NON-PD only
    with ``cbr_counts_non_cr_non_pd``."""


class Population(StrEnum):
    """Denominator of the proportion endpoints."""

    MEASURABLE = "measurable"
    """Treated patients with measurable disease (≥ 1 target lesion) at baseline."""
    ALL_TREATED = "all"
    """Every treated patient; DCR then also counts NON-CR/NON-PD."""


class SurvivalCi(StrEnum):
    """Pointwise confidence interval of the Kaplan–Meier estimate."""

    LOG_LOG = "log-log"
    """Exponential Greenwood (lifelines default, R's ``conf.type = "log-log"``)."""
    LINEAR = "linear"
    """Plain Greenwood, Ŝ ± z·se, clipped to [0, 1] (SAS ``CONFTYPE=LINEAR``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointOptions:
    """Protocol parameters and switches for one endpoint analysis.

    Parameters
    ----------
    assessment_interval_days
        Scheduled interval between tumour assessments (monthly scans: 28).
    visit_window_days
        Allowed window around a scheduled assessment.
    missed_assessments
        Consecutive missed assessments after which a PD or death is censored at the
        last adequate assessment (PFS row 5); also the "2 intervals" of rows 2 and 4.
    censor_after_missed_assessments
        PFS row 5 on (primary) or off (sensitivity: count every PD and death).
    censor_at_new_therapy
        PFS row 6 on (primary) or off (sensitivity: ignore new anticancer therapy
        for PFS and DOR; responses after it still do not count for BOR).
    use_confirmed_response
        ORR, DCR, CBR and DOR from the confirmed BOR (primary) or the unconfirmed.
    cbr_definition, cbr_response_min_days, cbr_sd_min_days
        Clinical benefit rate definition and its thresholds in days, counted
        end − start + 1 like every duration: the duration of response (183), or
        stable disease from the first dose until progression (168 = 24 weeks).
    cbr_counts_non_cr_non_pd
        ``cr-pr-sd-24w``: count NON-CR/NON-PD lasting as long as SD must. Off by
        default: NON-CR/NON-PD is not SD (RECIST 1.1 Table 2 footnote).
    population
        Denominator of ORR, DCR and CBR.
    allow_unread_patients
        Treat a clinical row without a reading as a treated patient without a
        baseline assessment (PFS row 1, BOR missing) instead of an error.
    confidence_level
        Of every interval (Clopper–Pearson, Kaplan–Meier).
    survival_ci
        Pointwise interval of Ŝ(t), also used for the median's interval.
    pfs_landmarks_days, mortality_landmarks_days
        Landmarks for the PFS rates (3, 6 months) and mortality (6 months, 1 year).
    risk_table_step_days
        Spacing of the numbers-at-risk table (3 months).
    biomarker_cutoffs
        ``(name, value)`` pairs: split the numeric biomarker ``name`` at ``value``
        ("low" ≤ value < "high") instead of at its median.
    """

    assessment_interval_days: int = 28
    visit_window_days: int = 7
    missed_assessments: int = 2
    censor_after_missed_assessments: bool = True
    censor_at_new_therapy: bool = True
    use_confirmed_response: bool = True
    cbr_definition: CbrDefinition = CbrDefinition.RESPONSE_6_MONTHS
    cbr_response_min_days: int = 183
    cbr_sd_min_days: int = 168
    cbr_counts_non_cr_non_pd: bool = False
    population: Population = Population.MEASURABLE
    allow_unread_patients: bool = False
    confidence_level: float = 0.95
    survival_ci: SurvivalCi = SurvivalCi.LOG_LOG
    pfs_landmarks_days: tuple[float, ...] = (3 * DAYS_PER_MONTH, 6 * DAYS_PER_MONTH)
    mortality_landmarks_days: tuple[float, ...] = (6 * DAYS_PER_MONTH, 365.25)
    risk_table_step_days: float = 3 * DAYS_PER_MONTH
    biomarker_cutoffs: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        for name in (
            "assessment_interval_days",
            "missed_assessments",
            "cbr_response_min_days",
            "cbr_sd_min_days",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise EndpointError(f"options: {name} must be an integer >= 1")
        window = self.visit_window_days
        if isinstance(window, bool) or not isinstance(window, int) or window < 0:
            raise EndpointError("options: visit_window_days must be an integer >= 0")
        if not 0.5 <= self.confidence_level < 1:
            raise EndpointError("options: confidence_level must be in [0.5, 1)")
        for name in ("pfs_landmarks_days", "mortality_landmarks_days"):
            if any(day <= 0 for day in getattr(self, name)):
                raise EndpointError(f"options: {name} must be > 0 days")
        if self.risk_table_step_days <= 0:
            raise EndpointError("options: risk_table_step_days must be > 0")
        names = [name for name, _value in self.biomarker_cutoffs]
        for name, value in self.biomarker_cutoffs:
            if names.count(name) > 1:
                raise EndpointError(f"options: biomarker cutoff of {name!r} twice")
            if not math.isfinite(value):
                raise EndpointError(
                    f"options: biomarker cutoff of {name!r} must be a finite number"
                )
        object.__setattr__(self, "cbr_definition", CbrDefinition(self.cbr_definition))
        object.__setattr__(self, "population", Population(self.population))
        object.__setattr__(self, "survival_ci", SurvivalCi(self.survival_ci))

    @property
    def missed_assessment_gap_days(self) -> int:
        """Longest gap that is not "≥ N missed assessments": N intervals + window."""
        return self.missed_assessments * self.assessment_interval_days + (
            self.visit_window_days
        )

    def biomarker_cutoff(self, name: str) -> float | None:
        """The cutoff chosen for biomarker ``name``, or ``None`` (its median)."""
        return next((v for n, v in self.biomarker_cutoffs if n == name), None)
