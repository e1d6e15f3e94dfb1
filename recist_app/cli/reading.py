"""``recist-app reading import|list`` and ``recist-app import-sr``: readings."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recist_app.cli.errors import EXIT_BAD_INPUT, EXIT_OK
from recist_app.cli.options import (
    CRITERIA_HELP,
    add_database_option,
    add_role_option,
    add_user_option,
    criteria_type,
    database_url,
    viewer_role,
)

if TYPE_CHECKING:
    import argparse

    from recist_app.workflows.reading_import import (
        ReadingFileImport,
        ReadingImportFailure,
    )

__all__ = ["add_parsers"]


def _run_import(args: argparse.Namespace) -> int:
    from recist_app.workflows.database import open_database
    from recist_app.workflows.reading_import import (
        ReadingFileImport,
        import_reading_files,
    )

    def show(item: ReadingFileImport | ReadingImportFailure) -> None:
        if isinstance(item, ReadingFileImport):
            print(item, flush=True)
            return
        hint = "; use --replace to overwrite it" if item.conflict else ""
        print(f"recist-app: error: {item.message}{hint}", file=sys.stderr, flush=True)

    with open_database(database_url(args)) as store:
        result = import_reading_files(
            store,
            [Path(name) for name in args.files],
            user=args.user,
            replace=args.replace,
            role=args.role,
            on_file=show,
        )
    print(result.summary())
    return EXIT_OK if result.ok else EXIT_BAD_INPUT


def _run_list(args: argparse.Namespace) -> int:
    from recist_app.workflows.central_reading import current_viewer
    from recist_app.workflows.database import open_database
    from recist_app.workflows.worklist import (
        reading_worklist,
        worklist_csv_text,
        worklist_table_text,
    )

    with open_database(database_url(args)) as store:
        rows = reading_worklist(store, viewer=current_viewer(viewer_role(args)))
    text = (
        worklist_csv_text(rows) if args.format == "csv" else worklist_table_text(rows)
    )
    sys.stdout.write(text)
    return EXIT_OK


def _run_import_sr(args: argparse.Namespace) -> int:
    from recist_app.workflows.database import open_database
    from recist_app.workflows.sr_import import import_sr_files

    with open_database(database_url(args)) as store:
        imported = import_sr_files(
            store,
            [Path(name) for name in args.sr_files],
            user=args.user,
            images_folder=Path(args.images) if args.images else None,
            criteria=args.criteria,
            reader=args.reader,
        )
    for item in imported:
        print(
            f"{item.label}: visit {item.visit}: "
            f"{len(item.lesion_ids)} measurements ({', '.join(item.lesion_ids)})"
        )
    return EXIT_OK


def add_parsers(subparsers: Any) -> None:
    """Add ``reading import``, ``reading list`` and ``import-sr``."""
    reading = subparsers.add_parser(
        "reading",
        help="readings in the database: import reading files, list the worklist",
        description="Readings in the reading database.",
    )
    commands = reading.add_subparsers(dest="reading_command", metavar="COMMAND")
    commands.required = True
    importer = commands.add_parser(
        "import",
        help="import recist-reading/1 files (one transaction per file)",
        description=(
            "Import reading files (recist-reading/1, with geometry and sign-off) "
            "for the patient, reader and criteria each names. Geometry must lie on "
            "indexed images of that patient. Each file is one transaction: a bad "
            "file imports nothing and is reported in one line; the other files "
            "are still imported, and the exit status is 2. Importing a file again "
            "changes nothing."
        ),
    )
    importer.add_argument("files", nargs="+", metavar="FILE.json")
    importer.add_argument(
        "--replace",
        action="store_true",
        help="overwrite a different stored reading (recorded in the audit trail)",
    )
    add_role_option(
        importer, "the readings' central-review role, for files without reader_role"
    )
    add_user_option(importer)
    add_database_option(importer)
    importer.set_defaults(handler=_run_import)
    lister = commands.add_parser(
        "list",
        help="the worklist: status, visits read, latest response, BOR so far",
        description=(
            "One line per stored reading: patient, criteria, reader, status "
            "(draft/signed), visits read (with findings / known), the latest "
            "overall response and the best overall response so far."
        ),
    )
    lister.add_argument("--format", choices=("table", "csv"), default="table")
    add_role_option(
        lister, "who is looking: a primary reader sees only their own reads"
    )
    add_database_option(lister)
    lister.set_defaults(handler=_run_list)

    sr = subparsers.add_parser(
        "import-sr",
        help="merge DICOM SR measurement reports (TID 1500) into stored readings",
        description=(
            "Read DICOM SR TID 1500 measurement reports (written by recist-app "
            "export --format sr or another highdicom-based tool) and merge their "
            "measurements into the stored reading of the SR's patient: lesions by "
            "Tracking UID or Tracking Identifier (lesion id), the visit by time "
            "point or study, the drawn axes back on their images. Nothing is "
            "saved unless every file imports."
        ),
    )
    sr.add_argument("sr_files", metavar="SR.dcm", nargs="+")
    add_database_option(sr)
    add_user_option(sr)
    sr.add_argument(
        "--images",
        metavar="DIR",
        help="DICOM folder with the measured images (default: the database index)",
    )
    sr.add_argument(
        "--criteria",
        type=criteria_type,
        metavar="CRITERIA",
        help=f"the patient's reading under these criteria: {CRITERIA_HELP}",
    )
    sr.add_argument("--reader", help="the patient's reading by this reader")
    sr.set_defaults(handler=_run_import_sr)
