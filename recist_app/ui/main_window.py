"""The reading workstation's main window: viewer, lesion and response panels."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shiboken6
from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPixmap,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QGridLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from recist_app.imaging import (
    WINDOW_PRESETS,
    Plane,
    apply_window,
    index_to_lps_mm,
    lps_mm_to_index,
    series_window_presets,
    slice_index_at,
)
from recist_app.recist import ReaderRole, Reading, lesion_geometry_near
from recist_app.ui import sign_off
from recist_app.ui.auto_measure import AutoMeasure, geometry_middle
from recist_app.ui.autosave import SaveState
from recist_app.ui.background import shutdown_runners_of
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
from recist_app.ui.reader_dialog import WhoIsReadingDialog
from recist_app.ui.sr_import import SrImporter
from recist_app.ui.trial import add_trial_menu
from recist_app.ui.viewer.measure_tool import Tool
from recist_app.ui.viewer.slice_view import PRESET_KEYS, SliceView
from recist_app.ui.viewer.viewport import SeriesStrip, Viewport
from recist_app.ui.vocabulary import load_vocabulary
from recist_app.workflows.export import write_reading
from recist_app.workflows.reading_session import sign_off_text, signature_text
from recist_app.workflows.vocabulary import (
    READER_ROLES,
    USER_ENV,
    current_role,
    current_user,
    parse_reader_role,
    remember_reader,
    remembered_reader,
)

if TYPE_CHECKING:
    import datetime
    from collections.abc import Mapping

    from recist_app.imaging import ImageVolume
    from recist_app.ui.document import ReadingDocument
    from recist_app.ui.viewer.measure_tool import DrawnMeasurement
    from recist_app.ui.viewer.mpr_view import MprView
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
    (
        "M",
        "Auto tool: click inside a lesion to segment it and draw its long and short "
        "axis (semi-automatic); drag outward / inward to grow / shrink the last one",
    ),
    (
        "Enter",
        "at a follow-up: measure the selected lesion where it is predicted (T02?), "
        "for you to check and correct",
    ),
    ("Esc", "cancel the drawing or Auto run in progress, else deselect the lesion"),
    (". / ,", "next / previous lesion (centred in every viewport)"),
    ("Ctrl+PgDown / Ctrl+PgUp", "next / previous visit"),
    ("Ctrl+1 / Ctrl+2 / Ctrl+4", "layout 1 × 1, 1 × 2, 2 × 2"),
    ("Drag a visit from the strip", "show it in the viewport dropped on"),
    ("Drag a handle", "edit a measurement (one undo step)"),
    ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo"),
    ("Ctrl+E", "export the reading as JSON"),
    ("Ctrl+Shift+S", "sign the reading (locks it until amended)"),
    ("F1", "this list"),
)


def _visit_label(visit: str, date: datetime.date) -> str:
    return f"{visit.title()}  {date.isoformat()}"


_HOTKEYS = frozenset(
    {
        Qt.Key.Key_Up,
        Qt.Key.Key_Down,
        Qt.Key.Key_Left,
        Qt.Key.Key_Right,
        Qt.Key.Key_PageUp,
        Qt.Key.Key_PageDown,
        Qt.Key.Key_Home,
        Qt.Key.Key_End,
        Qt.Key.Key_Escape,
        Qt.Key.Key_Period,
        Qt.Key.Key_Comma,
        Qt.Key.Key_F,
        Qt.Key.Key_Return,
        Qt.Key.Key_Enter,
        *(Qt.Key(Qt.Key.Key_1 + n) for n in range(len(PRESET_KEYS))),
    }
)
"""Keys the viewer owns wherever the focus is while the window is active."""

_TEXT_ENTRY = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)
_ENTER = frozenset({Qt.Key.Key_Return, Qt.Key.Key_Enter})


class _HotkeyFilter(QObject):
    """Application-wide key filter: the viewer's hotkeys while its window is active.

    As OHIF binds them app-wide: Home/End/arrows scroll the images even when a
    drop-down or the lesion table has the focus (they never change the visit),
    presets 1–6 work anywhere. Text entry (a name, a reason, a cell being edited)
    keeps its keys, and so do dialogs and open pop-ups.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Send the viewer's hotkeys to the window, whatever has the focus."""
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        window = self._window
        if not window.isActiveWindow() or QApplication.activePopupWidget():
            return False
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        key = Qt.Key(event.key())
        if modifiers != Qt.KeyboardModifier.NoModifier or key not in _HOTKEYS:
            return False
        # The receiver is the widget with the focus (or the window itself).
        if not isinstance(watched, QWidget) or watched.window() is not window:
            return False
        if isinstance(watched, _TEXT_ENTRY) or (
            isinstance(watched, QComboBox) and watched.isEditable()
        ):
            return False
        parent = watched.parentWidget()
        grand = parent.parentWidget() if parent is not None else None
        if isinstance(grand, QAbstractItemView) and watched is not grand.viewport():
            return False  # an editor open in a table cell keeps its keys
        if key in _ENTER and (
            watched is not (QApplication.focusWidget() or window)
            or not window.takes_enter_from(watched)
        ):
            # Enter presses a button, opens a drop-down or a patient; it is
            # ours only where the focus is (not as it bubbles up to a parent).
            return False
        return window.handle_hotkey(key)


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
        self.auto = AutoMeasure(self)  # click-to-measure, registration, Enter

        # Images first (issue 18): a slim study/series strip over a grid of
        # viewports (1×1, 1×2, 2×2); the current visit is measured in viewport
        # 1, the others show any visit as the comparison, or a reformat.
        self.visit_combo = QComboBox()
        self.visit_combo.setMinimumContentsLength(16)
        self.visit_combo.setToolTip("The visit read (measured) in this viewport")
        self.visit_combo.activated.connect(self._visit_chosen)
        self.viewports = [
            Viewport(),
            Viewport(combo=self.visit_combo),
            Viewport(),
            Viewport(),
        ]
        self.current_viewport = self.viewports[1]
        self.slice_view = self.current_viewport.view
        self.prior_view = self.viewports[0].view  # the first comparison
        for viewport, source in zip(
            self.viewports, ("previous", "", "coronal", "sagittal"), strict=True
        ):
            viewport.source = source
            if viewport is not self.current_viewport:
                viewport.view.set_tool(Tool.NAVIGATE)
                viewport.source_chosen.connect(
                    lambda key, v=viewport: self.set_viewport_source(v, key)
                )
            viewport.visit_dropped.connect(
                lambda visit, v=viewport: self._visit_dropped(v, visit)
            )
            viewport.coronal.cursor_moved.connect(self._mpr_cursor_moved)
            viewport.sagittal.cursor_moved.connect(self._mpr_cursor_moved)
        self.series_strip = SeriesStrip()
        self.series_strip.visit_activated.connect(self._visit_from_strip)
        self._thumbnails: dict[str, QPixmap] = {}
        self._window_by_series: dict[str, tuple[float, float]] = {}
        self._linking_zoom = False
        self._sized_side = False
        self._restored_state = False
        self._showing_volume = False  # a new volume's own window is not a choice
        self._layout = "1x2"
        grid_widget = QWidget()
        self._grid = QGridLayout(grid_widget)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        for index, viewport in enumerate(self.viewports):
            self._grid.addWidget(viewport, index // 2, index % 2)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(2, 2, 2, 2)
        column.setSpacing(2)
        column.addWidget(self.series_strip)
        column.addWidget(grid_widget, 1)
        self.setCentralWidget(central)
        self.lesion_panel = LesionPanel(document, vocabulary or load_vocabulary())
        self.response_panel = ResponsePanel(document, settings=settings)
        self.history_panel = HistoryPanel(document)
        # One side panel: lesions over responses; the history (table and plot)
        # and the patient list one tab away.
        reading_split = QSplitter(Qt.Orientation.Vertical)
        reading_split.addWidget(self.lesion_panel)
        # The response table keeps all its rows; at 1366×768 it scrolls in
        # its part of the panel so the lesion table keeps the height.
        response_scroll = QScrollArea()
        response_scroll.setWidgetResizable(True)
        response_scroll.setFrameShape(QFrame.Shape.NoFrame)
        response_scroll.setWidget(self.response_panel)
        reading_split.addWidget(response_scroll)
        reading_split.setChildrenCollapsible(False)
        reading_split.setStretchFactor(0, 3)
        reading_split.setStretchFactor(1, 2)
        reading_split.setSizes([640, 340])  # the lesion table gets the most
        self._reading_split = reading_split
        reading_scroll = QScrollArea()
        reading_scroll.setWidgetResizable(True)
        reading_scroll.setFrameShape(QFrame.Shape.NoFrame)
        reading_scroll.setWidget(reading_split)
        self.side_tabs = QTabWidget()
        self.side_tabs.setDocumentMode(True)
        self.side_tabs.addTab(reading_scroll, "Lesions && response")
        history_scroll = QScrollArea()
        history_scroll.setWidgetResizable(True)
        history_scroll.setFrameShape(QFrame.Shape.NoFrame)
        history_scroll.setWidget(self.history_panel)
        self.side_tabs.addTab(history_scroll, "History")
        self.side_dock = self._dock("Reading", self.side_tabs, "reading")
        self.side_dock.setMinimumWidth(340)
        self.resizeDocks([self.side_dock], [440], Qt.Orientation.Horizontal)

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
        self.slice_view.auto_clicked.connect(self.auto.clicked)
        # The status line follows on the next turn of the event loop, coalesced:
        # scrolling repaints the images, not the status bar, every step.
        self._status_timer = QTimer(self)
        self._status_timer.setSingleShot(True)
        self._status_timer.setInterval(0)
        self._status_timer.timeout.connect(self._show_view_status)
        self.slice_view.slice_changed.connect(lambda _index: self._status_timer.start())
        self.slice_view.window_changed.connect(
            lambda _c, _w: self._status_timer.start()
        )
        self.slice_view.point_chosen.connect(self._point_chosen)
        for viewport in self.viewports:
            view = viewport.view
            view.slice_changed.connect(lambda _k, v=view: self._link_slices(v))
            view.window_changed.connect(
                lambda c, w, v=view: self._window_changed(v, c, w)
            )
            view.zoom_changed.connect(lambda v=view: self._link_zoom(v))
        self.lesion_panel.jump_requested.connect(self.show_lesion)
        self._hotkeys = _HotkeyFilter(self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._hotkeys)
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
        self.resize(1280, 720)
        self.set_layout("1x2")
        self._restore_settings()
        self._lock_changed(document.signature)
        self._load_missing_volumes()

    # ---------------------------------------------------------------- building
    def showEvent(self, event: QShowEvent) -> None:
        """The first time: give the side panel a third of the width (not saved)."""
        super().showEvent(event)
        if not self._sized_side and not self._restored_state:
            self._sized_side = True
            screen = self.screen()
            reference = screen.availableGeometry().width() if screen else self.width()
            width = max(440, min(640, reference * 3 // 10))
            self.resizeDocks([self.side_dock], [width], Qt.Orientation.Horizontal)

    def _patients_dock(self, store: Store, user: str) -> PatientsDock:
        dock = PatientsDock(store, user=user, document=self.document, parent=self)
        dock.setObjectName("dock_patients")
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        # One tab away from the lesions: the viewports keep the width.
        self.tabifyDockWidget(self.side_dock, dock)
        self.side_dock.raise_()
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
        # Fixed labels: what would be undone is the tooltip, so the toolbar
        # never changes width after an edit (issue 18).
        self.undo_action = QAction("&Undo", self)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.triggered.connect(stack.undo)
        self.redo_action = QAction("&Redo", self)
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)
        self.redo_action.triggered.connect(stack.redo)
        # Bound methods, not lambdas: Qt drops the connections when this
        # window goes, and the slot checks the stack still exists.
        stack.canUndoChanged.connect(self._undo_state_changed)
        stack.canRedoChanged.connect(self._undo_state_changed)
        stack.undoTextChanged.connect(self._undo_state_changed)
        stack.redoTextChanged.connect(self._undo_state_changed)

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
        reading_menu.addSeparator()
        self.reader_action = QAction("Reader &identity…", self)
        self.reader_action.setToolTip(
            "Who signs: remembered on this computer and shown in the title bar"
        )
        self.reader_action.triggered.connect(lambda: self.set_reader_identity())
        reading_menu.addAction(self.reader_action)
        self.role_action = QAction("Reading &role…", self)
        self.role_action.setToolTip(
            "Who you read as in a central review: reader 1, reader 2 (blinded to "
            "each other), adjudicator, or single (a site read)"
        )
        self.role_action.triggered.connect(self.choose_role)
        reading_menu.addAction(self.role_action)

        self.tool_actions: dict[Tool, QAction] = {}
        group = QActionGroup(self)
        tools_menu = self.menuBar().addMenu("&Tools")
        for tool, label, key in (
            (Tool.NAVIGATE, "Navigate", "V"),
            (Tool.LINE, "Long axis", "L"),
            (Tool.BIDIRECTIONAL, "Bidirectional", "B"),
            (Tool.VIABLE, "Viable diameter", "A"),
            (Tool.AUTO, "Auto", "M"),
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
        self.tool_actions[Tool.AUTO].setToolTip(
            "Auto (M): click inside a lesion to segment it and draw its long and "
            "short axis; drag outward / inward to grow / shrink the result. Enter "
            "at a follow-up measures the selected lesion where it is predicted"
        )

        view_menu = self.menuBar().addMenu("&View")
        fit_action = QAction("&Fit to window", self)
        fit_action.setToolTip("Fit the image to the viewport (F)")
        fit_action.triggered.connect(self.slice_view.fit)
        view_menu.addAction(fit_action)
        presets = view_menu.addMenu("Window &presets")
        for number, preset in enumerate(PRESET_KEYS, start=1):
            action = QAction(f"{number}  {preset.name}", self)
            action.triggered.connect(
                lambda _checked=False, n=number: self.slice_view.apply_preset(n)
            )
            presets.addAction(action)
        view_menu.addSeparator()
        self.layout_actions: dict[str, QAction] = {}
        layouts = QActionGroup(self)
        for mode, label, key in (
            ("1x1", "1 × 1", "Ctrl+1"),
            ("1x2", "1 × 2", "Ctrl+2"),
            ("2x2", "2 × 2", "Ctrl+4"),
        ):
            action = QAction(f"Layout {label}", self, checkable=True)
            action.setShortcut(QKeySequence(key))
            action.setToolTip(f"Viewports: {label} ({key})")
            action.triggered.connect(lambda _checked=False, m=mode: self.set_layout(m))
            layouts.addAction(action)
            view_menu.addAction(action)
            self.layout_actions[mode] = action
        self.link_zoom_action = QAction("&Link zoom between viewports", self)
        self.link_zoom_action.setCheckable(True)
        view_menu.addAction(self.link_zoom_action)
        view_menu.addSeparator()
        next_action = QAction("&Next lesion", self)
        next_action.setToolTip("Jump to the next lesion (.)")
        next_action.triggered.connect(lambda: self.step_lesion(1))
        previous_action = QAction("&Previous lesion", self)
        previous_action.setToolTip("Jump to the previous lesion (,)")
        previous_action.triggered.connect(lambda: self.step_lesion(-1))
        view_menu.addAction(next_action)
        view_menu.addAction(previous_action)
        next_visit = QAction("Next &visit", self)
        next_visit.setShortcut(QKeySequence("Ctrl+PgDown"))
        next_visit.triggered.connect(lambda: self.step_visit(1))
        previous_visit = QAction("Previous v&isit", self)
        previous_visit.setShortcut(QKeySequence("Ctrl+PgUp"))
        previous_visit.triggered.connect(lambda: self.step_visit(-1))
        view_menu.addAction(next_visit)
        view_menu.addAction(previous_visit)
        view_menu.addSeparator()
        self.history_action = QAction("Lesion &history", self)
        self.history_action.setShortcut(QKeySequence("Ctrl+H"))
        self.history_action.triggered.connect(lambda: self.side_tabs.setCurrentIndex(1))
        view_menu.addAction(self.history_action)
        view_menu.addAction(self.side_dock.toggleViewAction())

        help_menu = self.menuBar().addMenu("&Help")
        shortcuts_action = QAction("&Keyboard shortcuts", self)
        shortcuts_action.setShortcut(QKeySequence("F1"))
        shortcuts_action.triggered.connect(self.show_shortcuts)
        help_menu.addAction(shortcuts_action)

        toolbar = self.addToolBar("Reading")
        toolbar.setObjectName("toolbar_reading")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.addAction(self.undo_action)
        toolbar.addAction(self.redo_action)
        toolbar.addSeparator()
        for action in self.tool_actions.values():
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(fit_action)
        for action in self.layout_actions.values():
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.sign_action)
        toolbar.addAction(self.amend_action)
        self.toolbar = toolbar
        self.set_tool(Tool.BIDIRECTIONAL)
        self._undo_state_changed()

    # ---------------------------------------------------------------- volumes
    def volume_at(self, visit: str) -> ImageVolume | None:
        """The volume read at ``visit``, if loaded."""
        try:
            series_uid = self.document.reading.timepoint(visit).series_instance_uid
        except KeyError:
            return None
        return self._volumes.get(series_uid or "")

    def open_patient(self, patient_id: str, *, reader: str | None = None) -> bool:
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
                patient_id=patient_id,
                criteria=current.criteria,
                reader=current.reader if reader is None else reader,
            )
            reading = session.open(fresh)
        except Exception as error:
            show_error(self, f"Patient {patient_id} not opened", error)
            return False
        if self.volume_loader is not None:
            self.volume_loader.cancel()
        self._volumes = {}
        self.auto.forget_patient()
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
        """Series of the reading not loaded yet: those shown first, then the rest."""
        reading = self.document.reading
        visits = [self.document.visit]
        visits += [visit for _viewport, visit in self._axial_panes()]
        visits += [t.visit for t in reading.timepoints]
        wanted: list[str] = []
        for visit in visits:
            series_uid = self._series_of(visit)
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
        for viewport, visit in self._axial_panes():
            view = viewport.view
            if view.volume is None and self._series_of(visit) in wanted:
                view.set_loading_text("Loading…")

    def _series_of(self, visit: str | None) -> str:
        if not visit:
            return ""
        try:
            return self.document.reading.timepoint(visit).series_instance_uid or ""
        except KeyError:
            return ""

    def _views_of(self, series_uid: str) -> list[SliceView]:
        return [
            viewport.view
            for viewport, visit in self._axial_panes()
            if self._series_of(visit) == series_uid
        ]

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
            if series_uid == self._series_of(self.document.visit):
                self._refresh_reformats()
        loader = self.volume_loader
        if loader is not None and series_uid not in loader.pending:
            for view in views:
                view.set_loading_text("")
            self._refresh_strip()
            self.auto.refresh()

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

    # ---------------------------------------------------------------- viewports
    def set_layout(self, mode: str) -> None:
        """Show 1×1 (current only), 1×2 (comparison, current) or 2×2 viewports."""
        shown = {"1x1": (1,), "1x2": (0, 1), "2x2": (0, 1, 2, 3)}.get(mode)
        if shown is None:
            return
        self._layout = mode
        for index, viewport in enumerate(self.viewports):
            viewport.setVisible(index in shown)
        self._grid.setRowStretch(0, 1)
        self._grid.setRowStretch(1, 1 if mode == "2x2" else 0)
        self._grid.setColumnStretch(0, 0 if mode == "1x1" else 1)
        self._grid.setColumnStretch(1, 1)
        self.layout_actions[mode].setChecked(True)
        self._refresh_viewports()
        self._load_missing_volumes()
        self._update_overlays()

    @property
    def layout_mode(self) -> str:
        """``1x1``, ``1x2`` or ``2x2``."""
        return self._layout

    def _comparison_sources(self) -> list[tuple[str, str]]:
        items = [
            ("Previous visit", "previous"),
            ("Baseline", "baseline"),
            ("Nadir", "nadir"),
        ]
        items += [
            (_visit_label(t.visit, t.date), f"visit:{t.visit}")
            for t in self.document.reading.timepoints
        ]
        items += [("Coronal MPR", "coronal"), ("Sagittal MPR", "sagittal")]
        return items

    def set_viewport_source(self, viewport: Viewport, source: str) -> None:
        """Show ``source`` in a comparison viewport.

        ``previous``, ``baseline``, ``nadir``, ``visit:NAME`` (any visit), or
        ``coronal`` / ``sagittal`` (a reformat of the current series).
        """
        if viewport is self.current_viewport:
            return
        viewport.source = source
        self._refresh_viewport(viewport)
        self._load_missing_volumes()
        self._update_overlays()
        self._link_slices(self.slice_view)
        self.auto.refresh()

    def _visit_dropped(self, viewport: Viewport, visit: str) -> None:
        if viewport is self.current_viewport:
            self.document.set_visit(visit)
        else:
            self.set_viewport_source(viewport, f"visit:{visit}")

    def _visit_from_strip(self, visit: str) -> None:
        self.document.set_visit(visit)

    def comparison_visit(self, source: str) -> str | None:
        """The visit a comparison ``source`` names for the visit read now."""
        reading = self.document.reading
        visits = [t.visit for t in reading.timepoints]
        current = self.document.visit
        index = visits.index(current) if current in visits else -1
        if source == "previous":
            return visits[index - 1] if index > 0 else None
        if source == "baseline":
            baseline = reading.baseline
            return baseline.visit if baseline is not None else None
        if source == "nadir":
            return self._nadir_visit(visits[:index] if index > 0 else [])
        if source.startswith("visit:"):
            visit = source.removeprefix("visit:")
            return visit if visit in visits else None
        return None

    def _nadir_visit(self, earlier: list[str]) -> str | None:
        """The earlier visit with the smallest sum of diameters (baseline first)."""
        assessment = self.document.assessment
        sums: dict[str, float] = {}
        baseline = assessment.baseline
        if baseline.visit and baseline.sum_of_diameters_mm is not None:
            sums[baseline.visit] = baseline.sum_of_diameters_mm
        for timepoint in assessment.timepoints:
            if timepoint.sum_of_diameters_mm is not None:
                sums[timepoint.visit] = timepoint.sum_of_diameters_mm
        candidates = [visit for visit in earlier if visit in sums]
        if not candidates:
            return None
        return min(candidates, key=lambda visit: (sums[visit], -earlier.index(visit)))

    def _axial_panes(self) -> list[tuple[Viewport, str]]:
        """Visible viewports showing axial images, with the visit each shows."""
        panes: list[tuple[Viewport, str]] = []
        for viewport in self.viewports:
            if viewport.isHidden() and viewport is not self.current_viewport:
                continue
            if viewport is self.current_viewport:
                visit: str | None = self.document.visit
            elif viewport.source in ("coronal", "sagittal"):
                continue
            else:
                visit = self.comparison_visit(viewport.source)
            if visit:
                panes.append((viewport, visit))
        return panes

    def _refresh_viewports(self) -> None:
        for viewport in self.viewports:
            if viewport is not self.current_viewport:
                self._refresh_viewport(viewport)
        self._refresh_reformats()

    def _refresh_viewport(self, viewport: Viewport) -> None:
        viewport.set_sources(self._comparison_sources(), viewport.source)
        if viewport.source in ("coronal", "sagittal"):
            viewport.show_plane(Plane(viewport.source))
            viewport.tag.setText("")
            self._refresh_reformats()
            return
        viewport.show_plane(Plane.AXIAL)
        visit = self.comparison_visit(viewport.source)
        volume = self.volume_at(visit) if visit else None
        view = viewport.view
        reading = self.document.reading
        if visit is not None:
            date = reading.timepoint(visit).date.isoformat()
            viewport.tag.setText(f"{visit.title()}  {date}")
        else:
            viewport.tag.setText("no such visit before this one")
        if volume is None:
            view.set_volume(None)
            view.set_loading_text("" if visit else "No visit to compare")
            return
        if view.volume is not volume:
            kind = {"previous": "PRIOR", "baseline": "BASELINE", "nadir": "NADIR"}
            label = kind.get(viewport.source, "COMPARE")
            self._showing_volume = True
            view.set_volume(
                volume,
                title_lines=[
                    reading.patient_id,
                    f"{label}: {visit.title() if visit else ''} "
                    f"{reading.timepoint(visit).date.isoformat() if visit else ''}",
                ],
            )
            self._showing_volume = False
            view.set_loading_text("")
            self._restore_window(view)

    def _refresh_reformats(self) -> None:
        volume = self.slice_view.volume
        visit = self.document.visit
        title = f"{visit.title()}" if visit else ""
        for viewport in self.viewports:
            for mpr in (viewport.coronal, viewport.sagittal):
                if viewport.isHidden() or viewport.plane is not mpr.plane:
                    continue
                mpr.set_volume(volume, title=title)
                mpr.set_window(*self.slice_view.window_level)
        self._sync_reformat_cursor()

    def _reformats(self) -> list[MprView]:
        return [
            mpr
            for viewport in self.viewports
            for mpr in (viewport.coronal, viewport.sagittal)
            if not viewport.isHidden() and viewport.plane is mpr.plane
        ]

    def _sync_reformat_cursor(self, point: tuple[float, float] | None = None) -> None:
        """Put the reformats' crosshair on the axial view's slice (and point)."""
        view = self.slice_view
        if view.volume is None:
            return
        for mpr in self._reformats():
            if mpr.volume is not view.volume:
                continue
            i, j, _k = mpr.cursor_ijk
            if point is not None:
                i, j = point
            mpr.set_cursor_ijk(i, j, float(view.slice_index))

    def _point_chosen(self, i: float, j: float) -> None:
        self._sync_reformat_cursor((i, j))

    def _mpr_cursor_moved(self, i: float, j: float, k: float) -> None:
        self.slice_view.set_slice_index(round(k))
        self._sync_reformat_cursor((i, j))

    def _restore_window(self, view: SliceView) -> None:
        """The series' own last window (W/L kept per series across visits)."""
        volume = view.volume
        if volume is None:
            return
        known = self._window_by_series.get(volume.series_instance_uid)
        if known is not None:
            view.set_window(*known)
        elif view is not self.slice_view:
            view.set_window(*self.slice_view.window_level)

    def _window_changed(self, view: SliceView, center: float, width: float) -> None:
        volume = view.volume
        if volume is not None and not (self._showing_volume or self._linking):
            self._window_by_series[volume.series_instance_uid] = (center, width)
        if view is self.slice_view and not self._linking:
            self._linking = True
            try:
                for viewport, _visit in self._axial_panes():
                    if viewport.view is not view:
                        viewport.view.set_window(center, width, deferred=True)
                for mpr in self._reformats():
                    mpr.set_window(center, width)
            finally:
                self._linking = False

    def _link_zoom(self, source: SliceView) -> None:
        if not self.link_zoom_action.isChecked() or self._linking_zoom:
            return
        self._linking_zoom = True
        try:
            for viewport, _visit in self._axial_panes():
                if viewport.view is not source:
                    viewport.view.set_zoom_and_center(
                        source.zoom, source.view_center_mm()
                    )
        finally:
            self._linking_zoom = False

    def _refresh_strip(self) -> None:
        reading = self.document.reading
        visits: list[tuple[str, str, QPixmap | None]] = []
        for timepoint in reading.timepoints:
            series_uid = timepoint.series_instance_uid or ""
            visits.append(
                (
                    timepoint.visit,
                    f"{timepoint.visit.title()}",
                    self._thumbnail(series_uid),
                )
            )
        self.series_strip.set_visits(visits, self.document.visit)

    def _thumbnail(self, series_uid: str) -> QPixmap | None:
        known = self._thumbnails.get(series_uid)
        if known is not None:
            return known
        volume = self._volumes.get(series_uid)
        loader = self.volume_loader
        if volume is None or (loader is not None and series_uid in loader.pending):
            return None
        step = max(1, max(volume.rows, volume.columns) // 56)
        middle = volume.voxels[volume.slice_count // 2][::step, ::step]
        own = series_window_presets(volume)
        preset = own[0] if own else WINDOW_PRESETS["soft tissue"]
        pixels = np.ascontiguousarray(
            apply_window(
                middle,
                preset.center,
                preset.width,
                rescale_slope=volume.rescale_slope,
                rescale_intercept=volume.rescale_intercept,
            )
        )
        height, width = pixels.shape
        image = QImage(
            pixels.data, width, height, width, QImage.Format.Format_Grayscale8
        ).copy()
        pixmap = QPixmap.fromImage(image)
        self._thumbnails[series_uid] = pixmap
        return pixmap

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
        self._showing_volume = True
        try:
            self.slice_view.set_volume(volume, title_lines=lines)
        finally:
            self._showing_volume = False
        self._restore_window(self.slice_view)
        self._refresh_viewports()
        self._refresh_strip()
        self.auto.clear_outline()
        self.auto.refresh()
        self._link_slices(self.slice_view)
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
        shown = [viewport.view.volume for viewport, _visit in self._axial_panes()]
        wanted = [self.volume_at(visit) for _viewport, visit in self._axial_panes()]
        if self.slice_view.volume is not self.volume_at(self.document.visit) or (
            shown != wanted
        ):
            self._visit_changed(self.document.visit)  # a visit's series changed
        else:
            self._refresh_viewports()  # the nadir may have moved
        self._load_missing_volumes()
        self._update_overlays()
        self.auto.refresh()  # lesions measured or undone: predictions follow
        self._update_title()

    def _prior_visit(self) -> str | None:
        """The visit of the first comparison viewport."""
        return self.comparison_visit(self.viewports[0].source)

    @staticmethod
    def _nearest_slice(volume: ImageVolume, position_mm: float) -> int:
        return int(np.argmin(np.abs(volume.slice_heights_mm - position_mm)))

    def anatomy_slice(self, source: SliceView, target: SliceView) -> int | None:
        """The slice of ``target`` showing the anatomy at ``source``'s centre.

        The point at the centre of ``source`` (held inside its image) goes
        through the two series' registration; ``None`` until it is ready.
        """
        volume, other = source.volume, target.volume
        if volume is None or other is None:
            return None
        i, j = source.image_point_at_center()
        i = min(max(i, 0.0), volume.columns - 1.0)
        j = min(max(j, 0.0), volume.rows - 1.0)
        point = index_to_lps_mm(volume, np.array([i, j, source.slice_index], float))
        mapped = self.auto.map_between(
            (float(point[0]), float(point[1]), float(point[2])),
            volume.series_instance_uid,
            other.series_instance_uid,
        )
        if mapped is None:
            return None
        k = slice_index_at(other, mapped)
        return max(0, min(other.slice_count - 1, round(k)))

    def _link_slices(self, source: SliceView) -> None:
        # Every axial viewport follows the one scrolled: by anatomy once the two
        # series are registered (issue 19), by table position until then; the
        # guard stops the echo (with different slice spacings the nearest slice
        # back would not always be the slice we came from).
        if self._linking:
            return
        position = source.slice_position_mm()
        if position is None:
            return
        self._linking = True
        try:
            for viewport, _visit in self._axial_panes():
                view = viewport.view
                if view is source or view.volume is None:
                    continue
                k = self.anatomy_slice(source, view)
                if k is None:
                    k = self._nearest_slice(view.volume, position)
                view.set_slice_index(k, deferred=True)
            self._sync_reformat_cursor()
        finally:
            self._linking = False

    def _update_overlays(self) -> None:
        document = self.document
        panes = self._axial_panes()
        for viewport in self.viewports:
            if all(viewport is not pane for pane, _visit in panes):
                viewport.view.set_overlays(())
        for viewport, visit in panes:
            volume = viewport.view.volume
            if volume is None:
                viewport.view.set_overlays(())
                continue
            current = viewport is self.current_viewport
            viewport.view.set_overlays(
                measurement_overlays(
                    document.reading,
                    visit,
                    volume,
                    selected_lesion_id=document.selected_lesion_id,
                    # The prior lines as a hint, unless registration predicts
                    # where the lesion is now (a moved patient).
                    prior_visit=visit
                    if current
                    and not self.auto.predicted_point(
                        document.selected_lesion_id, visit
                    )
                    else None,
                )
            )
            viewport.view.set_markers(
                self.auto.markers(visit, volume) if current else ()
            )

    def _selection_changed(self, lesion_id: str) -> None:
        self._update_overlays()
        if lesion_id:
            self.show_lesion(lesion_id)

    def _lesion_point(
        self, volume: ImageVolume, lesion_id: str, visit: str
    ) -> tuple[float, float, float] | None:
        # Where it is predicted at this visit (issue 19, a follow-up not yet
        # measured), else its own lines at this visit, else another visit's
        # lines carried over by the registration (or as they are, until then).
        predicted = self.auto.predicted_point(lesion_id, visit)
        if predicted is not None:
            i, j, k = (float(v) for v in lps_mm_to_index(volume, predicted))
            return (i, j, k)
        geometry = lesion_geometry_near(self.document.reading, lesion_id, visit)
        if geometry is None:
            return None
        middle = geometry_middle(geometry)
        if middle is None:
            return None
        mapped = self.auto.map_between(
            middle, geometry.series_instance_uid, volume.series_instance_uid
        )
        i, j, k = (float(v) for v in lps_mm_to_index(volume, mapped or middle))
        return (i, j, k)

    def show_lesion(self, lesion_id: str) -> None:
        """Centre ``lesion_id`` in every viewport, at its slice (any visit's mark).

        Each axial viewport shows its own visit's mark of the lesion (else the
        nearest visit's); the reformats put their crosshair on it.
        """
        if not lesion_id:
            return
        self._linking = True
        try:
            for viewport, visit in self._axial_panes():
                view = viewport.view
                volume = view.volume
                if volume is None:
                    continue
                point = self._lesion_point(volume, lesion_id, visit)
                if point is None:
                    continue
                view.set_slice_index(round(point[2]))
                view.center_on((point[0], point[1]))
        finally:
            self._linking = False
        volume = self.slice_view.volume
        if volume is not None:
            point = self._lesion_point(volume, lesion_id, self.document.visit)
            if point is not None:
                for mpr in self._reformats():
                    if mpr.volume is volume:
                        mpr.set_cursor_ijk(*point)

    def step_lesion(self, step: int) -> str:
        """Select (and jump to) the next (``step`` 1) or previous (-1) lesion."""
        lesions = [lesion.lesion_id for lesion in self.document.reading.lesions]
        if not lesions:
            return ""
        current = self.document.selected_lesion_id
        if current in lesions:
            index = (lesions.index(current) + step) % len(lesions)
        else:
            index = 0 if step > 0 else len(lesions) - 1
        self.document.select_lesion(lesions[index])
        return lesions[index]

    def step_visit(self, step: int) -> str:
        """Read the next (``step`` 1) or previous (-1) visit; return it."""
        visits = [t.visit for t in self.document.reading.timepoints]
        if not visits:
            return ""
        current = self.document.visit
        index = visits.index(current) if current in visits else 0
        visit = visits[min(max(index + step, 0), len(visits) - 1)]
        self.document.set_visit(visit)
        return visit

    def takes_enter_from(self, widget: QWidget) -> bool:
        """Whether Enter pressed in ``widget`` means "accept" (issue 19).

        The images, the lesion table and the window itself; never a button, a
        drop-down or another list (the patient list opens a patient with it).
        """
        if isinstance(widget, QAbstractButton | QComboBox):
            return False
        return (
            widget is self
            or any(viewport.isAncestorOf(widget) for viewport in self.viewports)
            or self.lesion_panel.isAncestorOf(widget)
        )

    def handle_hotkey(self, key: Qt.Key) -> bool:
        """A global hotkey (whatever has the focus); False when it is not one.

        Esc cancels an Auto run or a drawing, else deselects; Enter at a
        follow-up measures the selected lesion where it is predicted; ``.`` /
        ``,`` step through the lesions; slices, presets and fit go to the
        current viewport.
        """
        if key in _ENTER:
            return self.auto.accept()
        if key == Qt.Key.Key_Escape:
            if self.auto.busy:
                self.auto.cancel()
            elif self.slice_view.drawing:
                self.slice_view.cancel_drawing()
            elif self.document.selected_lesion_id:
                self.document.select_lesion("")
            else:
                return False
            return True
        if key == Qt.Key.Key_Period:
            self.step_lesion(1)
            return True
        if key == Qt.Key.Key_Comma:
            self.step_lesion(-1)
            return True
        return self.slice_view.handle_key(key)

    def _schedule_status(self, *_args: object) -> None:
        if shiboken6.isValid(self._status_timer):
            self._status_timer.start()

    def _show_view_status(self) -> None:
        self._show_slice_status(self.slice_view.slice_index)
        self._show_window_status(*self.slice_view.window_level)

    def _show_slice_status(self, _index: int) -> None:
        position = self.slice_view.slice_position_mm()
        text = self.slice_view.slice_text()
        if position is not None:
            text += f"   {position:.1f} mm"
        self.slice_label.setText(text)

    def _show_window_status(self, _center: float, _width: float) -> None:
        self.window_label.setText(self.slice_view.window_text())

    def reader(self) -> str:
        """Who signs and is audited: the session's reader identity."""
        return self.session.user if self.session is not None else current_user()

    def _update_title(self, *_args: object) -> None:
        reading = self.document.reading
        signature = self.document.signature
        session = self.session
        # the reader identity, then the central-review role (a site read, the
        # "single" role, names no role)
        role = (
            ""
            if session is None or session.role is ReaderRole.SINGLE
            else f" as {session.role.value}"
        )
        self.setWindowTitle(
            f"recist_app — {reading.patient_id} ({reading.criteria.value})"
            + (f" — {signature}" if signature else "")
            + f" — reader: {self.reader()}{role}"
            + ("" if self.reader_name_set() else " (name not set)")
            + "[*]"
        )

    def reader_name_set(self) -> bool:
        """Whether a reader name was set (in the app or ``$RECIST_APP_USER``)."""
        return bool(os.environ.get(USER_ENV, "").strip() or remembered_reader())

    def set_reader_identity(self, name: str | None = None) -> bool:
        """Reading → Reader identity…: remember who reads (title bar, signatures).

        Asks for the name when ``name`` is ``None``; True when it changed.
        """
        if name is None:
            name, accepted = QInputDialog.getText(
                self,
                "Reader identity",
                "Your name as it signs readings and appears in the audit trail "
                "(remembered on this computer):",
                text=self.reader(),
            )
            if not accepted:
                return False
        changed = False
        with error_boundary(self, "Reader identity not set"):
            remembered = remember_reader(name)
            if self.session is not None:
                self.session.set_user(remembered)
            self._update_title()
            self.statusBar().showMessage(f"Reader: {remembered}", 6000)
            changed = True
        return changed

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

    def ask_who_reads(self) -> WhoIsReadingDialog:
        """The first start's question: the reader's name and role, in one dialog.

        Window-modal, never blocking the caller; OK remembers both (as Reading →
        Reader identity… and Reading → Reading role… do).
        """
        role = self.session.role if self.session is not None else current_role()
        name = self.reader() if self.reader_name_set() else ""
        dialog = WhoIsReadingDialog(name, role, self)

        def accepted() -> None:
            if self.set_reader_identity(dialog.name):
                self.set_role(dialog.role)

        dialog.accepted.connect(accepted)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

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
        self._undo_state_changed()
        has_store = self.writer is not None
        self.sign_action.setEnabled(has_store and not locked)
        self.amend_action.setEnabled(has_store and locked)
        self.signature_label.setText(f"🔒 {signature.capitalize()}" if locked else "")
        self._update_title()

    def _undo_state_changed(self, *_args: object) -> None:
        stack = self.document.undo_stack
        if not shiboken6.isValid(stack) or not shiboken6.isValid(self.undo_action):
            return
        locked = self.document.locked
        self.undo_action.setEnabled(not locked and stack.canUndo())
        self.redo_action.setEnabled(not locked and stack.canRedo())
        self.undo_action.setToolTip(
            f"Undo {stack.undoText()} (Ctrl+Z)"
            if stack.canUndo()
            else "Nothing to undo"
        )
        self.redo_action.setToolTip(
            f"Redo {stack.redoText()} (Ctrl+Shift+Z)"
            if stack.canRedo()
            else "Nothing to redo"
        )

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
            warnings = self.controller.last_warnings
            if warnings:
                self.statusBar().showMessage("⚠ " + "; ".join(warnings), 15_000)
            else:
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
        if not sign_off.confirm_sign_off(
            self, reading, self.document.assessment, writer.session.user
        ):
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
        reason = sign_off.ask_reason(
            self,
            "Amend signed reading",
            f"The reading is {self.document.signature}.\n"
            "Why does it need to change? (kept in the audit trail)",
        )
        if reason is None:
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
            self._restored_state = bool(self.restoreState(state))
        tool = self._settings_value("tool", Tool.BIDIRECTIONAL.value)
        if tool in Tool.__members__.values():
            self.set_tool(Tool(tool))
        self.link_zoom_action.setChecked(
            self._settings_value("link_zoom", "false") == "true"
        )
        sources = self._settings_value("viewport_sources", "")
        for viewport, source in zip(self.viewports, sources.split("|"), strict=False):
            if viewport is not self.current_viewport and source:
                viewport.source = source
        self.set_layout(self._settings_value("layout", "1x2"))

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
        # Every other runner of the window (exports, imports, the trial view)
        # stops before Qt deletes its owner (issue 18: quit-time aborts).
        shutdown_runners_of(self)
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._hotkeys)
        if self._settings is not None:
            self._settings.setValue("main_window/geometry", self.saveGeometry())
            self._settings.setValue("main_window/state", self.saveState())
            self._settings.setValue("tool", self.slice_view.tool.value)
            self._settings.setValue("layout", self._layout)
            self._settings.setValue(
                "link_zoom", "true" if self.link_zoom_action.isChecked() else "false"
            )
            self._settings.setValue(
                "viewport_sources", "|".join(v.source for v in self.viewports)
            )
            self._settings.setValue("last_patient", self.document.reading.patient_id)
            self._settings.setValue("last_visit", self.document.visit)
        super().closeEvent(event)
