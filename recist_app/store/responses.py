"""The response cache: each reading's assessment, kept with what it was made from.

A cached assessment is valid for one revision of its reading and one version of
the rules engine (:data:`~recist_app.recist.ENGINE_VERSION`, revision 0006 of the
schema). Every save that changes a reading writes the assessment of the new
revision in the same transaction (the caller may hand in the one it already
computed), so the cache is checked and written without reading or hashing the
reading's rows. Signing or amending moves the revision without changing the
content; the cache moves along with it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, update

from recist_app.recist import (
    ENGINE_VERSION,
    Assessment,
    Criteria,
    Reading,
    ReadingError,
    assess,
    assessment_from_dict,
    assessment_to_dict,
)
from recist_app.store._rows import canonical_json
from recist_app.store._unit_of_work import as_criteria, label_of
from recist_app.store.errors import StoreBusyError, StoreError
from recist_app.store.schema import Base, CachedAssessmentRow

if TYPE_CHECKING:
    import datetime

    from sqlalchemy.orm import Session

    from recist_app.store._unit_of_work import UnitOfWork
    from recist_app.store.schema import ReadingRow

__all__ = ["ResponseCache", "carry_cache", "write_cache"]

_CACHE = Base.metadata.tables[CachedAssessmentRow.__tablename__]


def write_cache(
    session: Session,
    row: ReadingRow,
    reading: Reading,
    assessment: Assessment | None,
    now: datetime.datetime,
) -> Assessment | None:
    """Cache the assessment of ``reading``, stored at ``row.revision``.

    Parameters
    ----------
    assessment
        ``assess(reading)`` if the caller has it; computed here when ``None``.

    Returns
    -------
    Assessment or None
        The cached assessment; ``None`` when the rules cannot assess the reading
        (yet), in which case any older cache is dropped and the reading kept.

    Raises
    ------
    StoreError
        ``assessment`` is of another patient or criteria set than ``reading``.
    """
    if assessment is None:
        try:
            assessment = assess(reading)
        except ReadingError:
            session.connection().execute(
                delete(_CACHE).where(_CACHE.c.reading_id == row.id)
            )
            return None
    elif (assessment.patient_id, assessment.criteria) != (
        reading.patient_id,
        reading.criteria,
    ):
        raise StoreError(
            f"saving {label_of(reading)}: the assessment handed in is of "
            f"{assessment.patient_id} under {assessment.criteria.value}"
        )
    values = {
        "engine_version": assessment.engine_version,
        "reading_revision": row.revision,
        "computed_at": now,
        "best_overall_response": assessment.best_overall_response.response.value,
        "best_response_confirmed": assessment.best_overall_response.confirmed,
        "assessment": canonical_json(assessment_to_dict(assessment)),
    }
    connection = session.connection()
    updated = connection.execute(
        update(_CACHE).where(_CACHE.c.reading_id == row.id).values(**values)
    )
    if updated.rowcount == 0:
        connection.execute(insert(_CACHE).values(reading_id=row.id, **values))
    return assessment


def carry_cache(session: Session, row: ReadingRow, old_revision: int) -> None:
    """Keep the cache valid when the revision moved without a change of content.

    A cache made for ``old_revision`` is moved to ``row.revision``; any other
    cache stays as it is (stale, recomputed when next loaded).
    """
    session.connection().execute(
        update(_CACHE)
        .where(
            _CACHE.c.reading_id == row.id,
            _CACHE.c.reading_revision == old_revision,
        )
        .values(reading_revision=row.revision)
    )


def _valid(cached: CachedAssessmentRow, revision: int) -> bool:
    return (
        cached.engine_version == ENGINE_VERSION and cached.reading_revision == revision
    )


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
        for the stored revision of the reading; otherwise the responses are
        recomputed with :func:`~recist_app.recist.assess` and the cache is
        refreshed.

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
            cached = session.get(CachedAssessmentRow, row.id)
            if cached is not None and _valid(cached, row.revision):
                return assessment_from_dict(json.loads(cached.assessment))
            revision = row.revision
            reading = unit.reading_from(unit.stored_rows(session, row, patient_id))
        if unit.read_only:  # nothing can be cached; the responses are the same
            return assess(reading)
        try:
            with unit.session("caching responses", write=True) as session:
                row = unit.require_reading(session, patient_id, criteria, reader)
                if row.revision != revision:  # saved meanwhile: assess what is stored
                    rows = unit.stored_rows(session, row, patient_id)
                    reading = unit.reading_from(rows)
                assessment = write_cache(session, row, reading, None, unit.now())
        except StoreBusyError:
            # Showing responses must not wait for another program's long write;
            # the cache is refreshed by the next load or save.
            return assess(reading)
        return assess(reading) if assessment is None else assessment
