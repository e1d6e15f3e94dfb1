"""Small generated studies for the widget tests: two visits, one disc lesion each."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import numpy as np
import pytest

from recist_app.imaging import ImageVolume
from recist_app.recist import Reading, TimePoint
from recist_app.store import Store, open_store
from recist_app.ui.document import ReadingDocument, open_document
from recist_app.ui.main_window import MainWindow
from recist_app.workflows.reading_session import ReadingSession

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

BASELINE_SERIES = "1.2.826.0.1.3680043.8.498.100"
FOLLOW_UP_SERIES = "1.2.826.0.1.3680043.8.498.200"
SLICES = 16
LESION_SLICE = 9
# Non-square pixels: lengths and perpendiculars must be computed in mm.
COLUMN_SPACING_MM = 0.75
ROW_SPACING_MM = 1.0


def disc_volume(series_uid: str, radius_mm: float) -> ImageVolume:
    """A 64x64x16 CT-like volume (HU -1024 air, 40 soft tissue) with a bright disc."""
    rows = columns = 64
    voxels = np.full((SLICES, rows, columns), 40 + 1024, dtype=np.int16)
    j, i = np.mgrid[0:rows, 0:columns]
    x_mm = (i - 32) * COLUMN_SPACING_MM
    y_mm = (j - 32) * ROW_SPACING_MM
    disc = np.hypot(x_mm, y_mm) <= radius_mm
    voxels[LESION_SLICE][disc] = 200 + 1024
    origins = np.array([[0.0, 0.0, 5.0 * k] for k in range(SLICES)])
    return ImageVolume(
        voxels=voxels,
        spacing_mm=(COLUMN_SPACING_MM, ROW_SPACING_MM, 5.0),
        slice_origins_lps_mm=origins,
        direction=np.eye(3),
        rescale_intercept=-1024.0,
        sop_instance_uids=tuple(f"{series_uid}.{k + 1}" for k in range(SLICES)),
        series_instance_uid=series_uid,
        patient_id="UI-TEST",
        modality="CT",
        series_description="test series",
        slice_thickness_mm=5.0,
    )


def two_visit_reading() -> Reading:
    return Reading(
        patient_id="UI-TEST",
        timepoints=(
            TimePoint(
                visit="BASELINE",
                date=datetime.date(2024, 1, 8),
                is_baseline=True,
                slice_thickness_mm=5.0,
                series_instance_uid=BASELINE_SERIES,
            ),
            TimePoint(
                visit="WEEK 8",
                date=datetime.date(2024, 3, 4),
                slice_thickness_mm=5.0,
                series_instance_uid=FOLLOW_UP_SERIES,
            ),
        ),
    )


@pytest.fixture
def document(qapp: object) -> ReadingDocument:
    return ReadingDocument(two_visit_reading())


def _show_window(qtbot: object, document: ReadingDocument) -> MainWindow:
    volumes = {
        BASELINE_SERIES: disc_volume(BASELINE_SERIES, radius_mm=12.0),
        FOLLOW_UP_SERIES: disc_volume(FOLLOW_UP_SERIES, radius_mm=7.5),
    }
    main = MainWindow(document, volumes)
    qtbot.addWidget(main)  # type: ignore[attr-defined]
    main.resize(1600, 1000)
    main.show()
    qtbot.waitExposed(main)  # type: ignore[attr-defined]
    return main


@pytest.fixture
def window(qtbot: object, document: ReadingDocument) -> MainWindow:
    return _show_window(qtbot, document)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A new SQLite reading database in the test's folder."""
    return f"sqlite:///{tmp_path / 'readings.sqlite3'}"


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with open_store(database_url) as opened:
        yield opened


@pytest.fixture
def session(store: Store) -> ReadingSession:
    return ReadingSession(store, user="dr-test")


@pytest.fixture
def stored_window(qtbot: object, session: ReadingSession) -> MainWindow:
    """The workstation autosaving to a new database, as ``recist-app`` opens it."""
    return _show_window(qtbot, open_document(two_visit_reading(), session))


def wait_saved(qtbot: object, window: MainWindow) -> None:
    """Wait until the autosave writer has stored what the window shows."""
    assert window.writer is not None
    assert window.writer.flush()
    qtbot.waitUntil(  # type: ignore[attr-defined]
        lambda: window.save_label.text() == "✓ Saved", timeout=10_000
    )
