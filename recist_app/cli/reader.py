"""``recist-app reader``: the reader identity, as the workstation shows and signs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recist_app.cli.errors import EXIT_OK

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parsers"]


def _run_reader(args: argparse.Namespace) -> int:
    from recist_app.workflows.vocabulary import current_user, remember_reader

    if args.set is not None:
        remember_reader(args.set)
    print(current_user())
    return EXIT_OK


def add_parsers(subparsers: Any) -> None:
    """Add ``reader [--set NAME]``."""
    reader = subparsers.add_parser(
        "reader",
        help="show (or set) the reader identity used for signatures and the audit",
        description=(
            "Print who works: $RECIST_APP_USER, else the reader identity set once "
            "(here or in the workstation's Reading → Reader identity…, kept in the "
            "user config folder), else the login name. --set NAME remembers NAME."
        ),
    )
    reader.add_argument("--set", metavar="NAME", help="remember NAME as the reader")
    reader.set_defaults(handler=_run_reader)
