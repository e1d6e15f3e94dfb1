"""``recist-app audit verify``: check the audit trail and the data against it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from recist_app.cli.errors import EXIT_OK, CliError
from recist_app.cli.options import add_database_option, database_url

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parsers"]


def _run_verify(args: argparse.Namespace) -> int:
    from recist_app.workflows.database import open_database, verify_audit

    with open_database(database_url(args)) as store:
        result = verify_audit(store, expect_heads=args.expect_head or ())
        url = store.url
    if not result.ok:
        for line in result.details():
            print(f"{url}: {line}", file=sys.stderr)
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
        help="check the hash chain, the data against it, triggers, key, anchors",
        description=(
            "Recompute the SHA-256 chain of the audit trail; compare every "
            "reading, finding, signature and clinical row with what the trail "
            "says it holds; check that the append-only triggers are present and "
            "enabled; with $RECIST_APP_AUDIT_KEY, check every row's HMAC. Exit "
            "status 0 when all hold, 2 otherwise, with one line per difference "
            "(patient, reader, visit, lesion) on stderr."
        ),
    )
    verify.add_argument(
        "--expect-head",
        action="append",
        metavar="HASH",
        help=(
            "a chain head written down earlier (printed at sign-off and on the "
            "PDF report) that must still be a row of the trail; repeatable"
        ),
    )
    add_database_option(verify)
    verify.set_defaults(handler=_run_verify)
