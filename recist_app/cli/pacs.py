"""``recist-app pacs echo|find``: a PACS over DICOMweb or DIMSE.

The options every PACS command shares (``--pacs-settings``, ``--calling-aet``)
and the retrieval's progress bars live here too: ``recist-app import --from
SERVER`` and ``recist-app export --send SERVER`` use them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recist_app.cli.errors import EXIT_OK, CliError
from recist_app.cli.options import ProgressBar, write_output
from recist_app.environment import PACS_SETTINGS_ENV

if TYPE_CHECKING:
    import argparse

    from recist_app.workflows.pacs import PacsServer, PacsSettings

__all__ = [
    "SERVER_HELP",
    "RetrievalProgress",
    "add_pacs_options",
    "add_parsers",
    "pacs_server",
    "pacs_settings",
]

SERVER_HELP = (
    "a server named in the PACS settings file, or a URL: "
    "http(s)://[user:password@]host[:port]/dicom-web (DICOMweb) or "
    "dimse://CALLED_AE_TITLE@host:port (DIMSE)"
)


def add_pacs_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--pacs-settings FILE`` and ``--calling-aet AE_TITLE``."""
    parser.add_argument(
        "--pacs-settings",
        metavar="FILE",
        help=(
            f"the PACS settings file (default: ${PACS_SETTINGS_ENV}, else pacs.toml "
            "in the user config folder)"
        ),
    )
    parser.add_argument(
        "--calling-aet",
        metavar="AE_TITLE",
        help="our own AE title for DIMSE (default: the settings file's, else "
        "RECISTAPP)",
    )


def pacs_settings(args: argparse.Namespace) -> PacsSettings:
    """The PACS settings file the command line names (or the default one)."""
    from recist_app.workflows.pacs import load_pacs_settings

    path = getattr(args, "pacs_settings", None)
    return load_pacs_settings(Path(path) if path else None)


def pacs_server(args: argparse.Namespace, text: str) -> PacsServer:
    """The server ``text`` names, with ``--calling-aet`` applied."""
    from recist_app.workflows.pacs import resolve_server

    return resolve_server(
        text, pacs_settings(args), calling_ae_title=getattr(args, "calling_aet", None)
    )


class RetrievalProgress:
    """One progress bar per stage of a retrieval: images, then files indexed."""

    def __init__(self) -> None:
        self._units = {"retrieving": "images", "indexing": "files"}
        self._stage = ""
        self._bar: ProgressBar | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Show ``done`` of ``total`` for ``stage``."""
        if stage != self._stage:
            self.finish()
            self._stage = stage
            self._bar = ProgressBar(stage, unit=self._units.get(stage, "files"))
        if self._bar is not None:
            self._bar(done, total)

    def finish(self) -> None:
        """End the current bar's line."""
        if self._bar is not None:
            self._bar.finish()
            self._bar = None


def _run_echo(args: argparse.Namespace) -> int:
    from recist_app.workflows.pacs import echo_server

    print(echo_server(pacs_server(args, args.server)))
    return EXIT_OK


def _run_find(args: argparse.Namespace) -> int:
    from recist_app.workflows.pacs import (
        StudyQuery,
        find_studies,
        parse_date_range,
        studies_csv_text,
        studies_table_text,
    )

    date_from, date_to = parse_date_range(args.date or "")
    try:
        query = StudyQuery(
            patient_id=args.patient or "",
            patient_name=args.name or "",
            date_from=date_from,
            date_to=date_to,
            modality=(args.modality or "").upper(),
            study_instance_uid=args.study or "",
        )
    except ValueError as error:
        raise CliError(str(error)) from None
    studies = find_studies(pacs_server(args, args.server), query)
    text = (
        studies_csv_text(studies)
        if args.format == "csv"
        else studies_table_text(studies)
    )
    write_output(text, args.out)
    if args.out is not None:
        print(f"wrote {len(studies)} studies to {args.out}", file=sys.stderr)
    return EXIT_OK


def add_parsers(subparsers: Any) -> None:
    """Add ``pacs echo`` and ``pacs find``."""
    pacs = subparsers.add_parser(
        "pacs",
        help="query a PACS (DICOMweb or DIMSE)",
        description=(
            "Talk to a PACS: DICOMweb (QIDO-RS, WADO-RS, STOW-RS) or DIMSE "
            "(C-ECHO, C-FIND, C-GET, C-STORE). Retrieve with `recist-app import "
            "--from SERVER --patient ID`; send reports with `recist-app export "
            "--format sr --send SERVER`."
        ),
    )
    commands = pacs.add_subparsers(dest="pacs_command", metavar="COMMAND")
    commands.required = True
    echo = commands.add_parser(
        "echo",
        help="check that a server answers and accepts us",
        description=(
            "C-ECHO a DIMSE server, or ask a DICOMweb server for one study "
            "(QIDO-RS): the server answers and accepts our AE title or "
            "credentials."
        ),
    )
    echo.add_argument("server", metavar="SERVER", help=SERVER_HELP)
    add_pacs_options(echo)
    echo.set_defaults(handler=_run_echo)
    find = commands.add_parser(
        "find",
        help="find studies on a server",
        description=(
            "Find studies (QIDO-RS or C-FIND at study level). Patient id and name "
            "follow DICOM matching: * and ? are wildcards. CSV has one row per "
            "study with its StudyInstanceUID."
        ),
    )
    find.add_argument("server", metavar="SERVER", help=SERVER_HELP)
    find.add_argument("--patient", metavar="ID", help="Patient ID")
    find.add_argument("--name", metavar="NAME", help="Patient's Name (DOE^J*)")
    find.add_argument(
        "--date",
        metavar="RANGE",
        help=(
            "study date or range: 20240101, 20240101-20240630, 20240101-, "
            "-20240630, or 2024-01-01..2024-06-30"
        ),
    )
    find.add_argument("--modality", metavar="CT", help="a modality in the study")
    find.add_argument("--study", metavar="UID", help="StudyInstanceUID")
    find.add_argument("--format", choices=("table", "csv"), default="table")
    find.add_argument("--out", metavar="FILE", help="write to FILE, not stdout")
    add_pacs_options(find)
    find.set_defaults(handler=_run_find)
