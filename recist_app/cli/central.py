"""``recist-app adjudication list|decide`` and ``recist-app agreement``."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from recist_app.cli.errors import EXIT_OK
from recist_app.cli.options import (
    CRITERIA_HELP,
    add_database_option,
    add_discordance_options,
    add_user_option,
    criteria_type,
    database_url,
    discordance_rules,
    reader_role_type,
    write_output,
)
from recist_app.recist import Criteria

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parsers"]


def _run_list(args: argparse.Namespace) -> int:
    from recist_app.workflows.central_reading import (
        adjudication_csv_text,
        adjudication_list,
        adjudication_table_text,
    )
    from recist_app.workflows.database import open_database

    with open_database(database_url(args)) as store:
        statuses = adjudication_list(
            store,
            criteria=args.criteria,
            rules=discordance_rules(args),
            include_decided=not args.pending,
        )
    text = (
        adjudication_csv_text(statuses)
        if args.format == "csv"
        else adjudication_table_text(statuses)
    )
    sys.stdout.write(text)
    return EXIT_OK


def _run_decide(args: argparse.Namespace) -> int:
    from recist_app.workflows.central_reading import decide
    from recist_app.workflows.database import open_database

    with open_database(database_url(args)) as store:
        decision = decide(
            store,
            args.patient,
            accept=args.accept,
            reason=args.reason,
            user=args.user,
            criteria=args.criteria or Criteria.RECIST_1_1,
            rules=discordance_rules(args),
        )
    print(
        f"{decision.patient_id} / {decision.criteria.value}: accepted "
        f"{decision.accepted_role.value}'s read (by {decision.decided_by}: "
        f"{decision.reason}); audit trail head {decision.audit_head}"
    )
    return EXIT_OK


def _run_agreement(args: argparse.Namespace) -> int:
    from recist_app.endpoints import agreement_csv_text
    from recist_app.workflows.central_reading import agreement_report
    from recist_app.workflows.database import open_database

    with open_database(database_url(args)) as store:
        report = agreement_report(
            store,
            criteria=args.criteria or Criteria.RECIST_1_1,
            rules=discordance_rules(args),
        )
    if args.format == "csv":
        text = agreement_csv_text(report)
    elif args.format == "json":
        text = json.dumps(report.as_dict(), indent=2) + "\n"
    else:
        rows = report.table_rows()
        width = max(len(name) for name, _ in rows)
        text = "".join(f"{name.ljust(width)}  {value}\n" for name, value in rows)
    write_output(text, args.out)
    return EXIT_OK


def add_parsers(subparsers: Any) -> None:
    """Add ``adjudication list``, ``adjudication decide`` and ``agreement``."""
    adjudication = subparsers.add_parser(
        "adjudication",
        help="central review: discordant patients, the adjudicator's decision",
        description=(
            "Central review with two blinded readers: once both primary reads of "
            "a patient are signed, the patient is discordant when the BOR differs "
            "or the first PD is at a different date; the adjudicator accepts one "
            "read, which becomes the final read."
        ),
    )
    commands = adjudication.add_subparsers(
        dest="adjudication_command", metavar="COMMAND"
    )
    commands.required = True
    lister = commands.add_parser(
        "list", help="the discordant patients with each read and the reason"
    )
    lister.add_argument("--format", choices=("table", "csv"), default="table")
    lister.add_argument(
        "--pending", action="store_true", help="only patients not yet adjudicated"
    )
    lister.add_argument(
        "--criteria", type=criteria_type, default=None, help=CRITERIA_HELP
    )
    add_discordance_options(lister)
    add_database_option(lister)
    lister.set_defaults(handler=_run_list)
    decider = commands.add_parser(
        "decide", help="accept reader 1's or reader 2's read, with a reason"
    )
    decider.add_argument("patient", metavar="PATIENT")
    decider.add_argument(
        "--accept",
        type=reader_role_type,
        required=True,
        metavar="ROLE",
        help="'reader 1' or 'reader 2'",
    )
    decider.add_argument("--reason", required=True, help="why (audit trail)")
    decider.add_argument(
        "--criteria", type=criteria_type, default=None, help=CRITERIA_HELP
    )
    add_discordance_options(decider)
    add_user_option(decider)
    add_database_option(decider)
    decider.set_defaults(handler=_run_decide)

    agreement = subparsers.add_parser(
        "agreement",
        help="reader agreement: BOR (percent, Cohen's kappa), PD date, "
        "adjudication rate, reader bias",
    )
    agreement.add_argument(
        "--format", choices=("table", "json", "csv"), default="table"
    )
    agreement.add_argument("--out", metavar="FILE", default=None)
    agreement.add_argument(
        "--criteria", type=criteria_type, default=None, help=CRITERIA_HELP
    )
    add_discordance_options(agreement)
    add_database_option(agreement)
    agreement.set_defaults(handler=_run_agreement)
