"""Test-suite wide configuration.

Qt must run headless in CI, so the platform is set before anything imports Qt.
Tests under ``tests/ui`` are marked ``gui`` here; tests that take seconds (SIGKILL
crash safety, several writer processes, CLI subprocesses, generated demo phantoms,
anything over about 3 s) carry ``@pytest.mark.slow`` in their own files. So
``pytest -m "not slow and not gui"`` (``make quick``) is the quick loop, and plain
``pytest`` (``make test``) still runs everything.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The reader identity the app remembers lives here, never in the user's folder.
os.environ.setdefault(
    "RECIST_APP_CONFIG_DIR", tempfile.mkdtemp(prefix="recist-config-")
)

from tests.exchange.demo import DemoPatient, write_demo_patient
from tests.orthanc import DemoOnServer, start_orthanc, upload_demo_patients
from tests.postgres import PostgresServer, start_postgres

_UI_DIR = Path(__file__).parent / "ui"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _UI_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.gui)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPatient:
    """The demo patient's CT studies and reading, written once per session."""
    return write_demo_patient(tmp_path_factory.mktemp("demo"), visits=4)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL server on 127.0.0.1 for the whole session."""
    started = start_postgres()
    if isinstance(started, str):
        pytest.skip(started)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a new, empty PostgreSQL database (as the superuser)."""
    return postgres_server.url(postgres_server.new_database())


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoOnServer]:
    """A throw-away Orthanc PACS holding both demo patients (small studies).

    Started once per session on 127.0.0.1 with free ports (DICOMweb and DIMSE),
    stopped at the end; skipped, with the reason, when Orthanc is not installed.
    """
    started = start_orthanc()
    if isinstance(started, str):
        pytest.skip(started)
    try:
        yield upload_demo_patients(started, tmp_path_factory.mktemp("pacs-demo"))
    finally:
        started.stop()
