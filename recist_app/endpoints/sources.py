"""Readings for an analysis from the reading database.

Reading files are parsed by the caller (the endpoints layer never imports the
exchange layer); the database is read here through :class:`recist_app.store.Store`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recist_app.endpoints.errors import EndpointError
from recist_app.recist import Criteria

if TYPE_CHECKING:
    from recist_app.recist import Reading
    from recist_app.store import Store

__all__ = ["readings_from_store"]


def readings_from_store(
    store: Store,
    *,
    criteria: Criteria = Criteria.RECIST_1_1,
    reader: str | None = None,
    signed_only: bool = False,
) -> tuple[Reading, ...]:
    """One reading per patient from ``store``, in patient id order.

    Parameters
    ----------
    store
        An open reading database.
    criteria
        Criteria set of the readings to analyse.
    reader
        Only this reader's readings; needed when a patient has several readers.
    signed_only
        Only signed (locked) readings, as a final analysis requires.

    Raises
    ------
    EndpointError
        No matching reading, or a patient with several matching readings.
    """
    from recist_app.store import ReadingStatus  # SQLAlchemy only when needed

    records = [
        record
        for record in store.list_readings()
        if record.criteria is criteria
        and (reader is None or record.reader == reader)
        and (not signed_only or record.status is ReadingStatus.SIGNED)
    ]
    if not records:
        wanted = " signed" if signed_only else ""
        by = f" by reader {reader!r}" if reader is not None else ""
        raise EndpointError(
            f"database {store.url}: no{wanted} {criteria.value} readings{by}"
        )
    readers: dict[str, list[str]] = {}
    for record in records:
        readers.setdefault(record.patient_id, []).append(record.reader or "(none)")
    for patient_id, names in readers.items():
        if len(names) > 1:
            raise EndpointError(
                f"patient {patient_id!r}: {len(names)} {criteria.value} readings "
                f"(readers {', '.join(names)}); choose one reader"
            )
    return tuple(
        store.load_reading(record.patient_id, record.criteria, record.reader)
        for record in records
    )
