"""Two readers' readings of one patient, for the central-review tests."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from recist_app.recist import (
    Lesion,
    LesionRole,
    Measurement,
    ReaderRole,
    Reading,
    TimePoint,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from recist_app.store import Store

START = datetime.date(2024, 1, 8)


def sized_reading(patient_id: str, reader: str, sizes_mm: Sequence[float]) -> Reading:
    """One liver target measured ``sizes_mm`` at baseline then every 4 weeks.

    ``(50, 30, 30)`` is a confirmed PR, ``(50, 45, 45)`` SD, ``(50, 45, 70)`` PD
    at the third visit.
    """
    return Reading(
        patient_id=patient_id,
        reader=reader,
        first_dose_date=START + datetime.timedelta(days=3),
        lesions=(Lesion(lesion_id="T01", role=LesionRole.TARGET, organ="liver"),),
        timepoints=tuple(
            TimePoint(
                visit="BASELINE" if n == 0 else f"WEEK {4 * n}",
                date=START + datetime.timedelta(weeks=4 * n),
                is_baseline=n == 0,
                measurements=(Measurement(lesion_id="T01", long_axis_mm=size),),
            )
            for n, size in enumerate(sizes_mm)
        ),
    )


def store_read(
    store: Store,
    patient_id: str,
    role: ReaderRole,
    sizes_mm: Sequence[float],
    *,
    sign: bool = True,
) -> Reading:
    """Save (and sign) ``role``'s read of ``patient_id``; the reader is ``dr-<n>``."""
    reader = {
        ReaderRole.READER_1: "dr-one",
        ReaderRole.READER_2: "dr-two",
        ReaderRole.ADJUDICATOR: "dr-adj",
        ReaderRole.SINGLE: "dr-site",
    }[role]
    reading = sized_reading(patient_id, reader, sizes_mm)
    store.readings.save(reading, user=reader, role=role)
    if sign:
        store.signing.sign(patient_id, reading.criteria, reader, user=reader)
    return reading
