"""The one place that turns exceptions into message boxes (STYLE.md 4.7)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

if TYPE_CHECKING:
    from collections.abc import Iterator

    from PySide6.QtWidgets import QWidget

__all__ = ["describe_error", "error_boundary", "show_error"]


def describe_error(error: BaseException) -> str:
    """A one-line, readable description of ``error`` (never a traceback)."""
    text = " ".join(str(error).split())
    if isinstance(error, KeyError) and error.args:
        text = f"unknown {error.args[0]!s}"
    if not text:
        text = type(error).__name__
    return text


def show_error(parent: QWidget | None, title: str, error: BaseException) -> None:
    """Show ``error`` as a warning box titled ``title``."""
    QMessageBox.warning(parent, title, describe_error(error))


@contextmanager
def error_boundary(parent: QWidget | None, title: str) -> Iterator[None]:
    """Run a block; any ``Exception`` becomes a message box, the app goes on."""
    try:
        yield
    except Exception as error:
        show_error(parent, title, error)
