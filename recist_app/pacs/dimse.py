"""DIMSE through ``pynetdicom``: C-ECHO, C-FIND, C-GET and C-STORE.

Each call opens one association from our calling AE title to the server's
called AE title and releases it at the end. Images come back with C-GET on that
same association (the workstation listens on no port): the request proposes
the storage SOP classes of the images asked for, with our SCP role, in the
transfer syntaxes the loader reads. A failed association says why in one line:
the server rejected it (with the reason it gave), the connection was refused,
the host is unknown, or nothing answered in time.
"""

from __future__ import annotations

import socket
import time
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import (
    JPEG2000,
    UID,
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    EnhancedCTImageStorage,
    EnhancedMRImageStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    MRImageStorage,
    PositronEmissionTomographyImageStorage,
    RLELossless,
    SecondaryCaptureImageStorage,
)
from pynetdicom import AE, build_context, build_role, evt

from recist_app.imaging import LoadCancelledError
from recist_app.imaging.progress import raise_if_cancelled
from recist_app.pacs._datasets import (
    failure_reason_text,
    series_match,
    study_match,
    text_of,
)
from recist_app.pacs.errors import (
    PacsConnectionError,
    PacsError,
    PacsRefusedError,
)
from recist_app.pacs.model import (
    EchoOutcome,
    InstanceMatch,
    RefusedInstance,
    StoredInstance,
    StoreOutcome,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from pynetdicom.association import Association
    from pynetdicom.presentation import PresentationContext

    from recist_app.imaging import CancelCheck
    from recist_app.pacs.client import InstanceSink
    from recist_app.pacs.model import SeriesMatch, StudyMatch, StudyQuery
    from recist_app.pacs.settings import PacsServer

__all__ = ["DimseClient"]

# PS3.4 annex A and C: the SOP classes of the services used here.
Verification = UID("1.2.840.10008.1.1")
StudyRootQueryRetrieveInformationModelFind = UID("1.2.840.10008.5.1.4.1.2.2.1")
StudyRootQueryRetrieveInformationModelGet = UID("1.2.840.10008.5.1.4.1.2.2.3")
_IMAGE_TRANSFER_SYNTAXES: list[str | UID] = [
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEG2000Lossless,
    RLELossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLSNearLossless,
    JPEG2000,
]
_DEFAULT_STORAGE = (
    CTImageStorage,
    MRImageStorage,
    EnhancedCTImageStorage,
    EnhancedMRImageStorage,
    PositronEmissionTomographyImageStorage,
    SecondaryCaptureImageStorage,
)
_MAX_CONTEXTS = 128  # PS3.8: presentation context ids are odd numbers 1..255
_PENDING = (0xFF00, 0xFF01)
_STORE_WARNINGS = (0xB000, 0xB006, 0xB007)
_STATUS_MEANING = {
    0xA700: "out of resources",
    0xA701: "out of resources: cannot calculate the number of matches",
    0xA702: "out of resources: cannot perform the sub-operations",
    0xA801: "move destination unknown",
    0xA900: "the identifier does not match the SOP class",
    0xAA00: "none of the frames requested was found",
    0xB000: "some sub-operations failed",
    0xC000: "unable to process",
    0xFE00: "cancelled",
}


def _status_text(code: int) -> str:
    meaning = _STATUS_MEANING.get(code)
    if meaning is None and 0xC000 <= code <= 0xCFFF:
        meaning = "unable to process"
    return f"status 0x{code:04X}" + (f" ({meaning})" if meaning else "")


def _tcp_problem(host: str, port: int, timeout_s: float) -> str | None:
    """Why a TCP connection to the server fails, or ``None`` when it opens."""
    try:
        with socket.create_connection((host, port), timeout=min(timeout_s, 10.0)):
            return None
    except socket.gaierror as error:
        return f"unknown host {host} ({error.strerror or error})"
    except TimeoutError:
        return f"no answer from {host}:{port} within {min(timeout_s, 10.0):g} s"
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        return f"{reason} at {host}:{port}"


def _no_delay(event: Any) -> None:
    """Send each PDU at once (TCP_NODELAY).

    Without it every C-GET sub-operation waits for the peer's delayed
    acknowledgement (about 40 ms an image on Linux).
    """
    connection = event.assoc.dul.socket
    raw = getattr(connection, "socket", None) if connection is not None else None
    if raw is not None:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class DimseClient:
    """A DIMSE server's C-ECHO, C-FIND, C-GET and C-STORE services.

    Parameters
    ----------
    server
        The server (``dimse://CALLED_AE_TITLE@host:port``, our calling AE title,
        the timeout).
    """

    def __init__(self, server: PacsServer) -> None:
        self.server = server

    def close(self) -> None:
        """Nothing stays open: each call releases its own association."""

    # ------------------------------------------------------------ associations
    def _application_entity(self) -> AE:
        ae = AE(ae_title=self.server.calling_ae_title)
        timeout = self.server.timeout_s
        ae.acse_timeout = timeout
        ae.dimse_timeout = timeout
        ae.network_timeout = timeout
        ae.connection_timeout = timeout
        ae.maximum_associations = 1
        return ae

    @contextmanager
    def _association(
        self,
        what: str,
        contexts: list[PresentationContext],
        *,
        roles: list[Any] | None = None,
        handlers: list[Any] | None = None,
    ) -> Iterator[Association]:
        ae = self._application_entity()
        handlers = [*(handlers or ()), (evt.EVT_CONN_OPEN, _no_delay)]
        try:
            with warnings.catch_warnings():
                # pynetdicom 3.0.4 drops the socket of a refused connection
                # without closing it (pydicom/pynetdicom#979, fixed upstream
                # after the release); it is freed at once, silence its warning.
                warnings.simplefilter("ignore", ResourceWarning)
                assoc = ae.associate(
                    self.server.host,
                    self.server.port,
                    contexts=contexts,
                    ae_title=self.server.called_ae_title,
                    ext_neg=roles,
                    evt_handlers=handlers,
                )
        except OSError as error:  # the host name does not resolve
            reason = (error.strerror or str(error)).lower()
            raise PacsConnectionError(
                f"{self.server.label}: cannot connect while {what}: unknown host "
                f"{self.server.host} ({reason})"
            ) from None
        if not assoc.is_established:
            raise self._no_association(assoc, what)
        try:
            yield assoc
        except BaseException:
            assoc.abort()
            raise
        if assoc.is_established:
            assoc.release()

    def _no_association(self, assoc: Association, what: str) -> PacsError:
        label = self.server.label
        calling = self.server.calling_ae_title
        called = self.server.called_ae_title
        if assoc.is_rejected:
            answer = assoc.acceptor.primitive
            reason = (
                f"{answer.reason_str}, {answer.result_str.lower()}"
                if answer is not None
                else "no reason given"
            )
            return PacsRefusedError(
                f"{label}: the server rejected the association from {calling} to "
                f"{called} ({reason}) while {what}"
            )
        problem = _tcp_problem(
            self.server.host, self.server.port, self.server.timeout_s
        )
        if problem is not None:
            return PacsConnectionError(
                f"{label}: cannot connect while {what}: {problem}"
            )
        return PacsRefusedError(
            f"{label}: the server closed the connection without accepting the "
            f"association from {calling} while {what} (does it know {calling}, "
            "and this service?)"
        )

    def _ended(self, what: str) -> PacsError:
        return PacsRefusedError(
            f"{self.server.label}: the server ended the association while {what} "
            f"(does it allow this service for {self.server.calling_ae_title}?)"
        )

    # ------------------------------------------------------------ C-ECHO
    def echo(self) -> EchoOutcome:
        """C-ECHO: the server is there and accepts our AE title."""
        what = "echoing (C-ECHO)"
        start = time.perf_counter()
        with self._association(what, [build_context(Verification)]) as assoc:
            status = assoc.send_c_echo()
        if not status:
            raise self._ended(what)
        code = int(status.Status)
        if code != 0x0000:
            raise PacsRefusedError(
                f"{self.server.label}: C-ECHO answered {_status_text(code)}"
            )
        return EchoOutcome(
            server=self.server.label,
            protocol="DIMSE",
            elapsed_ms=(time.perf_counter() - start) * 1000,
            detail=f"C-ECHO from {self.server.calling_ae_title} succeeded",
        )

    # ------------------------------------------------------------ C-FIND
    def _find(self, identifier: Dataset, what: str) -> list[Dataset]:
        context = build_context(StudyRootQueryRetrieveInformationModelFind)
        answers: list[Dataset] = []
        with self._association(what, [context]) as assoc:
            for status, found in assoc.send_c_find(
                identifier, StudyRootQueryRetrieveInformationModelFind
            ):
                if not status:
                    raise self._ended(what)
                code = int(status.Status)
                if code in _PENDING:
                    if found is not None:
                        answers.append(found)
                    continue
                if code != 0x0000:
                    raise PacsRefusedError(
                        f"{self.server.label}: C-FIND answered {_status_text(code)} "
                        f"while {what}"
                    )
        return answers

    def find_studies(self, query: StudyQuery) -> tuple[StudyMatch, ...]:
        """C-FIND at STUDY level (Study Root)."""
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "STUDY"
        identifier.PatientID = query.patient_id
        identifier.PatientName = query.patient_name
        identifier.StudyDate = query.dicom_date_range
        identifier.ModalitiesInStudy = query.modality
        identifier.StudyInstanceUID = query.study_instance_uid
        for keyword in (
            "StudyTime",
            "StudyDescription",
            "AccessionNumber",
            "NumberOfStudyRelatedSeries",
            "NumberOfStudyRelatedInstances",
        ):
            setattr(identifier, keyword, "")
        answers = self._find(
            identifier, f"searching for studies ({query.description}) (C-FIND)"
        )
        return tuple(
            study_match(found)
            for found in answers
            if text_of(found, "StudyInstanceUID")
        )

    def find_series(self, study_instance_uid: str) -> tuple[SeriesMatch, ...]:
        """C-FIND at SERIES level."""
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "SERIES"
        identifier.StudyInstanceUID = study_instance_uid
        identifier.SeriesInstanceUID = ""
        identifier.Modality = ""
        identifier.SeriesDescription = ""
        identifier.SeriesNumber = ""
        identifier.NumberOfSeriesRelatedInstances = ""
        answers = self._find(
            identifier,
            f"searching for the series of study {study_instance_uid} (C-FIND)",
        )
        return tuple(
            series_match(found, study_instance_uid)
            for found in answers
            if text_of(found, "SeriesInstanceUID")
        )

    def find_instances(
        self, study_instance_uid: str, series_instance_uid: str
    ) -> tuple[InstanceMatch, ...]:
        """C-FIND at IMAGE level."""
        identifier = Dataset()
        identifier.QueryRetrieveLevel = "IMAGE"
        identifier.StudyInstanceUID = study_instance_uid
        identifier.SeriesInstanceUID = series_instance_uid
        identifier.SOPInstanceUID = ""
        identifier.SOPClassUID = ""
        answers = self._find(
            identifier,
            f"searching for the images of series {series_instance_uid} (C-FIND)",
        )
        return tuple(
            InstanceMatch(
                study_instance_uid=study_instance_uid,
                series_instance_uid=series_instance_uid,
                sop_instance_uid=text_of(found, "SOPInstanceUID"),
                sop_class_uid=text_of(found, "SOPClassUID"),
            )
            for found in answers
            if text_of(found, "SOPInstanceUID")
        )

    # ------------------------------------------------------------ C-GET
    def retrieve(
        self,
        series: SeriesMatch,
        instances: Sequence[InstanceMatch],
        sink: InstanceSink,
        *,
        whole_series: bool,
        cancel: CancelCheck | None = None,
    ) -> None:
        """C-GET the series (or the listed images) on our own association."""
        what = (
            f"retrieving series {series.series_instance_uid} of study "
            f"{series.study_instance_uid} (C-GET)"
        )
        classes = sorted(
            {item.sop_class_uid for item in instances if item.sop_class_uid}
        ) or list(_DEFAULT_STORAGE)
        classes = classes[: _MAX_CONTEXTS - 1]
        contexts = [build_context(StudyRootQueryRetrieveInformationModelGet)] + [
            build_context(uid, _IMAGE_TRANSFER_SYNTAXES) for uid in classes
        ]
        roles = [build_role(uid, scp_role=True) for uid in classes]
        problems: list[BaseException] = []

        def on_store(event: Any) -> int:
            if cancel is not None and cancel():
                return 0xA700
            try:
                sink.add_encoded(
                    str(event.request.AffectedSOPInstanceUID), event.encoded_dataset()
                )
            except Exception as error:  # reported after the C-GET, not lost
                problems.append(error)
                return 0xA700
            return 0x0000

        identifier = Dataset()
        identifier.StudyInstanceUID = series.study_instance_uid
        identifier.SeriesInstanceUID = series.series_instance_uid
        if whole_series:
            identifier.QueryRetrieveLevel = "SERIES"
        else:
            identifier.QueryRetrieveLevel = "IMAGE"
            identifier.SOPInstanceUID = [item.sop_instance_uid for item in instances]
        with self._association(
            what, contexts, roles=roles, handlers=[(evt.EVT_C_STORE, on_store)]
        ) as assoc:
            final = self._get(assoc, identifier, what, cancel)
        if problems:
            raise problems[0]
        code = int(final.Status)
        if code not in (0x0000, 0xB000):
            raise PacsRefusedError(
                f"{self.server.label}: C-GET answered {_status_text(code)} while {what}"
            )

    def _get(
        self,
        assoc: Association,
        identifier: Dataset,
        what: str,
        cancel: CancelCheck | None,
    ) -> Dataset:
        final: Dataset | None = None
        for status, _found in assoc.send_c_get(
            identifier, StudyRootQueryRetrieveInformationModelGet
        ):
            if cancel is not None and cancel():
                raise LoadCancelledError(f"{what}: cancelled")
            if not status:
                raise self._ended(what)
            if int(status.Status) not in _PENDING:
                final = status
        raise_if_cancelled(cancel, what)
        if final is None:
            raise self._ended(what)
        return final

    # ------------------------------------------------------------ C-STORE
    def store(self, files: Sequence[Path]) -> StoreOutcome:
        """C-STORE each file; what the server accepted and refused."""
        datasets = [pydicom.dcmread(path) for path in files]
        wanted: dict[str, list[str | UID]] = {}
        for dataset in datasets:
            syntaxes = wanted.setdefault(str(dataset.SOPClassUID), [])
            syntax = str(dataset.file_meta.TransferSyntaxUID)
            for uid in (syntax, ExplicitVRLittleEndian, ImplicitVRLittleEndian):
                if uid not in syntaxes:
                    syntaxes.append(uid)
        contexts = [build_context(uid, syntaxes) for uid, syntaxes in wanted.items()]
        what = f"storing {len(datasets)} instances (C-STORE)"
        accepted: list[StoredInstance] = []
        refused: list[RefusedInstance] = []
        with self._association(what, contexts[:_MAX_CONTEXTS]) as assoc:
            for dataset in datasets:
                uid = str(dataset.SOPInstanceUID)
                try:
                    status = assoc.send_c_store(dataset)
                except ValueError as error:  # no accepted context for its class
                    refused.append(
                        RefusedInstance(sop_instance_uid=uid, reason=str(error))
                    )
                    continue
                if not status:
                    raise self._ended(what)
                code = int(status.Status)
                if code == 0x0000:
                    accepted.append(StoredInstance(sop_instance_uid=uid))
                elif code in _STORE_WARNINGS:
                    accepted.append(
                        StoredInstance(
                            sop_instance_uid=uid, note=failure_reason_text(code)
                        )
                    )
                else:
                    refused.append(
                        RefusedInstance(
                            sop_instance_uid=uid, reason=failure_reason_text(code)
                        )
                    )
        return StoreOutcome(accepted=tuple(accepted), refused=tuple(refused))
