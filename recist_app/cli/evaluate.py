"""``recist-app evaluate``: the responses of a reading file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from recist_app.cli.errors import EXIT_OK
from recist_app.cli.options import CRITERIA_HELP, criteria_choice_type, write_output

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parsers"]


def _run(args: argparse.Namespace) -> int:
    from recist_app.workflows.evaluate import evaluate_reading_file

    evaluation = evaluate_reading_file(Path(args.reading), args.criteria)
    write_output(evaluation.text(args.format), args.out)
    return EXIT_OK


def add_parsers(subparsers: Any) -> None:
    """Add ``evaluate``."""
    evaluate = subparsers.add_parser(
        "evaluate",
        help="compute the responses of a reading file (recist-reading/1)",
        description=(
            "Read a reading file (recist-reading/1) and print its assessment "
            "(recist-assessment/1) as JSON, or one row per visit as CSV (the "
            "layout of 'export --format csv')."
        ),
    )
    evaluate.add_argument("reading", metavar="READING.json")
    evaluate.add_argument("--out", metavar="FILE", help="write to FILE, not stdout")
    evaluate.add_argument("--format", choices=("json", "csv"), default="json")
    evaluate.add_argument(
        "--criteria",
        type=criteria_choice_type,
        default=None,
        metavar="CRITERIA",
        help=(
            f"criteria to assess under: {CRITERIA_HELP}; 'all' reports the three "
            "side by side; default 'file': the file's own"
        ),
    )
    evaluate.set_defaults(handler=_run)
