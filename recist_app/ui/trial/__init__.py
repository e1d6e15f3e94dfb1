"""The trial view: endpoints of every patient in the reading database.

Menu "Trial → Endpoints" (:func:`add_trial_menu`) opens a :class:`TrialWindow`.
"""

from recist_app.ui.trial.menu import add_trial_menu, open_trial_window
from recist_app.ui.trial.table_model import EndpointTableModel
from recist_app.ui.trial.trial_window import CRITERIA_CHOICES, TrialWindow

__all__ = [
    "CRITERIA_CHOICES",
    "EndpointTableModel",
    "TrialWindow",
    "add_trial_menu",
    "open_trial_window",
]
