"""Undo commands. Snapshots are immutable, so one command replaces the reading."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

if TYPE_CHECKING:
    from recist_app.recist import Reading

__all__ = ["ApplyReading", "ReplaceReadingCommand"]

ApplyReading = Callable[["Reading"], None]
"""Makes a reading current (the document's ``apply_reading``)."""


class ReplaceReadingCommand(QUndoCommand):
    """Swap the document's reading between ``before`` and ``after``.

    ``push()`` runs :meth:`redo` at once, so the caller never applies the change
    itself (docs/architecture.md, house rules: undo). The command holds values
    and the document's ``apply_reading``, never widgets.
    """

    def __init__(
        self, apply: ApplyReading, before: Reading, after: Reading, text: str
    ) -> None:
        super().__init__(text)
        self._apply = apply
        self.before = before
        self.after = after

    def redo(self) -> None:
        """Apply ``after``."""
        self._apply(self.after)

    def undo(self) -> None:
        """Restore ``before``."""
        self._apply(self.before)
