"""Deterministic varied readings for the rules engine's golden digest (issue 23).

``random.Random`` with a fixed seed, not hypothesis: the same readings on every
machine and every hypothesis version, so a digest of their assessments taken
before a change to the engine can be compared after it. The readings cover every
measurement state (split, merged, missing, viable diameters), nodes, non-target
states, new lesions (equivocal, unequivocal, not imaged at baseline, vascular
pattern, cytology, diameters), visits not read, "no disease", visits before the
first dose and the parameters the rules read.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import random

from recist_app.recist import (
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    MeasurementState,
    NewLesionObservation,
    NewLesionState,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    ReadingError,
    ResponseParameters,
    TimePoint,
    assess,
)
from recist_app.recist.assessment_codec import assessment_to_dict

ORGANS = ("liver", "liver", "lung", "adrenal", "peritoneum", "bone")
_STATES = tuple(MeasurementState)
_NT_STATES = tuple(NonTargetState)


def _lesions(rng: random.Random) -> tuple[Lesion, ...]:
    lesions: list[Lesion] = []
    for index in range(rng.choice((0, 1, 2, 3, 4, 5, 5))):
        node = rng.random() < 0.25
        lesions.append(
            Lesion(
                lesion_id=f"T{index + 1:02d}",
                role=LesionRole.TARGET,
                organ="lymph node" if node else rng.choice(ORGANS),
                is_lymph_node=node,
            )
        )
    for index in range(rng.choice((0, 0, 1, 2))):
        lesions.append(
            Lesion(
                lesion_id=f"NT{index + 1:02d}",
                role=LesionRole.NON_TARGET,
                organ=rng.choice(ORGANS),
            )
        )
    for index in range(rng.choice((0, 0, 1, 2))):
        lesions.append(
            Lesion(
                lesion_id=f"N{index + 1:02d}",
                role=LesionRole.NEW,
                organ=rng.choice(("liver", "lung", "peritoneum")),
            )
        )
    return tuple(lesions)


def _measured(
    rng: random.Random, lesion: Lesion, size_mm: float, *, viable: bool
) -> Measurement:
    value = round(max(0.0, size_mm), 1)
    if lesion.is_lymph_node:
        return Measurement(
            lesion_id=lesion.lesion_id,
            long_axis_mm=round(value + rng.uniform(0, 8), 1),
            short_axis_mm=value,
        )
    viable_mm = None
    if viable and rng.random() < 0.6:
        viable_mm = round(value * rng.uniform(0, 1.1), 1)
    return Measurement(
        lesion_id=lesion.lesion_id, long_axis_mm=value, viable_long_axis_mm=viable_mm
    )


def _measurement(
    rng: random.Random,
    lesion: Lesion,
    targets: list[Lesion],
    size_mm: float,
    *,
    baseline: bool,
    viable: bool,
) -> Measurement | None:
    if baseline or rng.random() < 0.8:
        return _measured(rng, lesion, size_mm, viable=viable)
    state = rng.choice((*_STATES, None))
    others = [t.lesion_id for t in targets if t.lesion_id != lesion.lesion_id]
    if state is None:
        return None
    if state is MeasurementState.MEASURED:
        return _measured(rng, lesion, size_mm, viable=viable)
    if state is MeasurementState.SPLIT:
        parts = tuple(round(rng.uniform(0, size_mm / 2), 1) for _ in range(2))
        return Measurement(lesion_id=lesion.lesion_id, state=state, parts_mm=parts)
    if state is MeasurementState.MERGED:
        if not others:
            return Measurement(
                lesion_id=lesion.lesion_id, state=MeasurementState.DISAPPEARED
            )
        return Measurement(
            lesion_id=lesion.lesion_id, state=state, merged_into=rng.choice(others)
        )
    return Measurement(lesion_id=lesion.lesion_id, state=state)


def _params(rng: random.Random) -> ResponseParameters:
    if rng.random() < 0.6:
        return ResponseParameters()
    return ResponseParameters(
        confirmation_min_days=rng.choice((21, 28, 35)),
        sd_min_days=rng.choice((35, 42, 56)),
        require_confirmation=rng.random() < 0.6,
        max_ne_between_confirmation=rng.choice((0, 1, 2)),
        too_small_mm=rng.choice((5.0, 3.0)),
        pd_min_increase_mm=rng.choice((5.0, None, 2.5)),
        irecist_confirmation_min_days=28,
        irecist_confirmation_max_days=rng.choice((56, 84)),
        mrecist_pd_min_increase_mm=rng.choice((None, 5.0)),
    )


def generate_reading(rng: random.Random, index: int, criteria: Criteria) -> Reading:
    """One varied, valid reading (deterministic for a given ``rng`` state)."""
    lesions = _lesions(rng)
    targets = [x for x in lesions if x.role is LesionRole.TARGET]
    non_targets = [x for x in lesions if x.role is LesionRole.NON_TARGET]
    new_ids = [x.lesion_id for x in lesions if x.role is LesionRole.NEW]
    no_disease = not targets and not non_targets and rng.random() < 0.7
    sizes = [rng.uniform(10.0, 80.0) for _ in targets]
    trend = rng.uniform(-0.25, 0.2)
    viable = criteria is Criteria.MRECIST or rng.random() < 0.1
    date = datetime.date(2024, 1, 1)
    first_dose = rng.choice(
        (None, date + datetime.timedelta(days=7), date + datetime.timedelta(days=40))
    )
    timepoints: list[TimePoint] = []
    for visit in range(rng.randint(1, 10)):
        baseline = visit == 0
        if not baseline and rng.random() < 0.06:  # not read
            timepoints.append(TimePoint(visit=f"WEEK {visit * 6}", date=date))
            date += datetime.timedelta(days=rng.randint(20, 60))
            continue
        found = [
            _measurement(
                rng,
                lesion,
                targets,
                sizes[n] * (1 + trend * visit + rng.uniform(-0.1, 0.1)),
                baseline=baseline,
                viable=viable,
            )
            for n, lesion in enumerate(targets)
        ]
        measurements = tuple(m for m in found if m is not None)
        non_target = tuple(
            NonTargetAssessment(
                lesion_id=x.lesion_id,
                state=NonTargetState.PRESENT if baseline else rng.choice(_NT_STATES),
                cytology_confirmed=rng.random() < 0.1,
            )
            for x in non_targets
            if baseline or rng.random() < 0.95
        )
        new: list[NewLesionObservation] = []
        if not baseline:
            for lesion_id in new_ids:
                if rng.random() < 0.3:
                    new.append(
                        NewLesionObservation(
                            lesion_id=lesion_id,
                            state=rng.choice(tuple(NewLesionState)),
                            not_imaged_at_baseline=rng.random() < 0.1,
                            long_axis_mm=(
                                round(rng.uniform(3, 30), 1)
                                if rng.random() < 0.5
                                else None
                            ),
                            typical_vascular_pattern=rng.choice((None, True, False)),
                            cytology_confirmed=rng.random() < 0.1,
                        )
                    )
        empty = not (measurements or non_target or new)
        timepoints.append(
            TimePoint(
                visit="BASELINE" if baseline else f"WEEK {visit * 6}",
                date=date,
                is_baseline=baseline,
                slice_thickness_mm=5.0 if rng.random() < 0.5 else None,
                measurements=measurements,
                non_target=non_target,
                new_lesions=tuple(new),
                no_disease=no_disease and empty and rng.random() < 0.8,
            )
        )
        date += datetime.timedelta(days=rng.randint(20, 60))
    return Reading(
        patient_id=f"P{index:05d}",
        criteria=criteria,
        first_dose_date=first_dose,
        params=_params(rng),
        lesions=lesions,
        timepoints=tuple(timepoints),
    )


def golden_readings(count: int, seed: int = 23) -> list[Reading]:
    """``count`` readings, criteria cycling RECIST 1.1, iRECIST, mRECIST."""
    rng = random.Random(seed)
    criteria = tuple(Criteria)
    readings: list[Reading] = []
    index = 0
    while len(readings) < count:
        # a draw the model refuses is skipped (deterministically)
        with contextlib.suppress(ReadingError):
            readings.append(generate_reading(rng, index, criteria[index % 3]))
        index += 1
    return readings


def assessment_digest(readings: list[Reading]) -> str:
    """SHA-256 of every reading's ``assessment_to_dict``, one JSON line each."""
    digest = hashlib.sha256()
    for reading in readings:
        data = assessment_to_dict(assess(reading))
        digest.update(json.dumps(data, sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()
