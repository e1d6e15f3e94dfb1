"""Who is reading: the reader's name and reading role, asked at the first start.

The workstation signs readings and writes the audit trail in the reader's name,
and blinds a central review's readers by their role (issue 18, issue 20). The
first time it starts without either being known it asks both in one question;
afterwards Reading → Reader identity… and Reading → Reading role… change each.
The dialog is window-modal but never blocks the caller: the answer arrives
through ``accepted``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from recist_app.workflows.vocabulary import READER_ROLES, parse_reader_role

if TYPE_CHECKING:
    from recist_app.recist import ReaderRole

__all__ = ["WhoIsReadingDialog"]


class WhoIsReadingDialog(QDialog):
    """The reader's name and reading role; OK only with a name."""

    def __init__(self, name: str, role: ReaderRole, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Who is reading")
        self.setMinimumWidth(520)
        self.name_edit = QLineEdit(name)
        self.name_edit.setPlaceholderText("e.g. Dr A. Reader")
        self.role_box = QComboBox()
        self.role_box.addItems([item.value for item in READER_ROLES])
        self.role_box.setCurrentText(role.value)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        note = QLabel(
            "Your name signs readings and appears in the audit trail; a central "
            "review's reader 1 and reader 2 are blinded to each other until both "
            "reads are signed. Both are remembered on this computer (Reading menu "
            "to change them)."
        )
        note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(note)
        form.addRow("Name", self.name_edit)
        form.addRow("Reading as", self.role_box)
        form.addRow(self.buttons)
        self.name_edit.textChanged.connect(self._name_changed)
        self._name_changed(name)

    def _name_changed(self, text: str) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(text.strip()))

    @property
    def name(self) -> str:
        """The name typed, spaces collapsed."""
        return " ".join(self.name_edit.text().split())

    @property
    def role(self) -> ReaderRole:
        """The role chosen."""
        return parse_reader_role(self.role_box.currentText())
