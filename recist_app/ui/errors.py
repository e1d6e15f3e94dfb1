"""Errors raised by the workstation itself (the layers below have their own)."""

from __future__ import annotations

__all__ = ["DocumentLockedError", "TaskFailedError"]


class DocumentLockedError(Exception):
    """A change was asked of a signed (locked) reading; amend it first."""


class TaskFailedError(Exception):
    """A background job ended with an error; ``str()`` is the one-line message."""
