"""``recist-app audit verify``: check the audit trail's hash chain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recist_app.cli.errors import EXIT_OK, CliError
from recist_app.cli.options import add_database_option, database_url

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parsers"]


def _run_verify(args: argparse.Namespace) -> int:
    from recist_app.workflows.database import open_database, verify_audit

    with open_database(database_url(args)) as store:
        result = verify_audit(store)
        url = store.url
    if not result.ok:
        raise CliError(f"{url}: {result}")
    print(f"{url}: {result}")
    return EXIT_OK


def add_parsers(subparsers: Any) -> None:
    """Add ``audit verify``."""
    audit = subparsers.add_parser(
        "audit",
        help="check the reading database's audit trail",
        description="Commands on the tamper-evident audit trail.",
    )
    commands = audit.add_subparsers(dest="audit_command", metavar="COMMAND")
    commands.required = True
    verify = commands.add_parser(
        "verify",
        help="check every link of the hash chain; report the first broken one",
        description=(
            "Recompute the SHA-256 chain of the audit trail and check its "
            "append-only triggers. Exit status 0 when intact, 2 with the first "
            "broken row otherwise."
        ),
    )
    add_database_option(verify)
    verify.set_defaults(handler=_run_verify)
