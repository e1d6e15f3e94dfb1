"""The argument vocabulary every subcommand shares.

One ``--database``, one ``--user``, one criteria parser accepting the documented
spellings (:func:`recist_app.workflows.vocabulary.parse_criteria`), one way to
write output and one progress bar, so no two subcommands spell the same thing
differently.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recist_app.environment import (
    DATABASE_URL_ENV,
    DEID_KEY_ENV,
    READER_ROLE_ENV,
    USER_ENV,
)
from recist_app.workflows.errors import WorkflowError
from recist_app.workflows.vocabulary import (
    current_role,
    current_user,
    parse_criteria,
    parse_criteria_choice,
    parse_reader_role,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from recist_app.recist import Criteria, ReaderRole
    from recist_app.workflows.central_reading import DiscordanceRules

__all__ = [
    "CRITERIA_HELP",
    "DATABASE_URL_ENV",
    "DEID_KEY_ENV",
    "ProgressBar",
    "add_database_option",
    "add_discordance_options",
    "add_role_option",
    "add_user_option",
    "criteria_choice_type",
    "criteria_type",
    "discordance_rules",
    "positive",
    "reader_role_type",
    "report",
    "viewer_role",
    "write_output",
]

CRITERIA_HELP = "'RECIST 1.1' (or recist), iRECIST (irecist) or mRECIST (mrecist)"


def criteria_type(text: str) -> Criteria:
    """``--criteria``: one criteria set in any documented spelling."""
    try:
        return parse_criteria(text)
    except WorkflowError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def criteria_choice_type(text: str) -> tuple[Criteria, ...] | None:
    """A criteria choice: one set, ``all`` or ``file`` (``None``: the file's own)."""
    try:
        return parse_criteria_choice(text)
    except WorkflowError as error:
        raise argparse.ArgumentTypeError(
            f"{error}; or 'all', or 'file' for the reading's own"
        ) from None


def reader_role_type(text: str) -> ReaderRole:
    """``--role`` / ``--accept``: a central-review role, in any spelling."""
    try:
        return parse_reader_role(text)
    except WorkflowError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_role_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """Add ``--role`` (central-review role; default ``$RECIST_APP_READER_ROLE``)."""
    parser.add_argument(
        "--role",
        type=reader_role_type,
        default=None,
        metavar="ROLE",
        help=f"{help_text} ('reader 1', 'reader 2', 'adjudicator' or 'single'; "
        f"default: ${READER_ROLE_ENV}, else single)",
    )


def viewer_role(args: argparse.Namespace) -> ReaderRole:
    """The ``--role`` given, else :func:`current_role`."""
    role: ReaderRole | None = getattr(args, "role", None)
    return role if role is not None else current_role()


def add_discordance_options(parser: argparse.ArgumentParser) -> None:
    """Add the discordance rules: which differences go to adjudication."""
    parser.add_argument(
        "--pd-tolerance-days",
        type=int,
        default=0,
        metavar="DAYS",
        help="first-PD dates this many days apart still agree (default 0)",
    )
    parser.add_argument(
        "--no-bor-rule",
        action="store_true",
        help="a different BOR alone does not send a patient to adjudication",
    )
    parser.add_argument(
        "--no-pd-date-rule",
        action="store_true",
        help="a different first-PD date alone does not send a patient to adjudication",
    )
    parser.add_argument(
        "--concordant-final",
        type=reader_role_type,
        default=None,
        metavar="ROLE",
        help="the read a concordant patient takes as final (default 'reader 1')",
    )


def discordance_rules(args: argparse.Namespace) -> DiscordanceRules:
    """The :class:`DiscordanceRules` the options say."""
    from recist_app.recist import ReaderRole
    from recist_app.workflows.central_reading import DiscordanceRules

    return DiscordanceRules(
        compare_bor=not getattr(args, "no_bor_rule", False),
        compare_pd_date=not getattr(args, "no_pd_date_rule", False),
        pd_tolerance_days=getattr(args, "pd_tolerance_days", 0),
        concordant_final=getattr(args, "concordant_final", None) or ReaderRole.READER_1,
    )


def positive(kind: Callable[[str], float]) -> Callable[[str], Any]:
    """An argparse type: a number of ``kind`` that is > 0."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
        return value

    return parse


def add_user_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--user``: who does it, for the audit trail."""
    parser.add_argument(
        "--user",
        default=current_user(),
        help=f"who does this, for the audit trail (default: ${USER_ENV}, else "
        "your login name)",
    )


def add_database_option(
    parser: argparse.ArgumentParser, *, top_level: bool = False
) -> None:
    """Add ``--database``; subcommands suppress their default so the top one wins."""
    parser.add_argument(
        "--database",
        metavar="URL",
        default=None if top_level else argparse.SUPPRESS,
        help=(
            f"SQLAlchemy database URL (default: ${DATABASE_URL_ENV} or a SQLite "
            "file in the user data folder)"
        ),
    )


def database_url(args: argparse.Namespace) -> str | None:
    """The ``--database`` given at any level (``None``: the default database)."""
    url: str | None = getattr(args, "database", None)
    return url or None


def report(line: str) -> None:
    """One progress or notice line on stderr, prefixed with the program name."""
    print(f"recist-app: {line}", file=sys.stderr, flush=True)


def write_output(text: str, out: str | None) -> None:
    """Write ``text`` to ``out`` atomically, or to stdout without ``out``."""
    if out is None:
        sys.stdout.write(text)
        return
    from recist_app.workflows.evaluate import write_text_file

    write_text_file(text, Path(out))


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, label: str, *, width: int = 30, unit: str = "files") -> None:
        self._label = label
        self._width = width
        self._unit = unit
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` files (or the unit given)."""
        now = time.monotonic()
        if done < total and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        filled = self._width if total == 0 else self._width * done // total
        bar = "#" * filled + "." * (self._width - filled)
        sys.stderr.write(f"\r{self._label} [{bar}] {done}/{total} {self._unit}")
        sys.stderr.flush()
        self._drawn = True

    def finish(self) -> None:
        """End the bar's line."""
        if self._drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
