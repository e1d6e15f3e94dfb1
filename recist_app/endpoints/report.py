"""Write an analysis to a folder: JSON, CSV, PNG plots, a PDF and an HTML report.

Figures are rendered with the Agg canvas (``FigureCanvasAgg``) and the PDF with
``PdfPages``; nothing touches pyplot or a display.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING

from recist_app.endpoints.agreement import agreement_csv_text
from recist_app.endpoints.errors import EndpointError
from recist_app.endpoints.plots import plots_for
from recist_app.endpoints.tables import (
    Table,
    biomarker_table,
    bor_table,
    endpoints_to_dict,
    risk_table,
    safety_table,
    subjects_table,
    summary_table,
)

if TYPE_CHECKING:
    from pathlib import Path

    from matplotlib.figure import Figure

    from recist_app.endpoints.agreement import ReaderAgreement
    from recist_app.endpoints.study import TrialEndpoints

__all__ = ["agreement_table", "new_figure", "write_endpoint_outputs"]

_FIGURE_SIZE_IN = (10.0, 6.5)


def new_figure(size_in: tuple[float, float] = _FIGURE_SIZE_IN) -> Figure:
    """A matplotlib ``Figure`` on an Agg canvas, ready for the ``draw_*`` functions."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size_in, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def write_endpoint_outputs(
    result: TrialEndpoints,
    out_dir: Path,
    *,
    plots: bool = True,
    agreement: ReaderAgreement | None = None,
) -> tuple[Path, ...]:
    """Write ``endpoints.json``, ``subjects.csv``, ``summary.csv`` and the reports.

    With a central review's ``agreement`` report, ``endpoints.json`` carries it
    under ``agreement`` (the keys of ``recist-app agreement --format json``),
    ``agreement.csv`` holds it and the reports show its table.

    With adverse events also ``safety.csv`` (the safety table), with biomarkers
    ``biomarkers.csv`` (ORR and survival by group). With ``plots``, also one PNG per
    plot the analysis has data for, ``report.pdf`` (summary page, safety and
    biomarker tables, plots) and ``report.html`` (tables + the PNGs). Returns the
    paths written.

    Raises
    ------
    EndpointError
        When the folder or a file cannot be written.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise EndpointError(
            f"{out_dir}: cannot create folder: {error.strerror}"
        ) from None
    data = endpoints_to_dict(result)
    if agreement is not None:
        data["agreement"] = agreement.as_dict()
    written = [
        _write_text(
            out_dir / "endpoints.json",
            json.dumps(data, indent=2, ensure_ascii=False) + "\n",
        ),
        _write_text(out_dir / "subjects.csv", subjects_table(result).csv_text()),
        _write_text(out_dir / "summary.csv", summary_table(result).csv_text()),
    ]
    if result.adverse_events is not None:
        written.append(
            _write_text(out_dir / "safety.csv", safety_table(result).csv_text())
        )
    if result.biomarkers is not None:
        written.append(
            _write_text(out_dir / "biomarkers.csv", biomarker_table(result).csv_text())
        )
    if agreement is not None:
        written.append(
            _write_text(out_dir / "agreement.csv", agreement_csv_text(agreement))
        )
    if plots:
        written += _write_figures(result, out_dir, agreement)
    return tuple(written)


def agreement_table(agreement: ReaderAgreement) -> Table:
    """The agreement report as a two-column table (measure, value)."""
    return Table(columns=("measure", "value"), rows=tuple(agreement.table_rows()))


def _write_text(path: Path, text: str) -> Path:
    try:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as error:
        raise EndpointError(f"{path}: cannot write: {error.strerror}") from None
    return path


def _write_figures(
    result: TrialEndpoints, out_dir: Path, agreement: ReaderAgreement | None = None
) -> list[Path]:
    from matplotlib.backends.backend_pdf import PdfPages

    written: list[Path] = []
    pdf_path = out_dir / "report.pdf"
    try:
        with PdfPages(pdf_path) as pdf:
            summary = new_figure((8.27, 11.69))
            _draw_summary_page(summary, result)
            pdf.savefig(summary)
            for table, title in _extra_tables(result, agreement):
                page = new_figure((11.69, 8.27))
                _draw_tables(page, ((table, title),), (1,))
                pdf.savefig(page)
            for stem, _title, draw in plots_for(result):
                figure = new_figure()
                draw(figure, result)
                png = out_dir / f"{stem}.png"
                figure.savefig(png, dpi=120)
                pdf.savefig(figure)
                written.append(png)
    except OSError as error:
        raise EndpointError(f"{pdf_path}: cannot write: {error.strerror}") from None
    written.append(pdf_path)
    written.append(
        _write_text(out_dir / "report.html", _html_report(result, agreement))
    )
    return written


def _draw_summary_page(figure: Figure, result: TrialEndpoints) -> None:
    tables = (
        (
            summary_table(result),
            f"Trial endpoints — data cut-off {result.data_cutoff_date.isoformat()}",
        ),
        (bor_table(result), "Best overall response, n (%)"),
        (risk_table(result), "Numbers at risk by month"),
    )
    _draw_tables(figure, tables, (4, 1.3, 1))


def _extra_tables(
    result: TrialEndpoints, agreement: ReaderAgreement | None = None
) -> list[tuple[Table, str]]:
    """The agreement, safety and biomarker tables, when the analysis has them."""
    extra: list[tuple[Table, str]] = []
    if agreement is not None:
        extra.append(
            (agreement_table(agreement), "Central review: agreement between readers")
        )
    if result.adverse_events is not None:
        safety = result.adverse_events
        extra.append(
            (
                safety_table(result),
                "Treatment-emergent adverse events by system organ class, "
                f"n (%) of the safety population (n = {safety.safety_population})",
            )
        )
    if result.biomarkers is not None:
        extra.append((biomarker_table(result), "Response and survival by biomarker"))
    return extra


def _draw_tables(
    figure: Figure,
    tables: tuple[tuple[Table, str], ...],
    height_ratios: tuple[float, ...],
) -> None:
    grid = figure.add_gridspec(len(tables), 1, height_ratios=height_ratios)
    for index, (table, title) in enumerate(tables):
        axes = figure.add_subplot(grid[index])
        axes.axis("off")
        axes.set_title(title, loc="left")
        if not table.rows:
            axes.text(0, 0.9, "(none)", transform=axes.transAxes, va="top")
            continue
        drawn = axes.table(
            cellText=[list(row) for row in table.rows],
            colLabels=list(table.columns),
            loc="upper left",
            cellLoc="left",
        )
        drawn.auto_set_font_size(False)
        drawn.set_fontsize(8)
        drawn.auto_set_column_width(list(range(len(table.columns))))
        drawn.scale(1.0, 1.3)


def _html_table(columns: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_report(
    result: TrialEndpoints, agreement: ReaderAgreement | None = None
) -> str:
    summary = summary_table(result)
    subjects = subjects_table(result)
    bors = bor_table(result)
    risk = risk_table(result)
    images = "".join(
        f"<h2>{html.escape(title)}</h2>"
        f'<img src="{stem}.png" alt="{html.escape(title)}">'
        for stem, title, _draw in plots_for(result)
    )
    extra = "".join(
        f"<h2>{html.escape(title)}</h2>{_html_table(table.columns, table.rows)}"
        for table, title in _extra_tables(result, agreement)
    )
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in result.warnings)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<title>Trial endpoints</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;"
        "white-space:pre-wrap}"
        "img{max-width:100%}</style></head><body>"
        f"<h1>Trial endpoints — data cut-off {result.data_cutoff_date.isoformat()}</h1>"
        f"{_html_table(summary.columns, summary.rows)}"
        f"<h2>Best overall response</h2>{_html_table(bors.columns, bors.rows)}"
        f"<h2>Numbers at risk (months)</h2>{_html_table(risk.columns, risk.rows)}"
        + (f"<h2>Warnings</h2><ul>{warnings}</ul>" if warnings else "")
        + f"{extra}{images}"
        f"<h2>Subjects</h2>{_html_table(subjects.columns, subjects.rows)}"
        "</body></html>\n"
    )
