"""Errors and exit statuses of the ``recist-app`` command."""

from __future__ import annotations

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERRUPTED", "EXIT_OK", "CliError"]

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A problem with the command line itself (options that do not go together)."""
