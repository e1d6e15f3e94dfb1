"""File → Export…: the exports of ``recist-app export`` from the workstation.

The reader picks formats (reading JSON, CSV tables, CDISC SDTM, DICOM SR, PDF
report), an output folder (remembered), de-identification, and this patient or
every patient in the database. The dialog's choices become one
:class:`~recist_app.workflows.export.ExportRequest`, run by the same workflow as
the command line, in the background with a progress bar, once the autosave writer
has stored what the window shows. Each format goes to its own subfolder; errors
are shown as one readable line and the files written are listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from recist_app.environment import DEID_KEY_ENV
from recist_app.ui.background import TaskRunner
from recist_app.ui.error_dialog import show_message
from recist_app.workflows.central_reading import Viewer
from recist_app.workflows.errors import WorkflowError
from recist_app.workflows.export import ExportFormat, ExportRequest, export

if TYPE_CHECKING:
    from collections.abc import Mapping

    from PySide6.QtCore import QSettings

    from recist_app.imaging import ImageVolume
    from recist_app.ui.autosave import AutosaveWriter
    from recist_app.ui.background import Task
    from recist_app.ui.document import ReadingDocument
    from recist_app.workflows.export import ExportResult

__all__ = ["FORMAT_LABELS", "ExportDialog", "open_export_dialog", "volume_files"]

FORMAT_LABELS: dict[ExportFormat, str] = {
    ExportFormat.JSON: "Reading and assessment (JSON)",
    ExportFormat.CSV: "Tables per visit and per lesion (CSV)",
    ExportFormat.SDTM: "CDISC SDTM TU / TR / RS (CSV + SAS XPT)",
    ExportFormat.SR: "DICOM SR measurement report per visit",
    ExportFormat.PDF: "PDF reading report",
    ExportFormat.ADAM: "ADaM ADSL / ADRS / ADTTE / ADAE of the trial (CSV + SAS XPT)",
}


def volume_files(volumes: Mapping[str, ImageVolume]) -> dict[str, Path]:
    """SOP Instance UID -> file of every loaded image."""
    return {
        uid: Path(path)
        for volume in volumes.values()
        for uid, path in zip(
            volume.sop_instance_uids, volume.source_paths, strict=False
        )
        if path
    }


class ExportDialog(QDialog):
    """Choose formats, folder, de-identification and scope; export; list files.

    Parameters
    ----------
    document
        The open reading, kept in the database by ``writer``.
    writer
        The open reading's autosave writer (its session holds the database).
    volumes
        Loaded volumes (their files are the measured images for SR and PDF).
    settings
        Where the folder, formats and key file are remembered.
    """

    def __init__(
        self,
        document: ReadingDocument,
        writer: AutosaveWriter,
        volumes: Mapping[str, ImageVolume],
        *,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setObjectName("export_dialog")
        self._document = document
        self._writer = writer
        self._volumes = volumes
        self._settings = settings
        self._runner = TaskRunner("export", self)
        self._task: Task[ExportResult] | None = None
        self.written: tuple[Path, ...] = ()
        self.left_out: tuple[str, ...] = ()
        """The last export's lines: not exported, skipped, notes."""

        patient = document.reading.patient_id
        self.format_boxes: dict[ExportFormat, QCheckBox] = {}
        chosen = self._setting("export/formats", "json,csv,sdtm,pdf").split(",")
        formats = QGroupBox("Formats")
        format_layout = QVBoxLayout(formats)
        for fmt, label in FORMAT_LABELS.items():
            box = QCheckBox(label)
            box.setObjectName(f"format_{fmt.value}")
            box.setChecked(fmt.value in chosen)
            format_layout.addWidget(box)
            self.format_boxes[fmt] = box

        scope = QGroupBox("Readings")
        scope_layout = QVBoxLayout(scope)
        self.this_patient = QRadioButton(f"This patient ({patient})")
        self.all_patients = QRadioButton("All patients in the database")
        self.this_patient.setChecked(True)
        scope_layout.addWidget(self.this_patient)
        scope_layout.addWidget(self.all_patients)

        self.folder_edit = QLineEdit(
            self._setting("export/folder", str(Path.home() / "recist-exports"))
        )
        self.folder_edit.setObjectName("export_folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)

        self.deidentify_box = QCheckBox(
            "De-identify (pseudonymous subject id, shifted dates)"
        )
        self.deidentify_box.setObjectName("deidentify")
        self.key_edit = QLineEdit(self._setting("export/key_file", ""))
        self.key_edit.setPlaceholderText(f"site key file (or ${DEID_KEY_ENV})")
        self.key_edit.setEnabled(False)
        self.deidentify_box.toggled.connect(self.key_edit.setEnabled)

        form = QFormLayout()
        form.addRow("Output folder", folder_row)
        form.addRow(self.deidentify_box)
        form.addRow("De-identification key", self.key_edit)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status_label = QLabel("Choose formats and a folder, then Export.")
        self.status_label.setWordWrap(True)
        self.files_list = QListWidget()
        self.files_list.setObjectName("written_files")
        self.files_list.setMinimumHeight(140)

        buttons = QDialogButtonBox()
        self.export_button = buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.export_button.setDefault(True)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.export_button.clicked.connect(self.start_export)
        self.close_button.clicked.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(formats, 3)
        top.addWidget(scope, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addWidget(QLabel("Files written"))
        layout.addWidget(self.files_list, 1)
        layout.addWidget(buttons)
        self.resize(640, 560)

    # ---------------------------------------------------------------- settings
    def _setting(self, key: str, default: str) -> str:
        if self._settings is None:
            return default
        value = self._settings.value(key, default)
        return value if isinstance(value, str) else default

    def _remember(self, request: ExportRequest) -> None:
        if self._settings is None:
            return
        self._settings.setValue("export/folder", str(request.out_dir))
        self._settings.setValue(
            "export/formats", ",".join(fmt.value for fmt in request.formats)
        )
        if self.key_edit.text().strip():
            self._settings.setValue("export/key_file", self.key_edit.text().strip())

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Export into folder", self.folder_edit.text()
        )
        if folder:
            self.folder_edit.setText(folder)

    # ---------------------------------------------------------------- the job
    def request(self) -> ExportRequest:
        """The export the dialog's choices describe.

        Raises
        ------
        WorkflowError
            No format or no folder.
        """
        formats = tuple(
            fmt for fmt, box in self.format_boxes.items() if box.isChecked()
        )
        if not formats:
            raise WorkflowError("choose at least one export format")
        folder = self.folder_edit.text().strip()
        if not folder:
            raise WorkflowError("choose an output folder")
        reading = self._document.reading
        this_patient = self.this_patient.isChecked()
        key_file = self.key_edit.text().strip()
        return ExportRequest(
            formats=formats,
            out_dir=Path(folder).expanduser(),
            patient_id=reading.patient_id if this_patient else None,
            criteria=reading.criteria if this_patient else None,
            reader=reading.reader if this_patient else None,
            image_files=volume_files(self._volumes),
            folder_per_format=True,
            deidentify=self.deidentify_box.isChecked(),
            deid_key_file=Path(key_file) if key_file else None,
            # the blinding: a primary reader exports only what they may see
            viewer=Viewer(
                user=self._writer.session.user, role=self._writer.session.role
            ),
        )

    def start_export(self) -> bool:
        """Start exporting in the background; False (error shown) if not started."""
        if self._task is not None:
            return False
        try:
            request = self.request()
        except WorkflowError as error:
            show_message(self, "Export not started", str(error))
            return False
        self._remember(request)
        self.files_list.clear()
        self.written = ()
        self.left_out = ()
        self.export_button.setEnabled(False)
        self.progress.setRange(0, len(request.formats) + 1)
        self.progress.setValue(0)
        writer = self._writer

        def job(context: Any) -> ExportResult:
            # The database must hold what the window shows before it is exported.
            if not writer.flush():
                raise WorkflowError(
                    "the open reading could not be saved, so it was not exported: "
                    f"{writer.message or 'the database did not answer'}"
                )
            return export(
                writer.session.store,
                request,
                progress=lambda done, total, text: context.progress(
                    (done, total, text)
                ),
            )

        self._task = self._runner.submit(
            job,
            done=self._finished,
            failed=self._failed,
            progress=self._show_progress,
            name="export",
        )
        return True

    @property
    def running(self) -> bool:
        """Whether an export is in progress."""
        return self._task is not None

    def _show_progress(self, report: Any) -> None:
        done, total, message = report
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.status_label.setText(message)

    def _finished(self, result: ExportResult) -> None:
        self._task = None
        self.export_button.setEnabled(True)
        self._show_files(result.files)
        self.left_out = (*result.failed, *result.skipped, *result.notes)
        for line in result.failed:
            self.files_list.addItem(f"⚠ not exported: {line}")
        for line in result.skipped:
            self.files_list.addItem(f"skipped: {line}")
        for line in result.notes:
            self.files_list.addItem(f"note: {line}")
        if result.failed:
            self.status_label.setText(
                f"{self.status_label.text()}; {len(result.failed)} not exported "
                "(listed)"
            )

    def _failed(self, message: str) -> None:
        self._task = None
        self.export_button.setEnabled(True)
        self.status_label.setText(f"Export failed: {message}")
        show_message(self, "Export failed", message)

    def _show_files(self, files: tuple[Path, ...]) -> None:
        self.written = files
        out_dir = Path(self.folder_edit.text().strip()).expanduser()
        for path in files:
            try:
                shown = str(path.relative_to(out_dir))
            except ValueError:
                shown = str(path)
            self.files_list.addItem(shown)
        self.progress.setValue(self.progress.maximum())
        self.status_label.setText(f"Wrote {len(files)} files to {out_dir}")

    def reject(self) -> None:
        """Close, unless an export is still writing."""
        if self._task is not None:
            self.status_label.setText("Wait for the export to finish…")
            return
        super().reject()


def open_export_dialog(
    parent: QWidget,
    document: ReadingDocument,
    writer: AutosaveWriter,
    volumes: Mapping[str, ImageVolume],
    *,
    settings: QSettings | None,
) -> ExportDialog:
    """Show the (non-modal) export dialog over ``parent`` and return it."""
    dialog = ExportDialog(document, writer, volumes, settings=settings, parent=parent)
    dialog.show()
    return dialog
