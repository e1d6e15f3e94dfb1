"""The PACS in the workstation: File → Open from PACS…, Send report to PACS…."""

from recist_app.ui.pacs.menu import (
    add_pacs_actions,
    open_from_pacs,
    send_report_to_pacs,
)
from recist_app.ui.pacs.open_dialog import OpenFromPacsDialog
from recist_app.ui.pacs.send_dialog import SendReportDialog

__all__ = [
    "OpenFromPacsDialog",
    "SendReportDialog",
    "add_pacs_actions",
    "open_from_pacs",
    "send_report_to_pacs",
]
