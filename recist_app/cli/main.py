"""The ``recist-app`` command: the workstation by default, headless subcommands.

One module per subcommand group builds its parser and runs it through the
workflows; :func:`main` is the one error boundary: every error the project
raises becomes one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

from recist_app import __version__
from recist_app.cli import (
    audit,
    central,
    demo,
    endpoints,
    evaluate,
    export,
    images,
    measure,
    pacs,
    patients,
    reader,
    reading,
)
from recist_app.cli.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, CliError
from recist_app.cli.options import add_database_option, database_url
from recist_app.workflows.errors import describe_error, is_project_error

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``recist-app`` argument parser with every subcommand."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="recist-app",
        description="RECIST 1.1 tumour-response reading workstation.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the workstation on two generated demo patients (one read)",
    )
    add_database_option(parser, top_level=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in (
        evaluate,
        demo,
        endpoints,
        export,
        reading,
        images,
        patients,
        audit,
        pacs,
        measure,
        central,
        reader,
    ):
        group.add_parsers(subparsers)
    return parser


def _run_workstation(args: argparse.Namespace) -> int:
    # Imported by name so the headless commands never load Qt.
    workstation = importlib.import_module("recist_app.ui.launcher")
    status: int = workstation.run_workstation(
        demo=args.demo, database_url=database_url(args)
    )
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``recist-app`` with ``argv`` (default: ``sys.argv[1:]``)."""
    given = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(measure.attach_point_values(given))
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    try:
        if handler is None:
            return _run_workstation(args)
        return handler(args)
    except KeyboardInterrupt:
        print("recist-app: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        if not isinstance(error, CliError) and not is_project_error(error):
            raise  # a bug: its traceback is what a report needs
        print(f"recist-app: error: {describe_error(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
