"""Errors raised by the rules layer.

Every error of :mod:`recist_app.recist` derives from :class:`ReadingError`, whose
message names the field and, where there is one, the visit and the lesion, so it
can be shown to the user as it is.
"""

from __future__ import annotations

__all__ = [
    "AssessmentDataError",
    "ReadingError",
    "UnknownLesionError",
    "UnknownVisitError",
    "UnsupportedCriteriaError",
]


class ReadingError(ValueError):
    """A reading (or one of its parts) would be invalid.

    The message names the field and, where there is one, the visit and the lesion,
    so it can be shown to the user as it is.
    """


class UnsupportedCriteriaError(ReadingError):
    """No rules are registered for the reading's criteria set."""


class _UnknownKeyError(ReadingError, KeyError):
    """A lookup by key found nothing; also a ``KeyError`` for mapping-style callers."""

    def __str__(self) -> str:
        # KeyError quotes its argument (``'T09'``); the message is a sentence.
        return str(self.args[0]) if self.args else ""


class UnknownLesionError(_UnknownKeyError):
    """No lesion of the reading has this id (lookups and edits alike)."""


class UnknownVisitError(_UnknownKeyError):
    """No timepoint of the reading has this visit label (lookups and edits alike)."""


class AssessmentDataError(ReadingError):
    """A dict is not a ``recist-assessment/1`` object.

    The message names the field and where it is
    (``assessment.timepoints[2]: overall_response must be ...``).
    """
