"""Viewer speed: scroll step and time to the first painted slice, with a peer.

* scroll step: one slice forward plus a window/level change, then a synchronous
  paint of the current viewport of the workstation's main window as a reader
  has it (issue 18: 1920x1080, layout 1x2 with the prior beside it, zoomed 2.5x
  with bilinear interpolation, outlined text and overlays) on 512x512 CT
  slices; p50 and p95 over 400 steps. Between steps the event loop runs until
  idle, as it does between two wheel events: the linked prior and the status
  line repaint there (they follow the current view, deferred, untimed). Peer,
  measured in the same run, in blocks of 100 steps alternating with the
  view's (so that both see the same load): a plain float numpy window, the
  ``QImage`` made from it and a ``QPainter`` drawing it scaled into an image of
  the viewport's size (no text, no overlays, no interpolation).
* first slice: from asking the background loader for a 512x512x120 series
  (indexed in the database, files in the page cache) to the middle slice painted
  in the view; the whole load's time is printed next to it.

Goals (issue 5): scroll step p95 <= 4 ms; first slice painted <= 0.2 s.

Usage: ``QT_QPA_PLATFORM=offscreen python benchmarks/bench_view.py``
"""

from __future__ import annotations

import datetime
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

STEPS = 400
BLOCK = 100  # steps of one before the other's (STEPS is a multiple)
VIEW_SIZE_PX = (900, 900)
WINDOW_SIZE_PX = (1920, 1080)
ZOOM = 2.5
SLICES = 120


def _percentiles(samples_s: list[float]) -> tuple[float, float]:
    values = np.array(samples_s) * 1000.0
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def _run_until_idle(app: Any) -> None:
    """Let the event loop run as between two wheel events (deferred paints)."""
    for _ in range(3):
        app.sendPostedEvents()
        app.processEvents()


def _time_first_paint(app: Any, store: Any, series_uid: str) -> tuple[float, float]:
    """Seconds to the middle slice painted and to the whole series loaded."""
    from recist_app.ui.browser.loading import VolumeLoader
    from recist_app.ui.viewer.slice_view import SliceView

    loader = VolumeLoader(store)
    view = SliceView()
    view.resize(*VIEW_SIZE_PX)
    view.show()
    app.processEvents()
    marks: dict[str, float] = {}

    def on_preview(_uid: str, preview: Any) -> None:
        view.set_volume(preview)
        view.repaint()
        marks.setdefault("painted", time.perf_counter())

    def on_loaded(_uid: str, _volume: Any) -> None:
        marks.setdefault("loaded", time.perf_counter())

    loader.preview.connect(on_preview)
    loader.loaded.connect(on_loaded)
    start = time.perf_counter()
    loader.load([series_uid])
    while "loaded" not in marks:
        app.processEvents()
        time.sleep(0.0005)
    loader.shutdown()
    view.close()
    view.deleteLater()
    loader.deleteLater()
    app.processEvents()
    return marks["painted"] - start, marks["loaded"] - start


def main() -> int:
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication

    from recist_app.imaging import SeriesGeometry, load_volume, write_phantom_series
    from recist_app.recist import Reading, TimePoint
    from recist_app.store import open_store
    from recist_app.ui.document import ReadingDocument
    from recist_app.ui.main_window import MainWindow
    from recist_app.workflows.images import import_dicom

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        series = write_phantom_series(
            folder / "series",
            geometry=SeriesGeometry(rows=512, columns=512, slice_count=SLICES),
        )
        volume = load_volume(folder / "series")  # also warms the page cache
        # The workstation as a reader has it: the same series at two visits.
        reading = Reading(
            patient_id="BENCH",
            timepoints=(
                TimePoint(
                    visit="BASELINE",
                    date=datetime.date(2024, 1, 8),
                    is_baseline=True,
                    series_instance_uid=volume.series_instance_uid,
                ),
                TimePoint(
                    visit="WEEK 8",
                    date=datetime.date(2024, 3, 4),
                    series_instance_uid=volume.series_instance_uid,
                ),
            ),
        )
        document = ReadingDocument(reading)
        document.set_visit("WEEK 8")
        window = MainWindow(document, {volume.series_instance_uid: volume})
        window.resize(*WINDOW_SIZE_PX)
        window.show()
        window.set_layout("1x2")
        app.processEvents()
        view = window.slice_view
        view.zoom_by(ZOOM)
        app.processEvents()
        view_size = (view.width(), view.height())
        print(f"  measured viewport {view_size[0]}x{view_size[1]}")
        target = QImage(*view_size, QImage.Format.Format_RGB32)
        slope, intercept = volume.rescale_slope, volume.rescale_intercept
        width_mm = volume.columns * volume.column_spacing_mm
        height_mm = volume.rows * volume.row_spacing_mm
        scale = min(view_size[0] / width_mm, view_size[1] / height_mm)

        def our_step(step: int) -> float:
            # ---- scroll step: recist_app's view
            start = time.perf_counter()
            view.set_slice_index(step % volume.slice_count)
            view.set_window(40.0 + (step % 7), 400.0 + (step % 5))
            view.repaint()
            seconds = time.perf_counter() - start
            _run_until_idle(app)  # the linked prior and the status line, untimed
            return seconds

        def peer_step(step: int) -> float:
            # ---- scroll step: peer (numpy float window -> QImage -> QPainter)
            start = time.perf_counter()
            center, width = 40.0 + (step % 7), 400.0 + (step % 5)
            hu = volume.voxels[step % volume.slice_count] * slope + intercept
            low = center - width / 2
            pixels = np.clip((hu - low) / width * 255.0, 0, 255).astype(np.uint8)
            rows, columns = pixels.shape
            image = QImage(
                pixels.data, columns, rows, columns, QImage.Format.Format_Grayscale8
            )
            painter = QPainter(target)
            painter.drawImage(QRectF(0, 0, width_mm * scale, height_mm * scale), image)
            painter.end()
            return time.perf_counter() - start

        # Blocks of steps alternate between the two, so that both see the same
        # load on a noisy machine (as bench_import alternates); each runs its
        # steps 0..STEPS-1 in order, its first steps (new windows) included.
        ours: list[float] = []
        peer: list[float] = []
        for block in range(0, STEPS, BLOCK):
            ours.extend(our_step(step) for step in range(block, block + BLOCK))
            peer.extend(peer_step(step) for step in range(block, block + BLOCK))

        ours_p50, ours_p95 = _percentiles(ours)
        peer_p50, peer_p95 = _percentiles(peer)
        print(
            f"scroll step, 512x512 slices, window {WINDOW_SIZE_PX[0]}x"
            f"{WINDOW_SIZE_PX[1]} layout 1x2, viewport {view_size[0]}x"
            f"{view_size[1]}, zoom {ZOOM}x bilinear"
        )
        print(f"  recist_app SliceView  p50 {ours_p50:.2f} ms  p95 {ours_p95:.2f} ms")
        print(f"  peer numpy+QPainter   p50 {peer_p50:.2f} ms  p95 {peer_p95:.2f} ms")
        print(
            f"  ratio p95 {ours_p95 / peer_p95:.2f}x the peer; "
            f"goal p95 <= the peer's: {'met' if ours_p95 <= peer_p95 else 'NOT met'}"
        )

        # ---- open a series -> first slice painted
        with open_store(f"sqlite:///{folder / 'db.sqlite3'}") as store:
            import_dicom(store, folder / "series", user="bench")
            firsts: list[float] = []
            totals: list[float] = []
            for _ in range(3):
                first, total = _time_first_paint(app, store, series.series_instance_uid)
                firsts.append(first)
                totals.append(total)
        first = min(firsts)
        total = min(totals)
        print(f"open a 512x512x{SLICES} series (best of 3, warm cache)")
        print(
            f"  first (middle) slice painted {first:.3f} s, whole series {total:.3f} s"
            f" ({first / total:.2f} of the load)"
        )
        print(f"  goal <= 0.2 s: {'met' if first <= 0.2 else 'NOT met'}")
        window.close()
        window.deleteLater()
        app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
