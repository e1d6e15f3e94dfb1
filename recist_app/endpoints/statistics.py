"""Exact binomial intervals and Kaplan–Meier estimates (docs/standards.md 3.3, 3.6).

Proportions use the exact Clopper–Pearson interval from
``scipy.stats.binomtest(k, n).proportion_ci(method="exact")``. Time-to-event
endpoints use lifelines' ``KaplanMeierFitter``; its median is the first time with
Ŝ(t) ≤ 0.5 (``qth_survival_time``). SAS LIFETEST and R's ``survfit`` instead take the
midpoint of the interval when Ŝ sits exactly at 0.5 over it; we keep lifelines'
convention, so such a median is the *start* of that interval. The median's interval
is where the pointwise band crosses 0.5 (``lifelines.utils.median_survival_times``),
which for the log-log band is the Brookmeyer–Crowley style interval R reports.

Everything returned is plain frozen data (floats, tuples), so views, JSON and plots
need no pandas.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from recist_app.endpoints.errors import EndpointError
from recist_app.endpoints.options import SurvivalCi

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "KaplanMeierEstimate",
    "LandmarkEstimate",
    "ProportionEstimate",
    "clopper_pearson",
    "kaplan_meier",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProportionEstimate:
    """``count`` of ``total`` with an exact (Clopper–Pearson) interval.

    ``estimate``, ``lower`` and ``upper`` are ``None`` when ``total`` is 0.
    """

    count: int
    total: int
    estimate: float | None
    lower: float | None
    upper: float | None
    confidence_level: float


def clopper_pearson(
    count: int, total: int, *, confidence_level: float = 0.95
) -> ProportionEstimate:
    """Proportion ``count/total`` with its exact Clopper–Pearson interval.

    >>> round(clopper_pearson(7, 50).lower, 4), round(clopper_pearson(7, 50).upper, 4)
    (0.0582, 0.2674)
    """
    if not 0 <= count <= total:
        raise EndpointError(
            f"proportion: need 0 <= count <= total, got {count}/{total}"
        )
    if total == 0:
        return ProportionEstimate(
            count=0,
            total=0,
            estimate=None,
            lower=None,
            upper=None,
            confidence_level=confidence_level,
        )
    from scipy.stats import binomtest  # imported late: scipy.stats is slow to load

    interval = binomtest(count, total).proportion_ci(
        confidence_level=confidence_level, method="exact"
    )
    return ProportionEstimate(
        count=count,
        total=total,
        estimate=count / total,
        lower=float(interval.low),
        upper=float(interval.high),
        confidence_level=confidence_level,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class LandmarkEstimate:
    """Ŝ(t) with its pointwise interval; ``estimable`` is False beyond follow-up.

    lifelines returns the last value for any t past the last observed time, so a
    landmark after the longest follow-up is reported as not estimable (NE).
    """

    time_days: float
    estimable: bool
    survival: float | None
    lower: float | None
    upper: float | None

    def complement(self) -> LandmarkEstimate:
        """1 − Ŝ(t) with the interval (1 − upper, 1 − lower): mortality rates."""
        if not self.estimable:
            return self
        if self.survival is None or self.lower is None or self.upper is None:
            return self
        return LandmarkEstimate(
            time_days=self.time_days,
            estimable=True,
            survival=1 - self.survival,
            lower=1 - self.upper,
            upper=1 - self.lower,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class KaplanMeierEstimate:
    """A Kaplan–Meier fit as plain data.

    ``timeline``/``survival``/``lower``/``upper`` are the step function (right
    continuous, starting at t = 0 with Ŝ = 1). ``median_days`` and the interval
    bounds are ``math.inf`` when not reached, ``None`` when nobody is at risk.
    """

    label: str
    subjects: int
    events: int
    censored: int
    timeline: tuple[float, ...]
    survival: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    median_days: float | None
    median_lower_days: float | None
    median_upper_days: float | None
    max_time_days: float
    confidence_level: float
    ci_method: SurvivalCi
    censor_times: tuple[float, ...]
    durations: tuple[float, ...]

    def at(self, time_days: float) -> LandmarkEstimate:
        """Ŝ at ``time_days`` (step function) with its pointwise interval."""
        if self.subjects == 0 or time_days > self.max_time_days:
            return LandmarkEstimate(
                time_days=time_days,
                estimable=False,
                survival=None,
                lower=None,
                upper=None,
            )
        index = int(np.searchsorted(self.timeline, time_days, side="right")) - 1
        return LandmarkEstimate(
            time_days=time_days,
            estimable=True,
            survival=self.survival[index],
            lower=self.lower[index],
            upper=self.upper[index],
        )

    def at_risk(self, time_days: float) -> int:
        """Subjects still at risk at ``time_days`` (follow-up ≥ that time)."""
        return sum(1 for duration in self.durations if duration >= time_days)

    def numbers_at_risk(self, times_days: Sequence[float]) -> tuple[int, ...]:
        """:meth:`at_risk` at each of ``times_days``, sorting the durations once."""
        ordered = sorted(self.durations)
        return tuple(len(ordered) - bisect.bisect_left(ordered, t) for t in times_days)


def kaplan_meier(
    durations: Sequence[float],
    events: Sequence[bool],
    *,
    label: str,
    confidence_level: float = 0.95,
    ci_method: SurvivalCi = SurvivalCi.LOG_LOG,
) -> KaplanMeierEstimate:
    """Fit a Kaplan–Meier curve with lifelines and return it as plain data.

    Parameters
    ----------
    durations
        Time from origin to event or censoring, in days (≥ 0).
    events
        True for an event, False for censoring.
    label
        Name of the endpoint ("PFS").
    confidence_level
        Of the pointwise band and the median's interval.
    ci_method
        Log-log (exponential Greenwood, lifelines) or linear Greenwood.
    """
    if len(durations) != len(events):
        raise EndpointError(f"{label}: durations and events differ in length")
    if any(not math.isfinite(d) or d < 0 for d in durations):
        raise EndpointError(f"{label}: durations must be finite and >= 0")
    if not durations:
        return KaplanMeierEstimate(
            label=label,
            subjects=0,
            events=0,
            censored=0,
            timeline=(0.0,),
            survival=(1.0,),
            lower=(1.0,),
            upper=(1.0,),
            median_days=None,
            median_lower_days=None,
            median_upper_days=None,
            max_time_days=0.0,
            confidence_level=confidence_level,
            ci_method=ci_method,
            censor_times=(),
            durations=(),
        )
    from lifelines import KaplanMeierFitter

    alpha = 1 - confidence_level
    fitter = KaplanMeierFitter().fit(
        np.asarray(durations, dtype=float),
        np.asarray(events, dtype=bool),
        label=label,
        alpha=alpha,
    )
    timeline = fitter.survival_function_.index.to_numpy(dtype=float)
    survival = fitter.survival_function_[label].to_numpy(dtype=float)
    if ci_method is SurvivalCi.LINEAR:
        lower, upper = _linear_greenwood(fitter, survival, confidence_level)
    else:
        band = fitter.confidence_interval_
        lower = band.iloc[:, 0].to_numpy(dtype=float)
        upper = band.iloc[:, 1].to_numpy(dtype=float)
    event_flags = np.asarray(events, dtype=bool)
    duration_array = np.asarray(durations, dtype=float)
    return KaplanMeierEstimate(
        label=label,
        subjects=len(durations),
        events=int(event_flags.sum()),
        censored=int((~event_flags).sum()),
        timeline=tuple(timeline.tolist()),
        survival=tuple(survival.tolist()),
        lower=tuple(np.asarray(lower, dtype=float).tolist()),
        upper=tuple(np.asarray(upper, dtype=float).tolist()),
        median_days=float(fitter.median_survival_time_),
        median_lower_days=_first_time_at_or_below(timeline, lower, 0.5),
        median_upper_days=_first_time_at_or_below(timeline, upper, 0.5),
        max_time_days=float(duration_array.max()),
        confidence_level=confidence_level,
        ci_method=ci_method,
        censor_times=tuple(sorted(duration_array[~event_flags].tolist())),
        durations=tuple(duration_array.tolist()),
    )


def _first_time_at_or_below(
    timeline: np.ndarray, values: np.ndarray, level: float
) -> float:
    """First time the step function is ≤ ``level``; ``inf`` when it never is.

    The same rule as lifelines' ``qth_survival_time``, applied to the band's
    bounds as ``median_survival_times(kmf.confidence_interval_)`` does: the lower
    bound reaches 0.5 first and gives the median's lower limit, the upper bound
    its upper limit.
    """
    below = np.flatnonzero(values <= level)
    return float(timeline[below[0]]) if below.size else math.inf


def _linear_greenwood(
    fitter: object, survival: np.ndarray, confidence_level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Ŝ ± z·Ŝ·sqrt(Σ d/(n(n−d))), clipped to [0, 1] (docs/standards.md 3.6)."""
    from scipy.stats import norm

    table = fitter.event_table  # type: ignore[attr-defined]
    at_risk = table["at_risk"].to_numpy(dtype=float)
    observed = table["observed"].to_numpy(dtype=float)
    z = float(norm.ppf(0.5 + confidence_level / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(observed > 0, observed / (at_risk * (at_risk - observed)), 0.0)
        half_width = z * survival * np.sqrt(np.cumsum(terms))
        lower = np.clip(survival - half_width, 0.0, 1.0)
        upper = np.clip(survival + half_width, 0.0, 1.0)
    # Where Ŝ reached 0 the variance is undefined (n = d); the band collapses to 0.
    lower = np.where(np.isfinite(lower), lower, 0.0)
    upper = np.where(np.isfinite(upper), upper, 0.0)
    return lower, upper
