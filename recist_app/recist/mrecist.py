"""mRECIST for hepatocellular carcinoma (Lencioni & Llovet 2010; docs/rules.md J1–J5).

The same lesions as RECIST 1.1, measured once more on the arterial phase: the target
diameter is the viable (arterially enhancing) long axis (J1). Everything else follows
RECIST 1.1 through :class:`~recist_app.recist.response.Recist11Rules`, with the
HCC-specific steps overridden here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recist_app.recist.assessment import ConformanceWarning
from recist_app.recist.enums import (
    CountedBasis,
    Criteria,
    LesionRole,
    MeasurementState,
)
from recist_app.recist.enums import NonTargetState as _NonTargetState
from recist_app.recist.response import Recist11Rules, mm_to_um

if TYPE_CHECKING:
    from recist_app.recist.model import (
        Lesion,
        Measurement,
        NewLesionObservation,
        NonTargetAssessment,
        Reading,
        ResponseParameters,
        TimePoint,
    )

__all__ = ["MRecistRules"]

NEW_LESION_MIN_MM = 10.0  # J5
PORTA_HEPATIS_NODE_MIN_SHORT_AXIS_MM = 20.0  # J4
VIABLE_TARGET_MIN_MM = 10.0  # J2
_FLUID_WORDS = ("effusion", "ascites")
_MEASURED = MeasurementState.MEASURED


def _is_fluid_collection(lesion: Lesion) -> bool:
    text = f"{lesion.organ} {lesion.location}".lower()
    return any(word in text for word in _FLUID_WORDS)


class MRecistRules(Recist11Rules):
    """mRECIST: viable-tumour diameters and HCC-specific lesion rules."""

    criteria: Criteria = Criteria.MRECIST

    def counted_diameter_um(
        self,
        lesion: Lesion,
        measurement: Measurement | None,
        params: ResponseParameters,
    ) -> tuple[int | None, CountedBasis]:
        """Viable long axis for non-nodal targets (J1); nodes per RECIST (J4).

        A non-nodal target measured without a viable diameter is not assessed under
        mRECIST (``axis_not_measured``): the reader must measure the enhancing part,
        or mark it disappeared when no enhancement is left (J3: CR with residual
        non-enhancing tissue).
        """
        if (
            measurement is not None
            and measurement.state is MeasurementState.MEASURED
            and not lesion.is_lymph_node
        ):
            viable_mm = measurement.viable_long_axis_mm
            if viable_mm is None:
                return None, CountedBasis.AXIS_NOT_MEASURED
            return mm_to_um(viable_mm), CountedBasis.VIABLE_LONG_AXIS
        return super().counted_diameter_um(lesion, measurement, params)

    def pd_min_increase_mm(self, params: ResponseParameters) -> float | None:
        """The 5 mm rule is not in the original paper: off unless set (J3)."""
        return params.mrecist_pd_min_increase_mm

    def non_target_progressed(
        self, lesion: Lesion, assessment: NonTargetAssessment
    ) -> bool:
        """Effusion or ascites progresses only if cytology proves it neoplastic."""
        if _is_fluid_collection(lesion) and not assessment.cytology_confirmed:
            return False
        return super().non_target_progressed(lesion, assessment)

    def non_target_note(
        self, lesion: Lesion, assessment: NonTargetAssessment
    ) -> str | None:
        """Say why a growing effusion or ascites is not progression (J4)."""
        if (
            assessment.state is _NonTargetState.UNEQUIVOCAL_PROGRESSION
            and _is_fluid_collection(lesion)
            and not assessment.cytology_confirmed
        ):
            return (
                f"{lesion.lesion_id} ({lesion.organ}) increased but is not "
                "cytologically proven neoplastic: not PD (J4)"
            )
        return None

    def new_lesion_is_unequivocal(self, observation: NewLesionObservation) -> bool:
        """A new HCC lesion: ≥ 10 mm with the typical vascular pattern (J5).

        Without a recorded vascular pattern the reader's own call stands.
        """
        if observation.not_imaged_at_baseline:
            return True
        pattern = observation.typical_vascular_pattern
        if pattern is None:
            return super().new_lesion_is_unequivocal(observation)
        size_mm = observation.long_axis_mm
        return pattern and (size_mm is None or size_mm >= NEW_LESION_MIN_MM)

    def backdated_progression(
        self, follow_ups: tuple[TimePoint, ...]
    ) -> dict[str, tuple[str, str]]:
        """An equivocal lesion is confirmed by the pattern or by ≥ 10 mm growth (J5)."""
        backdated = dict(super().backdated_progression(follow_ups))
        first_seen: dict[str, tuple[str, float]] = {}
        for timepoint in follow_ups:
            for observation in timepoint.new_lesions:
                size_mm = observation.long_axis_mm
                if self.new_lesion_is_unequivocal(observation) or size_mm is None:
                    continue
                lesion_id = observation.lesion_id
                if lesion_id not in first_seen:
                    first_seen[lesion_id] = (timepoint.visit, size_mm)
                    continue
                first_visit, first_mm = first_seen[lesion_id]
                if (
                    size_mm - first_mm >= NEW_LESION_MIN_MM
                    and first_visit not in backdated
                ):
                    backdated[first_visit] = (lesion_id, timepoint.visit)
        return backdated

    def baseline_warnings(self, reading: Reading) -> tuple[ConformanceWarning, ...]:
        """RECIST's A1–A8 plus mRECIST target eligibility (J2) and nodes (J4)."""
        warnings = list(super().baseline_warnings(reading))
        baseline = reading.baseline
        if baseline is None:
            return tuple(warnings)
        for lesion in reading.lesions_with_role(LesionRole.TARGET):
            measurement = baseline.measurement(lesion.lesion_id)
            if (
                measurement is None
                or measurement.state is not MeasurementState.MEASURED
            ):
                continue
            if lesion.is_lymph_node:
                short_mm = measurement.short_axis_mm or 0.0
                if (
                    "porta hepatis" in lesion.location.lower()
                    and short_mm < PORTA_HEPATIS_NODE_MIN_SHORT_AXIS_MM
                ):
                    warnings.append(
                        ConformanceWarning(
                            rule="J4",
                            lesion_id=lesion.lesion_id,
                            message=(
                                f"porta hepatis node {lesion.lesion_id} short axis "
                                f"{short_mm:.1f} mm is < 20 mm: not malignant by "
                                "mRECIST"
                            ),
                        )
                    )
                continue
            viable_mm = measurement.viable_long_axis_mm
            if viable_mm is None or viable_mm < VIABLE_TARGET_MIN_MM:
                shown = "none" if viable_mm is None else f"{viable_mm:.1f} mm"
                warnings.append(
                    ConformanceWarning(
                        rule="J2",
                        lesion_id=lesion.lesion_id,
                        message=(
                            f"{lesion.lesion_id} viable (arterially enhancing) long "
                            f"axis {shown}: an mRECIST target needs ≥ 10 mm of "
                            "intratumoural arterial enhancement"
                        ),
                    )
                )
        return tuple(warnings)
