"""``recist-app import DICOM_DIR``: index a folder into the reading database.

``recist-app import --from SERVER --patient ID [--study UID]`` retrieves the
patient's studies from a PACS and indexes them the same way.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recist_app.cli.errors import EXIT_OK, CliError
from recist_app.cli.options import (
    ProgressBar,
    add_database_option,
    add_user_option,
    database_url,
)
from recist_app.cli.pacs import SERVER_HELP, add_pacs_options

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parsers"]


def _run(args: argparse.Namespace) -> int:
    from recist_app.workflows.database import open_database
    from recist_app.workflows.images import import_dicom

    if args.source is not None:
        return _run_from_pacs(args)
    if args.dicom_dir is None:
        raise CliError("give DICOM_DIR, or --from SERVER --patient ID")
    if args.patient or args.study or args.download_dir:
        raise CliError("--patient, --study and --download-dir go with --from SERVER")
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


def _run_from_pacs(args: argparse.Namespace) -> int:
    from recist_app.cli.pacs import RetrievalProgress, pacs_server, pacs_settings
    from recist_app.workflows.database import open_database
    from recist_app.workflows.pacs import default_download_folder, retrieve_patient

    if args.dicom_dir is not None:
        raise CliError("give either DICOM_DIR or --from SERVER, not both")
    if not args.patient:
        raise CliError("--from SERVER needs --patient ID")
    settings = pacs_settings(args)
    server = pacs_server(args, args.source)
    folder = (
        Path(args.download_dir)
        if args.download_dir
        else default_download_folder(settings)
    )
    progress = RetrievalProgress()
    with open_database(database_url(args)) as store:
        try:
            result = retrieve_patient(
                store,
                server,
                patient_id=args.patient,
                study_instance_uids=args.study or (),
                user=args.user,
                download_folder=folder,
                progress=progress,
            )
        finally:
            progress.finish()
        summary = result.summary
        for line in (*result.skipped, *summary.skipped):
            print(f"recist-app: skipped {line}", file=sys.stderr)
        for line in summary.rejected:
            print(f"recist-app: rejected {line}", file=sys.stderr)
        for line in summary.notes:
            print(f"recist-app: note: {line}", file=sys.stderr)
        print(f"{store.url}: {result}")
        if not summary.changed:
            print("nothing new: every series was already indexed")
    return EXIT_OK


def add_parsers(subparsers: Any) -> None:
    """Add ``import``."""
    importer = subparsers.add_parser(
        "import",
        help="index a DICOM folder (or a PACS patient) into the reading database",
        description=(
            "Scan DICOM_DIR (headers only, recursively) and record its patients, "
            "studies, series and file locations in the reading database, so the "
            "workstation opens them without rescanning. Running it again adds "
            "nothing; a moved folder only updates the file locations. With "
            "--from SERVER --patient ID, retrieve the patient's studies from a "
            "PACS (WADO-RS or C-GET) into the download folder and index them the "
            "same way: series already indexed are skipped, an interrupted "
            "retrieval resumes, and nothing is indexed unless every series arrived."
        ),
    )
    importer.add_argument("dicom_dir", metavar="DICOM_DIR", nargs="?")
    importer.add_argument(
        "--from", dest="source", metavar="SERVER", help=f"retrieve from {SERVER_HELP}"
    )
    importer.add_argument("--patient", metavar="ID", help="--from: the patient")
    importer.add_argument(
        "--study",
        metavar="UID",
        action="append",
        help="--from: only this StudyInstanceUID (repeat for several)",
    )
    importer.add_argument(
        "--download-dir",
        metavar="DIR",
        help=(
            "--from: where retrieved images are kept (default: the settings "
            "file's download_folder, else pacs/ in the user data folder)"
        ),
    )
    add_pacs_options(importer)
    add_user_option(importer)
    add_database_option(importer)
    importer.set_defaults(handler=_run)
