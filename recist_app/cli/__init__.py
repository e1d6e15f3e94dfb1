"""The ``recist-app`` command (see :mod:`recist_app.cli.main`)."""

from recist_app.cli.main import main

__all__ = ["main"]
