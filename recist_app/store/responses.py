"""The response cache: each reading's assessment, kept with what it was made from.

A cached assessment is valid for the reading it was computed from (a SHA-256 of
the reading's rows) and one version of the rules engine
(:data:`~recist_app.recist.ENGINE_VERSION`). Every save that changes a reading
writes the assessment of the new reading in the same transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recist_app.recist import (
    ENGINE_VERSION,
    Assessment,
    Criteria,
    Reading,
    ReadingError,
    assess,
)
from recist_app.store._assessment_codec import assessment_from_json, assessment_to_json
from recist_app.store._rows import reading_to_rows, rows_sha256
from recist_app.store._unit_of_work import as_criteria
from recist_app.store.errors import StoreBusyError
from recist_app.store.schema import CachedAssessmentRow

if TYPE_CHECKING:
    import datetime

    from sqlalchemy.orm import Session

    from recist_app.store._unit_of_work import UnitOfWork
    from recist_app.store.schema import ReadingRow

__all__ = ["ResponseCache", "write_cache"]


def write_cache(
    session: Session,
    row: ReadingRow,
    reading: Reading,
    now: datetime.datetime,
) -> Assessment | None:
    """Cache the assessment of ``reading``, stored in ``row``.

    Returns
    -------
    Assessment or None
        The cached assessment; ``None`` when the rules cannot assess the reading
        (yet), in which case any older cache is dropped and the reading kept.
    """
    cached = session.get(CachedAssessmentRow, row.id)
    try:
        assessment = assess(reading)
    except ReadingError:
        # No rules for this reading (yet): keep the reading, drop a stale cache.
        if cached is not None:
            session.delete(cached)
            session.flush()
        return None
    values = {
        "engine_version": assessment.engine_version,
        "reading_sha256": rows_sha256(reading_to_rows(reading)),
        "computed_at": now,
        "best_overall_response": assessment.best_overall_response.response.value,
        "best_response_confirmed": assessment.best_overall_response.confirmed,
        "assessment": assessment_to_json(assessment),
    }
    if cached is None:
        session.add(CachedAssessmentRow(reading_id=row.id, **values))
    else:
        for name, value in values.items():
            setattr(cached, name, value)
    session.flush()
    return assessment


class ResponseCache:
    """The cached assessments of the stored readings (``store.responses``).

    Parameters
    ----------
    unit
        The store's shared sessions, clock and lookups.
    """

    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit

    def load(
        self,
        patient_id: str,
        criteria: Criteria | str = Criteria.RECIST_1_1,
        reader: str = "",
    ) -> Assessment:
        """The responses of a stored reading, from the cache when still valid.

        The cache is used only if it was computed by this :data:`ENGINE_VERSION`
        from exactly the stored reading; otherwise the responses are recomputed
        with :func:`~recist_app.recist.assess` and the cache is refreshed.

        Raises
        ------
        ReadingNotFoundError
            No such reading.
        ReadingError
            The rules cannot assess this reading (e.g. unsupported criteria).
        """
        criteria = as_criteria(criteria)
        unit = self._unit
        with unit.session("loading responses", write=False) as session:
            row = unit.require_reading(session, patient_id, criteria, reader)
            rows = unit.stored_rows(session, row, patient_id)
            cached = session.get(CachedAssessmentRow, row.id)
            if (
                cached is not None
                and cached.engine_version == ENGINE_VERSION
                and cached.reading_sha256 == rows_sha256(rows)
            ):
                return assessment_from_json(cached.assessment)
        reading = unit.reading_from(rows)
        try:
            with unit.session("caching responses", write=True) as session:
                row = unit.require_reading(session, patient_id, criteria, reader)
                current = unit.stored_rows(session, row, patient_id)
                if current != rows:
                    # Changed since we read it: the save that changed it cached anew.
                    return assess(unit.reading_from(current))
                assessment = write_cache(session, row, reading, unit.now())
        except StoreBusyError:
            # Showing responses must not wait for another program's long write;
            # the cache is refreshed by the next load or save.
            return assess(reading)
        return assess(reading) if assessment is None else assessment
