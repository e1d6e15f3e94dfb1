"""Retrieving series into a download folder, resumable, the same for both protocols.

Each series goes into its own folder, ``ROOT/<server>/<study UID>/<series
UID>/``, one file per instance named by its SOP Instance UID. A file is written
under a temporary name and renamed when complete, so a cancelled or broken
retrieval leaves only whole files; retrieving again asks the server only for the
instances not yet there. :func:`download_series` checks that the server sent
every instance it listed: when it did not, it asks again whether the series is
still there, so a study removed during the retrieval is reported as such.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist_app.imaging.progress import raise_if_cancelled
from recist_app.pacs.errors import PacsError, PacsNotFoundError, PacsResponseError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from pydicom.dataset import Dataset

    from recist_app.imaging import CancelCheck
    from recist_app.pacs.client import PacsClient
    from recist_app.pacs.model import InstanceMatch, SeriesMatch
    from recist_app.pacs.settings import PacsServer

__all__ = [
    "SeriesDownload",
    "SeriesFolder",
    "download_series",
    "safe_name",
    "series_folder",
]

_SAFE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
_SUFFIX = ".dcm"
_PARTIAL = ".part"


def safe_name(text: str) -> str:
    """``text`` as one file name: itself when harmless (a UID), else a digest.

    A server's UIDs become folder and file names, so they must never climb out
    of the download folder.

    >>> safe_name("1.2.840.10008.1")
    '1.2.840.10008.1'
    >>> safe_name("../../etc").startswith("x-")
    True
    """
    if _SAFE.match(text) and ".." not in text:
        return text
    return "x-" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def _server_folder_name(server: PacsServer) -> str:
    if server.name and _SAFE.match(server.name):
        return server.name
    readable = re.sub(r"[^0-9A-Za-z]+", "_", f"{server.host}_{server.port}").strip("_")
    digest = hashlib.sha256(server.url.encode()).hexdigest()[:8]
    return f"{readable[:40]}-{digest}"


def series_folder(root: Path, server: PacsServer, series: SeriesMatch) -> Path:
    """Where the instances of ``series`` retrieved from ``server`` are kept."""
    return (
        root
        / _server_folder_name(server)
        / safe_name(series.study_instance_uid)
        / safe_name(series.series_instance_uid)
    )


class SeriesFolder:
    """The files of one series: complete ones kept, each new one written whole.

    Parameters
    ----------
    folder
        The series' folder (created when the first instance arrives).
    server
        For messages.
    on_written
        Called after each instance written (from the thread that received it).
    """

    def __init__(
        self,
        folder: Path,
        server: PacsServer,
        *,
        on_written: Callable[[str], None] | None = None,
    ) -> None:
        self.folder = folder
        self._server = server
        self._on_written = on_written
        self._lock = threading.Lock()
        self.written: list[str] = []

    def path_of(self, sop_instance_uid: str) -> Path:
        """The file of an instance."""
        return self.folder / f"{safe_name(sop_instance_uid)}{_SUFFIX}"

    def present(self) -> set[str]:
        """File names of the complete instances already in the folder."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return set()
        return {name for name in names if name.endswith(_SUFFIX)}

    def has(self, sop_instance_uid: str, present: set[str] | None = None) -> bool:
        """Whether the instance's complete file is there."""
        names = self.present() if present is None else present
        return self.path_of(sop_instance_uid).name in names

    def _write(self, sop_instance_uid: str, write: Callable[[Path], None]) -> None:
        target = self.path_of(sop_instance_uid)
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(
            f"{target.name}.{os.getpid()}.{threading.get_ident()}{_PARTIAL}"
        )
        try:
            write(partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        with self._lock:
            self.written.append(sop_instance_uid)
        if self._on_written is not None:
            self._on_written(sop_instance_uid)

    def add_dataset(self, dataset: Dataset) -> None:
        """Write an instance received as a data set.

        Raises
        ------
        PacsResponseError
            The data set has no SOP Instance UID or cannot be written as DICOM.
        """
        uid = str(dataset.get("SOPInstanceUID", "") or "")
        if not uid:
            raise PacsResponseError(
                f"{self._server.label}: an instance of {self.folder.name} came "
                "without SOP Instance UID"
            )
        meta = getattr(dataset, "file_meta", None)
        if meta is None or "TransferSyntaxUID" not in meta:
            raise PacsResponseError(
                f"{self._server.label}: instance {uid} came without its transfer "
                "syntax (no file meta information)"
            )

        def write(path: Path) -> None:
            try:
                dataset.save_as(path, enforce_file_format=True)
            except (ValueError, TypeError, AttributeError) as error:
                raise PacsResponseError(
                    f"{self._server.label}: instance {uid} cannot be written as a "
                    f"DICOM file: {' '.join(str(error).split())[:160]}"
                ) from None

        self._write(uid, write)

    def add_encoded(self, sop_instance_uid: str, data: bytes) -> None:
        """Write an instance received as a DICOM file's bytes.

        Raises
        ------
        PacsResponseError
            The bytes are not a DICOM file.
        """
        if len(data) < 132 or data[128:132] != b"DICM":
            raise PacsResponseError(
                f"{self._server.label}: instance {sop_instance_uid} is not a DICOM file"
            )

        def write(path: Path) -> None:
            path.write_bytes(data)

        self._write(sop_instance_uid, write)


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesDownload:
    """What retrieving one series did.

    Parameters
    ----------
    folder
        The series' folder.
    retrieved
        Instances the server sent this time.
    already_there
        Instances found complete in the folder from an earlier retrieval.
    """

    folder: Path
    retrieved: int
    already_there: int


def download_series(
    client: PacsClient,
    series: SeriesMatch,
    instances: Sequence[InstanceMatch],
    root: Path,
    *,
    on_written: Callable[[str], None] | None = None,
    cancel: CancelCheck | None = None,
) -> SeriesDownload:
    """Retrieve the instances of ``series`` not yet in its folder under ``root``.

    Raises
    ------
    PacsNotFoundError
        The server no longer holds the series (removed during the retrieval).
    PacsError
        The server failed, or sent fewer instances than it listed.
    LoadCancelledError
        ``cancel`` stopped it; the instances written so far stay for next time.
    """
    sink = SeriesFolder(
        series_folder(root, client.server, series), client.server, on_written=on_written
    )
    present = sink.present()
    missing = [
        item for item in instances if not sink.has(item.sop_instance_uid, present)
    ]
    what = f"retrieving series {series.series_instance_uid}"
    raise_if_cancelled(cancel, what)
    if missing:
        try:
            client.retrieve(
                series,
                missing,
                sink,
                whole_series=len(missing) == len(instances),
                cancel=cancel,
            )
        except PacsNotFoundError:
            raise
        except PacsError as error:
            _raise_if_gone(client, series)
            raise error from None
    present = sink.present()
    unsent = [item for item in missing if not sink.has(item.sop_instance_uid, present)]
    if unsent:
        _raise_if_gone(client, series)
        raise PacsError(
            f"{client.server.label}: sent {len(missing) - len(unsent)} of the "
            f"{len(missing)} images asked for of series {series.series_instance_uid}"
            f" (first missing: {unsent[0].sop_instance_uid})"
        )
    return SeriesDownload(
        folder=sink.folder,
        retrieved=len(missing),
        already_there=len(instances) - len(missing),
    )


def _raise_if_gone(client: PacsClient, series: SeriesMatch) -> None:
    """Raise :class:`PacsNotFoundError` when the server no longer holds the series."""
    try:
        still = client.find_instances(
            series.study_instance_uid, series.series_instance_uid
        )
    except PacsNotFoundError:
        still = ()
    if not still:
        raise PacsNotFoundError(
            f"{client.server.label}: study {series.study_instance_uid} (series "
            f"{series.series_instance_uid}) is no longer on the server: it was "
            "removed during the retrieval"
        )
