"""Which study is which visit: the reading's timepoints from the imported studies.

The workstation's visit table turns its rows into :class:`VisitAssignment` values
and :func:`assign_visits` makes the new reading, keeping every finding already
recorded at a visit; the table pushes it as one undo step.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist_app.recist import Modality, Reading, TimePoint
from recist_app.store import StoredSeries, StoredStudy
from recist_app.workflows.errors import VisitAssignmentError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "BASELINE_LABEL",
    "StoredSeries",
    "StoredStudy",
    "VisitAssignment",
    "VisitAssignmentError",
    "assign_visits",
    "assignments_of",
    "default_series",
    "follow_up_label",
    "in_date_order",
]

BASELINE_LABEL = "BASELINE"
_BASELINE_LABELS = frozenset({"BASELINE", "SCREENING"})


def follow_up_label(number: int) -> str:
    """``FOLLOW-UP 2`` for the second follow-up."""
    return f"FOLLOW-UP {number}"


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitAssignment:
    """One study's role in the reading.

    Parameters
    ----------
    study_instance_uid
        The study.
    visit
        The visit label (``BASELINE``, ``FOLLOW-UP 1``, …); ``""``: not read.
    date
        The visit date (by default the study date).
    series_instance_uid
        The series read at that visit.
    """

    study_instance_uid: str
    visit: str
    date: datetime.date
    series_instance_uid: str


def default_series(study: StoredStudy) -> StoredSeries | None:
    """The series to read by default: the CT/MR series with the most images."""
    imaging = [s for s in study.series if s.modality in ("CT", "MR")] or list(
        study.series
    )
    return max(imaging, key=lambda s: s.slice_count, default=None)


def _study_date(study: StoredStudy) -> datetime.date:
    return study.study_date or datetime.date.today()


def assignments_of(
    reading: Reading, studies: Sequence[StoredStudy]
) -> tuple[VisitAssignment, ...]:
    """The current assignment of every study (``visit == ""`` when not read)."""
    by_study = {t.study_instance_uid: t for t in reading.timepoints}
    result = []
    for study in studies:
        timepoint = by_study.get(study.study_instance_uid)
        series = default_series(study)
        if timepoint is None:
            result.append(
                VisitAssignment(
                    study_instance_uid=study.study_instance_uid,
                    visit="",
                    date=_study_date(study),
                    series_instance_uid=series.series_instance_uid if series else "",
                )
            )
        else:
            result.append(
                VisitAssignment(
                    study_instance_uid=study.study_instance_uid,
                    visit=timepoint.visit,
                    date=timepoint.date,
                    series_instance_uid=timepoint.series_instance_uid
                    or (series.series_instance_uid if series else ""),
                )
            )
    return tuple(result)


def in_date_order(studies: Sequence[StoredStudy]) -> tuple[VisitAssignment, ...]:
    """Every study read: the oldest is the baseline, then follow-ups in order."""
    ordered = sorted(studies, key=_study_date)
    result = []
    for index, study in enumerate(ordered):
        series = default_series(study)
        result.append(
            VisitAssignment(
                study_instance_uid=study.study_instance_uid,
                visit=BASELINE_LABEL if index == 0 else follow_up_label(index),
                date=_study_date(study),
                series_instance_uid=series.series_instance_uid if series else "",
            )
        )
    return tuple(result)


def _has_findings(timepoint: TimePoint) -> tuple[str, ...]:
    return (
        *(item.lesion_id for item in timepoint.measurements),
        *(item.lesion_id for item in timepoint.non_target),
        *(item.lesion_id for item in timepoint.new_lesions),
    )


def _modality(series: StoredSeries | None, default: Modality) -> Modality:
    try:
        return Modality(series.modality) if series is not None else default
    except ValueError:
        return default


def assign_visits(
    reading: Reading,
    studies: Sequence[StoredStudy],
    assignments: Sequence[VisitAssignment],
) -> Reading:
    """The reading with the timepoints of ``studies`` set by ``assignments``.

    Findings recorded at a visit stay with its study (a visit may be renamed or
    re-dated). Timepoints of studies not listed are kept as they are.

    Raises
    ------
    VisitAssignmentError
        A visit with findings would lose its study or change its series.
    recist_app.recist.ReadingError
        The result is not a valid reading (duplicate labels, dates out of
        order, a baseline that is not the first visit).
    """
    listed = {study.study_instance_uid: study for study in studies}
    existing = {
        t.study_instance_uid: t for t in reading.timepoints if t.study_instance_uid
    }
    kept = [t for t in reading.timepoints if t.study_instance_uid not in listed]
    for assignment in assignments:
        study = listed[assignment.study_instance_uid]
        before = existing.get(assignment.study_instance_uid)
        findings = _has_findings(before) if before is not None else ()
        label = assignment.visit.strip().upper()
        if not label:
            if before is not None and findings:
                raise VisitAssignmentError(
                    f"visit {before.visit}: has findings ({', '.join(findings)}); "
                    "delete them before removing the visit"
                )
            continue
        series = next(
            (
                s
                for s in study.series
                if s.series_instance_uid == assignment.series_instance_uid
            ),
            None,
        )
        if (
            before is not None
            and findings
            and before.series_instance_uid
            and before.series_instance_uid != assignment.series_instance_uid
        ):
            raise VisitAssignmentError(
                f"visit {before.visit}: findings ({', '.join(findings)}) were "
                "measured on its series; delete them before choosing another series"
            )
        base = before or TimePoint(visit=label, date=assignment.date)
        kept.append(
            dataclasses.replace(
                base,
                visit=label,
                date=assignment.date,
                is_baseline=label in _BASELINE_LABELS,
                study_instance_uid=assignment.study_instance_uid,
                series_instance_uid=assignment.series_instance_uid or None,
                slice_thickness_mm=(
                    series.slice_thickness_mm
                    if series is not None and series.slice_thickness_mm
                    else base.slice_thickness_mm
                ),
                modality=_modality(series, base.modality),
            )
        )
    baselines = [t for t in kept if t.is_baseline]
    for baseline in baselines[:1]:
        for timepoint in kept:
            if timepoint is not baseline and timepoint.date <= baseline.date:
                raise VisitAssignmentError(
                    f"visit {timepoint.visit}: date {timepoint.date.isoformat()} "
                    f"is not after the baseline ({baseline.date.isoformat()})"
                )
    kept.sort(key=lambda t: (t.date, not t.is_baseline))
    return dataclasses.replace(reading, timepoints=tuple(kept))
