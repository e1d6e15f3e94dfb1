"""A reading file with its sign-off and its bytes' SHA-256, for importing it.

:func:`load_reading_file` reads a ``recist-reading/1`` file strictly
(:func:`~recist_app.exchange.decode_reading_file`) and turns its ``sign_off`` into the
store's :class:`~recist_app.store.ImportedSignOff`, so a signed file is stored
signed, with its signer and time; the SHA-256 goes to the audit trail.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recist_app.exchange.errors import ExchangeError
from recist_app.exchange.reading_decoder import decode_reading_file
from recist_app.exchange.reading_file import MAX_FILE_BYTES

if TYPE_CHECKING:
    from pathlib import Path

    from recist_app.recist import ReaderRole, Reading
    from recist_app.store import ImportedSignOff

__all__ = ["ReadingFile", "load_reading_file"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingFile:
    """A reading file as read: the reading, its sign-off and its bytes' SHA-256.

    ``reader_role`` is the file's top-level ``reader_role`` (``None`` when
    absent): who the reading is by in a central review.
    """

    path: Path
    reading: Reading
    sign_off: ImportedSignOff
    sha256: str
    reader_role: ReaderRole | None = None


def load_reading_file(path: Path) -> ReadingFile:
    """Read a ``recist-reading/1`` file with its sign-off and SHA-256.

    Raises
    ------
    ExchangeError
        One line naming the file, the field, the visit and the lesion.
    """
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ExchangeError(
                f"{path}: more than the {MAX_FILE_BYTES} bytes a reading file may have"
            )
        data_bytes = path.read_bytes()
    except FileNotFoundError:
        raise ExchangeError(f"{path}: no such file") from None
    except OSError as error:
        raise ExchangeError(f"{path}: cannot read: {error.strerror}") from None
    # the one reader: evaluate and reading import refuse the same files
    decoded = decode_reading_file(data_bytes, str(path))
    return ReadingFile(
        path=path,
        reading=decoded.reading,
        sign_off=_sign_off(decoded.sign_off, str(path)),
        sha256=hashlib.sha256(data_bytes).hexdigest(),
        reader_role=decoded.reader_role,
    )


def _sign_off(value: Any, source: str) -> ImportedSignOff:
    """The validated ``sign_off`` object (the reader checked its types)."""
    from recist_app.store import ImportedSignOff, StoreError

    if value is None:
        return ImportedSignOff()
    signed_at = value.get("signed_at")
    moment: datetime.datetime | None = None
    if signed_at is not None:
        try:
            moment = datetime.datetime.fromisoformat(signed_at)
        except ValueError:
            raise ExchangeError(
                f"{source}: sign_off.signed_at: expected an ISO 8601 time, "
                f"got {signed_at!r}"
            ) from None
        if moment.tzinfo is None:
            raise ExchangeError(
                f"{source}: sign_off.signed_at: {signed_at!r} lacks its UTC offset "
                "(e.g. +00:00)"
            )
    status = value["status"]
    if status == "signed":
        for key in ("signed_by", "signed_at"):
            if not value.get(key):
                raise ExchangeError(
                    f"{source}: sign_off.{key}: a signed reading needs it"
                )
        if value.get("version", 0) < 1:
            raise ExchangeError(
                f"{source}: sign_off.version: a signed reading has version >= 1"
            )
    try:
        return ImportedSignOff(
            status=status,
            signed_by=value.get("signed_by"),
            signed_at=moment,
            version=value.get("version", 0),
            amendment_reason=value.get("amendment_reason"),
        )
    except StoreError as error:
        raise ExchangeError(f"{source}: sign_off: {error}") from None
