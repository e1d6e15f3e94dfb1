"""The sign-off dialogs: what is incomplete before signing, why an amendment.

Signing locks the reading, so the question lists what is still open (the pure
:func:`recist_app.recist.sign_off_gaps`) and names the signer, the reader identity
shown in the title bar. An amendment needs a reason: its dialog stays open until
one is typed or the reader cancels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget

from recist_app.recist import sign_off_gaps

if TYPE_CHECKING:
    from recist_app.recist import Assessment, Reading

__all__ = ["ReasonDialog", "ask_reason", "confirm_sign_off", "sign_off_question"]

_REASON_REQUIRED = "⚠ A reason is required (it is kept in the audit trail)."


def sign_off_question(reading: Reading, assessment: Assessment, signer: str) -> str:
    """The sign-off question: who signs what, and everything still incomplete."""
    gaps = sign_off_gaps(reading, assessment)
    text = (
        f"Sign the reading of {reading.patient_id} ({reading.criteria.value}) "
        f"as {signer}?\n\n"
        "It is locked once signed; changes then need an amendment with a reason."
    )
    if gaps:
        listed = "\n".join(f"  • {gap}" for gap in gaps)
        text = (
            f"The reading is incomplete ({len(gaps)} item(s)):\n{listed}\n\n"
            f"Sign it anyway as {signer}? It is locked once signed; changes then "
            "need an amendment with a reason."
        )
    return text


def confirm_sign_off(
    parent: QWidget, reading: Reading, assessment: Assessment, signer: str
) -> bool:
    """Ask the reader to confirm signing (No is the default); True to sign."""
    gaps = sign_off_gaps(reading, assessment)
    answer = QMessageBox.question(
        parent,
        "Sign incomplete reading" if gaps else "Sign reading",
        sign_off_question(reading, assessment, signer),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


class ReasonDialog(QInputDialog):
    """A one-line text dialog whose OK does nothing until a reason is typed."""

    def __init__(self, parent: QWidget | None, title: str, label: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._label = label
        self.setLabelText(label)
        self.setInputMode(QInputDialog.InputMode.TextInput)
        self.refused = 0
        """How many times OK was pressed without a reason."""

    def done(self, result: int) -> None:
        """Close on Cancel, or on OK with a reason; else say one is required."""
        if result == int(QInputDialog.DialogCode.Accepted) and not (
            self.textValue().strip()
        ):
            self.refused += 1
            self.setLabelText(f"{self._label}\n\n{_REASON_REQUIRED}")
            return
        super().done(result)


def ask_reason(parent: QWidget | None, title: str, label: str) -> str | None:
    """Ask for a reason (modal); the stripped reason, or ``None`` if cancelled."""
    dialog = ReasonDialog(parent, title, label)
    try:
        if dialog.exec() != int(QInputDialog.DialogCode.Accepted):
            return None
        return dialog.textValue().strip()
    finally:
        dialog.deleteLater()
