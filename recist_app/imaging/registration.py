"""Follow-up to baseline registration (SimpleITK) and points carried across.

:func:`register_series` aligns a follow-up series to the baseline: the body
masked (CT numbers above -400 HU, the largest piece), centres of mass matched,
then a rigid (Euler) and an affine transform fitted by mean squares on a
multi-resolution pyramid of images shrunk to about 3 mm. The breath held at
another depth moves the liver and lungs against the spine, which no global
transform follows, so :func:`propagate_point` refines the global answer with a
translation fitted in a 70 mm box around the point, at about 1.5 mm.

ITK's convention: the transform maps a point of the *fixed* series (the one a
point comes from) to the *moving* series (where it goes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import SimpleITK as sitk  # noqa: N813 (its own name)

from recist_app.imaging.errors import RegistrationError

if TYPE_CHECKING:
    from recist_app.imaging.volume import ImageVolume

__all__ = [
    "SeriesRegistration",
    "propagate_point",
    "register_series",
]

Point3 = tuple[float, float, float]

_COARSE_MM = 4.0
_LOCAL_MM = 1.5
_LOCAL_HALF_MM = 35.0
_BODY_HU = -400.0

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

    def map_point(self, point_lps_mm: Point3) -> Point3:
        """The global transform applied to one point (no local refinement)."""
        x, y, z = self.transform.TransformPoint(tuple(float(c) for c in point_lps_mm))
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


def _box(image: Any, center: Point3, half_mm: float) -> Any:
    start = image.TransformPhysicalPointToContinuousIndex(center)
    spacing = image.GetSpacing()
    size = image.GetSize()
    lower = [max(0, int(c - half_mm / s)) for c, s in zip(start, spacing, strict=True)]
    upper = [
        min(n, int(c + half_mm / s) + 1)
        for c, s, n in zip(start, spacing, size, strict=True)
    ]
    if any(u - lo < 4 for lo, u in zip(lower, upper, strict=True)):
        return None
    return _sitk.RegionOfInterest(
        image, [u - lo for lo, u in zip(lower, upper, strict=True)], lower
    )


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
        Refine by a translation fitted around the point (breathing).

    Returns
    -------
    tuple
        The point in the moving series, LPS mm.
    """
    coarse = registration.map_point(point_lps_mm)
    if not local:
        return coarse
    fixed_box = _box(
        _image(registration.fixed, _LOCAL_MM), point_lps_mm, _LOCAL_HALF_MM
    )
    if fixed_box is None:
        return coarse
    moving_image = _image(registration.moving, _LOCAL_MM)
    shift = _sitk.TranslationTransform(3)
    composite = _sitk.CompositeTransform(3)
    composite.AddTransform(registration.transform)
    composite.AddTransform(shift)
    method = _method((2, 1), 60)
    method.SetInitialTransform(composite, inPlace=True)
    method.SetMetricSamplingPercentage(0.5, seed=7)
    try:
        method.Execute(fixed_box, moving_image)
    except RuntimeError:
        return coarse
    x, y, z = composite.TransformPoint(tuple(float(c) for c in point_lps_mm))
    moved = (float(x), float(y), float(z))
    if math.dist(moved, coarse) > _LOCAL_HALF_MM:
        return coarse  # the box found something else: keep the global answer
    return moved
