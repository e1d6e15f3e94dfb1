"""DICOMweb over TLS: the site's CA file is trusted, an unknown certificate is not.

A small HTTPS server with a self-signed certificate (made by ``openssl``) passes
requests on to the session's Orthanc, as a TLS-terminating proxy in front of a
PACS does.
"""

from __future__ import annotations

import http.server
import shutil
import ssl
import subprocess
import threading
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recist_app.pacs import (
    PacsConnectionError,
    PacsServer,
    PacsSettingsError,
    StudyQuery,
)
from recist_app.workflows.pacs import echo_server, find_studies
from tests.orthanc import ORTHANC_PASSWORD, ORTHANC_USER

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.orthanc import DemoOnServer


class _Proxy(http.server.BaseHTTPRequestHandler):
    upstream = ""

    def do_GET(self) -> None:
        request = urllib.request.Request(
            self.upstream + self.path,
            headers={
                name: value
                for name, value in self.headers.items()
                if name.lower() in ("accept", "authorization")
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, body = answer.status, answer.read()
                content_type = answer.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            status, body, content_type = error.code, error.read(), "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        """Quiet."""


@pytest.fixture
def https_front(orthanc: DemoOnServer, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The HTTPS proxy's DICOMweb URL and its certificate (the CA file to trust)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed; it makes the test's certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip

    class Handler(_Proxy):
        upstream = f"http://127.0.0.1:{orthanc.server.http_port}"

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}/dicom-web", cert
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_the_sites_ca_file_is_trusted(https_front: tuple[str, Path]) -> None:
    url, cert = https_front
    server = PacsServer(
        url=url, username=ORTHANC_USER, password=ORTHANC_PASSWORD, ca_file=cert
    )
    assert "QIDO-RS answered" in str(echo_server(server))
    assert len(find_studies(server, StudyQuery(patient_id="DEMO-HCC-002"))) == 3


def test_a_certificate_no_trusted_ca_signed_is_refused_in_one_line(
    https_front: tuple[str, Path],
) -> None:
    url, _cert = https_front
    server = PacsServer(url=url, username=ORTHANC_USER, password=ORTHANC_PASSWORD)
    with pytest.raises(PacsConnectionError) as raised:
        echo_server(server)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{url}: the TLS connection failed")
    assert "certificate verify failed" in message


def test_a_ca_file_that_is_not_there_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "site-ca.pem"
    server = PacsServer(url="https://pacs.example.org/dicom-web", ca_file=missing)
    with pytest.raises(PacsSettingsError) as raised:
        echo_server(server)
    assert str(raised.value) == (
        f"https://pacs.example.org/dicom-web: ca_file {missing} is not a file"
    )
