"""``recist-app export``: readings as JSON, CSV, SDTM, SR or PDF; the trial as ADaM."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recist_app.cli.errors import EXIT_BAD_INPUT, EXIT_OK, CliError
from recist_app.cli.options import (
    CRITERIA_HELP,
    DEID_KEY_ENV,
    add_database_option,
    add_role_option,
    criteria_choice_type,
    criteria_type,
    database_url,
    viewer_role,
)
from recist_app.cli.pacs import SERVER_HELP, add_pacs_options, pacs_server

if TYPE_CHECKING:
    import argparse

    from recist_app.recist import Criteria

__all__ = ["add_parsers"]

_FORMATS = ("json", "csv", "sdtm", "sr", "pdf", "adam")


def _response_criteria(text: str) -> tuple[Criteria, ...] | None:
    """``--response-criteria``: ``None`` = all the reading supports, () = its own."""
    if " ".join(text.split()).lower() == "all":
        return None  # mRECIST only where viable diameters were measured
    chosen = criteria_choice_type(text)
    return () if chosen is None else chosen


def _run(args: argparse.Namespace) -> int:
    from recist_app.workflows.central_reading import current_viewer
    from recist_app.workflows.database import open_database
    from recist_app.workflows.export import (
        ExportFormat,
        ExportOptions,
        ExportRequest,
        export,
    )

    if args.all == bool(args.patient):
        raise CliError("give either --patient ID or --all")
    if args.biomarkers and args.format != "adam":
        raise CliError("--biomarkers is for --format adam (ADSL's biomarkers)")
    request = ExportRequest(
        formats=(ExportFormat(args.format),),
        out_dir=Path(args.out),
        patient_id=None if args.all else args.patient,
        criteria=args.criteria,
        reader=args.reader,
        signed_only=args.signed_only,
        images_folder=Path(args.images) if args.images else None,
        options=ExportOptions(
            study_id=args.study_id,
            sponsor_name=args.sponsor,
            site_id=args.site_id,
            evaluator=args.evaluator,
            evaluator_id=args.evaluator_id,
            response_criteria=args.response_criteria,
        ),
        deidentify=args.deidentify,
        deid_key_file=Path(args.deid_key_file) if args.deid_key_file else None,
        subject_prefix=args.subject_prefix,
        biomarkers_csv=Path(args.biomarkers) if args.biomarkers else None,
        viewer=current_viewer(viewer_role(args)),
        send_to=pacs_server(args, args.send) if args.send else None,
    )
    with open_database(database_url(args)) as store:
        result = export(store, request)
    for line in result.skipped:
        print(f"recist-app: skipped {line}", file=sys.stderr)
    for line in result.notes:
        print(f"recist-app: note: {line}", file=sys.stderr)
    for line in result.failed:  # --all: each patient's problem, the others written
        print(f"recist-app: not exported: {line}", file=sys.stderr)
    print(
        f"wrote {len(result.files)} files for {result.readings} readings to {args.out}"
    )
    if result.sent is None:
        return EXIT_OK if result.ok else EXIT_BAD_INPUT
    for item, line in zip(result.sent.files, result.sent.lines(), strict=True):
        if item.accepted:
            print(line)
        else:
            print(f"recist-app: {line}", file=sys.stderr)
    print(result.sent)
    return EXIT_BAD_INPUT if result.sent.refused or not result.ok else EXIT_OK


def add_parsers(subparsers: Any) -> None:
    """Add ``export``."""
    export = subparsers.add_parser(
        "export",
        help="export readings from the database (json, csv, sdtm, sr, pdf, adam)",
        description=(
            "Export one patient's readings (or all patients') from the reading "
            "database: json (reading + assessment), csv (per visit and per lesion), "
            "sdtm (TU/TR/RS as CSV and SAS XPORT + define.csv), sr (DICOM SR "
            "TID 1500 per visit), pdf (reading report) or adam (ADSL, ADRS, "
            "ADTTE and ADAE of the trial's endpoints from the database's readings, "
            "clinical data and adverse events, as CSV and SAS XPORT + "
            "define.csv; --criteria chooses the criteria, default RECIST 1.1). "
            "Files appear in --out only when the whole export succeeded; with "
            "--all, a patient that cannot be exported is one line naming the "
            "patient and the reason, the others are written, and the exit status "
            "is 2. A visit not read has no SR (a note says so), no RS record, and "
            "the PDF marks it 'not read'."
        ),
    )
    add_database_option(export)
    which = export.add_mutually_exclusive_group()
    which.add_argument("--patient", metavar="ID", help="the patient to export")
    which.add_argument("--all", action="store_true", help="every patient")
    export.add_argument("--format", choices=_FORMATS, required=True)
    export.add_argument("--out", metavar="DIR", required=True)
    export.add_argument(
        "--images",
        metavar="DIR",
        help=(
            "DICOM folder with the measured images (sr, key images in pdf; "
            "default: the images indexed in the database)"
        ),
    )
    export.add_argument(
        "--criteria",
        type=criteria_type,
        metavar="CRITERIA",
        help=f"only readings under these criteria: {CRITERIA_HELP}",
    )
    export.add_argument(
        "--reader",
        help="only this reader's readings, by name or central role ('reader 1')",
    )
    add_role_option(
        export, "who exports: a primary reader exports only their own reads"
    )
    export.add_argument(
        "--signed-only", action="store_true", help="refuse (or skip) unsigned readings"
    )
    export.add_argument(
        "--deidentify",
        action="store_true",
        help="pseudonymous subject id, shifted dates, no direct identifiers",
    )
    export.add_argument(
        "--deid-key-file",
        metavar="FILE",
        help=f"the site's de-identification key (default: ${DEID_KEY_ENV})",
    )
    export.add_argument("--subject-prefix", default="SUBJ-", metavar="TEXT")
    export.add_argument(
        "--biomarkers",
        metavar="BIO.csv",
        help="adam: the biomarker file whose values and groups ADSL carries",
    )
    export.add_argument(
        "--study-id", default="RECIST-APP", help="SDTM and ADaM STUDYID"
    )
    export.add_argument("--sponsor", default="SPONSOR", help="Clinical Trial Sponsor")
    export.add_argument("--site-id", default="", help="Clinical Trial Site ID")
    export.add_argument(
        "--evaluator",
        choices=("INVESTIGATOR", "INDEPENDENT ASSESSOR"),
        default="INVESTIGATOR",
        help="SDTM --EVAL",
    )
    export.add_argument("--evaluator-id", help="SDTM --EVALID, e.g. 'RADIOLOGIST 1'")
    export.add_argument(
        "--response-criteria",
        type=_response_criteria,
        default=None,
        metavar="CRITERIA",
        help=(
            "sdtm: criteria sets whose responses RS carries, one set of records "
            "each (RSCAT): 'all' (default: RECIST 1.1, iRECIST, and mRECIST when "
            f"viable diameters were measured), 'file' (the reading's own), or "
            f"{CRITERIA_HELP}"
        ),
    )
    export.add_argument(
        "--send",
        metavar="SERVER",
        help=(
            "sr: store each visit's SR in that visit's study on a PACS (STOW-RS "
            f"or C-STORE) and report what it accepted; SERVER is {SERVER_HELP}"
        ),
    )
    add_pacs_options(export)
    export.set_defaults(handler=_run)
