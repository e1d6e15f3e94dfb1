"""Follow-up to baseline registration (SimpleITK) and points carried across.

:func:`register_series` aligns a follow-up series to the baseline: the body
masked (CT numbers above -400 HU, the largest piece), centres of mass matched,
then a rigid (Euler) and an affine transform fitted by mean squares on a
multi-resolution pyramid of images shrunk to about 4 mm. The breath held at
another depth moves the liver and lungs against the spine and the nodes beside
it, which no global transform follows, so :func:`locate_point` refines the
global answer around the point: a block match weighted to the lesion there
(normalized correlation, FFT), then the lesion's centre found again.

ITK's convention: the transform maps a point of the *fixed* series (the one a
point comes from) to the *moving* series (where it goes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import SimpleITK as sitk  # noqa: N813 (its own name)
from scipy import ndimage

from recist_app.imaging.errors import RegistrationError, SegmentationError
from recist_app.imaging.geometry import index_to_lps_mm, lps_mm_to_index
from recist_app.imaging.segment import LesionSegmentation, segment_lesion

if TYPE_CHECKING:
    from collections.abc import Callable

    from recist_app.imaging.volume import ImageVolume

__all__ = [
    "PointMatch",
    "SeriesRegistration",
    "locate_point",
    "propagate_point",
    "register_series",
]

Point3 = tuple[float, float, float]
FloatArray = npt.NDArray[np.float64]

_COARSE_MM = 4.0
_BODY_HU = -400.0
_GLOBAL = "affine registration"
_BLOCK_STEP_MM = 2.0
_BLOCK_HALF_MM = 30.0
_SEARCH_MM = 16.0
_MARGIN_MM = 4.0
_MIN_SCORE = 0.3
_LESION_LIMIT_MM = 60.0
_LESION_JUMP_MM = 10.0
_CENTRE_SLACK_MM = 3.0
_SAME_HU = 40.0
_NEAR_MM = 8.0
_NEAR_TRIES = 3

_sitk: Any = sitk


def _image(volume: ImageVolume, target_mm: float) -> Any:
    """The volume as a SimpleITK image in HU, shrunk to about ``target_mm``."""
    factors = [max(1, round(target_mm / s)) for s in volume.spacing_mm]
    step = (factors[2], factors[1], factors[0])
    voxels = volume.voxels[:: step[0], :: step[1], :: step[2]]
    hu = voxels.astype(np.float32) * np.float32(volume.rescale_slope) + np.float32(
        volume.rescale_intercept
    )
    image = _sitk.GetImageFromArray(hu)
    image.SetSpacing(
        tuple(s * f for s, f in zip(volume.spacing_mm, factors, strict=True))
    )
    image.SetOrigin(tuple(float(c) for c in volume.slice_origins_lps_mm[0]))
    image.SetDirection(tuple(float(c) for c in volume.direction.ravel()))
    return image


def _body(image: Any) -> Any:
    mask = _sitk.BinaryThreshold(image, _BODY_HU, 1e6, 1, 0)
    pieces = _sitk.RelabelComponent(
        _sitk.ConnectedComponent(mask), sortByObjectSize=True
    )
    return _sitk.Cast(pieces == 1, _sitk.sitkUInt8)


def _method(levels: tuple[int, ...], iterations: int) -> Any:
    method = _sitk.ImageRegistrationMethod()
    method.SetMetricAsMeanSquares()
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentage(0.25, seed=7)
    method.SetInterpolator(_sitk.sitkLinear)
    method.SetOptimizerAsRegularStepGradientDescent(
        learningRate=2.0,
        minStep=1e-3,
        numberOfIterations=iterations,
        relaxationFactor=0.6,
        gradientMagnitudeTolerance=1e-6,
    )
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetShrinkFactorsPerLevel(list(levels))
    method.SetSmoothingSigmasPerLevel([max(0, f - 1) for f in levels])
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOff()
    return method


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SeriesRegistration:
    """A follow-up registered to a baseline: global transform and the images.

    Parameters
    ----------
    fixed_series_uid, moving_series_uid
        The series points come from and go to.
    transform
        SimpleITK affine transform, fixed -> moving LPS mm.
    metric
        Final mean squares (HU^2) at the coarse level; lower is better.
    """

    fixed_series_uid: str
    moving_series_uid: str
    transform: Any
    metric: float
    fixed: ImageVolume
    moving: ImageVolume
    inverse: Any = field(init=False, repr=False)
    """The transform's inverse (moving -> fixed), computed once: anatomy-linked
    scrolling maps a point back on every step."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "inverse", self.transform.GetInverse())

    def map_point(self, point_lps_mm: Point3) -> Point3:
        """The global transform applied to one point (no local refinement)."""
        x, y, z = self.transform.TransformPoint(tuple(float(c) for c in point_lps_mm))
        return (float(x), float(y), float(z))

    def map_point_back(self, point_lps_mm: Point3) -> Point3:
        """A point of the moving series in the fixed one (the inverse transform)."""
        x, y, z = self.inverse.TransformPoint(tuple(float(c) for c in point_lps_mm))
        return (float(x), float(y), float(z))


def register_series(fixed: ImageVolume, moving: ImageVolume) -> SeriesRegistration:
    """Register ``moving`` (a follow-up) to ``fixed`` (the baseline).

    Raises
    ------
    RegistrationError
        When either series has no body or the optimiser fails.
    """
    label = f"{fixed.series_description or fixed.series_instance_uid} -> " + (
        moving.series_description or moving.series_instance_uid
    )
    fixed_image = _image(fixed, _COARSE_MM)
    moving_image = _image(moving, _COARSE_MM)
    fixed_body, moving_body = _body(fixed_image), _body(moving_image)
    stats = _sitk.StatisticsImageFilter()
    for name, body in (("baseline", fixed_body), ("follow-up", moving_body)):
        stats.Execute(body)
        if stats.GetSum() < 100:
            raise RegistrationError(f"{label}: the {name} series shows no body")
    try:
        initial = _sitk.CenteredTransformInitializer(
            fixed_body,
            moving_body,
            _sitk.Euler3DTransform(),
            _sitk.CenteredTransformInitializerFilter.MOMENTS,
        )
        rigid = _method((2, 1), 80)
        rigid.SetMetricFixedMask(fixed_body)
        rigid.SetInitialTransform(initial, inPlace=True)
        rigid.Execute(fixed_image, moving_image)
        affine = _sitk.AffineTransform(3)
        affine.SetMatrix(initial.GetMatrix())
        affine.SetTranslation(initial.GetTranslation())
        affine.SetCenter(initial.GetCenter())
        second = _method((2, 1), 60)
        second.SetMetricFixedMask(fixed_body)
        second.SetInitialTransform(affine, inPlace=True)
        second.Execute(fixed_image, moving_image)
        metric = float(second.GetMetricValue())
    except RuntimeError as error:
        first = str(error).strip().splitlines()[-1] if str(error).strip() else "failed"
        raise RegistrationError(f"{label}: registration failed: {first}") from None
    return SeriesRegistration(
        fixed_series_uid=fixed.series_instance_uid,
        moving_series_uid=moving.series_instance_uid,
        transform=affine,
        metric=metric,
        fixed=fixed,
        moving=moving,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PointMatch:
    """Where a point of the fixed series lies in the moving series, and how found.

    Parameters
    ----------
    point_lps_mm
        The point in the moving series, LPS mm.
    method
        ``affine registration``, ``... + block match`` or
        ``... + block match + lesion centre`` (the last step that was kept).
    score
        Peak weighted normalized correlation of the block match (-1..1); NaN
        when no block match was kept.
    """

    point_lps_mm: Point3
    method: str
    score: float = math.nan


def _affine_points(transform: Any) -> Callable[[FloatArray], FloatArray]:
    """The affine transform as a NumPy function of ``(..., 3)`` LPS points."""
    matrix = np.asarray(transform.GetMatrix(), dtype=np.float64).reshape(3, 3)
    center = np.asarray(transform.GetCenter(), dtype=np.float64)
    shift = np.asarray(transform.GetTranslation(), dtype=np.float64)

    def apply(points: FloatArray) -> FloatArray:
        return np.asarray((points - center) @ matrix.T + center + shift)

    return apply


def _grid(center: FloatArray, half_mm: float) -> FloatArray:
    """An isotropic cube of LPS points, ``(z, y, x, 3)``, around ``center``."""
    count = round(half_mm / _BLOCK_STEP_MM)
    axis = np.arange(-count, count + 1, dtype=np.float64) * _BLOCK_STEP_MM
    z, y, x = np.meshgrid(axis, axis, axis, indexing="ij")
    return np.asarray(center + np.stack([x, y, z], axis=-1))


def _sample(
    volume: ImageVolume,
    points: FloatArray,
    values: npt.NDArray[Any] | None = None,
    offset_ijk: tuple[int, int, int] = (0, 0, 0),
) -> npt.NDArray[np.float32]:
    """Trilinear samples of ``values`` (default: the volume's) at LPS points."""
    ijk = lps_mm_to_index(volume, points.reshape(-1, 3)) - np.asarray(offset_ijk)
    source = volume.voxels if values is None else values
    sampled = ndimage.map_coordinates(
        source,
        [ijk[:, 2], ijk[:, 1], ijk[:, 0]],
        order=1,
        mode="nearest" if values is None else "constant",
        cval=0.0,
        output=np.float32,
    )
    return np.asarray(sampled.reshape(points.shape[:-1]))


def _segment_at(volume: ImageVolume, point: FloatArray) -> LesionSegmentation | None:
    ijk = lps_mm_to_index(volume, point)
    try:
        return segment_lesion(
            volume,
            (float(ijk[0]), float(ijk[1]), float(ijk[2])),
            max_diameter_mm=_LESION_LIMIT_MM,
        )
    except SegmentationError:
        return None


def _weights(
    volume: ImageVolume, grid: FloatArray, lesion: LesionSegmentation | None
) -> npt.NDArray[np.float32]:
    """Where the block match looks: the lesion and a thin margin, or a Gaussian.

    A lesion's neighbours often move differently (a node under the lung base, a
    liver lesion beside the spine), so the match is weighted to the lesion and
    the few millimetres around it, whose edge places it; a point not in a
    lesion gets a Gaussian window.
    """
    if lesion is not None:
        inside = _sample(volume, grid, lesion.membership, lesion.offset_ijk) >= 0.5
        if inside.any():
            distance = ndimage.distance_transform_edt(~inside, sampling=_BLOCK_STEP_MM)
            return np.asarray(distance <= _MARGIN_MM, dtype=np.float32)
    centred = grid - grid[tuple(n // 2 for n in grid.shape[:3])]
    squared = np.sum(centred * centred, axis=-1)
    sigma = _BLOCK_HALF_MM / 2
    return np.asarray(np.exp(-squared / (2 * sigma * sigma)), dtype=np.float32)


def _weighted_ncc(
    region: npt.NDArray[np.float32],
    template: npt.NDArray[np.float32],
    weights: npt.NDArray[np.float32],
) -> FloatArray | None:
    """Normalized correlation of a weighted template at every shift in a region.

    ``sum w (T - Tw)(I - Iw) / sqrt(sum w (T - Tw)^2 * sum w (I - Iw)^2)`` with
    weighted means, computed for all shifts at once by FFT correlation.
    """
    total = float(weights.sum())
    if total <= 0:
        return None
    mean = float((weights * template).sum()) / total
    centred = weights * (template - mean)
    energy = float((centred * (template - mean)).sum())
    if energy <= 1e-6 * total:
        return None  # a flat template matches anything

    # Imported here: scipy.signal takes 0.4 s to import, which `recist-app
    # measure` (no registration) would pay on every start (issue 19: < 1 s).
    from scipy import signal

    def correlate(image: npt.NDArray[Any], kernel: npt.NDArray[Any]) -> FloatArray:
        return np.asarray(
            signal.fftconvolve(image, kernel[::-1, ::-1, ::-1], mode="valid")
        )

    region64 = region.astype(np.float64)
    numerator = correlate(region64, centred)
    first = correlate(region64, weights)
    second = correlate(region64 * region64, weights)
    variance = np.maximum(second - first * first / total, 1e-6)
    return np.asarray(numerator / np.sqrt(energy * variance))


def _peak(score: FloatArray) -> tuple[FloatArray, float]:
    """The shift (x, y, z mm, from the region's centre) of the best score."""
    index = tuple(int(c) for c in np.unravel_index(int(np.argmax(score)), score.shape))
    offset = np.zeros(3)
    for axis in range(3):
        at = int(index[axis])
        fraction = 0.0
        if 0 < at < score.shape[axis] - 1:
            before, after = list(index), list(index)
            before[axis], after[axis] = at - 1, at + 1
            a, b, c = score[tuple(before)], score[index], score[tuple(after)]
            curve = a - 2 * b + c
            if curve < 0:
                fraction = float((a - c) / (2 * curve))
        offset[axis] = (at + fraction - (score.shape[axis] - 1) / 2) * _BLOCK_STEP_MM
    return offset[::-1].copy(), float(score[index])


def _segment_near(
    volume: ImageVolume, point: FloatArray, lesion: LesionSegmentation
) -> LesionSegmentation | None:
    """The lesion at ``point``, or at the nearest voxels that look like it.

    A lesion that shrank may leave the block match's point just outside it: the
    few points within ``_NEAR_MM`` whose neighbourhood's CT number is within a
    quarter of the contrast of the baseline lesion's are tried, nearest first.
    """
    found = _segment_at(volume, point)
    if found is not None:
        return found
    grid = _grid(point, _NEAR_MM)
    stored = ndimage.uniform_filter(_sample(volume, grid), size=3, mode="nearest")
    hu = stored * volume.rescale_slope + volume.rescale_intercept
    contrast = abs(lesion.inside_hu - lesion.outside_hu)
    like = np.abs(hu - lesion.inside_hu) < contrast / 4
    candidates = grid[like]
    order = np.argsort(np.sum((candidates - point) ** 2, axis=1))
    for index in order[:_NEAR_TRIES]:
        found = _segment_at(volume, candidates[index])
        if found is not None:
            return found
    return None


def _centre(volume: ImageVolume, lesion: LesionSegmentation) -> FloatArray:
    k, j, i = np.nonzero(lesion.mask)
    mean_ijk = np.array([i.mean(), j.mean(), k.mean()]) + np.asarray(lesion.offset_ijk)
    return np.asarray(index_to_lps_mm(volume, mean_ijk))


def locate_point(registration: SeriesRegistration, point_lps_mm: Point3) -> PointMatch:
    """Where a point of the fixed series lies in the moving one, refined locally.

    The global (affine) answer is refined in two steps:

    1. block match: the fixed series around the point (a 60 mm cube sampled at
       2 mm, weighted to the lesion there and a 4 mm margin, else a Gaussian
       window) is compared by weighted normalized correlation with the moving
       series resampled through the global transform, at every shift within
       +-16 mm (FFT); the best shift, to a fraction of a step, is kept when its
       correlation is at least 0.3;
    2. lesion centre: when a lesion is delineated at the point in both series
       (CT numbers alike, centres within 10 mm of the block match), the point
       keeps its place relative to the lesion's centre, so a lesion that shrank
       or grew is still found at its middle; the step is kept only when it is
       no larger than the change of the lesion's radius plus 3 mm (a growing
       lesion's centre moves no further than its edge).

    Parameters
    ----------
    registration
        From :func:`register_series`.
    point_lps_mm
        A point of the fixed (baseline) series.

    Returns
    -------
    PointMatch
        The point in the moving series and the last step kept.
    """
    transform = _affine_points(registration.transform)
    point = np.asarray(point_lps_mm, dtype=np.float64)
    coarse = transform(point)
    fixed, moving = registration.fixed, registration.moving
    grid = _grid(point, _BLOCK_HALF_MM)
    lesion = _segment_at(fixed, point)
    score = _weighted_ncc(
        _sample(moving, transform(_grid(point, _BLOCK_HALF_MM + _SEARCH_MM))),
        _sample(fixed, grid),
        _weights(fixed, grid, lesion),
    )
    if score is None:
        return PointMatch(point_lps_mm=_triple(coarse), method=_GLOBAL)
    shift, peak = _peak(score)
    if peak < _MIN_SCORE:
        return PointMatch(point_lps_mm=_triple(coarse), method=_GLOBAL)
    matched = transform(point + shift)
    found = PointMatch(
        point_lps_mm=_triple(matched), method=f"{_GLOBAL} + block match", score=peak
    )
    if lesion is None:
        return found
    again = _segment_near(moving, matched, lesion)
    if again is None:
        return found
    contrast = abs(lesion.inside_hu - lesion.outside_hu)
    if abs(again.inside_hu - lesion.inside_hu) > max(_SAME_HU, contrast / 2):
        return found
    matrix = np.asarray(registration.transform.GetMatrix()).reshape(3, 3)
    centred = _centre(moving, again) + matrix @ (point - _centre(fixed, lesion))
    # A lesion that grew or shrank moves its centre by no more than its radius
    # changed: a larger step means the two delineations are not the same
    # lesion (e.g. a piece of a bone's shell that joins more of the shell after
    # the patient moved; found on a real head CT moved by a known transform).
    growth_mm = abs(_radius_mm(again.volume_ml) - _radius_mm(lesion.volume_ml))
    step_mm = math.dist(centred, matched)
    if step_mm > _LESION_JUMP_MM or step_mm > growth_mm + _CENTRE_SLACK_MM:
        return found
    return PointMatch(
        point_lps_mm=_triple(centred),
        method=f"{_GLOBAL} + block match + lesion centre",
        score=peak,
    )


def _radius_mm(volume_ml: float) -> float:
    """The radius of a sphere of ``volume_ml``."""
    return float((3.0 * volume_ml * 1000.0 / (4.0 * math.pi)) ** (1.0 / 3.0))


def _triple(point: FloatArray) -> Point3:
    return (float(point[0]), float(point[1]), float(point[2]))


def propagate_point(
    registration: SeriesRegistration, point_lps_mm: Point3, *, local: bool = True
) -> Point3:
    """Where a point of the fixed series lies in the moving series.

    Parameters
    ----------
    registration
        From :func:`register_series`.
    point_lps_mm
        A point of the fixed (baseline) series.
    local
        Refine the global answer around the point (:func:`locate_point`).

    Returns
    -------
    tuple
        The point in the moving series, LPS mm.
    """
    if not local:
        return registration.map_point(point_lps_mm)
    return locate_point(registration, point_lps_mm).point_lps_mm
