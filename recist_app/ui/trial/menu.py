"""The "Trial" menu of the main window: Endpoints (the trial view), Adjudication.

Double-clicking a patient in the trial view opens that patient's reading through
``MainWindow.open_patient(patient_id)`` when the main window has it; otherwise the
patient id is shown in the status bar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from recist_app.ui.adjudication import open_adjudication_view

if TYPE_CHECKING:
    from collections.abc import Callable

    from recist_app.ui.trial.trial_window import TrialWindow
    from recist_app.workflows.database import Store

__all__ = ["add_trial_menu", "open_trial_window"]


def add_trial_menu(window: QMainWindow, store: Store | None, *, user: str) -> QAction:
    """Add "Trial → Endpoints" before the Help menu; return the action.

    The action is disabled without a reading database (``store`` ``None``).
    """
    menu = QMenu("&Trial", window)
    action = QAction("&Endpoints…", window)
    action.setShortcut(QKeySequence("Ctrl+Shift+T"))
    action.setToolTip("ORR, DCR, CBR, PFS, OS and DOR of every patient in the database")
    action.setEnabled(store is not None)
    if store is not None:
        action.triggered.connect(lambda: open_trial_window(window, store, user=user))
    menu.addAction(action)
    adjudication = QAction("&Adjudication…", window)
    adjudication.setToolTip(
        "Central review: both blinded reads of each discordant patient side by "
        "side; accept one with a reason"
    )
    adjudication.setEnabled(store is not None)
    if store is not None:
        adjudication.triggered.connect(
            lambda: open_adjudication_view(window, store, user=user)
        )
    menu.addAction(adjudication)
    menus = [a for a in window.menuBar().actions() if a.menu() is not None]
    help_menu = next((a for a in menus if a.text().replace("&", "") == "Help"), None)
    if help_menu is None:
        window.menuBar().addMenu(menu)
    else:
        window.menuBar().insertMenu(help_menu, menu)
    return action


def open_trial_window(window: QMainWindow, store: Store, *, user: str) -> TrialWindow:
    """Show the main window's trial view, creating it the first time."""
    # Imported here: the view needs Matplotlib, which start-up does not load.
    from recist_app.ui.trial.trial_window import TrialWindow

    trial = window.findChild(TrialWindow)
    if trial is None:
        trial = TrialWindow(store, user=user, parent=window)
        opener: Callable[[str], object] | None = getattr(window, "open_patient", None)
        if callable(opener):
            trial.patient_activated.connect(opener)
        else:
            trial.patient_activated.connect(
                lambda patient_id: window.statusBar().showMessage(
                    f"Trial view: patient {patient_id} selected"
                )
            )
    trial.show()
    trial.raise_()
    trial.activateWindow()
    return trial
