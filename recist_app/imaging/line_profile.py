"""What a drawn line crosses: the voxel values along it, how much of it is air.

A RECIST diameter runs across a lesion inside the body. A line that starts or
ends in the air around the patient, or crosses much air, is more likely a slip of
the mouse (or a line dragged out of the viewer) than a measurement: the viewer
warns about it. CT only (HU); other modalities have no fixed air value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

if TYPE_CHECKING:
    from recist_app.imaging.volume import ImageVolume

__all__ = ["AIR_HU", "LineProfile", "line_profile"]

AIR_HU = -500.0
"""Below this a CT voxel counts as air (lung parenchyma is about -850 HU)."""

_SAMPLES_PER_PX = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class LineProfile:
    """Where a line on one slice runs.

    Attributes
    ----------
    air_fraction
        Share of the line's length below :data:`AIR_HU` (0 without HU).
    ends_in_air
        Whether either end point lies in air (outside the body, or in lung).
    """

    air_fraction: float
    ends_in_air: bool


def line_profile(
    volume: ImageVolume,
    slice_index: int,
    start_ij: tuple[float, float],
    end_ij: tuple[float, float],
) -> LineProfile:
    """Sample slice ``slice_index`` of ``volume`` along a line (pixel centres i, j).

    Values are interpolated linearly; a CT volume's values are HU. For other
    modalities the profile says nothing (no air fraction, no end in air).
    """
    if (volume.modality or "").upper() != "CT":
        return LineProfile(air_fraction=0.0, ends_in_air=False)
    length_px = float(np.hypot(end_ij[0] - start_ij[0], end_ij[1] - start_ij[1]))
    count = max(2, int(length_px * _SAMPLES_PER_PX) + 1)
    columns = np.linspace(start_ij[0], end_ij[0], count)
    rows = np.linspace(start_ij[1], end_ij[1], count)
    image = volume.modality_values(slice_index)
    values = ndimage.map_coordinates(
        image, [rows, columns], order=1, mode="nearest", prefilter=False
    )
    air = values < AIR_HU
    return LineProfile(
        air_fraction=float(np.mean(air)), ends_in_air=bool(air[0] or air[-1])
    )
