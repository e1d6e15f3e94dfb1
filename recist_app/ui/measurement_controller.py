"""Turns finished gestures into undo commands, and readings into overlays.

The one-way flow of docs/architecture.md: the view emits plain pixel
coordinates, this controller converts them with :mod:`recist_app.imaging.geometry`
to patient LPS mm and lengths, lets :mod:`recist_app.recist.drawing` decide what the
drawing means for the reading (which lesion, which axis, which rule), and pushes
one command on the document. Overlays go the other way: from the reading's LPS
geometry back to pixel coordinates of the volume shown.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from recist_app.imaging import index_to_lps_mm, line_profile, lps_mm_to_index
from recist_app.recist import (
    AxisGeometry,
    DrawnAxes,
    MeasurementMethod,
    ReadingError,
    check_drawn_length,
    corrected_method,
    lesion_geometry_at,
    record_drawn_axes,
    record_viable_axis,
)
from recist_app.ui.viewer.measure_tool import MeasurementOverlay

if TYPE_CHECKING:
    from recist_app.imaging import ImageVolume
    from recist_app.recist import (
        LesionTemplate,
        Measurement,
        MeasurementGeometry,
        Reading,
        TimePoint,
    )
    from recist_app.ui.document import ReadingDocument
    from recist_app.ui.viewer.measure_tool import DrawnMeasurement, PointIJ, Segment
    from recist_app.workflows.measure import LesionMeasurement

__all__ = [
    "MeasurementController",
    "drawn_axes",
    "drawn_line_warnings",
    "last_measured_before",
    "measurement_overlays",
]

_MUCH_AIR = 0.25
"""A line with more than this share of its length in air gets a warning."""


VolumeLookup = Callable[[str], "ImageVolume | None"]
"""Returns the volume read at a visit, or ``None`` when it is not loaded."""


def _axis_geometry(
    volume: ImageVolume, segment: Segment, slice_index: int
) -> tuple[AxisGeometry, float]:
    points = np.array(
        [
            [segment[0][0], segment[0][1], slice_index],
            [segment[1][0], segment[1][1], slice_index],
        ],
        dtype=float,
    )
    start, end = index_to_lps_mm(volume, points)
    geometry = AxisGeometry(
        start_lps_mm=(float(start[0]), float(start[1]), float(start[2])),
        end_lps_mm=(float(end[0]), float(end[1]), float(end[2])),
    )
    return geometry, round(float(np.linalg.norm(end - start)), 1)


def drawn_axes(volume: ImageVolume, drawn: DrawnMeasurement) -> DrawnAxes:
    """The drawing's axes in patient LPS mm on the image it was drawn on."""
    k = drawn.slice_index
    long_axis, long_mm = _axis_geometry(volume, drawn.long_axis_ij, k)
    short_axis: AxisGeometry | None = None
    short_mm: float | None = None
    if drawn.short_axis_ij is not None:
        short_axis, short_mm = _axis_geometry(volume, drawn.short_axis_ij, k)
    return DrawnAxes(
        series_instance_uid=volume.series_instance_uid,
        sop_instance_uid=volume.sop_instance_uids[k],
        long_axis=long_axis,
        long_axis_mm=long_mm,
        short_axis=short_axis,
        short_axis_mm=short_mm,
    )


def _segments(drawn: DrawnMeasurement) -> list[tuple[str, Segment]]:
    segments = [("long axis", drawn.long_axis_ij)]
    if drawn.short_axis_ij is not None:
        segments.append(("short axis", drawn.short_axis_ij))
    return segments


def drawn_line_warnings(
    volume: ImageVolume, drawn: DrawnMeasurement, *, where: str
) -> tuple[str, ...]:
    """Warnings about what the drawn lines cross: air at an end, much air (CT).

    Raises
    ------
    ReadingError
        A line shorter than 2 mm or 4 pixels (not recorded at all).
    """
    axes = drawn_axes(volume, drawn)
    lengths_mm = [axes.long_axis_mm, axes.short_axis_mm]
    warnings: list[str] = []
    for (name, segment), length_mm in zip(_segments(drawn), lengths_mm, strict=False):
        # Pixels on the screen: a jitter of the mouse is a few of them, at any
        # zoom and whatever the size of the image's pixels.
        scale = drawn.screen_px_per_mm
        length_px = (length_mm or 0.0) * scale if scale is not None else math.inf
        check_drawn_length(length_mm or 0.0, length_px, where=f"{where}, {name}")
        profile = line_profile(volume, drawn.slice_index, segment[0], segment[1])
        if profile.ends_in_air:
            warnings.append(
                f"{where}: the {name} ends outside the body or in air; check it"
            )
        elif profile.air_fraction > _MUCH_AIR:
            warnings.append(
                f"{where}: {100 * profile.air_fraction:.0f} % of the {name} "
                "crosses air; check it"
            )
    return tuple(warnings)


class MeasurementController:
    """Records drawn measurements on the document, one undo step per gesture.

    Parameters
    ----------
    document
        The open reading (its visit and selected lesion say where a drawing goes).
    volume_at
        The volume read at a visit, if loaded.
    """

    def __init__(self, document: ReadingDocument, volume_at: VolumeLookup) -> None:
        self._document = document
        self._volume_at = volume_at
        self.last_warnings: tuple[str, ...] = ()
        """What the last recorded drawing crossed that deserves a look."""

    def record(self, drawn: DrawnMeasurement, template: LesionTemplate) -> str:
        """Record ``drawn`` at the current visit and return the lesion id.

        An edited handle re-measures its own lesion; a new drawing measures the
        selected lesion or creates one from ``template`` (see
        :func:`recist_app.recist.record_drawn_axes`). A ``viable`` drawing is the
        viable long axis of the selected (or edited) target.

        A line shorter than 2 mm or 4 pixels is refused; one ending in air or
        crossing much of it is recorded, with :attr:`last_warnings` saying so.

        Raises
        ------
        ReadingError
            No images at this visit, a line too short, or the drawing breaks an
            editing rule.
        DocumentLockedError
            The reading is signed.
        """
        document = self._document
        visit = document.visit
        volume = self._volume_at(visit)
        self.last_warnings = ()
        if volume is None:
            raise ReadingError(f"visit {visit}: no images are loaded for this visit")
        warnings = drawn_line_warnings(volume, drawn, where=f"visit {visit}")
        axes = drawn_axes(volume, drawn)
        if drawn.lesion_id and not drawn.viable:
            # A handle moved on a click-to-measure result corrects it.
            method = corrected_method(
                _method_at(document.reading, visit, drawn.lesion_id)
            )
            axes = dataclasses.replace(axes, method=method)
        lesion_id = drawn.lesion_id or document.selected_lesion_id
        if drawn.viable:
            result = record_viable_axis(
                document.reading, visit, axes, lesion_id=lesion_id
            )
            verb = "Edit viable" if drawn.lesion_id else "Viable"
        else:
            result = record_drawn_axes(
                document.reading, visit, axes, lesion_id=lesion_id, template=template
            )
            verb = "Add" if result.created else "Edit" if drawn.lesion_id else "Measure"
        document.replace(
            result.reading, f"{verb} {result.lesion_id} ({result.summary}) at {visit}"
        )
        if not drawn.viable and (result.created or not document.selected_lesion_id):
            document.select_lesion(result.lesion_id)
        self.last_warnings = tuple(
            w.replace(f"visit {visit}:", f"visit {visit}, lesion {result.lesion_id}:")
            for w in warnings
        )
        return result.lesion_id

    def record_auto(
        self,
        measured: LesionMeasurement,
        template: LesionTemplate,
        *,
        visit: str,
        lesion_id: str,
        verb: str = "Auto-measure",
    ) -> str:
        """Record click-to-measure's axes at ``visit``: one undo step, semi-automatic.

        The lines go where a drawing would (``lesion_id``, else a new lesion of
        the template's role, the same rules as drawing); the lengths are those
        of the lines, to 0.1 mm, as for drawn ones.

        Raises
        ------
        ReadingError
            The drawing rules refuse it (e.g. a target at a follow-up).
        DocumentLockedError
            The reading is signed.
        """
        document = self._document
        self.last_warnings = ()

        def axis(ends: tuple[Point3, Point3]) -> tuple[AxisGeometry, float]:
            geometry = AxisGeometry(start_lps_mm=ends[0], end_lps_mm=ends[1])
            return geometry, round(geometry.length_mm, 1)

        long_axis, long_mm = axis(measured.long_axis_lps_mm)
        short_axis, short_mm = axis(measured.short_axis_lps_mm)
        axes = DrawnAxes(
            series_instance_uid=measured.series_instance_uid,
            sop_instance_uid=measured.sop_instance_uid,
            long_axis=long_axis,
            long_axis_mm=long_mm,
            short_axis=short_axis,
            short_axis_mm=short_mm,
            method=MeasurementMethod.SEMI_AUTOMATIC,
        )
        result = record_drawn_axes(
            document.reading, visit, axes, lesion_id=lesion_id, template=template
        )
        document.replace(
            result.reading, f"{verb} {result.lesion_id} ({result.summary}) at {visit}"
        )
        if result.created or document.selected_lesion_id != result.lesion_id:
            document.select_lesion(result.lesion_id)
        return result.lesion_id


Point3 = tuple[float, float, float]


def _method_at(
    reading: Reading, visit: str, lesion_id: str
) -> MeasurementMethod | None:
    """How ``lesion_id``'s lines at ``visit`` were made (``None``: no lines)."""
    geometry = lesion_geometry_at(reading, lesion_id, visit)
    return geometry.method if geometry is not None else None


def _segment_ij(
    volume: ImageVolume, axis: AxisGeometry | None
) -> tuple[Segment | None, float | None]:
    if axis is None:
        return None, None
    ijk = lps_mm_to_index(volume, np.array([axis.start_lps_mm, axis.end_lps_mm]))
    start: PointIJ = (float(ijk[0, 0]), float(ijk[0, 1]))
    end: PointIJ = (float(ijk[1, 0]), float(ijk[1, 1]))
    return (start, end), float(np.mean(ijk[:, 2]))


def _overlay(
    volume: ImageVolume,
    lesion_id: str,
    geometry: MeasurementGeometry,
    label: str,
    *,
    selected: bool,
    hint: bool,
) -> MeasurementOverlay | None:
    long_axis, long_k = _segment_ij(volume, geometry.long_axis)
    short_axis, short_k = _segment_ij(volume, geometry.short_axis)
    k = long_k if long_k is not None else short_k
    if k is None or not -0.5 <= k <= volume.slice_count - 0.5:
        return None
    return MeasurementOverlay(
        lesion_id=lesion_id,
        slice_index=round(k),
        long_axis_ij=long_axis,
        short_axis_ij=short_axis,
        label=label,
        selected=selected,
        hint=hint,
    )


def _size_label(long_mm: float | None, short_mm: float | None) -> str:
    return " × ".join(f"{v:.1f}" for v in (long_mm, short_mm) if v is not None) + " mm"


def _viable_overlays(
    timepoint: TimePoint, volume: ImageVolume, selected_lesion_id: str
) -> list[MeasurementOverlay]:
    overlays: list[MeasurementOverlay] = []
    for measurement in timepoint.measurements:
        geometry = measurement.viable_geometry
        if (
            geometry is None
            or measurement.viable_long_axis_mm is None
            or geometry.series_instance_uid != volume.series_instance_uid
        ):
            continue
        segment, k = _segment_ij(volume, geometry.long_axis)
        if segment is None or k is None or not -0.5 <= k <= volume.slice_count - 0.5:
            continue
        overlays.append(
            MeasurementOverlay(
                lesion_id=measurement.lesion_id,
                slice_index=round(k),
                long_axis_ij=None,
                short_axis_ij=None,
                viable_axis_ij=segment,
                label=f"{measurement.lesion_id} viable "
                f"{measurement.viable_long_axis_mm:.1f} mm",
                selected=measurement.lesion_id == selected_lesion_id,
            )
        )
    return overlays


def last_measured_before(
    reading: Reading, visit: str, lesion_id: str
) -> tuple[str, Measurement | None]:
    """The last visit before ``visit`` where ``lesion_id`` has drawn axes."""
    visits = [t.visit for t in reading.timepoints]
    index = visits.index(visit) if visit in visits else len(visits)
    for timepoint in reversed(reading.timepoints[:index]):
        found = timepoint.measurement(lesion_id)
        if found is not None and found.geometry is not None:
            return timepoint.visit, found
    return "", None


def measurement_overlays(
    reading: Reading,
    visit: str,
    volume: ImageVolume,
    *,
    selected_lesion_id: str = "",
    prior_visit: str | None = None,
) -> tuple[MeasurementOverlay, ...]:
    """Overlays of the measurements at ``visit`` drawn on ``volume``.

    With ``prior_visit`` (any earlier visit; its value does not matter), the
    selected lesion's measurement at the last visit before ``visit`` where it
    was measured is added as a hint when the lesion is not yet measured at
    ``visit`` (same frame of reference assumed, as for a registered follow-up).
    Viable long axes (mRECIST) drawn on ``volume`` come as overlays of their
    own, with ``viable_axis_ij`` set.
    """
    timepoint = reading.timepoint(visit)
    overlays: list[MeasurementOverlay] = []
    measured: set[str] = set()
    findings: list[
        tuple[str, MeasurementGeometry | None, float | None, float | None]
    ] = [
        (m.lesion_id, m.geometry, m.long_axis_mm, m.short_axis_mm)
        for m in timepoint.measurements
    ]
    findings += [
        (o.lesion_id, o.geometry, o.long_axis_mm, o.short_axis_mm)
        for o in timepoint.new_lesions
    ]
    for lesion_id, geometry, long_mm, short_mm in findings:
        if (
            geometry is None
            or geometry.series_instance_uid != volume.series_instance_uid
        ):
            continue
        overlay = _overlay(
            volume,
            lesion_id,
            geometry,
            f"{lesion_id}  {_size_label(long_mm, short_mm)}",
            selected=lesion_id == selected_lesion_id,
            hint=False,
        )
        if overlay is not None:
            overlays.append(overlay)
            measured.add(lesion_id)
    for assessment in timepoint.non_target:
        geometry = assessment.geometry
        if geometry is None or geometry.series_instance_uid != (
            volume.series_instance_uid
        ):
            continue
        overlay = _overlay(
            volume,
            assessment.lesion_id,
            geometry,
            f"{assessment.lesion_id}  {assessment.state.value.replace('_', ' ')}",
            selected=assessment.lesion_id == selected_lesion_id,
            hint=False,
        )
        if overlay is not None:
            overlays.append(overlay)
            measured.add(assessment.lesion_id)
    overlays += _viable_overlays(timepoint, volume, selected_lesion_id)
    if prior_visit and selected_lesion_id and selected_lesion_id not in measured:
        # The last visit before this one where the lesion was measured: after
        # an unread visit, the hint still shows where it was (issue 18).
        prior_visit, prior = last_measured_before(reading, visit, selected_lesion_id)
        if prior is not None and prior.geometry is not None:
            hint = _overlay(
                volume,
                selected_lesion_id,
                prior.geometry,
                f"{selected_lesion_id} {prior_visit}: "
                f"{_size_label(prior.long_axis_mm, prior.short_axis_mm)}",
                selected=True,
                hint=True,
            )
            if hint is not None:
                overlays.append(hint)
    return tuple(overlays)
