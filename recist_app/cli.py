"""The ``recist-app`` command: the workstation by default, headless subcommands.

Every subcommand reports bad input as one line on stderr and exits with status 2;
no traceback reaches the user. See the README for the full command reference.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from recist_app import __version__

__all__ = ["CliError", "main"]

EXIT_OK = 0
EXIT_BAD_INPUT = 2

DATABASE_ENV = "RECIST_APP_DATABASE_URL"


class CliError(Exception):
    """A problem with the user's input, reported as one line and exit status 2."""


Handler = Callable[[argparse.Namespace], int]


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from recist_app.exchange import (
        ExchangeError,
        assessment_csv_text,
        assessment_json_text,
        read_reading_file,
    )
    from recist_app.recist import ReadingError, assess

    try:
        reading = read_reading_file(Path(args.reading))
        assessment = assess(reading)
    except (ExchangeError, ReadingError) as error:
        raise CliError(str(error)) from error
    if args.format == "csv":
        text = assessment_csv_text(assessment)
    else:
        text = assessment_json_text(assessment)
    _write_output(text, args.out)
    return EXIT_OK


def _write_output(text: str, out: str | None) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    path = Path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as error:
        raise CliError(f"{path}: cannot write: {error.strerror}") from error


def _add_database_option(
    parser: argparse.ArgumentParser, *, top_level: bool = False
) -> None:
    """Add ``--database``; subcommands suppress their default so the top one wins."""
    parser.add_argument(
        "--database",
        metavar="URL",
        default=os.environ.get(DATABASE_ENV) if top_level else argparse.SUPPRESS,
        help=(
            "SQLAlchemy database URL (default: $RECIST_APP_DATABASE_URL or a SQLite "
            "file in the user data folder)"
        ),
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recist-app",
        description="RECIST 1.1 tumour-response reading workstation.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the workstation on a generated demo patient",
    )
    _add_database_option(parser, top_level=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")

    evaluate = subparsers.add_parser(
        "evaluate",
        help="compute the responses of a reading file (recist-reading/1)",
        description=(
            "Read a reading file (recist-reading/1) and print its assessment "
            "(recist-assessment/1) as JSON, or one row per visit as CSV."
        ),
    )
    evaluate.add_argument("reading", metavar="READING.json")
    evaluate.add_argument("--out", metavar="FILE", help="write to FILE, not stdout")
    evaluate.add_argument("--format", choices=("json", "csv"), default="json")
    evaluate.set_defaults(handler=_cmd_evaluate)

    return parser


def _run_gui(args: argparse.Namespace) -> int:
    # Imported by name so the headless commands never load Qt.
    app = importlib.import_module("recist_app.app")
    status: int = app.run_workstation(demo=args.demo, database_url=args.database)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``recist-app`` with ``argv`` (default: ``sys.argv[1:]``)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    try:
        if handler is None:
            return _run_gui(args)
        return handler(args)
    except CliError as error:
        print(f"recist-app: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("recist-app: interrupted", file=sys.stderr)
        return 130
