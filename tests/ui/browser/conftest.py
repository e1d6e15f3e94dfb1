"""Two small phantom patients on disk and a workstation on a fresh database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from recist_app.imaging import write_demo_data
from recist_app.recist import Reading
from recist_app.store import open_store
from recist_app.ui.document import open_document
from recist_app.ui.main_window import MainWindow
from recist_app.workflows.reading_session import ReadingSession

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from recist_app.store import Store

FIRST_PATIENT = "DEMO-HCC-001"
SECOND_PATIENT = "DEMO-HCC-002"


@pytest.fixture(scope="session")
def phantoms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two patients (3 visits of 20 slices, 128²) in one folder, and their truth."""
    root = tmp_path_factory.mktemp("phantoms")
    first = write_demo_data(root / "first", slice_count=20, matrix=128, visits=3)
    second = write_demo_data(
        root / "second",
        seed=1,
        patient_id=SECOND_PATIENT,
        slice_count=20,
        matrix=128,
        visits=3,
    )
    return {"root": root, FIRST_PATIENT: first, SECOND_PATIENT: second}


@pytest.fixture
def browser_store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'readings.sqlite3'}") as opened:
        yield opened


@pytest.fixture
def workstation(qtbot: Any, browser_store: Store) -> Iterator[MainWindow]:
    """The workstation as ``recist-app`` opens it without a demo."""
    saver = ReadingSession(browser_store, user="dr-test")
    document = open_document(Reading(patient_id="NEW-PATIENT"), saver)
    window = MainWindow(document, {})
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    yield window
    if window.volume_loader is not None:
        window.volume_loader.shutdown()
