"""Storing files on a server and telling, file by file, what it accepted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pydicom
from pydicom.errors import InvalidDicomError

from recist_app.pacs.errors import PacsError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from recist_app.pacs.client import PacsClient

__all__ = ["SentFile", "send_files"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SentFile:
    """One file sent to a server and what the server did with it.

    Parameters
    ----------
    path
        The file sent.
    sop_instance_uid, study_instance_uid
        The instance and the study it belongs to on the server.
    accepted
        Whether the server stored it.
    detail
        The server's warning (accepted) or reason (refused); "" when none.
    """

    path: Path
    sop_instance_uid: str
    study_instance_uid: str
    accepted: bool
    detail: str = ""


def _uids(path: Path) -> tuple[str, str]:
    try:
        header = pydicom.dcmread(path, stop_before_pixels=True)
    except (OSError, InvalidDicomError, ValueError) as error:
        raise PacsError(f"{path}: cannot be sent: {error}") from None
    sop = str(header.get("SOPInstanceUID", "") or "")
    study = str(header.get("StudyInstanceUID", "") or "")
    if not sop or not study:
        raise PacsError(f"{path}: cannot be sent: no SOP or Study Instance UID")
    return sop, study


def send_files(client: PacsClient, files: Sequence[Path]) -> tuple[SentFile, ...]:
    """Store ``files`` on the client's server; one :class:`SentFile` per file.

    Raises
    ------
    PacsError
        A file is not DICOM, or the server could not be reached or refused the
        request as a whole (one line naming the server and the cause).
    """
    uids = [_uids(path) for path in files]
    if not files:
        return ()
    outcome = client.store(files)
    accepted = {item.sop_instance_uid: item.note for item in outcome.accepted}
    refused = {item.sop_instance_uid: item.reason for item in outcome.refused}
    sent: list[SentFile] = []
    for path, (sop, study) in zip(files, uids, strict=True):
        if sop in accepted:
            sent.append(
                SentFile(
                    path=path,
                    sop_instance_uid=sop,
                    study_instance_uid=study,
                    accepted=True,
                    detail=accepted[sop],
                )
            )
        else:
            sent.append(
                SentFile(
                    path=path,
                    sop_instance_uid=sop,
                    study_instance_uid=study,
                    accepted=False,
                    detail=refused.get(sop, "not in the server's answer"),
                )
            )
    return tuple(sent)
