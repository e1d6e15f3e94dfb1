"""File → Send report to PACS…: the open reading's SR, each visit into its study.

Once the autosave writer has stored what the window shows, the reading is
exported as one DICOM SR TID 1500 per visit and stored on the chosen server
(STOW-RS or C-STORE), in the background, through the workflow of ``recist-app
export --format sr --send SERVER``. The dialog lists, file by file, what the
server accepted (in which study) and what it refused, and why.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from recist_app.ui.background import TaskRunner
from recist_app.ui.error_dialog import show_message
from recist_app.ui.pacs.open_dialog import server_choice
from recist_app.workflows.errors import WorkflowError, describe_error
from recist_app.workflows.export import ExportFormat, ExportRequest, export
from recist_app.workflows.pacs import resolve_server

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from recist_app.ui.autosave import AutosaveWriter
    from recist_app.ui.background import Task
    from recist_app.ui.document import ReadingDocument
    from recist_app.workflows.pacs import PacsServer, PacsSettings, ReportsSent

__all__ = ["SendReportDialog"]


class SendReportDialog(QDialog):
    """Choose a server; send the open reading's SR; list what it accepted.

    Parameters
    ----------
    document
        The open reading, kept in the database by ``writer``.
    writer
        Its autosave writer (the session holds the database).
    image_files
        Gives the loaded images' files by SOP Instance UID (the measured
        images; others come from the imaging index).
    settings
        The PACS settings (servers, our AE title).
    """

    def __init__(
        self,
        document: ReadingDocument,
        writer: AutosaveWriter,
        image_files: Callable[[], Mapping[str, Path]],
        *,
        settings: PacsSettings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Send report to PACS")
        self.setObjectName("send_report")
        self._document = document
        self._writer = writer
        self._image_files = image_files
        self._settings = settings
        self._runner = TaskRunner("pacs-send", self)
        self._task: Task[ReportsSent] | None = None
        self.sent: ReportsSent | None = None

        reading = document.reading
        self.server_combo = server_choice(settings, self)
        about = QLabel(
            f"Sends the reading of {reading.patient_id} ({reading.criteria.value}, "
            f"{reading.reader or 'no reader'}) as one DICOM SR measurement report "
            "per visit, stored in that visit's study on the server."
        )
        about.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Server", self.server_combo)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status_label = QLabel("Choose the server, then Send.")
        self.status_label.setObjectName("status")
        self.status_label.setWordWrap(True)
        self.sent_list = QListWidget()
        self.sent_list.setObjectName("sent_reports")
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("send")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addWidget(QLabel("What the server did"))
        layout.addWidget(self.sent_list, 1)
        layout.addLayout(buttons)
        self.resize(720, 420)

    @property
    def running(self) -> bool:
        """Whether the report is being sent."""
        return self._task is not None

    def _chosen_server(self) -> PacsServer:
        text = self.server_combo.currentText().strip()
        if not text:
            raise WorkflowError("choose a PACS server")
        return resolve_server(text, self._settings)

    def send(self) -> bool:
        """Export and send in the background; False (error shown) if not started."""
        if self._task is not None:
            return False
        try:
            server = self._chosen_server()
        except Exception as error:
            show_message(self, "Report not sent", describe_error(error))
            return False
        reading = self._document.reading
        writer = self._writer
        images = dict(self._image_files())

        def job(context: Any) -> ReportsSent:
            # The database must hold what the window shows before it is sent.
            if not writer.flush():
                raise WorkflowError(
                    "the open reading could not be saved, so it was not sent: "
                    f"{writer.message or 'the database did not answer'}"
                )
            with tempfile.TemporaryDirectory(prefix="recist-sr-") as folder:
                result = export(
                    writer.session.store,
                    ExportRequest(
                        formats=(ExportFormat.SR,),
                        out_dir=Path(folder),
                        patient_id=reading.patient_id,
                        criteria=reading.criteria,
                        reader=reading.reader,
                        image_files=images,
                        send_to=server,
                    ),
                    progress=lambda done, total, text: context.progress(
                        (done, total, text)
                    ),
                )
            if result.sent is None:  # export sends whenever send_to is given
                raise WorkflowError(f"nothing was sent to {server.label}")
            return result.sent

        self.sent_list.clear()
        self.send_button.setEnabled(False)
        self.status_label.setText(f"Sending to {server.label}…")
        self._task = self._runner.submit(
            job,
            done=self._finished,
            failed=self._failed,
            progress=self._show_progress,
            name="sending the report",
        )
        return True

    def _show_progress(self, report: Any) -> None:
        done, total, text = report
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.status_label.setText(text)

    def _finished(self, sent: ReportsSent) -> None:
        self._task = None
        self.sent = sent
        self.send_button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.sent_list.addItems(list(sent.lines()))
        self.status_label.setText(str(sent))
        if sent.refused:
            show_message(self, "Some reports were refused", str(sent))

    def _failed(self, message: str) -> None:
        self._task = None
        self.send_button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status_label.setText(f"Not sent: {message}")
        show_message(self, "Report not sent", message)

    def reject(self) -> None:
        """Close, unless the report is still being sent."""
        if self._task is not None:
            self.status_label.setText("Wait for the server's answer…")
            return
        self._runner.shutdown()
        super().reject()
