"""A throw-away Orthanc PACS for the tests and the PACS benchmark.

Debian's ``orthanc`` and ``orthanc-dicomweb`` packages (installed by ``make
test`` when missing) provide the server and its DICOMweb plugin. Each server
runs from a generated configuration in a temporary folder (its storage and
index), on 127.0.0.1 with free HTTP and DICOM ports, HTTP basic authentication
(user ``reader``) and the DICOMweb plugin at ``/dicom-web``. Our calling AE
title ``RECISTAPP`` is a registered modality (C-FIND and C-GET need one);
any calling AE title may echo and store. Instances are uploaded through
Orthanc's own REST API, never through the code under test.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "DEMO_GEOMETRY",
    "ORTHANC_AET",
    "ORTHANC_PASSWORD",
    "ORTHANC_USER",
    "DemoOnServer",
    "OrthancServer",
    "find_orthanc",
    "free_port",
    "start_orthanc",
    "upload_demo_patients",
]

ORTHANC_AET = "ORTHANC"
ORTHANC_USER = "reader"
ORTHANC_PASSWORD = "orthanc-test-secret"
_DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
_START_TIMEOUT_S = 30.0


def find_orthanc() -> tuple[str, Path] | str:
    """The Orthanc binary and its DICOMweb plugin, or why they are missing."""
    binary = shutil.which("Orthanc") or (
        "/usr/sbin/Orthanc" if Path("/usr/sbin/Orthanc").is_file() else None
    )
    if binary is None:
        return (
            "Orthanc is not installed; `make test` installs Debian's orthanc and "
            "orthanc-dicomweb packages when it can"
        )
    if not _DICOMWEB_PLUGIN.is_file():
        return (
            f"Orthanc's DICOMweb plugin ({_DICOMWEB_PLUGIN}) is not installed; "
            "`make test` installs Debian's orthanc-dicomweb package when it can"
        )
    return binary, _DICOMWEB_PLUGIN


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class OrthancServer:
    """A running Orthanc: its ports, folder and process."""

    http_port: int
    dicom_port: int
    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def dicomweb_url(self) -> str:
        """The DICOMweb base URL (no credentials)."""
        return f"http://127.0.0.1:{self.http_port}/dicom-web"

    @property
    def dicomweb_url_with_credentials(self) -> str:
        """The DICOMweb base URL with the test user's credentials in it."""
        return (
            f"http://{ORTHANC_USER}:{ORTHANC_PASSWORD}@127.0.0.1:"
            f"{self.http_port}/dicom-web"
        )

    @property
    def dimse_url(self) -> str:
        """``dimse://ORTHANC@127.0.0.1:PORT``."""
        return f"dimse://{ORTHANC_AET}@127.0.0.1:{self.dicom_port}"

    def rest(
        self, method: str, path: str, body: bytes | None = None
    ) -> Any:  # JSON answer of Orthanc's REST API
        """Call Orthanc's REST API as the test user; return the decoded JSON."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}{path}",
            data=body,
            method=method,
            headers={
                "Authorization": "Basic "
                + base64.b64encode(
                    f"{ORTHANC_USER}:{ORTHANC_PASSWORD}".encode()
                ).decode(),
                "Content-Type": "application/dicom",
            },
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            text = answer.read()
        return json.loads(text) if text else None

    def upload(self, files: Iterable[Path]) -> int:
        """Store DICOM files through the REST API; return how many."""
        count = 0
        for path in files:
            self.rest("POST", "/instances", path.read_bytes())
            count += 1
        return count

    def find_study(self, study_instance_uid: str) -> str | None:
        """Orthanc's id of the study with this UID, if it holds it."""
        found = self.rest(
            "POST",
            "/tools/lookup",
            study_instance_uid.encode(),
        )
        for item in found or ():
            if item.get("Type") == "Study":
                return str(item["ID"])
        return None

    def delete_study(self, study_instance_uid: str) -> bool:
        """Remove a study from the server; whether it was there."""
        orthanc_id = self.find_study(study_instance_uid)
        if orthanc_id is None:
            return False
        self.rest("DELETE", f"/studies/{orthanc_id}")
        return True

    def instance_file(self, sop_instance_uid: str) -> bytes | None:
        """The stored file of an instance, if the server holds it."""
        found = self.rest("POST", "/tools/lookup", sop_instance_uid.encode())
        for item in found or ():
            if item.get("Type") == "Instance":
                request = urllib.request.Request(
                    f"http://127.0.0.1:{self.http_port}/instances/{item['ID']}/file",
                    headers={
                        "Authorization": "Basic "
                        + base64.b64encode(
                            f"{ORTHANC_USER}:{ORTHANC_PASSWORD}".encode()
                        ).decode()
                    },
                )
                with urllib.request.urlopen(request, timeout=60) as answer:
                    data: bytes = answer.read()
                    return data
        return None

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        shutil.rmtree(self.folder, ignore_errors=True)


def _configuration(folder: Path, http_port: int, dicom_port: int) -> dict[str, Any]:
    storage = str(folder / "storage")
    return {
        "Name": "recist-app-test",
        "StorageDirectory": storage,
        "IndexDirectory": storage,
        "StorageCompression": False,
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "DicomAet": ORTHANC_AET,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {ORTHANC_USER: ORTHANC_PASSWORD},
        "Plugins": [str(_DICOMWEB_PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
        "DicomCheckCalledAet": True,
        "DicomCheckModalityHost": False,
        "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": True,
        # Port 104 is never used: C-GET answers on the caller's association.
        "DicomModalities": {"recistapp": ["RECISTAPP", "127.0.0.1", 104]},
        "DicomScpTimeout": 30,
        "SaveJobs": False,
        "ConcurrentJobs": 1,
        "HttpThreadsCount": 8,
        "StableAge": 1,
        # A report sent again (the same SOP Instance UID) replaces the one
        # stored, so each test reads back exactly what it sent.
        "OverwriteInstances": True,
        "LimitFindResults": 0,
        "LimitFindInstances": 0,
    }


def _wait_until_up(server: OrthancServer) -> str | None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            server.rest("GET", "/system")
            return None
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    log = server.folder / "orthanc.log"
    tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
    return f"Orthanc did not start: {tail.strip() or 'no log'}"


def start_orthanc() -> OrthancServer | str:
    """Start a server; return it, or why it cannot be started (a skip reason)."""
    found = find_orthanc()
    if isinstance(found, str):
        return found
    binary, _plugin = found
    folder = Path(tempfile.mkdtemp(prefix="recist-orthanc-"))
    http_port, dicom_port = free_port(), free_port()
    while dicom_port == http_port:
        dicom_port = free_port()
    config = folder / "orthanc.json"
    config.write_text(
        json.dumps(_configuration(folder, http_port, dicom_port), indent=2),
        encoding="utf-8",
    )
    # DCMTK (Orthanc's DICOM stack) reads TCP_NODELAY from the environment:
    # without it every DIMSE answer waits ~40 ms for a delayed acknowledgement.
    with (folder / "orthanc.log").open("wb") as log:
        process = subprocess.Popen(
            [binary, str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=folder,
            env={**os.environ, "LANG": "C", "TCP_NODELAY": "1"},
        )
    server = OrthancServer(
        http_port=http_port, dicom_port=dicom_port, folder=folder, process=process
    )
    failure = _wait_until_up(server)
    if failure is not None:
        server.stop()
        return failure
    return server


DEMO_GEOMETRY: dict[str, Any] = {
    "visits": 3,
    "slice_count": 16,
    "matrix": 96,
    "pixel_size_mm": 4.0,
    "slice_spacing_mm": 8.0,
    "noise_hu": 0.0,
}
"""Small demo studies (3 visits × 16 slices of 96²): the phantom's lesions still
lie on the images, so the demo readings' measurements export as SR."""


@dataclass(frozen=True)
class DemoOnServer:
    """The demo patients uploaded to a server, and their files on disk."""

    server: OrthancServer
    folder: Path
    patients: dict[str, Path]
    """Patient id -> its folder (studies, ground truth, reading file)."""
    readings: dict[str, Path]
    """Patient id -> its complete reading file (drawn from the ground truth)."""
    study_uids: dict[str, tuple[str, ...]]
    """Patient id -> its StudyInstanceUIDs, visit order."""
    images: int
    """Images per patient."""


def upload_demo_patients(
    server: OrthancServer, folder: Path, geometry: dict[str, Any] | None = None
) -> DemoOnServer:
    """Write both demo patients (small), upload their studies to ``server``."""
    from recist_app.workflows.demo import DEMO_PATIENTS, write_demo_patient

    patients: dict[str, Path] = {}
    readings: dict[str, Path] = {}
    study_uids: dict[str, tuple[str, ...]] = {}
    images = 0
    for spec in DEMO_PATIENTS:
        out = folder / spec.patient_id
        truth_path, reading = write_demo_patient(
            out,
            seed=spec.seed,
            patient_id=spec.patient_id,
            patient_name=spec.patient_name,
            **(geometry or DEMO_GEOMETRY),
        )
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        files = sorted(out.rglob("*.dcm"))
        images = server.upload(files)
        patients[spec.patient_id] = out
        readings[spec.patient_id] = reading
        study_uids[spec.patient_id] = tuple(
            str(study["study_instance_uid"]) for study in truth["studies"]
        )
    return DemoOnServer(
        server=server,
        folder=folder,
        patients=patients,
        readings=readings,
        study_uids=study_uids,
        images=images,
    )
