"""The trial view: endpoints of every patient in the reading database.

Menu "Trial → Endpoints" (:func:`add_trial_menu`) opens a :class:`TrialWindow`.
The window and its table model are imported when first asked for (PEP 562):
the trial view draws its plots with Matplotlib, which the workstation does not
import before a reader opens the view (issue 23's start-up).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from recist_app.ui.trial.menu import add_trial_menu, open_trial_window

if TYPE_CHECKING:
    from recist_app.ui.trial.table_model import EndpointTableModel
    from recist_app.ui.trial.trial_window import CRITERIA_CHOICES, TrialWindow

__all__ = [
    "CRITERIA_CHOICES",
    "EndpointTableModel",
    "TrialWindow",
    "add_trial_menu",
    "open_trial_window",
]

_LAZY = {
    "CRITERIA_CHOICES": "recist_app.ui.trial.trial_window",
    "TrialWindow": "recist_app.ui.trial.trial_window",
    "EndpointTableModel": "recist_app.ui.trial.table_model",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
