"""Series loading: recist_app's loader vs SimpleITK vs plain pydicom, in one run.

Generates a 512x512x600 phantom CT series once (subsets of 100 and 300 slices
are hard links to its middle files), warms the page cache, then measures every
loader in a fresh child process so peak memory is that loader's own:

* seconds (best of 3, warm cache) and MB/s of voxel data delivered
* peak resident memory above the child's baseline, vs the volume size
* ratios against this loader
* time until the middle slice is available (this loader's ``on_middle_slice``)

Goals (issue 3): >= 3x faster than SimpleITK at 600 slices, peak <= volume + 25 %,
first (middle) slice <= 0.2 s.

Usage: ``python benchmarks/bench_load.py [--sizes 100,300,600] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REPEATS = 3
METHODS = ("recist_app", "recist_app (discovered)", "simpleitk", "pydicom")


def _peak_rss_bytes() -> int:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.iterdir() if p.suffix == ".dcm")


def _load_recist(folder: Path) -> tuple[np.ndarray, float | None]:
    from recist_app.imaging import load_volume

    start = time.perf_counter()
    first: list[float] = []
    volume = load_volume(
        folder,
        on_middle_slice=lambda k, pixels: first.append(time.perf_counter() - start),
    )
    return volume.voxels, first[0]


def _load_recist_discovered(
    folder: Path,
) -> Callable[[], tuple[np.ndarray, float | None]]:
    from recist_app.imaging import discover, load_volume

    (info,) = discover(folder).volumes  # header scan done beforehand, as the UI does

    def load() -> tuple[np.ndarray, float | None]:
        start = time.perf_counter()
        first: list[float] = []
        volume = load_volume(
            info,
            on_middle_slice=lambda k, pixels: first.append(time.perf_counter() - start),
        )
        return volume.voxels, first[0]

    return load


def _load_simpleitk(folder: Path) -> tuple[np.ndarray, float | None]:
    import SimpleITK as sitk  # noqa: N813

    series_reader: Any = sitk.ImageSeriesReader  # SimpleITK ships no type hints
    reader = series_reader()
    names = reader.GetGDCMSeriesFileNames(str(folder))  # sorts along the normal
    reader.SetFileNames(names)
    reader.SetOutputPixelType(sitk.sitkInt16)  # it returns int32 by default
    image = reader.Execute()
    return sitk.GetArrayViewFromImage(image), None


def _load_pydicom(folder: Path) -> tuple[np.ndarray, float | None]:
    import pydicom

    datasets = [pydicom.dcmread(name) for name in _files(folder)]
    datasets.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
    return np.stack([ds.pixel_array for ds in datasets]), None


def _child(method: str, folder: Path) -> dict[str, Any]:
    """Run one loader in this (fresh) process: memory of the first run, best time."""
    import pydicom  # noqa: F401  (imports are part of the baseline, not the load)
    import SimpleITK  # noqa: F401

    import recist_app.imaging  # noqa: F401

    loader: Callable[[], tuple[np.ndarray, float | None]]
    if method == "recist_app":
        loader = lambda: _load_recist(folder)  # noqa: E731
    elif method == "recist_app (discovered)":
        loader = _load_recist_discovered(folder)
    elif method == "simpleitk":
        loader = lambda: _load_simpleitk(folder)  # noqa: E731
    else:
        loader = lambda: _load_pydicom(folder)  # noqa: E731
    baseline = _peak_rss_bytes()
    voxels, _ = loader()
    peak = _peak_rss_bytes() - baseline
    shape, dtype, nbytes = voxels.shape, str(voxels.dtype), int(voxels.nbytes)
    checksum = int(np.asarray(voxels, dtype=np.int64).sum() % 1_000_003)
    del voxels
    times: list[float] = []
    firsts: list[float] = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result, first = loader()
        times.append(time.perf_counter() - start)
        if first is not None:
            firsts.append(first)
        del result
    return {
        "method": method,
        "seconds": min(times),
        "first_slice_seconds": min(firsts) if firsts else None,
        "peak_bytes": peak,
        "volume_bytes": nbytes,
        "shape": list(shape),
        "dtype": dtype,
        "checksum": checksum,
    }


def _run_child(method: str, folder: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", method, str(folder)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if result.returncode != 0:
        raise SystemExit(f"{method} failed on {folder}:\n{result.stderr}")
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def _generate(root: Path, sizes: list[int]) -> dict[int, Path]:
    from recist_app.imaging import SeriesGeometry, write_phantom_series

    largest = max(sizes)
    full = root / f"series_{largest}"
    started = time.perf_counter()
    geometry = SeriesGeometry(slice_count=largest, slice_spacing_mm=0.5)
    series = write_phantom_series(full, geometry=geometry, noise_hu=10.0, shuffle=True)
    print(
        f"generated 512x512x{largest} in {time.perf_counter() - started:.1f} s "
        f"({sum(os.path.getsize(p) for p in series.paths) / 1e6:.0f} MB)",
        file=sys.stderr,
    )
    # files sorted by position (instance number == position order here)
    import pydicom

    ordered = sorted(
        series.paths,
        key=lambda p: int(pydicom.dcmread(p, stop_before_pixels=True).InstanceNumber),
    )
    folders = {largest: full}
    for size in sizes:
        if size == largest:
            continue
        subset = root / f"series_{size}"
        subset.mkdir()
        start = (largest - size) // 2
        for name in ordered[start : start + size]:
            os.link(name, subset / Path(name).name)
        folders[size] = subset
    return folders


def _warm(folder: Path) -> None:
    for name in _files(folder):
        with open(name, "rb") as handle:
            while handle.read(1 << 20):
                pass


def _report(size: int, results: list[dict[str, Any]]) -> None:
    ours = results[0]
    print(f"\n512x512x{size}  ({ours['volume_bytes'] / 1e6:.0f} MB of voxels)")
    columns = ("loader", "s", "MB/s", "peak MB", "peak/vol", "x ours")
    header = f"{columns[0]:26}" + "".join(f"{c:>9}" for c in columns[1:])
    print(header)
    print("-" * len(header))
    for row in results:
        megabytes = row["volume_bytes"] / 1e6
        values = (
            f"{row['seconds']:.3f}",
            f"{megabytes / row['seconds']:.0f}",
            f"{row['peak_bytes'] / 1e6:.0f}",
            f"{row['peak_bytes'] / row['volume_bytes']:.2f}",
            f"{row['seconds'] / ours['seconds']:.2f}",
        )
        print(f"{row['method']:26}" + "".join(f"{v:>9}" for v in values))
    for row in results:
        first = row["first_slice_seconds"]
        if first is not None:
            print(f"middle slice available after {first:.3f} s ({row['method']})")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with ``--child``, one measurement)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,300,600")
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it")
    parser.add_argument(
        "--child", nargs=2, metavar=("METHOD", "FOLDER"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child[0], Path(args.child[1]))))
        return 0
    sizes = sorted(int(s) for s in args.sizes.split(","))
    root = (
        Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_load_"))
    )
    root.mkdir(parents=True, exist_ok=True)
    try:
        existing = {s: root / f"series_{s}" for s in sizes}
        if all(folder.is_dir() for folder in existing.values()):
            folders = existing
        else:
            folders = _generate(root, sizes)
        summary: dict[int, list[dict[str, Any]]] = {}
        for size in sizes:
            _warm(folders[size])
            results = [_run_child(method, folders[size]) for method in METHODS]
            shapes = {tuple(r["shape"]) for r in results}
            if len(shapes) != 1:
                raise SystemExit(f"loaders disagree on the shape: {shapes}")
            summary[size] = results
            _report(size, results)
        largest = summary[max(sizes)]
        ours, sitk = largest[0], largest[2]
        speedup = sitk["seconds"] / ours["seconds"]
        overhead = ours["peak_bytes"] / ours["volume_bytes"] - 1
        first = ours["first_slice_seconds"]
        verdict = {True: "met", False: "NOT met"}
        print(f"\ngoals at {max(sizes)} slices:")
        fast, lean, early = speedup >= 3, overhead <= 0.25, first <= 0.2
        print(f"  {speedup:.2f}x faster than SimpleITK (>= 3x): {verdict[fast]}")
        print(f"  peak = volume + {overhead:.0%} (<= 25 %): {verdict[lean]}")
        print(f"  middle slice after {first:.3f} s (<= 0.2 s): {verdict[early]}")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
