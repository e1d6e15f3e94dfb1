"""Is the reading complete enough to sign? What a reader must see before signing.

Signing locks the reading (the audit trail then needs an amendment with a reason),
so the sign-off lists what is still open: a follow-up with nothing recorded, a
target without a measurement or state at a visit, a non-target without a state, a
visit whose overall response is not evaluable, baseline conformance warnings and,
under mRECIST, measured non-nodal targets without a viable diameter (J1). The list
informs; the reader may still sign (an unreadable visit is a fact of the trial).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recist_app.recist.enums import (
    Criteria,
    LesionRole,
    MeasurementState,
    Response,
)

if TYPE_CHECKING:
    from recist_app.recist.assessment import Assessment
    from recist_app.recist.model import Reading

__all__ = ["sign_off_gaps"]


def _ids(ids: list[str]) -> str:
    return ", ".join(ids)


def sign_off_gaps(reading: Reading, assessment: Assessment) -> tuple[str, ...]:
    """What is incomplete in ``reading`` (assessed as ``assessment``), one line each.

    An empty tuple means nothing is missing.

    >>> import datetime
    >>> from recist_app.recist import Reading, TimePoint, assess
    >>> empty = Reading(patient_id="P1", timepoints=(TimePoint(
    ...     visit="BASELINE", date=datetime.date(2024, 1, 1), is_baseline=True),))
    >>> sign_off_gaps(empty, assess(empty))
    ('visit BASELINE: no lesion recorded', 'baseline: 1 conformance warning(s)')
    """
    gaps: list[str] = []
    targets = [x.lesion_id for x in reading.lesions if x.role is LesionRole.TARGET]
    non_targets = [
        x.lesion_id for x in reading.lesions if x.role is LesionRole.NON_TARGET
    ]
    nodes = {x.lesion_id for x in reading.lesions if x.is_lymph_node}
    responses = {t.visit: t.overall_response for t in assessment.timepoints}
    for timepoint in reading.timepoints:
        where = f"visit {timepoint.visit}"
        recorded = (
            timepoint.measurements or timepoint.non_target or timepoint.new_lesions
        )
        if not recorded:
            gaps.append(
                f"{where}: no lesion recorded"
                + ("" if timepoint.is_baseline else " (unread follow-up)")
            )
            continue
        measured = {m.lesion_id for m in timepoint.measurements}
        missing = [t for t in targets if t not in measured]
        if missing:
            gaps.append(f"{where}: target(s) {_ids(missing)} not measured")
        stated = {a.lesion_id for a in timepoint.non_target}
        unstated = [n for n in non_targets if n not in stated]
        if unstated:
            gaps.append(f"{where}: non-target(s) {_ids(unstated)} without a state")
        if reading.criteria is Criteria.MRECIST:
            no_viable = [
                m.lesion_id
                for m in timepoint.measurements
                if m.state is MeasurementState.MEASURED
                and m.lesion_id not in nodes
                and m.lesion_id in targets
                and m.viable_long_axis_mm is None
            ]
            if no_viable:
                gaps.append(
                    f"{where}: target(s) {_ids(no_viable)} without a viable "
                    "diameter (mRECIST J1)"
                )
        if responses.get(timepoint.visit) is Response.NE:
            gaps.append(f"{where}: overall response not evaluable (NE)")
    warnings = assessment.baseline.warnings
    if warnings:
        gaps.append(f"baseline: {len(warnings)} conformance warning(s)")
    return tuple(gaps)
