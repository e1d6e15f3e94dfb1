"""Frozen results of :func:`recist_app.recist.assess`: what the engine derived."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist_app.recist.errors import UnknownVisitError

if TYPE_CHECKING:
    import datetime

    from recist_app.recist.enums import Criteria, NewLesionFinding, Response

__all__ = [
    "Assessment",
    "BaselineAssessment",
    "BestOverallResponse",
    "ConformanceWarning",
    "TimepointAssessment",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConformanceWarning:
    """A baseline finding that breaks a rule of docs/rules.md section A."""

    rule: str
    message: str
    lesion_id: str | None = None

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineAssessment:
    """The baseline: its sum of diameters, disease status and conformance warnings.

    ``sum_of_diameters_mm`` is ``None`` when a target lacks a baseline diameter.
    ``overall_response`` is ``NED`` when there is no disease at all (A8), else None.
    """

    visit: str | None
    date: datetime.date | None
    sum_of_diameters_mm: float | None
    target_count: int
    non_target_count: int
    overall_response: Response | None
    warnings: tuple[ConformanceWarning, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TimepointAssessment:
    """Responses at one follow-up, each with the reason a radiologist can read.

    Sums and changes are ``None`` where they cannot be computed (no targets, or a
    target not assessed). ``best_overall_response_so_far`` uses only the visits up
    to this one. ``new_lesion_sum_mm`` is iRECIST's sum of new-lesion targets (H4).
    Percentages are rounded to 0.1 %, millimetres to 0.1 mm;
    the classification itself uses exact values.
    """

    visit: str
    date: datetime.date
    sum_of_diameters_mm: float | None
    all_targets_assessed: bool
    change_from_baseline_mm: float | None
    change_from_baseline_pct: float | None
    nadir_mm: float | None
    change_from_nadir_mm: float | None
    change_from_nadir_pct: float | None
    target_response: Response | None
    non_target_response: Response | None
    new_lesions: NewLesionFinding
    overall_response: Response
    best_overall_response_so_far: Response
    reasons: tuple[str, ...]
    new_lesion_sum_mm: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BestOverallResponse:
    """Best overall response across timepoints (docs/rules.md G1–G6).

    ``date`` is the first assessment of the response; ``confirmation_date`` is the
    confirming assessment for a confirmed CR/PR, else ``None``.
    """

    response: Response
    confirmed: bool
    date: datetime.date | None
    confirmation_date: datetime.date | None
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    """Everything derived from one reading.

    ``best_overall_response`` follows the reading's ``require_confirmation``
    parameter; both variants are always present for endpoint work.
    """

    patient_id: str
    criteria: Criteria
    engine_version: str
    baseline: BaselineAssessment
    timepoints: tuple[TimepointAssessment, ...]
    best_overall_response: BestOverallResponse
    best_overall_response_confirmed: BestOverallResponse
    best_overall_response_unconfirmed: BestOverallResponse

    def timepoint(self, visit: str) -> TimepointAssessment:
        """The assessment of follow-up ``visit``.

        Raises
        ------
        UnknownVisitError
            No follow-up has this label (also a ``KeyError``).
        """
        for timepoint in self.timepoints:
            if timepoint.visit == visit:
                return timepoint
        raise UnknownVisitError(f"visit {visit}: no such follow-up in the assessment")
