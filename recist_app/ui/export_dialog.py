"""File → Export…: the exports of ``recist-app export`` from the workstation.

The reader picks formats (reading JSON, CSV tables, CDISC SDTM, DICOM SR, PDF
report), an output folder (remembered), de-identification, and this patient or
every patient in the database. The export runs off the GUI thread with a progress
bar; each format goes to its own subfolder; errors are shown as one readable line
and the files written are listed.
"""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, QTimer
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

from recist_app.exchange import (
    ExchangeError,
    ExportFormat,
    ExportItem,
    ExportOptions,
    ReportSignature,
    export_readings,
)
from recist_app.ui.error_dialog import describe_error, show_error

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from recist_app.exchange import Pseudonymizer
    from recist_app.imaging import ImageVolume
    from recist_app.recist import Reading
    from recist_app.store import ReadingRecord, Store
    from recist_app.ui.document import ReadingDocument
    from recist_app.ui.reading_store import StoreSaver

__all__ = [
    "FORMAT_LABELS",
    "ExportDialog",
    "ExportJob",
    "open_export_dialog",
    "run_export",
    "volume_files",
]

FORMAT_LABELS: dict[ExportFormat, str] = {
    ExportFormat.JSON: "Reading and assessment (JSON)",
    ExportFormat.CSV: "Tables per visit and per lesion (CSV)",
    ExportFormat.SDTM: "CDISC SDTM TU / TR / RS (CSV + SAS XPT)",
    ExportFormat.SR: "DICOM SR measurement report per visit",
    ExportFormat.PDF: "PDF reading report",
}
DEID_KEY_ENV = "RECIST_APP_DEID_KEY"


def _signature(record: ReadingRecord | None) -> ReportSignature:
    if record is None:
        return ReportSignature(status="draft")
    return ReportSignature(
        status=record.status.value,
        signed_by=record.signed_by,
        signed_at=record.signed_at.isoformat() if record.signed_at else None,
        version=record.signed_version,
    )


def _geometry_uids(readings: Sequence[Reading]) -> set[str]:
    return {
        g.sop_instance_uid
        for reading in readings
        for t in reading.timepoints
        for g in (
            *(m.geometry for m in t.measurements),
            *(o.geometry for o in t.new_lesions),
        )
        if g is not None
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportJob:
    """One export request, run by :func:`run_export` (off the GUI thread).

    Parameters
    ----------
    formats
        Formats to write, each into ``out_dir / <format>``.
    out_dir
        The output folder.
    current
        The open reading with its sign-off (exported when not ``all_patients``).
    all_patients
        Export every reading in ``store`` instead of the open one.
    store
        The reading database (needed for ``all_patients``; its imaging index
        finds the measured images of other patients).
    image_files
        Files of the loaded images by SOP Instance UID.
    pseudonymizer
        De-identify with this key, or ``None``.
    """

    formats: tuple[ExportFormat, ...]
    out_dir: Path
    current: ExportItem
    all_patients: bool = False
    store: Store | None = None
    image_files: Mapping[str, Path]
    pseudonymizer: Pseudonymizer | None = None


def _items(job: ExportJob) -> list[ExportItem]:
    if not job.all_patients:
        return [job.current]
    if job.store is None:
        raise ExchangeError("exporting all patients needs the reading database")
    store = job.store
    records = store.readings.list()
    if not records:
        raise ExchangeError(f"no reading in {store.url}")
    return [
        ExportItem(
            reading=store.readings.load(r.patient_id, r.criteria, r.reader),
            signature=_signature(r),
        )
        for r in records
    ]


def run_export(
    job: ExportJob, progress: Callable[[int, int, str], None] | None = None
) -> tuple[Path, ...]:
    """Write every format of ``job``; return the files written.

    ``progress(done, total, message)`` is called before each format and at the end.

    Raises
    ------
    ExchangeError
        One line: a reading, image or folder problem (the failing format leaves no
        file; formats finished before it stay).
    """
    report = progress or (lambda _done, _total, _message: None)
    if not job.formats:
        raise ExchangeError("choose at least one format")
    total = len(job.formats) + 1
    report(0, total, "Reading the readings…")
    items = _items(job)
    images: dict[str, Path] = dict(job.image_files)
    if job.store is not None and (
        ExportFormat.SR in job.formats or ExportFormat.PDF in job.formats
    ):
        wanted = _geometry_uids([item.reading for item in items]) - set(images)
        if wanted:
            images.update(job.store.images.image_files(wanted))
    options = ExportOptions(pseudonymizer=job.pseudonymizer)
    written: list[Path] = []
    for number, fmt in enumerate(job.formats, start=1):
        report(number, total, f"Writing {FORMAT_LABELS[fmt]}…")
        written += export_readings(
            items,
            fmt,
            job.out_dir / fmt.value,
            images=images or None,
            options=options,
        )
    report(total, total, f"Wrote {len(written)} files")
    return tuple(written)


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
        The open reading.
    volumes
        Loaded volumes (their files are the measured images for SR and PDF).
    reading_store
        The database link, for "all patients" and the sign-off; may be ``None``.
    settings
        Where the folder, formats and key file are remembered.
    """

    def __init__(
        self,
        document: ReadingDocument,
        volumes: Mapping[str, ImageVolume],
        *,
        reading_store: StoreSaver | None = None,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setObjectName("export_dialog")
        self._document = document
        self._volumes = volumes
        self._reading_store = reading_store
        self._settings = settings
        self._thread: threading.Thread | None = None
        self._progress: queue.Queue[tuple[int, int, str]] = queue.Queue()
        self._outcome: queue.Queue[tuple[Path, ...] | Exception] = queue.Queue()
        self._timer = QTimer(self)
        self._timer.setInterval(40)
        self._timer.timeout.connect(self._poll)
        self.written: tuple[Path, ...] = ()

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
        self.all_patients.setEnabled(reading_store is not None)
        if reading_store is None:
            self.all_patients.setToolTip("Not connected to a reading database")
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

    def _remember(self, job: ExportJob) -> None:
        if self._settings is None:
            return
        self._settings.setValue("export/folder", str(job.out_dir))
        self._settings.setValue(
            "export/formats", ",".join(fmt.value for fmt in job.formats)
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
    def _pseudonymizer(self) -> Pseudonymizer | None:
        if not self.deidentify_box.isChecked():
            return None
        from recist_app.exchange import Pseudonymizer

        key_file = self.key_edit.text().strip()
        if key_file:
            try:
                secret = Path(key_file).expanduser().read_bytes().strip()
            except OSError as error:
                raise ExchangeError(
                    f"{key_file}: cannot read the key: {error.strerror}"
                ) from None
        elif os.environ.get(DEID_KEY_ENV):
            secret = os.environ[DEID_KEY_ENV].encode()
        else:
            raise ExchangeError(
                f"De-identification needs the site's key: choose a key file or set "
                f"${DEID_KEY_ENV}"
            )
        return Pseudonymizer(secret)

    def job(self) -> ExportJob:
        """The export the dialog's choices describe.

        Raises
        ------
        ExchangeError
            No format, no folder, or de-identification without a key.
        """
        formats = tuple(
            fmt for fmt, box in self.format_boxes.items() if box.isChecked()
        )
        if not formats:
            raise ExchangeError("choose at least one format")
        folder = self.folder_edit.text().strip()
        if not folder:
            raise ExchangeError("choose an output folder")
        saver = self._reading_store
        current = ExportItem(
            reading=self._document.reading,
            signature=_signature(saver.record if saver is not None else None),
        )
        return ExportJob(
            formats=formats,
            out_dir=Path(folder).expanduser(),
            current=current,
            all_patients=self.all_patients.isChecked(),
            store=saver.store if saver is not None else None,
            image_files=volume_files(self._volumes),
            pseudonymizer=self._pseudonymizer(),
        )

    def start_export(self) -> bool:
        """Start exporting in a worker thread; False (error shown) if not started."""
        if self._thread is not None:
            return False
        try:
            job = self.job()
        except ExchangeError as error:
            show_error(self, "Export not started", error)
            return False
        self._remember(job)
        self.files_list.clear()
        self.written = ()
        self.export_button.setEnabled(False)
        self.progress.setRange(0, len(job.formats) + 1)
        self.progress.setValue(0)

        def work() -> None:
            try:
                self._outcome.put(run_export(job, self._progress_put))
            except Exception as error:
                self._outcome.put(error)

        self._thread = threading.Thread(target=work, name="export", daemon=True)
        self._thread.start()
        self._timer.start()
        return True

    @property
    def running(self) -> bool:
        """Whether an export is in progress."""
        return self._thread is not None

    def _progress_put(self, done: int, total: int, message: str) -> None:
        self._progress.put((done, total, message))

    def _poll(self) -> None:
        while not self._progress.empty():
            done, total, message = self._progress.get_nowait()
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.status_label.setText(message)
        if self._outcome.empty():
            return
        outcome = self._outcome.get_nowait()
        self._finish()
        if isinstance(outcome, Exception):
            self.status_label.setText(f"Export failed: {describe_error(outcome)}")
            show_error(self, "Export failed", outcome)
        else:
            self._show_files(outcome)

    def _finish(self) -> None:
        self._timer.stop()
        if self._thread is not None:
            self._thread.join()
        self._thread = None
        self.export_button.setEnabled(True)

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
        if self._thread is not None:
            self.status_label.setText("Wait for the export to finish…")
            return
        super().reject()


def open_export_dialog(
    parent: QWidget,
    document: ReadingDocument,
    volumes: Mapping[str, ImageVolume],
    *,
    reading_store: StoreSaver | None,
    settings: QSettings | None,
) -> ExportDialog:
    """Show the (non-modal) export dialog over ``parent`` and return it."""
    dialog = ExportDialog(
        document,
        volumes,
        reading_store=reading_store,
        settings=settings,
        parent=parent,
    )
    dialog.show()
    return dialog
