"""``recist-app measure`` and ``recist-app propagate``: click-to-measure headless.

``measure DICOM_DIR --at X,Y,Z`` segments the lesion at a point (patient LPS mm)
and prints its long and short axis; ``propagate FROM_DIR TO_DIR --at X,Y,Z``
prints where that point lies in the other visit's series. Coordinates may be
negative as typed (``--at -63.5,12,-300``): :func:`attach_point_values` joins
them to their option before argparse sees them.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from recist_app.cli.errors import EXIT_OK, CliError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

__all__ = ["POINT_OPTIONS", "add_parsers", "attach_point_values", "point_type"]

POINT_OPTIONS = ("--at",)


def attach_point_values(argv: Sequence[str]) -> list[str]:
    """``--at -1,2,3`` -> ``--at=-1,2,3`` (argparse takes ``-1,...`` for an option)."""
    joined: list[str] = []
    items = list(argv)
    index = 0
    while index < len(items):
        item = items[index]
        if item in POINT_OPTIONS and index + 1 < len(items):
            joined.append(f"{item}={items[index + 1]}")
            index += 2
            continue
        joined.append(item)
        index += 1
    return joined


def point_type(text: str) -> tuple[float, float, float]:
    """Parse ``X,Y,Z`` (patient LPS mm)."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 3 or not all(math.isfinite(v) for v in values):
        raise CliError(f"--at {text!r}: expected X,Y,Z in mm, e.g. -63.5,12,-300")
    return (values[0], values[1], values[2])


def _print(result: dict[str, Any], text: str, output_format: str) -> None:
    if output_format == "json":
        print(json.dumps(result))
    else:
        print(text)


def _run_measure(args: argparse.Namespace) -> int:
    from recist_app.workflows.measure import measure_in_folder

    result = measure_in_folder(
        args.dicom_dir,
        point_type(args.at),
        series_instance_uid=args.series,
        lymph_node=args.lymph_node,
    )
    data = result.as_json()
    _print(
        data,
        f"long axis {data['long_axis_mm']} mm, short axis {data['short_axis_mm']} mm "
        f"on image {data['sop_instance_uid']} ({data['volume_ml']} ml)",
        args.format,
    )
    return EXIT_OK


def _run_propagate(args: argparse.Namespace) -> int:
    from recist_app.workflows.measure import (
        measure_predicted_between_folders,
        propagate_between_folders,
    )

    if args.measure:
        both = measure_predicted_between_folders(
            args.from_dir, args.to_dir, point_type(args.at), lymph_node=args.lymph_node
        )
        found = both.as_json()
        x, y, z = found["point_lps_mm"]
        measured = found["measurement"]
        _print(
            found,
            f"{x},{y},{z} ({found['method']}): long axis {measured['long_axis_mm']} "
            f"mm, short axis {measured['short_axis_mm']} mm on image "
            f"{measured['sop_instance_uid']}",
            args.format,
        )
        return EXIT_OK
    result = propagate_between_folders(args.from_dir, args.to_dir, point_type(args.at))
    data = result.as_json()
    x, y, z = data["point_lps_mm"]
    _print(data, f"{x},{y},{z} ({data['method']})", args.format)
    return EXIT_OK


def add_parsers(subparsers: Any) -> None:
    """Add ``measure`` and ``propagate``."""
    measure = subparsers.add_parser(
        "measure",
        help="segment the lesion at a point and print its long and short axis",
        description=(
            "Delineate the lesion at X,Y,Z (patient LPS mm) in a DICOM series "
            "and print its RECIST long and short axis, edge to edge. Exit 2 "
            "with one line when no lesion can be delineated there."
        ),
    )
    measure.add_argument("dicom_dir", metavar="DICOM_DIR")
    measure.add_argument("--at", required=True, metavar="X,Y,Z")
    measure.add_argument("--series", metavar="SERIES_UID", default=None)
    measure.add_argument(
        "--lymph-node",
        action="store_true",
        help="pick the slice with the greatest short axis (RECIST nodes)",
    )
    measure.add_argument("--format", choices=("text", "json"), default="text")
    measure.set_defaults(handler=_run_measure)
    propagate = subparsers.add_parser(
        "propagate",
        help="print where a point of one series lies in another (registration)",
        description=(
            "Register the series of TO_DICOM_DIR to that of FROM_DICOM_DIR "
            "(rigid, affine, then a block match weighted to the lesion at the "
            "point and the lesion's centre found again) and print where X,Y,Z "
            "lies in it."
        ),
    )
    propagate.add_argument("from_dir", metavar="FROM_DICOM_DIR")
    propagate.add_argument("to_dir", metavar="TO_DICOM_DIR")
    propagate.add_argument("--at", required=True, metavar="X,Y,Z")
    propagate.add_argument(
        "--measure",
        action="store_true",
        help="also measure the lesion at the point found (the workstation's Enter)",
    )
    propagate.add_argument(
        "--lymph-node",
        action="store_true",
        help="with --measure: pick the slice with the greatest short axis",
    )
    propagate.add_argument("--format", choices=("text", "json"), default="text")
    propagate.set_defaults(handler=_run_propagate)
