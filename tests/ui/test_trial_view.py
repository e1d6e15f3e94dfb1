"""The trial view: Trial → Endpoints over every patient in the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMenu

from recist_app.endpoints import (
    compute_trial_endpoints,
    simulate_trial,
    subjects_table,
    summary_table,
    write_clinical_csv,
)
from recist_app.recist import Criteria
from recist_app.ui.trial import TrialWindow

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from pytestqt.qtbot import QtBot

    from recist_app.store import Store
    from recist_app.ui.main_window import MainWindow

PATIENTS = 24


def _open_through_the_menu(window: MainWindow) -> TrialWindow:
    menus = {
        action.text().replace("&", ""): action.menu()
        for action in window.menuBar().actions()
        if isinstance(action.menu(), QMenu)
    }
    titles = list(menus)
    assert titles.index("Trial") == titles.index("Help") - 1  # just before Help
    trial_menu = menus["Trial"]
    assert isinstance(trial_menu, QMenu)
    endpoints = next(
        action
        for action in trial_menu.actions()
        if action.text().replace("&", "") == "Endpoints…"
    )
    assert endpoints.isEnabled()
    endpoints.trigger()
    trial = window.findChild(TrialWindow)
    assert trial is not None
    assert trial.isVisible()
    return trial


def _summary(trial: TrialWindow) -> dict[str, str]:
    model = trial.summary_view.model()
    return {
        model.data(model.index(row, 0)): model.data(model.index(row, 1))
        for row in range(model.rowCount())
    }


def _wait_done(qtbot: QtBot, trial: TrialWindow) -> None:
    qtbot.waitUntil(lambda: "…" not in trial.status_label.text(), timeout=30_000)


def test_trial_view_shows_the_engine_endpoints_per_criteria(
    qtbot: QtBot,
    stored_window: MainWindow,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trial_data = simulate_trial(PATIENTS, seed=7)
    for reading in trial_data.readings:
        store.readings.save(reading, user="test")
    csv_path = tmp_path / "clinical.csv"
    write_clinical_csv(trial_data.clinical, csv_path)

    trial = _open_through_the_menu(stored_window)
    _wait_done(qtbot, trial)
    assert "no clinical data;" in trial.status_label.text()
    assert trial.result is None

    # Choose the clinical CSV: it is imported into the database, then computed.
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *_args: (str(csv_path), "")
    )
    qtbot.mouseClick(trial.import_button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    _wait_done(qtbot, trial)
    assert len(store.clinical.records()) == PATIENTS
    assert trial.subjects_model.rowCount() == PATIENTS

    for criteria in (Criteria.RECIST_1_1, Criteria.IRECIST, Criteria.MRECIST):
        if criteria is not trial.criteria:
            trial.criteria_combo.setCurrentIndex(
                trial.criteria_combo.findText(criteria.value)
            )
            _wait_done(qtbot, trial)
        expected = compute_trial_endpoints(
            trial_data.readings, trial_data.clinical, criteria=criteria
        )
        shown = _summary(trial)
        assert shown["Response criteria"] == criteria.value
        assert list(shown.items()) == [
            (row[0], row[1]) for row in summary_table(expected).rows
        ]
        orr_label = next(label for label in shown if label.startswith("ORR"))
        assert shown[orr_label].startswith(f"{expected.orr.count}/{PATIENTS} = ")
        assert f"{PATIENTS} patients under {criteria.value}" in (
            trial.status_label.text()
        )
        bor_codes = [
            trial.bor_model.cell(row, 0) for row in range(trial.bor_model.rowCount())
        ]
        assert bor_codes
        assert all(
            code.startswith(("i", "NON-i")) == (criteria is Criteria.IRECIST)
            for code in bor_codes
            if code not in ("NE", "MISSING")
        )
        bor_column = [
            trial.subjects_model.cell(row, 1)
            for row in range(trial.subjects_model.rowCount())
        ]
        table = subjects_table(expected)
        assert bor_column == [
            row[table.columns.index("bor_confirmed")] for row in table.rows
        ]
    assert trial.canvases["km_pfs"].figure.axes  # the plots are drawn


def test_double_clicking_a_patient_emits_its_id(
    qtbot: QtBot, stored_window: MainWindow, store: Store, tmp_path: Path
) -> None:
    from recist_app.workflows.endpoints import import_clinical

    trial_data = simulate_trial(6, seed=3)
    for reading in trial_data.readings:
        store.readings.save(reading, user="test")
    csv_path = tmp_path / "clinical.csv"
    write_clinical_csv(trial_data.clinical, csv_path)
    import_clinical(store, csv_path, user="test")
    trial = _open_through_the_menu(stored_window)
    _wait_done(qtbot, trial)
    view = trial.subjects_view
    rect = view.visualRect(view.model().index(2, 3))
    assert rect.isValid()
    left, centre = Qt.MouseButton.LeftButton, rect.center()
    qtbot.mouseClick(view.viewport(), left, pos=centre)  # type: ignore[no-untyped-call]
    with qtbot.waitSignal(trial.patient_activated, timeout=2_000) as signal:
        qtbot.mouseDClick(view.viewport(), left, pos=centre)  # type: ignore[no-untyped-call]
    assert signal.args == ["HCC-003"]
    # The main window opened that patient's reading.
    qtbot.waitUntil(
        lambda: stored_window.document.reading.patient_id == "HCC-003", timeout=5_000
    )
    assert stored_window.document.reading == store.readings.load(
        "HCC-003", Criteria.RECIST_1_1, trial_data.readings[2].reader
    )


def test_without_a_database_the_trial_menu_is_disabled(window: MainWindow) -> None:
    assert not window.trial_action.isEnabled()


def _table(model: object) -> list[tuple[str, ...]]:
    from recist_app.ui.trial.table_model import EndpointTableModel

    assert isinstance(model, EndpointTableModel)
    return [
        tuple(model.cell(row, column) for column in range(model.columnCount()))
        for row in range(model.rowCount())
    ]


def test_trial_view_imports_adverse_events_and_takes_a_biomarker_file(
    qtbot: QtBot,
    stored_window: MainWindow,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from recist_app.endpoints import (
        adverse_events_csv_text,
        biomarker_table,
        biomarkers_csv_text,
        safety_table,
    )
    from recist_app.workflows.endpoints import import_clinical

    trial_data = simulate_trial(PATIENTS, seed=7)
    for reading in trial_data.readings:
        store.readings.save(reading, user="test")
    clinical = tmp_path / "clinical.csv"
    write_clinical_csv(trial_data.clinical, clinical)
    import_clinical(store, clinical, user="test")
    ae = tmp_path / "ae.csv"
    ae.write_text(adverse_events_csv_text(trial_data.adverse_events), encoding="utf-8")
    assert trial_data.biomarkers is not None
    bio = tmp_path / "bio.csv"
    bio.write_text(biomarkers_csv_text(trial_data.biomarkers), encoding="utf-8")

    trial = _open_through_the_menu(stored_window)
    _wait_done(qtbot, trial)
    assert trial.safety_model.rowCount() == 0  # no adverse events yet
    assert not trial.canvases["forest"].figure.axes[0].lines  # "no biomarkers"

    chosen = iter([str(ae), str(bio)])
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *_args: (next(chosen), "")
    )
    qtbot.mouseClick(trial.adverse_events_button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    _wait_done(qtbot, trial)
    assert len(store.adverse_events.records()) == len(trial_data.adverse_events)
    qtbot.mouseClick(trial.biomarkers_button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    _wait_done(qtbot, trial)
    assert trial.biomarkers_button.text() == "Biomarkers: bio.csv"

    expected = compute_trial_endpoints(
        trial_data.readings,
        trial_data.clinical,
        adverse_events=trial_data.adverse_events,
        biomarkers=trial_data.biomarkers,
    )
    assert _table(trial.safety_model) == list(safety_table(expected).rows)
    assert _table(trial.biomarker_model) == list(biomarker_table(expected).rows)
    shown = _summary(trial)
    assert shown["Patients with any TEAE"] == summary_table(expected).rows[-4][1]
    assert shown["Median TTP, 95 % CI"].endswith(f"/ {PATIENTS}")
    forest = trial.canvases["forest"].figure.axes[0]
    assert len(forest.get_yticklabels()) == 4  # two 2-group markers × PFS, OS
    assert trial.canvases["adverse_events"].figure.axes[0].patches
    assert trial.canvases["km_ttp"].figure.axes[0].lines

    # A bad adverse event file is one line in the view; nothing is stored.
    bad = tmp_path / "bad.csv"
    bad.write_text(
        ae.read_text(encoding="utf-8").replace(",3,", ",6,", 1), encoding="utf-8"
    )
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_args: (str(bad), ""))
    qtbot.mouseClick(trial.adverse_events_button, Qt.MouseButton.LeftButton)  # type: ignore[no-untyped-call]
    _wait_done(qtbot, trial)
    assert "column grade: '6' is not a CTCAE grade" in trial.status_label.text()
    assert len(store.adverse_events.records()) == len(trial_data.adverse_events)
