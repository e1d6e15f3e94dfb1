"""The reading workstation's main window: viewer, lesion and response panels."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QWidget,
)

from recist_app.imaging import lps_mm_to_index
from recist_app.recist import ReaderRole, Reading, lesion_geometry_near
from recist_app.ui.autosave import SaveState
from recist_app.ui.browser.loading import VolumeLoader
from recist_app.ui.browser.patient_browser import PatientsDock
from recist_app.ui.error_dialog import error_boundary, show_error, show_message
from recist_app.ui.export_dialog import ExportDialog, open_export_dialog, volume_files
from recist_app.ui.import_reading import ReadingImporter
from recist_app.ui.measurement_controller import (
    MeasurementController,
    measurement_overlays,
)
from recist_app.ui.pacs import add_pacs_actions
from recist_app.ui.panels.history_panel import HistoryPanel
from recist_app.ui.panels.lesion_panel import LesionPanel
from recist_app.ui.panels.response_panel import ResponsePanel
from recist_app.ui.sr_import import SrImporter
from recist_app.ui.trial import add_trial_menu
from recist_app.ui.viewer.measure_tool import Tool
from recist_app.ui.viewer.slice_view import PRESET_KEYS, SliceView
from recist_app.ui.vocabulary import load_vocabulary
from recist_app.workflows.export import write_reading
from recist_app.workflows.reading_session import sign_off_text, signature_text
from recist_app.workflows.vocabulary import READER_ROLES, parse_reader_role

if TYPE_CHECKING:
    import datetime
    from collections.abc import Mapping

    from recist_app.imaging import ImageVolume
    from recist_app.ui.document import ReadingDocument
    from recist_app.ui.viewer.measure_tool import DrawnMeasurement
    from recist_app.ui.vocabulary import OrganTerm
    from recist_app.workflows.database import Store
    from recist_app.workflows.reading_import import ReadingImportReport
    from recist_app.workflows.reading_session import ReadingRecord
    from recist_app.workflows.sr_import import SrImported

__all__ = ["ROLE_SETTING", "SHORTCUTS", "MainWindow"]

ROLE_SETTING = "reader/role"
"""Where the workstation remembers the reader's central-review role."""

SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Mouse wheel, ↑/↓, ←/→", "previous / next slice"),
    ("Page Up / Page Down", "10 slices back / forward"),
    ("Home / End", "first / last slice"),
    ("Ctrl + wheel", "zoom at the cursor"),
    ("Middle drag, Shift + left drag", "pan"),
    ("Right drag", "window (horizontal) and level (vertical)"),
    *(
        (
            str(number),
            f"window preset {preset.name} (W {preset.width:.0f} L {preset.center:.0f})",
        )
        for number, preset in enumerate(PRESET_KEYS, start=1)
    ),
    ("F", "fit image to window"),
    ("V", "navigate tool (left drag pans)"),
    ("L", "long-axis line tool"),
    ("B", "bidirectional tool: drag the long axis, then drag the short axis"),
    (
        "A",
        "viable-diameter tool (mRECIST): drag across the arterially enhancing part "
        "of the selected target, on the series shown",
    ),
    ("Esc", "cancel the drawing in progress"),
    ("Drag a handle", "edit a measurement (one undo step)"),
    ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo"),
    ("Ctrl+E", "export the reading as JSON"),
    ("Ctrl+Shift+S", "sign the reading (locks it until amended)"),
    ("F1", "this list"),
)


def _visit_label(visit: str, date: datetime.date) -> str:
    return f"{visit.title()}  {date.isoformat()}"


class MainWindow(QMainWindow):
    """Viewer in the centre, lesions and responses docked on the right.

    Parameters
    ----------
    document
        The open reading. When it autosaves (``document.saver``), the window
        shows the save status, signs and amends, lists the database's patients
        (:meth:`open_patient` switches to any of them), imports and exports, and
        loads the reading's series in the background; without, it reads the
        ``volumes`` given and keeps nothing.
    volumes
        Loaded volumes by Series Instance UID; a visit shows the volume of its
        ``series_instance_uid``.
    vocabulary
        Organ list (defaults to ``resources/vocabulary.json``).

    Signals
    -------
    patient_opened(str)
        :meth:`open_patient` switched the window to this patient.
    """

    patient_opened = Signal(str)

    def __init__(
        self,
        document: ReadingDocument,
        volumes: Mapping[str, ImageVolume],
        *,
        vocabulary: tuple[OrganTerm, ...] | None = None,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.writer = document.saver
        self.session = self.writer.session if self.writer is not None else None
        self._volumes = dict(volumes)
        self.volume_loader: VolumeLoader | None = None
        session = self.session
        if session is not None:
            self.volume_loader = VolumeLoader(session.store, self)
            self.volume_loader.preview.connect(self._volume_arrived)
            self.volume_loader.loaded.connect(self._volume_arrived)
            self.volume_loader.progress.connect(self._volume_progress)
            self.volume_loader.failed.connect(self._volume_failed)
        self._settings = settings
        self._linking = False
        self._tool_before_lock = Tool.BIDIRECTIONAL
        self.controller = MeasurementController(document, self.volume_at)

        self.slice_view = SliceView()
        # Follow-up reading: the prior visit beside the current one, read-only,
        # scrolled with it by table position (DESIGN: follow-up side by side).
        self.prior_view = SliceView()
        self.prior_view.set_tool(Tool.NAVIGATE)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.prior_view)
        splitter.addWidget(self.slice_view)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        self._splitter = splitter
        self.setCentralWidget(splitter)
        self.lesion_panel = LesionPanel(document, vocabulary or load_vocabulary())
        self.response_panel = ResponsePanel(document, settings=settings)
        docks = [
            self._dock("Lesions", self.lesion_panel, "lesions"),
            self._dock("Response", self.response_panel, "response"),
        ]
        self.resizeDocks(docks, [600, 600], Qt.Orientation.Horizontal)
        self.resizeDocks(docks, [500, 400], Qt.Orientation.Vertical)
        # The history runs under the viewers (the right column keeps its full
        # height): a wide table and plot over time.
        self.setCorner(
            Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.history_panel = HistoryPanel(document)
        history_dock = self._dock(
            "Lesion history",
            self.history_panel,
            "history",
            Qt.DockWidgetArea.BottomDockWidgetArea,
        )
        self.resizeDocks([history_dock], [280], Qt.Orientation.Vertical)

        self.visit_combo = QComboBox()
        self.visit_combo.setMinimumContentsLength(18)
        self.visit_combo.activated.connect(self._visit_chosen)
        self.slice_label = QLabel()
        self.window_label = QLabel()
        self.save_label = QLabel()
        self.signature_label = QLabel()
        self.statusBar().addPermanentWidget(self.signature_label)
        self.statusBar().addPermanentWidget(self.save_label)
        self.statusBar().addPermanentWidget(self.slice_label)
        self.statusBar().addPermanentWidget(self.window_label)
        self.sr_importer = SrImporter(
            document,
            lambda: volume_files(self._volumes),
            store=session.store if session is not None else None,
            settings=settings,
            parent=self,
        )
        self.sr_importer.imported.connect(self._sr_imported)
        self.reading_importer: ReadingImporter | None = None
        self._build_actions()
        self.patients_dock: PatientsDock | None = None
        if session is not None:
            self.reading_importer = ReadingImporter(
                session.store, user=session.user, parent=self, writer=self.writer
            )
            self.reading_importer.finished.connect(self._readings_imported)
            self.patients_dock = self._patients_dock(session.store, session.user)
        self.import_reading_action.setEnabled(session is not None)
        self.exports_action.setEnabled(session is not None)
        self.trial_action = add_trial_menu(  # Trial → Endpoints (trial view)
            self,
            session.store if session is not None else None,
            user=session.user if session is not None else "",
        )
        self.pacs_actions = add_pacs_actions(self)  # File → Open from / Send to PACS

        self.slice_view.measurement_drawn.connect(self._measurement_drawn)
        self.slice_view.slice_changed.connect(self._show_slice_status)
        self.slice_view.window_changed.connect(self._show_window_status)
        self.slice_view.slice_changed.connect(self._link_prior_slice)
        self.slice_view.window_changed.connect(self.prior_view.set_window)
        self.prior_view.slice_changed.connect(self._link_current_slice)
        document.reading_changed.connect(self._reading_changed)
        document.visit_changed.connect(self._visit_changed)
        document.selection_changed.connect(self._selection_changed)
        document.save_state_changed.connect(self._save_state_changed)
        document.undo_stack.cleanChanged.connect(self._clean_changed)
        document.lock_changed.connect(self._lock_changed)

        self._fill_visits()
        self._visit_changed(document.visit)
        self._update_title()
        self._clean_changed(document.undo_stack.isClean())
        self._save_state_changed(SaveState.SAVED, "")
        self.resize(1500, 900)
        self._restore_settings()
        self._lock_changed(document.signature)
        self._load_missing_volumes()

    # ---------------------------------------------------------------- building
    def _patients_dock(self, store: Store, user: str) -> PatientsDock:
        dock = PatientsDock(store, user=user, document=self.document, parent=self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.resizeDocks([dock], [420], Qt.Orientation.Horizontal)
        dock.open_requested.connect(self.open_patient)
        dock.message.connect(self.statusBar().showMessage)
        self.patient_opened.connect(dock.patient_opened)
        self.setAcceptDrops(True)
        self.installEventFilter(dock.drop_filter)
        first = self.file_menu.actions()[0]
        self.file_menu.insertAction(first, dock.import_action)
        self.file_menu.insertSeparator(first)
        return dock

    def _dock(
        self,
        title: str,
        widget: QWidget,
        name: str,
        area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
    ) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def _build_actions(self) -> None:
        stack = self.document.undo_stack
        self.undo_action = stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)

        export_action = QAction("&Export reading JSON…", self)
        export_action.setShortcut(QKeySequence("Ctrl+E"))
        export_action.triggered.connect(self._export_clicked)
        exports_action = QAction("E&xport…", self)
        exports_action.triggered.connect(self.open_export_dialog)
        self.exports_action = exports_action
        import_sr_action = QAction("Import DICOM &SR…", self)
        import_sr_action.triggered.connect(self.import_dicom_sr)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)

        file_menu = self.menuBar().addMenu("&File")
        self.file_menu = file_menu
        self.import_reading_action = QAction("&Import reading…", self)
        self.import_reading_action.setToolTip(
            "Import recist-reading/1 files into the reading database"
        )
        self.import_reading_action.triggered.connect(self.import_readings)
        file_menu.addAction(self.import_reading_action)
        file_menu.addAction(export_action)
        file_menu.addAction(exports_action)
        file_menu.addAction(import_sr_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)

        self.sign_action = QAction("&Sign reading…", self)
        self.sign_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.sign_action.setToolTip("Sign the reading: it is locked until amended")
        self.sign_action.triggered.connect(self.sign_reading)
        self.amend_action = QAction("&Amend…", self)
        self.amend_action.setToolTip("Reopen the signed reading, giving a reason")
        self.amend_action.triggered.connect(self.amend_reading)
        reading_menu = self.menuBar().addMenu("&Reading")
        reading_menu.addAction(self.sign_action)
        reading_menu.addAction(self.amend_action)
        self.role_action = QAction("Reading &role…", self)
        self.role_action.setToolTip(
            "Who you read as in a central review: reader 1, reader 2 (blinded to "
            "each other), adjudicator, or single (a site read)"
        )
        self.role_action.triggered.connect(self.choose_role)
        reading_menu.addSeparator()
        reading_menu.addAction(self.role_action)

        self.tool_actions: dict[Tool, QAction] = {}
        group = QActionGroup(self)
        tools_menu = self.menuBar().addMenu("&Tools")
        for tool, label, key in (
            (Tool.NAVIGATE, "Navigate", "V"),
            (Tool.LINE, "Long axis", "L"),
            (Tool.BIDIRECTIONAL, "Bidirectional", "B"),
            (Tool.VIABLE, "Viable diameter", "A"),
        ):
            action = QAction(label, self, checkable=True)
            action.setShortcut(QKeySequence(key))
            action.triggered.connect(lambda _checked=False, t=tool: self.set_tool(t))
            group.addAction(action)
            tools_menu.addAction(action)
            self.tool_actions[tool] = action
        self.tool_actions[Tool.VIABLE].setToolTip(
            "Viable diameter (mRECIST): the arterially enhancing part of the "
            "selected target, drawn on the series shown (A)"
        )

        view_menu = self.menuBar().addMenu("&View")
        fit_action = QAction("&Fit to window", self)
        fit_action.triggered.connect(self.slice_view.fit)
        view_menu.addAction(fit_action)
        presets = view_menu.addMenu("Window &presets")
        for number, preset in enumerate(PRESET_KEYS, start=1):
            action = QAction(f"{number}  {preset.name}", self)
            action.triggered.connect(
                lambda _checked=False, n=number: self.slice_view.apply_preset(n)
            )
            presets.addAction(action)

        help_menu = self.menuBar().addMenu("&Help")
        shortcuts_action = QAction("&Keyboard shortcuts", self)
        shortcuts_action.setShortcut(QKeySequence("F1"))
        shortcuts_action.triggered.connect(self.show_shortcuts)
        help_menu.addAction(shortcuts_action)

        toolbar = self.addToolBar("Reading")
        toolbar.setObjectName("toolbar_reading")
        toolbar.addWidget(QLabel(" Visit "))
        toolbar.addWidget(self.visit_combo)
        toolbar.addSeparator()
        toolbar.addAction(self.undo_action)
        toolbar.addAction(self.redo_action)
        toolbar.addSeparator()
        for action in self.tool_actions.values():
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(fit_action)
        toolbar.addSeparator()
        toolbar.addAction(self.sign_action)
        toolbar.addAction(self.amend_action)
        self.set_tool(Tool.BIDIRECTIONAL)

    # ---------------------------------------------------------------- volumes
    def volume_at(self, visit: str) -> ImageVolume | None:
        """The volume read at ``visit``, if loaded."""
        try:
            series_uid = self.document.reading.timepoint(visit).series_instance_uid
        except KeyError:
            return None
        return self._volumes.get(series_uid or "")

    def open_patient(self, patient_id: str) -> bool:
        """Switch the window to ``patient_id``'s stored reading (or a new one).

        The reading keeps the current criteria and reader; its undo history
        starts empty; its series load in the background, the visit being read
        first (what was loading for the previous patient is cancelled). Every
        change is autosaved to the database as before. Errors are shown, not
        raised; returns whether the patient was opened.
        """
        session, writer = self.session, self.writer
        if session is None or writer is None:
            QMessageBox.warning(
                self, "Patient not opened", "No reading database is open."
            )
            return False
        if not writer.flush():
            show_message(
                self,
                f"Patient {patient_id} not opened",
                "the open reading could not be saved first: "
                f"{writer.message or 'the database did not answer'}",
            )
            return False
        current = self.document.reading
        try:
            fresh = Reading(
                patient_id=patient_id, criteria=current.criteria, reader=current.reader
            )
            reading = session.open(fresh)
        except Exception as error:
            show_error(self, f"Patient {patient_id} not opened", error)
            return False
        if self.volume_loader is not None:
            self.volume_loader.cancel()
        self._volumes = {}
        self.slice_view.set_loading_text("")
        self.prior_view.set_loading_text("")
        self.document.load(reading)
        self.document.set_signature(session.signature)
        self._fill_visits()
        self._visit_changed(self.document.visit)
        self._update_title()
        self._clean_changed(self.document.undo_stack.isClean())
        self._load_missing_volumes()
        self.patient_opened.emit(patient_id)
        return True

    def _series_to_load(self) -> list[str]:
        """Series of the reading not loaded yet: current, prior, then the rest."""
        reading = self.document.reading
        visits = [self.document.visit, self._prior_visit() or ""]
        visits += [t.visit for t in reading.timepoints]
        wanted: list[str] = []
        for visit in visits:
            try:
                series_uid = reading.timepoint(visit).series_instance_uid
            except KeyError:
                continue
            if series_uid and series_uid not in self._volumes:
                wanted.append(series_uid)
        return list(dict.fromkeys(wanted))

    def _load_missing_volumes(self) -> None:
        loader = self.volume_loader
        if loader is None:
            return
        wanted = self._series_to_load()
        if wanted and set(wanted) != loader.pending:
            loader.load(wanted)
        for view, visit in (
            (self.slice_view, self.document.visit),
            (self.prior_view, self._prior_visit()),
        ):
            if visit and view.volume is None and self._series_of(visit) in wanted:
                view.set_loading_text("Loading…")

    def _series_of(self, visit: str) -> str:
        try:
            return self.document.reading.timepoint(visit).series_instance_uid or ""
        except KeyError:
            return ""

    def _views_of(self, series_uid: str) -> list[SliceView]:
        views = []
        if self._series_of(self.document.visit) == series_uid:
            views.append(self.slice_view)
        prior = self._prior_visit()
        if prior is not None and self._series_of(prior) == series_uid:
            views.append(self.prior_view)
        return views

    def _volume_arrived(self, series_uid: str, volume: ImageVolume) -> None:
        # The preview (middle slice read) and then the finished volume: the
        # first shows the visit, the second only swaps the voxels in place.
        self._volumes[series_uid] = volume
        views = self._views_of(series_uid)
        if any(view.volume is None for view in views):
            self._visit_changed(self.document.visit)  # also redraws the overlays
        else:
            for view in views:
                view.replace_volume(volume)
        loader = self.volume_loader
        if loader is not None and series_uid not in loader.pending:
            for view in views:
                view.set_loading_text("")

    def _volume_progress(self, series_uid: str, done: int, total: int) -> None:
        for view in self._views_of(series_uid):
            view.set_loading_text(f"Loading {100 * done // max(total, 1)} %")
            view.refresh_pixels()

    def _volume_failed(self, series_uid: str, message: str) -> None:
        for view in self._views_of(series_uid):
            view.set_loading_text("Cannot load this series")
        self.statusBar().showMessage(message, 10_000)

    def set_tool(self, tool: Tool) -> None:
        """Choose the left-drag tool."""
        self.slice_view.set_tool(tool)
        self.tool_actions[tool].setChecked(True)

    # ---------------------------------------------------------------- refresh
    def _fill_visits(self) -> None:
        self.visit_combo.clear()
        for timepoint in self.document.reading.timepoints:
            label = _visit_label(timepoint.visit, timepoint.date)
            self.visit_combo.addItem(label, timepoint.visit)
        self.visit_combo.setCurrentIndex(self.visit_combo.findData(self.document.visit))

    def _visit_chosen(self, index: int) -> None:
        visit = self.visit_combo.itemData(index)
        if isinstance(visit, str):
            self.document.set_visit(visit)

    def _visit_changed(self, visit: str) -> None:
        self.visit_combo.setCurrentIndex(self.visit_combo.findData(visit))
        volume = self.volume_at(visit) if visit else None
        reading = self.document.reading
        lines = [reading.patient_id]
        if volume is not None:
            lines.append(f"{visit.title()} {reading.timepoint(visit).date.isoformat()}")
            lines.append(
                " ".join(filter(None, (volume.modality, volume.series_description)))
                or volume.series_instance_uid
            )
        prior = self._prior_visit()
        prior_volume = self.volume_at(prior) if prior else None
        if prior_volume is not None and self.prior_view.isHidden():
            self.prior_view.show()
            self._splitter.setSizes([10_000, 10_000])  # share the width equally
        self.prior_view.setVisible(prior_volume is not None)
        if prior is not None and prior_volume is not None:
            date = reading.timepoint(prior).date.isoformat()
            self.prior_view.set_volume(
                prior_volume,
                title_lines=[reading.patient_id, f"PRIOR: {prior.title()} {date}"],
            )
        else:
            self.prior_view.set_volume(None)
        self.slice_view.set_volume(volume, title_lines=lines)
        self.prior_view.set_window(*self.slice_view.window_level)
        self._selection_changed(self.document.selected_lesion_id)

    def _reading_changed(self, *_args: object) -> None:
        shown_visits = [
            self.visit_combo.itemText(index)
            for index in range(self.visit_combo.count())
        ]
        if shown_visits != [
            _visit_label(t.visit, t.date) for t in self.document.reading.timepoints
        ]:
            self._fill_visits()
        shown = [view.volume for view in (self.slice_view, self.prior_view)]
        if shown != [self.volume_at(self.document.visit), self._prior_volume()]:
            self._visit_changed(self.document.visit)  # a visit's series changed
        self._load_missing_volumes()
        self._update_overlays()
        self._update_title()

    def _prior_volume(self) -> ImageVolume | None:
        prior = self._prior_visit()
        return self.volume_at(prior) if prior else None

    def _prior_visit(self) -> str | None:
        visits = [t.visit for t in self.document.reading.timepoints]
        visit = self.document.visit
        index = visits.index(visit) if visit in visits else -1
        return visits[index - 1] if index > 0 else None

    @staticmethod
    def _nearest_slice(volume: ImageVolume, position_mm: float) -> int:
        positions = volume.slice_origins_lps_mm @ volume.slice_normal
        return int(np.argmin(np.abs(positions - position_mm)))

    def _link_prior_slice(self, _index: int) -> None:
        self._link(self.slice_view, self.prior_view)

    def _link_current_slice(self, _index: int) -> None:
        self._link(self.prior_view, self.slice_view)

    def _link(self, source: SliceView, target: SliceView) -> None:
        # The guard stops the echo: with different slice spacings the nearest
        # slice back would not always be the slice we came from.
        position = source.slice_position_mm()
        volume = target.volume
        if self._linking or position is None or volume is None:
            return
        self._linking = True
        try:
            target.set_slice_index(self._nearest_slice(volume, position))
        finally:
            self._linking = False

    def _update_overlays(self) -> None:
        self._update_prior_overlays()
        volume = self.slice_view.volume
        document = self.document
        if volume is None or not document.visit:
            self.slice_view.set_overlays(())
            return
        self.slice_view.set_overlays(
            measurement_overlays(
                document.reading,
                document.visit,
                volume,
                selected_lesion_id=document.selected_lesion_id,
                prior_visit=self._prior_visit(),
            )
        )

    def _update_prior_overlays(self) -> None:
        volume = self.prior_view.volume
        prior = self._prior_visit()
        if volume is None or prior is None:
            self.prior_view.set_overlays(())
            return
        self.prior_view.set_overlays(
            measurement_overlays(
                self.document.reading,
                prior,
                volume,
                selected_lesion_id=self.document.selected_lesion_id,
            )
        )

    def _selection_changed(self, lesion_id: str) -> None:
        self._update_overlays()
        if lesion_id:
            self.show_lesion(lesion_id)

    def _jump(self, view: SliceView, lesion_id: str, visit: str) -> None:
        volume = view.volume
        geometry = lesion_geometry_near(self.document.reading, lesion_id, visit)
        if volume is None or geometry is None:
            return
        axis = geometry.long_axis or geometry.short_axis
        if axis is None:
            return
        middle = np.mean([axis.start_lps_mm, axis.end_lps_mm], axis=0)
        k = float(lps_mm_to_index(volume, middle)[2])
        view.set_slice_index(round(k))

    def show_lesion(self, lesion_id: str) -> None:
        """Show ``lesion_id`` in the current and the prior view (any visit's mark)."""
        self._jump(self.slice_view, lesion_id, self.document.visit)
        prior = self._prior_visit()
        if prior is not None:
            self._jump(self.prior_view, lesion_id, prior)

    def _show_slice_status(self, _index: int) -> None:
        position = self.slice_view.slice_position_mm()
        text = self.slice_view.slice_text()
        if position is not None:
            text += f"   {position:.1f} mm"
        self.slice_label.setText(text)

    def _show_window_status(self, _center: float, _width: float) -> None:
        self.window_label.setText(self.slice_view.window_text())

    def _update_title(self, *_args: object) -> None:
        reading = self.document.reading
        signature = self.document.signature
        session = self.session
        # who reads, as which central-review role, before what is read
        reading_as = (
            "" if session is None else f"{session.user} as {session.role.value} — "
        )
        self.setWindowTitle(
            f"recist_app — {reading_as}{reading.patient_id} "
            f"({reading.criteria.value})"
            + (f" — {signature}" if signature else "")
            + "[*]"
        )

    def set_role(self, role: ReaderRole) -> None:
        """Read as ``role`` from now on: remembered, shown in the title bar.

        The blinding follows it at once (patient list, Trial view, exports).
        """
        if self.session is None:
            return
        self.session.role = role
        if self._settings is not None:
            self._settings.setValue(ROLE_SETTING, role.value)
        self._update_title()
        if self.patients_dock is not None:
            self.patients_dock.browser.refresh()
        self.statusBar().showMessage(f"Reading as {role.value}")

    def choose_role(self) -> QInputDialog | None:
        """Reading → Reading role…: ask who is reading, remember the answer.

        The question is window-modal but never blocks the caller: the choice
        arrives through the dialog (``None`` without a database).
        """
        if self.session is None:
            return None
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Reading role")
        dialog.setLabelText(
            "Read as (a central review's reader 1 and reader 2 are blinded to "
            "each other until both reads are signed):"
        )
        dialog.setComboBoxItems([role.value for role in READER_ROLES])
        dialog.setComboBoxEditable(False)
        dialog.setTextValue(self.session.role.value)
        dialog.textValueSelected.connect(
            lambda text: self.set_role(parse_reader_role(text))
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _lock_changed(self, signature: str) -> None:
        # A signed reading is read-only: navigation stays, every edit path
        # (drawing tools, handle drags, undo/redo, the lesion panel) is off.
        locked = bool(signature)
        was_locked = not self.tool_actions[Tool.LINE].isEnabled()
        if locked and not was_locked:
            self._tool_before_lock = self.slice_view.tool
            self.set_tool(Tool.NAVIGATE)
        elif was_locked and not locked:
            self.set_tool(self._tool_before_lock)
        for tool, action in self.tool_actions.items():
            action.setEnabled(not locked or tool is Tool.NAVIGATE)
        stack = self.document.undo_stack
        self.undo_action.setEnabled(not locked and stack.canUndo())
        self.redo_action.setEnabled(not locked and stack.canRedo())
        has_store = self.writer is not None
        self.sign_action.setEnabled(has_store and not locked)
        self.amend_action.setEnabled(has_store and locked)
        self.signature_label.setText(f"🔒 {signature.capitalize()}" if locked else "")
        self._update_title()

    def _clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    def _save_state_changed(self, state: SaveState, message: str) -> None:
        # Saving happens off the GUI thread: "saving…" while a save is on its way,
        # "saved" once the database holds what is shown, the reason when it
        # could not save (the change stays in the window and is saved later).
        label = self.save_label
        if self.writer is None:
            label.setText("Not saved to a database")
            label.setStyleSheet("")
            label.setToolTip("")
            return
        label.setToolTip(self.writer.session.database)
        if state is SaveState.FAILED:
            label.setText(f"⚠ Could not save: {message}")
            label.setStyleSheet("color: #c53030; font-weight: bold")
        elif state is SaveState.SAVING:
            label.setText("Saving…")
            label.setStyleSheet("")
        else:
            label.setText("✓ Saved")
            label.setStyleSheet("")

    # ---------------------------------------------------------------- actions
    def _measurement_drawn(self, drawn: DrawnMeasurement) -> None:
        with error_boundary(self, "Measurement not recorded"):
            lesion_id = self.controller.record(drawn, self.lesion_panel.template())
            self.statusBar().showMessage(f"Measured {lesion_id}", 4000)

    def _export_clicked(self) -> None:
        reading = self.document.reading
        start = self._settings_value("export_dir", str(Path.home()))
        name, _filter = QFileDialog.getSaveFileName(
            self,
            "Export reading",
            str(Path(start) / f"{reading.patient_id}.reading.json"),
            "Reading files (*.json)",
        )
        if name:
            self.export_reading(Path(name))

    def export_reading(self, path: Path) -> bool:
        """Write the reading file to ``path``; errors are shown, not raised."""
        try:
            write_reading(self.document.reading, path)
        except Exception as error:
            show_error(self, "Export failed", error)
            return False
        if self._settings is not None:
            self._settings.setValue("export_dir", str(path.parent))
        self.statusBar().showMessage(f"Reading exported to {path}", 6000)
        return True

    def open_export_dialog(self) -> ExportDialog | None:
        """File → Export…: formats, folder, de-identification, one or all patients."""
        if self.writer is None:
            return None
        return open_export_dialog(
            self, self.document, self.writer, self._volumes, settings=self._settings
        )

    def import_dicom_sr(self) -> None:
        """File → Import DICOM SR…: measurements of SR files into this reading."""
        self.sr_importer.choose_and_import()

    def _sr_imported(self, _imported: tuple[SrImported, ...]) -> None:
        self.statusBar().showMessage("DICOM SR measurements imported", 6000)

    def import_readings(self) -> None:
        """File → Import reading…: reading files into the database."""
        if self.reading_importer is not None:
            self.reading_importer.choose_and_import()

    def _readings_imported(self, report: ReadingImportReport) -> None:
        reading = self.document.reading
        changed_open = any(
            item.changed
            and (item.record.patient_id, item.record.criteria, item.record.reader)
            == (reading.patient_id, reading.criteria, reading.reader)
            for item in report.imported
        )
        if changed_open and self.session is not None:
            # The file replaced what the window shows: show the stored reading.
            self.document.load(self.session.open(reading))
            self.document.set_signature(self.session.signature)
        self.statusBar().showMessage(report.summary(), 10_000)

    def sign_reading(self) -> bool:
        """Ask, then sign the reading in the database; True if signing started.

        Signing runs on the autosave writer after the saves before it; the
        reading locks when the database has signed it.
        """
        writer = self.writer
        if writer is None or self.document.locked:
            return False
        reading = self.document.reading
        answer = QMessageBox.question(
            self,
            "Sign reading",
            f"Sign the reading of {reading.patient_id} "
            f"({reading.criteria.value}) as {writer.session.user}?\n\n"
            "It is locked once signed; changes then need an amendment with a reason.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.sign_action.setEnabled(False)
        writer.after_saves(
            lambda session: session.sign(reading),
            done=self._signed,
            failed=lambda message: self._signing_failed("Reading not signed", message),
            name="signing",
        )
        return True

    def _signed(self, record: ReadingRecord) -> None:
        self.document.undo_stack.setClean()  # signing saved the reading shown
        self.document.set_signature(signature_text(record))
        # The chain head stays up long enough to be written down (README,
        # Reliability: audit verify --expect-head).
        self.statusBar().showMessage(f"Reading {sign_off_text(record)}", 60_000)

    def _signing_failed(self, title: str, message: str) -> None:
        self._lock_changed(self.document.signature)  # the actions as they were
        show_message(self, title, message)

    def amend_reading(self) -> bool:
        """Ask why, then reopen the signed reading; True if amending started."""
        writer = self.writer
        if writer is None or not self.document.locked:
            return False
        reason, accepted = QInputDialog.getText(
            self,
            "Amend signed reading",
            f"The reading is {self.document.signature}.\n"
            "Why does it need to change? (kept in the audit trail)",
        )
        if not accepted:
            return False
        if not reason.strip():
            show_message(
                self,
                "Reading not amended",
                "amending a signed reading: a reason is required (it is kept in "
                "the audit trail)",
            )
            return False
        reading = self.document.reading
        self.amend_action.setEnabled(False)
        writer.after_saves(
            lambda session: session.amend(reading, reason),
            done=lambda _record: self._amended(reason),
            failed=lambda message: self._signing_failed("Reading not amended", message),
            name="amending",
        )
        return True

    def _amended(self, reason: str) -> None:
        self.document.set_signature("")
        self.statusBar().showMessage(f"Amending: {reason.strip()}", 6000)

    def show_shortcuts(self) -> None:
        """Show the keyboard and mouse shortcuts."""
        rows = "".join(
            f"<tr><td><b>{keys}</b></td><td>{meaning}</td></tr>"
            for keys, meaning in SHORTCUTS
        )
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard and mouse shortcuts")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(f"<table cellspacing=4>{rows}</table>")
        box.open()

    # ---------------------------------------------------------------- settings
    def _settings_value(self, key: str, default: str) -> str:
        if self._settings is None:
            return default
        value = self._settings.value(key, default)
        return value if isinstance(value, str) else default

    def _restore_settings(self) -> None:
        if self._settings is None:
            return
        geometry = self._settings.value("main_window/geometry")
        state = self._settings.value("main_window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        tool = self._settings_value("tool", Tool.BIDIRECTIONAL.value)
        if tool in Tool.__members__.values():
            self.set_tool(Tool(tool))

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save what is pending, remember the layout; stop background work.

        When the open reading cannot be saved, the reader chooses: close anyway
        (the unsaved change is lost) or stay.
        """
        writer = self.writer
        if writer is not None and not writer.flush():
            answer = QMessageBox.question(
                self,
                "Close without saving?",
                "The last change could not be saved: "
                f"{writer.message or 'the database did not answer'}.\n\n"
                "Close anyway and lose it?",
                QMessageBox.StandardButton.Close | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Close:
                event.ignore()
                return
        if writer is not None:
            writer.shutdown()
        if self.volume_loader is not None:
            self.volume_loader.shutdown()
        if self.patients_dock is not None:
            self.patients_dock.shutdown()
        if self._settings is not None:
            self._settings.setValue("main_window/geometry", self.saveGeometry())
            self._settings.setValue("main_window/state", self.saveState())
            self._settings.setValue("tool", self.slice_view.tool.value)
        super().closeEvent(event)
