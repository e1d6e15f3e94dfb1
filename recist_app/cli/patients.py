"""``recist-app patient rename``: give an imaged patient its real id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recist_app.cli.errors import EXIT_OK
from recist_app.cli.options import add_database_option, add_user_option, database_url

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parsers"]


def _run_rename(args: argparse.Namespace) -> int:
    from recist_app.workflows.database import open_database
    from recist_app.workflows.patients import rename_patient

    with open_database(database_url(args)) as store:
        done = rename_patient(
            store, args.patient_id, args.new_patient_id, user=args.user
        )
    print(done)
    return EXIT_OK


def add_parsers(subparsers: Any) -> None:
    """Add ``patient rename``."""
    patient = subparsers.add_parser(
        "patient",
        help="patients in the database: rename or merge an imaged patient",
        description="Commands on the database's patients.",
    )
    commands = patient.add_subparsers(dest="patient_command", metavar="COMMAND")
    commands.required = True
    rename = commands.add_parser(
        "rename",
        help="give an imaged patient (e.g. an ANON-… placeholder) its real id",
        description=(
            "Rename PATIENT_ID to NEW_ID, or, when NEW_ID is already in the "
            "database, move PATIENT_ID's studies to it and remove PATIENT_ID. Only "
            "a patient with images alone (not yet read, no clinical data) can be "
            "renamed; the audit trail records it."
        ),
    )
    rename.add_argument("patient_id", metavar="PATIENT_ID")
    rename.add_argument("new_patient_id", metavar="NEW_ID")
    add_user_option(rename)
    add_database_option(rename)
    rename.set_defaults(handler=_run_rename)
