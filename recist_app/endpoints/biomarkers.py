"""Response and survival by biomarker group (docs/standards.md 3.8).

The biomarker file is CSV: ``patient_id`` plus one column per biomarker, one row
per patient of the clinical file. An empty cell is a missing value: the patient
is left out of that biomarker. A column whose non-empty values are all numbers is
**numeric** and split at the median of its non-empty values, or at the cutoff
chosen for it (``EndpointOptions.biomarker_cutoffs``): "low" ≤ cutoff < "high",
"low" the reference. Any other column is **categorical**: each distinct value is
a group, the first in sorted order the reference.

Per group: ``n``, ``responders`` and the ORR with its Clopper–Pearson interval
count the group's patients in the response population, exactly as the trial's
ORR; Kaplan–Meier medians of PFS and OS (days / 30.4375; ``None`` when not
reached) use every treated patient of the group, with the times and events of
``subjects.csv``. Across groups: Fisher's exact test of the ORR (two-sided,
scipy; two groups only), the log-rank test of PFS and OS (lifelines; the
multivariate test for more than two groups) and, for exactly two groups, the
hazard ratio of the non-reference group against the reference from a Cox model
with the group as the only covariate (lifelines ``CoxPHFitter``, Efron ties),
with its Wald interval. A hazard ratio is ``None`` when a group has no event
(the Cox estimate does not exist).
"""

from __future__ import annotations

import csv
import io
import math
import statistics
import warnings
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from recist_app.endpoints.errors import EndpointError
from recist_app.endpoints.options import DAYS_PER_MONTH
from recist_app.endpoints.statistics import (
    ProportionEstimate,
    clopper_pearson,
    kaplan_meier,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

    from recist_app.endpoints.options import EndpointOptions
    from recist_app.endpoints.subject import SubjectEndpoints, TimeToEvent

__all__ = [
    "BiomarkerGroup",
    "BiomarkerKind",
    "BiomarkerResult",
    "BiomarkerTable",
    "HazardRatio",
    "analyse_biomarkers",
    "biomarkers_csv_text",
    "parse_biomarkers_csv",
    "read_biomarkers_csv",
]

LOW = "low"
HIGH = "high"


class BiomarkerKind(StrEnum):
    """How a biomarker's groups are formed."""

    NUMERIC = "numeric"
    """Every non-empty value is a number: split at the median (or a cutoff)."""
    CATEGORICAL = "categorical"
    """Each distinct value is a group."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BiomarkerTable:
    """The biomarker file: names in column order, raw text values per patient.

    ``values[patient_id][name]`` is the cell's text, ``""`` when missing.
    ``rows`` gives each patient's row in ``source`` for messages.
    """

    names: tuple[str, ...]
    values: Mapping[str, Mapping[str, str]]
    source: str = "biomarkers.csv"
    rows: Mapping[str, int] | None = None

    def where(self, patient_id: str) -> str:
        """``"FILE, row N"`` of ``patient_id``."""
        row = (self.rows or {}).get(patient_id)
        return f"{self.source}, row {row}" if row else self.source


def read_biomarkers_csv(path: Path) -> BiomarkerTable:
    """Read a biomarker file (module docstring).

    Raises
    ------
    EndpointError
        One line naming the file, row and column: no ``patient_id`` column, an
        empty or repeated column name, an empty or repeated patient id, a row
        whose cell count differs from the header.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise EndpointError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise EndpointError(f"{path}: cannot read: {error}") from None
    return parse_biomarkers_csv(text, source=str(path))


def parse_biomarkers_csv(
    text: str, *, source: str = "biomarkers.csv"
) -> BiomarkerTable:
    """Parse the text of a biomarker file; see :func:`read_biomarkers_csv`."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise EndpointError(f"{source}: empty file, expected a header row") from None
    except csv.Error as error:
        raise EndpointError(f"{source}, row 1: not valid CSV: {error}") from None
    names = _biomarker_names(header, source)
    values: dict[str, dict[str, str]] = {}
    rows: dict[str, int] = {}
    row_number = 1
    try:
        for row_number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            patient_id, by_name = _biomarker_row(cells, header, source, row_number)
            if patient_id in values:
                raise EndpointError(
                    f"{source}, row {row_number}, column patient_id: patient "
                    f"{patient_id!r} already in row {rows[patient_id]}"
                )
            values[patient_id] = by_name
            rows[patient_id] = row_number
    except csv.Error as error:
        raise EndpointError(
            f"{source}, row {row_number + 1}: not valid CSV: {error}"
        ) from None
    return BiomarkerTable(names=names, values=values, source=source, rows=rows)


def _biomarker_names(header: list[str], source: str) -> tuple[str, ...]:
    if "patient_id" not in header:
        raise EndpointError(f"{source}, row 1: missing required column patient_id")
    for index, name in enumerate(header):
        if not name:
            raise EndpointError(
                f"{source}, row 1, column {index + 1}: empty column name"
            )
        if header.index(name) != index:
            raise EndpointError(f"{source}, row 1, column {name}: column twice")
    names = tuple(name for name in header if name != "patient_id")
    if not names:
        raise EndpointError(f"{source}, row 1: no biomarker columns")
    return names


def _biomarker_row(
    cells: list[str], header: list[str], source: str, row: int
) -> tuple[str, dict[str, str]]:
    if len(cells) != len(header):
        raise EndpointError(
            f"{source}, row {row}: {len(cells)} cells, but the header has "
            f"{len(header)} columns"
        )
    by_name = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
    patient_id = by_name.pop("patient_id")
    if not patient_id:
        raise EndpointError(f"{source}, row {row}, column patient_id: empty")
    return patient_id, by_name


def biomarkers_csv_text(table: BiomarkerTable) -> str:
    """The biomarker file of ``table`` (``patient_id`` first, LF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("patient_id", *table.names))
    for patient_id, by_name in table.values.items():
        writer.writerow((patient_id, *(by_name.get(n, "") for n in table.names)))
    return buffer.getvalue()


@dataclass(frozen=True, slots=True, kw_only=True)
class HazardRatio:
    """A Cox hazard ratio (non-reference vs reference) with its Wald interval."""

    estimate: float
    lower: float
    upper: float


@dataclass(frozen=True, slots=True, kw_only=True)
class BiomarkerGroup:
    """One group of a biomarker.

    ``n``, ``responders`` and ``orr`` count the group's patients in the response
    population; ``patients`` are every treated patient of the group (the survival
    analyses), in the trial's order.
    """

    label: str
    n: int
    responders: int
    orr: ProportionEstimate
    pfs_median_months: float | None
    os_median_months: float | None
    patients: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class BiomarkerResult:
    """Response and survival by the groups of one biomarker.

    ``values`` are the patients' values (numbers for a numeric biomarker) in the
    trial's order, missing ones left out; ``cutoff`` is ``None`` for a
    categorical biomarker (and a numeric one without values).
    """

    name: str
    kind: BiomarkerKind
    cutoff: float | None
    cutoff_chosen: bool
    groups: tuple[BiomarkerGroup, ...]
    orr_fisher_p: float | None
    pfs_logrank_p: float | None
    os_logrank_p: float | None
    pfs_hr: HazardRatio | None
    os_hr: HazardRatio | None
    values: tuple[tuple[str, float | str], ...]

    def group_of(self, patient_id: str) -> str | None:
        """The label of ``patient_id``'s group; ``None`` when missing."""
        for group in self.groups:
            if patient_id in group.patients:
                return group.label
        return None

    @property
    def comparison(self) -> str:
        """What the hazard ratio compares: ``"high vs low"``."""
        if len(self.groups) != 2:
            return ""
        return f"{self.groups[1].label} vs {self.groups[0].label}"


def analyse_biomarkers(
    table: BiomarkerTable,
    subjects: Sequence[SubjectEndpoints],
    options: EndpointOptions,
) -> tuple[BiomarkerResult, ...]:
    """Analyse every biomarker of ``table`` over the trial's ``subjects``.

    Raises
    ------
    EndpointError
        A row of a patient without a clinical row, or a cutoff for a biomarker
        that is not in the file or is not numeric.
    """
    known = {s.patient_id for s in subjects}
    for patient_id in table.values:
        if patient_id not in known:
            raise EndpointError(
                f"{table.where(patient_id)}, column patient_id: unknown patient "
                f"{patient_id!r}, not in the clinical data"
            )
    for name, _value in options.biomarker_cutoffs:
        if name not in table.names:
            raise EndpointError(
                f"biomarker cutoff {name}: no such column in {table.source} "
                f"(columns: {', '.join(table.names)})"
            )
    return tuple(_analyse(name, table, subjects, options) for name in table.names)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _analyse(
    name: str,
    table: BiomarkerTable,
    subjects: Sequence[SubjectEndpoints],
    options: EndpointOptions,
) -> BiomarkerResult:
    raw = [
        (s, table.values[s.patient_id].get(name, ""))
        for s in subjects
        if table.values.get(s.patient_id, {}).get(name, "")
    ]
    numbers = [_number(text) for _s, text in raw]
    chosen = options.biomarker_cutoff(name)
    cutoff: float | None = None
    labelled: list[tuple[SubjectEndpoints, str]]
    if all(number is not None for number in numbers):
        kind = BiomarkerKind.NUMERIC
        values = [float(n) for n in numbers if n is not None]
        if values:
            cutoff = chosen if chosen is not None else statistics.median(values)
        labelled = [
            (s, LOW if cutoff is not None and value <= cutoff else HIGH)
            for (s, _text), value in zip(raw, values, strict=True)
        ]
        order = [LOW, HIGH]
        patient_values: list[tuple[str, float | str]] = [
            (s.patient_id, value) for (s, _t), value in zip(raw, values, strict=True)
        ]
    else:
        if chosen is not None:
            raise EndpointError(
                f"biomarker cutoff {name}: {name} in {table.source} is "
                "categorical (not every value is a number); a cutoff splits "
                "numeric biomarkers only"
            )
        kind = BiomarkerKind.CATEGORICAL
        labelled = [(s, text) for s, text in raw]
        order = sorted({text for _s, text in raw})
        patient_values = [(s.patient_id, text) for s, text in raw]
    groups = [
        _group(label, [s for s, g in labelled if g == label], options)
        for label in order
        if any(g == label for _s, g in labelled)
    ]
    members = [[s for s, g in labelled if g == group.label] for group in groups]
    two = len(groups) == 2
    return BiomarkerResult(
        name=name,
        kind=kind,
        cutoff=cutoff,
        cutoff_chosen=chosen is not None,
        groups=tuple(groups),
        orr_fisher_p=_fisher(groups) if two else None,
        pfs_logrank_p=_logrank([[s.pfs for s in m] for m in members]),
        os_logrank_p=_logrank([[s.os for s in m] for m in members]),
        pfs_hr=_hazard_ratio([[s.pfs for s in m] for m in members], options)
        if two
        else None,
        os_hr=_hazard_ratio([[s.os for s in m] for m in members], options)
        if two
        else None,
        values=tuple(patient_values),
    )


def _median_months(times: Iterable[TimeToEvent], label: str) -> float | None:
    rows = list(times)
    fit = kaplan_meier(
        [float(t.days) for t in rows], [t.event for t in rows], label=label
    )
    if fit.median_days is None or math.isinf(fit.median_days):
        return None
    return fit.median_days / DAYS_PER_MONTH


def _group(
    label: str, members: list[SubjectEndpoints], options: EndpointOptions
) -> BiomarkerGroup:
    population = [s for s in members if s.in_response_population]
    responders = sum(s.responder for s in population)
    return BiomarkerGroup(
        label=label,
        n=len(population),
        responders=responders,
        orr=clopper_pearson(
            responders, len(population), confidence_level=options.confidence_level
        ),
        pfs_median_months=_median_months((s.pfs for s in members), "PFS"),
        os_median_months=_median_months((s.os for s in members), "OS"),
        patients=tuple(s.patient_id for s in members),
    )


def _fisher(groups: Sequence[BiomarkerGroup]) -> float | None:
    from scipy.stats import fisher_exact

    table = [[g.responders, g.n - g.responders] for g in groups]
    if sum(g.n for g in groups) == 0:
        return None
    return _finite(fisher_exact(table, alternative="two-sided").pvalue)


def _finite(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _logrank(groups: Sequence[Sequence[TimeToEvent]]) -> float | None:
    """Log-rank p over the groups; ``None`` with fewer than two or no event."""
    if len(groups) < 2 or not any(t.event for group in groups for t in group):
        return None
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    if len(groups) == 2:
        first, second = groups
        result = logrank_test(
            [t.days for t in first],
            [t.days for t in second],
            event_observed_A=[t.event for t in first],
            event_observed_B=[t.event for t in second],
        )
    else:
        result = multivariate_logrank_test(
            [t.days for group in groups for t in group],
            [index for index, group in enumerate(groups) for _t in group],
            [t.event for group in groups for t in group],
        )
    return _finite(result.p_value)


def _hazard_ratio(
    groups: Sequence[Sequence[TimeToEvent]], options: EndpointOptions
) -> HazardRatio | None:
    """Cox HR of group 2 vs group 1 (Efron ties) with its Wald interval."""
    if any(not any(t.event for t in group) for group in groups):
        return None
    import pandas as pd  # type: ignore[import-untyped]  # lifelines' input
    from lifelines import CoxPHFitter
    from lifelines.exceptions import (
        ApproximationWarning,
        ConvergenceError,
        ConvergenceWarning,
        StatisticalWarning,
    )

    frame = pd.DataFrame(
        {
            "days": [t.days for group in groups for t in group],
            "event": [t.event for group in groups for t in group],
            "group": [index for index, group in enumerate(groups) for _t in group],
        }
    )
    fitter = CoxPHFitter(alpha=1 - options.confidence_level)
    try:
        with warnings.catch_warnings():
            # lifelines' notes on its own numerics: a fit that fails raises
            # ConvergenceError, and a diverging estimate is not finite (None).
            for category in (ConvergenceWarning, StatisticalWarning):
                warnings.simplefilter("ignore", category)
            warnings.simplefilter("ignore", ApproximationWarning)
            fitter.fit(frame, duration_col="days", event_col="event")
    except ConvergenceError:
        return None
    coefficient = float(fitter.params_["group"])
    lower, upper = (float(v) for v in fitter.confidence_intervals_.loc["group"])
    if not all(math.isfinite(v) for v in (coefficient, lower, upper)):
        return None
    try:
        return HazardRatio(
            estimate=math.exp(coefficient),
            lower=math.exp(lower),
            upper=math.exp(upper),
        )
    except OverflowError:  # a bound so wide its exponential is not a float
        return None
