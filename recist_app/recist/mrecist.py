"""mRECIST for hepatocellular carcinoma (Lencioni & Llovet 2010; docs/rules.md J1–J5).

The same lesions as RECIST 1.1, measured once more on the arterial phase: the target
diameter is the viable (arterially enhancing) long axis (J1). Everything else follows
RECIST 1.1 through :class:`~recist_app.recist.response.Recist11Rules`, with the
HCC-specific steps overridden here.

New lesions (J4, J5), in this order: an effusion or ascites is progression only
when cytology proves it neoplastic; a node at the porta hepatis (or a synonym,
:data:`PORTA_HEPATIS_TERMS`) only from 20 mm short axis; a new *liver* lesion by the
typical vascular pattern at ≥ 10 mm, or, when it was equivocal, by ≥ 10 mm growth
since it was first seen, which makes it unequivocal from that visit on with PD
dated back to the first sighting (E2). Lencioni & Llovet state the pattern and the
growth rule for liver lesions ("newly detected hepatic nodules", "liver lesions
larger than 1 cm"); new lesions in other organs follow RECIST 1.1 (E1–E3).
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
from recist_app.recist.response import (
    NewLesionConfirmation,
    Recist11Rules,
    mm_to_um,
)

if TYPE_CHECKING:
    from recist_app.recist.model import (
        Lesion,
        Measurement,
        NewLesionObservation,
        NonTargetAssessment,
        Reading,
        ResponseParameters,
    )

__all__ = [
    "PORTA_HEPATIS_TERMS",
    "MRecistRules",
    "is_liver_lesion",
    "is_porta_hepatis_node",
]

NEW_LESION_MIN_MM = 10.0  # J5
NEW_LESION_GROWTH_UM = 10_000  # J5: ≥ 1 cm interval growth confirms, exactly
PORTA_HEPATIS_NODE_MIN_SHORT_AXIS_MM = 20.0  # J4
VIABLE_TARGET_MIN_MM = 10.0  # J2
PORTA_HEPATIS_TERMS = (
    "porta hepatis",
    "hepatic hilum",
    "hepatic hilar",
    "liver hilum",
    "hilum of the liver",
    "hilum of liver",
    "hepatoduodenal ligament",
)
"""Locations read as the porta hepatis (J4), lower case; they cover the synonyms
``resources/vocabulary.json`` lists for it (a test checks)."""
LIVER_ORGANS = frozenset({"liver"})
"""Organs whose new lesions J5 (vascular pattern, 10 mm growth) applies to."""
_FLUID_WORDS = ("effusion", "ascites")
_MEASURED = MeasurementState.MEASURED


def _is_fluid_collection(lesion: Lesion) -> bool:
    text = f"{lesion.organ} {lesion.location}".lower()
    return any(word in text for word in _FLUID_WORDS)


def is_porta_hepatis_node(lesion: Lesion) -> bool:
    """Whether ``lesion`` is a lymph node at the porta hepatis or a synonym (J4).

    >>> from recist_app.recist import Lesion
    >>> is_porta_hepatis_node(Lesion(lesion_id="N01", role="new",
    ...     organ="lymph node", location="Hepatic hilum", is_lymph_node=True))
    True
    """
    if lesion.organ_group != "lymph node":
        return False
    text = f"{lesion.organ} {lesion.location}".lower()
    return any(term in text for term in PORTA_HEPATIS_TERMS)


def is_liver_lesion(lesion: Lesion) -> bool:
    """Whether ``lesion`` is in the liver, where J5's new-lesion rules apply."""
    return not lesion.is_lymph_node and lesion.organ.strip().lower() in LIVER_ORGANS


def _fmt_mm(value_mm: float | None) -> str:
    return "not measured" if value_mm is None else f"{value_mm:.1f} mm"


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
            assessment.state.is_progression
            and _is_fluid_collection(lesion)
            and not assessment.cytology_confirmed
        ):
            return (
                f"{lesion.lesion_id} ({lesion.organ}) increased but is not "
                "cytologically proven neoplastic: not PD (J4)"
            )
        return None

    def new_lesion_is_unequivocal(
        self, lesion: Lesion, observation: NewLesionObservation
    ) -> bool:
        """Whether a new lesion is progression when seen (J4, J5, E1, E3).

        An effusion or ascites only when cytology-proven (J4); a porta hepatis
        node only from 20 mm short axis, and then by the reader's call (J4); a
        liver lesion with its vascular pattern recorded: typical and ≥ 10 mm (J5);
        otherwise the reader's call, or an area not imaged at baseline (E3).
        """
        if _is_fluid_collection(lesion):
            return observation.cytology_confirmed
        if is_porta_hepatis_node(lesion):
            short_mm = observation.short_axis_mm
            if short_mm is None or short_mm < PORTA_HEPATIS_NODE_MIN_SHORT_AXIS_MM:
                return False
            return super().new_lesion_is_unequivocal(lesion, observation)
        if observation.not_imaged_at_baseline:
            return True
        pattern = observation.typical_vascular_pattern
        if pattern is None or not is_liver_lesion(lesion):
            return super().new_lesion_is_unequivocal(lesion, observation)
        size_mm = observation.long_axis_mm
        return pattern and (size_mm is None or size_mm >= NEW_LESION_MIN_MM)

    def new_lesion_note(
        self, lesion: Lesion, observation: NewLesionObservation
    ) -> str | None:
        """Say which mRECIST rule keeps a new lesion from counting (J4, J5)."""
        lesion_id = lesion.lesion_id
        if _is_fluid_collection(lesion):
            return (
                f"new {lesion_id} ({lesion.organ} {lesion.location}".rstrip()
                + ") is not cytologically proven neoplastic: not PD (J4)"
            )
        if is_porta_hepatis_node(lesion):
            short_mm = observation.short_axis_mm
            if short_mm is None or short_mm < PORTA_HEPATIS_NODE_MIN_SHORT_AXIS_MM:
                return (
                    f"porta hepatis node {lesion_id} short axis {_fmt_mm(short_mm)}: "
                    "malignant only from 20 mm (J4)"
                )
            return None
        pattern = observation.typical_vascular_pattern
        if not is_liver_lesion(lesion) or pattern is None:
            return None
        if not pattern:
            return (
                f"{lesion_id} lacks the typical HCC vascular pattern: equivocal "
                "until it shows it or grows ≥ 10 mm (J5)"
            )
        return (
            f"{lesion_id} is {_fmt_mm(observation.long_axis_mm)} (< 10 mm): "
            "equivocal until ≥ 10 mm with the typical pattern (J5)"
        )

    def new_lesion_confirmations(
        self, reading: Reading
    ) -> dict[str, NewLesionConfirmation]:
        """RECIST's confirmations, plus liver lesions confirmed by growth (J5).

        A new liver lesion that was not unequivocal when first measured is HCC
        from the first visit where its long axis is ≥ 10 mm (exactly, in
        micrometres) above that first measurement: unequivocal from then on, with
        PD dated back to its first sighting (E2).
        """
        found = super().new_lesion_confirmations(reading)
        lesions = {lesion.lesion_id: lesion for lesion in reading.lesions}
        first: dict[str, tuple[str, float]] = {}
        for index, timepoint in enumerate(reading.follow_ups):
            for observation in timepoint.new_lesions:
                lesion_id = observation.lesion_id
                size_mm = observation.long_axis_mm
                if size_mm is None or not is_liver_lesion(lesions[lesion_id]):
                    continue
                if lesion_id not in first:
                    first[lesion_id] = (timepoint.visit, size_mm)
                    continue
                confirmed = found.get(lesion_id)
                if confirmed is not None and confirmed.follow_up <= index:
                    continue
                first_visit, first_mm = first[lesion_id]
                if mm_to_um(size_mm) - mm_to_um(first_mm) >= NEW_LESION_GROWTH_UM:
                    found[lesion_id] = NewLesionConfirmation(
                        index,
                        timepoint.visit,
                        f" (grew {first_mm:.1f} → {size_mm:.1f} mm since "
                        f"{first_visit}, ≥ 10 mm, J5)",
                    )
        return found

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
                    is_porta_hepatis_node(lesion)
                    and short_mm < PORTA_HEPATIS_NODE_MIN_SHORT_AXIS_MM
                ):
                    warnings.append(
                        ConformanceWarning(
                            rule="J4",
                            lesion_id=lesion.lesion_id,
                            message=(
                                f"porta hepatis node {lesion.lesion_id} "
                                f"({lesion.location or lesion.organ}) short axis "
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
