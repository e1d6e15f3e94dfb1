"""``recist-app endpoints`` and ``recist-app clinical import``: the trial's numbers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recist_app.cli.errors import EXIT_OK, CliError
from recist_app.cli.options import (
    CRITERIA_HELP,
    add_database_option,
    add_user_option,
    criteria_type,
    database_url,
)
from recist_app.recist import Criteria

if TYPE_CHECKING:
    import argparse

    from recist_app.workflows.endpoints import TrialAnalysis

__all__ = ["add_parsers"]

CBR_HELP = "CBR: CR/PR lasting >= 183 days (default) or CR+PR+SD >= 24 weeks"


def _analysis(args: argparse.Namespace) -> TrialAnalysis:
    from recist_app.endpoints import EndpointOptions
    from recist_app.workflows.database import open_database
    from recist_app.workflows.endpoints import trial_from_files, trial_from_store

    options = EndpointOptions(
        assessment_interval_days=args.assessment_interval_days,
        visit_window_days=args.visit_window_days,
        censor_after_missed_assessments=not args.no_censor_missed_assessments,
        censor_at_new_therapy=not args.no_censor_new_therapy,
        use_confirmed_response=not args.unconfirmed,
        cbr_definition=args.cbr,
        population=args.population,
        allow_unread_patients=args.allow_unread_patients,
        survival_ci=args.survival_ci,
    )
    clinical = Path(args.clinical) if args.clinical else None
    if args.readings is not None:
        if args.endpoints_database is not None:
            raise CliError("give either --readings DIR or --database, not both")
        if clinical is None:
            raise CliError("--readings DIR needs --clinical CLINICAL.csv")
        return trial_from_files(
            Path(args.readings), clinical, options, criteria=args.criteria
        )
    url = args.endpoints_database or database_url(args)
    with open_database(url) as store:
        return trial_from_store(
            store,
            options,
            criteria=args.criteria,
            reader=args.reader,
            signed_only=args.signed_only,
            clinical_csv=clinical,
        )


def _run(args: argparse.Namespace) -> int:
    from recist_app.endpoints import summary_table
    from recist_app.workflows.endpoints import write_trial_outputs

    analysis = _analysis(args)
    written = write_trial_outputs(analysis, Path(args.out), plots=not args.no_plots)
    table = summary_table(analysis.endpoints)
    width = max(len(name) for name, _value in table.rows)
    for name, value in table.rows:
        print(f"{name:<{width}}  {value}")
    for warning in analysis.endpoints.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {len(written)} files to {args.out}")
    return EXIT_OK


def _run_clinical_import(args: argparse.Namespace) -> int:
    from recist_app.workflows.database import open_database
    from recist_app.workflows.endpoints import import_clinical

    with open_database(database_url(args)) as store:
        summary = import_clinical(store, Path(args.clinical), user=args.user)
        url = store.url
    print(f"{url}: {summary}")
    return EXIT_OK


def add_parsers(subparsers: Any) -> None:
    """Add ``endpoints`` and ``clinical import``."""
    endpoints = subparsers.add_parser(
        "endpoints",
        help="trial endpoints (ORR, DCR, CBR, PFS, OS, DOR) from reading files",
        description=(
            "Compute the trial endpoints from a folder of reading files and a "
            "clinical CSV (columns: patient_id, first_dose_date, death_date, "
            "last_known_alive_date, new_anticancer_therapy_date, data_cutoff_date), "
            "or from the reading database and its imported clinical data, under "
            "RECIST 1.1, iRECIST or mRECIST, and write endpoints.json, "
            "subjects.csv, summary.csv, plots and reports. The trial is the "
            "clinical data's patients: a reading without a clinical row is left "
            "out and named in a warning."
        ),
    )
    source = endpoints.add_mutually_exclusive_group()
    source.add_argument(
        "--readings", metavar="DIR", help="folder of *.json reading files"
    )
    source.add_argument(
        "--database",
        dest="endpoints_database",
        nargs="?",
        const="",
        metavar="URL",
        help=(
            "read the readings from the database (the default source without "
            "--readings; URL default: $RECIST_APP_DATABASE_URL or the user's "
            "SQLite file)"
        ),
    )
    endpoints.add_argument(
        "--reader", help="database: only this reader's readings (one per patient)"
    )
    endpoints.add_argument(
        "--signed-only", action="store_true", help="database: only signed readings"
    )
    endpoints.add_argument(
        "--clinical",
        metavar="CLINICAL.csv",
        help=(
            "clinical file (required with --readings; with the database, default: "
            "its imported clinical data)"
        ),
    )
    endpoints.add_argument(
        "--criteria",
        type=criteria_type,
        default=Criteria.RECIST_1_1,
        metavar="CRITERIA",
        help=(
            f"assess the readings under {CRITERIA_HELP} (default RECIST 1.1; iCPD "
            "is the iRECIST progression event)"
        ),
    )
    endpoints.add_argument("--out", metavar="DIR", required=True)
    endpoints.add_argument(
        "--no-censor-missed-assessments",
        action="store_true",
        help="PFS row 5 off: count PD/death after >= 2 missed assessments",
    )
    endpoints.add_argument(
        "--no-censor-new-therapy",
        action="store_true",
        help="PFS row 6 off: ignore new anticancer therapy for PFS and DOR",
    )
    endpoints.add_argument(
        "--unconfirmed",
        action="store_true",
        help="ORR/DCR/CBR/DOR from the unconfirmed best overall response",
    )
    endpoints.add_argument(
        "--cbr",
        choices=("response-6m", "cr-pr-sd-24w"),
        default="response-6m",
        help=CBR_HELP,
    )
    endpoints.add_argument(
        "--population",
        choices=("measurable", "all"),
        default="measurable",
        help="denominator of ORR/DCR/CBR (default: measurable disease at baseline)",
    )
    endpoints.add_argument(
        "--survival-ci", choices=("log-log", "linear"), default="log-log"
    )
    endpoints.add_argument(
        "--assessment-interval-days", type=int, default=28, metavar="DAYS"
    )
    endpoints.add_argument("--visit-window-days", type=int, default=7, metavar="DAYS")
    endpoints.add_argument(
        "--allow-unread-patients",
        action="store_true",
        help="clinical rows without a reading count as treated, never assessed",
    )
    endpoints.add_argument(
        "--no-plots", action="store_true", help="skip PNG, PDF and HTML output"
    )
    endpoints.set_defaults(handler=_run)

    clinical = subparsers.add_parser(
        "clinical",
        help="clinical data (first dose, death, cut-off) in the reading database",
        description="Commands on the clinical dates the endpoints need.",
    )
    commands = clinical.add_subparsers(dest="clinical_command", metavar="COMMAND")
    commands.required = True
    importer = commands.add_parser(
        "import",
        help="validate CLINICAL.csv and make it the database's clinical data",
        description=(
            "Check every row of CLINICAL.csv (columns: patient_id, first_dose_date, "
            "death_date, last_known_alive_date, new_anticancer_therapy_date, "
            "data_cutoff_date) and store it in one transaction, replacing the "
            "clinical data imported before; every change goes to the audit trail. "
            "'recist-app endpoints --database' then needs no --clinical."
        ),
    )
    importer.add_argument("clinical", metavar="CLINICAL.csv")
    add_user_option(importer)
    add_database_option(importer)
    importer.set_defaults(handler=_run_clinical_import)
