"""The ``recist-app`` command: the workstation by default, headless subcommands.

Every subcommand reports bad input as one line on stderr and exits with status 2;
no traceback reaches the user. See the README for the full command reference.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recist_app import __version__

if TYPE_CHECKING:
    from recist_app.exchange import ExportItem, Pseudonymizer

__all__ = ["CliError", "main"]

EXIT_OK = 0
EXIT_BAD_INPUT = 2

DATABASE_ENV = "RECIST_APP_DATABASE_URL"


class CliError(Exception):
    """A problem with the user's input, reported as one line and exit status 2."""


Handler = Callable[[argparse.Namespace], int]


_CRITERIA_CHOICES = {
    "file": None,
    "recist": ("RECIST 1.1",),
    "irecist": ("iRECIST",),
    "mrecist": ("mRECIST",),
    "all": ("RECIST 1.1", "iRECIST", "mRECIST"),
}


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import dataclasses

    from recist_app.exchange import (
        ExchangeError,
        assessment_json_text,
        assessment_set_json_text,
        assessments_csv_text,
        read_reading_file,
    )
    from recist_app.recist import Criteria, ReadingError, assess

    try:
        reading = read_reading_file(Path(args.reading))
        names = _CRITERIA_CHOICES[args.criteria] or (reading.criteria.value,)
        assessments = [
            assess(dataclasses.replace(reading, criteria=Criteria(name)))
            for name in names
        ]
    except (ExchangeError, ReadingError) as error:
        raise CliError(str(error)) from error
    if args.format == "csv":
        text = assessments_csv_text(assessments)
    elif len(assessments) == 1:
        text = assessment_json_text(assessments[0])
    else:
        text = assessment_set_json_text(assessments)
    _write_output(text, args.out)
    return EXIT_OK


def _cmd_demo_data(args: argparse.Namespace) -> int:
    from recist_app.exchange import (
        ExchangeError,
        reading_from_ground_truth,
        write_reading_file,
    )
    from recist_app.imaging import GROUND_TRUTH_NAME, ImagingError, write_demo_data

    out = Path(args.out_dir)
    if out.exists() and not out.is_dir():
        raise CliError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise CliError(f"{out}: folder is not empty; choose a new or empty folder")

    def report(line: str) -> None:
        print(f"recist-app: {line}", file=sys.stderr, flush=True)

    try:
        truth = write_demo_data(
            out,
            seed=args.seed,
            visits=args.visits,
            slice_count=args.slices,
            slice_spacing_mm=args.slice_spacing,
            pixel_size_mm=args.pixel_size,
            matrix=args.matrix,
            shuffle=args.shuffle,
            noise_hu=args.noise,
            patient_id=args.patient_id,
            patient_name=args.patient_name,
            progress=report,
        )
        # The complete reading of the patient, drawn from the ground truth: every
        # lesion measured at every visit, with geometry on the right images.
        reading_path = out / f"{truth['patient_id']}.reading.json"
        write_reading_file(reading_from_ground_truth(truth), reading_path)
    except (ImagingError, ExchangeError) as error:
        raise CliError(str(error)) from error
    except OSError as error:
        raise CliError(f"{out}: cannot write: {error.strerror}") from error
    report(f"demo reading written to {reading_path}")
    print(out / GROUND_TRUTH_NAME)
    return EXIT_OK


def _positive(kind: Callable[[str], float]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
        return value

    return parse


def _add_demo_data_parser(subparsers: Any) -> None:
    demo = subparsers.add_parser(
        "demo-data",
        help="write the demo DICOM studies and their ground truth",
        description=(
            "Write a generated CT patient (baseline and follow-ups with lesions of "
            "known size) as DICOM, one folder per visit, plus ground_truth.json and "
            "the patient's complete reading file (ID.reading.json) drawn from it."
        ),
    )
    demo.add_argument("out_dir", metavar="OUT_DIR", help="new or empty folder")
    demo.add_argument("--seed", type=int, default=0, help="seed for noise and UIDs")
    demo.add_argument(
        "--patient-id", default="DEMO-HCC-001", metavar="ID", help="Patient ID"
    )
    demo.add_argument(
        "--patient-name", default="DEMO^PHANTOM", metavar="NAME", help="Patient's Name"
    )
    demo.add_argument("--visits", type=int, choices=(3, 4), default=4)
    demo.add_argument("--slices", type=_positive(int), default=60, metavar="N")
    demo.add_argument(
        "--slice-spacing", type=_positive(float), default=5.0, metavar="MM"
    )
    demo.add_argument(
        "--pixel-size", type=_positive(float), default=0.78125, metavar="MM"
    )
    demo.add_argument("--matrix", type=_positive(int), default=512, metavar="PX")
    demo.add_argument("--noise", type=float, default=10.0, metavar="HU")
    demo.add_argument(
        "--shuffle", action="store_true", help="random file names (order says nothing)"
    )
    demo.set_defaults(handler=_cmd_demo_data)


def _cmd_endpoints(args: argparse.Namespace) -> int:
    from recist_app.endpoints import (
        EndpointError,
        EndpointOptions,
        compute_trial_endpoints,
        summary_table,
        write_endpoint_outputs,
    )
    from recist_app.exchange import ExchangeError
    from recist_app.recist import ReadingError

    try:
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
        readings, clinical = _endpoint_inputs(args)
        result = compute_trial_endpoints(
            readings, clinical, options, criteria=args.criteria
        )
        written = write_endpoint_outputs(
            result, Path(args.out), plots=not args.no_plots
        )
    except (ExchangeError, ReadingError, EndpointError) as error:
        raise CliError(str(error)) from error
    table = summary_table(result)
    width = max(len(name) for name, _value in table.rows)
    for name, value in table.rows:
        print(f"{name:<{width}}  {value}")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {len(written)} files to {args.out}")
    return EXIT_OK


def _endpoint_inputs(args: argparse.Namespace) -> tuple[list[Any], Any]:
    """Readings (``--readings DIR`` or the database) and clinical rows.

    The clinical rows come from ``--clinical``, else from the database's imported
    clinical data (``recist-app clinical import``).
    """
    from recist_app.endpoints import read_clinical_csv

    if args.readings is not None:
        if args.endpoints_database is not None:
            raise CliError("give either --readings DIR or --database, not both")
        if args.clinical is None:
            raise CliError("--readings DIR needs --clinical CLINICAL.csv")
        from recist_app.exchange import read_reading_file

        folder = Path(args.readings)
        if not folder.is_dir():
            raise CliError(f"{folder}: not a folder of reading files")
        files = sorted(folder.glob("*.json"))
        if not files:
            raise CliError(f"{folder}: no reading files (*.json)")
        readings = [read_reading_file(path) for path in files]
        return readings, read_clinical_csv(Path(args.clinical))
    from recist_app.endpoints import clinical_from_store, readings_from_store
    from recist_app.store import StoreError, open_store

    url = args.endpoints_database or args.database or None
    try:
        with open_store(url) as store:
            readings = list(
                readings_from_store(
                    store,
                    criteria=args.criteria,
                    reader=args.reader,
                    signed_only=args.signed_only,
                )
            )
            if args.clinical is not None:
                return readings, read_clinical_csv(Path(args.clinical))
            return readings, clinical_from_store(store)
    except StoreError as error:
        raise CliError(str(error)) from error


def _criteria_name(text: str) -> str:
    """``--criteria``: a criteria set's name, in any case (``recist`` too)."""
    names = {
        "recist 1.1": "RECIST 1.1",
        "recist": "RECIST 1.1",
        "irecist": "iRECIST",
        "mrecist": "mRECIST",
    }
    try:
        return names[text.strip().lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(
            f"unknown criteria {text!r} (choose 'RECIST 1.1', iRECIST or mRECIST)"
        ) from None


def _cmd_clinical_import(args: argparse.Namespace) -> int:
    from recist_app.endpoints import EndpointError, import_clinical_csv
    from recist_app.store import StoreError, open_store

    try:
        with open_store(getattr(args, "database", None)) as store:
            summary = import_clinical_csv(store, Path(args.clinical), user=args.user)
            url = store.url
    except (StoreError, EndpointError) as error:
        raise CliError(str(error)) from error
    print(f"{url}: {summary}")
    return EXIT_OK


def _cmd_simulate_trial(args: argparse.Namespace) -> int:
    from recist_app.endpoints import EndpointError, simulate_trial, write_clinical_csv
    from recist_app.exchange import ExchangeError, write_reading_file

    out = Path(args.out_dir)
    try:
        trial = simulate_trial(args.patients, seed=args.seed)
        folder = out / "readings"
        folder.mkdir(parents=True, exist_ok=True)
        for reading in trial.readings:
            write_reading_file(reading, folder / f"{reading.patient_id}.reading.json")
        write_clinical_csv(trial.clinical, out / "clinical.csv")
    except (ExchangeError, EndpointError) as error:
        raise CliError(str(error)) from error
    except OSError as error:
        raise CliError(f"{out}: cannot write: {error.strerror}") from error
    print(
        f"wrote {len(trial.readings)} readings to {folder} and {out / 'clinical.csv'} "
        f"(data cut-off {trial.data_cutoff_date.isoformat()})"
    )
    return EXIT_OK


DEID_KEY_ENV = "RECIST_APP_DEID_KEY"


def _pseudonymizer(args: argparse.Namespace) -> Pseudonymizer:
    from recist_app.exchange import ExchangeError, Pseudonymizer

    if args.deid_key_file:
        try:
            secret = Path(args.deid_key_file).read_bytes().strip()
        except OSError as error:
            raise CliError(
                f"{args.deid_key_file}: cannot read the key: {error.strerror}"
            ) from error
    elif os.environ.get(DEID_KEY_ENV):
        secret = os.environ[DEID_KEY_ENV].encode()
    else:
        raise CliError(
            "--deidentify needs the site's key: --deid-key-file FILE or "
            f"${DEID_KEY_ENV}"
        )
    try:
        return Pseudonymizer(secret, subject_prefix=args.subject_prefix)
    except ExchangeError as error:
        raise CliError(str(error)) from error


def _export_items(args: argparse.Namespace) -> list[ExportItem]:
    from recist_app.exchange import ExportItem, ReportSignature
    from recist_app.store import ReadingStatus, StoreError, open_store

    try:
        with open_store(getattr(args, "database", None)) as store:
            records = [
                record
                for record in store.readings.list(None if args.all else args.patient)
                if (args.criteria is None or record.criteria.value == args.criteria)
                and (args.reader is None or record.reader == args.reader)
            ]
            if not records:
                who = "any patient" if args.all else f"patient {args.patient}"
                raise CliError(f"no reading of {who} in {store.url}")
            if args.signed_only:
                drafts = [r for r in records if r.status is not ReadingStatus.SIGNED]
                if drafts and not args.all:
                    raise CliError(
                        f"{drafts[0].label} is not signed (--signed-only exports "
                        "signed readings only)"
                    )
                for draft in drafts:
                    print(
                        f"recist-app: skipped {draft.label}: not signed",
                        file=sys.stderr,
                    )
                records = [r for r in records if r.status is ReadingStatus.SIGNED]
                if not records:
                    raise CliError("no signed reading to export (--signed-only)")
            return [
                ExportItem(
                    reading=store.readings.load(r.patient_id, r.criteria, r.reader),
                    signature=ReportSignature(
                        status=r.status.value,
                        signed_by=r.signed_by,
                        signed_at=r.signed_at.isoformat() if r.signed_at else None,
                        version=r.signed_version,
                    ),
                )
                for r in records
            ]
    except StoreError as error:
        raise CliError(str(error)) from error


def _cmd_export(args: argparse.Namespace) -> int:
    from recist_app.exchange import (
        ExchangeError,
        ExportOptions,
        export_readings,
        index_images,
    )

    if args.all == bool(args.patient):
        raise CliError("give either --patient ID or --all")
    pseudonymizer = _pseudonymizer(args) if args.deidentify else None
    try:
        images = index_images(Path(args.images)) if args.images else None
        if args.format == "sr" and not images:
            raise CliError(
                "--format sr needs the DICOM images: --images DIR"
                + (f" ({args.images} holds no DICOM files)" if args.images else "")
            )
        items = _export_items(args)
        files = export_readings(
            items,
            args.format,
            Path(args.out),
            images=images,
            options=ExportOptions(
                study_id=args.study_id,
                sponsor_name=args.sponsor,
                site_id=args.site_id,
                evaluator=args.evaluator,
                evaluator_id=args.evaluator_id,
                pseudonymizer=pseudonymizer,
                response_criteria=_response_criteria(args.response_criteria),
            ),
        )
    except ExchangeError as error:
        raise CliError(str(error)) from error
    print(f"wrote {len(files)} files for {len(items)} readings to {args.out}")
    return EXIT_OK


def _response_criteria(choice: str) -> tuple[Any, ...] | None:
    """``--response-criteria``: None = all the reading supports, () = its own."""
    from recist_app.recist import Criteria

    if choice == "all":
        return None
    names = _CRITERIA_CHOICES[choice]
    return () if names is None else tuple(Criteria(name) for name in names)


def _add_export_parser(subparsers: Any) -> None:
    export = subparsers.add_parser(
        "export",
        help="export readings from the database (json, csv, sdtm, sr, pdf)",
        description=(
            "Export one patient's readings (or all patients') from the reading "
            "database: json (reading + assessment), csv (per visit and per lesion), "
            "sdtm (TU/TR/RS as CSV and SAS XPORT + define.csv), sr (DICOM SR "
            "TID 1500 per visit) or pdf (reading report). Files appear in --out only "
            "when the whole export succeeded."
        ),
    )
    _add_database_option(export)
    which = export.add_mutually_exclusive_group()
    which.add_argument("--patient", metavar="ID", help="the patient to export")
    which.add_argument("--all", action="store_true", help="every patient")
    export.add_argument(
        "--format", choices=("json", "csv", "sdtm", "sr", "pdf"), required=True
    )
    export.add_argument("--out", metavar="DIR", required=True)
    export.add_argument(
        "--images",
        metavar="DIR",
        help="DICOM folder with the measured images (needed by sr; key images in pdf)",
    )
    export.add_argument("--criteria", help="only readings under these criteria")
    export.add_argument("--reader", help="only this reader's readings")
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
    export.add_argument("--study-id", default="RECIST-APP", help="SDTM STUDYID")
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
        choices=tuple(_CRITERIA_CHOICES),
        default="all",
        help=(
            "sdtm: criteria sets whose responses RS carries, one set of records "
            "each (RSCAT); 'all' (default): RECIST 1.1, iRECIST, and mRECIST when "
            "viable diameters were measured; 'file': the reading's own criteria"
        ),
    )
    export.set_defaults(handler=_cmd_export)


def _cmd_import_sr(args: argparse.Namespace) -> int:
    from recist_app.exchange import ExchangeError, index_images
    from recist_app.exchange.sr_import import import_sr_files_into_store
    from recist_app.store import StoreError, open_store

    try:
        images = index_images(Path(args.images)) if args.images else None
        with open_store(getattr(args, "database", None)) as store:
            imported = import_sr_files_into_store(
                store,
                [Path(name) for name in args.sr_files],
                user=args.user,
                image_files=images,
                criteria=args.criteria,
                reader=args.reader,
            )
    except (ExchangeError, StoreError) as error:
        raise CliError(str(error)) from error
    for item in imported:
        print(
            f"{item.label}: visit {item.visit}: "
            f"{len(item.lesion_ids)} measurements ({', '.join(item.lesion_ids)})"
        )
    return EXIT_OK


def _add_sr_import_parser(subparsers: Any) -> None:
    importer = subparsers.add_parser(
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
    importer.add_argument("sr_files", metavar="SR.dcm", nargs="+")
    _add_database_option(importer)
    _add_user_option(importer)
    importer.add_argument(
        "--images",
        metavar="DIR",
        help="DICOM folder with the measured images (default: the database index)",
    )
    importer.add_argument(
        "--criteria", help="the patient's reading under these criteria"
    )
    importer.add_argument("--reader", help="the patient's reading by this reader")
    importer.set_defaults(handler=_cmd_import_sr)


def _add_endpoint_parsers(subparsers: Any) -> None:
    endpoints = subparsers.add_parser(
        "endpoints",
        help="trial endpoints (ORR, DCR, CBR, PFS, OS, DOR) from reading files",
        description=(
            "Compute the trial endpoints from a folder of reading files and a "
            "clinical CSV (columns: patient_id, first_dose_date, death_date, "
            "last_known_alive_date, new_anticancer_therapy_date, data_cutoff_date), "
            "or from the reading database and its imported clinical data, under "
            "RECIST 1.1, iRECIST or mRECIST, and write endpoints.json, "
            "subjects.csv, summary.csv, plots and reports."
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
        type=_criteria_name,
        default="RECIST 1.1",
        metavar="CRITERIA",
        help=(
            "'RECIST 1.1' (default), iRECIST or mRECIST: assess the readings under "
            "this criteria set (iCPD is the iRECIST progression event)"
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
        help="CBR: CR/PR lasting >= 183 days (default) or CR+PR+SD >= 24 weeks",
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
    endpoints.set_defaults(handler=_cmd_endpoints)

    simulate = subparsers.add_parser(
        "simulate-trial",
        help="write a simulated trial (reading files + clinical CSV)",
        description=(
            "Simulate a single-arm trial with monthly scans and write "
            "OUT_DIR/readings/*.reading.json and OUT_DIR/clinical.csv."
        ),
    )
    simulate.add_argument("out_dir", metavar="OUT_DIR")
    simulate.add_argument("--patients", type=int, default=76)
    simulate.add_argument("--seed", type=int, default=2024)
    simulate.set_defaults(handler=_cmd_simulate_trial)

    clinical = subparsers.add_parser(
        "clinical",
        help="clinical data (first dose, death, cut-off) in the reading database",
        description="Commands on the clinical dates the endpoints need.",
    )
    clinical_commands = clinical.add_subparsers(
        dest="clinical_command", metavar="COMMAND"
    )
    clinical_commands.required = True
    clinical_import = clinical_commands.add_parser(
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
    clinical_import.add_argument("clinical", metavar="CLINICAL.csv")
    _add_user_option(clinical_import)
    _add_database_option(clinical_import)
    clinical_import.set_defaults(handler=_cmd_clinical_import)


def _write_output(text: str, out: str | None) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    from recist_app.exchange import ExchangeError, write_text_atomically

    path = Path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CliError(f"{path.parent}: cannot create: {error.strerror}") from error
    try:
        write_text_atomically(text, path)
    except ExchangeError as error:
        raise CliError(str(error)) from error


class _ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, label: str, *, width: int = 30) -> None:
        self._label = label
        self._width = width
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        filled = self._width if total == 0 else self._width * done // total
        bar = "#" * filled + "." * (self._width - filled)
        sys.stderr.write(f"\r{self._label} [{bar}] {done}/{total} files")
        sys.stderr.flush()
        self._drawn = True

    def finish(self) -> None:
        """End the bar's line."""
        if self._drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _cmd_import(args: argparse.Namespace) -> int:
    from recist_app.imaging.errors import ImagingError
    from recist_app.store import StoreError, open_store

    folder = Path(args.dicom_dir)
    if not folder.exists():
        raise CliError(f"{folder}: no such file or folder")
    progress = _ProgressBar("scanning")
    try:
        with open_store(getattr(args, "database", None)) as store:
            try:
                summary = store.images.import_folder(
                    folder, user=args.user, progress=progress
                )
            finally:
                progress.finish()
            for line in summary.skipped:
                print(f"recist-app: skipped {line}", file=sys.stderr)
            for line in summary.rejected:
                print(f"recist-app: rejected {line}", file=sys.stderr)
            print(f"{store.url}: {summary}")
            if not summary.changed:
                print("nothing new: every image was already indexed")
    except (StoreError, ImagingError) as error:
        raise CliError(str(error)) from error
    return EXIT_OK


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    from recist_app.store import StoreError, open_store

    try:
        with open_store(getattr(args, "database", None)) as store:
            result = store.audit.verify()
            url = store.url
    except StoreError as error:
        raise CliError(str(error)) from error
    if not result.ok:
        raise CliError(f"{url}: {result}")
    print(f"{url}: {result}")
    return EXIT_OK


def _add_store_parsers(subparsers: Any) -> None:
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
    _add_user_option(importer)
    _add_database_option(importer)
    importer.set_defaults(handler=_cmd_import)

    audit = subparsers.add_parser(
        "audit",
        help="check the reading database's audit trail",
        description="Commands on the tamper-evident audit trail.",
    )
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="COMMAND")
    audit_commands.required = True
    verify = audit_commands.add_parser(
        "verify",
        help="check every link of the hash chain; report the first broken one",
        description=(
            "Recompute the SHA-256 chain of the audit trail and check its "
            "append-only triggers. Exit status 0 when intact, 2 with the first "
            "broken row otherwise."
        ),
    )
    _add_database_option(verify)
    verify.set_defaults(handler=_cmd_audit_verify)


def _cmd_reading_import(args: argparse.Namespace) -> int:
    from recist_app.exchange import (
        ReadingFileImport,
        ReadingImportFailure,
        import_reading_files,
    )
    from recist_app.store import StoreError, open_store

    def report(item: ReadingFileImport | ReadingImportFailure) -> None:
        if isinstance(item, ReadingFileImport):
            print(item, flush=True)
            return
        hint = "; use --replace to overwrite it" if item.conflict else ""
        print(f"recist-app: error: {item.message}{hint}", file=sys.stderr, flush=True)

    try:
        with open_store(getattr(args, "database", None)) as store:
            result = import_reading_files(
                store,
                [Path(name) for name in args.files],
                user=args.user,
                replace=args.replace,
                on_file=report,
            )
    except StoreError as error:
        raise CliError(str(error)) from error
    print(result.summary())
    return EXIT_OK if result.ok else EXIT_BAD_INPUT


def _cmd_reading_list(args: argparse.Namespace) -> int:
    from recist_app.exchange import (
        reading_worklist,
        worklist_csv_text,
        worklist_table_text,
    )
    from recist_app.store import StoreError, open_store

    try:
        with open_store(getattr(args, "database", None)) as store:
            rows = reading_worklist(store)
    except StoreError as error:
        raise CliError(str(error)) from error
    csv_text = args.format == "csv"
    sys.stdout.write(worklist_csv_text(rows) if csv_text else worklist_table_text(rows))
    return EXIT_OK


def _add_reading_parsers(subparsers: Any) -> None:
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
    _add_user_option(importer)
    _add_database_option(importer)
    importer.set_defaults(handler=_cmd_reading_import)
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
    _add_database_option(lister)
    lister.set_defaults(handler=_cmd_reading_list)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _add_user_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--user``: who imports, for the audit trail."""
    parser.add_argument(
        "--user",
        default=_login_name(),
        help="who imports, for the audit trail (default: your login name)",
    )


def _add_database_option(
    parser: argparse.ArgumentParser, *, top_level: bool = False
) -> None:
    """Add ``--database``; subcommands suppress their default so the top one wins."""
    parser.add_argument(
        "--database",
        metavar="URL",
        default=os.environ.get(DATABASE_ENV) if top_level else argparse.SUPPRESS,
        help=(
            "SQLAlchemy database URL (default: $RECIST_APP_DATABASE_URL or a SQLite "
            "file in the user data folder)"
        ),
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recist-app",
        description="RECIST 1.1 tumour-response reading workstation.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the workstation on a generated demo patient",
    )
    _add_database_option(parser, top_level=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")

    evaluate = subparsers.add_parser(
        "evaluate",
        help="compute the responses of a reading file (recist-reading/1)",
        description=(
            "Read a reading file (recist-reading/1) and print its assessment "
            "(recist-assessment/1) as JSON, or one row per visit as CSV."
        ),
    )
    evaluate.add_argument("reading", metavar="READING.json")
    evaluate.add_argument("--out", metavar="FILE", help="write to FILE, not stdout")
    evaluate.add_argument("--format", choices=("json", "csv"), default="json")
    evaluate.add_argument(
        "--criteria",
        choices=tuple(_CRITERIA_CHOICES),
        default="file",
        help=(
            "criteria to assess under (default: the file's); 'all' reports RECIST "
            "1.1, iRECIST and mRECIST side by side"
        ),
    )
    evaluate.set_defaults(handler=_cmd_evaluate)
    _add_demo_data_parser(subparsers)
    _add_endpoint_parsers(subparsers)
    _add_export_parser(subparsers)
    _add_sr_import_parser(subparsers)
    _add_store_parsers(subparsers)
    _add_reading_parsers(subparsers)

    return parser


def _run_gui(args: argparse.Namespace) -> int:
    # Imported by name so the headless commands never load Qt.
    app = importlib.import_module("recist_app.app")
    status: int = app.run_workstation(demo=args.demo, database_url=args.database)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``recist-app`` with ``argv`` (default: ``sys.argv[1:]``)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    try:
        if handler is None:
            return _run_gui(args)
        return handler(args)
    except CliError as error:
        print(f"recist-app: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("recist-app: interrupted", file=sys.stderr)
        return 130
