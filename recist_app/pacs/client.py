"""One interface for both protocols: :func:`connect` gives a :class:`PacsClient`.

:class:`~recist_app.pacs.dicomweb.DicomWebClient` (QIDO-RS, WADO-RS, STOW-RS
through ``dicomweb-client``) and :class:`~recist_app.pacs.dimse.DimseClient`
(C-ECHO, C-FIND, C-GET, C-STORE through ``pynetdicom``) answer the same calls,
so the workflows never ask which protocol a server speaks. Each protocol module
is imported when a server first needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from recist_app.pacs.settings import PacsProtocol

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from pydicom.dataset import Dataset

    from recist_app.imaging import CancelCheck
    from recist_app.pacs.model import (
        EchoOutcome,
        InstanceMatch,
        SeriesMatch,
        StoreOutcome,
        StudyMatch,
        StudyQuery,
    )
    from recist_app.pacs.settings import PacsServer

__all__ = ["InstanceSink", "PacsClient", "connect"]


class InstanceSink(Protocol):
    """Where a retrieval puts each instance the server sends."""

    def add_dataset(self, dataset: Dataset) -> None:
        """Keep an instance received as a data set (DICOMweb)."""

    def add_encoded(self, sop_instance_uid: str, data: bytes) -> None:
        """Keep an instance received as a DICOM file's bytes (DIMSE)."""


class PacsClient(Protocol):
    """What the workstation asks of a PACS, whatever its protocol."""

    server: PacsServer

    def echo(self) -> EchoOutcome:
        """Check that the server answers (and accepts us)."""

    def find_studies(self, query: StudyQuery) -> tuple[StudyMatch, ...]:
        """The studies matching ``query``."""

    def find_series(self, study_instance_uid: str) -> tuple[SeriesMatch, ...]:
        """The series of a study."""

    def find_instances(
        self, study_instance_uid: str, series_instance_uid: str
    ) -> tuple[InstanceMatch, ...]:
        """The instances of a series."""

    def retrieve(
        self,
        series: SeriesMatch,
        instances: Sequence[InstanceMatch],
        sink: InstanceSink,
        *,
        whole_series: bool,
        cancel: CancelCheck | None = None,
    ) -> None:
        """Retrieve ``instances`` of ``series`` into ``sink``.

        ``whole_series``: they are all the series holds, so the series is asked
        for in one request; else each instance (or the list of them) is.
        """

    def store(self, files: Sequence[Path]) -> StoreOutcome:
        """Store DICOM files on the server; report what it accepted."""

    def close(self) -> None:
        """Let go of open connections (use ``contextlib.closing``)."""


def connect(server: PacsServer) -> PacsClient:
    """The client for ``server``'s protocol (nothing is sent yet)."""
    if server.protocol is PacsProtocol.DIMSE:
        from recist_app.pacs.dimse import DimseClient

        return DimseClient(server)
    from recist_app.pacs.dicomweb import DicomWebClient

    return DicomWebClient(server)
