"""File → Open from PACS… and Send report to PACS… against the session's Orthanc.

The real widgets, driven as a reader would: the menu action, the server chooser,
the query fields, Search, the results table, Retrieve and open (the patient
opens and its images load), Cancel, and Send (the SR of each visit is found on
the server afterwards).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu, QMessageBox

from recist_app.environment import PACS_SETTINGS_ENV
from recist_app.exchange import unread_reading_from_ground_truth
from recist_app.imaging import GROUND_TRUTH_NAME, write_demo_data
from recist_app.pacs import SeriesFolder
from recist_app.recist import Reading
from recist_app.store import Store, open_store
from recist_app.ui.document import open_document
from recist_app.ui.main_window import MainWindow
from recist_app.ui.pacs import OpenFromPacsDialog, SendReportDialog
from recist_app.workflows.reading_import import import_reading_file
from recist_app.workflows.reading_session import ReadingSession
from tests.orthanc import DEMO_GEOMETRY, ORTHANC_PASSWORD, ORTHANC_USER, free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pytestqt.qtbot import QtBot

    from tests.orthanc import DemoOnServer

READ = "DEMO-HCC-001"
UNREAD = "DEMO-HCC-002"
DEMO_READER = "demo-radiologist"


@pytest.fixture
def pacs_settings(
    orthanc: DemoOnServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    path = tmp_path / "pacs.toml"
    path.write_text(
        f"""
download_folder = "{tmp_path / "downloads"}"

[servers.web]
url = "{orthanc.server.dicomweb_url}"
username = "{ORTHANC_USER}"
password = "{ORTHANC_PASSWORD}"

[servers.dimse]
url = "{orthanc.server.dimse_url}"
""",
        encoding="utf-8",
    )
    monkeypatch.setenv(PACS_SETTINGS_ENV, str(path))
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'readings.sqlite3'}") as opened:
        yield opened


@pytest.fixture
def workstation(
    qtbot: QtBot, store: Store, pacs_settings: Path
) -> Iterator[MainWindow]:
    """The workstation on an empty database, reading as the demo reader."""
    session = ReadingSession(store, user="dr-test")
    document = open_document(
        Reading(patient_id="NEW-PATIENT", reader=DEMO_READER), session
    )
    window = MainWindow(document, {})
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    yield window
    if window.volume_loader is not None:
        window.volume_loader.shutdown()


def _trigger(window: MainWindow, text: str) -> None:
    menus = [a.menu() for a in window.menuBar().actions() if a.text() == "&File"]
    file_menu = menus[0]
    assert isinstance(file_menu, QMenu)
    (action,) = [a for a in file_menu.actions() if a.text() == text]
    assert action.isEnabled()
    action.trigger()


def _open_dialog(qtbot: QtBot, window: MainWindow) -> OpenFromPacsDialog:
    _trigger(window, "Open from &PACS…")
    dialog = window.findChild(OpenFromPacsDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def _search(
    qtbot: QtBot, dialog: OpenFromPacsDialog, server: str, patient_id: str
) -> None:
    dialog.server_combo.setCurrentIndex(dialog.server_combo.findText(server))
    QTest.keyClicks(dialog.patient_id_edit, patient_id)
    QTest.mouseClick(dialog.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=20_000)


def _warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, _title, text: shown.append(text)
    )
    return shown


@pytest.mark.parametrize("server", ["web", "dimse"])
def test_open_from_pacs_retrieves_the_patient_opens_it_and_its_images_load(
    qtbot: QtBot,
    workstation: MainWindow,
    store: Store,
    orthanc: DemoOnServer,
    server: str,
) -> None:
    # The unread patient's reading waits for its images, visits assigned.
    truth = json.loads(
        (orthanc.patients[UNREAD] / GROUND_TRUTH_NAME).read_text(encoding="utf-8")
    )
    store.readings.save(
        unread_reading_from_ground_truth(truth, reader=DEMO_READER), user="dr-test"
    )
    dialog = _open_dialog(qtbot, workstation)
    assert dialog.server_combo.count() == 2
    _search(qtbot, dialog, server, UNREAD)
    assert dialog.table.rowCount() == 3
    cells = [dialog.table.item(row, 7) for row in range(3)]
    uids = [cell.text() for cell in cells if cell is not None]
    assert uids == list(orthanc.study_uids[UNREAD])
    dialog.table.selectAll()
    assert dialog.retrieve_button.isEnabled()
    QTest.mouseClick(dialog.retrieve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: workstation.document.reading.patient_id == UNREAD, timeout=30_000
    )
    assert dialog.imported is not None
    assert dialog.imported.summary.files_added == orthanc.images
    assert UNREAD in workstation.windowTitle()
    assert len(workstation.document.reading.timepoints) == 3
    dock = workstation.patients_dock
    assert dock is not None
    assert UNREAD in dock.browser.patient_ids()
    assert len(dock.visit_table.studies) == 3
    # the stored reading's series load from the retrieved files: it can be read
    loader = workstation.volume_loader
    assert loader is not None
    qtbot.waitUntil(lambda: workstation.slice_view.volume is not None, timeout=20_000)
    volume = workstation.slice_view.volume
    assert volume is not None
    assert all(
        Path(path).is_relative_to(dialog._download_folder)
        for path in volume.source_paths
    )
    assert "Retrieved:" in workstation.statusBar().currentMessage()


def test_send_report_to_pacs_stores_each_visits_sr_in_its_study(
    qtbot: QtBot,
    workstation: MainWindow,
    store: Store,
    orthanc: DemoOnServer,
    tmp_path: Path,
) -> None:
    from recist_app.workflows.pacs import PacsSettings, resolve_server, retrieve_patient

    server = resolve_server(orthanc.server.dimse_url, PacsSettings())
    retrieve_patient(
        store, server, patient_id=READ, user="dr-test", download_folder=tmp_path / "dl"
    )
    import_reading_file(store, orthanc.readings[READ], user="dr-test")
    assert workstation.open_patient(READ)
    _trigger(workstation, "Send report to PA&CS…")
    dialog = workstation.findChild(SendReportDialog)
    assert dialog is not None
    dialog.server_combo.setCurrentIndex(dialog.server_combo.findText("web"))
    QTest.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    sent = dialog.sent
    assert sent is not None
    assert len(sent.accepted) == 3
    assert dialog.sent_list.count() == 3
    for item, study_uid in zip(sent.files, orthanc.study_uids[READ], strict=True):
        assert item.study_instance_uid == study_uid
        assert orthanc.server.instance_file(item.sop_instance_uid) is not None
    assert "accepted 3 of 3 reports" in dialog.status_label.text()


def test_cancel_stops_the_retrieval_indexes_nothing_and_the_next_one_resumes(
    qtbot: QtBot,
    workstation: MainWindow,
    store: Store,
    orthanc: DemoOnServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write = SeriesFolder._write

    def slow_write(self: SeriesFolder, uid: str, writer: Any) -> None:
        time.sleep(0.02)  # long enough to press Cancel in the middle
        write(self, uid, writer)

    monkeypatch.setattr(SeriesFolder, "_write", slow_write)
    dialog = _open_dialog(qtbot, workstation)
    _search(qtbot, dialog, "dimse", UNREAD)
    dialog.table.selectAll()
    QTest.mouseClick(dialog.retrieve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.progress.value() >= 5, timeout=20_000)
    assert dialog.cancel_button.isEnabled()
    QTest.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=20_000)
    assert dialog.status_label.text().startswith("Cancelled: nothing was indexed")
    assert store.images.studies(UNREAD) == ()
    assert workstation.document.reading.patient_id == "NEW-PATIENT"
    monkeypatch.setattr(SeriesFolder, "_write", write)
    QTest.mouseClick(dialog.retrieve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: workstation.document.reading.patient_id == UNREAD, timeout=30_000
    )
    assert dialog.imported is not None
    assert dialog.imported.images_resumed >= 5
    assert (
        dialog.imported.images_resumed + dialog.imported.images_retrieved
        == orthanc.images
    )


def test_an_unreachable_server_is_one_line_in_a_message_box(
    qtbot: QtBot, workstation: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = _warnings(monkeypatch)
    dialog = _open_dialog(qtbot, workstation)
    url = f"dimse://PACS@127.0.0.1:{free_port()}"
    dialog.server_combo.setEditText(url)
    QTest.keyClicks(dialog.patient_id_edit, UNREAD)
    QTest.mouseClick(dialog.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(shown), timeout=20_000)
    (message,) = shown
    assert message.startswith(f"{url}: cannot connect")
    assert "\n" not in message
    assert dialog.table.rowCount() == 0
    assert dialog.search_button.isEnabled()
    dialog.date_edit.setText("2024-02-30")
    QTest.mouseClick(dialog.search_button, Qt.MouseButton.LeftButton)
    assert "is not a date" in shown[-1]


def test_a_file_the_import_rejects_is_listed_with_its_reason_after_retrieval(
    qtbot: QtBot,
    workstation: MainWindow,
    orthanc: DemoOnServer,
    tmp_path: Path,
) -> None:
    patient = "SCOUT-UI"
    write_demo_data(tmp_path / "own", seed=77, patient_id=patient, **DEMO_GEOMETRY)
    files = sorted((tmp_path / "own").rglob("*.dcm"))
    scout = dcmread(files[0])
    scout.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
    scout.SeriesInstanceUID = generate_uid()
    scout.SOPInstanceUID = generate_uid()
    scout.file_meta.MediaStorageSOPInstanceUID = scout.SOPInstanceUID
    scout.save_as(tmp_path / "scout.dcm")
    orthanc.server.upload([*files, tmp_path / "scout.dcm"])
    dialog = _open_dialog(qtbot, workstation)
    _search(qtbot, dialog, "web", patient)
    dialog.table.selectAll()
    QTest.mouseClick(dialog.retrieve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: workstation.document.reading.patient_id == patient, timeout=30_000
    )
    boxes = [
        box
        for box in workstation.findChildren(QMessageBox)
        if box.windowTitle() == "Retrieved from PACS"
    ]
    assert len(boxes) == 1
    details = boxes[0].detailedText()
    assert scout.SOPInstanceUID in details
    assert "localizer/scout image (excluded from volumes)" in details
