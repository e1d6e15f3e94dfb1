"""The one place that turns exceptions into message boxes.

Actions the reader starts on the GUI thread run inside :func:`error_boundary`;
background jobs have their own boundary
(:func:`recist_app.ui.background.background_error_boundary`), whose one-line
message the caller shows with :func:`show_message`. Both describe an error with
:func:`recist_app.workflows.errors.describe_error`, the CLI's description too.
"""

from __future__ import annotations

import sys
import traceback
from contextlib import contextmanager
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from recist_app.ui.errors import DocumentLockedError
from recist_app.workflows.errors import describe_error, is_project_error

if TYPE_CHECKING:
    from collections.abc import Iterator

    from PySide6.QtWidgets import QWidget

__all__ = ["describe_error", "error_boundary", "show_error", "show_message"]


def show_message(parent: QWidget | None, title: str, message: str) -> None:
    """Show the one-line ``message`` as a warning box titled ``title``."""
    QMessageBox.warning(parent, title, message)


def show_error(parent: QWidget | None, title: str, error: BaseException) -> None:
    """Show ``error`` as a warning box titled ``title`` (a bug's trace to stderr)."""
    if not is_project_error(error) and not isinstance(error, DocumentLockedError):
        traceback.print_exception(error, file=sys.stderr)
    show_message(parent, title, describe_error(error))


@contextmanager
def error_boundary(parent: QWidget | None, title: str) -> Iterator[None]:
    """Run a block; any ``Exception`` becomes a message box, the app goes on."""
    try:
        yield
    except Exception as error:
        show_error(parent, title, error)
