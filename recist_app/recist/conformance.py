"""Baseline conformance: docs/rules.md section A as warnings that name their rule.

The checks run inside :func:`recist_app.recist.assess`, so they are re-evaluated on
every change of the reading. They warn rather than raise: a radiologist may keep a
non-conforming choice (the protocol decides), but must see it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recist_app.recist.assessment import ConformanceWarning
from recist_app.recist.enums import (
    LesionRole,
    MeasurementState,
    Modality,
    NonTargetState,
)

if TYPE_CHECKING:
    from recist_app.recist.model import Lesion, Measurement, Reading, TimePoint

__all__ = [
    "MAX_TARGETS",
    "MAX_TARGETS_PER_ORGAN",
    "check_baseline",
    "measurable_minimum_mm",
]

MAX_TARGETS = 5
MAX_TARGETS_PER_ORGAN = 2
NODE_TARGET_MIN_SHORT_AXIS_MM = 15.0
NODE_PATHOLOGICAL_SHORT_AXIS_MM = 10.0


def _fmt(value: float) -> str:
    return f"{value:.1f} mm"


def measurable_minimum_mm(timepoint: TimePoint) -> float:
    """Smallest measurable non-nodal long axis at ``timepoint`` (A1).

    >>> import datetime
    >>> from recist_app.recist import TimePoint
    >>> measurable_minimum_mm(TimePoint(visit="BL", date=datetime.date(2024, 1, 1),
    ...                                 slice_thickness_mm=7.0))
    14.0
    """
    if timepoint.modality is Modality.CHEST_XRAY:
        return 20.0
    thickness = timepoint.slice_thickness_mm
    if thickness is None or thickness <= 5.0:
        return 10.0
    return 2.0 * thickness


def check_baseline(reading: Reading) -> tuple[ConformanceWarning, ...]:
    """Check the baseline against docs/rules.md A1–A8.

    Parameters
    ----------
    reading
        The reading to check.

    Returns
    -------
    tuple of ConformanceWarning
        One warning per finding, in rule order; empty when the baseline conforms.
    """
    baseline = reading.baseline
    if baseline is None:
        return (
            ConformanceWarning(
                rule="A6", message="no baseline visit: responses cannot be assessed"
            ),
        )
    targets = reading.lesions_with_role(LesionRole.TARGET)
    non_targets = reading.lesions_with_role(LesionRole.NON_TARGET)
    measured = {m.lesion_id: m for m in baseline.measurements}
    warnings: list[ConformanceWarning] = []
    warnings += _check_sizes(baseline, targets, measured)
    warnings += _check_selection(targets)
    warnings += _check_non_targets(baseline, non_targets)
    warnings += _check_target_kind(targets)
    warnings += _check_baseline_sum(targets, measured)
    warnings += _check_timing(reading, baseline)
    if not targets:
        if non_targets:
            message = (
                "no measurable disease at baseline: the response follows the "
                "non-target lesions only (Table 2)"
            )
        elif baseline.no_disease:
            message = "no disease at baseline (the reader's 'no disease'): NED"
        else:
            # never NED by default: an empty baseline is a baseline not read
            message = (
                "baseline not read: no lesion recorded; record them, or mark "
                "'no measurable / no disease at baseline'"
            )
        warnings.append(ConformanceWarning(rule="A8", message=message))
    return tuple(warnings)


def _check_sizes(
    baseline: TimePoint,
    targets: tuple[Lesion, ...],
    measured: dict[str, Measurement],
) -> list[ConformanceWarning]:
    warnings: list[ConformanceWarning] = []
    minimum_mm = measurable_minimum_mm(baseline)
    for lesion in targets:
        measurement = measured.get(lesion.lesion_id)
        if measurement is None or measurement.state is not MeasurementState.MEASURED:
            continue
        if lesion.is_lymph_node:
            short_mm = measurement.short_axis_mm or 0.0
            if short_mm < NODE_PATHOLOGICAL_SHORT_AXIS_MM:
                message = (
                    f"node {lesion.lesion_id} short axis {_fmt(short_mm)} is < 10 mm: "
                    "normal, not to be recorded"
                )
                warnings.append(_warn("A2", message, lesion))
            elif short_mm < NODE_TARGET_MIN_SHORT_AXIS_MM:
                message = (
                    f"node {lesion.lesion_id} short axis {_fmt(short_mm)} is < 15 mm: "
                    "pathological but not measurable; record it as a non-target"
                )
                warnings.append(_warn("A2", message, lesion))
        else:
            long_mm = measurement.long_axis_mm
            if long_mm is None:
                long_mm = measurement.viable_long_axis_mm or 0.0
            if long_mm < minimum_mm:
                warnings.append(
                    _warn(
                        "A1",
                        f"{lesion.lesion_id} long axis {_fmt(long_mm)} is below the "
                        f"{_fmt(minimum_mm)} measurability minimum"
                        f"{_minimum_basis(baseline)}",
                        lesion,
                    )
                )
    return warnings


def _minimum_basis(baseline: TimePoint) -> str:
    if baseline.modality is Modality.CHEST_XRAY:
        return " on chest X-ray"
    if baseline.slice_thickness_mm is None:
        return " (slice thickness not recorded; 10 mm assumed)"
    return f" for slice thickness {_fmt(baseline.slice_thickness_mm)}"


def _check_selection(targets: tuple[Lesion, ...]) -> list[ConformanceWarning]:
    warnings: list[ConformanceWarning] = []
    if len(targets) > MAX_TARGETS:
        ids = ", ".join(lesion.lesion_id for lesion in targets)
        warnings.append(
            ConformanceWarning(
                rule="A3",
                message=(
                    f"{len(targets)} target lesions ({ids}); at most {MAX_TARGETS} "
                    "in total: record the others as non-targets (A4)"
                ),
            )
        )
    by_organ: dict[str, list[Lesion]] = {}
    for lesion in targets:
        by_organ.setdefault(lesion.organ_group, []).append(lesion)
    for organ, lesions in by_organ.items():
        if len(lesions) > MAX_TARGETS_PER_ORGAN:
            ids = ", ".join(lesion.lesion_id for lesion in lesions)
            warnings.append(
                ConformanceWarning(
                    rule="A3",
                    message=(
                        f"{len(lesions)} targets in {organ} ({ids}); at most "
                        f"{MAX_TARGETS_PER_ORGAN} per organ"
                        + (
                            " (all lymph nodes count as one organ)"
                            if organ == "lymph node"
                            else ""
                        )
                    ),
                )
            )
    return warnings


def _check_non_targets(
    baseline: TimePoint, non_targets: tuple[Lesion, ...]
) -> list[ConformanceWarning]:
    warnings: list[ConformanceWarning] = []
    states = {a.lesion_id: a.state for a in baseline.non_target}
    for lesion in non_targets:
        state = states.get(lesion.lesion_id)
        if state is None:
            warnings.append(
                _warn(
                    "A4",
                    f"non-target {lesion.lesion_id} has no baseline state; "
                    "record it as present",
                    lesion,
                )
            )
        elif state is not NonTargetState.PRESENT:
            warnings.append(
                _warn(
                    "A4",
                    f"non-target {lesion.lesion_id} is '{state.value}' at baseline; "
                    "baseline non-targets are recorded as present",
                    lesion,
                )
            )
    return warnings


def _check_target_kind(targets: tuple[Lesion, ...]) -> list[ConformanceWarning]:
    warnings: list[ConformanceWarning] = []
    for lesion in targets:
        if lesion.is_cystic:
            warnings.append(
                _warn(
                    "A5",
                    f"{lesion.lesion_id} is cystic: non-cystic lesions are preferred "
                    "as targets",
                    lesion,
                )
            )
        if lesion.previously_irradiated:
            warnings.append(
                _warn(
                    "A5",
                    f"{lesion.lesion_id} was previously irradiated: a target only if "
                    "progressing, as the protocol allows",
                    lesion,
                )
            )
    return warnings


def _check_baseline_sum(
    targets: tuple[Lesion, ...], measured: dict[str, Measurement]
) -> list[ConformanceWarning]:
    warnings: list[ConformanceWarning] = []
    for lesion in targets:
        measurement = measured.get(lesion.lesion_id)
        if measurement is None:
            message = (
                f"target {lesion.lesion_id} has no baseline measurement: the "
                "baseline sum cannot be computed"
            )
            warnings.append(_warn("A6", message, lesion))
        elif measurement.state is not MeasurementState.MEASURED:
            message = (
                f"target {lesion.lesion_id} is '{measurement.state.value}' at "
                "baseline: a target must be measured at baseline"
            )
            warnings.append(_warn("A6", message, lesion))
    return warnings


def _check_timing(reading: Reading, baseline: TimePoint) -> list[ConformanceWarning]:
    first_dose = reading.first_dose_date
    if first_dose is None:
        return []
    days_before = (first_dose - baseline.date).days
    window = reading.params.baseline_window_days
    if days_before < 0:
        return [
            ConformanceWarning(
                rule="A7",
                message=(
                    f"baseline {baseline.date.isoformat()} is {-days_before} days "
                    f"after the first dose {first_dose.isoformat()}"
                ),
            )
        ]
    if days_before > window:
        return [
            ConformanceWarning(
                rule="A7",
                message=(
                    f"baseline {baseline.date.isoformat()} is {days_before} days "
                    f"before the first dose {first_dose.isoformat()} "
                    f"(more than {window})"
                ),
            )
        ]
    return []


def _warn(rule: str, message: str, lesion: Lesion) -> ConformanceWarning:
    return ConformanceWarning(rule=rule, message=message, lesion_id=lesion.lesion_id)
