"""File → Export… and File → Import DICOM SR… driven through the real widgets."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from recist_app.exchange.sr import build_measurement_report
from recist_app.store import Store
from recist_app.ui.document import open_document
from recist_app.ui.export_dialog import ExportDialog
from recist_app.ui.main_window import MainWindow
from recist_app.workflows.images import import_dicom
from recist_app.workflows.reading_session import ReadingSession
from tests.exchange.demo import write_demo_patient
from tests.ui.conftest import LESION_SLICE, two_visit_reading, wait_saved
from tests.ui.gestures import draw_bidirectional

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot


def _file_action(window: MainWindow, text: str) -> None:
    menus = [a.menu() for a in window.menuBar().actions() if a.text() == "&File"]
    file_menu = menus[0]
    assert isinstance(file_menu, QMenu)
    (action,) = [a for a in file_menu.actions() if a.text() == text]
    action.trigger()


def _open_dialog(qtbot: QtBot, window: MainWindow) -> ExportDialog:
    _file_action(window, "E&xport…")
    dialog = window.findChild(ExportDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def _warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, _title, text: shown.append(text)
    )
    return shown


def _choose(qtbot: QtBot, dialog: ExportDialog, wanted: set[str], folder: Path) -> None:
    for fmt, box in dialog.format_boxes.items():
        if box.isChecked() != (fmt.value in wanted):
            QTest.mouseClick(box, Qt.MouseButton.LeftButton)
    dialog.folder_edit.selectAll()
    QTest.keyClicks(dialog.folder_edit, str(folder))


def test_export_dialog_writes_the_chosen_formats_and_lists_them(
    qtbot: QtBot, stored_window: MainWindow, tmp_path: Path
) -> None:
    window = stored_window
    window.slice_view.set_slice_index(LESION_SLICE)
    draw_bidirectional(window.slice_view, radius_mm=12.0)
    # WEEK 8 read too: a visit not read has no response and so no RS record
    (target,) = window.document.reading.lesions
    window.document.set_visit("WEEK 8")
    window.lesion_panel.set_state(target.lesion_id, "too_small")
    dialog = _open_dialog(qtbot, window)
    assert dialog.this_patient.isChecked()
    assert dialog.all_patients.isEnabled()
    out = tmp_path / "exports"
    _choose(qtbot, dialog, {"json", "csv", "sdtm", "pdf"}, out)
    QTest.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    shown = [dialog.files_list.item(i).text() for i in range(dialog.files_list.count())]
    expected = {
        "json/UI-TEST.reading.json",
        "json/UI-TEST.assessment.json",
        "csv/responses.csv",
        "csv/lesions.csv",
        "sdtm/tu.csv",
        "sdtm/rs.xpt",
        "sdtm/define.csv",
        "pdf/UI-TEST.report.pdf",
    }
    assert expected <= set(shown)
    assert [n for n in shown if not (out / n).is_file()] == []
    assert dialog.status_label.text() == f"Wrote {len(shown)} files to {out}"
    rs = (out / "sdtm" / "rs.csv").read_text(encoding="utf-8")
    assert "RECIST 1.1" in rs
    assert "iRECIST" in rs


def test_export_dialog_remembers_the_folder_and_reports_errors(
    qtbot: QtBot,
    session: ReadingSession,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PySide6.QtCore import QSettings

    other = dataclasses.replace(two_visit_reading(), patient_id="OTHER-PATIENT")
    store.readings.save(other, user="dr-test")
    store.readings.save(two_visit_reading(), user="dr-test")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    document = open_document(two_visit_reading(), session)
    window = MainWindow(document, {}, settings=settings)
    qtbot.addWidget(window)
    window.show()
    monkeypatch.delenv("RECIST_APP_DEID_KEY", raising=False)
    shown = _warnings(monkeypatch)

    dialog = _open_dialog(qtbot, window)
    out = tmp_path / "all"
    _choose(qtbot, dialog, {"csv"}, out)
    QTest.mouseClick(dialog.all_patients, Qt.MouseButton.LeftButton)
    QTest.mouseClick(dialog.deidentify_box, Qt.MouseButton.LeftButton)
    QTest.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running and bool(shown), timeout=30_000)
    assert shown == [
        "de-identification needs the site's key: a key file, or $RECIST_APP_DEID_KEY"
    ]
    QTest.mouseClick(dialog.deidentify_box, Qt.MouseButton.LeftButton)
    QTest.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    responses = (out / "csv" / "responses.csv").read_text(encoding="utf-8")
    assert "OTHER-PATIENT" in responses
    assert "UI-TEST" in responses
    dialog.close()

    # SR without any image: the error is one readable line in a dialog
    again = _open_dialog(qtbot, window)
    assert again.folder_edit.text() == str(out)
    _choose(qtbot, again, {"sr"}, tmp_path / "sr")
    QTest.mouseClick(again.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not again.running, timeout=30_000)
    assert shown[-1].startswith("the SR export needs the measured images")
    assert again.status_label.text().startswith(
        "Export failed: the SR export needs the measured images"
    )
    assert again.files_list.count() == 0


def test_export_dialog_writes_the_trial_adam_datasets(
    qtbot: QtBot,
    stored_window: MainWindow,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import csv
    import datetime

    from recist_app.endpoints import ClinicalRecord, write_clinical_csv
    from recist_app.workflows.endpoints import import_clinical

    shown = _warnings(monkeypatch)
    stored_window.slice_view.set_slice_index(LESION_SLICE)
    draw_bidirectional(stored_window.slice_view, radius_mm=12.0)
    wait_saved(qtbot, stored_window)
    dialog = _open_dialog(qtbot, stored_window)
    out = tmp_path / "exports"
    _choose(qtbot, dialog, {"adam"}, out)
    QTest.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running and bool(shown), timeout=30_000)
    assert shown[-1].startswith("database ")  # no clinical data yet: one line
    assert "no clinical data" in shown[-1]

    clinical = tmp_path / "clinical.csv"
    write_clinical_csv(
        [
            ClinicalRecord(
                patient_id="UI-TEST",
                first_dose_date=datetime.date(2024, 1, 10),
                data_cutoff_date=datetime.date(2024, 12, 31),
            )
        ],
        clinical,
    )
    import_clinical(store, clinical, user="dm")
    QTest.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    listed = {
        dialog.files_list.item(i).text() for i in range(dialog.files_list.count())
    }
    assert {"adam/adsl.csv", "adam/adtte.xpt", "adam/define.csv"} <= listed
    assert "adam/adae.csv" not in listed  # no adverse events imported
    with (out / "adam" / "adsl.csv").open(newline="", encoding="utf-8") as handle:
        (adsl,) = list(csv.DictReader(handle))
    assert (adsl["USUBJID"], adsl["TRTSDT"], adsl["SAFFL"]) == (
        "UI-TEST",
        "2024-01-10",
        "Y",
    )


def test_import_dicom_sr_from_the_file_menu(
    qtbot: QtBot, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = write_demo_patient(tmp_path / "demo", visits=2)
    import_dicom(store, tmp_path / "demo", user="importer")
    visit = demo.reading.timepoints[1].visit
    headers = {uid: demo.header(uid) for uid in demo.images}
    sr_path = tmp_path / "follow-up.dcm"
    build_measurement_report(demo.reading, visit, headers).save_as(sr_path)
    emptied = dataclasses.replace(
        demo.reading,
        timepoints=(
            demo.reading.timepoints[0],
            dataclasses.replace(demo.reading.timepoints[1], measurements=()),
        ),
    )
    session = ReadingSession(store, user="dr-test")
    window = MainWindow(open_document(emptied, session), {})
    qtbot.addWidget(window)
    window.show()
    chosen = [str(sr_path)]
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", lambda *_args: (chosen, "DICOM SR")
    )
    shown = _warnings(monkeypatch)
    _file_action(window, "Import DICOM &SR…")
    assert window.sr_importer.wait()
    qtbot.waitUntil(
        lambda: window.statusBar().currentMessage() == "DICOM SR measurements imported"
    )
    assert shown == []

    def summary(reading: object) -> list[tuple[object, ...]]:
        return [
            (m.lesion_id, m.long_axis_mm, m.short_axis_mm, m.geometry.sop_instance_uid)
            for m in reading.timepoint(visit).measurements  # type: ignore[attr-defined]
            if m.geometry is not None
        ]

    expected = summary(demo.reading)
    assert len(expected) == 3
    assert summary(window.document.reading) == expected
    wait_saved(qtbot, window)
    saved = store.readings.load(emptied.patient_id, emptied.criteria, emptied.reader)
    assert saved.timepoint(visit).measurement("T01") is not None
    window.document.undo_stack.undo()
    assert window.document.reading.timepoint(visit).measurements == ()

    image = next(iter(demo.images.values()))
    chosen[:] = [str(image)]
    _file_action(window, "Import DICOM &SR…")
    qtbot.waitUntil(lambda: bool(shown))
    assert shown == [f"{image}: not a DICOM SR (CT)"]
