"""DICOMweb through ``dicomweb-client``: QIDO-RS, WADO-RS and STOW-RS.

One ``requests`` session per client carries the server's HTTP basic credentials
or bearer token and its certificate authorities. Whatever goes wrong becomes one
:class:`~recist_app.pacs.errors.PacsError` line naming the server and the
cause: the connection (refused, unknown host, timeout, TLS), the credentials
(HTTP 401/403), a study or series no longer there (HTTP 404), any other HTTP
status, or an answer that is not DICOM (an HTML login page from a proxy, say).
Instances are retrieved in Explicit VR Little Endian, which every server can
send and the loader reads fastest.
"""

from __future__ import annotations

import json
import logging
import re
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pydicom
import requests
from dicomweb_client import DICOMwebClient
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from recist_app.imaging.progress import raise_if_cancelled
from recist_app.pacs._datasets import (
    failure_reason_text,
    name_matches,
    series_match,
    study_match,
    text_of,
)
from recist_app.pacs.errors import (
    PacsAuthenticationError,
    PacsConnectionError,
    PacsNotFoundError,
    PacsRefusedError,
    PacsResponseError,
    PacsSettingsError,
)
from recist_app.pacs.model import (
    EchoOutcome,
    InstanceMatch,
    RefusedInstance,
    StoredInstance,
    StoreOutcome,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

    from recist_app.imaging import CancelCheck
    from recist_app.pacs.client import InstanceSink
    from recist_app.pacs.model import SeriesMatch, StudyMatch, StudyQuery
    from recist_app.pacs.settings import PacsServer

__all__ = ["DicomWebClient"]

# dicomweb-client logs through its own logger; without a handler Python's last
# resort would print its warnings under the command's one-line errors.
logging.getLogger("dicomweb_client").addHandler(logging.NullHandler())

_STUDY_FIELDS = (
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "AccessionNumber",
    "ModalitiesInStudy",
    "PatientName",
    "PatientID",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
)
_SERIES_FIELDS = (
    "Modality",
    "SeriesDescription",
    "SeriesNumber",
    "NumberOfSeriesRelatedInstances",
)
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")
_TLS = re.compile(r"\[SSL: [A-Z_]+\] ([^'\"(]+)")


def _connection_reason(error: BaseException) -> str:
    text = str(error)
    tls = _TLS.search(text)
    if tls:
        return tls.group(1).strip().rstrip(".")
    found = _ERRNO.search(text)
    if found:
        return found.group(1).strip().rstrip(".").lower()
    if "Max retries" in text or "Failed to establish" in text:
        return "the connection failed"
    return " ".join(text.split())[:200] or type(error).__name__


class _Transport(requests.adapters.HTTPAdapter):
    """Every request to the server: its CA file, the query's wildcards as typed.

    The CA file is given to each request here because ``requests`` lets
    ``$REQUESTS_CA_BUNDLE`` override a session's own ``verify``. The QIDO-RS
    wildcards ``*`` and ``?`` go unescaped: RFC 3986 allows both in a query, so
    a server that decodes its query sees the same request, and Orthanc 1.10's
    DICOMweb plugin, which decodes nothing, would match ``%2A`` literally.
    """

    def __init__(self, ca_file: str | None) -> None:
        super().__init__()
        self._ca_file = ca_file

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if self._ca_file is not None:
            kwargs["verify"] = self._ca_file
        if request.url and "?" in request.url:
            base, _, query = request.url.partition("?")
            query = query.replace("%2A", "*").replace("%3F", "?")
            request.url = f"{base}?{query}"
        return super().send(request, *args, **kwargs)


class DicomWebClient:
    """A DICOMweb server's QIDO-RS, WADO-RS and STOW-RS services.

    Parameters
    ----------
    server
        The server (a DICOMweb base URL, credentials, CA file, timeout).
    """

    def __init__(self, server: PacsServer) -> None:
        self.server = server
        session = requests.Session()
        if server.ca_file is not None and not server.ca_file.is_file():
            raise PacsSettingsError(
                f"{server.label}: ca_file {server.ca_file} is not a file"
            )
        adapter = _Transport(str(server.ca_file) if server.ca_file else None)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        if server.username is not None:
            session.auth = (server.username, server.password or "")
        if server.token is not None:
            session.headers["Authorization"] = f"Bearer {server.token}"
        self._session = session
        self._responses: list[requests.Response] = []
        self._content_type = ""
        self._more = False
        self._client = DICOMwebClient(
            server.url,
            session=session,
            callback=self._remember_answer,
            timeout=server.timeout_s,
        )
        # A busy server is reported at once rather than retried for a minute.
        self._client.set_http_retry_params(retry=False)

    def close(self) -> None:
        """Close the HTTP session's connections."""
        self._session.close()

    def _remember_answer(
        self, response: requests.Response, *_args: Any, **_kwargs: Any
    ) -> requests.Response:
        self._responses.append(response)
        self._content_type = response.headers.get("Content-Type", "")
        self._more = "additional results" in response.headers.get("Warning", "")
        return response

    def _search(
        self, search: Callable[..., list[dict[str, Any]]], *args: Any, **kwargs: Any
    ) -> list[Dataset]:
        """Every answer of a QIDO-RS search, page after page.

        A server that limits its answers says so in a ``Warning`` header (PS3.18
        8.3.4.4: "There are additional results"); only then is the next page
        asked for, and only while it brings results not seen yet (a server that
        ignores ``offset`` would otherwise be asked forever).
        """
        found: list[Dataset] = []
        seen: set[str] = set()
        while True:
            self._more = False
            page = search(*args, offset=len(found), **kwargs)
            fresh = [
                item for item in page if json.dumps(item, sort_keys=True) not in seen
            ]
            seen.update(json.dumps(item, sort_keys=True) for item in fresh)
            found += [Dataset.from_json(item) for item in fresh]
            if not self._more or not fresh:
                return found

    # ------------------------------------------------------------ errors
    @contextmanager
    def _answers(self, what: str, *, missing: str = "") -> Iterator[None]:
        """Turn whatever goes wrong while doing ``what`` into one PacsError line."""
        label = self.server.label
        self._content_type = ""
        try:
            yield
        except requests.exceptions.SSLError as error:
            raise PacsConnectionError(
                f"{label}: the TLS connection failed while {what}: "
                f"{_connection_reason(error)}"
            ) from None
        except requests.exceptions.Timeout:
            raise PacsConnectionError(
                f"{label}: no answer within {self.server.timeout_s:g} s while {what}"
            ) from None
        except requests.exceptions.ConnectionError as error:
            raise PacsConnectionError(
                f"{label}: cannot connect while {what}: {_connection_reason(error)}"
            ) from None
        except requests.exceptions.HTTPError as error:
            raise self._http_error(error, what, missing) from None
        except (ValueError, KeyError, TypeError, InvalidDicomError) as error:
            # dicomweb-client raises ValueError for a body of the wrong media
            # type, requests a JSONDecodeError (a ValueError) for one that is
            # not JSON, pydicom InvalidDicomError for a part that is not DICOM.
            received = self._content_type.split(";")[0].strip() or "no content type"
            detail = " ".join(str(error).split())[:160]
            raise PacsResponseError(
                f"{label}: the answer while {what} is not DICOM ({received}): "
                f"{detail or type(error).__name__}"
            ) from None

    def _http_error(
        self, error: requests.exceptions.HTTPError, what: str, missing: str
    ) -> Exception:
        label = self.server.label
        response = error.response
        status = response.status_code if response is not None else 0
        reason = (response.reason if response is not None else "") or ""
        if status == 401:
            given = (
                "the credentials given"
                if self.server.username or self.server.token
                else "no credentials (none are configured)"
            )
            return PacsAuthenticationError(
                f"{label}: the server refused {given} (HTTP 401 {reason}) while {what}"
            )
        if status == 403:
            return PacsAuthenticationError(
                f"{label}: access forbidden for these credentials (HTTP 403) while "
                f"{what}"
            )
        if status in (404, 410) and missing:
            return PacsNotFoundError(
                f"{label}: {missing} is not on the server (any more) "
                f"(HTTP {status}) while {what}"
            )
        return PacsRefusedError(f"{label}: HTTP {status} {reason} while {what}")

    # ------------------------------------------------------------ services
    def echo(self) -> EchoOutcome:
        """Ask QIDO-RS for one study: the server is there and accepts us."""
        start = time.perf_counter()
        with self._answers("checking the connection (QIDO-RS)"):
            self._client.search_for_studies(limit=1, fields=["StudyInstanceUID"])
        return EchoOutcome(
            server=self.server.label,
            protocol="DICOMweb",
            elapsed_ms=(time.perf_counter() - start) * 1000,
            detail="QIDO-RS answered",
        )

    def find_studies(self, query: StudyQuery) -> tuple[StudyMatch, ...]:
        """QIDO-RS ``/studies`` with the query's attributes."""
        filters: dict[str, Any] = {}
        if query.patient_id:
            filters["PatientID"] = query.patient_id
        if query.patient_name:
            # "^" travels as %5E, which Orthanc 1.10's DICOMweb plugin does not
            # decode: ask with "?" (any one character, sent as typed) and keep
            # only the names that match the query.
            filters["PatientName"] = query.patient_name.replace("^", "?")
        if query.dicom_date_range:
            filters["StudyDate"] = query.dicom_date_range
        if query.modality:
            filters["ModalitiesInStudy"] = query.modality
        if query.study_instance_uid:
            filters["StudyInstanceUID"] = query.study_instance_uid
        what = f"searching for studies ({query.description})"
        with self._answers(what):
            answers = self._search(
                self._client.search_for_studies,
                search_filters=filters,
                fields=list(_STUDY_FIELDS),
            )
            matches = [study_match(item) for item in answers]
        if "^" in query.patient_name:
            matches = [
                match
                for match in matches
                if name_matches(match.patient_name, query.patient_name)
            ]
        return tuple(matches)

    def find_series(self, study_instance_uid: str) -> tuple[SeriesMatch, ...]:
        """QIDO-RS ``/studies/{uid}/series``."""
        what = f"searching for the series of study {study_instance_uid}"
        with self._answers(what, missing=f"study {study_instance_uid}"):
            answers = self._search(
                self._client.search_for_series,
                study_instance_uid,
                fields=list(_SERIES_FIELDS),
            )
            matches = [series_match(item, study_instance_uid) for item in answers]
        return tuple(
            match for match in matches if match.study_instance_uid == study_instance_uid
        )

    def find_instances(
        self, study_instance_uid: str, series_instance_uid: str
    ) -> tuple[InstanceMatch, ...]:
        """QIDO-RS ``/studies/{uid}/series/{uid}/instances``."""
        what = f"searching for the images of series {series_instance_uid}"
        with self._answers(what, missing=f"series {series_instance_uid}"):
            datasets = self._search(
                self._client.search_for_instances,
                study_instance_uid,
                series_instance_uid,
                fields=["SOPClassUID"],
            )
            matches = [
                InstanceMatch(
                    study_instance_uid=study_instance_uid,
                    series_instance_uid=series_instance_uid,
                    sop_instance_uid=text_of(dataset, "SOPInstanceUID"),
                    sop_class_uid=text_of(dataset, "SOPClassUID"),
                )
                for dataset in datasets
            ]
        return tuple(matches)

    def retrieve(
        self,
        series: SeriesMatch,
        instances: Sequence[InstanceMatch],
        sink: InstanceSink,
        *,
        whole_series: bool,
        cancel: CancelCheck | None = None,
    ) -> None:
        """WADO-RS the whole series (streamed), or each instance, into ``sink``."""
        study_uid, series_uid = series.study_instance_uid, series.series_instance_uid
        what = f"retrieving series {series_uid} of study {study_uid}"
        if whole_series:
            with self._answers(what, missing=f"series {series_uid}"):
                self._responses.clear()
                try:
                    for dataset in self._client.iter_series(study_uid, series_uid):
                        sink.add_dataset(dataset)
                        raise_if_cancelled(cancel, what)
                finally:
                    # A stream left early (cancel, a bad part) keeps its
                    # connection until the response is closed.
                    for response in self._responses:
                        response.close()
                    self._responses.clear()
            return
        for instance in instances:
            raise_if_cancelled(cancel, what)
            with self._answers(what, missing=f"image {instance.sop_instance_uid}"):
                dataset = self._client.retrieve_instance(
                    study_uid, series_uid, instance.sop_instance_uid
                )
            sink.add_dataset(dataset)

    def store(self, files: Sequence[Path]) -> StoreOutcome:
        """STOW-RS the files in one request; what the server accepted and refused."""
        datasets = [pydicom.dcmread(path) for path in files]
        what = f"storing {len(datasets)} instances (STOW-RS)"
        with self._answers(what):
            try:
                answer = self._client.store_instances(datasets)
            except requests.exceptions.HTTPError as error:
                refusal = _refusal_body(error)
                if refusal is None:
                    raise
                answer = refusal
        return _store_outcome(answer, datasets)


def _refusal_body(error: requests.exceptions.HTTPError) -> Dataset | None:
    """The STOW-RS response of a 409 (some instances failed), if it has one."""
    response = error.response
    if response is None or response.status_code != 409 or not response.content:
        return None
    try:
        return Dataset.from_json(response.json())
    except ValueError:
        return None


def _store_outcome(answer: Dataset, sent: Sequence[Dataset]) -> StoreOutcome:
    sent_uids = [str(dataset.SOPInstanceUID) for dataset in sent]
    accepted = [
        StoredInstance(
            sop_instance_uid=str(item.get("ReferencedSOPInstanceUID", "")),
            note=failure_reason_text(int(item.WarningReason))
            if item.get("WarningReason") is not None
            else "",
        )
        for item in answer.get("ReferencedSOPSequence", [])
    ]
    refused = [
        RefusedInstance(
            sop_instance_uid=str(item.get("ReferencedSOPInstanceUID", "")),
            reason=failure_reason_text(int(item.get("FailureReason", 0x0110))),
        )
        for item in answer.get("FailedSOPSequence", [])
    ]
    if not accepted and not refused:
        # A server that answers 200 without a body stored everything it got.
        accepted = [StoredInstance(sop_instance_uid=uid) for uid in sent_uids]
    listed = {item.sop_instance_uid for item in accepted} | {
        item.sop_instance_uid for item in refused
    }
    refused += [
        RefusedInstance(
            sop_instance_uid=uid, reason="not mentioned in the server's answer"
        )
        for uid in sent_uids
        if uid not in listed
    ]
    return StoreOutcome(accepted=tuple(accepted), refused=tuple(refused))
