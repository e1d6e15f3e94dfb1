"""File → Open from PACS…: find a patient's studies on a PACS and retrieve them.

The reader chooses a server (configured in the PACS settings file, or typed as
a URL), queries by patient id or name, study dates and modality, picks studies
of one patient in the results table and retrieves them. Queries and the
retrieval run in the background (:class:`~recist_app.ui.background.TaskRunner`)
through :mod:`recist_app.workflows.pacs`, the workflow of ``recist-app pacs
find`` and ``recist-app import --from``; the progress bar counts images, Cancel
stops the retrieval (nothing is indexed; the images already downloaded are
kept, so retrieving again resumes). When it is done the dialog emits
:attr:`OpenFromPacsDialog.retrieved` and the main window opens the patient.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from recist_app.ui.background import TaskRunner
from recist_app.ui.error_dialog import show_message
from recist_app.workflows.errors import WorkflowError, describe_error
from recist_app.workflows.pacs import (
    StudyQuery,
    find_studies,
    parse_date_range,
    resolve_server,
    retrieve_patient,
)

if TYPE_CHECKING:
    from pathlib import Path

    from recist_app.ui.background import Task
    from recist_app.workflows.database import Store
    from recist_app.workflows.pacs import (
        PacsImport,
        PacsServer,
        PacsSettings,
        StudyMatch,
    )

__all__ = ["MODALITIES", "OpenFromPacsDialog", "server_choice"]

MODALITIES = ("", "CT", "MR", "PT", "US", "CR", "DX", "NM")
_COLUMNS = (
    "Patient",
    "Name",
    "Date",
    "Modalities",
    "Series",
    "Images",
    "Description",
    "StudyInstanceUID",
)


def server_choice(settings: PacsSettings, parent: QWidget | None = None) -> QComboBox:
    """An editable server chooser: the configured servers, or a URL typed in."""
    combo = QComboBox(parent)
    combo.setEditable(True)
    combo.setObjectName("server")
    combo.setMinimumContentsLength(36)
    for server in settings.servers:
        combo.addItem(server.name)
        combo.setItemData(combo.count() - 1, server.url, Qt.ItemDataRole.ToolTipRole)
    line = combo.lineEdit()
    if line is not None:
        line.setPlaceholderText(
            "a configured server, http(s)://host/dicom-web or dimse://AE@host:port"
        )
    return combo


class OpenFromPacsDialog(QDialog):
    """Query a PACS, show the studies found, retrieve those chosen.

    Parameters
    ----------
    store
        The reading database the studies are indexed into.
    user
        Who imports, for the audit trail.
    settings
        The PACS settings (servers, our AE title).
    download_folder
        Where retrieved images are kept.

    Signals
    -------
    retrieved(str, object)
        The patient id and the :class:`~recist_app.workflows.pacs.PacsImport`
        once the studies are indexed.
    """

    retrieved = Signal(str, object)

    def __init__(
        self,
        store: Store,
        *,
        user: str,
        settings: PacsSettings,
        download_folder: Path,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open from PACS")
        self.setObjectName("open_from_pacs")
        self._store = store
        self._user = user
        self._settings = settings
        self._download_folder = download_folder
        self._runner = TaskRunner("pacs", self)
        self._task: Task[Any] | None = None
        self._server: PacsServer | None = None
        self.studies: tuple[StudyMatch, ...] = ()
        self.imported: PacsImport | None = None

        self.server_combo = server_choice(settings, self)
        self.patient_id_edit = QLineEdit()
        self.patient_id_edit.setObjectName("patient_id")
        self.patient_id_edit.setPlaceholderText("Patient ID (* and ? match anything)")
        self.patient_name_edit = QLineEdit()
        self.patient_name_edit.setObjectName("patient_name")
        self.patient_name_edit.setPlaceholderText("DOE^JANE, or part of it")
        self.date_edit = QLineEdit()
        self.date_edit.setObjectName("study_date")
        self.date_edit.setPlaceholderText("2024-01-01..2024-06-30, or 20240101")
        self.modality_combo = QComboBox()
        self.modality_combo.setObjectName("modality")
        self.modality_combo.setEditable(True)
        self.modality_combo.addItems(MODALITIES)
        self.search_button = QPushButton("Search")
        self.search_button.setObjectName("search")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.search)

        form = QFormLayout()
        form.addRow("Server", self.server_combo)
        form.addRow("Patient ID", self.patient_id_edit)
        form.addRow("Patient name", self.patient_name_edit)
        form.addRow("Study date", self.date_edit)
        form.addRow("Modality", self.modality_combo)

        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setObjectName("studies")
        self.table.setHorizontalHeaderLabels(list(_COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemDoubleClicked.connect(lambda _item: self.retrieve())

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status_label = QLabel("Search the server, then retrieve studies.")
        self.status_label.setObjectName("status")
        self.status_label.setWordWrap(True)
        self.retrieve_button = QPushButton("Retrieve and open")
        self.retrieve_button.setObjectName("retrieve")
        self.retrieve_button.setEnabled(False)
        self.retrieve_button.clicked.connect(self.retrieve)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)

        search_row = QHBoxLayout()
        search_row.addStretch(1)
        search_row.addWidget(self.search_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.retrieve_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(search_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        self.resize(900, 560)

    # ---------------------------------------------------------------- state
    @property
    def running(self) -> bool:
        """Whether a query or a retrieval is in progress."""
        return self._task is not None

    def _busy(self, busy: bool) -> None:
        self.search_button.setEnabled(not busy)
        self.retrieve_button.setEnabled(not busy and bool(self._chosen_rows()))
        self.cancel_button.setEnabled(busy)

    def _chosen_rows(self) -> list[int]:
        return sorted({index.row() for index in self.table.selectedIndexes()})

    def _selection_changed(self) -> None:
        self.retrieve_button.setEnabled(not self.running and bool(self._chosen_rows()))

    def _chosen_server(self) -> PacsServer:
        text = self.server_combo.currentText().strip()
        if not text:
            raise WorkflowError(
                "choose a PACS server (configure servers in the PACS settings "
                "file, or type a URL)"
            )
        return resolve_server(text, self._settings)

    def query(self) -> StudyQuery:
        """The query the form describes.

        Raises
        ------
        WorkflowError, PacsError
            A date that is no date, or a field a query cannot hold.
        """
        date_from, date_to = parse_date_range(self.date_edit.text())
        name = self.patient_name_edit.text().strip()
        if name and not any(char in name for char in "*?"):
            name += "*"  # what a reader typing part of a name expects
        try:
            return StudyQuery(
                patient_id=self.patient_id_edit.text().strip(),
                patient_name=name,
                date_from=date_from,
                date_to=date_to,
                modality=self.modality_combo.currentText().strip().upper(),
            )
        except ValueError as error:
            raise WorkflowError(str(error)) from None

    # ---------------------------------------------------------------- search
    def search(self) -> bool:
        """Query the server in the background; False (error shown) if not started."""
        if self._task is not None:
            return False
        try:
            server = self._chosen_server()
            query = self.query()
        except Exception as error:
            show_message(self, "Search not started", describe_error(error))
            return False
        self._server = server
        self.status_label.setText(f"Searching {server.label} ({query.description})…")
        self.progress.setRange(0, 0)
        self._busy(True)
        self._task = self._runner.submit(
            lambda _context: find_studies(server, query),
            done=self._found,
            failed=lambda message: self._failed("Search failed", message),
            cancelled=self._cancelled,
            name="pacs find",
        )
        return True

    def _found(self, studies: tuple[StudyMatch, ...]) -> None:
        self._task = None
        self.studies = studies
        self.table.setRowCount(0)
        self.table.setRowCount(len(studies))
        for row, study in enumerate(studies):
            cells = (
                study.patient_id,
                study.patient_name,
                study.study_date.isoformat() if study.study_date else "",
                "/".join(study.modalities),
                "" if study.series_count is None else str(study.series_count),
                "" if study.instance_count is None else str(study.instance_count),
                study.description,
                study.study_instance_uid,
            )
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        server = self._server.label if self._server is not None else "the server"
        self.status_label.setText(f"{len(studies)} studies found on {server}")
        self._busy(False)

    # ---------------------------------------------------------------- retrieve
    def chosen_studies(self) -> tuple[StudyMatch, ...]:
        """The studies selected in the results table."""
        return tuple(self.studies[row] for row in self._chosen_rows())

    def retrieve(self) -> bool:
        """Retrieve the chosen studies in the background; False if not started."""
        if self._task is not None or self._server is None:
            return False
        chosen = self.chosen_studies()
        patients = {study.patient_id for study in chosen}
        if not chosen:
            return False
        if len(patients) != 1:
            show_message(
                self,
                "Not retrieved",
                "choose studies of one patient (the patient then opens)",
            )
            return False
        (patient_id,) = patients
        server = self._server
        uids = tuple(study.study_instance_uid for study in chosen)
        self.status_label.setText(f"Retrieving {patient_id} from {server.label}…")
        self.progress.setRange(0, 0)
        self._busy(True)
        store, user, folder = self._store, self._user, self._download_folder
        self._task = self._runner.submit(
            lambda context: retrieve_patient(
                store,
                server,
                patient_id=patient_id,
                study_instance_uids=uids,
                user=user,
                download_folder=folder,
                progress=lambda stage, done, total: context.progress(
                    (stage, done, total)
                ),
                cancel=context.token,
            ),
            done=self._retrieved,
            failed=lambda message: self._failed("Retrieval failed", message),
            cancelled=self._cancelled,
            progress=self._show_progress,
            name=f"retrieving {patient_id}",
        )
        return True

    def _show_progress(self, report: Any) -> None:
        stage, done, total = report
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(min(done, max(total, 1)))
        unit = "images" if stage == "retrieving" else "files indexed"
        self.status_label.setText(f"{stage.capitalize()}: {done} of {total} {unit}")

    def _retrieved(self, result: PacsImport) -> None:
        self._task = None
        self.imported = result
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.status_label.setText(str(result))
        self._busy(False)
        self.retrieved.emit(result.patient_id, result)

    def cancel(self) -> None:
        """Stop the running query or retrieval (nothing is indexed)."""
        if self._task is not None:
            self._task.cancel()
            self.status_label.setText("Cancelling…")

    def _cancelled(self) -> None:
        self._task = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status_label.setText(
            "Cancelled: nothing was indexed; the images already downloaded are "
            "kept, so retrieving again resumes"
        )
        self._busy(False)

    def _failed(self, title: str, message: str) -> None:
        self._task = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status_label.setText(f"{title}: {message}")
        self._busy(False)
        show_message(self, title, message)

    def accept(self) -> None:
        """Close after the patient opened."""
        self._runner.shutdown()
        super().accept()

    def reject(self) -> None:
        """Close; a running retrieval is cancelled first."""
        if self._task is not None:
            self.cancel()
            self._task.wait(10.0)
        self._runner.shutdown()
        super().reject()
