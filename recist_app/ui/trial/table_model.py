"""A read-only Qt model over an endpoints :class:`~recist_app.endpoints.Table`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from recist_app.endpoints import Table

__all__ = ["EndpointTableModel"]

_Index = QModelIndex | QPersistentModelIndex


class EndpointTableModel(QAbstractTableModel):
    """Shows a :class:`~recist_app.endpoints.Table` (column names, string rows).

    Column names use spaces for underscores (``pfs_days`` → ``pfs days``); with
    ``align_numbers`` numeric cells are right-aligned.
    """

    def __init__(
        self, parent: QWidget | None = None, *, align_numbers: bool = True
    ) -> None:
        super().__init__(parent)
        self._align_numbers = align_numbers
        self._columns: tuple[str, ...] = ()
        self._rows: tuple[tuple[str, ...], ...] = ()

    def set_table(self, table: Table | None) -> None:
        """Show ``table`` (``None``: empty)."""
        self.beginResetModel()
        self._columns = table.columns if table is not None else ()
        self._rows = table.rows if table is not None else ()
        self.endResetModel()

    def rowCount(self, parent: _Index | None = None) -> int:
        """Number of rows (0 under a valid parent: a flat table)."""
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index | None = None) -> int:
        """Number of columns."""
        return 0 if parent is not None and parent.isValid() else len(self._columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """The cell's text; numbers right-aligned."""
        if not index.isValid():
            return None
        text = self._rows[index.row()][index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return text
        if (
            role == Qt.ItemDataRole.TextAlignmentRole
            and self._align_numbers
            and _numeric(text)
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        """Column names across the top; row numbers down the side."""
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._columns[section].replace("_", " ")
        return str(section + 1)

    def cell(self, row: int, column: int) -> str:
        """The text of one cell."""
        return self._rows[row][column]


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
