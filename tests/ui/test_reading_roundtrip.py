"""Issue 10 proof: a reading made by mouse survives export → import → export.

A small phantom patient is indexed in a database, its unread reading opened in
the real workstation, T01 added and measured by mouse at baseline and at the
first follow-up. ``recist-app export --format json`` writes the reading,
``recist-app reading import`` puts it into a fresh database indexing the same
DICOM folder, and a second export gives byte-identical files; the measurement
end points land on the same voxels in both databases, and the workstation on
the second database draws the lines where they were drawn on the first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from recist_app.cli import main as cli
from recist_app.exchange import unread_reading_from_ground_truth
from recist_app.imaging import load_volume, lps_mm_to_index, write_demo_data
from recist_app.recist import LesionRole, Reading
from recist_app.store import ReadingStatus, open_store
from recist_app.ui.document import open_document
from recist_app.ui.main_window import MainWindow
from recist_app.workflows.images import import_dicom
from recist_app.workflows.reading_session import ReadingSession
from tests.ui.conftest import wait_saved
from tests.ui.gestures import drag

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from recist_app.imaging import ImageVolume
    from recist_app.recist import MeasurementGeometry
    from recist_app.store import Store
    from recist_app.ui.viewer.measure_tool import MeasurementOverlay

PATIENT = "DEMO-HCC-001"
READER = "dr-roundtrip"
LESION = "T01"
YES = QMessageBox.StandardButton.Yes


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One patient, 3 visits of 20 slices of 128² (3.125 mm pixels, no noise)."""
    folder = tmp_path_factory.mktemp("roundtrip") / "dicom"
    truth = write_demo_data(
        folder,
        matrix=128,
        pixel_size_mm=3.125,
        noise_hu=0.0,
        slice_count=20,
        slice_spacing_mm=10.0,
        visits=3,
    )
    return {"folder": folder, "truth": truth}


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def first_store(tmp_path: Path, phantom: dict[str, Any]) -> Iterator[Store]:
    with open_store(_url(tmp_path / "first.sqlite3")) as store:
        import_dicom(store, phantom["folder"], user="dr-test")
        store.readings.save(
            unread_reading_from_ground_truth(phantom["truth"], reader=READER),
            user="dr-test",
        )
        yield store


def _workstation(qtbot: QtBot, store: Store) -> MainWindow:
    """The workstation on ``store``, switched to the phantom patient, loaded."""
    saver = ReadingSession(store, user=READER)
    document = open_document(Reading(patient_id="NEW-PATIENT", reader=READER), saver)
    window = MainWindow(document, {})
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_patient(PATIENT)
    loader = window.volume_loader
    assert loader is not None
    qtbot.waitUntil(lambda: not loader.pending, timeout=10_000)
    return window


def _lesion_truth(study: dict[str, Any]) -> dict[str, Any]:
    lesions: list[dict[str, Any]] = study["lesions"]
    [lesion] = [item for item in lesions if item["lesion_id"] == LESION]
    return lesion


def _draw_from_truth(window: MainWindow, lesion: dict[str, Any]) -> None:
    """Long axis then short axis of the phantom's lesion, by mouse drag."""
    view = window.slice_view
    volume = view.volume
    assert volume is not None
    view.set_slice_index(lesion["slice_index"])
    assert view.slice_index == lesion["slice_index"]
    center = np.asarray(lesion["center_lps_mm"])
    for length, direction in (
        (lesion["long_axis_mm"], lesion["long_axis_direction_lps"]),
        (lesion["short_axis_mm"], lesion["short_axis_direction_lps"]),
    ):
        half = 0.5 * length * np.asarray(direction)
        (i0, j0, _), (i1, j1, _) = lps_mm_to_index(
            volume, np.stack([center - half, center + half])
        )
        drag(view, (i0, j0), (i1, j1))


def _voxels(volume: ImageVolume, geometry: MeasurementGeometry) -> npt.NDArray[Any]:
    """The four end points (long start, long end, short start, short end) as ijk."""
    points = []
    for axis in (geometry.long_axis, geometry.short_axis):
        assert axis is not None
        points += [axis.start_lps_mm, axis.end_lps_mm]
    return lps_mm_to_index(volume, np.asarray(points))


def _overlay(window: MainWindow) -> MeasurementOverlay:
    [overlay] = [
        o for o in window.slice_view.overlays if o.lesion_id == LESION and not o.hint
    ]
    return overlay


def _export(url: str, out: Path) -> bytes:
    assert (
        cli(
            [
                "export",
                "--database",
                url,
                "--patient",
                PATIENT,
                "--format",
                "json",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    files = sorted(out.glob("*.reading.json"))
    assert len(files) == 1, files
    return files[0].read_bytes()


def _round_trip(first_url: str, dicom: Path, folder: Path) -> str:
    """Export from ``first_url``, import into a fresh database, export again.

    The two exports are byte-identical; returns the fresh database's URL.
    """
    first_export = _export(first_url, folder / "export-1")
    [reading_file] = (folder / "export-1").glob("*.reading.json")
    second_url = _url(folder / "second.sqlite3")
    with open_store(second_url) as second_store:
        import_dicom(second_store, dicom, user="dr-other")
    argv = ["reading", "import", "--database", second_url, "--user", "dr-other"]
    assert cli([*argv, str(reading_file)]) == 0
    assert _export(second_url, folder / "export-2") == first_export
    return second_url


def test_mouse_reading_round_trips_through_export_and_import(
    qtbot: QtBot,
    first_store: Store,
    phantom: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    truth = phantom["truth"]
    baseline_study, follow_up_study = truth["studies"][:2]
    window = _workstation(qtbot, first_store)
    document = window.document
    assert document.reading.reader == READER
    assert document.visit == baseline_study["visit"]

    # Add a liver target with the form and measure it at baseline by mouse.
    panel = window.lesion_panel
    panel.role_combo.setCurrentIndex(panel.role_combo.findData(LesionRole.TARGET.value))
    panel.organ_combo.setCurrentText("liver")
    QTest.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert document.selected_lesion_id == LESION
    baseline_truth = _lesion_truth(baseline_study)
    _draw_from_truth(window, baseline_truth)
    drawn: dict[str, MeasurementOverlay] = {baseline_study["visit"]: _overlay(window)}

    # The same target at the first follow-up.
    document.set_visit(follow_up_study["visit"])
    panel.table.selectRow(0)
    assert document.selected_lesion_id == LESION
    follow_up_truth = _lesion_truth(follow_up_study)
    _draw_from_truth(window, follow_up_truth)
    drawn[follow_up_study["visit"]] = _overlay(window)

    measured = document.reading
    for study, lesion in (
        (baseline_study, baseline_truth),
        (follow_up_study, follow_up_truth),
    ):
        measurement = measured.timepoint(study["visit"]).measurement(LESION)
        assert measurement is not None
        assert measurement.long_axis_mm == pytest.approx(lesion["long_axis_mm"], abs=4)
        assert measurement.geometry is not None
        assert measurement.geometry.sop_instance_uid == lesion["sop_instance_uid"]
    # Autosaved: the first database holds what the window shows.
    wait_saved(qtbot, window)
    assert first_store.readings.load(PATIENT, measured.criteria, READER) == measured
    first_volumes = {
        study["visit"]: window.volume_at(study["visit"])
        for study in (baseline_study, follow_up_study)
    }

    second_url = _round_trip(first_store.url, phantom["folder"], tmp_path / "draft")

    # The lines sit on the same voxels in both databases.
    with open_store(second_url) as second_store:
        imported = second_store.readings.load(PATIENT, measured.criteria, READER)
        for visit, first_volume in first_volumes.items():
            assert first_volume is not None
            series_uid = measured.timepoint(visit).series_instance_uid
            assert series_uid is not None
            second_volume = load_volume(second_store.images.series_files(series_uid))
            before = measured.timepoint(visit).measurement(LESION)
            after = imported.timepoint(visit).measurement(LESION)
            assert before is not None
            assert before.geometry is not None
            assert after is not None
            assert after.geometry is not None
            assert after.geometry == before.geometry
            first_ijk = _voxels(first_volume, before.geometry)
            second_ijk = _voxels(second_volume, after.geometry)
            np.testing.assert_allclose(second_ijk, first_ijk, atol=1e-6)
            assert np.array_equal(np.rint(second_ijk), np.rint(first_ijk))
            # ... which are the pixels the mouse drew on.
            overlay = drawn[visit]
            assert overlay.long_axis_ij is not None
            assert overlay.short_axis_ij is not None
            drawn_ij = np.asarray(
                [*overlay.long_axis_ij, *overlay.short_axis_ij], dtype=float
            )
            np.testing.assert_allclose(first_ijk[:, :2], drawn_ij, atol=1e-6)
            np.testing.assert_allclose(first_ijk[:, 2], overlay.slice_index, atol=1e-6)
        # The workstation on the second database draws the lines there too.
        second = _workstation(qtbot, second_store)
        assert second.document.reading == measured
        for visit, overlay in drawn.items():
            second.document.set_visit(visit)
            second.show_lesion(LESION)
            assert second.slice_view.slice_index == overlay.slice_index
            shown = _overlay(second)
            for axis in ("long_axis_ij", "short_axis_ij"):
                np.testing.assert_allclose(
                    getattr(shown, axis), getattr(overlay, axis), atol=1e-6
                )
        assert second.volume_loader is not None
        second.volume_loader.shutdown()

    # Signed in the workstation, the reading arrives signed, at the same time.
    monkeypatch.setattr(QMessageBox, "question", lambda *_args: YES)
    assert window.sign_reading()
    qtbot.waitUntil(lambda: window.document.locked, timeout=10_000)
    signed_url = _round_trip(first_store.url, phantom["folder"], tmp_path / "signed")
    with open_store(signed_url) as signed_store:
        record = signed_store.readings.record(PATIENT, measured.criteria, READER)
    signed = first_store.readings.record(PATIENT, measured.criteria, READER)
    assert signed.status is record.status is ReadingStatus.SIGNED
    assert (record.signed_by, record.signed_at) == (READER, signed.signed_at)
    if window.volume_loader is not None:
        window.volume_loader.shutdown()
