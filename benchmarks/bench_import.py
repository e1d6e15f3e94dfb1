"""Indexing a trial's images: discovery and import per file vs a bare pydicom read.

Generates ``--files`` (20,000) small CT slices (64 x 64 pixels, so the disk
holds them; discovery reads headers only, so the pixel size does not change its
work) in series of 250 slices across patients and studies, warms the page cache,
then measures in one run, alternating so all see the same load:

* **peer**: ``pydicom.dcmread(f, stop_before_pixels=True, specific_tags=[…])``
  of every file, with exactly the tags discovery uses;
* **discovery** (``recist_app.imaging.discover``): headers read and checked
  (limits, transfer syntax, geometry), series grouped into volumes;
* **import** (``workflows.images.import_dicom``): discovery plus indexing into a
  fresh SQLite database in one transaction.

Prints seconds per 1,000 files, ratios to the peer and the extrapolation to a
trial of 450,000 files (76 patients x 10 visits x 600 slices).

Goal (issue 23): discovery and indexing per file <= 1.2 x the peer.

Usage: ``python benchmarks/bench_import.py [--files N] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pydicom  # noqa: E402
from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid  # noqa: E402

GOAL_RATIO = 1.2
TRIAL_FILES = 450_000
SLICES_PER_SERIES = 250

# Every tag recist_app.imaging.headers reads (its _header_fields and the
# multi-frame and derived-identifier paths): the peer reads exactly these.
DISCOVERY_TAGS = [
    "SOPClassUID",
    "SOPInstanceUID",
    "SeriesInstanceUID",
    "StudyInstanceUID",
    "FrameOfReferenceUID",
    "PatientID",
    "PatientName",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "AccessionNumber",
    "SeriesDate",
    "SeriesTime",
    "SeriesDescription",
    "SeriesNumber",
    "Modality",
    "ImageType",
    "ContrastBolusAgent",
    "BodyPartExamined",
    "InstanceNumber",
    "AcquisitionNumber",
    "EchoNumbers",
    "TemporalPositionIdentifier",
    "Rows",
    "Columns",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "NumberOfFrames",
    "ImageOrientationPatient",
    "ImagePositionPatient",
    "PixelSpacing",
    "SliceThickness",
    "SpacingBetweenSlices",
    "GantryDetectorTilt",
    "RescaleSlope",
    "RescaleIntercept",
    "WindowCenter",
    "WindowWidth",
    "PerFrameFunctionalGroupsSequence",
    "SharedFunctionalGroupsSequence",
    "PixelData",
]


def generate(folder: Path, files: int) -> list[Path]:
    """``files`` CT slices, series of 250 slices, 4 series per patient."""
    pixels = (np.arange(64 * 64, dtype=np.int16).reshape(64, 64) % 400).tobytes()
    paths: list[Path] = []
    series_count = (files + SLICES_PER_SERIES - 1) // SLICES_PER_SERIES
    for series_index in range(series_count):
        patient = series_index // 4
        study_uid = generate_uid(entropy_srcs=[f"study-{patient}-{series_index // 2}"])
        series_uid = generate_uid(entropy_srcs=[f"series-{series_index}"])
        frame_uid = generate_uid(entropy_srcs=[f"frame-{series_index // 2}"])
        target = folder / f"P{patient:03d}" / f"S{series_index:04d}"
        target.mkdir(parents=True)
        for index in range(min(SLICES_PER_SERIES, files - len(paths))):
            sop_uid = generate_uid(entropy_srcs=[f"sop-{series_index}-{index}"])
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = CTImageStorage
            meta.MediaStorageSOPInstanceUID = sop_uid
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds = Dataset()
            ds.file_meta = meta
            ds.SOPClassUID = CTImageStorage
            ds.SOPInstanceUID = sop_uid
            ds.StudyInstanceUID = study_uid
            ds.SeriesInstanceUID = series_uid
            ds.FrameOfReferenceUID = frame_uid
            ds.PatientID = f"BENCH-{patient:03d}"
            ds.PatientName = f"Bench^{patient:03d}"
            ds.StudyDate = f"2024{1 + series_index // 2 % 12:02d}15"
            ds.StudyTime = "101500"
            ds.StudyDescription = "CT abdomen"
            ds.SeriesDescription = "portal venous 5 mm"
            ds.SeriesNumber = series_index % 2 + 2
            ds.Modality = "CT"
            ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
            ds.InstanceNumber = index + 1
            ds.Rows = ds.Columns = 64
            ds.BitsAllocated = ds.BitsStored = 16
            ds.HighBit = 15
            ds.PixelRepresentation = 1
            ds.SamplesPerPixel = 1
            ds.PhotometricInterpretation = "MONOCHROME2"
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            ds.ImagePositionPatient = [-200.0, -200.0, -5.0 * index]
            ds.PixelSpacing = [6.25, 6.25]
            ds.SliceThickness = 5.0
            ds.RescaleSlope = 1
            ds.RescaleIntercept = -1024
            ds.WindowCenter = 40
            ds.WindowWidth = 400
            ds.PixelData = pixels
            path = target / f"{index:04d}.dcm"
            ds.save_as(path, enforce_file_format=True)
            paths.append(path)
    return paths


def _peer(paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        pydicom.dcmread(path, stop_before_pixels=True, specific_tags=DISCOVERY_TAGS)
    return time.perf_counter() - start


def _discover(folder: Path, files: int) -> float:
    from recist_app.imaging import discover

    start = time.perf_counter()
    result = discover(folder)
    seconds = time.perf_counter() - start
    found = sum(len(v.slices) for v in result.volumes)
    assert found == files, found
    assert not result.rejected, result.rejected[:3]
    return seconds


def _import(folder: Path, files: int, database: Path) -> float:
    from recist_app.workflows.database import open_database
    from recist_app.workflows.images import import_dicom

    database.unlink(missing_ok=True)
    with open_database(f"sqlite:///{database}") as store:
        start = time.perf_counter()
        summary = import_dicom(store, folder, user="bench")
        seconds = time.perf_counter() - start
    assert summary.files_added == files, summary
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="generate into (and keep) DIR")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        images = folder / "images"
        if images.exists() and len(list(images.rglob("*.dcm"))) == args.files:
            paths = sorted(images.rglob("*.dcm"))
        else:
            shutil.rmtree(images, ignore_errors=True)
            start = time.perf_counter()
            paths = generate(images, args.files)
            print(
                f"generated {len(paths)} files in {time.perf_counter() - start:.1f} s"
            )
        _peer(paths)  # warm the page cache and pydicom's imports
        peer = [_peer(paths), _peer(paths)]
        discovery = [_discover(images, len(paths))]
        imported = [_import(images, len(paths), folder / "index.db")]
        peer.append(_peer(paths))
        discovery.append(_discover(images, len(paths)))
        imported.append(_import(images, len(paths), folder / "index.db"))
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    n = len(paths)
    peer_s, discovery_s, import_s = min(peer), min(discovery), min(imported)

    def per_k(seconds: float) -> str:
        return f"{1000 * seconds / n:6.3f} s per 1,000 files"

    def trial(seconds: float) -> str:
        return f"{seconds / n * TRIAL_FILES / 60:5.1f} min for {TRIAL_FILES:,} files"

    print(f"files: {n:,} (series of {SLICES_PER_SERIES}); best of 2-3, warm cache")
    print(f"dcmread specific_tags (peer): {per_k(peer_s)}  {trial(peer_s)}")
    print(
        f"discover:                     {per_k(discovery_s)}  {trial(discovery_s)}  "
        f"{discovery_s / peer_s:5.2f} x peer"
    )
    print(
        f"import (discover + index):    {per_k(import_s)}  {trial(import_s)}  "
        f"{import_s / peer_s:5.2f} x peer"
    )
    ratio = import_s / peer_s
    verdict = "met" if ratio <= GOAL_RATIO else "NOT met"
    print(f"goal import <= {GOAL_RATIO} x peer: {verdict}")


if __name__ == "__main__":
    main()
