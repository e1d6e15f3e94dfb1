"""The reading database: SQLAlchemy 2 + Alembic, SQLite by default, never Qt.

Every measurement is saved the moment it is made, signed readings are locked until
amended with a reason, every change lands in a hash-chained audit trail, and derived
responses are cached with the engine version that produced them.

A :class:`Store` exposes its work by concern: ``store.readings`` (load, save,
edit, import, list), ``store.signing`` (sign, amend, history), ``store.images``
(the imaging index), ``store.clinical`` (clinical dates),
``store.adverse_events`` (adverse events), ``store.responses`` (the response cache)
and ``store.audit`` (the audit trail).

>>> from recist_app.store import open_store  # doctest: +SKIP
>>> with open_store("sqlite:////tmp/readings.sqlite3") as store:  # doctest: +SKIP
...     store.readings.save(reading, user="dr-a")
"""

from recist_app.store._unit_of_work import Clock
from recist_app.store.adverse_events import (
    AdverseEventData,
    AdverseEventImportSummary,
    StoredAdverseEvent,
)
from recist_app.store.audit import AuditEntry
from recist_app.store.central import AdjudicationRecord, CentralReading
from recist_app.store.clinical import (
    ClinicalData,
    ClinicalDates,
    ClinicalImportSummary,
)
from recist_app.store.database import (
    DATABASE_URL_ENV,
    DEFAULT_BUSY_TIMEOUT_S,
    default_database_url,
    head_revision,
    resolve_database_url,
)
from recist_app.store.errors import (
    ConcurrentEditError,
    ReadingConflictError,
    ReadingLockedError,
    ReadingNotFoundError,
    SchemaTooNewError,
    SignatureMismatchError,
    StoreBusyError,
    StoreError,
)
from recist_app.store.imaging_index import (
    ImagingIndex,
    ImportSummary,
    IndexedImage,
    StoredSeries,
    StoredStudy,
)
from recist_app.store.importing import (
    ImportedSignOff,
    ImportOutcome,
    ReadingImportResult,
)
from recist_app.store.readings import Readings
from recist_app.store.records import (
    PatientSummary,
    ReadingRecord,
    ReadingStatus,
    StoredReading,
)
from recist_app.store.responses import ResponseCache
from recist_app.store.signing import SignedReading, SignedVersion, Signing
from recist_app.store.store import Store, open_store
from recist_app.store.verification import (
    AnchorCheck,
    AuditTrail,
    AuditVerification,
    Divergence,
)

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_BUSY_TIMEOUT_S",
    "AdjudicationRecord",
    "AdverseEventData",
    "AdverseEventImportSummary",
    "AnchorCheck",
    "AuditEntry",
    "AuditTrail",
    "AuditVerification",
    "CentralReading",
    "ClinicalData",
    "ClinicalDates",
    "ClinicalImportSummary",
    "Clock",
    "ConcurrentEditError",
    "Divergence",
    "ImagingIndex",
    "ImportOutcome",
    "ImportSummary",
    "ImportedSignOff",
    "IndexedImage",
    "PatientSummary",
    "ReadingConflictError",
    "ReadingImportResult",
    "ReadingLockedError",
    "ReadingNotFoundError",
    "ReadingRecord",
    "ReadingStatus",
    "Readings",
    "ResponseCache",
    "SchemaTooNewError",
    "SignatureMismatchError",
    "SignedReading",
    "SignedVersion",
    "Signing",
    "Store",
    "StoreBusyError",
    "StoreError",
    "StoredAdverseEvent",
    "StoredReading",
    "StoredSeries",
    "StoredStudy",
    "default_database_url",
    "head_revision",
    "open_store",
    "resolve_database_url",
]
