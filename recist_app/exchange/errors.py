"""Errors raised while reading or writing exchange files."""

from __future__ import annotations

__all__ = ["ExchangeError"]


class ExchangeError(ValueError):
    """A file cannot be read or written; the message is one line for the user."""
