"""Endpoint plots drawn into a caller's matplotlib ``Figure`` (no pyplot, no display).

Each ``draw_*`` function clears the figure and draws one plot, so the same code fills
a PNG, a PDF page, or a ``FigureCanvasQTAgg`` in the trial view. Colours follow the
confirmed BOR everywhere (:data:`BOR_COLOURS`), and the CTCAE grade in the adverse
event plot (:data:`GRADE_COLOURS`). The safety and biomarker plots say so when the
analysis had no adverse events or biomarkers; :func:`plots_for` lists the plots an
analysis has data for (the report's).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from recist_app.endpoints.options import DAYS_PER_MONTH

if TYPE_CHECKING:
    import datetime
    from collections.abc import Callable

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from recist_app.endpoints.biomarkers import BiomarkerResult
    from recist_app.endpoints.statistics import KaplanMeierEstimate
    from recist_app.endpoints.study import TrialEndpoints
    from recist_app.endpoints.subject import SubjectEndpoints

__all__ = [
    "BOR_COLOURS",
    "GRADE_COLOURS",
    "PLOTS",
    "draw_adverse_events",
    "draw_forest",
    "draw_kaplan_meier",
    "draw_orr_by_biomarker",
    "draw_os",
    "draw_pfs",
    "draw_spider",
    "draw_swimmer",
    "draw_ttp",
    "draw_waterfall",
    "plots_for",
]

_Location = Literal["upper right", "upper left", "lower right"]

BOR_COLOURS: dict[str, str] = {
    "CR": "#1b7837",
    "PR": "#5aae61",
    "SD": "#f1a340",
    "NON-CR/NON-PD": "#d8b365",
    "PD": "#d73027",
    "NE": "#878787",
    "NED": "#4575b4",
    "MISSING": "#c7c7c7",
    # iRECIST: the colour of the RECIST category each counts as; iUPD lighter.
    "iCR": "#1b7837",
    "iPR": "#5aae61",
    "iSD": "#f1a340",
    "NON-iCR/NON-iUPD": "#d8b365",
    "iUPD": "#f4a582",
    "iCPD": "#d73027",
}


def _colour(subject: SubjectEndpoints) -> str:
    return BOR_COLOURS[subject.bor_category]


def _legend(axes: Axes, categories: list[str], location: _Location) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(color=BOR_COLOURS[c], label=c) for c in categories]
    if handles:
        axes.legend(handles=handles, title="BOR", fontsize="small", loc=location)


def _present(subjects: list[SubjectEndpoints]) -> list[str]:
    seen = {s.bor_category for s in subjects}
    return [c for c in BOR_COLOURS if c in seen]


def draw_waterfall(figure: Figure, result: TrialEndpoints) -> None:
    """Best % change of the sum of diameters per patient, sorted, coloured by BOR."""
    figure.clear()
    axes = figure.add_subplot(1, 1, 1)
    subjects = sorted(
        (s for s in result.subjects if s.best_change_pct is not None),
        key=lambda s: (-(s.best_change_pct or 0.0), s.patient_id),
    )
    positions = range(len(subjects))
    axes.bar(
        positions,
        [s.best_change_pct or 0.0 for s in subjects],
        color=[_colour(s) for s in subjects],
        width=0.8,
    )
    axes.axhline(20, color="#d73027", linestyle="--", linewidth=0.8)
    axes.axhline(-30, color="#1b7837", linestyle="--", linewidth=0.8)
    axes.axhline(0, color="black", linewidth=0.6)
    axes.set_xticks([])
    axes.set_xlim(-1, max(len(subjects), 1))
    axes.set_ylabel("Best change in sum of diameters from baseline (%)")
    axes.set_title(f"Waterfall plot (n = {len(subjects)} with a measured follow-up)")
    _legend(axes, _present(subjects), "upper right")


def draw_spider(figure: Figure, result: TrialEndpoints) -> None:
    """% change of the sum of diameters over time, one line per patient."""
    figure.clear()
    axes = figure.add_subplot(1, 1, 1)
    drawn: list[SubjectEndpoints] = []
    for subject in result.subjects:
        points = [
            (v.study_day / DAYS_PER_MONTH, v.change_from_baseline_pct)
            for v in subject.visits
            if v.change_from_baseline_pct is not None
            and (subject.progression_date is None or v.date <= subject.progression_date)
        ]
        if not points:
            continue
        drawn.append(subject)
        axes.plot(
            [0.0] + [p[0] for p in points],
            [0.0] + [p[1] for p in points],
            color=_colour(subject),
            linewidth=0.9,
            marker="o",
            markersize=2.5,
            alpha=0.85,
        )
    axes.axhline(20, color="#d73027", linestyle="--", linewidth=0.8)
    axes.axhline(-30, color="#1b7837", linestyle="--", linewidth=0.8)
    axes.set_xlabel("Months since first dose")
    axes.set_ylabel("Change in sum of diameters from baseline (%)")
    axes.set_title("Spider plot")
    _legend(axes, _present(drawn), "upper left")


def draw_swimmer(figure: Figure, result: TrialEndpoints) -> None:
    """Time on study per patient with response, progression and death markers."""
    figure.clear()
    axes = figure.add_subplot(1, 1, 1)
    subjects = sorted(result.subjects, key=lambda s: (s.os.days, s.patient_id))
    for row, subject in enumerate(subjects):
        start = subject.first_dose_date
        length = subject.os.days / DAYS_PER_MONTH
        axes.barh(row, length, color=_colour(subject), height=0.7)

        def month(date: datetime.date, begin: datetime.date = start) -> float:
            return ((date - begin).days + 1) / DAYS_PER_MONTH

        if subject.first_response_date is not None:
            axes.plot(month(subject.first_response_date), row, "k^", markersize=3.5)
        if subject.progression_date is not None:
            axes.plot(month(subject.progression_date), row, "rx", markersize=4)
        if subject.death_date is not None:
            axes.plot(month(subject.death_date), row, "ks", markersize=3)
        elif not subject.os.event:
            axes.plot(length, row, ">", color="#4575b4", markersize=3.5)
    axes.set_yticks(
        range(len(subjects)),
        labels=[s.patient_id for s in subjects],
        fontsize=max(3.0, min(8.0, 400 / max(len(subjects), 1))),
    )
    axes.set_ylim(-1, len(subjects))
    axes.set_xlabel("Months since first dose")
    axes.set_title(
        "Swimmer plot: ▲ first CR/PR, ✕ PD, ■ death, ▶ alive at last contact"
    )
    _legend(axes, _present(subjects), "lower right")


def draw_kaplan_meier(
    figure: Figure,
    fit: KaplanMeierEstimate,
    risk_times_days: tuple[float, ...],
    *,
    title: str,
) -> None:
    """Kaplan–Meier curve with its band, censor marks and numbers at risk below."""
    figure.clear()
    axes = figure.add_subplot(1, 1, 1)
    months = [t / DAYS_PER_MONTH for t in fit.timeline]
    axes.step(months, fit.survival, where="post", color="#2166ac", linewidth=1.5)
    axes.fill_between(
        months, fit.lower, fit.upper, step="post", color="#2166ac", alpha=0.15
    )
    censored = [t / DAYS_PER_MONTH for t in fit.censor_times]
    if censored:
        axes.plot(
            censored,
            [fit.at(t).survival or 0.0 for t in fit.censor_times],
            "|",
            color="#2166ac",
            markersize=7,
        )
    median = fit.median_days
    if median is not None and math.isfinite(median):
        axes.axhline(0.5, color="grey", linestyle=":", linewidth=0.8)
        axes.axvline(
            median / DAYS_PER_MONTH, color="grey", linestyle=":", linewidth=0.8
        )
        text = f"median {median / DAYS_PER_MONTH:.1f} mo"
    else:
        text = "median not reached"
    axes.set_ylim(0, 1.02)
    axes.set_ylabel(f"{fit.label} probability")
    axes.set_title(f"{title}\nn = {fit.subjects}, {fit.events} events; {text}")
    axes.grid(alpha=0.3)
    ticks = [t / DAYS_PER_MONTH for t in risk_times_days]
    axes.set_xticks(ticks)
    axes.set_xlim(0, max(ticks[-1] if ticks else 1.0, 1.0))
    # Numbers at risk a fixed distance (points) under the tick labels, whatever
    # the figure size: x in data (ticks) or axes fraction (label), y at the axis.
    at_axis = axes.get_xaxis_transform()
    axes.annotate(
        "At risk",
        xy=(0, 0),
        xycoords="axes fraction",
        xytext=(-14, -26),
        textcoords="offset points",
        ha="right",
        va="center",
        fontsize="small",
    )
    for tick, days in zip(ticks, risk_times_days, strict=True):
        axes.annotate(
            str(fit.at_risk(days)),
            xy=(tick, 0),
            xycoords=at_axis,
            xytext=(0, -26),
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize="small",
        )
    axes.set_xlabel("Months since first dose", labelpad=22)


def draw_pfs(figure: Figure, result: TrialEndpoints) -> None:
    """Kaplan–Meier plot of PFS."""
    draw_kaplan_meier(
        figure, result.pfs, result.risk_times_days, title="Progression-free survival"
    )


def draw_ttp(figure: Figure, result: TrialEndpoints) -> None:
    """Kaplan–Meier plot of time to progression (death without PD censored)."""
    draw_kaplan_meier(
        figure, result.ttp, result.risk_times_days, title="Time to progression"
    )


def draw_os(figure: Figure, result: TrialEndpoints) -> None:
    """Kaplan–Meier plot of OS."""
    draw_kaplan_meier(
        figure, result.os, result.risk_times_days, title="Overall survival"
    )


GRADE_COLOURS: tuple[str, ...] = ("#fee08b", "#fdae61", "#f46d43", "#d73027", "#1a1a1a")
"""Bar colour of CTCAE grades 1 to 5."""

_MOST_FREQUENT_TERMS = 15


def _no_data(figure: Figure, text: str) -> None:
    axes = figure.add_subplot(1, 1, 1)
    axes.axis("off")
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes)


def draw_adverse_events(figure: Figure, result: TrialEndpoints) -> None:
    """The most frequent TEAE terms: % of patients, stacked by worst grade."""
    figure.clear()
    safety = result.adverse_events
    if safety is None or not safety.by_term or not safety.safety_population:
        _no_data(figure, "No adverse events given (AE.csv)")
        return
    axes = figure.add_subplot(1, 1, 1)
    terms = list(safety.by_term[:_MOST_FREQUENT_TERMS])[::-1]  # most frequent on top
    rows = range(len(terms))
    left = [0.0] * len(terms)
    total = safety.safety_population
    for grade, colour in enumerate(GRADE_COLOURS, start=1):
        widths = [100 * t.worst_grade_counts[grade - 1] / total for t in terms]
        axes.barh(
            rows,
            widths,
            left=left,
            color=colour,
            edgecolor="white",
            linewidth=0.5,
            label=f"grade {grade}",
        )
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for row, term in zip(rows, terms, strict=True):
        axes.annotate(
            f"{term.any_grade_n}",
            xy=(left[row], row),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize="small",
        )
    axes.set_yticks(list(rows), labels=[t.term for t in terms], fontsize="small")
    axes.set_xlabel(
        f"Patients with the TEAE (% of the safety population, n = {total}); "
        "each at the worst grade"
    )
    axes.set_xlim(0, max(max(left) * 1.12, 1.0))
    axes.set_title(
        f"Most frequent treatment-emergent adverse events (top {len(terms)})"
    )
    axes.legend(fontsize="small", loc="lower right", title="CTCAE")
    axes.grid(axis="x", alpha=0.3)


def _marker_name(marker: BiomarkerResult) -> str:
    if marker.cutoff is None:
        return marker.name
    how = "cutoff" if marker.cutoff_chosen else "median"
    return f"{marker.name} ({how} {marker.cutoff:g})"


def draw_forest(figure: Figure, result: TrialEndpoints) -> None:
    """Hazard ratio (non-reference vs reference group) per biomarker, PFS and OS."""
    from matplotlib.ticker import FixedLocator, NullLocator

    figure.clear()
    markers = [m for m in result.biomarkers or () if len(m.groups) == 2]
    if not markers:
        text = (
            "No biomarkers given (BIO.csv)"
            if not result.biomarkers
            else "No biomarker with exactly two groups: no hazard ratio"
        )
        _no_data(figure, text)
        return
    axes = figure.add_subplot(1, 1, 1)
    labels: list[str] = []
    bounds: list[float] = [1.0]
    row = 0
    for marker in markers:
        for endpoint, hazard, p_value, colour in (
            ("PFS", marker.pfs_hr, marker.pfs_logrank_p, "#2166ac"),
            ("OS", marker.os_hr, marker.os_logrank_p, "#b2182b"),
        ):
            y = -row
            labels.append(f"{_marker_name(marker)}\n{marker.comparison}, {endpoint}")
            if hazard is None:
                text = "HR not estimable"
            else:
                axes.plot([hazard.lower, hazard.upper], [y, y], color=colour, lw=1.5)
                axes.plot(hazard.estimate, y, "s", color=colour, markersize=6)
                bounds += [hazard.lower, hazard.upper]
                text = f"{hazard.estimate:.2f} ({hazard.lower:.2f}–{hazard.upper:.2f})"
            if p_value is not None:
                text += f"\nlog-rank p {p_value:.2g}"
            axes.annotate(
                text,
                xy=(1, y),
                xycoords=("axes fraction", "data"),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize="small",
            )
            row += 1
    axes.axvline(1.0, color="black", linewidth=0.8)
    axes.set_xscale("log")
    low, high = min(bounds) / 1.2, max(bounds) * 1.2
    axes.set_xlim(low, high)
    ticks = [t for t in (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 10, 20) if low <= t <= high]
    axes.xaxis.set_major_locator(FixedLocator(ticks))
    axes.xaxis.set_minor_locator(NullLocator())
    axes.set_xticklabels([f"{t:g}" for t in ticks])
    axes.set_yticks([-r for r in range(row)], labels=labels, fontsize="small")
    axes.set_ylim(-row + 0.5, 0.5)
    axes.set_xlabel(
        "Hazard ratio with 95 % CI (Cox model, Efron ties); "
        "< 1: lower hazard in the first-named group"
    )
    axes.set_title("Forest plot: PFS and OS by biomarker group")
    axes.grid(axis="x", alpha=0.3)


def _group_name(marker: BiomarkerResult, label: str) -> str:
    if marker.cutoff is None:
        return f"{marker.name}: {label}"
    sign = "≤" if label == "low" else ">"
    return f"{marker.name}: {label} ({sign} {marker.cutoff:g})"


def draw_orr_by_biomarker(figure: Figure, result: TrialEndpoints) -> None:
    """ORR with its Clopper–Pearson interval per biomarker group."""
    figure.clear()
    markers = [m for m in result.biomarkers or () if m.groups]
    if not markers:
        _no_data(figure, "No biomarkers given (BIO.csv)")
        return
    axes = figure.add_subplot(1, 1, 1)
    labels: list[str] = []
    row = 0
    for number, marker in enumerate(markers):
        if number:
            axes.axhline(-row + 0.5, color="#bbbbbb", linewidth=0.6)
        for index, group in enumerate(marker.groups):
            y = -row
            labels.append(_group_name(marker, group.label))
            orr = group.orr
            if orr.estimate is not None and orr.lower is not None:
                upper = orr.upper if orr.upper is not None else orr.estimate
                axes.plot([100 * orr.lower, 100 * upper], [y, y], color="#1b7837")
                axes.plot(100 * orr.estimate, y, "o", color="#1b7837", markersize=6)
                text = f"{group.responders}/{group.n} = {100 * orr.estimate:.1f} %"
            else:
                text = "none in the response population"
            if index == 0 and marker.orr_fisher_p is not None:
                text += f"\nFisher p {marker.orr_fisher_p:.2g}"
            axes.annotate(
                text,
                xy=(1, y),
                xycoords=("axes fraction", "data"),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize="small",
            )
            row += 1
    overall = result.orr.estimate
    if overall is not None:
        axes.axvline(100 * overall, color="grey", linestyle=":", linewidth=0.8)
    axes.set_yticks([-r for r in range(row)], labels=labels, fontsize="small")
    axes.set_ylim(-row + 0.5, 0.5)
    axes.set_xlim(0, 100)
    axes.set_xlabel("ORR, % with 95 % Clopper–Pearson CI (dotted: the whole trial)")
    axes.set_title("Objective response rate by biomarker group")
    axes.grid(axis="x", alpha=0.3)


PLOTS: tuple[tuple[str, str, Callable[[Figure, TrialEndpoints], None]], ...] = (
    ("waterfall", "Waterfall plot", draw_waterfall),
    ("spider", "Spider plot", draw_spider),
    ("swimmer", "Swimmer plot", draw_swimmer),
    ("km_pfs", "Kaplan–Meier PFS", draw_pfs),
    ("km_ttp", "Kaplan–Meier TTP", draw_ttp),
    ("km_os", "Kaplan–Meier OS", draw_os),
    ("adverse_events", "Adverse events", draw_adverse_events),
    ("forest", "Forest plot", draw_forest),
    ("orr_by_biomarker", "ORR by biomarker", draw_orr_by_biomarker),
)
"""``(file stem, title, draw function)`` of every plot, in report order."""

_SAFETY_PLOTS = frozenset({"adverse_events"})
_BIOMARKER_PLOTS = frozenset({"forest", "orr_by_biomarker"})


def plots_for(
    result: TrialEndpoints,
) -> tuple[tuple[str, str, Callable[[Figure, TrialEndpoints], None]], ...]:
    """The plots of :data:`PLOTS` that ``result`` has data for (the report's)."""
    return tuple(
        plot
        for plot in PLOTS
        if (plot[0] not in _SAFETY_PLOTS or result.adverse_events is not None)
        and (plot[0] not in _BIOMARKER_PLOTS or result.biomarkers is not None)
    )
