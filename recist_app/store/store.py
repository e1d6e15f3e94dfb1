"""The reading database behind one URL, and its parts by concern.

One :class:`Store` per database. Its work is split into parts, each an attribute
(``store.readings.save(...)``, ``store.signing.sign(...)``, ...); every public
method of a part is one unit of work in its own session and transaction,
committed before it returns, so a change whose call returned survives a crash of
the program. The parts share one :class:`~recist_app.store._unit_of_work.UnitOfWork`
(engine, sessions, clock, lookups), so none keeps its own copy of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from recist_app.store._unit_of_work import Clock, UnitOfWork, utc_now
from recist_app.store.adverse_events import AdverseEventData
from recist_app.store.central import CentralReading
from recist_app.store.clinical import ClinicalData
from recist_app.store.database import (
    DEFAULT_BUSY_TIMEOUT_S,
    create_store_engine,
    inspect_sqlite_file,
    migrate_to_head,
    resolve_database_url,
)
from recist_app.store.imaging_index import ImagingIndex
from recist_app.store.readings import Readings
from recist_app.store.records import PatientSummary
from recist_app.store.responses import ResponseCache
from recist_app.store.schema import PatientRow, ReadingRow, StudyRow
from recist_app.store.signing import Signing
from recist_app.store.verification import AuditTrail

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["Store", "open_store"]


class Store:
    """The reading database behind one URL.

    Create it with :func:`open_store`. Methods are thread-safe (each opens its own
    session); close the store with :meth:`close` or a ``with`` block.

    Attributes
    ----------
    readings : Readings
        Load, save, edit, import and list readings.
    signing : Signing
        Sign and amend readings; their signed versions.
    images : ImagingIndex
        The indexed studies, series and image files.
    clinical : ClinicalData
        The clinical dates the trial endpoints need.
    adverse_events : AdverseEventData
        The adverse events the safety endpoints need.
    responses : ResponseCache
        The responses of stored readings, cached.
    audit : AuditTrail
        The hash-chained record of every change.
    central : CentralReading
        Reading roles (reader 1, reader 2, adjudicator) and adjudications.
    """

    def __init__(
        self,
        engine: Engine,
        url: str,
        *,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        clock: Clock = utc_now,
        audit_key: bytes | None = None,
        read_only: bool = False,
    ) -> None:
        self._unit = UnitOfWork(
            engine,
            url,
            busy_timeout_s=busy_timeout_s,
            clock=clock,
            audit_key=audit_key,
            read_only=read_only,
        )
        self.readings = Readings(self._unit)
        self.signing = Signing(self._unit)
        self.images = ImagingIndex(self._unit)
        self.clinical = ClinicalData(self._unit)
        self.adverse_events = AdverseEventData(self._unit)
        self.responses = ResponseCache(self._unit)
        self.audit = AuditTrail(self._unit)
        self.central = CentralReading(self._unit)

    @property
    def url(self) -> str:
        """The database URL, with any password hidden."""
        return self._unit.url

    @property
    def read_only(self) -> bool:
        """Whether the database file (or its folder) cannot be written."""
        return self._unit.read_only

    def close(self) -> None:
        """Close every pooled connection."""
        self._unit.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def patients(self) -> tuple[PatientSummary, ...]:
        """Every patient with a reading or an imported study, by patient id."""
        with self._unit.session("listing patients", write=False) as session:
            readings: dict[int, int] = dict(
                session.execute(
                    select(ReadingRow.patient_row_id, func.count()).group_by(
                        ReadingRow.patient_row_id
                    )
                ).all()
            )
            studies: dict[int, int] = dict(
                session.execute(
                    select(StudyRow.patient_row_id, func.count()).group_by(
                        StudyRow.patient_row_id
                    )
                ).all()
            )
            patients = session.scalars(
                select(PatientRow).order_by(PatientRow.patient_id)
            ).all()
            return tuple(
                PatientSummary(
                    patient_id=patient.patient_id,
                    reading_count=readings.get(patient.id, 0),
                    study_count=studies.get(patient.id, 0),
                )
                for patient in patients
            )


def open_store(
    url: str | None = None,
    *,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    clock: Clock | None = None,
    audit_key: bytes | None = None,
) -> Store:
    """Open (creating or upgrading if needed) the reading database at ``url``.

    Parameters
    ----------
    url
        SQLAlchemy URL, e.g. ``sqlite:////data/readings.sqlite3`` or
        ``postgresql+psycopg://site-db/recist``. Default: ``$RECIST_APP_DATABASE_URL``,
        else a SQLite file in the user data folder.
    busy_timeout_s
        How long a write waits for another program's write lock before
        :class:`~recist_app.store.errors.StoreBusyError`.
    clock
        Returns the current aware time; for tests.
    audit_key
        The site's audit key, kept outside the database: every audit row
        written gets an HMAC under it, and :meth:`AuditTrail.verify` checks
        them. ``None`` writes rows without one.

    Raises
    ------
    SchemaTooNewError
        The database was written by a newer recist-app.
    StoreError
        The URL, driver, file or schema cannot be used, the SQLite file is
        damaged or another application's (it is left unchanged); the message
        says which.
    """
    resolved = resolve_database_url(url)
    # Checked before anything can write to it: a damaged or foreign file is
    # refused and left as it was; an unwritable one opens read-only.
    read_only = inspect_sqlite_file(resolved, busy_timeout_s=busy_timeout_s)
    engine = create_store_engine(
        resolved, busy_timeout_s=busy_timeout_s, read_only=read_only
    )
    try:
        migrate_to_head(
            engine, resolved, busy_timeout_s=busy_timeout_s, read_only=read_only
        )
    except BaseException:
        engine.dispose()
        raise
    return Store(
        engine,
        resolved,
        busy_timeout_s=busy_timeout_s,
        clock=clock or utc_now,
        audit_key=audit_key,
        read_only=read_only,
    )
