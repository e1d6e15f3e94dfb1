"""The reading database: save and load readings, sign and amend, audit, cache.

One :class:`Store` per database; every public method is one unit of work in its own
session and transaction, committed before it returns, so a change whose call
returned survives a crash of the program. Writes diff the stored rows against the new
reading and touch only what changed, each change recorded in the audit trail.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recist_app.recist import (
    ENGINE_VERSION,
    Assessment,
    Criteria,
    Measurement,
    Reading,
    ReadingError,
    assess,
)
from recist_app.recist import record_measurement as _record_measurement
from recist_app.store._assessment_codec import assessment_from_json, assessment_to_json
from recist_app.store._rows import (
    LESION_COLUMNS,
    MEASUREMENT_COLUMNS,
    NEW_LESION_COLUMNS,
    NON_TARGET_COLUMNS,
    READING_COLUMNS,
    VISIT_COLUMNS,
    FindingKey,
    ReadingRows,
    Values,
    reading_from_rows,
    reading_to_rows,
    rows_from_snapshot,
    rows_sha256,
    rows_to_snapshot,
)
from recist_app.store.audit import (
    AuditChange,
    AuditEntry,
    AuditVerification,
    append_audit,
    find_or_add_patient,
    verify_audit_chain,
)
from recist_app.store.clinical import (
    ClinicalDates,
    ClinicalImportSummary,
    load_clinical,
    replace_clinical,
)
from recist_app.store.database import (
    DEFAULT_BUSY_TIMEOUT_S,
    WRITE_OPTIONS,
    create_store_engine,
    describe_url,
    migrate_to_head,
    resolve_database_url,
    translate_database_errors,
)
from recist_app.store.errors import (
    ConcurrentEditError,
    ReadingConflictError,
    ReadingLockedError,
    ReadingNotFoundError,
    StoreBusyError,
    StoreError,
)
from recist_app.store.imaging_index import (
    ImportSummary,
    StoredStudy,
    index_discovery,
    series_file_paths,
    stored_studies,
)
from recist_app.store.importing import (
    ImportedSignOff,
    ImportOutcome,
    IndexedImage,
    ReadingImportResult,
    find_indexed_image,
    first_difference,
    sign_off_difference,
)
from recist_app.store.schema import (
    AuditRow,
    Base,
    CachedAssessmentRow,
    LesionRow,
    MeasurementRow,
    NewLesionRow,
    NonTargetRow,
    PatientRow,
    ReadingRow,
    ReadingVersionRow,
    SeriesFileRow,
    StudyRow,
    TimePointRow,
)

if TYPE_CHECKING:
    import os

    from sqlalchemy.engine import Engine

    from recist_app.imaging.discovery import DiscoveryResult
    from recist_app.imaging.progress import CancelCheck, ProgressCallback

__all__ = [
    "Clock",
    "PatientSummary",
    "ReadingRecord",
    "ReadingStatus",
    "SignedVersion",
    "Store",
    "StoredReading",
    "open_store",
]

Clock = Callable[[], datetime.datetime]
"""Returns the current time as an aware datetime (injected for tests)."""

_FINDING_TABLES: tuple[
    tuple[
        str,
        type[MeasurementRow] | type[NonTargetRow] | type[NewLesionRow],
        tuple[str, ...],
    ],
    ...,
] = (
    ("measurements", MeasurementRow, MEASUREMENT_COLUMNS),
    ("non_target", NonTargetRow, NON_TARGET_COLUMNS),
    ("new_lesions", NewLesionRow, NEW_LESION_COLUMNS),
)


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class ReadingStatus(StrEnum):
    """Whether a reading can be edited (draft) or is locked (signed)."""

    DRAFT = "draft"
    SIGNED = "signed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingRecord:
    """The bookkeeping of a stored reading (not its content).

    Parameters
    ----------
    revision
        Increases with every saved change; pass it back as ``base_revision`` to
        :meth:`Store.save_reading` to refuse saving over someone else's change.
    signed_version
        Number of times the reading has been signed (0: never).
    amendment_reason
        Why a signed reading was reopened, while the amendment is in progress.
    """

    patient_id: str
    criteria: Criteria
    reader: str
    status: ReadingStatus
    revision: int
    signed_version: int
    signed_at: datetime.datetime | None
    signed_by: str | None
    amendment_reason: str | None
    updated_at: datetime.datetime

    @property
    def label(self) -> str:
        """``HCC-001 / RECIST 1.1 / reader`` for messages and window titles."""
        return _label(self.patient_id, self.criteria.value, self.reader)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredReading:
    """A reading and its bookkeeping, read in one transaction."""

    reading: Reading
    record: ReadingRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedVersion:
    """One signed version of a reading, kept after later amendments."""

    version: int
    signed_at: datetime.datetime
    signed_by: str
    amendment_reason: str | None
    reading: Reading


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientSummary:
    """A patient in the database with counts for a patient list."""

    patient_id: str
    reading_count: int
    study_count: int


def _label(patient_id: str, criteria: str, reader: str) -> str:
    return f"{patient_id} / {criteria} / {reader or '(no reader)'}"


def _criteria(criteria: Criteria | str) -> Criteria:
    try:
        return Criteria(criteria)
    except ValueError:
        raise StoreError(
            f"unknown criteria {criteria!r} "
            f"(expected one of {', '.join(c.value for c in Criteria)})"
        ) from None


def _record(row: ReadingRow, patient_id: str) -> ReadingRecord:
    return ReadingRecord(
        patient_id=patient_id,
        criteria=Criteria(row.criteria),
        reader=row.reader,
        status=ReadingStatus(row.status),
        revision=row.revision,
        signed_version=row.signed_version,
        signed_at=row.signed_at,
        signed_by=row.signed_by,
        amendment_reason=row.amendment_reason,
        updated_at=row.updated_at,
    )


def _row_values(row: Base, names: tuple[str, ...]) -> Values:
    return {name: getattr(row, name) for name in names}


def _changed(old: Values, new: Values) -> bool:
    return any(old[name] != value for name, value in new.items())


def _check_user(user: str, what: str) -> str:
    if not isinstance(user, str) or not user.strip():
        raise StoreError(f"{what}: the audit trail needs who made the change (user)")
    return user.strip()


class Store:
    """The reading database behind one URL.

    Create it with :func:`open_store`. Methods are thread-safe (each opens its own
    session); close the store with :meth:`close` or a ``with`` block.
    """

    def __init__(
        self,
        engine: Engine,
        url: str,
        *,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        clock: Clock = _utc_now,
    ) -> None:
        self._engine = engine
        self._url = url
        self._busy_timeout_s = busy_timeout_s
        self._clock = clock

    @property
    def url(self) -> str:
        """The database URL, with any password hidden."""
        return describe_url(self._url)

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------ units of work

    @contextmanager
    def _session(self, what: str, *, write: bool) -> Iterator[Session]:
        with (
            translate_database_errors(
                self._url, what, busy_timeout_s=self._busy_timeout_s
            ),
            Session(self._engine, expire_on_commit=False, autoflush=False) as session,
        ):
            if write:
                session.connection(execution_options=WRITE_OPTIONS)
            yield session
            if write:
                session.commit()

    def _now(self) -> datetime.datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise StoreError("the store's clock must return an aware datetime")
        return now

    # ------------------------------------------------------------ lookups

    def _reading_row(
        self, session: Session, patient_id: str, criteria: Criteria, reader: str
    ) -> ReadingRow | None:
        return session.scalars(
            select(ReadingRow)
            .join(PatientRow, ReadingRow.patient_row_id == PatientRow.id)
            .where(
                PatientRow.patient_id == patient_id,
                ReadingRow.criteria == criteria.value,
                ReadingRow.reader == reader,
            )
        ).one_or_none()

    def _require_reading(
        self, session: Session, patient_id: str, criteria: Criteria, reader: str
    ) -> ReadingRow:
        row = self._reading_row(session, patient_id, criteria, reader)
        if row is None:
            raise ReadingNotFoundError(
                f"no reading {_label(patient_id, criteria.value, reader)} in "
                f"database {self.url}"
            )
        return row

    # ------------------------------------------------------------ rows

    def _stored_rows(
        self, session: Session, row: ReadingRow, patient_id: str
    ) -> tuple[ReadingRows, dict[str, Any]]:
        """The stored reading as rows, and the ORM objects under the same keys."""
        lesions = session.scalars(
            select(LesionRow).where(LesionRow.reading_id == row.id)
        ).all()
        timepoints = session.scalars(
            select(TimePointRow).where(TimePointRow.reading_id == row.id)
        ).all()
        rows = ReadingRows(
            patient_id=patient_id,
            criteria=row.criteria,
            reader=row.reader,
            reading=_row_values(row, READING_COLUMNS),
        )
        objects: dict[str, Any] = {
            "lesions": {},
            "timepoints": {},
            "measurements": {},
            "non_target": {},
            "new_lesions": {},
        }
        for lesion in lesions:
            rows.lesions[lesion.lesion_id] = _row_values(lesion, LESION_COLUMNS)
            objects["lesions"][lesion.lesion_id] = lesion
        for timepoint in timepoints:
            rows.timepoints[timepoint.visit] = _row_values(timepoint, VISIT_COLUMNS)
            objects["timepoints"][timepoint.visit] = timepoint
        for name, table, columns in _FINDING_TABLES:
            found = session.execute(
                select(table, TimePointRow.visit, LesionRow.lesion_id)
                .join(TimePointRow, table.timepoint_id == TimePointRow.id)
                .join(LesionRow, table.lesion_row_id == LesionRow.id)
                .where(TimePointRow.reading_id == row.id)
            )
            for finding, visit, lesion_id in found:
                key = (visit, lesion_id)
                getattr(rows, name)[key] = _row_values(finding, columns)
                objects[name][key] = finding
        return rows, objects

    def _reading_from(self, rows: ReadingRows) -> Reading:
        try:
            return reading_from_rows(rows)
        except ReadingError as error:
            raise StoreError(
                f"database {self.url}: reading "
                f"{_label(rows.patient_id, rows.criteria, rows.reader)} is stored "
                f"in an invalid state: {error}"
            ) from None

    # ------------------------------------------------------------ reading I/O

    def load_reading(
        self,
        patient_id: str,
        criteria: Criteria | str = Criteria.RECIST_1_1,
        reader: str = "",
    ) -> Reading:
        """The stored reading of ``patient_id`` by ``reader`` under ``criteria``.

        Raises
        ------
        ReadingNotFoundError
            No such reading.
        """
        return self.load_stored_reading(patient_id, criteria, reader).reading

    def load_stored_reading(
        self,
        patient_id: str,
        criteria: Criteria | str = Criteria.RECIST_1_1,
        reader: str = "",
    ) -> StoredReading:
        """The stored reading with its status and revision, read consistently."""
        criteria = _criteria(criteria)
        with self._session("loading a reading", write=False) as session:
            row = self._require_reading(session, patient_id, criteria, reader)
            rows, _ = self._stored_rows(session, row, patient_id)
            return StoredReading(
                reading=self._reading_from(rows), record=_record(row, patient_id)
            )

    def reading_record(
        self,
        patient_id: str,
        criteria: Criteria | str = Criteria.RECIST_1_1,
        reader: str = "",
    ) -> ReadingRecord:
        """Status, revision and signature of a stored reading."""
        criteria = _criteria(criteria)
        with self._session("reading a reading's status", write=False) as session:
            return _record(
                self._require_reading(session, patient_id, criteria, reader),
                patient_id,
            )

    def save_reading(
        self,
        reading: Reading,
        *,
        user: str | None = None,
        reason: str | None = None,
        base_revision: int | None = None,
    ) -> ReadingRecord:
        """Store ``reading`` (creating it if new), writing only what changed.

        Parameters
        ----------
        reading
            The whole reading as it should now be stored.
        user
            Who made the change, for the audit trail (default: ``reading.reader``).
        reason
            Why, for the audit trail. While a signed reading is being amended the
            amendment's reason is recorded when none is given.
        base_revision
            The revision the caller's copy was loaded at; if the stored reading has
            moved on since, nothing is saved and :class:`ConcurrentEditError` is
            raised, so nobody silently overwrites another session's change.

        Returns
        -------
        ReadingRecord
            The reading's bookkeeping after the save (revision unchanged when the
            reading was already stored exactly so).

        Raises
        ------
        ReadingLockedError
            The reading is signed and ``reading`` differs from it.
        StoreBusyError
            Another program held the write lock past the busy timeout.
        """
        who = _check_user(user or reading.reader, f"saving {_reading_label(reading)}")
        with self._session("saving a reading", write=True) as session:
            row = self._save(session, reading, who, reason, base_revision)
            return _record(row, reading.patient_id)

    def update_reading(
        self,
        patient_id: str,
        criteria: Criteria | str,
        reader: str,
        change: Callable[[Reading], Reading],
        *,
        user: str | None = None,
        reason: str | None = None,
    ) -> StoredReading:
        """Apply ``change`` to the stored reading and save it, atomically.

        The reading is read and written inside one write transaction, so two
        programs editing the same reading at once both keep their changes.
        ``change`` is a pure update such as ``lambda r: recist.record_non_target(r,
        visit, assessment)``; its :class:`~recist_app.recist.ReadingError` passes
        through unchanged and nothing is saved.
        """
        criteria = _criteria(criteria)
        who = _check_user(
            user or reader, f"editing {_label(patient_id, criteria.value, reader)}"
        )
        with self._session("saving a reading", write=True) as session:
            row = self._require_reading(session, patient_id, criteria, reader)
            stored = self._stored_rows(session, row, patient_id)
            updated = change(self._reading_from(stored[0]))
            if (updated.patient_id, updated.criteria, updated.reader) != (
                patient_id,
                criteria,
                reader,
            ):
                raise StoreError(
                    f"editing {_label(patient_id, criteria.value, reader)}: the change "
                    "returned a different patient, criteria or reader"
                )
            row = self._save(session, updated, who, reason, None, stored=stored)
            return StoredReading(reading=updated, record=_record(row, patient_id))

    def record_measurement(
        self,
        patient_id: str,
        criteria: Criteria | str,
        reader: str,
        visit: str,
        measurement: Measurement,
        *,
        user: str | None = None,
        reason: str | None = None,
    ) -> StoredReading:
        """Save one target measurement at ``visit`` the moment it is made."""
        return self.update_reading(
            patient_id,
            criteria,
            reader,
            lambda reading: _record_measurement(reading, visit, measurement),
            user=user,
            reason=reason,
        )

    # ------------------------------------------------------------ the diff

    def _save(
        self,
        session: Session,
        reading: Reading,
        user: str,
        reason: str | None,
        base_revision: int | None,
        *,
        stored: tuple[ReadingRows, dict[str, Any]] | None = None,
    ) -> ReadingRow:
        """Write the difference between the stored reading and ``reading``.

        ``stored`` is the stored rows when the caller has just loaded them in
        this transaction (saves loading them twice).
        """
        now = self._now()
        new = reading_to_rows(reading)
        _check_lengths(new, _reading_label(reading))
        changes: list[AuditChange] = []
        patient, _added = find_or_add_patient(
            session, reading.patient_id, now=now, changes=changes
        )
        row = self._reading_row(
            session, reading.patient_id, reading.criteria, reading.reader
        )
        label = _reading_label(reading)
        if row is None:
            row = ReadingRow(
                patient_row_id=patient.id,
                criteria=new.criteria,
                reader=new.reader,
                status=ReadingStatus.DRAFT.value,
                revision=0,
                signed_version=0,
                created_at=now,
                updated_at=now,
                **new.reading,
            )
            session.add(row)
            session.flush()
            changes.append(
                AuditChange(
                    action="insert",
                    entity="reading",
                    entity_key=label,
                    patient_id=reading.patient_id,
                    after={"status": row.status, **new.reading},
                )
            )
            old = ReadingRows(
                patient_id=new.patient_id,
                criteria=new.criteria,
                reader=new.reader,
                reading=dict(new.reading),
            )
            objects: dict[str, Any] = {
                name: {}
                for name in (
                    "lesions",
                    "timepoints",
                    "measurements",
                    "non_target",
                    "new_lesions",
                )
            }
        else:
            if base_revision is not None and row.revision != base_revision:
                raise ConcurrentEditError(
                    f"{label} was changed elsewhere (now revision {row.revision}, "
                    f"yours {base_revision}); nothing was saved, reload it first"
                )
            old, objects = (
                stored
                if stored is not None
                else self._stored_rows(session, row, reading.patient_id)
            )
            if _changed(old.reading, new.reading):
                changes.append(
                    AuditChange(
                        action="update",
                        entity="reading",
                        entity_key=label,
                        patient_id=reading.patient_id,
                        before=old.reading,
                        after=new.reading,
                    )
                )
                for name, value in new.reading.items():
                    setattr(row, name, value)
        changes.extend(self._apply_children(session, row, old, new, objects, label))
        if not changes:
            return row
        if row.status == ReadingStatus.SIGNED.value:
            raise ReadingLockedError(
                f"{label} is signed (version {row.signed_version}); amend it with a "
                "reason before editing. Nothing was saved"
            )
        row.revision += 1
        row.updated_at = now
        if reason is None and row.amendment_reason is not None:
            reason = f"amendment: {row.amendment_reason}"
        append_audit(session, changes, user=user, reason=reason, now=now)
        self._cache_assessment(session, row, reading, new, now)
        return row

    def _apply_children(
        self,
        session: Session,
        row: ReadingRow,
        old: ReadingRows,
        new: ReadingRows,
        objects: dict[str, Any],
        label: str,
    ) -> list[AuditChange]:
        changes: list[AuditChange] = []
        patient_id = new.patient_id
        # Findings go first and come back last: they reference lesions and visits.
        for name, _, _ in _FINDING_TABLES:
            old_items: dict[FindingKey, Values] = getattr(old, name)
            new_items: dict[FindingKey, Values] = getattr(new, name)
            for key in sorted(set(old_items) - set(new_items)):
                session.delete(objects[name][key])
                changes.append(
                    _change(
                        "delete", name, label, key, patient_id, old_items[key], None
                    )
                )
        session.flush()
        parent_tables: tuple[tuple[str, type[LesionRow] | type[TimePointRow]], ...] = (
            ("lesions", LesionRow),
            ("timepoints", TimePointRow),
        )
        for name, parent_table in parent_tables:
            old_parents: dict[str, Values] = getattr(old, name)
            new_parents: dict[str, Values] = getattr(new, name)
            for parent_key in sorted(set(old_parents) - set(new_parents)):
                session.delete(objects[name][parent_key])
                changes.append(
                    _change(
                        "delete",
                        name,
                        label,
                        parent_key,
                        patient_id,
                        old_parents[parent_key],
                        None,
                    )
                )
            session.flush()
            for parent_key, values in new_parents.items():
                before = old_parents.get(parent_key)
                if before is None:
                    parent = parent_table(reading_id=row.id, **values)
                    session.add(parent)
                    objects[name][parent_key] = parent
                    changes.append(
                        _change(
                            "insert", name, label, parent_key, patient_id, None, values
                        )
                    )
                elif _changed(before, values):
                    _assign(objects[name][parent_key], values)
                    changes.append(
                        _change(
                            "update",
                            name,
                            label,
                            parent_key,
                            patient_id,
                            before,
                            values,
                        )
                    )
            session.flush()
        for name, table, _ in _FINDING_TABLES:
            old_items = getattr(old, name)
            for key, values in getattr(new, name).items():
                before = old_items.get(key)
                if before is None:
                    item = table(
                        timepoint_id=objects["timepoints"][key[0]].id,
                        lesion_row_id=objects["lesions"][key[1]].id,
                        **values,
                    )
                    session.add(item)
                    changes.append(
                        _change("insert", name, label, key, patient_id, None, values)
                    )
                elif _changed(before, values):
                    _assign(objects[name][key], values)
                    changes.append(
                        _change("update", name, label, key, patient_id, before, values)
                    )
        session.flush()
        return changes

    # ------------------------------------------------------------ responses

    def _cache_assessment(
        self,
        session: Session,
        row: ReadingRow,
        reading: Reading,
        rows: ReadingRows,
        now: datetime.datetime,
    ) -> Assessment | None:
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
            "reading_sha256": rows_sha256(rows),
            "computed_at": now,
            "best_overall_response": assessment.best_overall_response.response.value,
            "best_response_confirmed": assessment.best_overall_response.confirmed,
            "assessment": assessment_to_json(assessment),
        }
        if cached is None:
            session.add(CachedAssessmentRow(reading_id=row.id, **values))
        else:
            _assign(cached, values)
        session.flush()
        return assessment

    def load_assessment(
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
        ReadingError
            The rules cannot assess this reading (e.g. unsupported criteria).
        """
        criteria = _criteria(criteria)
        with self._session("loading responses", write=False) as session:
            row = self._require_reading(session, patient_id, criteria, reader)
            rows, _ = self._stored_rows(session, row, patient_id)
            cached = session.get(CachedAssessmentRow, row.id)
            if (
                cached is not None
                and cached.engine_version == ENGINE_VERSION
                and cached.reading_sha256 == rows_sha256(rows)
            ):
                return assessment_from_json(cached.assessment)
        reading = self._reading_from(rows)
        try:
            with self._session("caching responses", write=True) as session:
                row = self._require_reading(session, patient_id, criteria, reader)
                current, _ = self._stored_rows(session, row, patient_id)
                if current != rows:
                    # Changed since we read it: the save that changed it cached anew.
                    return assess(self._reading_from(current))
                assessment = self._cache_assessment(
                    session, row, reading, rows, self._now()
                )
        except StoreBusyError:
            # Showing responses must not wait for another program's long write;
            # the cache is refreshed by the next load or save.
            return assess(reading)
        return assess(reading) if assessment is None else assessment

    # ------------------------------------------------------------ sign and amend

    def sign_reading(
        self,
        patient_id: str,
        criteria: Criteria | str = Criteria.RECIST_1_1,
        reader: str = "",
        *,
        user: str | None = None,
    ) -> ReadingRecord:
        """Sign the reading: lock it and keep this version whole in its history.

        Raises
        ------
        ReadingLockedError
            It is already signed.
        """
        criteria = _criteria(criteria)
        label = _label(patient_id, criteria.value, reader)
        who = _check_user(user or reader, f"signing {label}")
        with self._session("signing a reading", write=True) as session:
            row = self._require_reading(session, patient_id, criteria, reader)
            if row.status == ReadingStatus.SIGNED.value:
                raise ReadingLockedError(
                    f"{label} is already signed (version {row.signed_version})"
                )
            rows, _ = self._stored_rows(session, row, patient_id)
            self._reading_from(rows)  # only a valid reading can be signed
            now = self._now()
            snapshot = rows_to_snapshot(rows)
            version = ReadingVersionRow(
                reading_id=row.id,
                version=row.signed_version + 1,
                signed_at=now,
                signed_by=who,
                amendment_reason=row.amendment_reason,
                snapshot=snapshot,
                snapshot_sha256=rows_sha256(rows),
            )
            session.add(version)
            before = {"status": row.status, "signed_version": row.signed_version}
            row.status = ReadingStatus.SIGNED.value
            row.signed_version = version.version
            row.signed_at = now
            row.signed_by = who
            row.amendment_reason = None
            row.revision += 1
            row.updated_at = now
            append_audit(
                session,
                [
                    AuditChange(
                        action="sign",
                        entity="reading",
                        entity_key=label,
                        patient_id=patient_id,
                        before=before,
                        after={
                            "status": row.status,
                            "signed_version": row.signed_version,
                            "snapshot_sha256": version.snapshot_sha256,
                        },
                    )
                ],
                user=who,
                reason=version.amendment_reason,
                now=now,
            )
            return _record(row, patient_id)

    def amend_reading(
        self,
        patient_id: str,
        criteria: Criteria | str = Criteria.RECIST_1_1,
        reader: str = "",
        *,
        reason: str,
        user: str | None = None,
    ) -> ReadingRecord:
        """Reopen a signed reading for changes, recording why.

        The signed version stays in :meth:`reading_history`; edits are allowed
        again (each audited with ``reason``) until the reading is signed anew.

        Raises
        ------
        StoreError
            ``reason`` is empty, or the reading is not signed.
        """
        criteria = _criteria(criteria)
        label = _label(patient_id, criteria.value, reader)
        who = _check_user(user or reader, f"amending {label}")
        if not isinstance(reason, str) or not reason.strip():
            raise StoreError(f"amending {label}: a reason is required")
        reason = reason.strip()
        with self._session("amending a reading", write=True) as session:
            row = self._require_reading(session, patient_id, criteria, reader)
            if row.status != ReadingStatus.SIGNED.value:
                raise StoreError(
                    f"amending {label}: it is not signed, so it can be edited directly"
                )
            now = self._now()
            row.status = ReadingStatus.DRAFT.value
            row.amendment_reason = reason
            row.revision += 1
            row.updated_at = now
            append_audit(
                session,
                [
                    AuditChange(
                        action="amend",
                        entity="reading",
                        entity_key=label,
                        patient_id=patient_id,
                        before={"status": ReadingStatus.SIGNED.value},
                        after={"status": row.status, "amendment_reason": reason},
                    )
                ],
                user=who,
                reason=reason,
                now=now,
            )
            return _record(row, patient_id)

    def reading_history(
        self,
        patient_id: str,
        criteria: Criteria | str = Criteria.RECIST_1_1,
        reader: str = "",
    ) -> tuple[SignedVersion, ...]:
        """Every signed version of the reading, oldest first."""
        criteria = _criteria(criteria)
        with self._session("reading the signing history", write=False) as session:
            row = self._require_reading(session, patient_id, criteria, reader)
            versions = session.scalars(
                select(ReadingVersionRow)
                .where(ReadingVersionRow.reading_id == row.id)
                .order_by(ReadingVersionRow.version)
            ).all()
            return tuple(
                SignedVersion(
                    version=version.version,
                    signed_at=version.signed_at,
                    signed_by=version.signed_by,
                    amendment_reason=version.amendment_reason,
                    reading=self._reading_from(rows_from_snapshot(version.snapshot)),
                )
                for version in versions
            )

    # ------------------------------------------------------------ listings

    def list_patients(self) -> tuple[PatientSummary, ...]:
        """Every patient with a reading or an imported study, by patient id."""
        with self._session("listing patients", write=False) as session:
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

    def list_readings(self, patient_id: str | None = None) -> tuple[ReadingRecord, ...]:
        """Bookkeeping of every reading (of one patient, if given)."""
        with self._session("listing readings", write=False) as session:
            query = (
                select(ReadingRow, PatientRow.patient_id)
                .join(PatientRow, ReadingRow.patient_row_id == PatientRow.id)
                .order_by(PatientRow.patient_id, ReadingRow.criteria, ReadingRow.reader)
            )
            if patient_id is not None:
                query = query.where(PatientRow.patient_id == patient_id)
            return tuple(
                _record(row, found_patient_id)
                for row, found_patient_id in session.execute(query)
            )

    # ------------------------------------------------------------ imaging index

    def record_discovery(self, result: DiscoveryResult, *, user: str) -> ImportSummary:
        """Index what :func:`recist_app.imaging.discover` found (idempotent)."""
        who = _check_user(user, "importing images")
        with self._session("importing images", write=True) as session:
            now = self._now()
            summary, changes = index_discovery(session, result, now)
            append_audit(session, changes, user=who, reason=None, now=now)
            return summary

    def import_dicom_folder(
        self,
        folder: str | os.PathLike[str],
        *,
        user: str,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> ImportSummary:
        """Scan ``folder`` (headers only) and index its studies, series and files.

        Parameters
        ----------
        folder
            A folder (scanned recursively), a DICOM file or a DICOMDIR.
        user
            Who imported, for the audit trail.
        progress
            Called as ``progress(files_done, files_total)`` while scanning.
        cancel
            Stops the scan (nothing is written) when it returns ``True``.

        Raises
        ------
        StoreError
            The folder does not exist.
        """
        from recist_app.imaging.discovery import discover

        path = Path(folder)
        if not path.exists():
            raise StoreError(f"{path}: no such file or folder")
        return self.record_discovery(
            discover(path, progress=progress, cancel=cancel), user=user
        )

    def list_studies(self, patient_id: str) -> tuple[StoredStudy, ...]:
        """The indexed studies of a patient, oldest first, with their series."""
        with self._session("listing studies", write=False) as session:
            return stored_studies(session, patient_id)

    def series_files(self, series_instance_uid: str) -> tuple[Path, ...]:
        """Where the images of a series are, in volume order, without rescanning.

        Raises
        ------
        StoreError
            The series was never imported.
        """
        with self._session("listing series files", write=False) as session:
            paths = series_file_paths(session, series_instance_uid)
        if paths is None:
            raise StoreError(
                f"series {series_instance_uid} is not in database {self.url}; "
                "import its folder first"
            )
        return tuple(Path(path) for path in paths)

    def image_files(self, sop_instance_uids: Iterable[str]) -> dict[str, Path]:
        """Where the indexed images with these SOP Instance UIDs are.

        UIDs that were never imported are left out of the result.
        """
        wanted = sorted(set(sop_instance_uids))
        found: dict[str, Path] = {}
        with self._session("finding image files", write=False) as session:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = session.execute(
                    select(SeriesFileRow.sop_instance_uid, SeriesFileRow.file_path)
                    .where(SeriesFileRow.sop_instance_uid.in_(chunk))
                    .order_by(SeriesFileRow.id)
                )
                for uid, path in rows:
                    found.setdefault(uid, Path(path))
        return found

    # ------------------------------------------------------------ clinical dates

    def replace_clinical_records(
        self, records: Sequence[ClinicalDates], *, user: str
    ) -> ClinicalImportSummary:
        """Make the stored clinical rows exactly ``records``, in one transaction.

        Rows of patients not in ``records`` are removed; every change is audited.
        The caller validates the dates (``recist_app.endpoints`` parses the file).
        """
        who = _check_user(user, "importing clinical data")
        with self._session("importing clinical data", write=True) as session:
            now = self._now()
            summary, changes = replace_clinical(session, records, now)
            append_audit(session, changes, user=who, reason=None, now=now)
            return summary

    def clinical_records(self) -> tuple[ClinicalDates, ...]:
        """The stored clinical rows, in patient id order (empty before an import)."""
        with self._session("reading clinical data", write=False) as session:
            return load_clinical(session)

    # ------------------------------------------------------------ audit

    def audit_trail(
        self,
        patient_id: str | None = None,
        *,
        criteria: Criteria | str | None = None,
        reader: str | None = None,
        limit: int | None = None,
    ) -> tuple[AuditEntry, ...]:
        """Audit rows, newest first.

        Parameters
        ----------
        patient_id
            Only this patient's rows (readings and imported images).
        criteria, reader
            With ``patient_id``: only the rows of that one reading.
        limit
            At most this many rows (the newest).
        """
        with self._session("reading the audit trail", write=False) as session:
            query = select(AuditRow).order_by(AuditRow.sequence.desc())
            if patient_id is not None:
                query = query.where(AuditRow.patient_id == patient_id)
            if criteria is not None or reader is not None:
                if patient_id is None or criteria is None or reader is None:
                    raise StoreError(
                        "audit trail of one reading: give patient_id, criteria "
                        "and reader"
                    )
                label = _label(patient_id, _criteria(criteria).value, reader)
                query = query.where(
                    (AuditRow.entity_key == label)
                    | AuditRow.entity_key.startswith(f"{label} / ", autoescape=True)
                )
            if limit is not None:
                query = query.limit(limit)
            return tuple(AuditEntry.from_row(row) for row in session.scalars(query))

    def verify_audit(self) -> AuditVerification:
        """Check the whole hash chain and the append-only triggers."""
        with self._session("verifying the audit trail", write=False) as session:
            return verify_audit_chain(session)

    # ------------------------------------------------------------ whole-reading import

    def indexed_image(self, sop_instance_uid: str) -> IndexedImage | None:
        """Where the indexed image ``sop_instance_uid`` is and whose it is."""
        with self._session("looking up an image", write=False) as session:
            return find_indexed_image(session, sop_instance_uid)

    def import_reading(
        self,
        reading: Reading,
        *,
        sign_off: ImportedSignOff | None = None,
        source_sha256: str,
        replace: bool = False,
        user: str,
    ) -> ReadingImportResult:
        """Store a whole reading read from a file, with its sign-off, atomically.

        One transaction: either the whole reading (and its signature) is stored
        or nothing is. Importing what is already stored, sign-off included,
        changes nothing (no new revision, no audit row).

        Parameters
        ----------
        reading
            The reading as the file holds it.
        sign_off
            The file's sign-off (default: a draft never signed). A signed reading
            is stored signed and locked, with the file's signer and time, and its
            version kept whole in :meth:`reading_history`.
        source_sha256
            SHA-256 of the file's bytes, recorded in the audit trail.
        replace
            Overwrite a different stored reading of the same patient, criteria and
            reader, even a signed one; the audit trail records who, when and the
            file's SHA-256. A replaced signed version stays in the history; the
            new signed version gets the file's version number, or the next free
            one when that is taken.
        user
            Who imports, for the audit trail.

        Raises
        ------
        ReadingConflictError
            A different reading is stored and ``replace`` is false.
        """
        sign_off = sign_off or ImportedSignOff()
        label = _reading_label(reading)
        who = _check_user(user, f"importing {label}")
        if sign_off.signed_by is not None and len(sign_off.signed_by) > 128:
            raise StoreError(
                f"importing {label}: sign-off signed_by has "
                f"{len(sign_off.signed_by)} characters, more than the 128 the "
                "database holds"
            )
        new = reading_to_rows(reading)
        with self._session("importing a reading", write=True) as session:
            row = self._reading_row(
                session, reading.patient_id, reading.criteria, reading.reader
            )
            stored: tuple[ReadingRows, dict[str, Any]] | None = None
            before: Values | None = None
            revision = 0
            if row is None:
                outcome = ImportOutcome.CREATED
                reason = f"imported from a reading file (SHA-256 {source_sha256})"
            else:
                stored = self._stored_rows(session, row, reading.patient_id)
                difference = first_difference(stored[0], new) or sign_off_difference(
                    row, sign_off
                )
                if difference is None:
                    return ReadingImportResult(
                        outcome=ImportOutcome.UNCHANGED,
                        record=_record(row, reading.patient_id),
                    )
                if not replace:
                    raise ReadingConflictError(
                        f"{label} is already in database {self.url} and differs "
                        f"({difference}); nothing was imported"
                    )
                outcome = ImportOutcome.REPLACED
                reason = f"replaced by a reading file (SHA-256 {source_sha256})"
                revision = row.revision
                before = {
                    "status": row.status,
                    "signed_version": row.signed_version,
                    "snapshot_sha256": rows_sha256(stored[0]),
                }
                # Unlocked only inside this transaction, to be replaced whole.
                row.status = ReadingStatus.DRAFT.value
            row = self._save(session, reading, who, reason, None, stored=stored)
            now = self._now()
            changes = self._apply_sign_off(session, row, new, sign_off, label)
            changes.append(
                AuditChange(
                    action="import" if before is None else "replace",
                    entity="reading",
                    entity_key=label,
                    patient_id=reading.patient_id,
                    before=before,
                    after={
                        "source_sha256": source_sha256,
                        "status": row.status,
                        "signed_version": row.signed_version,
                        "snapshot_sha256": rows_sha256(new),
                    },
                )
            )
            if row.revision == revision:
                row.revision += 1
            row.updated_at = now
            append_audit(session, changes, user=who, reason=reason, now=now)
            return ReadingImportResult(
                outcome=outcome, record=_record(row, reading.patient_id)
            )

    def _apply_sign_off(
        self,
        session: Session,
        row: ReadingRow,
        rows: ReadingRows,
        sign_off: ImportedSignOff,
        label: str,
    ) -> list[AuditChange]:
        """Give ``row`` the file's sign-off; a signed one keeps a whole version."""
        taken = (
            session.scalar(
                select(func.max(ReadingVersionRow.version)).where(
                    ReadingVersionRow.reading_id == row.id
                )
            )
            or 0
        )
        before = {"status": row.status, "signed_version": row.signed_version}
        row.signed_at = (
            None
            if sign_off.signed_at is None
            else sign_off.signed_at.astimezone(datetime.UTC)
        )
        row.signed_by = sign_off.signed_by
        if not sign_off.signed:
            row.status = ReadingStatus.DRAFT.value
            row.signed_version = max(sign_off.version, taken)
            row.amendment_reason = sign_off.amendment_reason
            session.flush()
            return []
        signed_at, signed_by = row.signed_at, row.signed_by
        if signed_at is None or signed_by is None:  # ImportedSignOff refuses these
            raise StoreError(f"importing {label}: the signature lacks signer or time")
        version = ReadingVersionRow(
            reading_id=row.id,
            version=sign_off.version if sign_off.version > taken else taken + 1,
            signed_at=signed_at,
            signed_by=signed_by,
            amendment_reason=sign_off.amendment_reason,
            snapshot=rows_to_snapshot(rows),
            snapshot_sha256=rows_sha256(rows),
        )
        session.add(version)
        row.status = ReadingStatus.SIGNED.value
        row.signed_version = version.version
        row.amendment_reason = None
        session.flush()
        return [
            AuditChange(
                action="sign",
                entity="reading",
                entity_key=label,
                patient_id=rows.patient_id,
                before=before,
                after={
                    "status": row.status,
                    "signed_version": row.signed_version,
                    "signed_by": signed_by,
                    "signed_at": signed_at.isoformat(),
                    "snapshot_sha256": version.snapshot_sha256,
                },
            )
        ]


def _check_lengths(rows: ReadingRows, label: str) -> None:
    """Refuse text longer than its column, the same way on every backend.

    PostgreSQL would refuse it with a driver error and SQLite would store it;
    a clear message naming the field is better than either.
    """
    checks: list[tuple[type[Base], Values, str]] = [
        (PatientRow, {"patient_id": rows.patient_id}, "reading"),
        (ReadingRow, {"criteria": rows.criteria, "reader": rows.reader}, "reading"),
    ]
    checks.extend((LesionRow, v, f"lesion {k}") for k, v in rows.lesions.items())
    checks.extend((TimePointRow, v, f"visit {k}") for k, v in rows.timepoints.items())
    for name, finding_table, _ in _FINDING_TABLES:
        items: dict[FindingKey, Values] = getattr(rows, name)
        checks.extend(
            (finding_table, v, f"visit {visit}, lesion {lesion_id}")
            for (visit, lesion_id), v in items.items()
        )
    for table, values, where in checks:
        columns = table.__table__.c
        for name, value in values.items():
            length = getattr(columns[name].type, "length", None)
            if isinstance(value, str) and length is not None and len(value) > length:
                raise StoreError(
                    f"saving {label}: {where}: {name} has {len(value)} characters, "
                    f"more than the {length} the database holds"
                )


def _reading_label(reading: Reading) -> str:
    return _label(reading.patient_id, reading.criteria.value, reading.reader)


def _assign(item: object, values: Values) -> None:
    for name, value in values.items():
        setattr(item, name, value)


def _change(
    action: str,
    entity: str,
    label: str,
    key: str | FindingKey,
    patient_id: str,
    before: Values | None,
    after: Values | None,
) -> AuditChange:
    suffix = key if isinstance(key, str) else " / ".join(key)
    return AuditChange(
        action=action,
        entity=entity,
        entity_key=f"{label} / {suffix}",
        patient_id=patient_id,
        before=before,
        after=after,
    )


def open_store(
    url: str | None = None,
    *,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    clock: Clock | None = None,
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

    Raises
    ------
    SchemaTooNewError
        The database was written by a newer recist-app.
    StoreError
        The URL, driver, file or schema cannot be used; the message says which.
    """
    resolved = resolve_database_url(url)
    engine = create_store_engine(resolved, busy_timeout_s=busy_timeout_s)
    try:
        migrate_to_head(engine, resolved, busy_timeout_s=busy_timeout_s)
    except BaseException:
        engine.dispose()
        raise
    return Store(
        engine, resolved, busy_timeout_s=busy_timeout_s, clock=clock or _utc_now
    )
