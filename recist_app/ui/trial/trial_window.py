"""The trial view: study summary, per-patient endpoints and the endpoint plots.

Everything shown comes from :mod:`recist_app.endpoints` for all patients in the
reading database: the summary table (ORR/DCR/CBR with exact intervals, medians,
landmark rates), the BOR, numbers-at-risk, safety (TEAEs by system organ class)
and biomarker tables, the patients left out with the reason (a reading not read,
or without clinical data), the per-patient subjects table and the waterfall, spider,
swimmer, Kaplan–Meier (PFS, TTP, OS), adverse event, forest and ORR-by-biomarker
plots drawn by the engine's ``draw_*`` functions on Qt canvases. The analysis is
the workflow of ``recist-app endpoints --database``
(:func:`recist_app.workflows.endpoints.trial_from_store`), run in the background;
the criteria selector recomputes under RECIST 1.1, iRECIST or mRECIST. Without
stored clinical data the view asks for the clinical CSV and imports it into the
database; the adverse event CSV is imported into the database the same way
(``recist-app clinical import --adverse-events``), and the biomarker CSV chosen
is used for every computation of the view (``recist-app endpoints --biomarkers``).
Double-clicking a patient emits :attr:`TrialWindow.patient_activated`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from recist_app.endpoints import (
    PLOTS,
    Table,
    agreement_table,
    biomarker_table,
    bor_table,
    risk_table,
    safety_table,
    subjects_table,
    summary_table,
)
from recist_app.recist import Criteria
from recist_app.ui.background import TaskRunner
from recist_app.ui.trial.table_model import EndpointTableModel
from recist_app.workflows.endpoints import (
    import_adverse_events,
    import_clinical,
    trial_from_store,
)
from recist_app.workflows.errors import NoClinicalDataError

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent

    from recist_app.endpoints import TrialEndpoints
    from recist_app.ui.background import Task, TaskContext
    from recist_app.workflows.database import Store
    from recist_app.workflows.endpoints import TrialAnalysis

__all__ = ["CRITERIA_CHOICES", "TrialWindow"]

CRITERIA_CHOICES: tuple[Criteria, ...] = (
    Criteria.RECIST_1_1,
    Criteria.IRECIST,
    Criteria.MRECIST,
)

_SUBJECT_COLUMNS_SHOWN = (
    "patient_id",
    "bor_confirmed",
    "best_change_pct",
    "responder",
    "pfs_days",
    "pfs_event",
    "ttp_days",
    "ttp_event",
    "os_days",
    "os_event",
    "dor_days",
    "first_dose_date",
    "progression_date",
    "death_date",
    "pfs_reason",
)


_TAB_TITLES = {
    "waterfall": "Waterfall",
    "spider": "Spider",
    "swimmer": "Swimmer",
    "km_pfs": "KM PFS",
    "km_ttp": "KM TTP",
    "km_os": "KM OS",
    "adverse_events": "Adverse events",
    "forest": "Forest plot",
    "orr_by_biomarker": "ORR by biomarker",
}
"""Short tab titles, so every plot's tab fits; the tooltip has the full title."""


@dataclass(frozen=True, slots=True)
class _NoClinicalData:
    """The database has no clinical data yet: the view asks for the file."""

    message: str


def _table_view(model: EndpointTableModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(
        view.fontMetrics().height() + 6  # compact rows
    )
    return view


class TrialWindow(QWidget):
    """Endpoints of every patient in ``store``, recomputed per criteria set.

    Parameters
    ----------
    store
        The open reading database (the caller closes it).
    user
        Who imports clinical data, for the audit trail.

    Attributes
    ----------
    patient_activated
        ``Signal(str)``: a patient row was double-clicked (its patient id).
    computed
        ``Signal()``: a result is shown (or an error is reported).
    """

    patient_activated = Signal(str)
    computed = Signal()

    def __init__(
        self, store: Store, *, user: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(f"Trial endpoints — {store.url}")
        self.result: TrialEndpoints | None = None
        self._store = store
        self._user = user
        self._runner = TaskRunner("trial-endpoints", self)
        self._task: Task[TrialAnalysis | _NoClinicalData] | None = None
        self.biomarkers_csv: Path | None = None

        self.criteria_combo = QComboBox()
        for criteria in CRITERIA_CHOICES:
            self.criteria_combo.addItem(criteria.value, criteria)
        self.criteria_combo.currentIndexChanged.connect(lambda _i: self.recompute())
        self.import_button = QPushButton("Import clinical CSV…")
        self.import_button.setToolTip(
            "Choose the clinical file (first dose, death, last known alive, new "
            "therapy, data cut-off) and store it in the reading database"
        )
        self.import_button.clicked.connect(self.choose_clinical_file)
        self.adverse_events_button = QPushButton("Import adverse events CSV…")
        self.adverse_events_button.setToolTip(
            "Choose the adverse event file (patient_id, term, soc, grade, dates, "
            "serious, related, action) and store it in the reading database"
        )
        self.adverse_events_button.clicked.connect(self.choose_adverse_events_file)
        self.biomarkers_button = QPushButton("Biomarkers CSV…")
        self.biomarkers_button.setToolTip(
            "Choose the biomarker file (patient_id plus one column per biomarker): "
            "ORR, PFS and OS by biomarker group"
        )
        self.biomarkers_button.clicked.connect(self.choose_biomarkers_file)
        self.status_label = QLabel()
        self.status_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Criteria"))
        bar.addWidget(self.criteria_combo)
        bar.addWidget(self.import_button)
        bar.addWidget(self.adverse_events_button)
        bar.addWidget(self.biomarkers_button)
        bar.addWidget(self.status_label, 1)

        self.summary_model = EndpointTableModel(self, align_numbers=False)
        self.summary_view = _table_view(self.summary_model)
        self.bor_model = EndpointTableModel(self, align_numbers=False)
        self.bor_view = _table_view(self.bor_model)
        self.risk_model = EndpointTableModel(self)
        self.risk_view = _table_view(self.risk_model)
        self.safety_model = EndpointTableModel(self)
        self.safety_view = _table_view(self.safety_model)
        self.safety_view.setToolTip(
            "Treatment-emergent adverse events, n (%) of the safety population, "
            "each patient once per row at the worst grade"
        )
        self.biomarker_model = EndpointTableModel(self)
        self.biomarker_view = _table_view(self.biomarker_model)
        self.left_out_model = EndpointTableModel(self, align_numbers=False)
        self.left_out_view = _table_view(self.left_out_model)
        self.left_out_view.setToolTip(
            "Patients left out of every analysis, with the reason: a reading not "
            "read (no visit read, or the baseline not read) or without clinical data"
        )
        self.agreement_model = EndpointTableModel(self, align_numbers=False)
        self.agreement_view = _table_view(self.agreement_model)
        self.agreement_view.setToolTip(
            "Central review: BOR agreement (percent, Cohen's kappa), first-PD "
            "agreement, adjudication rate and how often the adjudicator accepted "
            "each reader; the endpoints use each patient's final read"
        )
        for view in (
            self.summary_view,
            self.bor_view,
            self.safety_view,
            self.left_out_view,
            self.agreement_view,
        ):
            header = view.horizontalHeader()
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            header.setStretchLastSection(True)
        tables = QTabWidget()
        tables.addTab(self.summary_view, "Study summary")
        tables.addTab(self.bor_view, "Best overall response")
        tables.addTab(self.risk_view, "Numbers at risk")
        tables.addTab(self.safety_view, "Safety")
        tables.addTab(self.biomarker_view, "Biomarkers")
        tables.addTab(self.left_out_view, "Left out")
        tables.addTab(self.agreement_view, "Reader agreement")
        self.table_tabs = tables

        self.canvases: dict[str, FigureCanvasQTAgg] = {}
        self.plot_tabs = QTabWidget()
        for stem, title, _draw in PLOTS:
            figure = Figure(figsize=(6.4, 4.2), dpi=100, layout="constrained")
            canvas = FigureCanvasQTAgg(figure)  # type: ignore[no-untyped-call]
            canvas.setMinimumSize(320, 240)
            self.canvases[stem] = canvas
            index = self.plot_tabs.addTab(canvas, _TAB_TITLES.get(stem, title))
            self.plot_tabs.setTabToolTip(index, title)

        self.subjects_model = EndpointTableModel(self)
        self.subjects_view = _table_view(self.subjects_model)
        self.subjects_view.setToolTip("Double-click a patient to open the reading")
        self.subjects_view.doubleClicked.connect(self._row_activated)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(tables)
        top.addWidget(self.plot_tabs)
        top.setSizes([560, 840])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.subjects_view)
        split.setSizes([560, 260])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        self.resize(1280, 860)
        self.recompute()

    # ------------------------------------------------------------ computing

    @property
    def criteria(self) -> Criteria:
        """The criteria set selected."""
        return Criteria(self.criteria_combo.currentData())

    def recompute(
        self,
        clinical_csv: Path | None = None,
        *,
        adverse_events_csv: Path | None = None,
    ) -> None:
        """Compute the endpoints again in the background (newest request wins).

        ``clinical_csv`` and ``adverse_events_csv`` are imported into the
        database first; the biomarker file chosen (:attr:`biomarkers_csv`) joins
        the analysis.
        """
        imported = [p.name for p in (clinical_csv, adverse_events_csv) if p]
        what = f"importing {', '.join(imported)} and " if imported else ""
        self.status_label.setStyleSheet("")
        self.status_label.setText(f"{what}computing under {self.criteria.value}…")
        if self._task is not None:
            self._task.cancel()  # its result would be stale
        criteria = self.criteria
        biomarkers = self.biomarkers_csv

        def job(context: TaskContext) -> TrialAnalysis | _NoClinicalData:
            if clinical_csv is not None:
                summary = import_clinical(self._store, clinical_csv, user=self._user)
                context.progress(f"{clinical_csv.name}: {summary}")
            if adverse_events_csv is not None:
                events = import_adverse_events(
                    self._store, adverse_events_csv, user=self._user
                )
                context.progress(f"{adverse_events_csv.name}: {events}")
            try:
                return trial_from_store(
                    self._store, criteria=criteria, biomarkers_csv=biomarkers
                )
            except NoClinicalDataError as error:
                return _NoClinicalData(str(error))

        self._task = self._runner.submit(
            job,
            done=self._finished,
            failed=self._failed,
            progress=self._imported,
            name="trial endpoints",
        )

    def wait(self, timeout_s: float = 30.0) -> bool:
        """Block until the computations asked for so far have run (tests, closing)."""
        return self._runner.wait_idle(timeout_s)

    def choose_clinical_file(self) -> None:
        """Ask for the clinical CSV, import it into the database and recompute."""
        path, _filter = QFileDialog.getOpenFileName(
            self, "Clinical data (CSV)", str(Path.home()), "CSV files (*.csv)"
        )
        if path:
            self.recompute(Path(path))

    def choose_adverse_events_file(self) -> None:
        """Ask for the adverse event CSV, import it into the database, recompute."""
        path, _filter = QFileDialog.getOpenFileName(
            self, "Adverse events (CSV)", str(Path.home()), "CSV files (*.csv)"
        )
        if path:
            self.recompute(adverse_events_csv=Path(path))

    def choose_biomarkers_file(self) -> None:
        """Ask for the biomarker CSV; every later computation uses it."""
        path, _filter = QFileDialog.getOpenFileName(
            self, "Biomarkers (CSV)", str(Path.home()), "CSV files (*.csv)"
        )
        if path:
            self.biomarkers_csv = Path(path)
            self.biomarkers_button.setText(f"Biomarkers: {self.biomarkers_csv.name}")
            self.recompute()

    def _finished(self, outcome: TrialAnalysis | _NoClinicalData) -> None:
        self._task = None
        if isinstance(outcome, _NoClinicalData):
            self._failed(outcome.message)
            self.import_button.setFocus()
            return
        result, left_out, unread = outcome.endpoints, outcome.left_out, outcome.unread
        self.result = result
        summary = summary_table(result)
        self.summary_model.set_table(summary)
        self.bor_model.set_table(bor_table(result))
        self.risk_model.set_table(risk_table(result))
        self.safety_model.set_table(safety_table(result))
        self.biomarker_model.set_table(biomarker_table(result))
        self.biomarker_view.resizeColumnsToContents()
        self.left_out_model.set_table(
            Table(columns=("patient_id", "reason"), rows=outcome.left_out_reasons())
        )
        self.agreement_model.set_table(
            Table(columns=("measure", "value"), rows=())
            if outcome.agreement is None
            else agreement_table(outcome.agreement)
        )
        subjects = subjects_table(result)
        keep = [subjects.columns.index(name) for name in _SUBJECT_COLUMNS_SHOWN]
        self.subjects_model.set_table(
            Table(
                columns=tuple(subjects.columns[i] for i in keep),
                rows=tuple(tuple(row[i] for i in keep) for row in subjects.rows),
            )
        )
        self.subjects_view.resizeColumnsToContents()
        self.subjects_view.horizontalHeader().setStretchLastSection(True)
        for stem, _title, draw in PLOTS:
            canvas = self.canvases[stem]
            draw(canvas.figure, result)
            canvas.draw_idle()  # type: ignore[no-untyped-call]
        # The first warnings name the patients left out; the others are notes.
        others = len(result.warnings) - (1 if left_out else 0) - len(unread)
        notes = f"; {others} warnings" if others else ""
        if left_out:
            notes += (
                f"; {len(left_out)} reading(s) without clinical data left out "
                f"({', '.join(left_out[:3])}{'…' if len(left_out) > 3 else ''})"
            )
        if unread:
            ids = [item.patient_id for item in unread]
            notes += (
                f"; {len(unread)} patient(s) not read left out "
                f"({', '.join(ids[:3])}{'…' if len(ids) > 3 else ''}; see Left out)"
            )
        self.status_label.setText(
            f"{result.treated} patients under {result.criteria.value}, data cut-off "
            f"{result.data_cutoff_date.isoformat()}{notes}"
        )
        self.status_label.setToolTip("\n".join(result.warnings))
        self.computed.emit()

    def _failed(self, message: str) -> None:
        self._task = None
        self.status_label.setStyleSheet("color: #b2182b")
        self.status_label.setText(message)
        self.computed.emit()

    def _imported(self, text: object) -> None:
        self.status_label.setText(f"{text}; computing under {self.criteria.value}…")

    # ------------------------------------------------------------ patients

    def _row_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.patient_activated.emit(self.subjects_model.cell(index.row(), 0))

    def closeEvent(self, event: QCloseEvent) -> None:
        """Let a running computation finish before the window goes away."""
        self.wait()
        super().closeEvent(event)
