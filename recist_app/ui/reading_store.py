"""The document's link to the reading database: autosave, reopen, sign, amend.

:class:`StoreSaver` adapts a :class:`~recist_app.store.Store` to the document's
:class:`~recist_app.ui.document.ReadingSaver` protocol: it only calls the store and
remembers the stored reading's bookkeeping (revision, signature).
"""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

from recist_app.store import ReadingNotFoundError, ReadingStatus
from recist_app.ui.document import ReadingDocument

if TYPE_CHECKING:
    from recist_app.recist import Assessment, Reading
    from recist_app.store import ReadingRecord, Store

__all__ = ["StoreSaver", "login_name", "open_document", "signature_text"]


def login_name() -> str:
    """Who is at the keyboard, for the audit trail (``"reader"`` if unknown)."""
    try:
        return getpass.getuser() or "reader"
    except (OSError, KeyError):
        return "reader"


def signature_text(record: ReadingRecord | None) -> str:
    """``"signed by dr-a at 2024-03-04 10:15 UTC"``, or ``""`` when not signed."""
    if (
        record is None
        or record.status is not ReadingStatus.SIGNED
        or record.signed_at is None
    ):
        return ""
    when = record.signed_at.astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return f"signed by {record.signed_by or 'unknown'} at {when}".strip()


class StoreSaver:
    """Saves every applied reading to ``store`` as ``user``.

    Saves pass the revision last seen as ``base_revision``, so a change made to
    the same reading by another program is never silently overwritten (the save
    fails with :class:`~recist_app.store.ConcurrentEditError` instead). They also
    pass the reading stored at that revision as ``base`` and the document's
    assessment, so the store finds the change in memory and need not assess the
    reading again: a save costs the same however many visits the reading has.

    Parameters
    ----------
    store
        The open reading database (the caller closes it).
    user
        Who makes the changes, for the audit trail and signatures.
    """

    def __init__(self, store: Store, *, user: str) -> None:
        self._store = store
        self.user = user
        self.record: ReadingRecord | None = None
        self._stored: Reading | None = None  # as stored at record.revision

    @property
    def store(self) -> Store:
        """The reading database (also holds the imaging index)."""
        return self._store

    @property
    def database(self) -> str:
        """The database URL for messages (password hidden)."""
        return self._store.url

    def reopen(self, reading: Reading) -> Reading:
        """The stored version of ``reading`` (same patient, criteria and reader).

        Returns ``reading`` itself when the database has none yet.
        """
        try:
            stored = self._store.readings.load_stored(
                reading.patient_id, reading.criteria, reading.reader
            )
        except ReadingNotFoundError:
            self.record = None
            self._stored = None
            return reading
        self.record = stored.record
        self._stored = stored.reading
        return stored.reading

    def save(self, reading: Reading, assessment: Assessment | None = None) -> None:
        """Store ``reading`` (only what changed); raise on failure.

        ``assessment`` is ``recist.assess(reading)`` when the caller has it.
        """
        revision = self.record.revision if self.record is not None else None
        self.record = self._store.readings.save(
            reading,
            user=self.user,
            base_revision=revision,
            base=self._stored if revision is not None else None,
            assessment=assessment,
        )
        self._stored = reading

    def sign(self, reading: Reading) -> ReadingRecord:
        """Save ``reading`` as it is shown, then sign (lock) it in the store."""
        self.save(reading)
        self.record = self._store.signing.sign(
            reading.patient_id, reading.criteria, reading.reader, user=self.user
        )
        return self.record

    def amend(self, reading: Reading, reason: str) -> ReadingRecord:
        """Reopen the signed ``reading`` for changes, recording ``reason``."""
        self.record = self._store.signing.amend(
            reading.patient_id,
            reading.criteria,
            reading.reader,
            reason=reason,
            user=self.user,
        )
        return self.record


def open_document(reading: Reading, saver: StoreSaver) -> ReadingDocument:
    """A document on the stored version of ``reading`` that autosaves to ``saver``.

    The demo patient (or any reading opened again) comes back as it was last
    saved, locked if it is signed; a reading the database has never seen opens
    as given.
    """
    document = ReadingDocument(saver.reopen(reading), saver=saver)
    document.set_signature(signature_text(saver.record))
    return document
