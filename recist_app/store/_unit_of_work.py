"""The plumbing every part of the store shares: sessions, clock, lookups, labels.

One :class:`UnitOfWork` is made per :class:`~recist_app.store.Store` and handed to
each of its parts (readings, signing, imaging index, ...), so they all open their
sessions, read the clock and find readings the same way. Each public store method
is one unit of work: one session and one transaction, committed before it returns.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from recist_app.recist import Criteria, Reading, ReadingError
from recist_app.store._rows import (
    LESION_COLUMNS,
    MEASUREMENT_COLUMNS,
    NEW_LESION_COLUMNS,
    NON_TARGET_COLUMNS,
    READING_COLUMNS,
    VISIT_COLUMNS,
    ReadingRows,
    reading_from_rows,
)
from recist_app.store.database import (
    DEFAULT_BUSY_TIMEOUT_S,
    WRITE_OPTIONS,
    describe_url,
    translate_database_errors,
)
from recist_app.store.errors import ReadingNotFoundError, StoreError
from recist_app.store.schema import (
    LesionRow,
    MeasurementRow,
    NewLesionRow,
    NonTargetRow,
    PatientRow,
    ReadingRow,
    TimePointRow,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = [
    "AUDIT_KEY_INFO",
    "FINDING_TABLES",
    "Clock",
    "UnitOfWork",
    "as_criteria",
    "check_user",
    "label_of",
    "reading_label",
    "utc_now",
]

Clock = Callable[[], datetime.datetime]
"""Returns the current time as an aware datetime (injected for tests)."""

AUDIT_KEY_INFO = "recist_app_audit_key"
"""The ``Session.info`` entry holding the audit key, for the rows' HMACs."""

FindingTable = type[MeasurementRow] | type[NonTargetRow] | type[NewLesionRow]

FINDING_TABLES: tuple[tuple[str, FindingTable, tuple[str, ...]], ...] = (
    ("measurements", MeasurementRow, MEASUREMENT_COLUMNS),
    ("non_target", NonTargetRow, NON_TARGET_COLUMNS),
    ("new_lesions", NewLesionRow, NEW_LESION_COLUMNS),
)
"""The finding tables: the :class:`~recist_app.store._rows.ReadingRows` field,
the table and its columns, in the order the store writes them."""


def utc_now() -> datetime.datetime:
    """The current time in UTC (the store's default clock)."""
    return datetime.datetime.now(datetime.UTC)


def reading_label(patient_id: str, criteria: str, reader: str) -> str:
    """``HCC-001 / RECIST 1.1 / dr-a``: how messages and the audit name a reading."""
    return f"{patient_id} / {criteria} / {reader or '(no reader)'}"


def label_of(reading: Reading) -> str:
    """The :func:`reading_label` of ``reading``."""
    return reading_label(reading.patient_id, reading.criteria.value, reading.reader)


def as_criteria(criteria: Criteria | str) -> Criteria:
    """``criteria`` as a :class:`~recist_app.recist.Criteria`.

    Raises
    ------
    StoreError
        It names no criteria set.
    """
    try:
        return Criteria(criteria)
    except ValueError:
        raise StoreError(
            f"unknown criteria {criteria!r} "
            f"(expected one of {', '.join(c.value for c in Criteria)})"
        ) from None


def check_user(user: str, what: str) -> str:
    """``user`` stripped; the audit trail refuses a change by nobody.

    Raises
    ------
    StoreError
        ``user`` is empty.
    """
    if not isinstance(user, str) or not user.strip():
        raise StoreError(f"{what}: the audit trail needs who made the change (user)")
    return user.strip()


class UnitOfWork:
    """The database behind one store: engine, URL, busy timeout and clock.

    Parameters
    ----------
    engine
        The engine made by :func:`~recist_app.store.database.create_store_engine`.
    url
        The database URL (shown with the password hidden).
    busy_timeout_s
        How long a write waits for another program's write lock.
    clock
        Returns the current aware time.
    audit_key
        The key of the audit rows' HMACs, kept outside the database; ``None``
        writes rows without one.
    read_only
        The database cannot be written (a SQLite file or folder without write
        permission): reads work, writes are refused.
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
        self.engine = engine
        self.read_only = read_only
        self._url = url
        self._busy_timeout_s = busy_timeout_s
        self._clock = clock
        self.audit_key = audit_key

    @property
    def url(self) -> str:
        """The database URL, with any password hidden."""
        return describe_url(self._url)

    @contextmanager
    def session(self, what: str, *, write: bool) -> Iterator[Session]:
        """One session and transaction, committed when the block ends.

        Parameters
        ----------
        what
            What the block does, for error messages (``"saving a reading"``).
        write
            Take the database's write lock at the start (``BEGIN IMMEDIATE`` on
            SQLite), so reading and then writing cannot interleave with another
            writer.

        Raises
        ------
        StoreBusyError
            Another program held the write lock past the busy timeout.
        StoreError
            Any other database failure, in one line.
        """
        with (
            translate_database_errors(
                self._url, what, busy_timeout_s=self._busy_timeout_s
            ),
            Session(self.engine, expire_on_commit=False, autoflush=False) as session,
        ):
            if self.audit_key is not None:
                session.info[AUDIT_KEY_INFO] = self.audit_key
            if write:
                session.connection(execution_options=WRITE_OPTIONS)
            yield session
            if write:
                session.commit()

    def now(self) -> datetime.datetime:
        """The clock's time; it must be aware."""
        now = self._clock()
        if now.tzinfo is None:
            raise StoreError("the store's clock must return an aware datetime")
        return now

    # ------------------------------------------------------------ lookups

    def reading_row(
        self, session: Session, patient_id: str, criteria: Criteria, reader: str
    ) -> ReadingRow | None:
        """The row of the reading, or ``None`` when it is not stored."""
        return session.scalars(
            select(ReadingRow)
            .join(PatientRow, ReadingRow.patient_row_id == PatientRow.id)
            .where(
                PatientRow.patient_id == patient_id,
                ReadingRow.criteria == criteria.value,
                ReadingRow.reader == reader,
            )
        ).one_or_none()

    def require_reading(
        self, session: Session, patient_id: str, criteria: Criteria, reader: str
    ) -> ReadingRow:
        """The row of the reading.

        Raises
        ------
        ReadingNotFoundError
            It is not stored.
        """
        row = self.reading_row(session, patient_id, criteria, reader)
        if row is None:
            raise ReadingNotFoundError(
                f"no reading {reading_label(patient_id, criteria.value, reader)} in "
                f"database {self.url}"
            )
        return row

    def stored_rows(
        self, session: Session, row: ReadingRow, patient_id: str
    ) -> ReadingRows:
        """Every stored row of the reading ``row``, as column values by key."""
        rows = ReadingRows(
            patient_id=patient_id,
            criteria=row.criteria,
            reader=row.reader,
            reading={name: getattr(row, name) for name in READING_COLUMNS},
        )
        lesions = session.execute(
            select(*(getattr(LesionRow, name) for name in LESION_COLUMNS)).where(
                LesionRow.reading_id == row.id
            )
        )
        for values in lesions:
            lesion = dict(zip(LESION_COLUMNS, values, strict=True))
            rows.lesions[lesion["lesion_id"]] = lesion
        timepoints = session.execute(
            select(*(getattr(TimePointRow, name) for name in VISIT_COLUMNS)).where(
                TimePointRow.reading_id == row.id
            )
        )
        for values in timepoints:
            timepoint = dict(zip(VISIT_COLUMNS, values, strict=True))
            rows.timepoints[timepoint["visit"]] = timepoint
        for name, table, columns in FINDING_TABLES:
            found = session.execute(
                select(
                    TimePointRow.visit,
                    LesionRow.lesion_id,
                    *(getattr(table, column) for column in columns),
                )
                .join(TimePointRow, table.timepoint_id == TimePointRow.id)
                .join(LesionRow, table.lesion_row_id == LesionRow.id)
                .where(TimePointRow.reading_id == row.id)
            )
            findings = getattr(rows, name)
            for visit, lesion_id, *finding in found:
                findings[visit, lesion_id] = dict(zip(columns, finding, strict=True))
        return rows

    def reading_from(self, rows: ReadingRows) -> Reading:
        """The domain reading stored in ``rows``.

        Raises
        ------
        StoreError
            The stored rows do not make a valid reading.
        """
        try:
            return reading_from_rows(rows)
        except ReadingError as error:
            raise StoreError(
                f"database {self.url}: reading "
                f"{reading_label(rows.patient_id, rows.criteria, rows.reader)} is "
                f"stored in an invalid state: {error}"
            ) from None
