"""Errors raised while computing trial endpoints."""

from __future__ import annotations

__all__ = ["EndpointError"]


class EndpointError(ValueError):
    """Bad endpoint input (clinical file, readings, options); one line for the user."""
