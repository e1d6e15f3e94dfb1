"""Recording what the reader drew: the editing rules of the measuring tools.

The viewer converts the drawn end points to patient millimetres (imaging's job);
these pure functions decide what the drawing means for the reading:

- an edited handle re-measures its own lesion; a new drawing measures the
  selected lesion, or creates one of the role the template names (by default a
  target at the baseline, a new lesion at a follow-up);
- a line drawn on a non-target lesion is not a measurement (D1): it records where
  the lesion is, so the viewer can jump back to it;
- a drawn line shorter than :data:`MIN_DRAWN_LENGTH_MM` or
  :data:`MIN_DRAWN_LENGTH_PX` is a slip of the mouse, not a measurement;
- a single line on a lymph node is its short axis (A2);
- re-measuring a target keeps its viable long axis (mRECIST J1); a new lesion keeps
  its state and flags (its diameters are iRECIST's H4 and mRECIST's J5);
- non-target lesions are not measured (their state is recorded instead, D1-D3);
- the viable long axis belongs to a measured, non-nodal target (J1, J4);
- a diameter drawn is the length of its line: :func:`drawn_length_mismatches`
  finds the measurements whose value is not (to 0.1 mm), which the imports refuse.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist_app.recist.editing import (
    add_lesion,
    next_lesion_id,
    record_measurement,
    record_new_lesion,
    record_non_target,
)
from recist_app.recist.enums import (
    LesionRole,
    MeasurementMethod,
    MeasurementState,
    NewLesionState,
)
from recist_app.recist.errors import ReadingError
from recist_app.recist.model import (
    Lesion,
    Measurement,
    MeasurementGeometry,
    NewLesionObservation,
    NonTargetAssessment,
)

if TYPE_CHECKING:
    from recist_app.recist.model import AxisGeometry, Reading, TimePoint

__all__ = [
    "DRAWN_LENGTH_TOLERANCE_MM",
    "MIN_DRAWN_LENGTH_MM",
    "MIN_DRAWN_LENGTH_PX",
    "DrawnAxes",
    "DrawnLengthMismatch",
    "DrawnResult",
    "LesionTemplate",
    "check_drawn_length",
    "corrected_method",
    "drawn_length_mismatches",
    "lesion_geometry_at",
    "lesion_geometry_near",
    "record_drawn_axes",
    "record_viable_axis",
]


DRAWN_LENGTH_TOLERANCE_MM = 0.1
"""How far a drawn diameter may be from the length of its line (rounding)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DrawnLengthMismatch:
    """A diameter whose value is not the length of the line drawn for it.

    ``path`` is where the value is in a reading file
    (``timepoints[2].measurements[0].long_axis_mm``); ``value_mm`` is ``None``
    when a line is drawn but no value recorded.
    """

    path: str
    visit: str
    lesion_id: str
    field: str
    value_mm: float | None
    drawn_mm: float

    def problem(self) -> str:
        """The mismatch in words, without where it is."""
        if self.value_mm is None:
            return (
                f"{self.field} is missing, but a line of {self.drawn_mm:.1f} mm is "
                "drawn for it"
            )
        return (
            f"{self.field} {self.value_mm:g} mm is not the length of the line drawn "
            f"for it ({self.drawn_mm:.1f} mm); the value must be the drawn line"
        )

    def __str__(self) -> str:
        return f"visit {self.visit}, lesion {self.lesion_id}: {self.problem()}"


def _axis_mismatches(
    path: str,
    visit: str,
    lesion_id: str,
    geometry: MeasurementGeometry | None,
    values: tuple[tuple[str, float | None], ...],
) -> list[DrawnLengthMismatch]:
    found: list[DrawnLengthMismatch] = []
    if geometry is None:
        return found
    for field, value in values:
        axis = getattr(geometry, field.removesuffix("_mm").removeprefix("viable_"))
        if axis is None:
            continue
        drawn = axis.length_mm
        if value is None or abs(value - drawn) > DRAWN_LENGTH_TOLERANCE_MM + 1e-9:
            found.append(
                DrawnLengthMismatch(
                    path=f"{path}.{field}",
                    visit=visit,
                    lesion_id=lesion_id,
                    field=field,
                    value_mm=value,
                    drawn_mm=drawn,
                )
            )
    return found


def drawn_length_mismatches(
    reading: Reading,
    *,
    visit: str | None = None,
    lesion_ids: frozenset[str] | None = None,
) -> tuple[DrawnLengthMismatch, ...]:
    """Every diameter drawn whose value is not the length of its line (0.1 mm).

    A measurement (or new lesion) with geometry counts the drawn lines: its
    ``long_axis_mm`` and ``short_axis_mm`` (and ``viable_long_axis_mm`` with its
    ``viable_geometry``) must be the lengths of their end points. ``visit`` and
    ``lesion_ids`` restrict the search to what an import just changed.
    """
    found: list[DrawnLengthMismatch] = []
    for t, timepoint in enumerate(reading.timepoints):
        if visit is not None and timepoint.visit != visit:
            continue
        for m, measurement in enumerate(timepoint.measurements):
            if lesion_ids is not None and measurement.lesion_id not in lesion_ids:
                continue
            path = f"timepoints[{t}].measurements[{m}]"
            found += _axis_mismatches(
                path,
                timepoint.visit,
                measurement.lesion_id,
                measurement.geometry,
                (
                    ("long_axis_mm", measurement.long_axis_mm),
                    ("short_axis_mm", measurement.short_axis_mm),
                ),
            )
            found += _axis_mismatches(
                path,
                timepoint.visit,
                measurement.lesion_id,
                measurement.viable_geometry,
                (("viable_long_axis_mm", measurement.viable_long_axis_mm),),
            )
        for n, observation in enumerate(timepoint.new_lesions):
            if lesion_ids is not None and observation.lesion_id not in lesion_ids:
                continue
            found += _axis_mismatches(
                f"timepoints[{t}].new_lesions[{n}]",
                timepoint.visit,
                observation.lesion_id,
                observation.geometry,
                (
                    ("long_axis_mm", observation.long_axis_mm),
                    ("short_axis_mm", observation.short_axis_mm),
                ),
            )
    return tuple(found)


MIN_DRAWN_LENGTH_MM = 2.0
"""A drawn line shorter than this is refused: a jitter of the mouse, not a lesion."""

MIN_DRAWN_LENGTH_PX = 4.0
"""A drawn line spanning fewer screen pixels than this is refused as well (a
jitter of the mouse, at any zoom)."""


def check_drawn_length(length_mm: float, length_px: float, *, where: str) -> None:
    """Refuse a line shorter than 2 mm or 4 screen pixels (a slip, not a lesion).

    The message names the bound the line missed: a line of 5 mm drawn zoomed
    out can span only 3 pixels, and "5.0 mm, shorter than 2 mm" would read as
    nonsense (it did, in a 30-minute soak).

    >>> check_drawn_length(12.0, 16.0, where="visit WEEK 8")  # fine: no error
    >>> def message(length_mm, length_px):
    ...     try:
    ...         check_drawn_length(length_mm, length_px, where="visit WEEK 8")
    ...     except ReadingError as error:
    ...         return str(error).split(": ", 1)[1]
    >>> message(1.1, 2.0).split(": ")[0]
    'the line is 1.1 mm long, shorter than 2 mm'
    >>> message(5.0, 3.3).split(": ")[0]
    'the line spans 3.3 px on screen (5.0 mm), fewer than 4 px'

    Raises
    ------
    ReadingError
        The line is too short; the message names ``where``, the length and the
        bound it missed.
    """
    if length_mm < MIN_DRAWN_LENGTH_MM:
        raise ReadingError(
            f"{where}: the line is {length_mm:.1f} mm long, shorter than "
            f"{MIN_DRAWN_LENGTH_MM:.0f} mm: not recorded (drag across the whole "
            "lesion)"
        )
    if length_px < MIN_DRAWN_LENGTH_PX:
        raise ReadingError(
            f"{where}: the line spans {length_px:.1f} px on screen "
            f"({length_mm:.1f} mm), fewer than {MIN_DRAWN_LENGTH_PX:.0f} px: not "
            "recorded (zoom in, or drag across the whole lesion)"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LesionTemplate:
    """Role, organ, location and node flag for a lesion created by drawing.

    ``role`` ``None`` lets the visit decide: a target at the baseline, a new lesion
    at a follow-up.
    """

    organ: str
    location: str = ""
    is_lymph_node: bool = False
    role: LesionRole | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DrawnAxes:
    """One drawing on one image, in patient LPS millimetres.

    Parameters
    ----------
    series_instance_uid, sop_instance_uid
        The image drawn on.
    long_axis, long_axis_mm
        The first (or only) line and its length.
    short_axis, short_axis_mm
        The perpendicular line of a bidirectional drawing, if any.
    method
        How the lines were made: drawn by hand, by click-to-measure, or by
        click-to-measure and then corrected by a handle (:func:`corrected_method`).
    """

    series_instance_uid: str
    sop_instance_uid: str
    long_axis: AxisGeometry
    long_axis_mm: float
    short_axis: AxisGeometry | None = None
    short_axis_mm: float | None = None
    method: MeasurementMethod = MeasurementMethod.MANUAL


def corrected_method(previous: MeasurementMethod | None) -> MeasurementMethod:
    """The method of a measurement after the reader moved one of its handles.

    A click-to-measure result the reader corrects is ``semi-automatic,
    corrected``; a line drawn by hand stays ``manual``.

    >>> corrected_method(MeasurementMethod.SEMI_AUTOMATIC).value
    'semi-automatic, corrected'
    >>> corrected_method(MeasurementMethod.MANUAL).value
    'manual'
    """
    if previous in (
        MeasurementMethod.SEMI_AUTOMATIC,
        MeasurementMethod.SEMI_AUTOMATIC_CORRECTED,
    ):
        return MeasurementMethod.SEMI_AUTOMATIC_CORRECTED
    return MeasurementMethod.MANUAL


@dataclass(frozen=True, slots=True, kw_only=True)
class DrawnResult:
    """The reading after a drawing, and what it did (for the undo text)."""

    reading: Reading
    lesion_id: str
    created: bool
    summary: str


def _sizes(long_mm: float | None, short_mm: float | None) -> str:
    return " × ".join(f"{v:.1f}" for v in (long_mm, short_mm) if v is not None) + " mm"


def record_drawn_axes(
    reading: Reading,
    visit: str,
    axes: DrawnAxes,
    *,
    lesion_id: str = "",
    template: LesionTemplate | None = None,
) -> DrawnResult:
    """Record ``axes`` drawn at ``visit`` on the lesion ``lesion_id``.

    With no ``lesion_id`` a lesion of the template's role is created (by
    default a target at the baseline, a new lesion at a follow-up). On a
    non-target lesion the drawing records where it is, not a size (D1).

    Raises
    ------
    ReadingError
        Unknown visit or lesion, a new lesion at the baseline, a new target at a
        follow-up, or no lesion and no template.
    """
    timepoint = reading.timepoint(visit)
    created = False
    if lesion_id:
        lesion = reading.lesion(lesion_id)
    else:
        if template is None:
            raise ReadingError(
                f"visit {visit}: select a lesion, or give the organ of a new one"
            )
        role = template.role or (
            LesionRole.TARGET if timepoint.is_baseline else LesionRole.NEW
        )
        if role is LesionRole.TARGET and not timepoint.is_baseline:
            raise ReadingError(
                f"visit {visit}: target lesions are chosen at the baseline; select "
                "a target to measure it, or draw with the role New lesion"
            )
        if role is LesionRole.NEW and timepoint.is_baseline:
            raise ReadingError(
                f"visit {visit}: new lesions are recorded at follow-ups; draw with "
                "the role Target or Non-target at the baseline"
            )
        lesion = Lesion(
            lesion_id=next_lesion_id(reading, role),
            role=role,
            organ=template.organ,
            location=template.location,
            is_lymph_node=template.is_lymph_node,
        )
        reading = add_lesion(reading, lesion)
        created = True
    long_axis: AxisGeometry | None = axes.long_axis
    long_mm: float | None = axes.long_axis_mm
    short_axis, short_mm = axes.short_axis, axes.short_axis_mm
    if short_axis is None and lesion.is_lymph_node:
        # A single line on a node is its short axis (A2).
        short_axis, short_mm = long_axis, long_mm
        long_axis, long_mm = None, None
    geometry = MeasurementGeometry(
        series_instance_uid=axes.series_instance_uid,
        sop_instance_uid=axes.sop_instance_uid,
        long_axis=long_axis,
        short_axis=short_axis,
        method=axes.method,
    )
    summary = _sizes(long_mm, short_mm)
    if lesion.role is LesionRole.TARGET:
        after = _measure_target(reading, timepoint, lesion, geometry, long_mm, short_mm)
    elif lesion.role is LesionRole.NEW:
        after = _measure_new_lesion(
            reading, timepoint, lesion, geometry, long_mm, short_mm
        )
    else:
        after = _mark_non_target(reading, timepoint, lesion, geometry)
        summary = "location marked"
    return DrawnResult(
        reading=after, lesion_id=lesion.lesion_id, created=created, summary=summary
    )


def _measure_target(
    reading: Reading,
    timepoint: TimePoint,
    lesion: Lesion,
    geometry: MeasurementGeometry,
    long_mm: float | None,
    short_mm: float | None,
) -> Reading:
    known = timepoint.measurement(lesion.lesion_id)
    if known is not None and known.state is not MeasurementState.MEASURED:
        known = None
    measurement = Measurement(
        lesion_id=lesion.lesion_id,
        long_axis_mm=long_mm,
        short_axis_mm=short_mm,
        geometry=geometry,
        # Re-measuring the axes keeps the viable long axis (J1).
        viable_long_axis_mm=known.viable_long_axis_mm if known else None,
        viable_geometry=known.viable_geometry if known else None,
    )
    return record_measurement(reading, timepoint.visit, measurement)


def _mark_non_target(
    reading: Reading,
    timepoint: TimePoint,
    lesion: Lesion,
    geometry: MeasurementGeometry,
) -> Reading:
    # Non-target lesions are not measured (D1): the line keeps where the lesion
    # is (a long axis of no length in the record) and its state stays as set,
    # present when it had none.
    previous = next(
        (a for a in timepoint.non_target if a.lesion_id == lesion.lesion_id), None
    )
    assessment = dataclasses.replace(
        previous
        if previous is not None
        else NonTargetAssessment(lesion_id=lesion.lesion_id),
        geometry=geometry,
    )
    return record_non_target(reading, timepoint.visit, assessment)


def _measure_new_lesion(
    reading: Reading,
    timepoint: TimePoint,
    lesion: Lesion,
    geometry: MeasurementGeometry,
    long_mm: float | None,
    short_mm: float | None,
) -> Reading:
    if timepoint.is_baseline:
        raise ReadingError(
            f"lesion {lesion.lesion_id}: new lesions are recorded at follow-ups"
        )
    previous = next(
        (o for o in timepoint.new_lesions if o.lesion_id == lesion.lesion_id), None
    )
    # The diameters of a new lesion (H4, J5); its state and flags stay as the
    # reader set them.
    observation = dataclasses.replace(
        previous
        if previous is not None
        else NewLesionObservation(
            lesion_id=lesion.lesion_id, state=NewLesionState.UNEQUIVOCAL
        ),
        long_axis_mm=long_mm,
        short_axis_mm=short_mm,
        geometry=geometry,
    )
    return record_new_lesion(reading, timepoint.visit, observation)


def record_viable_axis(
    reading: Reading, visit: str, axes: DrawnAxes, *, lesion_id: str
) -> DrawnResult:
    """Record ``axes.long_axis`` as the viable long axis of target ``lesion_id`` (J1).

    Raises
    ------
    ReadingError
        No lesion chosen, not a target, a lymph node (J4), or a target recorded
        in another state than measured at ``visit``.
    """
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
    geometry = MeasurementGeometry(
        series_instance_uid=axes.series_instance_uid,
        sop_instance_uid=axes.sop_instance_uid,
        long_axis=axes.long_axis,
    )
    length_mm = axes.long_axis_mm
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
    return DrawnResult(
        reading=record_measurement(reading, visit, measurement),
        lesion_id=lesion_id,
        created=False,
        summary=f"{length_mm:.1f} mm",
    )


def lesion_geometry_at(
    reading: Reading, lesion_id: str, visit: str
) -> MeasurementGeometry | None:
    """The lines ``lesion_id`` has at ``visit`` itself: measured, new or marked.

    Raises
    ------
    KeyError
        No such visit.
    """
    timepoint = reading.timepoint(visit)
    measurement = timepoint.measurement(lesion_id)
    if measurement is not None and measurement.geometry is not None:
        return measurement.geometry
    marks: list[tuple[str, MeasurementGeometry | None]] = [
        (o.lesion_id, o.geometry) for o in timepoint.new_lesions
    ]
    marks += [(a.lesion_id, a.geometry) for a in timepoint.non_target]
    for found_id, geometry in marks:
        if found_id == lesion_id and geometry is not None:
            return geometry
    return None


def lesion_geometry_near(
    reading: Reading, lesion_id: str, visit: str
) -> MeasurementGeometry | None:
    """Where ``lesion_id`` was drawn, as close to ``visit`` as the reading has it.

    The visit asked for first, then the closest earlier ones, then later ones:
    the viewer jumps there to show the lesion at any visit.
    """
    visits = [t.visit for t in reading.timepoints]
    current = visits.index(visit) if visit in visits else 0
    order: list[int] = [*range(current, -1, -1), *range(current + 1, len(visits))]
    for index in order:
        geometry = lesion_geometry_at(reading, lesion_id, visits[index])
        if geometry is not None:
            return geometry
    return None
