"""Bad servers: each failure is one line naming the server and the cause.

Unreachable, rejected association, unknown calling AE title, wrong or missing
credentials (the real Orthanc), and a server that answers with an HTML page
instead of DICOM (a login page in front of the PACS, served here by a small
HTTP server that passes queries to Orthanc and answers retrievals with HTML).
Nothing is indexed when a retrieval fails.
"""

from __future__ import annotations

import base64
import http.server
import threading
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recist_app.pacs import (
    PacsAuthenticationError,
    PacsConnectionError,
    PacsError,
    PacsRefusedError,
    PacsResponseError,
    PacsSettings,
    StudyQuery,
)
from recist_app.store import open_store
from recist_app.workflows.pacs import echo_server, find_studies, retrieve_patient
from tests.orthanc import ORTHANC_PASSWORD, ORTHANC_USER, free_port

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from recist_app.pacs import PacsServer
    from tests.orthanc import DemoOnServer

UNREAD = "DEMO-HCC-002"


def _server(url: str, **options: str) -> PacsServer:
    return PacsSettings().server(url, **options)


def _one_line(error: PacsError, server: PacsServer, *causes: str) -> str:
    line = str(error)
    assert "\n" not in line
    assert line.startswith(server.label)
    for cause in causes:
        assert cause in line
    return line


def _cases(orthanc: DemoOnServer) -> dict[str, tuple[PacsServer, type[PacsError], str]]:
    port = orthanc.server.http_port
    dicom = orthanc.server.dicom_port
    closed = free_port()
    return {
        "dicomweb-unreachable": (
            _server(f"http://127.0.0.1:{closed}/dicom-web"),
            PacsConnectionError,
            "cannot connect while checking the connection (QIDO-RS): connection "
            "refused",
        ),
        "dimse-unreachable": (
            _server(f"dimse://ORTHANC@127.0.0.1:{closed}"),
            PacsConnectionError,
            f"cannot connect while echoing (C-ECHO): connection refused at "
            f"127.0.0.1:{closed}",
        ),
        "wrong-called-ae-title": (
            _server(f"dimse://NOTORTHANC@127.0.0.1:{dicom}"),
            PacsRefusedError,
            "rejected the association from RECISTAPP to NOTORTHANC (Called AE "
            "title not recognised",
        ),
        "wrong-password": (
            _server(f"http://{ORTHANC_USER}:wrong@127.0.0.1:{port}/dicom-web"),
            PacsAuthenticationError,
            "refused the credentials given (HTTP 401",
        ),
        "no-credentials": (
            _server(f"http://127.0.0.1:{port}/dicom-web"),
            PacsAuthenticationError,
            "refused no credentials (none are configured) (HTTP 401",
        ),
    }


CASES = [
    "dicomweb-unreachable",
    "dimse-unreachable",
    "wrong-called-ae-title",
    "wrong-password",
    "no-credentials",
]


@pytest.mark.parametrize("case", CASES)
def test_echo_failures_are_one_line_naming_server_and_cause(
    orthanc: DemoOnServer, case: str
) -> None:
    server, kind, cause = _cases(orthanc)[case]
    with pytest.raises(kind) as raised:
        echo_server(server)
    _one_line(raised.value, server, cause)


@pytest.mark.parametrize("case", CASES)
def test_a_failed_retrieval_indexes_nothing(
    orthanc: DemoOnServer, case: str, tmp_path: Path
) -> None:
    server, kind, _cause = _cases(orthanc)[case]
    with open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}") as store:
        with pytest.raises(kind) as raised:
            retrieve_patient(
                store,
                server,
                patient_id=UNREAD,
                user="dr-pacs",
                download_folder=tmp_path / "dl",
            )
        _one_line(raised.value, server)
        assert store.patients() == ()
    assert not (tmp_path / "dl").exists()


def test_an_unknown_calling_ae_title_may_echo_but_not_query(
    orthanc: DemoOnServer,
) -> None:
    server = _server(orthanc.server.dimse_url, calling_ae_title="STRANGER")
    echo_server(server)  # Orthanc lets anyone echo
    with pytest.raises(PacsRefusedError) as raised:
        find_studies(server, StudyQuery(patient_id=UNREAD))
    _one_line(
        raised.value,
        server,
        "ended the association while searching for studies",
        "does it allow this service for STRANGER?",
    )


def test_an_unknown_host_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def no_such_host(*_args: object, **_kwargs: object) -> list[object]:
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    for url in ("dimse://PACS@pacs.invalid:104", "http://pacs.invalid/dicom-web"):
        server = _server(url)
        with pytest.raises(PacsConnectionError) as raised:
            echo_server(server)
        _one_line(raised.value, server, "name or service not known")


class _LoginPageInFront(http.server.BaseHTTPRequestHandler):
    """Passes QIDO-RS queries to Orthanc; answers anything else with HTML."""

    upstream = ""
    html_everywhere = False

    def do_GET(self) -> None:
        wants_dicom = "multipart/related" in self.headers.get("Accept", "")
        if self.html_everywhere or wants_dicom:
            body = b"<html><body>Please log in</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        credentials = base64.b64encode(f"{ORTHANC_USER}:{ORTHANC_PASSWORD}".encode())
        request = urllib.request.Request(
            self.upstream + self.path,
            headers={
                "Accept": self.headers.get("Accept", "*/*"),
                "Authorization": "Basic " + credentials.decode(),
            },
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
            content_type = answer.headers.get("Content-Type", "")
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        """Quiet."""


@pytest.fixture
def login_page(orthanc: DemoOnServer) -> Iterator[Callable[[bool], PacsServer]]:
    class Handler(_LoginPageInFront):
        upstream = f"http://127.0.0.1:{orthanc.server.http_port}"

    handler = Handler
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def server(html_everywhere: bool) -> PacsServer:
        handler.html_everywhere = html_everywhere
        return _server(f"http://127.0.0.1:{httpd.server_address[1]}/dicom-web")

    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_an_html_page_instead_of_a_query_answer_is_named(
    login_page: Callable[[bool], PacsServer],
) -> None:
    server = login_page(True)
    with pytest.raises(PacsResponseError) as raised:
        find_studies(server, StudyQuery(patient_id=UNREAD))
    _one_line(
        raised.value, server, "the answer while searching for studies", "text/html"
    )


def test_an_html_page_instead_of_images_is_named_and_nothing_is_indexed(
    login_page: Callable[[bool], PacsServer], tmp_path: Path
) -> None:
    server = login_page(False)
    with open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}") as store:
        assert len(find_studies(server, StudyQuery(patient_id=UNREAD))) == 3
        with pytest.raises(PacsResponseError) as raised:
            retrieve_patient(
                store,
                server,
                patient_id=UNREAD,
                user="dr-pacs",
                download_folder=tmp_path / "dl",
            )
        _one_line(
            raised.value,
            server,
            "the answer while retrieving series",
            "is not DICOM (text/html)",
        )
        assert store.patients() == ()
    assert list((tmp_path / "dl").rglob("*.dcm")) == []
