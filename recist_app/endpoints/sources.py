"""Readings and clinical dates for an analysis from the reading database.

Reading files are parsed by the caller (the endpoints layer never imports the
exchange layer); the database is read here through :class:`recist_app.store.Store`.

Readers measure once (issue 8): a patient whose reading is stored under another
criteria set is analysed under the requested one by assessing the same lesions
under it (``dataclasses.replace(reading, criteria=...)``), unless
``other_criteria=False``. A reading stored under the requested criteria always wins.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from recist_app.endpoints.clinical import ClinicalRecord, read_clinical_csv
from recist_app.endpoints.errors import EndpointError
from recist_app.recist import Criteria

if TYPE_CHECKING:
    from pathlib import Path

    from recist_app.recist import Reading
    from recist_app.store import ClinicalImportSummary, ReadingRecord, Store

__all__ = ["clinical_from_store", "import_clinical_csv", "readings_from_store"]


def readings_from_store(
    store: Store,
    *,
    criteria: Criteria = Criteria.RECIST_1_1,
    reader: str | None = None,
    signed_only: bool = False,
    other_criteria: bool = True,
) -> tuple[Reading, ...]:
    """One reading per patient from ``store``, under ``criteria``, by patient id.

    Parameters
    ----------
    store
        An open reading database.
    criteria
        Criteria set to analyse under.
    reader
        Only this reader's readings; needed when a patient has several readers.
    signed_only
        Only signed (locked) readings, as a final analysis requires.
    other_criteria
        Use a patient's reading stored under another criteria set (RECIST 1.1
        first, then iRECIST, then mRECIST) when none is stored under ``criteria``.

    Raises
    ------
    EndpointError
        No matching reading, or a patient with several matching readings.
    """
    from recist_app.store import ReadingStatus  # SQLAlchemy only when needed

    criteria = Criteria(criteria)
    records = [
        record
        for record in store.readings.list()
        if (other_criteria or record.criteria is criteria)
        and (reader is None or record.reader == reader)
        and (not signed_only or record.status is ReadingStatus.SIGNED)
    ]
    if not records:
        wanted = " signed" if signed_only else ""
        what = "" if other_criteria else f" {criteria.value}"
        by = f" by reader {reader!r}" if reader is not None else ""
        raise EndpointError(f"database {store.url}: no{wanted}{what} readings{by}")
    preference = [criteria, *(c for c in Criteria if c is not criteria)]
    by_patient: dict[str, list[ReadingRecord]] = {}
    for record in records:
        by_patient.setdefault(record.patient_id, []).append(record)
    chosen: list[ReadingRecord] = []
    for patient_id, found in by_patient.items():
        best = min(preference.index(record.criteria) for record in found)
        candidates = [r for r in found if preference.index(r.criteria) == best]
        if len(candidates) > 1:
            names = ", ".join(r.reader or "(none)" for r in candidates)
            raise EndpointError(
                f"patient {patient_id!r}: {len(candidates)} "
                f"{candidates[0].criteria.value} readings (readers {names}); "
                "choose one reader"
            )
        chosen.append(candidates[0])
    readings = []
    for record in chosen:
        reading = store.readings.load(record.patient_id, record.criteria, record.reader)
        if reading.criteria is not criteria:
            reading = dataclasses.replace(reading, criteria=criteria)
        readings.append(reading)
    return tuple(readings)


def clinical_from_store(store: Store) -> tuple[ClinicalRecord, ...]:
    """The clinical rows imported into ``store``, checked as a file's would be.

    Raises
    ------
    EndpointError
        Nothing imported yet, or a stored row that breaks a rule of
        :mod:`recist_app.endpoints.clinical`.
    """
    stored = store.clinical.records()
    if not stored:
        raise EndpointError(
            f"database {store.url}: no clinical data; import it with "
            "'recist-app clinical import CLINICAL.csv' or give --clinical"
        )
    return tuple(
        ClinicalRecord(
            patient_id=row.patient_id,
            first_dose_date=row.first_dose_date,
            data_cutoff_date=row.data_cutoff_date,
            death_date=row.death_date,
            last_known_alive_date=row.last_known_alive_date,
            new_anticancer_therapy_date=row.new_anticancer_therapy_date,
        )
        for row in stored
    )


def import_clinical_csv(
    store: Store, path: Path, *, user: str
) -> ClinicalImportSummary:
    """Validate the clinical file at ``path`` and make it the stored clinical data.

    Every row is checked first (one-line errors naming the row); the database then
    changes in one transaction, so a bad file changes nothing.
    """
    from recist_app.store import ClinicalDates

    records = read_clinical_csv(path)
    return store.clinical.replace(
        [
            ClinicalDates(
                patient_id=record.patient_id,
                first_dose_date=record.first_dose_date,
                data_cutoff_date=record.data_cutoff_date,
                death_date=record.death_date,
                last_known_alive_date=record.last_known_alive_date,
                new_anticancer_therapy_date=record.new_anticancer_therapy_date,
                source=path.name,
            )
            for record in records
        ],
        user=user,
    )
