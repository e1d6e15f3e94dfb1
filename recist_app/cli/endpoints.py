"""``recist-app endpoints`` and ``recist-app clinical import``: the trial's numbers."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recist_app.cli.errors import EXIT_OK, CliError
from recist_app.cli.options import (
    CRITERIA_HELP,
    add_database_option,
    add_discordance_options,
    add_role_option,
    add_user_option,
    criteria_type,
    database_url,
    discordance_rules,
    viewer_role,
)
from recist_app.recist import Criteria

if TYPE_CHECKING:
    from recist_app.workflows.endpoints import TrialAnalysis

__all__ = ["add_parsers"]

CBR_HELP = (
    "clinical benefit rate: 'response-6m' (default) = confirmed CR/PR whose "
    "duration of response (end - start + 1 days) is >= 183 days; 'cr-pr-sd-24w' = "
    "confirmed CR/PR, or SD lasting >= 168 days (24 weeks) from the first dose "
    "until progression criteria are met (RECIST 1.1 4.4.2; without progression, "
    "to the last adequate assessment); NON-CR/NON-PD is not SD and counts only "
    "with --cbr-non-cr-non-pd"
)
CBR_NON_CR_NON_PD_HELP = (
    "cr-pr-sd-24w: also count NON-CR/NON-PD (non-measurable disease only) lasting "
    "as long as SD must; off by default, because NON-CR/NON-PD is not SD "
    "(RECIST 1.1 Table 2 footnote)"
)


def cutoff_type(text: str) -> tuple[str, float]:
    """``--biomarker-cutoff NAME=VALUE``: a biomarker column and a number."""
    name, equals, value = text.rpartition("=")
    if not equals or not name.strip():
        raise argparse.ArgumentTypeError(
            f"expected NAME=VALUE (a biomarker column and a number), got {text!r}"
        )
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{name.strip()}: cutoff {value!r} is not a number"
        ) from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"{name.strip()}: cutoff must be finite")
    return name.strip(), number


def _analysis(args: argparse.Namespace) -> TrialAnalysis:
    from recist_app.endpoints import EndpointOptions
    from recist_app.workflows.central_reading import current_viewer
    from recist_app.workflows.database import open_database
    from recist_app.workflows.endpoints import trial_from_files, trial_from_store

    options = EndpointOptions(
        assessment_interval_days=args.assessment_interval_days,
        visit_window_days=args.visit_window_days,
        censor_after_missed_assessments=not args.no_censor_missed_assessments,
        censor_at_new_therapy=not args.no_censor_new_therapy,
        use_confirmed_response=not args.unconfirmed,
        cbr_definition=args.cbr,
        cbr_counts_non_cr_non_pd=args.cbr_non_cr_non_pd,
        population=args.population,
        allow_unread_patients=args.allow_unread_patients,
        survival_ci=args.survival_ci,
        biomarker_cutoffs=tuple(args.biomarker_cutoff or ()),
    )
    clinical = Path(args.clinical) if args.clinical else None
    adverse_events = Path(args.adverse_events) if args.adverse_events else None
    biomarkers = Path(args.biomarkers) if args.biomarkers else None
    if args.biomarker_cutoff and biomarkers is None:
        raise CliError("--biomarker-cutoff needs --biomarkers BIO.csv")
    if args.readings is not None:
        if args.endpoints_database is not None:
            raise CliError("give either --readings DIR or --database, not both")
        if clinical is None:
            raise CliError("--readings DIR needs --clinical CLINICAL.csv")
        return trial_from_files(
            Path(args.readings),
            clinical,
            options,
            criteria=args.criteria,
            adverse_events_csv=adverse_events,
            biomarkers_csv=biomarkers,
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
            adverse_events_csv=adverse_events,
            biomarkers_csv=biomarkers,
            rules=discordance_rules(args),
            viewer=current_viewer(viewer_role(args)),
        )


def _run(args: argparse.Namespace) -> int:
    from recist_app.endpoints import summary_table
    from recist_app.workflows.endpoints import write_trial_outputs

    analysis = _analysis(args)
    written = write_trial_outputs(
        analysis, Path(args.out), plots=not args.no_plots, study_id=args.study_id
    )
    table = summary_table(analysis.endpoints)
    width = max(len(name) for name, _value in table.rows)
    for name, value in table.rows:
        print(f"{name:<{width}}  {value}")
    if analysis.agreement is not None:
        print("central review (final reads; agreement between readers):")
        for name, value in analysis.agreement.table_rows():
            print(f"  {name}: {value}")
    for warning in analysis.endpoints.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {len(written)} files to {args.out}")
    return EXIT_OK


def _run_clinical_import(args: argparse.Namespace) -> int:
    from recist_app.workflows.database import open_database
    from recist_app.workflows.endpoints import import_clinical_data

    if args.clinical is None and args.adverse_events is None:
        raise CliError("give CLINICAL.csv, --adverse-events AE.csv, or both")
    with open_database(database_url(args)) as store:
        summary = import_clinical_data(
            store,
            clinical_csv=Path(args.clinical) if args.clinical else None,
            adverse_events_csv=(
                Path(args.adverse_events) if args.adverse_events else None
            ),
            user=args.user,
        )
        url = store.url
    print(f"{url}: {summary}")
    return EXIT_OK


def add_parsers(subparsers: Any) -> None:
    """Add ``endpoints`` and ``clinical import``."""
    endpoints = subparsers.add_parser(
        "endpoints",
        help="trial endpoints (ORR, DCR, CBR, PFS, TTP, OS, DOR, safety, biomarkers)",
        description=(
            "Compute the trial endpoints from a folder of reading files and a "
            "clinical CSV (columns: patient_id, first_dose_date, death_date, "
            "last_known_alive_date, new_anticancer_therapy_date, data_cutoff_date), "
            "or from the reading database and its imported clinical data, under "
            "RECIST 1.1, iRECIST or mRECIST, and write endpoints.json, "
            "subjects.csv, summary.csv, plots, reports and the ADaM datasets "
            "(adam/). The trial is the clinical data's patients: a reading "
            "without a clinical row is left out and named in a warning, and so is "
            "a patient whose reading is not read (no visit read, or the baseline "
            "not read: 'no disease' is the reader's explicit choice), with the "
            "reason. "
            "Adverse events (--adverse-events, or the database's) add the "
            "safety table; biomarkers (--biomarkers) response and survival by "
            "biomarker group."
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
        "--reader",
        help="database: only this reader's readings, by name or central role "
        "('reader 1', 'reader 2'); default: each patient's final read",
    )
    add_discordance_options(endpoints)
    add_role_option(
        endpoints, "who asks: a primary reader sees only their own reads (--reader)"
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
        "--adverse-events",
        metavar="AE.csv",
        help=(
            "adverse events (patient_id, term, soc, grade, start_date, end_date, "
            "serious, related, action); with the database, default: its imported "
            "adverse events"
        ),
    )
    endpoints.add_argument(
        "--biomarkers",
        metavar="BIO.csv",
        help="patient_id plus one column per biomarker: ORR, PFS and OS by group",
    )
    endpoints.add_argument(
        "--biomarker-cutoff",
        type=cutoff_type,
        action="append",
        metavar="NAME=VALUE",
        help=(
            "split numeric biomarker NAME at VALUE (low <= VALUE < high) instead "
            "of its median; repeatable"
        ),
    )
    endpoints.add_argument(
        "--study-id", default="RECIST-APP", help="STUDYID of the ADaM datasets"
    )
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
        "--cbr-non-cr-non-pd", action="store_true", help=CBR_NON_CR_NON_PD_HELP
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
        help="validate CLINICAL.csv (and AE.csv) and store them in the database",
        description=(
            "Check every row of CLINICAL.csv (columns: patient_id, first_dose_date, "
            "death_date, last_known_alive_date, new_anticancer_therapy_date, "
            "data_cutoff_date) and store it in one transaction, replacing the "
            "clinical data imported before; every change goes to the audit trail. "
            "'recist-app endpoints --database' then needs no --clinical. With "
            "--adverse-events the AE file is checked (against CLINICAL.csv, or "
            "without it the stored clinical data) and replaces the stored "
            "adverse events the same way; nothing is stored when a row is bad."
        ),
    )
    importer.add_argument("clinical", metavar="CLINICAL.csv", nargs="?")
    importer.add_argument(
        "--adverse-events",
        metavar="AE.csv",
        help=(
            "adverse events (patient_id, term, soc, grade, start_date, end_date, "
            "serious, related, action)"
        ),
    )
    add_user_option(importer)
    add_database_option(importer)
    importer.set_defaults(handler=_run_clinical_import)
