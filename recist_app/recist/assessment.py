"""Frozen results of :func:`recist_app.recist.assess`: what the engine derived."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import MISSING, dataclass, fields
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from recist_app.recist.enums import CountedBasis
from recist_app.recist.errors import UnknownVisitError

if TYPE_CHECKING:
    import datetime

    from recist_app.recist.enums import Criteria, NewLesionFinding, Response

__all__ = [
    "NO_DIAMETERS",
    "Assessment",
    "BaselineAssessment",
    "BestOverallResponse",
    "ConformanceWarning",
    "CountedDiameter",
    "CountedDiameters",
    "TimepointAssessment",
]

_BASIS_CODES = frozenset(basis.value for basis in CountedBasis)


class CountedDiameter(NamedTuple):
    """The diameter one lesion counted at one visit, and why.

    ``diameter_um`` is exactly what the rules added to the sum, in the integer
    micrometres of the engine's exact arithmetic; :attr:`diameter_mm` is the same
    value in millimetres (not rounded to 0.1 mm). It is the long axis, a node's
    short axis (A2, A6) or, under mRECIST, the viable long axis (J1); the
    ``too_small_mm`` parameter for a lesion too small to measure (B2); 0 for a
    lesion that disappeared (B2) or merged into another (B3); the sum of a split
    lesion's parts (B3). It is ``None`` when the lesion is not assessed (B4):
    ``basis`` then says whether it was not evaluable, not done, missing, or
    measured without the axis the criteria count.

    One lesion's entry of :class:`CountedDiameters`, made when it is read.
    """

    lesion_id: str
    diameter_um: int | None
    basis: CountedBasis

    @property
    def diameter_mm(self) -> float | None:
        """The counted diameter in millimetres, ``None`` when not assessed."""
        value = self.diameter_um
        return None if value is None else value / 1000


@dataclass(frozen=True, slots=True)
class CountedDiameters(Sequence[CountedDiameter]):
    """What each lesion counted at one visit, as :class:`CountedDiameter` in order.

    One object per visit holding three parallel tuples, not one object per lesion:
    ``assess`` makes these for every target at every visit, and per-lesion objects
    are each tracked by Python's garbage collector, which made collecting many
    assessments (``benchmarks/bench_assess.py``) markedly slower. ``basis_codes``
    are :class:`~recist_app.recist.CountedBasis` values (plain strings: a tuple of
    strings and numbers stops being tracked after its first collection);
    iterating or indexing gives ``CountedDiameter`` with the enum member.

    Raises
    ------
    ValueError
        The tuples differ in length, or a basis code is unknown.
    """

    lesion_ids: tuple[str, ...]
    diameters_um: tuple[int | None, ...]
    basis_codes: tuple[str, ...]

    def __post_init__(self) -> None:
        count = len(self.lesion_ids)
        if len(self.diameters_um) != count or len(self.basis_codes) != count:
            raise ValueError(
                "counted diameters: lesion_ids, diameters_um and basis_codes "
                "differ in length"
            )
        if not _BASIS_CODES.issuperset(self.basis_codes):
            unknown = sorted(set(self.basis_codes) - _BASIS_CODES)
            raise ValueError(f"counted diameters: unknown basis {', '.join(unknown)}")

    def __len__(self) -> int:
        return len(self.lesion_ids)

    @overload
    def __getitem__(self, index: int) -> CountedDiameter: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[CountedDiameter, ...]: ...

    def __getitem__(
        self, index: int | slice
    ) -> CountedDiameter | tuple[CountedDiameter, ...]:
        if isinstance(index, slice):
            return tuple(self)[index]
        return CountedDiameter(
            self.lesion_ids[index],
            self.diameters_um[index],
            CountedBasis(self.basis_codes[index]),
        )

    def __iter__(self) -> Iterator[CountedDiameter]:
        for lesion_id, value_um, code in zip(
            self.lesion_ids, self.diameters_um, self.basis_codes, strict=True
        ):
            yield CountedDiameter(lesion_id, value_um, CountedBasis(code))

    def by_lesion(self) -> dict[str, CountedDiameter]:
        """The entries by lesion id."""
        return {diameter.lesion_id: diameter for diameter in self}

    @classmethod
    def of(cls, diameters: Sequence[CountedDiameter]) -> CountedDiameters:
        """The sequence of ``diameters`` (in that order)."""
        return cls(
            tuple(d.lesion_id for d in diameters),
            tuple(d.diameter_um for d in diameters),
            tuple(d.basis.value for d in diameters),
        )


NO_DIAMETERS = CountedDiameters((), (), ())
"""No lesion counted anything (no targets, or not iRECIST's new lesions)."""


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

    ``read`` is whether the baseline was read: a finding recorded, or the
    reader's explicit "no disease at baseline" (:attr:`TimePoint.no_disease`); a
    baseline with neither, or no baseline visit, is not read.
    ``sum_of_diameters_mm`` is ``None`` when a target lacks a baseline diameter.
    ``overall_response`` is ``NED`` when the reader found no disease at all (A8),
    else None. ``target_diameters`` holds each target's counted diameter in lesion
    order (A6; empty without a baseline visit).
    """

    visit: str | None
    date: datetime.date | None
    read: bool
    sum_of_diameters_mm: float | None
    target_count: int
    non_target_count: int
    overall_response: Response | None
    warnings: tuple[ConformanceWarning, ...]
    target_diameters: CountedDiameters


@dataclass(frozen=True, slots=True, kw_only=True)
class TimepointAssessment:
    """Responses at one follow-up, each with the reason a radiologist can read.

    A follow-up that was not read (no measurement, no non-target state, no
    new-lesion entry: :attr:`TimePoint.is_read`) has no response at all:
    ``overall_response``, ``new_lesions`` and the target and non-target responses
    are ``None`` (:attr:`is_read` is false), its reason says so, and it is no
    assessment for the best response, the nadir or the endpoints.
    Sums and changes are ``None`` where they cannot be computed (no targets, or a
    target not assessed). ``best_overall_response_so_far`` uses only the visits up
    to this one. ``target_diameters`` holds what each target counted, in lesion
    order (A2, A6, B2–B4, J1). Under iRECIST ``new_lesion_sum_mm`` is the sum of the
    new-lesion targets (H4, ``None`` when none has been chosen) and
    ``new_lesion_diameters`` what each new-lesion target seen at this visit counted;
    other criteria leave them ``None`` and empty. Percentages and sums are rounded
    to 0.1 % and 0.1 mm, counted diameters are exact; the classification itself
    uses exact values.
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
    new_lesions: NewLesionFinding | None
    overall_response: Response | None
    best_overall_response_so_far: Response
    reasons: tuple[str, ...]
    target_diameters: CountedDiameters
    new_lesion_sum_mm: float | None
    new_lesion_diameters: CountedDiameters

    @property
    def is_read(self) -> bool:
        """Whether the visit was read (it then has an overall response)."""
        return self.overall_response is not None


def _slot_constructor(cls: type) -> Callable[..., Any]:
    """A function building ``cls`` from all its fields, positionally, in order.

    The object is the one ``cls(**fields)`` builds: same fields, same values,
    equal. It sets each slot through the slot's own descriptor instead of the
    frozen ``__init__``'s ``object.__setattr__`` per field, about 2 µs less for
    a :class:`TimepointAssessment` (issue 23: ``assess`` builds one per
    follow-up). Only for a frozen, slotted dataclass without ``__post_init__``
    or defaults, so nothing the constructor does is skipped.
    """
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} checks itself: build it with its __init__")
    names = [field.name for field in fields(cls)]
    if any(field.default is not MISSING for field in fields(cls)):
        raise TypeError(f"{cls.__name__} has defaults: build it with its __init__")
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    for name in names:
        namespace[f"_set_{name}"] = cls.__dict__[name].__set__
    body = "".join(f"    _set_{name}(self, {name})\n" for name in names)
    source = (
        f"def build({', '.join(names)}):\n    self = _new(_cls)\n{body}"
        "    return self\n"
    )
    exec(source, namespace)  # as the dataclasses module builds __init__
    build: Callable[..., Any] = namespace["build"]
    build.__doc__ = f"{cls.__name__}(*fields in order), see _slot_constructor."
    return build


new_timepoint_assessment: Callable[..., TimepointAssessment] = _slot_constructor(
    TimepointAssessment
)
"""``TimepointAssessment`` from its 18 fields in order, built faster (issue 23)."""


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

    def target_diameters_at(self, visit: str) -> dict[str, CountedDiameter]:
        """What each target counted at ``visit`` (the baseline too), by lesion id.

        Raises :class:`UnknownVisitError` when ``visit`` is neither the baseline nor a
        follow-up.
        """
        if visit == self.baseline.visit:
            return self.baseline.target_diameters.by_lesion()
        return self.timepoint(visit).target_diameters.by_lesion()
