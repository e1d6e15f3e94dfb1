"""Turns finished gestures into undo commands, and readings into overlays.

The one-way flow of DESIGN.md: the view emits plain pixel coordinates, this
controller converts them with :mod:`recist_app.imaging.geometry` to patient LPS mm
and lengths, builds the next reading with :mod:`recist_app.recist` and pushes one
command on the document. Overlays go the other way: from the reading's LPS
geometry back to pixel coordinates of the volume shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from recist_app.imaging import index_to_lps_mm, lps_mm_to_index
from recist_app.recist import (
    AxisGeometry,
    Lesion,
    LesionRole,
    Measurement,
    MeasurementGeometry,
    MeasurementState,
    NewLesionObservation,
    NewLesionState,
    ReadingError,
    add_lesion,
    next_lesion_id,
    record_measurement,
    record_new_lesion,
)
from recist_app.ui.viewer.measure_tool import MeasurementOverlay

if TYPE_CHECKING:
    from recist_app.imaging import ImageVolume
    from recist_app.recist import Reading, TimePoint
    from recist_app.ui.document import ReadingDocument
    from recist_app.ui.viewer.measure_tool import DrawnMeasurement, PointIJ, Segment

__all__ = [
    "LesionTemplate",
    "MeasurementController",
    "measurement_overlays",
]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LesionTemplate:
    """Organ, location and node flag for a lesion created by drawing."""

    organ: str
    location: str = ""
    is_lymph_node: bool = False


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


class MeasurementController:
    """Records drawn measurements on the document, one undo step per gesture."""

    def __init__(self, document: ReadingDocument, volume_at: VolumeLookup) -> None:
        self._document = document
        self._volume_at = volume_at

    def record(self, drawn: DrawnMeasurement, template: LesionTemplate) -> str:
        """Record ``drawn`` at the current visit and return the lesion id.

        An edited handle re-measures its own lesion; a new drawing measures the
        selected target or new lesion, or creates a lesion from ``template``
        (a target at baseline, a new lesion at a follow-up). A ``viable`` drawing
        is the viable long axis of the selected (or edited) target.
        """
        document = self._document
        visit = document.visit
        volume = self._volume_at(visit)
        if volume is None:
            raise ReadingError(f"visit {visit}: no images are loaded for this visit")
        if drawn.viable:
            return self._record_viable(drawn, volume)
        reading = document.reading
        timepoint = reading.timepoint(visit)
        lesion_id = drawn.lesion_id or document.selected_lesion_id
        created = False
        if lesion_id:
            lesion = reading.lesion(lesion_id)
        else:
            role = LesionRole.TARGET if timepoint.is_baseline else LesionRole.NEW
            lesion = Lesion(
                lesion_id=next_lesion_id(reading, role),
                role=role,
                organ=template.organ,
                location=template.location,
                is_lymph_node=template.is_lymph_node,
            )
            reading = add_lesion(reading, lesion)
            created = True
        after, summary = self._measured(reading, timepoint, lesion, drawn, volume)
        verb = "Add" if created else "Edit" if drawn.lesion_id else "Measure"
        document.replace(after, f"{verb} {lesion.lesion_id} ({summary}) at {visit}")
        if created or not document.selected_lesion_id:
            document.select_lesion(lesion.lesion_id)
        return lesion.lesion_id

    def _measured(
        self,
        reading: Reading,
        timepoint: TimePoint,
        lesion: Lesion,
        drawn: DrawnMeasurement,
        volume: ImageVolume,
    ) -> tuple[Reading, str]:
        k = drawn.slice_index
        drawn_long, drawn_long_mm = _axis_geometry(volume, drawn.long_axis_ij, k)
        long_geometry: AxisGeometry | None = drawn_long
        long_mm_value: float | None = drawn_long_mm
        short_geometry: AxisGeometry | None = None
        short_mm: float | None = None
        if drawn.short_axis_ij is not None:
            short_geometry, short_mm = _axis_geometry(volume, drawn.short_axis_ij, k)
        elif lesion.is_lymph_node:
            # A single line on a node is its short axis (RECIST 1.1 §3.2, rule A2).
            short_geometry, short_mm = drawn_long, drawn_long_mm
            long_geometry, long_mm_value = None, None
        geometry = MeasurementGeometry(
            series_instance_uid=volume.series_instance_uid,
            sop_instance_uid=volume.sop_instance_uids[k],
            long_axis=long_geometry,
            short_axis=short_geometry,
        )
        sizes = " × ".join(
            f"{value:.1f}" for value in (long_mm_value, short_mm) if value is not None
        )
        summary = f"{sizes} mm"
        if lesion.role is LesionRole.TARGET:
            known = timepoint.measurement(lesion.lesion_id)
            if known is not None and known.state is not MeasurementState.MEASURED:
                known = None
            measurement = Measurement(
                lesion_id=lesion.lesion_id,
                long_axis_mm=long_mm_value,
                short_axis_mm=short_mm,
                geometry=geometry,
                # Re-measuring the axes keeps the viable long axis (mRECIST J1).
                viable_long_axis_mm=known.viable_long_axis_mm if known else None,
                viable_geometry=known.viable_geometry if known else None,
            )
            return record_measurement(reading, timepoint.visit, measurement), summary
        if lesion.role is LesionRole.NEW:
            if timepoint.is_baseline:
                raise ReadingError(
                    f"lesion {lesion.lesion_id}: new lesions are recorded at follow-ups"
                )
            previous = next(
                (o for o in timepoint.new_lesions if o.lesion_id == lesion.lesion_id),
                None,
            )
            # The diameters of a new lesion (iRECIST H4, mRECIST J5); its state
            # and flags stay as the reader set them.
            observation = dataclasses.replace(
                previous
                if previous is not None
                else NewLesionObservation(
                    lesion_id=lesion.lesion_id, state=NewLesionState.UNEQUIVOCAL
                ),
                long_axis_mm=long_mm_value,
                short_axis_mm=short_mm,
                geometry=geometry,
            )
            return record_new_lesion(reading, timepoint.visit, observation), summary
        raise ReadingError(
            f"lesion {lesion.lesion_id}: non-target lesions are not measured; "
            "set their state instead (present, absent, unequivocal progression)"
        )

    def _record_viable(self, drawn: DrawnMeasurement, volume: ImageVolume) -> str:
        """Record a viable long axis on its target at the current visit (J1)."""
        document = self._document
        visit = document.visit
        reading = document.reading
        lesion_id = drawn.lesion_id or document.selected_lesion_id
        if not lesion_id:
            raise ReadingError(
                "select the target lesion first: the viable diameter (mRECIST) "
                "belongs to a target"
            )
        lesion = reading.lesion(lesion_id)
        if lesion.role is not LesionRole.TARGET:
            raise ReadingError(
                f"lesion {lesion_id}: only target lesions have a viable diameter "
                f"(mRECIST J1); {lesion_id} is {lesion.role.value}"
            )
        if lesion.is_lymph_node:
            raise ReadingError(
                f"lesion {lesion_id}: lymph nodes keep their short axis under "
                "mRECIST (J4); they have no viable diameter"
            )
        previous = reading.timepoint(visit).measurement(lesion_id)
        if previous is not None and previous.state is not MeasurementState.MEASURED:
            raise ReadingError(
                f"visit {visit}, lesion {lesion_id}: recorded as "
                f"{previous.state.value.replace('_', ' ')}; set it measured by "
                "drawing its long axis before the viable diameter"
            )
        k = drawn.slice_index
        axis, length_mm = _axis_geometry(volume, drawn.long_axis_ij, k)
        geometry = MeasurementGeometry(
            series_instance_uid=volume.series_instance_uid,
            sop_instance_uid=volume.sop_instance_uids[k],
            long_axis=axis,
        )
        measurement = (
            dataclasses.replace(
                previous, viable_long_axis_mm=length_mm, viable_geometry=geometry
            )
            if previous is not None
            else Measurement(
                lesion_id=lesion_id,
                viable_long_axis_mm=length_mm,
                viable_geometry=geometry,
            )
        )
        after = record_measurement(reading, visit, measurement)
        verb = "Edit viable" if drawn.lesion_id else "Viable"
        document.replace(after, f"{verb} {lesion_id} ({length_mm:.1f} mm) at {visit}")
        return lesion_id


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
