"""A patient not read is left out of every analysis, with the reason (rule A8).

"Not read" is never "no evidence of disease": a reading none of whose visits is
read, or whose baseline is not, is no treated patient with censored PFS. The one
place that decides it is ``workflows.endpoints.analyse_trial``.
"""

from __future__ import annotations

import dataclasses

import pytest

from recist_app.endpoints import (
    AdverseEvent,
    BiomarkerTable,
    simulate_trial,
)
from recist_app.recist import Reading, TimePoint
from recist_app.workflows.endpoints import analyse_trial, unread_reason
from recist_app.workflows.errors import WorkflowError


def _emptied(timepoint: TimePoint) -> TimePoint:
    return dataclasses.replace(
        timepoint, measurements=(), non_target=(), new_lesions=()
    )


def _nothing_read(reading: Reading) -> Reading:
    return dataclasses.replace(
        reading,
        lesions=(),
        timepoints=tuple(_emptied(t) for t in reading.timepoints),
    )


def _baseline_not_read(reading: Reading) -> Reading:
    return dataclasses.replace(
        reading, timepoints=(_emptied(reading.timepoints[0]), *reading.timepoints[1:])
    )


def _baseline_no_disease(reading: Reading) -> Reading:
    emptied = _nothing_read(reading)
    baseline = dataclasses.replace(emptied.timepoints[0], no_disease=True)
    return dataclasses.replace(emptied, timepoints=(baseline, *emptied.timepoints[1:]))


# (change to the reading, reason or None when it enters the analysis)
READ_OR_NOT = [
    ("as-read", lambda r: r, None),
    ("nothing-read", _nothing_read, "not read: none of its"),
    ("baseline-not-read", _baseline_not_read, "baseline BASELINE not read"),
    ("no-disease-at-baseline", _baseline_no_disease, None),
]


@pytest.mark.parametrize(
    ("change", "reason"),
    [row[1:] for row in READ_OR_NOT],
    ids=[row[0] for row in READ_OR_NOT],
)
def test_A8_unread_reason(change: object, reason: str | None) -> None:
    reading = change(simulate_trial(1, seed=3).readings[0])  # type: ignore[operator]
    found = unread_reason(reading)
    if reason is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(reason)


def test_A8_a_patient_not_read_is_out_of_every_analysis_with_the_reason() -> None:
    trial = simulate_trial(6, seed=5)
    readings = list(trial.readings)
    left = readings[2].patient_id
    readings[2] = _baseline_not_read(readings[2])
    events = [
        AdverseEvent(
            patient_id=record.patient_id,
            term="Hypertension",
            grade=2,
            start_date=record.first_dose_date,
        )
        for record in trial.clinical
    ]
    biomarkers = BiomarkerTable(
        names=("pdl1_cps",),
        values={r.patient_id: {"pdl1_cps": str(i)} for i, r in enumerate(readings)},
    )
    analysis = analyse_trial(
        readings, trial.clinical, adverse_events=events, biomarkers=biomarkers
    )
    result = analysis.endpoints
    assert [item.patient_id for item in analysis.unread] == [left]
    assert left not in {s.patient_id for s in result.subjects}
    assert result.treated == 5
    assert result.adverse_events is not None
    assert result.adverse_events.safety_population == 5
    assert result.biomarkers is not None
    assert sum(g.n for g in result.biomarkers[0].groups) == 5
    assert result.warnings[0] == (
        f"patient {left} left out of every analysis: baseline BASELINE not read: "
        "no finding recorded and no 'no measurable / no disease at baseline'"
    )
    assert analysis.left_out_reasons() == ((left, analysis.unread[0].reason),)


def test_A8_no_patient_read_at_all_is_one_line() -> None:
    trial = simulate_trial(2, seed=5)
    with pytest.raises(WorkflowError, match=r"no patient to analyse: all 2 are not"):
        analyse_trial([_nothing_read(r) for r in trial.readings], trial.clinical)
