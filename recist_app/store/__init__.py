"""The reading database: SQLAlchemy 2 + Alembic, SQLite by default, never Qt.

Every measurement is saved the moment it is made, signed readings are locked until
amended with a reason, every change lands in a hash-chained audit trail, and derived
responses are cached with the engine version that produced them.

>>> from recist_app.store import open_store  # doctest: +SKIP
>>> with open_store("sqlite:////tmp/readings.sqlite3") as store:  # doctest: +SKIP
...     store.save_reading(reading, user="dr-a")
"""

from recist_app.store.audit import AuditEntry, AuditVerification
from recist_app.store.clinical import ClinicalDates, ClinicalImportSummary
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
    StoreBusyError,
    StoreError,
)
from recist_app.store.imaging_index import ImportSummary, StoredSeries, StoredStudy
from recist_app.store.importing import (
    ImportedSignOff,
    ImportOutcome,
    IndexedImage,
    ReadingImportResult,
)
from recist_app.store.store import (
    Clock,
    PatientSummary,
    ReadingRecord,
    ReadingStatus,
    SignedVersion,
    Store,
    StoredReading,
    open_store,
)

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_BUSY_TIMEOUT_S",
    "AuditEntry",
    "AuditVerification",
    "ClinicalDates",
    "ClinicalImportSummary",
    "Clock",
    "ConcurrentEditError",
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
    "SchemaTooNewError",
    "SignedVersion",
    "Store",
    "StoreBusyError",
    "StoreError",
    "StoredReading",
    "StoredSeries",
    "StoredStudy",
    "default_database_url",
    "head_revision",
    "open_store",
    "resolve_database_url",
]
