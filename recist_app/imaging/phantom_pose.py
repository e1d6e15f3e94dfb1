"""How the phantom patient lies on the table at one visit: the known transform.

A follow-up CT never finds the patient where the baseline did: the body is
shifted on the table, rolled by a few degrees, and the organs under the
diaphragm sit higher or lower with the breath held. :class:`PatientPose` is that
motion, applied to the phantom's analytic shapes, so the truth of where every
lesion lies at every visit is exact: a rigid part (rotation about the patient's
superior axis, then a shift) plus a craniocaudal "breathing" shift weighted by
organ (liver, spleen and lungs move fully, kidneys and heart by half, the body
wall, spine and vessels not at all), which no rigid transform can follow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["DEMO_POSES", "IDENTITY_POSE", "PatientPose", "breathing_weight"]

Triple = tuple[float, float, float]

_BREATHING_ORGANS = {"liver": 1.0, "lung": 1.0, "spleen": 1.0}


def breathing_weight(organ: str) -> float:
    """How much a lesion in ``organ`` follows the breathing shift (0..1)."""
    return _BREATHING_ORGANS.get(organ.strip().lower(), 0.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientPose:
    """Rotation about the superior axis, a shift, and a breathing shift.

    Parameters
    ----------
    rotation_deg
        Roll of the patient about the LPS z axis through ``rotation_center_lps_mm``.
    shift_lps_mm
        Table shift after the rotation.
    breathing_mm
        Craniocaudal (z) shift of the organs that move with breathing, times
        their weight.
    rotation_center_lps_mm
        The point the roll turns about.
    """

    rotation_deg: float = 0.0
    shift_lps_mm: Triple = (0.0, 0.0, 0.0)
    breathing_mm: float = 0.0
    rotation_center_lps_mm: Triple = (0.0, 0.0, -20.0)

    def __post_init__(self) -> None:
        values = (
            self.rotation_deg,
            self.breathing_mm,
            *self.shift_lps_mm,
            *self.rotation_center_lps_mm,
        )
        if not all(math.isfinite(v) for v in values):
            raise ValueError("pose: every value must be finite")

    @property
    def rotation(self) -> npt.NDArray[np.float64]:
        """The 3x3 rotation matrix (LPS)."""
        angle = math.radians(self.rotation_deg)
        c, s = math.cos(angle), math.sin(angle)
        return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])

    def apply(self, point_lps_mm: npt.ArrayLike, weight: float = 0.0) -> Triple:
        """Where a baseline point lies in this pose (``weight``: breathing share)."""
        point = np.asarray(point_lps_mm, dtype=np.float64)
        center = np.asarray(self.rotation_center_lps_mm)
        moved = self.rotation @ (point - center) + center
        moved = moved + np.asarray(self.shift_lps_mm)
        moved[2] += weight * self.breathing_mm
        return (float(moved[0]), float(moved[1]), float(moved[2]))

    def rotate(self, direction: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """A direction (unit vector) in this pose."""
        return np.asarray(self.rotation @ np.asarray(direction, dtype=np.float64))

    def as_dict(self) -> dict[str, object]:
        """JSON-ready values (the ground truth records the pose of each visit)."""
        return {
            "rotation_deg": self.rotation_deg,
            "shift_lps_mm": list(self.shift_lps_mm),
            "breathing_mm": self.breathing_mm,
            "rotation_center_lps_mm": list(self.rotation_center_lps_mm),
        }


IDENTITY_POSE = PatientPose()
"""The baseline's pose: the phantom as defined."""

DEMO_POSES: tuple[PatientPose, ...] = (
    IDENTITY_POSE,
    PatientPose(rotation_deg=4.0, shift_lps_mm=(22.0, -15.0, 10.0), breathing_mm=-8.0),
    PatientPose(rotation_deg=-3.0, shift_lps_mm=(-25.0, 12.0, -12.0), breathing_mm=9.0),
    PatientPose(rotation_deg=2.5, shift_lps_mm=(15.0, 20.0, 8.0), breathing_mm=-10.0),
)
"""The demo patient's pose at each visit: a few cm of shift, a few degrees of roll,
up to 1 cm of breathing; table-position linking is visibly wrong."""
