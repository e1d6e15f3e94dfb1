"""Errors raised by the rules layer."""

from __future__ import annotations

__all__ = ["ReadingError", "UnsupportedCriteriaError"]


class ReadingError(ValueError):
    """A reading (or one of its parts) would be invalid.

    The message names the field and, where there is one, the visit and the lesion,
    so it can be shown to the user as it is.
    """


class UnsupportedCriteriaError(ReadingError):
    """No rules are registered for the reading's criteria set."""
