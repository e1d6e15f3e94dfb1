"""One reading open for editing: reopen it, save every edit, sign, amend.

The workstation keeps one :class:`ReadingSession` per window. Every edit the
reader makes is saved through :meth:`ReadingSession.save` the moment it is applied
(by the app's autosave writer, off the GUI thread): the store gets the reading as
it was last saved as the base of its diff, so a save writes only what changed and
refuses to overwrite a change made elsewhere meanwhile. Signing saves the reading
shown and locks it; amending reopens a signed reading with a reason, kept in the
audit trail.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from recist_app.recist import ReaderRole
from recist_app.store import ReadingNotFoundError, ReadingRecord, ReadingStatus
from recist_app.workflows.central_reading import Viewer, check_visible
from recist_app.workflows.errors import WorkflowError

if TYPE_CHECKING:
    from recist_app.recist import Assessment, Reading
    from recist_app.store import Store

__all__ = ["ReadingRecord", "ReadingSession", "sign_off_text", "signature_text"]


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


def sign_off_text(record: ReadingRecord) -> str:
    """What to tell the signer: the signature and the chain head to keep.

    ``"signed by dr-a at 2024-03-04 10:15 UTC; audit trail head 3f2a…"`` (the
    whole hash). Written down outside the database (or read off the PDF report),
    the head lets ``recist-app audit verify --expect-head`` find the trail cut
    back or rewritten later.
    """
    text = signature_text(record)
    if record.audit_head is None:
        return text
    return f"{text}; audit trail head {record.audit_head}"


class ReadingSession:
    """The link between one open reading and the database.

    Thread-safe: the app opens readings on the GUI thread and saves, signs and
    amends on its writer thread.

    Parameters
    ----------
    store
        The open reading database (the caller closes it).
    user
        Who makes the changes, for the audit trail and signatures.
    role
        The reader's central-review role: a new reading is stored with it, and
        a primary reader opens only what the blinding shows them
        (:func:`~recist_app.workflows.central_reading.check_visible`).
    """

    def __init__(
        self, store: Store, *, user: str, role: ReaderRole = ReaderRole.SINGLE
    ) -> None:
        if not user.strip():
            raise WorkflowError("the reading session needs who is reading (user)")
        self._store = store
        self.user = user.strip()
        self.role = ReaderRole(role)
        self._lock = threading.Lock()
        self._record: ReadingRecord | None = None
        self._saved: Reading | None = None

    def set_user(self, user: str) -> None:
        """Make ``user`` the one who saves, signs and amends from now on.

        Raises
        ------
        WorkflowError
            ``user`` is empty.
        """
        if not user.strip():
            raise WorkflowError("the reading session needs who is reading (user)")
        with self._lock:
            self.user = user.strip()

    @property
    def store(self) -> Store:
        """The reading database."""
        return self._store

    @property
    def database(self) -> str:
        """The database URL for messages (password hidden)."""
        return self._store.url

    @property
    def record(self) -> ReadingRecord | None:
        """Status, revision and signature of the open reading (``None``: unsaved)."""
        with self._lock:
            return self._record

    @property
    def signature(self) -> str:
        """``signature_text`` of the open reading."""
        return signature_text(self.record)

    def open(self, reading: Reading) -> Reading:
        """The stored version of ``reading`` (same patient, criteria and reader).

        Returns ``reading`` itself when the database has none yet; it is stored
        with the first save.
        """
        try:
            stored = self._store.readings.load_stored(
                reading.patient_id, reading.criteria, reading.reader
            )
        except ReadingNotFoundError:
            with self._lock:
                self._record, self._saved = None, None
            return reading
        check_visible(
            self._store, Viewer(user=self.user, role=self.role), stored.record
        )
        with self._lock:
            self._record, self._saved = stored.record, stored.reading
        return stored.reading

    def save(
        self, reading: Reading, *, assessment: Assessment | None = None
    ) -> ReadingRecord:
        """Store ``reading``, writing only what changed since the last save.

        ``assessment`` is ``assess(reading)`` when the caller has it (the store's
        response cache takes it instead of assessing again).

        Raises
        ------
        ConcurrentEditError
            The reading was changed elsewhere since it was opened or last saved;
            nothing was saved.
        StoreError
            The database refused the save (busy, locked, signed...).
        """
        with self._lock:
            base, record = self._saved, self._record
            saved = self._store.readings.save(
                reading,
                user=self.user,
                base=base,
                base_revision=record.revision if record is not None else None,
                assessment=assessment,
                # a new reading takes the reader's role; a central reader's own
                # reading gets theirs (audited once); a site read keeps its role
                role=(
                    self.role
                    if record is None or self.role is not ReaderRole.SINGLE
                    else None
                ),
            )
            self._record, self._saved = saved, reading
            return saved

    def sign(self, reading: Reading) -> ReadingRecord:
        """Save ``reading`` as it is shown, then sign (lock) it in the store."""
        self.save(reading)
        with self._lock:
            self._record = self._store.signing.sign(
                reading.patient_id, reading.criteria, reading.reader, user=self.user
            )
            return self._record

    def amend(self, reading: Reading, reason: str) -> ReadingRecord:
        """Reopen the signed ``reading`` for changes, recording ``reason``.

        Raises
        ------
        WorkflowError
            ``reason`` is empty.
        """
        if not reason.strip():
            raise WorkflowError(
                "amending a signed reading: a reason is required (it is kept in "
                "the audit trail)"
            )
        with self._lock:
            self._record = self._store.signing.amend(
                reading.patient_id,
                reading.criteria,
                reading.reader,
                reason=reason.strip(),
                user=self.user,
            )
            return self._record
