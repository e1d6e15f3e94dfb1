"""Small readings whose overall responses are known, for endpoint tests.

One nodal target lesion, baseline short axis 20 mm. Follow-up short axes give:
CR 8 mm (node < 10 mm), PR 12 mm (−40 %; only +4 mm over a CR nadir, so not PD),
SD 15 mm (−25 %; +3 mm over a PR nadir), PD 30 mm, NE not evaluable.
"""

from __future__ import annotations

import datetime

from recist_app.endpoints import ClinicalRecord
from recist_app.recist import (
    Lesion,
    LesionRole,
    Measurement,
    MeasurementState,
    Reading,
    TimePoint,
)

FIRST_DOSE = datetime.date(2024, 1, 1)
CUTOFF = datetime.date(2025, 12, 31)

_SHORT_AXIS_MM = {"CR": 8.0, "PR": 12.0, "SD": 15.0, "PD": 30.0}


def day(number: int) -> datetime.date:
    """Study day ``number`` counted from the first dose as day 0."""
    return FIRST_DOSE + datetime.timedelta(days=number)


def _measurement(response: str) -> Measurement:
    if response == "NE":
        return Measurement(lesion_id="T01", state=MeasurementState.NOT_EVALUABLE)
    short = _SHORT_AXIS_MM[response]
    return Measurement(lesion_id="T01", long_axis_mm=short + 5, short_axis_mm=short)


def make_reading(
    patient_id: str,
    visits: list[tuple[int, str]],
    *,
    baseline: bool = True,
) -> Reading:
    """A reading with follow-ups ``(study day, intended overall response)``."""
    timepoints: list[TimePoint] = []
    if baseline:
        timepoints.append(
            TimePoint(
                visit="BASELINE",
                date=day(-7),
                is_baseline=True,
                measurements=(
                    Measurement(lesion_id="T01", long_axis_mm=26.0, short_axis_mm=20.0),
                ),
            )
        )
    for number, (study_day, response) in enumerate(visits, start=1):
        timepoints.append(
            TimePoint(
                visit=f"VISIT {number}",
                date=day(study_day),
                measurements=(_measurement(response),),
            )
        )
    return Reading(
        patient_id=patient_id,
        first_dose_date=FIRST_DOSE,
        lesions=(
            Lesion(
                lesion_id="T01",
                role=LesionRole.TARGET,
                organ="lymph node",
                is_lymph_node=True,
            ),
        ),
        timepoints=tuple(timepoints),
    )


def make_clinical(
    patient_id: str,
    *,
    death: int | None = None,
    last_alive: int | None = None,
    new_therapy: int | None = None,
    cutoff: datetime.date = CUTOFF,
) -> ClinicalRecord:
    """A clinical record with dates given as study days."""
    return ClinicalRecord(
        patient_id=patient_id,
        first_dose_date=FIRST_DOSE,
        data_cutoff_date=cutoff,
        death_date=None if death is None else day(death),
        last_known_alive_date=None if last_alive is None else day(last_alive),
        new_anticancer_therapy_date=None if new_therapy is None else day(new_therapy),
    )
