"""``recist-app import DICOM_DIR``: index a folder into the reading database."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recist_app.cli.errors import EXIT_OK
from recist_app.cli.options import (
    ProgressBar,
    add_database_option,
    add_user_option,
    database_url,
)

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parsers"]


def _run(args: argparse.Namespace) -> int:
    from recist_app.workflows.database import open_database
    from recist_app.workflows.images import import_dicom

    progress = ProgressBar("scanning")
    with open_database(database_url(args)) as store:
        try:
            summary = import_dicom(
                store, Path(args.dicom_dir), user=args.user, progress=progress
            )
        finally:
            progress.finish()
        for line in summary.skipped:
            print(f"recist-app: skipped {line}", file=sys.stderr)
        for line in summary.rejected:
            print(f"recist-app: rejected {line}", file=sys.stderr)
        for line in summary.notes:
            print(f"recist-app: note: {line}", file=sys.stderr)
        print(f"{store.url}: {summary}")
        if not summary.changed:
            print("nothing new: every image was already indexed")
    return EXIT_OK


def add_parsers(subparsers: Any) -> None:
    """Add ``import``."""
    importer = subparsers.add_parser(
        "import",
        help="index a DICOM folder into the reading database",
        description=(
            "Scan DICOM_DIR (headers only, recursively) and record its patients, "
            "studies, series and file locations in the reading database, so the "
            "workstation opens them without rescanning. Running it again adds "
            "nothing; a moved folder only updates the file locations."
        ),
    )
    importer.add_argument("dicom_dir", metavar="DICOM_DIR")
    add_user_option(importer)
    add_database_option(importer)
    importer.set_defaults(handler=_run)
