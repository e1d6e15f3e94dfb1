"""Signing and amending readings, and their signed history (``store.signing``).

Signing locks a reading and keeps that version whole (a canonical snapshot of its
rows with its SHA-256), so later amendments never erase what was signed. Amending
reopens a signed reading for edits, recording why; every edit until the next
signature is audited with that reason.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from recist_app.recist import Criteria, Reading
from recist_app.store._binding import signature_problem, signed_in_trail
from recist_app.store._rows import rows_from_snapshot, rows_sha256, rows_to_snapshot
from recist_app.store._unit_of_work import as_criteria, check_user, reading_label
from recist_app.store.audit import AuditChange, append_audit
from recist_app.store.errors import (
    ReadingLockedError,
    SignatureMismatchError,
    StoreError,
)
from recist_app.store.records import ReadingRecord, ReadingStatus
from recist_app.store.responses import carry_cache
from recist_app.store.schema import ReadingVersionRow

if TYPE_CHECKING:
    from recist_app.store._unit_of_work import UnitOfWork

__all__ = ["SignedReading", "SignedVersion", "Signing"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedVersion:
    """One signed version of a reading, kept after later amendments."""

    version: int
    signed_at: datetime.datetime
    signed_by: str
    amendment_reason: str | None
    reading: Reading


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedReading:
    """A signed reading whose stored rows are exactly what was signed.

    Parameters
    ----------
    reading, record
        The reading and its bookkeeping, read in one transaction.
    sign_off_hash
        The hash of the audit row that recorded the signature: the chain head
        at sign-off, for ``audit verify --expect-head``.
    """

    reading: Reading
    record: ReadingRecord
    sign_off_hash: str


class Signing:
    """Sign, amend and the signed versions of stored readings.

    Parameters
    ----------
    unit
        The store's shared sessions, clock and lookups.
    """

    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit

    def sign(
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
        criteria = as_criteria(criteria)
        label = reading_label(patient_id, criteria.value, reader)
        who = check_user(user or reader, f"signing {label}")
        unit = self._unit
        with unit.session("signing a reading", write=True) as session:
            row = unit.require_reading(session, patient_id, criteria, reader)
            if row.status == ReadingStatus.SIGNED.value:
                raise ReadingLockedError(
                    f"{label} is already signed (version {row.signed_version})"
                )
            rows = unit.stored_rows(session, row, patient_id)
            unit.reading_from(rows)  # only a valid reading can be signed
            now = unit.now()
            version = ReadingVersionRow(
                reading_id=row.id,
                version=row.signed_version + 1,
                signed_at=now,
                signed_by=who,
                amendment_reason=row.amendment_reason,
                snapshot=rows_to_snapshot(rows),
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
            session.flush()
            carry_cache(session, row, row.revision - 1)
            head = append_audit(
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
                            "signed_by": who,
                            "signed_at": now.astimezone(datetime.UTC).isoformat(),
                            "snapshot_sha256": version.snapshot_sha256,
                        },
                    )
                ],
                user=who,
                reason=version.amendment_reason,
                now=now,
            )
            return ReadingRecord.from_row(row, patient_id, audit_head=head)

    def amend(
        self,
        patient_id: str,
        criteria: Criteria | str = Criteria.RECIST_1_1,
        reader: str = "",
        *,
        reason: str,
        user: str | None = None,
    ) -> ReadingRecord:
        """Reopen a signed reading for changes, recording why.

        The signed version stays in :meth:`history`; edits are allowed again
        (each audited with ``reason``) until the reading is signed anew.

        Raises
        ------
        StoreError
            ``reason`` is empty, or the reading is not signed.
        """
        criteria = as_criteria(criteria)
        label = reading_label(patient_id, criteria.value, reader)
        who = check_user(user or reader, f"amending {label}")
        if not isinstance(reason, str) or not reason.strip():
            raise StoreError(f"amending {label}: a reason is required")
        reason = reason.strip()
        unit = self._unit
        with unit.session("amending a reading", write=True) as session:
            row = unit.require_reading(session, patient_id, criteria, reader)
            if row.status != ReadingStatus.SIGNED.value:
                raise StoreError(
                    f"amending {label}: it is not signed, so it can be edited directly"
                )
            now = unit.now()
            row.status = ReadingStatus.DRAFT.value
            row.amendment_reason = reason
            row.revision += 1
            row.updated_at = now
            session.flush()
            carry_cache(session, row, row.revision - 1)
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
            return ReadingRecord.from_row(row, patient_id)

    def load_signed(
        self,
        patient_id: str,
        criteria: Criteria | str = Criteria.RECIST_1_1,
        reader: str = "",
    ) -> SignedReading:
        """The signed reading, checked against its signature.

        Its rows must hash to its signed version's SHA-256, which must be the
        one the audit trail recorded when it was signed, with the same signer
        and time; so a value changed with plain SQL since is never passed on
        under the signer's name (exports of signed readings use this).

        Raises
        ------
        StoreError
            The reading is not signed.
        SignatureMismatchError
            Its stored rows are not what was signed (one line saying where).
        """
        criteria = as_criteria(criteria)
        label = reading_label(patient_id, criteria.value, reader)
        unit = self._unit
        with unit.session("loading a signed reading", write=False) as session:
            row = unit.require_reading(session, patient_id, criteria, reader)
            if row.status != ReadingStatus.SIGNED.value:
                raise StoreError(f"{label} is not signed")
            rows = unit.stored_rows(session, row, patient_id)
            version = session.scalars(
                select(ReadingVersionRow).where(
                    ReadingVersionRow.reading_id == row.id,
                    ReadingVersionRow.version == row.signed_version,
                )
            ).one_or_none()
            trail = signed_in_trail(session, label, row.signed_version)
            problem = signature_problem(row, rows, version, trail)
            if problem is not None or trail is None:
                raise SignatureMismatchError(
                    f"{label}: {problem}: its signature does not cover what is "
                    "stored, so it is not used as signed (recist-app audit verify "
                    "lists what changed)"
                )
            return SignedReading(
                reading=unit.reading_from(rows),
                record=ReadingRecord.from_row(row, patient_id),
                sign_off_hash=trail.row_hash,
            )

    def history(
        self,
        patient_id: str,
        criteria: Criteria | str = Criteria.RECIST_1_1,
        reader: str = "",
    ) -> tuple[SignedVersion, ...]:
        """Every signed version of the reading, oldest first."""
        criteria = as_criteria(criteria)
        unit = self._unit
        with unit.session("reading the signing history", write=False) as session:
            row = unit.require_reading(session, patient_id, criteria, reader)
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
                    reading=unit.reading_from(rows_from_snapshot(version.snapshot)),
                )
                for version in versions
            )
