"""``recist-app demo-data`` and ``recist-app simulate-trial``: generated data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from recist_app.cli.errors import EXIT_OK
from recist_app.cli.options import positive, report

if TYPE_CHECKING:
    import argparse

__all__ = ["add_parsers"]


def _run_demo_data(args: argparse.Namespace) -> int:
    from recist_app.workflows.demo import write_demo_patient

    truth, reading = write_demo_patient(
        Path(args.out_dir),
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
        moving=not args.still,
    )
    report(f"demo reading written to {reading}")
    print(truth)
    return EXIT_OK


def _run_simulate_trial(args: argparse.Namespace) -> int:
    from recist_app.workflows.demo import write_simulated_trial

    trial = write_simulated_trial(
        Path(args.out_dir),
        patients=args.patients,
        seed=args.seed,
        readers=args.readers,
    )
    second = (
        ""
        if trial.second_readings_folder is None
        else f" (reader 1) and {trial.second_readings_folder} (reader 2)"
    )
    print(
        f"wrote {trial.patients} readings to {trial.readings_folder}{second}, "
        f"{trial.clinical_csv} (data cut-off {trial.data_cutoff_date.isoformat()}), "
        f"{trial.adverse_events} adverse events to {trial.adverse_events_csv} and "
        f"{trial.biomarkers_csv}"
    )
    return EXIT_OK


def add_parsers(subparsers: Any) -> None:
    """Add ``demo-data`` and ``simulate-trial``."""
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
    demo.add_argument("--slices", type=positive(int), default=60, metavar="N")
    demo.add_argument(
        "--slice-spacing", type=positive(float), default=5.0, metavar="MM"
    )
    demo.add_argument(
        "--pixel-size", type=positive(float), default=0.78125, metavar="MM"
    )
    demo.add_argument("--matrix", type=positive(int), default=512, metavar="PX")
    demo.add_argument("--noise", type=float, default=10.0, metavar="HU")
    demo.add_argument(
        "--shuffle", action="store_true", help="random file names (order says nothing)"
    )
    demo.add_argument(
        "--still",
        action="store_true",
        help="the patient lies exactly as at the baseline at every follow-up "
        "(by default each follow-up is shifted, rolled and breathes differently)",
    )
    demo.set_defaults(handler=_run_demo_data)

    simulate = subparsers.add_parser(
        "simulate-trial",
        help="write a simulated trial (readings, clinical, AE and biomarker CSVs)",
        description=(
            "Simulate a single-arm trial of lenvatinib + anti-PD-1 with monthly "
            "scans and write OUT_DIR/readings/*.reading.json, OUT_DIR/clinical.csv, "
            "OUT_DIR/adverse_events.csv and OUT_DIR/biomarkers.csv."
        ),
    )
    simulate.add_argument("out_dir", metavar="OUT_DIR")
    simulate.add_argument("--patients", type=positive(int), default=76)
    simulate.add_argument("--seed", type=int, default=2024)
    simulate.add_argument(
        "--readers",
        type=int,
        choices=(1, 2),
        default=1,
        help="2: a blinded central review, both readers' signed reading files",
    )
    simulate.set_defaults(handler=_run_simulate_trial)
