"""The patient list: patients → studies → series with thumbnails, and import.

:class:`PatientBrowser` lists what the database holds; double-clicking a patient
(or any of its studies or series) asks to open it. The visit table under it
assigns the open patient's studies to visits. :class:`PatientsDock` holds both,
File → Import DICOM folder… and the filter that takes folders dropped onto the
main window; the window connects its signals (it is given what it needs, never
the window).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from recist_app.ui.background import TaskRunner
from recist_app.ui.browser.importer import DicomImporter
from recist_app.ui.browser.thumbnails import THUMBNAIL_SIZE_PX, ThumbnailCache
from recist_app.ui.browser.visit_table import VisitTable
from recist_app.ui.error_dialog import show_error, show_message
from recist_app.workflows.patients import PatientRenamed, rename_patient
from recist_app.workflows.worklist import (
    central_review_by_patient,
    patient_list,
    patient_studies,
)

if TYPE_CHECKING:
    from recist_app.ui.document import ReadingDocument
    from recist_app.workflows.database import Store
    from recist_app.workflows.images import ImportSummary
    from recist_app.workflows.worklist import StoredSeries, StoredStudy

__all__ = ["PatientBrowser", "PatientsDock"]

_CENTRAL_SEPARATOR = "   — "
_PATIENT_ROLE = Qt.ItemDataRole.UserRole
_SERIES_ROLE = Qt.ItemDataRole.UserRole + 1


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _study_text(study: StoredStudy) -> str:
    date = study.study_date.isoformat() if study.study_date else "no date"
    return f"{date}  {study.description or 'study'}  ({len(study.series)} series)"


def _series_text(series: StoredSeries) -> str:
    number = f"#{series.series_number} " if series.series_number is not None else ""
    description = series.description
    if not description.upper().startswith(series.modality.upper()):
        description = f"{series.modality} {description}"
    phase = f", {series.phase_hint}" if series.phase_hint else ""
    return f"{number}{description}".strip() + f"\n{series.slice_count} images{phase}"


class PatientBrowser(QWidget):
    """Tree of the database's patients, their studies and series (thumbnails).

    Signals
    -------
    patient_activated(str)
        A patient (or one of its studies or series) was double-clicked.
    rename_requested(str)
        "Rename or merge patient…" was chosen in a patient's context menu.
    """

    patient_activated = Signal(str)
    rename_requested = Signal(str)

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        # each central reader's status and the discordance, computed in the
        # background (it reads every central reading's responses)
        self._central_runner = TaskRunner("patient-list-central", self)
        self.central_review: dict[str, str] = {}
        self.thumbnails = ThumbnailCache(store, self)
        self.thumbnails.ready.connect(self._thumbnail_ready)
        self._series_items: dict[str, QTreeWidgetItem] = {}
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setIconSize(QSize(THUMBNAIL_SIZE_PX, THUMBNAIL_SIZE_PX))
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        self.tree.itemExpanded.connect(self._expanded)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.rename_action = QAction("Rename or merge patient…", self.tree)
        self.rename_action.setToolTip(
            "Give an imaged patient (an ANON-… placeholder, say) its real id, or "
            "merge it into an existing patient"
        )
        self.rename_action.triggered.connect(self._rename_chosen)
        self.tree.addAction(self.rename_action)
        self.import_button = QPushButton("Import DICOM folder…")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.import_button)

    # ------------------------------------------------------------ content
    def refresh(self) -> None:
        """Reload the patient list from the database (keeps what was expanded)."""
        expanded = {
            item.data(0, _PATIENT_ROLE)
            for item in self._patient_items()
            if item.isExpanded()
        }
        self.tree.clear()
        self._series_items.clear()
        try:
            patients = patient_list(self._store)
        except Exception as error:
            show_error(self, "Patient list not loaded", error)
            return
        for patient in patients:
            item = QTreeWidgetItem(
                [
                    f"{patient.patient_id}   "
                    f"{_count(patient.study_count, 'study', 'studies')}, "
                    f"{_count(patient.reading_count, 'reading', 'readings')}"
                ]
            )
            item.setData(0, _PATIENT_ROLE, patient.patient_id)
            item.setChildIndicatorPolicy(
                QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator
                if patient.study_count
                else QTreeWidgetItem.ChildIndicatorPolicy.DontShowIndicator
            )
            self.tree.addTopLevelItem(item)
            if patient.patient_id in expanded:
                item.setExpanded(True)
        self._show_central_review(self.central_review)
        store = self._store
        self._central_runner.submit(
            lambda _context: central_review_by_patient(store),
            done=self._show_central_review,
            name="patient-list-central",
        )

    def _show_central_review(self, central: dict[str, str]) -> None:
        """Add each central reader's status and the discordance to the patients."""
        self.central_review = dict(central)
        for item in self._patient_items():
            patient_id = str(item.data(0, _PATIENT_ROLE))
            base = item.text(0).split(_CENTRAL_SEPARATOR)[0]
            text = central.get(patient_id)
            item.setText(0, base if text is None else base + _CENTRAL_SEPARATOR + text)
            item.setToolTip(0, text or "")

    def _patient_items(self) -> list[QTreeWidgetItem]:
        return [
            item
            for index in range(self.tree.topLevelItemCount())
            if (item := self.tree.topLevelItem(index)) is not None
        ]

    def patient_ids(self) -> list[str]:
        """The patients listed, in order."""
        return [str(item.data(0, _PATIENT_ROLE)) for item in self._patient_items()]

    def patient_item(self, patient_id: str) -> QTreeWidgetItem | None:
        """The top-level item of ``patient_id``."""
        for item in self._patient_items():
            if item.data(0, _PATIENT_ROLE) == patient_id:
                return item
        return None

    def series_item(self, series_uid: str) -> QTreeWidgetItem | None:
        """The item of a listed (expanded) series."""
        return self._series_items.get(series_uid)

    def select_patient(self, patient_id: str) -> None:
        """Select and expand ``patient_id`` (the patient just opened)."""
        item = self.patient_item(patient_id)
        if item is not None:
            self.tree.setCurrentItem(item)
            item.setExpanded(True)

    def _expanded(self, item: QTreeWidgetItem) -> None:
        if item.parent() is not None or item.childCount():
            return
        patient_id = str(item.data(0, _PATIENT_ROLE))
        try:
            studies = patient_studies(self._store, patient_id)
        except Exception as error:
            show_error(self, f"Studies of {patient_id} not loaded", error)
            return
        for study in studies:
            study_item = QTreeWidgetItem(item, [_study_text(study)])
            study_item.setData(0, _PATIENT_ROLE, patient_id)
            study_item.setToolTip(0, study.study_instance_uid)
            study_item.setExpanded(True)
            for series in study.series:
                series_item = QTreeWidgetItem(study_item, [_series_text(series)])
                series_item.setData(0, _PATIENT_ROLE, patient_id)
                series_item.setData(0, _SERIES_ROLE, series.series_instance_uid)
                series_item.setToolTip(0, series.series_instance_uid)
                self._series_items[series.series_instance_uid] = series_item
                self._show_thumbnail(series.series_instance_uid)
                self.thumbnails.request(series.series_instance_uid)

    def _show_thumbnail(self, series_uid: str) -> None:
        item = self._series_items.get(series_uid)
        pixmap = self.thumbnails.pixmap(series_uid)
        if item is not None and pixmap is not None:
            item.setIcon(0, pixmap)

    def _thumbnail_ready(self, series_uid: str) -> None:
        self._show_thumbnail(series_uid)

    def _rename_chosen(self) -> None:
        item = self.tree.currentItem()
        patient_id = item.data(0, _PATIENT_ROLE) if item is not None else None
        if isinstance(patient_id, str):
            self.rename_requested.emit(patient_id)

    def _double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        patient_id = item.data(0, _PATIENT_ROLE)
        if isinstance(patient_id, str):
            self.patient_activated.emit(patient_id)

    def shutdown(self) -> None:
        """Stop the thumbnail and central-review workers (the window is closing)."""
        self.thumbnails.shutdown()
        self._central_runner.shutdown()


class DropFilter(QObject):
    """Lets a window take folders dropped onto it: each becomes an import."""

    def __init__(self, dock: PatientsDock) -> None:
        super().__init__(dock)
        self._dock = dock

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(event, QDragEnterEvent | QDropEvent):
            paths = [
                Path(url.toLocalFile())
                for url in event.mimeData().urls()
                if url.isLocalFile()
            ]
            if not paths:
                return False
            event.acceptProposedAction()
            if isinstance(event, QDropEvent) and event.type() == QEvent.Type.Drop:
                self._dock.import_folder(paths[0])
            return True
        return super().eventFilter(watched, event)


class PatientsDock(QDockWidget):
    """The left dock: patient list over the open patient's visit table.

    Parameters
    ----------
    store
        The reading database.
    user
        Who imports, for the audit trail.
    document
        The open reading (the visit table edits it).
    parent
        The main window (dialogs open over it).

    Signals
    -------
    open_requested(str)
        The reader double-clicked a patient.
    message(str, int)
        A status line and how long to show it (ms).
    """

    open_requested = Signal(str)
    message = Signal(str, int)

    def __init__(
        self, store: Store, *, user: str, document: ReadingDocument, parent: QWidget
    ) -> None:
        super().__init__("Patients", parent)
        self._store = store
        self._document = document
        self.setObjectName("dock_patients")
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.browser = PatientBrowser(store)
        self.visit_table = VisitTable(document)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.browser)
        splitter.addWidget(self.visit_table)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.setWidget(splitter)
        self._user = user
        self._runner = TaskRunner("patients", self)
        self.browser.rename_requested.connect(self.rename_patient)
        self.importer = DicomImporter(store, user=user, parent=parent)
        self.importer.finished.connect(self._imported)
        self.importer.cancelled.connect(self._import_cancelled)
        self.importer.failed.connect(self._import_failed)
        self.import_action = QAction("&Import DICOM folder…", parent)
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.setToolTip("Index a DICOM folder into the database")
        self.import_action.triggered.connect(self.choose_folder)
        self.browser.import_button.clicked.connect(self.choose_folder)
        self.browser.patient_activated.connect(self.open_requested)
        self.drop_filter = DropFilter(self)
        self.browser.refresh()
        self._load_studies(document.reading.patient_id)

    def choose_folder(self) -> None:
        """Ask for a folder, then import it."""
        folder = QFileDialog.getExistingDirectory(
            self.parentWidget(), "Import DICOM folder", str(Path.home())
        )
        if folder:
            self.import_folder(Path(folder))

    def import_folder(self, folder: Path) -> bool:
        """Import ``folder`` with a progress dialog; False if one is running."""
        if not self.importer.start(folder):
            self.message.emit("An import is running; wait for it or cancel it", 6000)
            return False
        return True

    def patient_opened(self, patient_id: str) -> None:
        """Show the patient the window just opened (listing it if it is new)."""
        if patient_id not in self.browser.patient_ids():
            self.browser.refresh()
        self.browser.select_patient(patient_id)
        self._load_studies(patient_id)

    def shutdown(self) -> None:
        """Cancel the import and stop the workers (the window is closing)."""
        self.importer.cancel()
        self.importer.wait()
        self.browser.shutdown()

    def _imported(self, summary: ImportSummary) -> None:
        self.browser.refresh()
        self._load_studies(self._document.reading.patient_id)
        self.message.emit(f"Imported: {summary}", 10_000)
        if summary.skipped or summary.rejected or summary.notes:
            lines = [*summary.notes, *summary.skipped, *summary.rejected]
            box = QMessageBox(self.parentWidget())
            box.setIcon(QMessageBox.Icon.Information)
            box.setWindowTitle("Import finished")
            box.setText(str(summary))
            box.setDetailedText("\n".join(lines))
            box.open()

    def _import_cancelled(self, folder: str) -> None:
        self.message.emit(f"Import of {folder} cancelled; nothing was added", 8000)

    def _import_failed(self, message: str) -> None:
        QMessageBox.warning(self.parentWidget(), "Import failed", message)

    def rename_patient(self, patient_id: str) -> bool:
        """Ask for ``patient_id``'s real id, then rename or merge it (background)."""
        new_id, accepted = QInputDialog.getText(
            self.parentWidget(),
            "Rename or merge patient",
            f"New patient id for {patient_id} (an id already in the database "
            "merges the studies into that patient):",
        )
        if not accepted:
            return False
        self._runner.submit(
            lambda _context: rename_patient(
                self._store, patient_id, new_id, user=self._user
            ),
            done=self._renamed,
            failed=lambda message: show_message(
                self.parentWidget(), "Patient not renamed", message
            ),
            name="renaming a patient",
        )
        return True

    def _renamed(self, done: PatientRenamed) -> None:
        self.browser.refresh()
        self.browser.select_patient(done.new_patient_id)
        text = str(done)
        self.message.emit(text[:1].upper() + text[1:], 8000)

    def _load_studies(self, patient_id: str) -> None:
        try:
            studies = patient_studies(self._store, patient_id)
        except Exception as error:
            show_error(self, f"Studies of {patient_id} not loaded", error)
            return
        self.visit_table.set_studies(studies)
