"""Response panel: sums, changes and responses at the visit read, with reasons."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QTextBrowser, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from recist_app.recist import Assessment, Reading, TimepointAssessment
    from recist_app.ui.document import ReadingDocument

__all__ = ["RESPONSE_COLORS", "ResponsePanel", "response_html"]

RESPONSE_COLORS = {
    "CR": "#1f9d55",
    "PR": "#38a169",
    "SD": "#b7791f",
    "PD": "#e53e3e",
    "NE": "#718096",
    "NON-CR/NON-PD": "#b7791f",
    "NED": "#718096",
}


def _mm(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} mm"


def _signed(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{value:+.1f} {unit}"


def _badge(code: str | None) -> str:
    if code is None:
        return "—"
    color = RESPONSE_COLORS.get(code, "#4a5568")
    return f'<b style="color:{color}">{html.escape(code)}</b>'


def _follow_up_html(timepoint: TimepointAssessment) -> list[str]:
    rows = [
        ("Sum of diameters", _mm(timepoint.sum_of_diameters_mm)),
        (
            "Change from baseline",
            f"{_signed(timepoint.change_from_baseline_pct, '%')} "
            f"({_signed(timepoint.change_from_baseline_mm, 'mm')})",
        ),
        ("Nadir", _mm(timepoint.nadir_mm)),
        (
            "Change from nadir",
            f"{_signed(timepoint.change_from_nadir_pct, '%')} "
            f"({_signed(timepoint.change_from_nadir_mm, 'mm')})",
        ),
        ("Target", _badge(timepoint.target_response)),
        ("Non-target", _badge(timepoint.non_target_response)),
        ("New lesions", html.escape(timepoint.new_lesions.value)),
        ("Overall", _badge(timepoint.overall_response)),
        ("Best overall so far", _badge(timepoint.best_overall_response_so_far)),
    ]
    parts = ["<table cellspacing=2>"]
    parts += [f"<tr><td>{name}</td><td>{value}</td></tr>" for name, value in rows]
    parts.append("</table>")
    if timepoint.reasons:
        parts.append("<p><b>Why</b></p><ul>")
        parts += [f"<li>{html.escape(reason)}</li>" for reason in timepoint.reasons]
        parts.append("</ul>")
    return parts


def response_html(reading: Reading, assessment: Assessment, visit: str) -> str:
    """The panel's content for ``visit`` as rich text."""
    parts: list[str] = []
    baseline = assessment.baseline
    timepoint = reading.timepoint(visit) if visit else None
    if timepoint is None:
        return "<p>No visit in this reading yet.</p>"
    parts.append(
        f"<h3>{html.escape(visit.title())} — {timepoint.date.isoformat()}</h3>"
    )
    if timepoint.is_baseline:
        parts.append(
            "<table cellspacing=2>"
            "<tr><td>Baseline sum</td>"
            f"<td>{_mm(baseline.sum_of_diameters_mm)}</td></tr>"
            f"<tr><td>Target lesions</td><td>{baseline.target_count}</td></tr>"
            f"<tr><td>Non-target lesions</td><td>{baseline.non_target_count}</td></tr>"
            "<tr><td>Disease status</td>"
            f"<td>{_badge(baseline.overall_response)}</td></tr>"
            f"<tr><td>Conformance</td><td>{len(baseline.warnings)} warning(s)</td></tr>"
            "</table>"
        )
    else:
        try:
            parts += _follow_up_html(assessment.timepoint(visit))
        except KeyError:
            parts.append("<p>This visit is not assessed.</p>")
    best = assessment.best_overall_response
    confirmed = "confirmed" if best.confirmed else "unconfirmed"
    parts.append(
        f"<p><b>Best overall response</b>: {_badge(best.response)} ({confirmed}"
        + (f", {best.date.isoformat()}" if best.date is not None else "")
        + ")</p>"
    )
    return "\n".join(parts)


class ResponsePanel(QWidget):
    """Shows the assessment of the visit read; refreshes from the document only."""

    def __init__(
        self, document: ReadingDocument, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._document = document
        self.title = QLabel("<b>Response (RECIST 1.1)</b>")
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.browser)
        document.reading_changed.connect(self._refresh)
        document.visit_changed.connect(lambda _visit: self._refresh())
        self._refresh()

    def _refresh(self, *_args: object) -> None:
        document = self._document
        self.title.setText(f"<b>Response ({document.reading.criteria.value})</b>")
        self.browser.setHtml(
            response_html(document.reading, document.assessment, document.visit)
        )

    def text(self) -> str:
        """The panel's plain text (what the reader sees)."""
        return self.browser.toPlainText()
