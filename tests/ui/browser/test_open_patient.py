"""MainWindow.open_patient: switch reading and volumes, load in the background."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from recist_app.exchange import unread_reading_from_ground_truth
from recist_app.workflows.images import import_dicom
from tests.ui.browser.conftest import FIRST_PATIENT

if TYPE_CHECKING:
    from recist_app.imaging import ImageVolume
    from recist_app.store import Store
    from recist_app.ui.main_window import MainWindow


def test_open_patient_shows_the_middle_slice_first_then_fills_in(
    qtbot: Any,
    workstation: MainWindow,
    browser_store: Store,
    phantoms: dict[str, Any],
) -> None:
    truth = phantoms[FIRST_PATIENT]
    import_dicom(browser_store, phantoms["root"] / "first", user="dr-test")
    browser_store.readings.save(
        unread_reading_from_ground_truth(truth, reader=""), user="dr-test"
    )
    loader = workstation.volume_loader
    assert loader is not None
    seen: list[tuple[str, int, bool]] = []

    def on_preview(series_uid: str, volume: ImageVolume) -> None:
        # What the reader sees the moment the middle slice arrives.
        view = workstation.slice_view
        middle = volume.slice_count // 2
        seen.append(("preview", middle, bool(volume.voxels[middle].any())))
        seen.append(("view", view.slice_index, view.volume is volume))

    loader.preview.connect(on_preview)
    loader.loaded.connect(lambda uid, volume: seen.append(("loaded", 0, True)))

    assert workstation.open_patient(FIRST_PATIENT)

    baseline = truth["studies"][0]
    assert workstation.document.reading.patient_id == FIRST_PATIENT
    assert workstation.visit_combo.currentText().startswith("Baseline")
    assert FIRST_PATIENT in workstation.windowTitle()
    assert workstation.slice_view.loading_text == "Loading…"
    qtbot.waitUntil(lambda: not loader.pending, timeout=10_000)
    assert seen[0] == ("preview", 10, True)
    assert seen.index(("loaded", 0, True)) > 0
    view = workstation.slice_view
    assert view.volume is not None
    assert view.volume.series_instance_uid == baseline["series_instance_uid"]
    assert view.slice_index == 10
    assert view.loading_text == ""
    assert view.volume.voxels[0].any()  # filled in
    image = view.grab().toImage()
    centre = image.pixelColor(image.width() // 2, image.height() // 2)
    assert centre.value() > 0  # the slice is painted, not a blank view
    # Every visit's series is loaded, so the follow-up shows at once.
    baseline_volume = view.volume
    follow_up = truth["studies"][1]
    workstation.document.set_visit(follow_up["visit"])
    assert workstation.prior_view.volume is baseline_volume
    shown = workstation.slice_view.volume
    assert shown is not None
    assert shown.series_instance_uid == follow_up["series_instance_uid"]
    assert not np.array_equal(shown.voxels, baseline_volume.voxels)
