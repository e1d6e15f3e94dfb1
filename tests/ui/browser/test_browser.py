"""The patient list: import (menu, drop, cancel), thumbnails, visits, switching."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QPushButton

from recist_app.imaging import (
    WINDOW_PRESETS,
    apply_window,
    load_volume,
    series_window_presets,
)
from recist_app.recist import Reading
from recist_app.ui.browser.visit_table import NOT_READ
from tests.ui.browser.conftest import FIRST_PATIENT, SECOND_PATIENT
from tests.ui.conftest import wait_saved

if TYPE_CHECKING:
    from pathlib import Path

    from PySide6.QtWidgets import QTreeWidgetItem

    from recist_app.store import Store
    from recist_app.ui.browser.patient_browser import PatientsDock
    from recist_app.ui.main_window import MainWindow


def _dock(window: MainWindow) -> PatientsDock:
    assert window.patients_dock is not None
    return window.patients_dock


def _import_by_menu(
    qtbot: Any,
    window: MainWindow,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", lambda *_args, **_kwargs: str(folder)
    )
    dock = _dock(window)
    with qtbot.waitSignal(dock.importer.finished, timeout=20_000):
        window.file_menu.actions()[0].trigger()  # File → Import DICOM folder…


def _double_click(qtbot: Any, window: MainWindow, item: QTreeWidgetItem) -> None:
    tree = _dock(window).browser.tree
    tree.scrollToItem(item)
    where = tree.visualItemRect(item).center()
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=where)


def _open_by_double_click(qtbot: Any, window: MainWindow, patient_id: str) -> None:
    item = _dock(window).browser.patient_item(patient_id)
    assert item is not None
    with qtbot.waitSignal(window.patient_opened, timeout=5000):
        _double_click(qtbot, window, item)


def _wait_loaded(qtbot: Any, window: MainWindow) -> None:
    loader = window.volume_loader
    assert loader is not None
    qtbot.waitUntil(lambda: not loader.pending, timeout=15_000)


def test_import_by_menu_lists_the_patient_its_studies_and_thumbnails(
    qtbot: Any,
    workstation: MainWindow,
    phantoms: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert workstation.file_menu.actions()[0].text() == "&Import DICOM folder…"
    browser = _dock(workstation).browser
    assert browser.patient_ids() == []

    _import_by_menu(qtbot, workstation, phantoms["root"] / "first", monkeypatch)

    assert browser.patient_ids() == [FIRST_PATIENT]
    assert "1 patients, 3 studies, 3 series and 60 images added" in (
        workstation.statusBar().currentMessage()
    )
    patient = browser.patient_item(FIRST_PATIENT)
    assert patient is not None
    assert "3 studies" in patient.text(0)
    patient.setExpanded(True)
    studies = [
        child
        for i in range(patient.childCount())
        if (child := patient.child(i)) is not None
    ]
    truth_studies = phantoms[FIRST_PATIENT]["studies"]
    assert [s.text(0)[:10] for s in studies] == [t["date"] for t in truth_studies]
    for study, truth in zip(studies, truth_studies, strict=True):
        assert study.childCount() == 1
        series = study.child(0)
        assert series is not None
        assert series.toolTip(0) == truth["series_instance_uid"]
        assert "20 images" in series.text(0)
    uids = [t["series_instance_uid"] for t in truth_studies]
    qtbot.waitUntil(
        lambda: all(browser.thumbnails.pixmap(uid) is not None for uid in uids),
        timeout=10_000,
    )
    for uid in uids:
        item = browser.series_item(uid)
        assert item is not None
        assert not item.icon(0).isNull()
        pixmap = browser.thumbnails.pixmap(uid)
        assert pixmap is not None
        assert (pixmap.width(), pixmap.height()) == (64, 64)
    # The thumbnail is the middle slice, windowed and shrunk 2x.
    volume = load_volume(phantoms["root"] / "first" / truth_studies[0]["folder"])
    own = series_window_presets(volume)
    window = own[0] if own else WINDOW_PRESETS["soft tissue"]
    expected = apply_window(
        volume.voxels[10][::2, ::2],
        window.center,
        window.width,
        rescale_slope=volume.rescale_slope,
        rescale_intercept=volume.rescale_intercept,
    )
    pixmap = browser.thumbnails.pixmap(uids[0])
    assert pixmap is not None
    image = pixmap.toImage()
    for x, y in ((5, 7), (32, 32), (50, 20)):
        assert image.pixelColor(x, y).red() == expected[y, x]


def test_cancelled_import_adds_nothing(
    qtbot: Any, workstation: MainWindow, browser_store: Store, phantoms: dict[str, Any]
) -> None:
    dock = _dock(workstation)
    with qtbot.waitSignal(dock.importer.cancelled, timeout=20_000) as cancelled:
        assert dock.import_folder(phantoms["root"])
        dialog = dock.importer.dialog
        assert dialog is not None
        assert dialog.isVisible()
        (button,) = dialog.findChildren(QPushButton)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert cancelled.args == [str(phantoms["root"])]
    assert dock.importer.dialog is None
    assert "cancelled; nothing was added" in workstation.statusBar().currentMessage()
    assert browser_store.patients() == ()
    assert dock.browser.patient_ids() == []


# PySide6 marks QDragEnterEvent's only (QPoint) constructor deprecated.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_dropping_a_folder_on_the_window_imports_it(
    qtbot: Any, workstation: MainWindow, phantoms: dict[str, Any]
) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(phantoms["root"] / "second"))])
    enter = QDragEnterEvent(
        QPoint(300, 300),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    # A real drag enters the window first; Qt then sends it the drop.
    QApplication.sendEvent(workstation, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(QPoint(300, 300)),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    dock = _dock(workstation)
    with qtbot.waitSignal(dock.importer.finished, timeout=20_000):
        QApplication.sendEvent(workstation, drop)
    assert drop.isAccepted()
    assert dock.browser.patient_ids() == [SECOND_PATIENT]


def test_assign_visits_open_and_switch_patients_autosaves_and_reopens(
    qtbot: Any,
    workstation: MainWindow,
    browser_store: Store,
    phantoms: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _import_by_menu(qtbot, workstation, phantoms["root"], monkeypatch)
    dock = _dock(workstation)
    assert dock.browser.patient_ids() == [FIRST_PATIENT, SECOND_PATIENT]
    _open_by_double_click(qtbot, workstation, FIRST_PATIENT)
    table = dock.visit_table
    assert workstation.document.reading.patient_id == FIRST_PATIENT
    assert table.table.rowCount() == 3
    assert [table.visit_combo(r).currentText() for r in range(3)] == [NOT_READ] * 3

    qtbot.mouseClick(table.order_button, Qt.MouseButton.LeftButton)

    truth = phantoms[FIRST_PATIENT]["studies"]
    reading = workstation.document.reading
    assert [t.visit for t in reading.timepoints] == [
        "BASELINE",
        "FOLLOW-UP 1",
        "FOLLOW-UP 2",
    ]
    assert [t.date.isoformat() for t in reading.timepoints] == [
        t["date"] for t in truth
    ]
    assert [t.series_instance_uid for t in reading.timepoints] == [
        t["series_instance_uid"] for t in truth
    ]
    assert reading.timepoints[0].is_baseline
    assert reading.timepoints[0].slice_thickness_mm == 5.0
    wait_saved(qtbot, workstation)
    assert browser_store.readings.load(FIRST_PATIENT) == reading  # autosaved
    assert workstation.visit_combo.count() == 3
    _wait_loaded(qtbot, workstation)
    shown = workstation.slice_view.volume
    assert shown is not None
    assert shown.series_instance_uid == truth[0]["series_instance_uid"]

    # Rename the last visit by typing, as a reader would.
    combo = table.visit_combo(2)
    line_edit = combo.lineEdit()
    assert line_edit is not None
    line_edit.selectAll()
    qtbot.keyClicks(line_edit, "week 16")
    qtbot.keyClick(line_edit, Qt.Key.Key_Return)
    assert workstation.document.reading.timepoints[2].visit == "WEEK 16"
    assert table.visit_combo(2).currentText() == "WEEK 16"
    workstation.undo_action.trigger()
    assert workstation.document.reading.timepoints[2].visit == "FOLLOW-UP 2"
    assert table.visit_combo(2).currentText() == "FOLLOW-UP 2"
    workstation.redo_action.trigger()
    wait_saved(qtbot, workstation)
    assert browser_store.readings.load(FIRST_PATIENT).timepoints[2].visit == "WEEK 16"

    # A date before the baseline is refused in one line; nothing changes.
    before = workstation.document.reading
    editor = table.date_edit(1)
    editor.setFocus()
    editor.setDate(editor.date().addYears(-1))
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert workstation.document.reading == before
    assert table.message.text().startswith("visit FOLLOW-UP 1: date ")
    assert table.message.text().endswith(
        f"is not after the baseline ({truth[0]['date']})"
    )
    assert table.date_edit(1).date().toString("yyyy-MM-dd") == truth[1]["date"]

    # Switch patient: the second one opens without visits, then gets its own.
    _open_by_double_click(qtbot, workstation, SECOND_PATIENT)
    assert workstation.document.reading == Reading(patient_id=SECOND_PATIENT)
    assert workstation.document.undo_stack.count() == 0
    assert workstation.slice_view.slice_text() == ""  # nothing to show yet
    qtbot.mouseClick(table.order_button, Qt.MouseButton.LeftButton)
    second_truth = phantoms[SECOND_PATIENT]["studies"]
    _wait_loaded(qtbot, workstation)
    shown = workstation.slice_view.volume
    assert shown is not None
    assert shown.series_instance_uid == second_truth[0]["series_instance_uid"]
    assert shown.patient_id == SECOND_PATIENT

    # Back to the first: its visits come back from the database.
    _open_by_double_click(qtbot, workstation, FIRST_PATIENT)
    reopened = workstation.document.reading
    assert [t.visit for t in reopened.timepoints] == [
        "BASELINE",
        "FOLLOW-UP 1",
        "WEEK 16",
    ]
    _wait_loaded(qtbot, workstation)
    shown = workstation.slice_view.volume
    assert shown is not None
    assert shown.patient_id == FIRST_PATIENT
    assert {r.patient_id for r in browser_store.readings.list()} == {
        FIRST_PATIENT,
        SECOND_PATIENT,
    }
