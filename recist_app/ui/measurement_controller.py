"""Turns finished gestures into undo commands, and readings into overlays.

The one-way flow of docs/architecture.md: the view emits plain pixel
coordinates, this controller converts them with :mod:`recist_app.imaging.geometry`
to patient LPS mm and lengths, lets :mod:`recist_app.recist.drawing` decide what the
drawing means for the reading (which lesion, which axis, which rule), and pushes
one command on the document. Overlays go the other way: from the reading's LPS
geometry back to pixel coordinates of the volume shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from recist_app.imaging import index_to_lps_mm, lps_mm_to_index
from recist_app.recist import (
    AxisGeometry,
    DrawnAxes,
    ReadingError,
    record_drawn_axes,
    record_viable_axis,
)
from recist_app.ui.viewer.measure_tool import MeasurementOverlay

if TYPE_CHECKING:
    from recist_app.imaging import ImageVolume
    from recist_app.recist import (
        LesionTemplate,
        MeasurementGeometry,
        Reading,
        TimePoint,
    )
    from recist_app.ui.document import ReadingDocument
    from recist_app.ui.viewer.measure_tool import DrawnMeasurement, PointIJ, Segment

__all__ = ["MeasurementController", "drawn_axes", "measurement_overlays"]


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

    def record(self, drawn: DrawnMeasurement, template: LesionTemplate) -> str:
        """Record ``drawn`` at the current visit and return the lesion id.

        An edited handle re-measures its own lesion; a new drawing measures the
        selected lesion or creates one from ``template`` (see
        :func:`recist_app.recist.record_drawn_axes`). A ``viable`` drawing is the
        viable long axis of the selected (or edited) target.

        Raises
        ------
        ReadingError
            No images at this visit, or the drawing breaks an editing rule.
        DocumentLockedError
            The reading is signed.
        """
        document = self._document
        visit = document.visit
        volume = self._volume_at(visit)
        if volume is None:
            raise ReadingError(f"visit {visit}: no images are loaded for this visit")
        axes = drawn_axes(volume, drawn)
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
        return result.lesion_id


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


def measurement_overlays(
    reading: Reading,
    visit: str,
    volume: ImageVolume,
    *,
    selected_lesion_id: str = "",
    prior_visit: str | None = None,
) -> tuple[MeasurementOverlay, ...]:
    """Overlays of the measurements at ``visit`` drawn on ``volume``.

    With ``prior_visit``, the selected lesion's measurement there is added as a
    hint when the lesion is not yet measured at ``visit`` (same frame of reference
    assumed, as for a registered follow-up). Viable long axes (mRECIST) drawn on
    ``volume`` come as overlays of their own, with ``viable_axis_ij`` set.
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
    overlays += _viable_overlays(timepoint, volume, selected_lesion_id)
    if prior_visit and selected_lesion_id and selected_lesion_id not in measured:
        prior = reading.timepoint(prior_visit).measurement(selected_lesion_id)
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
