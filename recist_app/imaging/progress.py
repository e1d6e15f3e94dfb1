"""Progress reporting and cancellation shared by scanning and loading."""

from __future__ import annotations

import threading
from collections.abc import Callable

from recist_app.imaging.errors import LoadCancelledError

__all__ = ["CancelCheck", "CancelToken", "ProgressCallback", "raise_if_cancelled"]

ProgressCallback = Callable[[int, int], None]
"""``progress(done, total)``: called as work advances (files or slices)."""


class CancelToken:
    """A thread-safe flag another thread (e.g. the UI) sets to stop long work.

    Examples
    --------
    >>> token = CancelToken()
    >>> token.cancelled
    False
    >>> token.cancel()
    >>> token()
    True
    """

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the running work to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` has been called."""
        return self._event.is_set()

    def __call__(self) -> bool:
        """Return :attr:`cancelled`, so a token works as a plain callable."""
        return self._event.is_set()


CancelCheck = CancelToken | Callable[[], bool]
"""A :class:`CancelToken` or any callable returning ``True`` to cancel."""


def raise_if_cancelled(cancel: CancelCheck | None, what: str) -> None:
    """Raise :class:`LoadCancelledError` when ``cancel`` says so.

    Parameters
    ----------
    cancel
        The token or callable given by the caller, or ``None``.
    what
        What is being cancelled, for the message (e.g. ``"loading series 1.2.3"``).
    """
    if cancel is not None and cancel():
        raise LoadCancelledError(f"{what}: cancelled")
