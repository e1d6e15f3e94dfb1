"""Pure updates: each takes a reading and returns a new, validated reading.

Nothing here mutates; the UI wraps each call's before/after pair in one undo command.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TypeVar

from recist_app.recist.enums import LesionRole
from recist_app.recist.errors import ReadingError
from recist_app.recist.model import (
    Lesion,
    Measurement,
    NewLesionObservation,
    NonTargetAssessment,
    Reading,
    TimePoint,
)

__all__ = [
    "LESION_ID_PREFIX",
    "add_lesion",
    "add_timepoint",
    "next_lesion_id",
    "record_measurement",
    "record_new_lesion",
    "record_non_target",
    "remove_lesion",
    "remove_timepoint",
    "replace_lesion",
    "set_no_disease",
]

_Finding = TypeVar("_Finding", Measurement, NonTargetAssessment, NewLesionObservation)
_TimePointChange = Callable[[TimePoint], TimePoint]


LESION_ID_PREFIX = {
    LesionRole.TARGET: "T",
    LesionRole.NON_TARGET: "NT",
    LesionRole.NEW: "N",
}


def next_lesion_id(reading: Reading, role: LesionRole) -> str:
    """The next free stable id for ``role``: ``T01``, ``NT01``, ``N01``, ...

    >>> next_lesion_id(Reading(patient_id="P1"), LesionRole.NON_TARGET)
    'NT01'
    """
    prefix = LESION_ID_PREFIX[role]
    used = {lesion.lesion_id for lesion in reading.lesions}
    number = 1
    while f"{prefix}{number:02d}" in used:
        number += 1
    return f"{prefix}{number:02d}"


def add_lesion(reading: Reading, lesion: Lesion) -> Reading:
    """Add ``lesion`` (its id must be new).

    A target or non-target lesion is disease: adding one withdraws the reader's
    "no disease" wherever it was recorded (A8), in the same step.
    """
    timepoints = reading.timepoints
    if lesion.role is not LesionRole.NEW:
        timepoints = tuple(_without_no_disease(t) for t in timepoints)
    return dataclasses.replace(
        reading, lesions=(*reading.lesions, lesion), timepoints=timepoints
    )


def set_no_disease(reading: Reading, visit: str, no_disease: bool) -> Reading:
    """Record (or withdraw) the reader's "no disease" at ``visit`` (A8).

    At the baseline this is "no measurable / no disease at baseline": the
    baseline was read and holds no target and no non-target lesion, so the
    patient is NED. At a follow-up of such a patient it says the visit was read
    and nothing new was found. Without it a visit with no finding is *not read*,
    never "no disease".

    Raises
    ------
    ReadingError
        The visit has findings, or the reading has target or non-target lesions.
    """
    return _update(
        reading, visit, lambda t: dataclasses.replace(t, no_disease=no_disease)
    )


def replace_lesion(reading: Reading, lesion: Lesion) -> Reading:
    """Replace the lesion with ``lesion.lesion_id`` (organ, node flag, ...).

    A change of role is refused while the lesion has findings recorded under the
    old role, so no finding is silently dropped.
    """
    old = reading.lesion(lesion.lesion_id)
    if old.role is not lesion.role and _has_findings(reading, lesion.lesion_id):
        raise ReadingError(
            f"lesion {lesion.lesion_id}: cannot change role from {old.role.value} to "
            f"{lesion.role.value} while it has findings; delete them first"
        )
    lesions = tuple(
        lesion if item.lesion_id == lesion.lesion_id else item
        for item in reading.lesions
    )
    return dataclasses.replace(reading, lesions=lesions)


def remove_lesion(reading: Reading, lesion_id: str) -> Reading:
    """Remove a lesion and every finding recorded for it."""
    reading.lesion(lesion_id)  # UnknownLesionError for an unknown id
    timepoints = tuple(
        dataclasses.replace(
            timepoint,
            measurements=tuple(
                m
                for m in timepoint.measurements
                if lesion_id not in (m.lesion_id, m.merged_into)
            ),
            non_target=tuple(
                a for a in timepoint.non_target if a.lesion_id != lesion_id
            ),
            new_lesions=tuple(
                o for o in timepoint.new_lesions if o.lesion_id != lesion_id
            ),
        )
        for timepoint in reading.timepoints
    )
    lesions = tuple(item for item in reading.lesions if item.lesion_id != lesion_id)
    return dataclasses.replace(reading, lesions=lesions, timepoints=timepoints)


def add_timepoint(reading: Reading, timepoint: TimePoint) -> Reading:
    """Insert ``timepoint`` in date order."""
    timepoints = sorted((*reading.timepoints, timepoint), key=lambda t: t.date)
    return dataclasses.replace(reading, timepoints=tuple(timepoints))


def remove_timepoint(reading: Reading, visit: str) -> Reading:
    """Remove the visit labelled ``visit`` with all its findings."""
    reading.timepoint(visit)  # UnknownVisitError for an unknown visit
    timepoints = tuple(t for t in reading.timepoints if t.visit != visit)
    return dataclasses.replace(reading, timepoints=timepoints)


def record_measurement(
    reading: Reading, visit: str, measurement: Measurement
) -> Reading:
    """Set (or replace) the measurement of a target lesion at ``visit``."""
    return _update(
        reading,
        visit,
        lambda t: dataclasses.replace(
            _without_no_disease(t),
            measurements=_upsert(t.measurements, measurement),
        ),
    )


def record_non_target(
    reading: Reading, visit: str, assessment: NonTargetAssessment
) -> Reading:
    """Set (or replace) the state of a non-target lesion at ``visit``."""
    return _update(
        reading,
        visit,
        lambda t: dataclasses.replace(
            _without_no_disease(t), non_target=_upsert(t.non_target, assessment)
        ),
    )


def record_new_lesion(
    reading: Reading, visit: str, observation: NewLesionObservation
) -> Reading:
    """Set (or replace) the observation of a new lesion at ``visit``."""
    return _update(
        reading,
        visit,
        lambda t: dataclasses.replace(
            _without_no_disease(t), new_lesions=_upsert(t.new_lesions, observation)
        ),
    )


def _without_no_disease(timepoint: TimePoint) -> TimePoint:
    """A finding recorded at a visit replaces its "no disease" (A8)."""
    if not timepoint.no_disease:
        return timepoint
    return dataclasses.replace(timepoint, no_disease=False)


def _has_findings(reading: Reading, lesion_id: str) -> bool:
    for timepoint in reading.timepoints:
        ids = {m.lesion_id for m in timepoint.measurements}
        ids.update(a.lesion_id for a in timepoint.non_target)
        ids.update(o.lesion_id for o in timepoint.new_lesions)
        if lesion_id in ids:
            return True
    return False


def _update(reading: Reading, visit: str, change: _TimePointChange) -> Reading:
    # The same lookup as everywhere: an unknown visit is UnknownVisitError.
    index = reading.timepoints.index(reading.timepoint(visit))
    timepoints = list(reading.timepoints)
    timepoints[index] = change(timepoints[index])
    return dataclasses.replace(reading, timepoints=tuple(timepoints))


def _upsert(items: tuple[_Finding, ...], item: _Finding) -> tuple[_Finding, ...]:
    replaced = False
    result: list[_Finding] = []
    for existing in items:
        if existing.lesion_id == item.lesion_id:
            result.append(item)
            replaced = True
        else:
            result.append(existing)
    if not replaced:
        result.append(item)
    return tuple(result)
