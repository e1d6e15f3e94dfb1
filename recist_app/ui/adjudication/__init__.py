"""The adjudicator's view: both blinded reads side by side, accept one."""

from recist_app.ui.adjudication.adjudication_view import (
    READER_COLORS,
    AdjudicationView,
    open_adjudication_view,
)

__all__ = ["READER_COLORS", "AdjudicationView", "open_adjudication_view"]
