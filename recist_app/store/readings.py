"""Readings: load, save, edit and list them (``store.readings``).

Every save writes only what changed, each change recorded in the audit trail, and
caches the new responses. The workstation autosaves after every edit knowing the
reading it saved last; handing that in as ``base`` lets the store find the change
in memory, so a save costs the same at the first visit as at the twenty-fourth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from recist_app.recist import Criteria, Reading
from recist_app.store._unit_of_work import (
    as_criteria,
    check_user,
    label_of,
    reading_label,
)
from recist_app.store._writer import write_reading
from recist_app.store.central import apply_role
from recist_app.store.errors import StoreError
from recist_app.store.importing import ImportedSignOff, import_whole_reading
from recist_app.store.records import ReadingRecord, StoredReading
from recist_app.store.schema import PatientRow, ReadingRow

if TYPE_CHECKING:
    from collections.abc import Callable

    from recist_app.recist import Assessment, ReaderRole
    from recist_app.store._unit_of_work import UnitOfWork
    from recist_app.store.importing import ReadingImportResult

__all__ = ["Readings"]


class Readings:
    """The stored readings and their changes.

    Parameters
    ----------
    unit
        The store's shared sessions, clock and lookups.
    """

    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit

    # ------------------------------------------------------------ reading

    def load(
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
        return self.load_stored(patient_id, criteria, reader).reading

    def load_stored(
        self,
        patient_id: str,
        criteria: Criteria | str = Criteria.RECIST_1_1,
        reader: str = "",
    ) -> StoredReading:
        """The stored reading with its status and revision, read consistently."""
        criteria = as_criteria(criteria)
        unit = self._unit
        with unit.session("loading a reading", write=False) as session:
            row = unit.require_reading(session, patient_id, criteria, reader)
            rows = unit.stored_rows(session, row, patient_id)
            return StoredReading(
                reading=unit.reading_from(rows),
                record=ReadingRecord.from_row(row, patient_id),
            )

    def record(
        self,
        patient_id: str,
        criteria: Criteria | str = Criteria.RECIST_1_1,
        reader: str = "",
    ) -> ReadingRecord:
        """Status, revision and signature of a stored reading."""
        criteria = as_criteria(criteria)
        unit = self._unit
        with unit.session("reading a reading's status", write=False) as session:
            return ReadingRecord.from_row(
                unit.require_reading(session, patient_id, criteria, reader),
                patient_id,
            )

    def list(self, patient_id: str | None = None) -> tuple[ReadingRecord, ...]:
        """Bookkeeping of every reading (of one patient, if given)."""
        with self._unit.session("listing readings", write=False) as session:
            query = (
                select(ReadingRow, PatientRow.patient_id)
                .join(PatientRow, ReadingRow.patient_row_id == PatientRow.id)
                .order_by(PatientRow.patient_id, ReadingRow.criteria, ReadingRow.reader)
            )
            if patient_id is not None:
                query = query.where(PatientRow.patient_id == patient_id)
            return tuple(
                ReadingRecord.from_row(row, found_patient_id)
                for row, found_patient_id in session.execute(query)
            )

    # ------------------------------------------------------------ changes

    def save(
        self,
        reading: Reading,
        *,
        user: str | None = None,
        reason: str | None = None,
        base_revision: int | None = None,
        base: Reading | None = None,
        assessment: Assessment | None = None,
        role: ReaderRole | None = None,
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
            The revision the caller's copy was loaded or last saved at; if the
            stored reading has moved on since, nothing is saved and
            :class:`~recist_app.store.ConcurrentEditError` is raised, so nobody
            silently overwrites another session's change.
        base
            The reading as stored at ``base_revision`` (as loaded, or as last
            saved). The change is then found by comparing ``base`` with
            ``reading`` in memory instead of reading and comparing the whole
            stored reading. Needs ``base_revision``.
        assessment
            ``recist.assess(reading)`` if the caller already has it, for the
            response cache; computed here when not given.
        role
            The reading's central-review role, set (audited) in the same
            transaction when it differs from the stored one; ``None`` keeps it.

        Returns
        -------
        ReadingRecord
            The reading's bookkeeping after the save (revision unchanged when the
            reading was already stored exactly so).

        Raises
        ------
        ReadingLockedError
            The reading is signed and ``reading`` differs from it.
        ConcurrentEditError
            The stored revision is not ``base_revision``.
        StoreBusyError
            Another program held the write lock past the busy timeout.
        """
        label = label_of(reading)
        who = check_user(user or reading.reader, f"saving {label}")
        if base is not None:
            if base_revision is None:
                raise StoreError(
                    f"saving {label}: a base reading needs its base_revision"
                )
            if (base.patient_id, base.criteria, base.reader) != (
                reading.patient_id,
                reading.criteria,
                reading.reader,
            ):
                raise StoreError(
                    f"saving {label}: the base reading is {label_of(base)}"
                )
        with self._unit.session("saving a reading", write=True) as session:
            row = write_reading(
                self._unit,
                session,
                reading,
                user=who,
                reason=reason,
                base_revision=base_revision,
                base=base,
                assessment=assessment,
            )
            head = apply_role(
                self._unit, session, row, reading.patient_id, role, user=who
            )
            return ReadingRecord.from_row(row, reading.patient_id, audit_head=head)

    def update(
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
        criteria = as_criteria(criteria)
        label = reading_label(patient_id, criteria.value, reader)
        who = check_user(user or reader, f"editing {label}")
        unit = self._unit
        with unit.session("saving a reading", write=True) as session:
            row = unit.require_reading(session, patient_id, criteria, reader)
            stored = unit.stored_rows(session, row, patient_id)
            updated = change(unit.reading_from(stored))
            if (updated.patient_id, updated.criteria, updated.reader) != (
                patient_id,
                criteria,
                reader,
            ):
                raise StoreError(
                    f"editing {label}: the change returned a different patient, "
                    "criteria or reader"
                )
            row = write_reading(
                unit,
                session,
                updated,
                user=who,
                reason=reason,
                base_revision=None,
                stored=stored,
            )
            return StoredReading(
                reading=updated, record=ReadingRecord.from_row(row, patient_id)
            )

    def import_reading(
        self,
        reading: Reading,
        *,
        sign_off: ImportedSignOff | None = None,
        source_sha256: str,
        replace: bool = False,
        user: str,
        role: ReaderRole | None = None,
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
            version kept whole in :meth:`~recist_app.store.Signing.history`.
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
        role
            The reading's central-review role (``None``: keep the stored one,
            ``single`` for a new reading); set in the same transaction.

        Raises
        ------
        ReadingConflictError
            A different reading is stored and ``replace`` is false.
        StoreError
            Another reading of the patient has that central role.
        """
        return import_whole_reading(
            self._unit,
            reading,
            sign_off=sign_off or ImportedSignOff(),
            source_sha256=source_sha256,
            replace=replace,
            user=user,
            role=role,
        )
