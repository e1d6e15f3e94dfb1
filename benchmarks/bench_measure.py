"""Click-to-measure: latency on a 512x512x300 CT and accuracy on the phantom set.

* latency: :func:`recist_app.workflows.measure.measure_at_point` (3-D
  segmentation around the click, then the RECIST axes edge to edge) at every
  lesion of a 512x512x300 CT (0.78 mm pixels, 1.25 mm slices; the phantom
  rendered at 256x256x75 and enlarged, fresh noise added); p50 and p95 per
  click. Peer, measured in the same run: a plain ``scipy.ndimage.label`` of the
  same volume thresholded at 0 HU (one pass over all voxels).
* accuracy: the phantom set (:data:`~recist_app.imaging.phantom.LESIONS` and
  :data:`~recist_app.imaging.phantom_cases.HARD_LESIONS`: texture, rim, vessel,
  capsule, pleura, node beside the aorta) at three noise seeds; median and p90
  absolute long- and short-axis error against the drawn truth, and failures.

Goals (issue 19): <= 150 ms per click; long-axis error <= 1 mm median.

Usage: ``python benchmarks/bench_measure.py``
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from recist_app.imaging import SeriesGeometry  # noqa: E402
from recist_app.imaging.errors import SegmentationError  # noqa: E402
from recist_app.imaging.phantom import LESIONS  # noqa: E402
from recist_app.imaging.phantom_cases import HARD_LESIONS, phantom_volume  # noqa: E402
from recist_app.imaging.volume import ImageVolume  # noqa: E402
from recist_app.workflows.measure import measure_at_point  # noqa: E402

SEEDS = (0, 1, 2)
ACCURACY = SeriesGeometry(
    rows=256,
    columns=256,
    slice_count=100,
    pixel_spacing_mm=(1.5, 1.5),
    slice_spacing_mm=2.5,
    center_lps_mm=(0.0, 0.0, -20.0),
)
SMALL = SeriesGeometry(
    rows=256,
    columns=256,
    slice_count=75,
    pixel_spacing_mm=(1.5625, 1.5625),
    slice_spacing_mm=5.0,
    center_lps_mm=(0.0, 0.0, -20.0),
)


def _large_ct() -> tuple[ImageVolume, list[tuple[float, float, float]]]:
    """512x512x300: the phantom enlarged 2x in-plane and 4x along the table."""
    small, truths = phantom_volume(SMALL, lesions=LESIONS + HARD_LESIONS, seed=5)
    voxels = np.repeat(np.repeat(np.repeat(small.voxels, 4, 0), 2, 1), 2, 2)
    rng = np.random.default_rng(7)
    voxels = (voxels + rng.normal(0, 8, voxels.shape)).astype(np.int16)
    step = small.slice_spacing_mm / 4
    first = (
        small.slice_origins_lps_mm[0]
        - small.direction[:, 0] * (SMALL.pixel_spacing_mm[1] / 4)
        - small.direction[:, 1] * (SMALL.pixel_spacing_mm[0] / 4)
        - small.direction[:, 2] * (1.5 * step)
    )
    origins = first + np.arange(voxels.shape[0])[:, None] * step * small.direction[:, 2]
    large = ImageVolume(
        voxels=voxels,
        spacing_mm=(small.spacing_mm[0] / 2, small.spacing_mm[1] / 2, step),
        slice_origins_lps_mm=origins,
        direction=small.direction,
        rescale_intercept=small.rescale_intercept,
        sop_instance_uids=tuple(f"2.25.9{k + 1}" for k in range(voxels.shape[0])),
        series_instance_uid="2.25.90",
        modality="CT",
        series_description="512x512x300",
    )
    return large, [t.center_lps_mm for t in truths]


def _latency() -> None:
    volume, clicks = _large_ct()
    print(f"volume {volume.voxels.shape[::-1]} (columns, rows, slices)")
    measure_at_point(volume, clicks[0])  # warm-up (imports, FFT plans)
    samples = []
    failures = 0
    for _round in range(3):
        for click in clicks:
            start = time.perf_counter()
            try:
                measure_at_point(volume, click)
            except SegmentationError:
                failures += 1
            samples.append(time.perf_counter() - start)
    labels = []
    for _round in range(3):
        start = time.perf_counter()
        from scipy import ndimage

        ndimage.label(volume.voxels > 1024)
        labels.append(time.perf_counter() - start)
    p50 = statistics.median(samples) * 1000
    p95 = float(np.percentile(samples, 95)) * 1000
    peer = statistics.median(labels) * 1000
    print(
        f"click-to-measure: p50 {p50:.0f} ms, p95 {p95:.0f} ms per click "
        f"({len(samples)} clicks, {failures} failed); goal <= 150 ms"
    )
    print(
        f"peer scipy.ndimage.label of the whole volume: {peer:.0f} ms; "
        f"ratio p50/peer {p50 / peer:.2f}, p95/peer {p95 / peer:.2f}"
    )


def _accuracy() -> None:
    long_errors: list[float] = []
    short_errors: list[float] = []
    failed: list[str] = []
    worst: dict[str, float] = {}
    for seed in SEEDS:
        volume, truths = phantom_volume(
            ACCURACY, lesions=LESIONS + HARD_LESIONS, seed=seed
        )
        for truth in truths:
            try:
                result = measure_at_point(
                    volume, truth.center_lps_mm, lymph_node=truth.is_lymph_node
                )
            except SegmentationError:
                failed.append(f"{truth.lesion_id}/seed {seed}")
                continue
            error = abs(result.long_axis_mm - truth.long_axis_mm)
            long_errors.append(error)
            short_errors.append(abs(result.short_axis_mm - truth.short_axis_mm))
            worst[truth.lesion_id] = max(worst.get(truth.lesion_id, 0.0), error)
    print(
        f"accuracy ({len(long_errors) + len(failed)} lesions x seeds): long axis "
        f"median {statistics.median(long_errors):.2f} mm, p90 "
        f"{np.percentile(long_errors, 90):.2f} mm; short axis median "
        f"{statistics.median(short_errors):.2f} mm, p90 "
        f"{np.percentile(short_errors, 90):.2f} mm; failures {len(failed)} "
        f"{failed if failed else ''}"
    )
    print(
        "worst long-axis error by lesion: "
        + ", ".join(f"{k} {v:.1f}" for k, v in sorted(worst.items()))
    )


def main() -> None:
    """Print latency (with the peer) and accuracy."""
    _latency()
    _accuracy()


if __name__ == "__main__":
    main()
