"""Benchmark: retrieving a study from a PACS, in images per second.

A throw-away Orthanc (the tests' own, ``tests/orthanc.py``) holds one generated
CT study (512² slices by default). The workstation's retrieval —
``workflows.pacs.retrieve_patient``: the queries (study, series, instances),
each image written whole into the download folder, then the folder import's
discovery and indexing in one transaction — runs over DICOMweb (WADO-RS) and
over DIMSE (C-GET) into a fresh database each time.

The peer is a plain ``dicomweb-client`` retrieval of the same study from the
same server in the same run: ``retrieve_study`` into memory (the floor of any
DICOMweb retrieval), and the same followed by writing each data set to a file
(what any workstation must do to keep the images). Each figure is the best of
``--repeats`` runs, printed as images/s and as a ratio to the peer.

Run: ``.venv/bin/python benchmarks/bench_pacs.py [--slices N] [--matrix PX]``.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from dicomweb_client import DICOMwebClient  # noqa: E402

from recist_app.imaging import SeriesGeometry, write_phantom_series  # noqa: E402
from recist_app.store import open_store  # noqa: E402
from recist_app.workflows.pacs import (  # noqa: E402
    PacsSettings,
    resolve_server,
    retrieve_patient,
)
from tests.orthanc import ORTHANC_PASSWORD, ORTHANC_USER, start_orthanc  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.orthanc import OrthancServer

PATIENT_ID = "BENCH-PACS-001"


def _best(run: Callable[[Path], int], repeats: int, scratch: Path) -> float:
    """The best images/s of ``repeats`` runs, each in a fresh folder."""
    best = 0.0
    for number in range(repeats):
        folder = scratch / f"run{number}"
        folder.mkdir()
        start = time.perf_counter()
        images = run(folder)
        elapsed = time.perf_counter() - start
        best = max(best, images / elapsed)
        shutil.rmtree(folder)
    return best


def _peer(
    server: OrthancServer, study_uid: str, *, write: bool
) -> Callable[[Path], int]:
    def run(folder: Path) -> int:
        session = requests.Session()
        session.auth = (ORTHANC_USER, ORTHANC_PASSWORD)
        client = DICOMwebClient(server.dicomweb_url, session=session)
        with contextlib.closing(session):
            datasets = client.retrieve_study(study_uid)
        if write:
            for dataset in datasets:
                dataset.save_as(folder / f"{dataset.SOPInstanceUID}.dcm")
        return len(datasets)

    return run


def _ours(url: str) -> Callable[[Path], int]:
    server = resolve_server(url, PacsSettings())

    def run(folder: Path) -> int:
        with open_store(f"sqlite:///{folder / 'readings.sqlite3'}") as store:
            result = retrieve_patient(
                store,
                server,
                patient_id=PATIENT_ID,
                user="bench",
                download_folder=folder / "downloads",
            )
        assert result.summary.files_added == result.images_retrieved
        return result.images_retrieved

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=200)
    parser.add_argument("--matrix", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    started = start_orthanc()
    if isinstance(started, str):
        print(f"skipped: {started}")
        return
    scratch = Path(tempfile.mkdtemp(prefix="bench-pacs-"))
    try:
        series = write_phantom_series(
            scratch / "study",
            geometry=SeriesGeometry(
                rows=args.matrix,
                columns=args.matrix,
                slice_count=args.slices,
                pixel_spacing_mm=(400 / args.matrix, 400 / args.matrix),
                slice_spacing_mm=300 / args.slices,
            ),
            patient_id=PATIENT_ID,
        )
        files = sorted((scratch / "study").glob("*.dcm"))
        megabytes = sum(path.stat().st_size for path in files) / 1e6
        started.upload(files)
        print(
            f"one CT study of {len(files)} images of {args.matrix}² "
            f"({megabytes:.0f} MB) on Orthanc; best of {args.repeats}"
        )
        study_uid = series.study_instance_uid
        web = started.dicomweb_url_with_credentials
        rows = [
            ("dicomweb-client retrieve_study (memory)",
             _peer(started, study_uid, write=False)),
            ("dicomweb-client retrieve_study + files",
             _peer(started, study_uid, write=True)),
            ("recist-app import --from, DICOMweb", _ours(web)),
            ("recist-app import --from, DIMSE C-GET", _ours(started.dimse_url)),
        ]  # fmt: skip
        figures = {name: _best(run, args.repeats, scratch) for name, run in rows}
        peer = figures[rows[0][0]]
        for name, rate in figures.items():
            print(
                f"{name:42s} {rate:7.0f} images/s  {rate * megabytes / len(files):6.1f}"
                f" MB/s  {rate / peer:5.2f} × the in-memory peer"
            )
    finally:
        started.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
