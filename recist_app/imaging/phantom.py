"""A CT phantom of one patient with lesions of known size, written as DICOM.

The anatomy (body wall, fat, lungs, heart, liver, spleen, kidneys, aorta, IVC,
spine) and the lesions are analytic shapes in patient LPS millimetres. Every
voxel is evaluated at its own LPS position, so any slice count, spacing, pixel
size, orientation or gantry tilt gives the same anatomy, and lesion edges are
anti-aliased (partial volume) so their outline is known to sub-pixel accuracy.

The demo patient (:func:`write_demo_data`) has a baseline and follow-up CTs
with a real RECIST 1.1 course: a partial response confirmed at the second
follow-up, then progression with a new liver lesion. ``ground_truth.json``
lists every lesion's centre, long and short axis and slice.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
    generate_uid,
)

from recist_app import __version__
from recist_app.imaging.errors import PhantomError
from recist_app.imaging.phantom_pose import (
    DEMO_POSES,
    IDENTITY_POSE,
    PatientPose,
    breathing_weight,
)

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Sequence

    from recist_app.imaging.progress import ProgressCallback

__all__ = [
    "DEMO_VISITS",
    "GROUND_TRUTH_NAME",
    "LESIONS",
    "TRANSFER_SYNTAXES",
    "LesionSpec",
    "LesionTruth",
    "PhantomSeries",
    "SeriesGeometry",
    "render_slice_hu",
    "slice_origins_lps_mm",
    "write_demo_data",
    "write_phantom_series",
]

FloatArray = npt.NDArray[np.float32]
Triple = tuple[float, float, float]

TRANSFER_SYNTAXES: dict[str, str] = {
    "explicit": ExplicitVRLittleEndian,
    "implicit": ImplicitVRLittleEndian,
    "deflate": DeflatedExplicitVRLittleEndian,
    "rle": RLELossless,
    "jpeg-ls": JPEGLSLossless,
    "jpeg2000": JPEG2000Lossless,
}
"""Transfer syntaxes the phantom can write, by short name."""

GROUND_TRUTH_NAME = "ground_truth.json"
"""The file ``write_demo_data`` writes last, beside the studies."""

_AIR_HU = -1000.0
_RESCALE_INTERCEPT = -1024.0
_PATIENT_ID = "DEMO-HCC-001"
_PATIENT_NAME = "DEMO^PHANTOM"
_FIRST_STUDY_DATE = date(2024, 2, 26)
_VISIT_STEP_DAYS = 56


# ---------------------------------------------------------------- geometry


def _unit(vector: npt.ArrayLike) -> npt.NDArray[np.float64]:
    array = np.asarray(vector, dtype=np.float64)
    norm = float(np.linalg.norm(array))
    if norm == 0:
        raise PhantomError("orientation: zero-length direction")
    return array / norm


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesGeometry:
    """Where the slices of a generated series lie in patient LPS space.

    Parameters
    ----------
    rows, columns
        Slice size in pixels.
    slice_count
        Number of slices.
    pixel_spacing_mm
        ``(row spacing, column spacing)`` as in DICOM Pixel Spacing.
    slice_spacing_mm
        Table increment between slices (the distance between planes when the
        gantry is not tilted).
    slice_thickness_mm
        Nominal thickness written to the header (default: the spacing).
    orientation
        Image Orientation (Patient): row then column direction cosines.
    center_lps_mm
        LPS point at the centre of the volume.
    descending
        Write instance 1 at the top (positions fall with instance number).
    gantry_tilt_deg
        Tilt the slice plane about the row direction while the table moves
        along the untilted normal, as a tilted CT gantry does.
    """

    rows: int = 512
    columns: int = 512
    slice_count: int = 60
    pixel_spacing_mm: tuple[float, float] = (0.78125, 0.78125)
    slice_spacing_mm: float = 5.0
    slice_thickness_mm: float | None = None
    orientation: tuple[float, float, float, float, float, float] = (1, 0, 0, 0, 1, 0)
    center_lps_mm: Triple = (0.0, 0.0, -20.0)
    descending: bool = False
    gantry_tilt_deg: float = 0.0

    def __post_init__(self) -> None:
        if not (1 <= self.rows <= 4096 and 1 <= self.columns <= 4096):
            raise PhantomError(
                f"rows/columns must be 1..4096, got {self.rows}x{self.columns}"
            )
        if not 1 <= self.slice_count <= 5000:
            raise PhantomError(f"slice_count must be 1..5000, got {self.slice_count}")
        spacings = (*self.pixel_spacing_mm, self.slice_spacing_mm)
        if not all(math.isfinite(s) and 0 < s <= 100 for s in spacings):
            raise PhantomError(f"spacings must be in (0, 100] mm, got {spacings}")
        if (
            abs(float(np.dot(_unit(self.orientation[:3]), _unit(self.orientation[3:]))))
            > 1e-6
        ):
            raise PhantomError(
                "orientation: row and column directions must be orthogonal"
            )
        if not -45 < self.gantry_tilt_deg < 45:
            raise PhantomError(
                f"gantry_tilt_deg must be within +-45, got {self.gantry_tilt_deg}"
            )

    @property
    def row_direction(self) -> npt.NDArray[np.float64]:
        """Unit LPS vector along a row (increasing column index ``i``)."""
        return _unit(self.orientation[:3])

    @property
    def column_direction(self) -> npt.NDArray[np.float64]:
        """Unit LPS vector down a column (increasing row index ``j``), tilt applied."""
        row, column = self.row_direction, _unit(self.orientation[3:])
        tilt = math.radians(self.gantry_tilt_deg)
        normal = np.cross(row, column)
        return np.asarray(math.cos(tilt) * column + math.sin(tilt) * normal)

    @property
    def normal(self) -> npt.NDArray[np.float64]:
        """Unit normal of the (possibly tilted) slice plane."""
        return _unit(np.cross(self.row_direction, self.column_direction))

    @property
    def stack_direction(self) -> npt.NDArray[np.float64]:
        """Direction the table moves: the untilted plane normal."""
        return _unit(np.cross(self.row_direction, _unit(self.orientation[3:])))

    def orientation_tuple(self) -> tuple[float, ...]:
        """Image Orientation (Patient) as written, tilt applied."""
        return (*map(float, self.row_direction), *map(float, self.column_direction))


def slice_origins_lps_mm(geometry: SeriesGeometry) -> npt.NDArray[np.float64]:
    """Return ``(slice_count, 3)`` LPS positions of pixel (0, 0), bottom slice first."""
    offsets = (np.arange(geometry.slice_count) - (geometry.slice_count - 1) / 2) * (
        geometry.slice_spacing_mm
    )
    row_extent = (geometry.columns - 1) / 2 * geometry.pixel_spacing_mm[1]
    column_extent = (geometry.rows - 1) / 2 * geometry.pixel_spacing_mm[0]
    corner = (
        np.asarray(geometry.center_lps_mm)
        - row_extent * geometry.row_direction
        - column_extent * geometry.column_direction
    )
    return np.asarray(corner + offsets[:, None] * geometry.stack_direction[None, :])


# ---------------------------------------------------------------- anatomy


@dataclass(frozen=True, slots=True, kw_only=True)
class _Shape:
    """An ellipsoid (a long one is a cylinder) painted with one CT number."""

    center: Triple
    semi_axes: Triple
    hu: float
    axes: tuple[Triple, Triple, Triple] = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
    breathes: float = 0.0
    texture_hu: float = 0.0
    texture_seed: int = 0

    def posed(self, pose: PatientPose) -> _Shape:
        """The shape where it lies in ``pose`` (rigid part plus its breathing)."""
        if pose == IDENTITY_POSE:
            return self
        rotation = pose.rotation
        axes = tuple(
            _as_triple(rotation @ np.asarray(a, dtype=float)) for a in self.axes
        )
        return _Shape(
            center=pose.apply(self.center, self.breathes),
            semi_axes=self.semi_axes,
            hu=self.hu,
            axes=(axes[0], axes[1], axes[2]),
            breathes=self.breathes,
            texture_hu=self.texture_hu,
            texture_seed=self.texture_seed,
        )


def _cylinder(x: float, y: float, a: float, b: float, hu: float) -> _Shape:
    return _Shape(center=(x, y, 0.0), semi_axes=(a, b, 1e5), hu=hu)


def _anatomy() -> tuple[_Shape, ...]:
    shapes = [
        _cylinder(0, 0, 165, 115, -100),  # subcutaneous fat
        _cylinder(0, 0, 152, 102, 50),  # muscle wall
        _cylinder(0, 0, 142, 92, -85),  # visceral and mediastinal fat
        _Shape(center=(-75, 5, 70), semi_axes=(55, 80, 100), hu=-850, breathes=1.0),
        _Shape(center=(75, 5, 75), semi_axes=(52, 78, 95), hu=-850, breathes=1.0),
        _Shape(center=(-65, 0, -55), semi_axes=(85, 80, 65), hu=60, breathes=1.0),
        _Shape(center=(90, 35, -45), semi_axes=(30, 45, 50), hu=50, breathes=1.0),
        _Shape(center=(-70, 55, -105), semi_axes=(25, 30, 50), hu=150, breathes=0.5),
        _Shape(center=(70, 55, -100), semi_axes=(25, 30, 50), hu=150, breathes=0.5),
        _Shape(center=(10, -30, 35), semi_axes=(55, 45, 45), hu=40, breathes=0.5),
        _cylinder(15, 40, 12, 12, 180),  # aorta (contrast)
        _cylinder(-20, 30, 11, 11, 130),  # inferior vena cava
        _cylinder(0, 108, 30, 10, 500),  # posterior vertebral elements
        _cylinder(0, 70, 18, 18, 700),  # vertebral body, cortex
        _cylinder(0, 70, 15, 15, 250),  # vertebral body, cancellous bone
        _cylinder(0, 98, 8, 8, 15),  # spinal canal
    ]
    # intervertebral discs every 32 mm
    shapes.extend(
        _Shape(center=(0, 70, float(z)), semi_axes=(17, 17, 3), hu=90)
        for z in range(-320, 321, 32)
    )
    return tuple(shapes)


# ---------------------------------------------------------------- lesions


@dataclass(frozen=True, slots=True, kw_only=True)
class LesionSpec:
    """A lesion of the demo patient and its size at every visit.

    ``sizes_mm`` holds ``(long axis, short axis)`` per visit, ``None`` when the
    lesion is absent (a new lesion before it appears). The third diameter (along
    the slice normal) is ``depth_ratio`` x the long axis. ``viable_mm`` is the
    long axis of the arterially enhancing (viable, mRECIST J1) part per visit: a
    part of the same shape, ``viable_hu`` brighter, centred a quarter of the long
    axis from the lesion's centre along it (an enhancing nodule in a necrotic
    lesion; the centre stays necrotic); equal to the long axis, the whole lesion
    enhances (nothing more is drawn).
    """

    lesion_id: str
    role: str
    organ: str
    location: str
    is_lymph_node: bool
    center_lps_mm: Triple
    angle_deg: float
    hu: float
    sizes_mm: tuple[tuple[float, float] | None, ...]
    depth_ratio: float = 0.8
    texture_hu: float = 0.0
    rim_hu: float | None = None
    rim_mm: float = 0.0
    viable_mm: tuple[float | None, ...] = ()
    viable_hu: float = 110.0


LESIONS: tuple[LesionSpec, ...] = (
    LesionSpec(
        lesion_id="T01",
        role="target",
        organ="liver",
        location="right hepatic lobe, segment VII",
        is_lymph_node=False,
        center_lps_mm=(-70.0, 10.0, -60.0),
        angle_deg=30.0,
        hu=25.0,
        sizes_mm=((42.0, 30.0), (30.0, 22.0), (27.0, 19.0), (33.0, 24.0)),
        # HCC: an arterially enhancing part that shrinks, then grows (mRECIST)
        viable_mm=(16.0, 9.0, 7.0, 12.0),
    ),
    LesionSpec(
        lesion_id="T02",
        role="target",
        organ="lymph node",
        location="left para-aortic lymph node",
        is_lymph_node=True,
        center_lps_mm=(45.0, 15.0, -20.0),
        angle_deg=90.0,
        hu=45.0,
        sizes_mm=((25.0, 18.0), (17.0, 12.0), (13.0, 9.0), (14.0, 10.0)),
    ),
    LesionSpec(
        lesion_id="T03",
        role="target",
        organ="lung",
        location="right lower lobe",
        is_lymph_node=False,
        center_lps_mm=(-80.0, 0.0, 80.0),
        angle_deg=-20.0,
        hu=30.0,
        sizes_mm=((16.0, 13.0), (11.0, 9.0), (10.0, 8.0), (17.0, 14.0)),
        viable_mm=(16.0, 11.0, 10.0, 17.0),  # enhancing throughout
    ),
    LesionSpec(
        lesion_id="NT01",
        role="non-target",
        organ="lung",
        location="left upper lobe (sub-centimetre nodule)",
        is_lymph_node=False,
        center_lps_mm=(70.0, -10.0, 110.0),
        angle_deg=0.0,
        hu=30.0,
        sizes_mm=((7.0, 7.0), (6.0, 6.0), (6.0, 6.0), (7.0, 7.0)),
        depth_ratio=1.0,
    ),
    LesionSpec(
        lesion_id="N01",
        role="new",
        organ="liver",
        location="left hepatic lobe, segment III",
        is_lymph_node=False,
        center_lps_mm=(-40.0, -30.0, -80.0),
        angle_deg=0.0,
        hu=20.0,
        sizes_mm=(None, None, None, (14.0, 12.0)),
        depth_ratio=1.0,
    ),
)
"""The demo patient's lesions (ids and organs follow RECIST reading practice)."""

DEMO_VISITS: tuple[str, ...] = ("BASELINE", "WEEK 8", "WEEK 16", "WEEK 24")
"""Visit names; the course is PR at week 8, confirmed PR at 16, PD at 24."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LesionTruth:
    """Where a lesion is and how big, in one generated series."""

    lesion_id: str
    role: str
    organ: str
    location: str
    is_lymph_node: bool
    center_lps_mm: Triple
    long_axis_mm: float
    short_axis_mm: float
    slice_index: int
    slice_position_mm: float
    instance_number: int
    sop_instance_uid: str
    long_axis_direction_lps: Triple
    short_axis_direction_lps: Triple
    viable_long_axis_mm: float | None = None
    viable_center_lps_mm: Triple | None = None


def _viable_mm(spec: LesionSpec, visit: int, enabled: bool = True) -> float | None:
    """The viable part's long axis at ``visit`` (``None``: not enhancing)."""
    if not enabled or visit >= len(spec.viable_mm):
        return None
    return spec.viable_mm[visit]


def _as_triple(vector: npt.NDArray[np.float64]) -> Triple:
    return (float(vector[0]), float(vector[1]), float(vector[2]))


def _axis_directions(
    spec: LesionSpec, geometry: SeriesGeometry
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Unit vectors (LPS) of a lesion's long and short axes in the slice plane."""
    angle = math.radians(spec.angle_deg)
    row, column = geometry.row_direction, geometry.column_direction
    long_dir = math.cos(angle) * row + math.sin(angle) * column
    short_dir = -math.sin(angle) * row + math.cos(angle) * column
    return long_dir, short_dir


def _lesion_shapes(
    spec: LesionSpec,
    size: tuple[float, float],
    center: Triple,
    geometry: SeriesGeometry,
    pose: PatientPose = IDENTITY_POSE,
) -> list[_Shape]:
    """The lesion's ellipsoid (its rim first, then the core) at ``center``."""
    long_dir, short_dir = _axis_directions(spec, geometry)
    axes = (
        _as_triple(pose.rotate(long_dir)),
        _as_triple(pose.rotate(short_dir)),
        _as_triple(geometry.normal),
    )
    semi = (size[0] / 2, size[1] / 2, size[0] * spec.depth_ratio / 2)
    seed = sum(ord(c) for c in spec.lesion_id)
    shapes = []
    if spec.rim_hu is not None and spec.rim_mm > 0:
        shapes.append(_Shape(center=center, semi_axes=semi, hu=spec.rim_hu, axes=axes))
        semi = (
            max(semi[0] - spec.rim_mm, 0.5),
            max(semi[1] - spec.rim_mm, 0.5),
            max(semi[2] - spec.rim_mm, 0.5),
        )
    shapes.append(
        _Shape(
            center=center,
            semi_axes=semi,
            hu=spec.hu,
            axes=axes,
            texture_hu=spec.texture_hu,
            texture_seed=seed,
        )
    )
    return shapes


def _texture(
    shape: _Shape, points_lps: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """A smooth 3-D texture (unit spread, 4-9 mm grain) fixed in the lesion."""
    rng = np.random.default_rng(shape.texture_seed)
    local = points_lps - np.asarray(shape.center)
    total = np.zeros(points_lps.shape[:-1])
    waves = 8
    for _ in range(waves):
        direction = rng.normal(size=3)
        direction /= np.linalg.norm(direction)
        wavelength = rng.uniform(4.0, 9.0)
        phase = rng.uniform(0, 2 * math.pi)
        total += np.sin(local @ direction * (2 * math.pi / wavelength) + phase)
    return total * math.sqrt(2.0 / waves)


def _viable_shapes(
    spec: LesionSpec,
    size: tuple[float, float],
    center: Triple,
    geometry: SeriesGeometry,
    visit: int,
    pose: PatientPose = IDENTITY_POSE,
    enabled: bool = True,
) -> list[_Shape]:
    """The lesion's arterially enhancing part, painted over it (mRECIST J1)."""
    viable = _viable_mm(spec, visit, enabled)
    if viable is None or viable >= size[0]:
        return []
    ratio = viable / size[0]
    long_dir, short_dir = _axis_directions(spec, geometry)
    axes = (
        _as_triple(pose.rotate(long_dir)),
        _as_triple(pose.rotate(short_dir)),
        _as_triple(geometry.normal),
    )
    semi = (viable / 2, size[1] * ratio / 2, viable * spec.depth_ratio / 2)
    where = _viable_center(spec, size, center, geometry, pose)
    return [
        _Shape(center=where, semi_axes=semi, hu=spec.hu + spec.viable_hu, axes=axes)
    ]


def _viable_truth_center(
    spec: LesionSpec,
    size: tuple[float, float],
    center: Triple,
    geometry: SeriesGeometry,
    visit: int,
    pose: PatientPose = IDENTITY_POSE,
    enabled: bool = True,
) -> Triple | None:
    """Where the viable part is centred (the lesion's centre when all of it is)."""
    viable = _viable_mm(spec, visit, enabled)
    if viable is None:
        return None
    if viable >= size[0]:
        return center
    return _viable_center(spec, size, center, geometry, pose)


def _viable_center(
    spec: LesionSpec,
    size: tuple[float, float],
    center: Triple,
    geometry: SeriesGeometry,
    pose: PatientPose = IDENTITY_POSE,
) -> Triple:
    """Centre of the enhancing part: a quarter of the long axis along it."""
    long_dir, _short_dir = _axis_directions(spec, geometry)
    return _as_triple(np.asarray(center) + size[0] / 4 * pose.rotate(long_dir))


# ---------------------------------------------------------------- rendering


def _pixel_window(
    shape: _Shape, origin: npt.NDArray[np.float64], geometry: SeriesGeometry
) -> tuple[slice, slice] | None:
    """Rows/columns of a slice a shape can touch (bounding sphere), or ``None``."""
    finite = [semi for semi in shape.semi_axes if semi < 1e4]
    radius = max(finite)
    center = np.asarray(shape.center)
    for axis, semi in zip(shape.axes, shape.semi_axes, strict=True):
        if semi < 1e4:
            continue
        # a cylinder: its cross-section is centred where its axis meets the plane
        along = np.asarray(axis)
        cosine = float(along @ geometry.normal)
        if abs(cosine) < 0.2:
            return (slice(0, geometry.rows), slice(0, geometry.columns))
        center = center + float((origin - center) @ geometry.normal) / cosine * along
        radius = radius / abs(cosine)
    offset = center - origin
    if abs(float(offset @ geometry.normal)) > radius + 1:
        return None
    i = float(offset @ geometry.row_direction) / geometry.pixel_spacing_mm[1]
    j = float(offset @ geometry.column_direction) / geometry.pixel_spacing_mm[0]
    ri = radius / geometry.pixel_spacing_mm[1] + 2
    rj = radius / geometry.pixel_spacing_mm[0] + 2
    i0, i1 = max(0, math.floor(i - ri)), min(geometry.columns, math.ceil(i + ri) + 1)
    j0, j1 = max(0, math.floor(j - rj)), min(geometry.rows, math.ceil(j + rj) + 1)
    if i0 >= i1 or j0 >= j1:
        return None
    return (slice(j0, j1), slice(i0, i1))


def _paint(
    image: FloatArray,
    shape: _Shape,
    origin: npt.NDArray[np.float64],
    geometry: SeriesGeometry,
) -> None:
    window = _pixel_window(shape, origin, geometry)
    if window is None:
        return
    rows, columns = window
    j = (
        np.arange(rows.start, rows.stop, dtype=np.float64)[:, None]
        * geometry.pixel_spacing_mm[0]
    )
    i = (
        np.arange(columns.start, columns.stop, dtype=np.float64)[None, :]
        * (geometry.pixel_spacing_mm[1])
    )
    base = origin - np.asarray(shape.center)
    pixel_mm = math.sqrt(geometry.pixel_spacing_mm[0] * geometry.pixel_spacing_mm[1])
    scaled_sq = np.zeros((j.shape[0], i.shape[1]))
    gradient_sq = np.zeros_like(scaled_sq)
    for axis, semi in zip(shape.axes, shape.semi_axes, strict=True):
        if semi >= 1e4:  # the long axis of a cylinder adds nothing
            continue
        direction = np.asarray(axis)
        local = (
            float(base @ direction)
            + i * float(geometry.row_direction @ direction)
            + j * float(geometry.column_direction @ direction)
        )
        scaled_sq = scaled_sq + (local / semi) ** 2
        gradient_sq = gradient_sq + (local / semi**2) ** 2
    q = np.sqrt(scaled_sq)
    with np.errstate(divide="ignore", invalid="ignore"):
        distance_mm = np.where(q < 0.5, -1e3, (q - 1) * q / np.sqrt(gradient_sq))
    coverage = np.clip(0.5 - distance_mm / pixel_mm, 0.0, 1.0)
    region = image[rows, columns]
    value: Any = np.float32(shape.hu)
    if shape.texture_hu > 0:
        points = (
            origin[None, None, :]
            + i[..., None] * geometry.row_direction[None, None, :]
            + j[..., None] * geometry.column_direction[None, None, :]
        )
        value = shape.hu + shape.texture_hu * _texture(shape, points)
        value = value.astype(np.float32)
    region += coverage.astype(np.float32) * (value - region)


def render_slice_hu(
    geometry: SeriesGeometry,
    origin_lps_mm: npt.ArrayLike,
    shapes: Sequence[_Shape],
    *,
    noise_hu: float = 0.0,
    rng: np.random.Generator | None = None,
) -> FloatArray:
    """Render one slice in HU (float32, ``(rows, columns)``).

    Parameters
    ----------
    geometry
        The series geometry (spacing and directions).
    origin_lps_mm
        LPS position of pixel (0, 0) of this slice.
    shapes
        Anatomy and lesions, painted in order.
    noise_hu
        Standard deviation of Gaussian noise added afterwards.
    rng
        Random generator for the noise.
    """
    origin = np.asarray(origin_lps_mm, dtype=np.float64)
    image = np.full((geometry.rows, geometry.columns), _AIR_HU, dtype=np.float32)
    for shape in shapes:
        _paint(image, shape, origin, geometry)
    if noise_hu > 0:
        generator = rng if rng is not None else np.random.default_rng(0)
        image += generator.normal(0.0, noise_hu, image.shape).astype(np.float32)
    return image


# ---------------------------------------------------------------- DICOM writing


@dataclass(frozen=True, slots=True, kw_only=True)
class _Identity:
    seed: int
    visit: int
    visit_name: str
    study_date: date
    study_uid: str
    series_uid: str
    frame_of_reference_uid: str
    series_description: str
    patient_id: str = _PATIENT_ID
    patient_name: str = _PATIENT_NAME


def _uid(seed: int, *parts: object) -> str:
    return str(
        generate_uid(entropy_srcs=["recist_app phantom", str(seed), *map(str, parts)])
    )


def _identity(
    seed: int,
    visit: int,
    description: str,
    *,
    patient_id: str = _PATIENT_ID,
    patient_name: str = _PATIENT_NAME,
) -> _Identity:
    visit_name = DEMO_VISITS[visit] if visit < len(DEMO_VISITS) else f"VISIT {visit}"
    return _Identity(
        seed=seed,
        visit=visit,
        visit_name=visit_name,
        study_date=_FIRST_STUDY_DATE + timedelta(days=_VISIT_STEP_DAYS * visit),
        study_uid=_uid(seed, "study", visit),
        series_uid=_uid(seed, "series", visit, description),
        frame_of_reference_uid=_uid(seed, "frame", visit),
        series_description=description,
        patient_id=patient_id,
        patient_name=patient_name,
    )


def _decimal(value: float) -> str:
    text = f"{value:.6g}"
    return text if len(text) <= 16 else f"{value:.10g}"[:16]


def _slice_dataset(
    identity: _Identity,
    geometry: SeriesGeometry,
    *,
    instance: int,
    origin: npt.NDArray[np.float64],
    stored: npt.NDArray[np.int16],
) -> Dataset:
    sop_uid = _uid(
        identity.seed, "image", identity.visit, identity.series_description, instance
    )
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    meta.TransferSyntaxUID = UID(ExplicitVRLittleEndian)
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = f"RECIST_APP_{__version__}"[:16]
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_uid
    day = identity.study_date.strftime("%Y%m%d")
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = day
    ds.StudyTime = ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = "093000"
    ds.AccessionNumber = f"DEMO{identity.seed % 10000:04d}{identity.visit:02d}"
    ds.Modality = "CT"
    ds.Manufacturer = "recist_app"
    ds.InstitutionName = "Demo phantom (synthetic data)"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = f"CT chest abdomen {identity.visit_name}"
    ds.SeriesDescription = identity.series_description
    ds.ManufacturerModelName = "phantom"
    ds.PatientName = identity.patient_name
    ds.PatientID = identity.patient_id
    ds.PatientBirthDate = "19580412"
    ds.PatientSex = "M"
    ds.PatientAge = "065Y"
    ds.BodyPartExamined = "CHEST"
    ds.ContrastBolusAgent = "Iohexol 350"
    ds.ContrastBolusRoute = "IV"
    ds.SliceThickness = _decimal(
        geometry.slice_thickness_mm or geometry.slice_spacing_mm
    )
    ds.KVP = "120"
    ds.DeviceSerialNumber = "0001"
    ds.SoftwareVersions = __version__
    ds.GantryDetectorTilt = _decimal(geometry.gantry_tilt_deg)
    ds.PatientPosition = "FFS"
    ds.StudyInstanceUID = identity.study_uid
    ds.SeriesInstanceUID = identity.series_uid
    ds.StudyID = f"{identity.visit + 1}"
    ds.SeriesNumber = 2
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = instance
    ds.ImagePositionPatient = [_decimal(float(v)) for v in origin]
    ds.ImageOrientationPatient = [_decimal(v) for v in geometry.orientation_tuple()]
    ds.FrameOfReferenceUID = identity.frame_of_reference_uid
    ds.PositionReferenceIndicator = ""
    ds.SliceLocation = _decimal(float(origin @ geometry.normal))
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = geometry.rows
    ds.Columns = geometry.columns
    ds.PixelSpacing = [_decimal(v) for v in geometry.pixel_spacing_mm]
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.WindowCenter = ["40", "-600"]
    ds.WindowWidth = ["400", "1500"]
    ds.WindowCenterWidthExplanation = ["SOFT TISSUE", "LUNG"]
    ds.RescaleIntercept = _decimal(_RESCALE_INTERCEPT)
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.PixelData = stored.tobytes()
    return ds


def _save(ds: Dataset, path: Path, transfer_syntax: str) -> None:
    if transfer_syntax in (RLELossless, JPEGLSLossless, JPEG2000Lossless):
        arr = np.frombuffer(ds.PixelData, dtype="<i2").reshape(ds.Rows, ds.Columns)
        ds.compress(transfer_syntax, arr, generate_instance_uid=False)
    else:
        ds.file_meta.TransferSyntaxUID = UID(transfer_syntax)
    ds.save_as(path, enforce_file_format=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class PhantomSeries:
    """A written series and the truth about it."""

    folder: str
    paths: tuple[str, ...]
    visit: str
    study_date: str
    study_instance_uid: str
    series_instance_uid: str
    geometry: SeriesGeometry
    lesions: tuple[LesionTruth, ...] = field(default=())

    def truth_dict(self) -> dict[str, Any]:
        """The series truth as JSON-ready values."""
        geometry = asdict(self.geometry)
        return {
            "visit": self.visit,
            "date": self.study_date,
            "study_instance_uid": self.study_instance_uid,
            "series_instance_uid": self.series_instance_uid,
            "folder": self.folder,
            "slice_thickness_mm": self.geometry.slice_thickness_mm
            or self.geometry.slice_spacing_mm,
            "geometry": geometry,
            "lesions": [asdict(lesion) for lesion in self.lesions],
        }


def _snap_to_slice(
    center: Triple, geometry: SeriesGeometry, origins: npt.NDArray[np.float64]
) -> tuple[Triple, int, float]:
    """Move a lesion centre along the normal onto the nearest slice plane."""
    heights = origins @ geometry.normal
    point = np.asarray(center, dtype=np.float64)
    height = float(point @ geometry.normal)
    index = int(np.argmin(np.abs(heights - height)))
    snapped = point + (heights[index] - height) * geometry.normal
    x, y, z = (float(v) for v in snapped)
    return (x, y, z), index, float(heights[index])


def _inside(
    point: Triple,
    geometry: SeriesGeometry,
    origins: npt.NDArray[np.float64],
    index: int,
) -> bool:
    offset = np.asarray(point) - origins[index]
    i = float(offset @ geometry.row_direction) / geometry.pixel_spacing_mm[1]
    j = float(offset @ geometry.column_direction) / geometry.pixel_spacing_mm[0]
    return 0 <= i <= geometry.columns - 1 and 0 <= j <= geometry.rows - 1


def write_phantom_series(
    out_dir: str | os.PathLike[str],
    *,
    geometry: SeriesGeometry | None = None,
    visit: int = 0,
    seed: int = 0,
    noise_hu: float = 10.0,
    shuffle: bool = False,
    transfer_syntax: str = "explicit",
    series_description: str = "CT PORTAL VENOUS 5mm",
    lesions: Sequence[LesionSpec] = LESIONS,
    patient_id: str = _PATIENT_ID,
    patient_name: str = _PATIENT_NAME,
    progress: ProgressCallback | None = None,
    pose: PatientPose = IDENTITY_POSE,
    viable_parts: bool = False,
) -> PhantomSeries:
    """Write one CT series of the phantom at one visit.

    Parameters
    ----------
    out_dir
        Folder for the slice files (created).
    geometry
        Slice layout; the default is a 512x512x60 axial series.
    visit
        Visit index (0 = baseline), selecting lesion sizes and the study date.
    seed
        Seeds the noise, the UIDs and the shuffled file names.
    noise_hu
        Standard deviation of image noise in HU (0 for exact edges).
    shuffle
        Give files random names so directory order says nothing about position.
    transfer_syntax
        A key of :data:`TRANSFER_SYNTAXES`.
    series_description
        Series Description (also part of the series UID entropy).
    lesions
        Lesions to draw; each is centred on a slice plane.
    patient_id, patient_name
        Patient ID and Patient's Name written into every file.
    progress
        Called as ``progress(slices_written, slice_count)``.
    pose
        How the patient lies (shift, roll, breathing); the truth gives every
        lesion where it is drawn in this pose.
    viable_parts
        Paint the lesions' arterially enhancing parts (``LesionSpec.viable_mm``)
        and give their viable long axes in the truth; the demo patients have
        them (mRECIST), other series keep plain lesions.

    Returns
    -------
    PhantomSeries
        File paths, UIDs and the truth of every lesion within the field of view.
    """
    geometry = geometry or SeriesGeometry()
    if transfer_syntax not in TRANSFER_SYNTAXES:
        raise PhantomError(
            f"transfer_syntax {transfer_syntax!r}: choose one of "
            f"{', '.join(TRANSFER_SYNTAXES)}"
        )
    if not (math.isfinite(noise_hu) and noise_hu >= 0):
        raise PhantomError(f"noise_hu must be >= 0, got {noise_hu}")
    syntax = TRANSFER_SYNTAXES[transfer_syntax]
    identity = _identity(
        seed,
        visit,
        series_description,
        patient_id=patient_id,
        patient_name=patient_name,
    )
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PhantomError(
            f"{folder}: cannot create folder: {error.strerror}"
        ) from error
    origins = slice_origins_lps_mm(geometry)
    count = geometry.slice_count
    instances = (
        list(range(count, 0, -1)) if geometry.descending else list(range(1, count + 1))
    )
    shapes = [shape.posed(pose) for shape in _anatomy()]
    pending: list[tuple[LesionSpec, Triple, int, float, tuple[float, float]]] = []
    for spec in lesions:
        size = spec.sizes_mm[visit] if visit < len(spec.sizes_mm) else None
        if size is None:
            continue
        where = pose.apply(spec.center_lps_mm, breathing_weight(spec.organ))
        center, index, height = _snap_to_slice(where, geometry, origins)
        moved = float(np.linalg.norm(np.subtract(center, where)))
        if moved > geometry.slice_spacing_mm / 2 + 1e-6:
            # the centre lies beyond the first or last slice: draw it where it is
            shapes.extend(_lesion_shapes(spec, size, where, geometry, pose))
            continue
        shapes.extend(_lesion_shapes(spec, size, center, geometry, pose))
        shapes.extend(
            _viable_shapes(spec, size, center, geometry, visit, pose, viable_parts)
        )
        if _inside(center, geometry, origins, index):
            pending.append((spec, center, index, height, size))
    names = _file_names(count, shuffle, seed, visit)
    rng = np.random.default_rng([seed, visit])
    paths: list[str] = []
    sop_uids: list[str] = []
    for index in range(count):
        hu = render_slice_hu(
            geometry, origins[index], shapes, noise_hu=noise_hu, rng=rng
        )
        stored = np.clip(np.rint(hu - _RESCALE_INTERCEPT), -32768, 32767).astype(
            np.int16
        )
        ds = _slice_dataset(
            identity,
            geometry,
            instance=instances[index],
            origin=origins[index],
            stored=stored,
        )
        path = folder / names[index]
        try:
            _save(ds, path, syntax)
        except OSError as error:
            raise PhantomError(f"{path}: cannot write: {error.strerror}") from error
        paths.append(str(path))
        sop_uids.append(str(ds.SOPInstanceUID))
        if progress is not None:
            progress(index + 1, count)
    truths: list[LesionTruth] = []
    for spec, center, index, height, size in pending:
        long_dir, short_dir = _axis_directions(spec, geometry)
        long_dir, short_dir = pose.rotate(long_dir), pose.rotate(short_dir)
        truths.append(
            LesionTruth(
                lesion_id=spec.lesion_id,
                role=spec.role,
                organ=spec.organ,
                location=spec.location,
                is_lymph_node=spec.is_lymph_node,
                center_lps_mm=center,
                long_axis_mm=size[0],
                short_axis_mm=size[1],
                slice_index=index,
                slice_position_mm=round(height, 4),
                instance_number=instances[index],
                sop_instance_uid=sop_uids[index],
                long_axis_direction_lps=_as_triple(long_dir),
                short_axis_direction_lps=_as_triple(short_dir),
                viable_long_axis_mm=_viable_mm(spec, visit, viable_parts),
                viable_center_lps_mm=_viable_truth_center(
                    spec, size, center, geometry, visit, pose, viable_parts
                ),
            )
        )
    return PhantomSeries(
        folder=str(folder),
        paths=tuple(paths),
        visit=identity.visit_name,
        study_date=identity.study_date.isoformat(),
        study_instance_uid=identity.study_uid,
        series_instance_uid=identity.series_uid,
        geometry=geometry,
        lesions=tuple(truths),
    )


def _file_names(count: int, shuffle: bool, seed: int, visit: int) -> list[str]:
    if not shuffle:
        return [f"IM{index + 1:05d}.dcm" for index in range(count)]
    order = list(range(count))
    random.Random(f"{seed}-{visit}").shuffle(order)
    return [
        f"{position:05d}_{_uid(seed, 'name', visit, index)[-6:]}.dcm"
        for index, position in enumerate(order)
    ]


def write_demo_data(
    out_dir: str | os.PathLike[str],
    *,
    seed: int = 0,
    visits: int = 4,
    slice_count: int = 60,
    slice_spacing_mm: float = 5.0,
    pixel_size_mm: float = 0.78125,
    matrix: int = 512,
    shuffle: bool = False,
    noise_hu: float = 10.0,
    patient_id: str = _PATIENT_ID,
    patient_name: str = _PATIENT_NAME,
    progress: Callable[[str], None] | None = None,
    moving: bool = True,
) -> dict[str, Any]:
    """Write the demo patient's CT studies and ``ground_truth.json``.

    Parameters
    ----------
    out_dir
        Output folder; one sub-folder per visit (``01_BASELINE``, ...).
    seed
        Seeds noise, UIDs and shuffling; the same seed writes identical files.
    visits
        Number of visits, 3 or 4 (baseline plus 2 or 3 follow-ups).
    slice_count, slice_spacing_mm
        Slices per study and distance between them; the volume is centred on
        the lesions (z = -20 mm) and 60 x 5 mm covers chest and upper abdomen.
    pixel_size_mm
        In-plane pixel size (square pixels).
    matrix
        Rows and columns per slice (512 by default).
    shuffle
        Random file names (file order says nothing about slice order).
    noise_hu
        Image noise standard deviation in HU.
    patient_id, patient_name
        Who the studies belong to (a second demo patient needs another ID and
        another ``seed``, so its UIDs differ too).
    progress
        Called with one line of text per visit written.
    moving
        The patient lies differently at each follow-up (:data:`DEMO_POSES`: a
        few cm of shift, a few degrees of roll, breathing), as real follow-ups
        do; the truth of each study records its pose and where every lesion is
        drawn. ``False`` keeps the baseline's pose at every visit.

    Returns
    -------
    dict
        The ground truth that was written to ``ground_truth.json``.
    """
    if visits not in (3, 4):
        raise PhantomError(
            f"visits must be 3 or 4 (baseline + follow-ups), got {visits}"
        )
    geometry = SeriesGeometry(
        rows=matrix,
        columns=matrix,
        slice_count=slice_count,
        pixel_spacing_mm=(pixel_size_mm, pixel_size_mm),
        slice_spacing_mm=slice_spacing_mm,
    )
    root = Path(out_dir)
    studies: list[dict[str, Any]] = []
    for visit in range(visits):
        name = DEMO_VISITS[visit]
        folder = root / f"{visit + 1:02d}_{name.replace(' ', '_')}"
        series = write_phantom_series(
            folder,
            geometry=geometry,
            visit=visit,
            seed=seed,
            noise_hu=noise_hu,
            shuffle=shuffle,
            patient_id=patient_id,
            patient_name=patient_name,
            pose=DEMO_POSES[visit] if moving else IDENTITY_POSE,
            viable_parts=True,
        )
        truth = series.truth_dict()
        truth["folder"] = folder.name
        truth["pose"] = (DEMO_POSES[visit] if moving else IDENTITY_POSE).as_dict()
        studies.append(truth)
        if progress is not None:
            progress(f"{name}: {geometry.slice_count} slices written to {folder}")
    ground_truth: dict[str, Any] = {
        "format": "recist-phantom-truth/1",
        "seed": seed,
        "patient_id": patient_id,
        "patient_name": patient_name,
        "criteria": "RECIST 1.1",
        "lesions": [
            {
                "lesion_id": spec.lesion_id,
                "role": spec.role,
                "organ": spec.organ,
                "location": spec.location,
                "is_lymph_node": spec.is_lymph_node,
            }
            for spec in LESIONS
            if any(size is not None for size in spec.sizes_mm[:visits])
        ],
        "studies": studies,
    }
    path = root / GROUND_TRUTH_NAME
    text = json.dumps(ground_truth, indent=2) + "\n"
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise PhantomError(f"{path}: cannot write: {error.strerror}") from error
    loaded: dict[str, Any] = json.loads(text)
    return loaded
