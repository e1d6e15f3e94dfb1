"""Hard lesions for click-to-measure, and phantom volumes made in memory.

:data:`HARD_LESIONS` are the cases a lesion segmentation meets on real CT: a
heterogeneous (textured) liver lesion, a rim-enhancing one, liver lesions
touching the inferior vena cava and the liver capsule, a lung nodule touching
the pleura and a lymph node beside the aorta. They are drawn with noise and
anti-aliased (partial-volume) edges like every phantom lesion, so their true
long and short axes are known exactly. :func:`phantom_volume` renders a series
straight into an :class:`~recist_app.imaging.volume.ImageVolume` (no DICOM
files), for accuracy tests and benchmarks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from recist_app.imaging.phantom import (
    LESIONS,
    LesionSpec,
    SeriesGeometry,
    _anatomy,
    _lesion_shapes,
    _snap_to_slice,
    render_slice_hu,
    slice_origins_lps_mm,
)
from recist_app.imaging.phantom_pose import IDENTITY_POSE, PatientPose, breathing_weight
from recist_app.imaging.volume import ImageVolume

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["HARD_LESIONS", "PhantomLesion", "phantom_volume"]

_INTERCEPT = -1024.0

HARD_LESIONS: tuple[LesionSpec, ...] = (
    LesionSpec(
        lesion_id="H01",
        role="target",
        organ="liver",
        location="heterogeneous, segment VIII",
        is_lymph_node=False,
        center_lps_mm=(-90.0, 20.0, -30.0),
        angle_deg=20.0,
        hu=20.0,
        sizes_mm=((36.0, 27.0),),
        texture_hu=12.0,
    ),
    LesionSpec(
        lesion_id="H02",
        role="target",
        organ="liver",
        location="rim-enhancing, segment VI",
        is_lymph_node=False,
        center_lps_mm=(-105.0, -20.0, -85.0),
        angle_deg=-35.0,
        hu=15.0,
        sizes_mm=((30.0, 24.0),),
        rim_hu=110.0,
        rim_mm=3.0,
    ),
    LesionSpec(
        lesion_id="H03",
        role="target",
        organ="liver",
        location="touching the inferior vena cava",
        is_lymph_node=False,
        center_lps_mm=(-42.5, 30.0, -45.0),
        angle_deg=90.0,
        hu=25.0,
        sizes_mm=((30.0, 24.0),),
        depth_ratio=0.7,
    ),
    LesionSpec(
        lesion_id="H04",
        role="target",
        organ="liver",
        location="touching the anterior capsule",
        is_lymph_node=False,
        center_lps_mm=(-60.0, -66.5, -55.0),
        angle_deg=0.0,
        hu=25.0,
        sizes_mm=((34.0, 27.0),),
        depth_ratio=0.6,
    ),
    LesionSpec(
        lesion_id="H05",
        role="target",
        organ="lung",
        location="right lower lobe, touching the pleura",
        is_lymph_node=False,
        center_lps_mm=(-122.0, 5.0, 60.0),
        angle_deg=90.0,
        hu=30.0,
        sizes_mm=((20.0, 16.0),),
        depth_ratio=0.8,
    ),
    LesionSpec(
        lesion_id="H06",
        role="target",
        organ="lymph node",
        location="left para-aortic, beside the aorta",
        is_lymph_node=True,
        center_lps_mm=(34.5, 40.0, -10.0),
        angle_deg=90.0,
        hu=45.0,
        sizes_mm=((22.0, 15.0),),
    ),
)
"""Lesions that test leakage control, heterogeneity and rims (sizes at visit 0)."""


class PhantomLesion:
    """A lesion's truth in a volume made by :func:`phantom_volume`."""

    __slots__ = (
        "center_lps_mm",
        "is_lymph_node",
        "lesion_id",
        "long_axis_mm",
        "short_axis_mm",
    )

    def __init__(
        self,
        *,
        lesion_id: str,
        center_lps_mm: tuple[float, float, float],
        long_axis_mm: float,
        short_axis_mm: float,
        is_lymph_node: bool,
    ) -> None:
        self.lesion_id = lesion_id
        self.center_lps_mm = center_lps_mm
        self.long_axis_mm = long_axis_mm
        self.short_axis_mm = short_axis_mm
        self.is_lymph_node = is_lymph_node

    def __repr__(self) -> str:
        """The lesion id and its true axes."""
        return (
            f"PhantomLesion({self.lesion_id}, {self.long_axis_mm} x "
            f"{self.short_axis_mm} mm at {self.center_lps_mm})"
        )


def phantom_volume(
    geometry: SeriesGeometry,
    *,
    lesions: Sequence[LesionSpec] = LESIONS,
    visit: int = 0,
    noise_hu: float = 10.0,
    seed: int = 0,
    pose: PatientPose = IDENTITY_POSE,
) -> tuple[ImageVolume, tuple[PhantomLesion, ...]]:
    """Render the phantom into a volume in memory and say where its lesions are.

    Parameters
    ----------
    geometry
        Slice layout.
    lesions
        Lesions to draw (their size at ``visit``; absent ones are skipped).
    visit
        Which size of each lesion.
    noise_hu
        Gaussian noise (standard deviation, HU).
    seed
        Seeds the noise.
    pose
        How the patient lies.

    Returns
    -------
    tuple
        The volume (int16 stored values, rescale intercept -1024) and the truth
        of every lesion drawn centred on a slice.
    """
    origins = slice_origins_lps_mm(geometry)
    shapes = [shape.posed(pose) for shape in _anatomy()]
    truths: list[PhantomLesion] = []
    for spec in lesions:
        size = spec.sizes_mm[visit] if visit < len(spec.sizes_mm) else None
        if size is None:
            continue
        where = pose.apply(spec.center_lps_mm, breathing_weight(spec.organ))
        center, _index, _height = _snap_to_slice(where, geometry, origins)
        shapes.extend(_lesion_shapes(spec, size, center, geometry, pose))
        truths.append(
            PhantomLesion(
                lesion_id=spec.lesion_id,
                center_lps_mm=center,
                long_axis_mm=size[0],
                short_axis_mm=size[1],
                is_lymph_node=spec.is_lymph_node,
            )
        )
    rng = np.random.default_rng([seed, visit])
    stored = np.empty((geometry.slice_count, geometry.rows, geometry.columns), np.int16)
    for index in range(geometry.slice_count):
        hu = render_slice_hu(
            geometry, origins[index], shapes, noise_hu=noise_hu, rng=rng
        )
        stored[index] = np.clip(np.rint(hu - _INTERCEPT), -32768, 32767)
    direction = np.column_stack(
        [geometry.row_direction, geometry.column_direction, geometry.stack_direction]
    )
    volume = ImageVolume(
        voxels=stored,
        spacing_mm=(
            geometry.pixel_spacing_mm[1],
            geometry.pixel_spacing_mm[0],
            geometry.slice_spacing_mm,
        ),
        slice_origins_lps_mm=origins,
        direction=direction,
        rescale_intercept=_INTERCEPT,
        sop_instance_uids=tuple(
            f"2.25.{seed}{visit}{k + 1}" for k in range(len(origins))
        ),
        series_instance_uid=f"2.25.{seed}{visit}0",
        modality="CT",
        series_description=f"phantom visit {visit}",
    )
    return volume, tuple(truths)
