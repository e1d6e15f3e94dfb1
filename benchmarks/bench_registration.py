"""Follow-up registration: time per study pair and propagation error, with peers.

Baseline and three follow-ups of the phantom (256x256x100, 1.5 mm pixels, 2.5 mm
slices; lesions at their week-8/16/24 sizes) drawn in the demo poses
(:data:`~recist_app.imaging.phantom_pose.DEMO_POSES`: a few degrees of roll,
centimetres of table shift, up to 1 cm of breathing the nodes do not follow),
so every lesion's centre at each visit is known.

* ours: :func:`~recist_app.imaging.registration.register_series` (body mask,
  rigid then affine) once per pair, then
  :func:`~recist_app.imaging.registration.locate_point` per lesion (block match
  weighted to the lesion, lesion centre found again); the global transform
  alone is printed too.
* peers, in the same run: the same table position (the point unchanged, what
  linking viewports by table position does) and plain SimpleITK
  ``CenteredTransformInitializer`` (geometry centres) with an identity
  rotation.

Goals (issue 19): predicted centre within 3 mm (or a slice); local step a few
hundred ms at most.

Usage: ``python benchmarks/bench_registration.py``
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import SimpleITK as sitk  # noqa: E402, N813

from recist_app.imaging import SeriesGeometry  # noqa: E402
from recist_app.imaging.phantom import LESIONS  # noqa: E402
from recist_app.imaging.phantom_cases import phantom_volume  # noqa: E402
from recist_app.imaging.phantom_pose import DEMO_POSES  # noqa: E402
from recist_app.imaging.registration import (  # noqa: E402
    _image,
    locate_point,
    register_series,
)

GEOMETRY = SeriesGeometry(
    rows=256,
    columns=256,
    slice_count=100,
    pixel_spacing_mm=(1.5, 1.5),
    slice_spacing_mm=2.5,
    center_lps_mm=(0.0, 0.0, -20.0),
)
_sitk: Any = sitk


def _summary(name: str, errors: list[float]) -> str:
    return (
        f"{name}: median {statistics.median(errors):.1f} mm, p90 "
        f"{np.percentile(errors, 90):.1f} mm, max {max(errors):.1f} mm, "
        f"within 3 mm {sum(e <= 3.0 for e in errors)}/{len(errors)}"
    )


def main() -> None:
    """Print registration and propagation times and errors, with the peers."""
    baseline, before = phantom_volume(GEOMETRY, lesions=LESIONS, seed=1)
    ours: list[float] = []
    global_only: list[float] = []
    same_table: list[float] = []
    centred: list[float] = []
    register_s: list[float] = []
    locate_s: list[float] = []
    peer_s: list[float] = []
    for visit in (1, 2, 3):
        follow_up, after = phantom_volume(
            GEOMETRY,
            lesions=LESIONS,
            visit=visit,
            seed=1 + visit,
            pose=DEMO_POSES[visit],
        )
        start = time.perf_counter()
        registration = register_series(baseline, follow_up)
        register_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        peer = _sitk.CenteredTransformInitializer(
            _image(baseline, 4.0),
            _image(follow_up, 4.0),
            _sitk.Euler3DTransform(),
            _sitk.CenteredTransformInitializerFilter.GEOMETRY,
        )
        peer_s.append(time.perf_counter() - start)
        truth = {t.lesion_id: t.center_lps_mm for t in after}
        for lesion in before:
            if lesion.lesion_id not in truth:
                continue
            expected = truth[lesion.lesion_id]
            start = time.perf_counter()
            found = locate_point(registration, lesion.center_lps_mm)
            locate_s.append(time.perf_counter() - start)
            ours.append(math.dist(found.point_lps_mm, expected))
            if ours[-1] > 3.0:
                print(
                    f"  visit {visit} {lesion.lesion_id}: {ours[-1]:.1f} mm "
                    f"({found.method})"
                )
            global_only.append(
                math.dist(registration.map_point(lesion.center_lps_mm), expected)
            )
            same_table.append(math.dist(lesion.center_lps_mm, expected))
            centred.append(
                math.dist(peer.TransformPoint(lesion.center_lps_mm), expected)
            )
    print(
        f"register_series: {statistics.median(register_s):.2f} s per study pair "
        f"(median of {len(register_s)}); peer CenteredTransformInitializer "
        f"{statistics.median(peer_s) * 1000:.0f} ms"
    )
    print(
        f"locate_point: p50 {statistics.median(locate_s) * 1000:.0f} ms, max "
        f"{max(locate_s) * 1000:.0f} ms per point ({len(locate_s)} points)"
    )
    print(_summary("ours (affine + block match + lesion centre)", ours))
    print(_summary("global affine alone", global_only))
    print(_summary("peer: same table position", same_table))
    print(_summary("peer: CenteredTransformInitializer + identity", centred))
    print(
        "ratio of median errors, peer same-table / ours: "
        f"{statistics.median(same_table) / max(statistics.median(ours), 1e-3):.0f}x"
    )


if __name__ == "__main__":
    main()
