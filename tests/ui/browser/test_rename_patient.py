"""The patient list's "Rename or merge patient…" on an anonymised import."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import pydicom
from PySide6.QtWidgets import QInputDialog

from recist_app.imaging import write_phantom_series
from recist_app.workflows.images import import_dicom
from tests.imaging.conftest import liver_geometry

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from recist_app.store import Store
    from recist_app.ui.main_window import MainWindow


def _anonymised_series(folder: Path) -> None:
    series = write_phantom_series(
        folder,
        geometry=liver_geometry(rows=16, columns=16, slice_count=4),
        noise_hu=3.0,
        series_description="CT 5mm",
        lesions=(),
    )
    for name in series.paths:
        dataset = pydicom.dcmread(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dataset.PatientID = ""
            dataset.save_as(name)


def test_the_reader_names_the_placeholder_patient_from_its_context_menu(
    qtbot: Any,
    workstation: MainWindow,
    browser_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _anonymised_series(tmp_path / "dicom")
    import_dicom(browser_store, tmp_path / "dicom", user="dr-test")
    dock = workstation.patients_dock
    assert dock is not None
    dock.browser.refresh()
    (placeholder,) = [p for p in dock.browser.patient_ids() if p.startswith("ANON-")]
    item = dock.browser.patient_item(placeholder)
    assert item is not None
    dock.browser.tree.setCurrentItem(item)
    assert dock.browser.rename_action in dock.browser.tree.actions()
    monkeypatch.setattr(
        QInputDialog, "getText", lambda *_args, **_kwargs: ("HCC-042", True)
    )
    with qtbot.waitSignal(dock.message, timeout=10_000) as shown:
        dock.browser.rename_action.trigger()
    assert shown.args == [f"Patient {placeholder} renamed HCC-042", 8000]
    assert "HCC-042" in dock.browser.patient_ids()
    assert placeholder not in dock.browser.patient_ids()
    assert [
        s.series[0].slice_count for s in browser_store.images.studies("HCC-042")
    ] == [4]
