"""``recist-app`` without a subcommand: a window at once, the workstation behind it.

Importing the workstation (NumPy, pydicom, SQLAlchemy and Alembic, Matplotlib,
every panel) and checking the database's schema takes one to several seconds on
a cold start. A reader who starts the app should see its window at once (issue
23), so this module imports Qt and nothing heavy: it shows :class:`StartWindow`
maximised, waits until it has been painted, then imports
:mod:`recist_app.ui.workstation`, which opens the database and the main window in
its place and closes the start window. :mod:`recist_app.cli.main` imports this
module by name, so the headless commands never load Qt.
"""

from __future__ import annotations

import importlib
import sys
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

if TYPE_CHECKING:
    from PySide6.QtGui import QPaintEvent

__all__ = ["StartWindow", "run_workstation"]

ORGANIZATION = "recist_app"
APPLICATION = "recist-app"
#: The longest the launcher waits for the start window's first paint (a window
#: manager that never exposes it must not keep the workstation from opening).
_PAINT_WAIT_S = 2.0


class _Message(QLabel):
    """The start window's text; it covers the window, so its paint is the window's."""

    def __init__(self, parent: QMainWindow) -> None:
        super().__init__(parent)
        self.painted = False
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("background: black; color: #d0d0d0; font-size: 15px")

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint, and note that the window is on the screen."""
        super().paintEvent(event)
        self.painted = True


class StartWindow(QMainWindow):
    """The first window: the app's name and what it is doing, until the real one.

    It has the main window's look (dark image area, status bar) and its place on
    the screen; :func:`~recist_app.ui.workstation.open_after_start` closes it
    once the workstation's window is shown.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("recist_app")
        self._message = _Message(self)
        self.setCentralWidget(self._message)
        self.resize(1280, 800)
        self.say("Starting the workstation…")

    @property
    def painted(self) -> bool:
        """Whether the window has been painted at least once."""
        return self._message.painted

    def say(self, text: str) -> None:
        """Show ``text`` in the window and its status bar, and paint it now."""
        self._message.setText(f"recist_app\n\n{text}")
        self.statusBar().showMessage(text)
        if self.isVisible():
            self._message.repaint()
        QCoreApplication.processEvents(
            QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents
        )

    def wait_until_painted(self, timeout_s: float = _PAINT_WAIT_S) -> bool:
        """Process events until the window has been painted (or ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while not self.painted and time.monotonic() < deadline:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        return self.painted


def _shut_down_runners() -> None:
    """Stop the workstation's background runners, if it got that far."""
    background = sys.modules.get("recist_app.ui.background")
    if background is not None:
        background.shutdown_all_runners()


def run_workstation(demo: bool, database_url: str | None) -> int:
    """Open the workstation (on the demo patients with ``demo``); return exit code.

    The start window is painted first; then the workstation's modules are
    imported and :func:`recist_app.ui.workstation.open_after_start` opens the
    database and the main window in its place.
    """
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    # No worker thread may outlive the objects it reports to (issue 18).
    app.aboutToQuit.connect(_shut_down_runners)
    start = StartWindow()
    start.showMaximized()
    start.wait_until_painted()
    start.say("Loading the workstation…")
    workstation = importlib.import_module("recist_app.ui.workstation")
    status: int = workstation.open_after_start(
        app, start, demo=demo, database_url=database_url
    )
    return status
