"""The reading report as PDF, drawn with matplotlib's PDF backend (no Qt).

One page per visit: patient and study data, the lesion table with measurements,
states and the diameter each target counted (from the assessment), the sum of
diameters (and iRECIST's new-lesion sum) and its changes, the target /
non-target / new-lesion and overall responses with their reasons, the best
overall response so far and overall, a key image of each lesion measured on an
image with the axes drawn, and the signed-by line. A visit that was not read
gets its page marked "not read" (it has no response). matplotlib keeps ``exchange``
free of Qt (the layering allows QPdfWriter only behind one explicit seam; it is not
needed). matplotlib, pydicom and highdicom are imported when a report is drawn,
not when this module is imported, so the command line starts fast.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist_app.exchange.errors import ExchangeError
from recist_app.recist import MeasurementState

if TYPE_CHECKING:
    import datetime
    from collections.abc import Mapping
    from pathlib import Path

    import numpy as np
    import numpy.typing as npt
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from pydicom.dataset import Dataset

    from recist_app.recist import (
        Assessment,
        Lesion,
        MeasurementGeometry,
        Reading,
        TimePoint,
    )

__all__ = ["ReportSignature", "write_pdf_report"]

_A4 = (8.27, 11.69)
_SOFT_TISSUE = (40.0, 400.0)
_LUNG = (-600.0, 1500.0)
_KEY_IMAGES_PER_PAGE = 6
NOT_READ = "not read"
"""A visit not read has no response: the report says so (never "NED")."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportSignature:
    """The sign-off line: who signed and when, or that the reading is a draft.

    ``audit_anchor`` is the hash of the audit row that recorded the signature
    (the chain head at sign-off); the report prints it so that a reader can
    later check the database still holds it (``audit verify --expect-head``).
    """

    status: str
    signed_by: str | None = None
    signed_at: str | None = None
    version: int = 0
    audit_anchor: str | None = None

    def line(self) -> str:
        """``Signed by X on T (version N)`` or ``DRAFT - not signed``."""
        if self.status == "signed" and self.signed_by:
            when = f" on {self.signed_at}" if self.signed_at else ""
            return f"Signed by {self.signed_by}{when} (version {self.version})"
        return "DRAFT - not signed"


def _iso(value: datetime.date | None) -> str:
    return "-" if value is None else value.isoformat()


def _fmt(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:g}{unit}"


def _counted(assessment: Assessment, timepoint: TimePoint) -> dict[str, str]:
    """Each target's counted diameter at ``timepoint`` (new-lesion targets too)."""
    try:
        found = list(assessment.target_diameters_at(timepoint.visit).values())
    except KeyError:
        return {}
    if not timepoint.is_baseline:
        found += assessment.timepoint(timepoint.visit).new_lesion_diameters
    return {d.lesion_id: _fmt(d.diameter_mm) for d in found}


def _lesion_rows(
    reading: Reading, assessment: Assessment, timepoint: TimePoint
) -> list[list[str]]:
    counted = _counted(assessment, timepoint)
    rows: list[list[str]] = []
    for m in timepoint.measurements:
        lesion = reading.lesion(m.lesion_id)
        state = m.state.value
        if m.state is MeasurementState.SPLIT:
            state += " " + "+".join(f"{p:g}" for p in m.parts_mm)
        if m.merged_into:
            state += f" into {m.merged_into}"
        rows.append(
            _row(
                lesion,
                (_fmt(m.long_axis_mm), _fmt(m.short_axis_mm)),
                counted.get(m.lesion_id, "-"),
                state,
            )
        )
    for a in timepoint.non_target:
        rows.append(_row(reading.lesion(a.lesion_id), ("-", "-"), "-", a.state.value))
    for o in timepoint.new_lesions:
        rows.append(
            _row(
                reading.lesion(o.lesion_id),
                (_fmt(o.long_axis_mm), _fmt(o.short_axis_mm)),
                counted.get(o.lesion_id, "-"),
                o.state.value,
            )
        )
    return rows


def _row(
    lesion: Lesion, axes_mm: tuple[str, str], counted_mm: str, state: str
) -> list[str]:
    site = lesion.organ + (f", {lesion.location}" if lesion.location else "")
    return [
        lesion.lesion_id,
        lesion.role.value,
        textwrap.shorten(site, 32, placeholder="..."),
        "yes" if lesion.is_lymph_node else "no",
        *axes_mm,
        counted_mm,
        state,
    ]


def _response_lines(
    reading: Reading, assessment: Assessment, timepoint: TimePoint
) -> list[str]:
    if timepoint.is_baseline:
        baseline = assessment.baseline
        lines = [
            f"Baseline sum of diameters: {_fmt(baseline.sum_of_diameters_mm, ' mm')}"
            f"  ({baseline.target_count} target, {baseline.non_target_count} "
            "non-target lesions)"
        ]
        if not baseline.read:
            lines.append(f"Overall: {NOT_READ} (no finding recorded)")
        elif baseline.overall_response is not None:
            lines.append(f"Overall: {baseline.overall_response.value}")
        lines += [f"Warning: {w}" for w in baseline.warnings]
        return lines
    result = assessment.timepoint(timepoint.visit)
    if not result.is_read:  # no response, never "no disease" (README, not read)
        return [
            f"OVERALL: {NOT_READ}",
            f"Best overall response so far: "
            f"{result.best_overall_response_so_far.value}",
            *(f"- {reason}" for reason in result.reasons),
        ]

    def code(value: object) -> str:
        return "-" if value is None else str(getattr(value, "value", value))

    new_lesion_sum = (
        []
        if result.new_lesion_sum_mm is None
        else [f"New-lesion sum (H4): {_fmt(result.new_lesion_sum_mm, ' mm')}"]
    )
    return [
        f"Sum of diameters: {_fmt(result.sum_of_diameters_mm, ' mm')}   change from "
        f"baseline: {_fmt(result.change_from_baseline_pct, ' %')}   from nadir "
        f"({_fmt(result.nadir_mm, ' mm')}): {_fmt(result.change_from_nadir_pct, ' %')}"
        f" / {_fmt(result.change_from_nadir_mm, ' mm')}",
        *new_lesion_sum,
        f"Target: {code(result.target_response)}   Non-target: "
        f"{code(result.non_target_response)}   New lesions: "
        f"{code(result.new_lesions)}   OVERALL: {code(result.overall_response)}",
        f"Best overall response so far: {code(result.best_overall_response_so_far)}",
        *(f"- {reason}" for reason in result.reasons),
    ]


def _read_pixels(path: Path) -> tuple[Dataset, npt.NDArray[np.float64]]:
    import numpy as np
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    try:
        dataset = dcmread(path)
        pixels = dataset.pixel_array.astype(np.float64)
    except (OSError, InvalidDicomError, ValueError, AttributeError) as error:
        raise ExchangeError(f"{path}: cannot read the key image: {error}") from None
    slope = float(dataset.get("RescaleSlope", 1) or 1)
    intercept = float(dataset.get("RescaleIntercept", 0) or 0)
    return dataset, pixels * slope + intercept


def _draw_key_image(
    axes: Axes, lesion: Lesion, geometry: MeasurementGeometry, path: Path, label: str
) -> None:
    from recist_app.exchange.sr import lps_to_pixel

    dataset, hu = _read_pixels(path)
    center, width = _LUNG if lesion.organ.lower() == "lung" else _SOFT_TISSUE
    lines: list[tuple[list[float], list[float], str]] = []
    for axis, colour in (
        (geometry.long_axis, "#ffd400"),
        (geometry.short_axis, "#00c8ff"),
    ):
        if axis is None:
            continue
        start = lps_to_pixel(dataset, axis.start_lps_mm)
        end = lps_to_pixel(dataset, axis.end_lps_mm)
        # SR coordinates put pixel centres at +0.5; imshow puts them at integers
        lines.append(
            ([start[0] - 0.5, end[0] - 0.5], [start[1] - 0.5, end[1] - 0.5], colour)
        )
    rows, columns = hu.shape
    r0, r1, c0, c1 = 0, rows, 0, columns
    if lines:
        xs = [x for line in lines for x in line[0]]
        ys = [y for line in lines for y in line[1]]
        spacing = min(float(v) for v in dataset.PixelSpacing)
        half = max(
            40.0 / spacing, (max(xs) - min(xs)) / 2 + 8, (max(ys) - min(ys)) / 2 + 8
        )
        cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        # only the region shown is embedded, which keeps the PDF small
        c0, c1 = max(0, int(cx - half)), min(columns, int(cx + half) + 1)
        r0, r1 = max(0, int(cy - half)), min(rows, int(cy + half) + 1)
    axes.imshow(
        hu[r0:r1, c0:c1],
        cmap="gray",
        vmin=center - width / 2,
        vmax=center + width / 2,
        interpolation="nearest",
        extent=(c0 - 0.5, c1 - 0.5, r1 - 0.5, r0 - 0.5),
    )
    for xs_line, ys_line, colour in lines:
        axes.plot(xs_line, ys_line, color=colour, linewidth=1.2)
    axes.set_title(label, fontsize=8)
    axes.set_xticks([])
    axes.set_yticks([])


def _key_images(
    reading: Reading, timepoint: TimePoint
) -> list[tuple[Lesion, MeasurementGeometry, str]]:
    found: list[tuple[Lesion, MeasurementGeometry, str]] = []
    for m in timepoint.measurements:
        if m.geometry is not None:
            found.append(
                (
                    reading.lesion(m.lesion_id),
                    m.geometry,
                    f"{m.lesion_id}: {_fmt(m.long_axis_mm, ' mm')} x "
                    f"{_fmt(m.short_axis_mm, ' mm')}",
                )
            )
    for o in timepoint.new_lesions:
        if o.geometry is not None:
            found.append(
                (
                    reading.lesion(o.lesion_id),
                    o.geometry,
                    f"{o.lesion_id} (new): {_fmt(o.long_axis_mm, ' mm')}",
                )
            )
    return found


def _page(
    reading: Reading,
    assessment: Assessment,
    timepoint: TimePoint,
    signature: ReportSignature,
    key_images: list[tuple[Lesion, MeasurementGeometry, str]],
    images: Mapping[str, Path],
    first: bool,
) -> Figure:
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

    figure = Figure(figsize=_A4)
    text = figure.add_axes((0.06, 0.50, 0.88, 0.46))
    text.axis("off")
    header = [
        f"{reading.criteria.value} reading report - {timepoint.visit}"
        + ("" if first else " (continued)"),
        f"Patient {reading.patient_id}    Visit {timepoint.visit} "
        f"({'baseline' if timepoint.is_baseline else 'follow-up'})    "
        f"Date {timepoint.date.isoformat()}    Modality {timepoint.modality.value}",
        f"First dose {_iso(reading.first_dose_date)}"
        f"    Study {timepoint.study_instance_uid or '-'}",
        f"Reader {reading.reader or '-'}    Engine {assessment.engine_version}",
    ]
    text.text(0, 1, header[0], fontsize=13, weight="bold", va="top")
    text.text(
        0, 0.94, "\n".join(header[1:]), fontsize=7.5, va="top", family="monospace"
    )
    rows = _lesion_rows(reading, assessment, timepoint)
    if rows and first:
        table = text.table(
            cellText=rows,
            colLabels=[
                "Lesion",
                "Role",
                "Site",
                "Node",
                "Long mm",
                "Short mm",
                "Counted mm",
                "State",
            ],
            colWidths=[0.07, 0.1, 0.31, 0.05, 0.08, 0.08, 0.1, 0.21],
            bbox=Bbox.from_bounds(
                0.0, 0.78 - 0.045 * (len(rows) + 1), 1.0, 0.045 * (len(rows) + 1)
            ),
        )
        table.auto_set_font_size(False)
        table.set_fontsize(7)
    bor = assessment.best_overall_response
    lines = _response_lines(reading, assessment, timepoint) if first else []
    lines.append(
        f"Best overall response: {bor.response.value} "
        f"({'confirmed' if bor.confirmed else 'unconfirmed'})"
        + (f" on {bor.date.isoformat()}" if bor.date else "")
    )
    wrapped = [piece for line in lines for piece in textwrap.wrap(line, 110) or [""]]
    top = 0.76 - 0.045 * (len(rows) + 1) if rows and first else 0.8
    text.text(0, top - 0.02, "\n".join(wrapped), fontsize=7.5, va="top")
    for index, (lesion, geometry, label) in enumerate(key_images):
        path = images.get(geometry.sop_instance_uid)
        column, row = index % 3, index // 3
        axes = figure.add_axes((0.06 + column * 0.30, 0.27 - row * 0.22, 0.27, 0.2))
        if path is None:
            axes.axis("off")
            axes.text(
                0.5, 0.5, f"{label}\nimage not available", ha="center", fontsize=7
            )
            continue
        _draw_key_image(axes, lesion, geometry, path, label)
    if signature.status == "signed" and signature.audit_anchor:
        figure.text(0.06, 0.034, signature.line(), fontsize=9, weight="bold")
        figure.text(
            0.06,
            0.014,
            f"Audit trail at sign-off: {signature.audit_anchor}",
            fontsize=6,
            family="monospace",
        )
    else:
        figure.text(0.06, 0.02, signature.line(), fontsize=9, weight="bold")
    figure.text(0.94, 0.02, "recist_app", fontsize=7, ha="right", color="grey")
    return figure


def write_pdf_report(
    reading: Reading,
    assessment: Assessment,
    path: Path,
    *,
    images: Mapping[str, Path],
    signature: ReportSignature,
    visits: tuple[str, ...] | None = None,
) -> int:
    """Write the reading report, one page (or more) per visit; return the page count.

    Parameters
    ----------
    reading, assessment
        The reading and ``assess(reading)``.
    path
        The PDF file to write.
    images
        Image files by SOP Instance UID, for the key images; lesions whose image is
        missing get a placeholder box naming the lesion.
    signature
        The sign-off line printed at the bottom of every page.
    visits
        Visits to include (default: all).
    """
    chosen = [t for t in reading.timepoints if visits is None or t.visit in visits]
    if not chosen:
        raise ExchangeError(f"PDF: reading of {reading.patient_id} has no such visit")
    from matplotlib.backends.backend_pdf import PdfPages

    pages = 0
    try:
        with PdfPages(
            path,
            metadata={
                "Title": f"RECIST reading report {reading.patient_id}",
                "Creator": "recist_app",
                "Producer": "recist_app (matplotlib)",
                "CreationDate": None,
            },
        ) as pdf:
            for timepoint in chosen:
                keys = _key_images(reading, timepoint)
                chunks = [
                    keys[i : i + _KEY_IMAGES_PER_PAGE]
                    for i in range(0, len(keys), _KEY_IMAGES_PER_PAGE)
                ] or [[]]
                for number, chunk in enumerate(chunks):
                    figure = _page(
                        reading,
                        assessment,
                        timepoint,
                        signature,
                        chunk,
                        images,
                        number == 0,
                    )
                    pdf.savefig(figure)
                    pages += 1
    except OSError as error:
        raise ExchangeError(f"{path}: cannot write: {error.strerror}") from None
    return pages
