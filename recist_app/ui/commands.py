"""Undo commands. Snapshots are immutable, so one command replaces the reading."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

if TYPE_CHECKING:
    from recist_app.recist import Reading
    from recist_app.ui.document import ReadingDocument

__all__ = ["ReplaceReadingCommand"]


class ReplaceReadingCommand(QUndoCommand):
    """Swap the document's reading between ``before`` and ``after``.

    ``push()`` runs :meth:`redo` at once, so the caller never applies the change
    itself (docs/architecture.md, house rules: undo). The command holds values,
    never widgets.
    """

    def __init__(
        self, document: ReadingDocument, before: Reading, after: Reading, text: str
    ) -> None:
        super().__init__(text)
        self._document = document
        self.before = before
        self.after = after

    def redo(self) -> None:
        """Apply ``after``."""
        self._document.apply_reading(self.after)

    def undo(self) -> None:
        """Restore ``before``."""
        self._document.apply_reading(self.before)
