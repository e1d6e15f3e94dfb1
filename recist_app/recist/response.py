"""Per-timepoint responses and the single derivation :func:`assess`.

Criteria sets plug in: :class:`Recist11Rules` implements RECIST 1.1 as a set of
overridable steps (lesion diameter, target, non-target, new lesions, overall, best
response), and :func:`register_criteria` maps a :class:`Criteria` to a rules object.
iRECIST and mRECIST subclass the steps they change.

Arithmetic is exact: diameters become integer micrometres, so "−30.0 %" and "+20 %"
thresholds are decided without floating-point error (C2, C3).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

from recist_app.recist.assessment import (
    NO_DIAMETERS,
    Assessment,
    BaselineAssessment,
    CountedDiameters,
    TimepointAssessment,
    new_timepoint_assessment,
)
from recist_app.recist.best_response import (
    ResponseEvent,
    best_overall_responses,
    best_response_category,
)
from recist_app.recist.conformance import check_baseline
from recist_app.recist.enums import (
    CountedBasis,
    Criteria,
    LesionRole,
    MeasurementState,
    NewLesionFinding,
    NonTargetState,
    Response,
)
from recist_app.recist.errors import UnsupportedCriteriaError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from recist_app.recist.assessment import ConformanceWarning
    from recist_app.recist.model import (
        Lesion,
        Measurement,
        NewLesionObservation,
        NonTargetAssessment,
        Reading,
        ResponseParameters,
        TimePoint,
    )

__all__ = [
    "ENGINE_VERSION",
    "NOT_READ_REASON",
    "CriteriaRules",
    "NewLesionConfirmation",
    "Recist11Rules",
    "TargetFinding",
    "assess",
    "mm_to_um",
    "register_criteria",
    "rules_for",
]

# Enum members bound once: class attribute access on enums is slow in hot loops.
_CR = Response.CR
_PR = Response.PR
_SD = Response.SD
_PD = Response.PD
_NE = Response.NE
_NON_CR_NON_PD = Response.NON_CR_NON_PD
_NED = Response.NED

ENGINE_VERSION = "recist_app-rules/4"  # 3: iRECIST/mRECIST by the papers; 4: not read

NOT_READ_REASON = (
    "not read: no measurement, non-target state or new-lesion entry recorded "
    "→ no response, never 'no disease' (A8)"
)
"""The reason of a follow-up that was not read (:attr:`TimePoint.is_read`)."""

NODE_NORMAL_SHORT_AXIS_UM = 10_000  # C1: nodes < 10 mm short axis count as normal

_MEASURED = MeasurementState.MEASURED
_TOO_SMALL = MeasurementState.TOO_SMALL
_DISAPPEARED = MeasurementState.DISAPPEARED
_MERGED = MeasurementState.MERGED
_SPLIT = MeasurementState.SPLIT
_BY_LONG_AXIS = CountedBasis.LONG_AXIS
_BY_SHORT_AXIS = CountedBasis.SHORT_AXIS
_AXIS_NOT_MEASURED = CountedBasis.AXIS_NOT_MEASURED
_MISSING = CountedBasis.MISSING
_COUNTED_BASIS = {  # B2, B3, B4: the states that are not a measured diameter
    MeasurementState.TOO_SMALL: CountedBasis.TOO_SMALL,
    MeasurementState.DISAPPEARED: CountedBasis.DISAPPEARED,
    MeasurementState.SPLIT: CountedBasis.SPLIT,
    MeasurementState.MERGED: CountedBasis.MERGED,
    MeasurementState.NOT_EVALUABLE: CountedBasis.NOT_EVALUABLE,
    MeasurementState.NOT_DONE: CountedBasis.NOT_DONE,
}
_BASIS_CODE = {basis: basis.value for basis in CountedBasis}
_LONG_AXIS_CODE = CountedBasis.LONG_AXIS.value
_SHORT_AXIS_CODE = CountedBasis.SHORT_AXIS.value
_new_tuple = tuple.__new__  # a named tuple without NamedTuple.__new__'s call
_NT_PROGRESSION = (  # D3; after an iRECIST iUPD, unchanged or further increased (H2)
    NonTargetState.UNEQUIVOCAL_PROGRESSION,
    NonTargetState.FURTHER_INCREASE,
)
_NT_NOT_EVALUABLE = NonTargetState.NOT_EVALUABLE
_NT_PRESENT = (NonTargetState.PRESENT, *_NT_PROGRESSION)
_NO_NEW_LESION = NewLesionFinding.NONE
_NEW_LESION_TEXT = {
    NewLesionFinding.NONE: "no new lesion",
    NewLesionFinding.EQUIVOCAL: "equivocal new lesion",
    NewLesionFinding.UNEQUIVOCAL: "unequivocal new lesion",
}


def mm_to_um(value_mm: float) -> int:
    """Millimetres as integer micrometres, the unit of exact threshold arithmetic."""
    return round(value_mm * 1000)


def _mm(value_um: int) -> float:
    return round(value_um / 1000, 1)


def _fmt_mm(value_um: int) -> str:
    return f"{value_um / 1000:.1f} mm"


def _fmt_signed(value: float, unit: str) -> str:
    text = f"{value:+.1f}{unit}"
    return text.replace("-", "−")


def _fmt_change(delta_um: int, reference_um: int) -> str:
    if reference_um == 0:
        return _fmt_signed(delta_um / 1000, " mm")
    return _fmt_signed(100 * delta_um / reference_um, " %")


class CriteriaRules(Protocol):
    """What a criteria set provides: the whole derivation of one reading."""

    criteria: Criteria

    def assess(self, reading: Reading) -> Assessment:
        """Derive every response of ``reading``."""
        ...


class TargetFinding(NamedTuple):
    """Target-lesion result of one timepoint, before the overall response.

    ``diameters`` is what each target counted, in lesion order (A6, B2–B4). A
    named tuple, not a frozen dataclass: one is made per follow-up.
    """

    sum_um: int
    complete: bool
    response: Response | None
    reasons: tuple[str, ...]
    diameters: CountedDiameters


class NewLesionConfirmation(NamedTuple):
    """Where a new lesion is first unequivocal, and why (E1–E3, J4, J5).

    ``follow_up`` is the index in :attr:`Reading.follow_ups` of the visit from
    which the lesion counts as an unequivocal new lesion, ``visit`` its label;
    ``note`` is what the reasons add after the lesion id (``" (area not imaged at
    baseline, E3)"``), empty when the reader's call alone decided.
    """

    follow_up: int
    visit: str
    note: str


@dataclass(slots=True)
class _TargetCourse:
    """Running state across follow-ups: baseline sum and nadir (C6).

    ``no_disease`` is the reader's "no disease at baseline" (A8): only then is a
    follow-up without target and non-target lesions NED.
    """

    baseline_um: int | None
    nadir_um: int | None
    no_disease: bool = False


class Recist11Rules:
    """RECIST 1.1 (Eisenhauer 2009, Schwartz 2016) as overridable steps."""

    criteria: Criteria = Criteria.RECIST_1_1

    # ----------------------------------------------------------------- lesions
    def counted_diameter_um(
        self,
        lesion: Lesion,
        measurement: Measurement | None,
        params: ResponseParameters,
    ) -> tuple[int | None, CountedBasis]:
        """The diameter a target contributes to the sum, and why.

        Nodes count the short axis (A2, A6); too small counts ``too_small_mm``
        (B2); disappeared and merged-away count 0 (B2, B3); split parts are summed
        (B3); not evaluable / not done / missing, or measured without the axis
        counted, are not assessed: ``None`` (B4).
        """
        if measurement is None:
            return None, _MISSING
        state = measurement.state
        if state is _MEASURED:
            if lesion.is_lymph_node:
                value, basis = measurement.short_axis_mm, _BY_SHORT_AXIS
            else:
                value, basis = measurement.long_axis_mm, _BY_LONG_AXIS
            if value is None:
                return None, _AXIS_NOT_MEASURED
            # mm_to_um inlined: this runs once per target per visit
            return round(value * 1000), basis
        basis = _COUNTED_BASIS[state]
        if state is _TOO_SMALL:
            return mm_to_um(params.too_small_mm), basis
        if state is _DISAPPEARED or state is _MERGED:
            return 0, basis
        if state is _SPLIT:
            return sum(mm_to_um(part) for part in measurement.parts_mm), basis
        return None, basis

    def target_sum(
        self,
        timepoint: TimePoint,
        targets: tuple[Lesion, ...],
        params: ResponseParameters,
    ) -> tuple[int, CountedDiameters, list[str]]:
        """Sum of the assessed targets, what each target counted, who was not (A6).

        Returns ``(sum in micrometres, each target's counted diameter in the order
        of ``targets``, the ids of the targets not assessed (B4))``. The diameters
        are reported as the rules used them, so nothing downstream (exports,
        panels) counts them again.
        """
        if not targets:
            return 0, NO_DIAMETERS, []
        # Measurements usually come in target order: look them up by position and
        # build the id index only when they do not (this runs once per visit).
        measurements = timepoint.measurements
        count = len(measurements)
        by_id: dict[str, Measurement] | None = None
        counted = self.counted_diameter_um
        code = _BASIS_CODE
        ids: list[str] = []
        values: list[int | None] = []
        codes: list[str] = []
        missing: list[str] = []
        total = 0
        # counted_diameter_um's measured case inlined when it is RECIST 1.1's own
        # (issue 23: a call per target per visit); the same values and bases
        inline = type(self).counted_diameter_um is Recist11Rules.counted_diameter_um
        for index, lesion in enumerate(targets):
            lesion_id = lesion.lesion_id
            measurement = measurements[index] if index < count else None
            if measurement is None or measurement.lesion_id != lesion_id:
                if by_id is None:
                    by_id = {m.lesion_id: m for m in measurements}
                measurement = by_id.get(lesion_id)
            ids.append(lesion_id)
            if inline and measurement is not None and measurement.state is _MEASURED:
                if lesion.is_lymph_node:
                    value_mm, basis_code = measurement.short_axis_mm, _SHORT_AXIS_CODE
                else:
                    value_mm, basis_code = measurement.long_axis_mm, _LONG_AXIS_CODE
                if value_mm is not None:
                    value_um = round(value_mm * 1000)
                    values.append(value_um)
                    codes.append(basis_code)
                    total += value_um
                    continue
                value, basis = None, _AXIS_NOT_MEASURED
            else:
                value, basis = counted(lesion, measurement, params)
            values.append(value)
            codes.append(code[basis])
            if value is None:
                missing.append(lesion_id)
            else:
                total += value
        return total, CountedDiameters(tuple(ids), tuple(values), tuple(codes)), missing

    # ----------------------------------------------------------------- target
    def is_progression(
        self, sum_um: int, nadir_um: int, params: ResponseParameters
    ) -> bool:
        """≥ 20 % above the nadir and, unless disabled, ≥ 5 mm absolute (C3)."""
        increase_um = sum_um - nadir_um
        if increase_um * 100 < 20 * nadir_um or increase_um <= 0:
            return False
        minimum_mm = self.pd_min_increase_mm(params)
        if minimum_mm is None:
            return True
        return increase_um >= mm_to_um(minimum_mm)

    def pd_min_increase_mm(self, params: ResponseParameters) -> float | None:
        """Absolute increase over the nadir that PD also needs (C3)."""
        return params.pd_min_increase_mm

    def is_complete_response(
        self,
        targets: tuple[Lesion, ...],
        diameters: CountedDiameters,
    ) -> bool:
        """Non-nodal targets all 0 mm and every nodal target < 10 mm (C1).

        ``diameters`` are the targets' counted diameters, in the order of
        ``targets``.
        """
        for lesion, value in zip(targets, diameters.diameters_um, strict=True):
            if value is None:
                return False
            if lesion.is_lymph_node:
                if value >= NODE_NORMAL_SHORT_AXIS_UM:
                    return False
            elif value != 0:
                return False
        return True

    def classify_target(
        self,
        timepoint: TimePoint,
        targets: tuple[Lesion, ...],
        course: _TargetCourse,
        params: ResponseParameters,
    ) -> TargetFinding:
        """Target response of one follow-up (C1–C6, B4)."""
        sum_um, diameters, missing = self.target_sum(timepoint, targets, params)
        baseline_um, nadir_um = course.baseline_um, course.nadir_um
        if not targets:
            return TargetFinding(sum_um, True, None, (), diameters)
        if baseline_um is None or nadir_um is None:
            return TargetFinding(
                sum_um,
                not missing,
                _NE,
                ("baseline sum incomplete: target response NE (A6)",),
                diameters,
            )
        if missing:
            return self._classify_incomplete(
                sum_um, missing, nadir_um, params, diameters
            )
        if self.is_complete_response(targets, diameters):
            why = "all non-nodal targets disappeared"
            if any(lesion.is_lymph_node for lesion in targets):
                why += " and every nodal target < 10 mm short axis"
            return TargetFinding(sum_um, True, _CR, (f"{why} → CR (C1)",), diameters)
        increase_um = sum_um - nadir_um
        if self.is_progression(sum_um, nadir_um, params):
            return TargetFinding(
                sum_um,
                True,
                _PD,
                (
                    f"sum {_fmt_mm(sum_um)} is {_fmt_change(increase_um, nadir_um)}"
                    f" ({_fmt_signed(increase_um / 1000, ' mm')}) from nadir "
                    f"{_fmt_mm(nadir_um)} → PD (C3)",
                ),
                diameters,
            )
        reasons: list[str] = []
        minimum_mm = self.pd_min_increase_mm(params) or 0.0
        if increase_um > 0 and increase_um * 100 >= 20 * nadir_um:
            reasons.append(
                f"sum {_fmt_mm(sum_um)} is {_fmt_change(increase_um, nadir_um)} but "
                f"only {_fmt_signed(increase_um / 1000, ' mm')} from nadir "
                f"{_fmt_mm(nadir_um)} (< {minimum_mm:.0f} mm): "
                "not PD (C3)"
            )
        change = sum_um - baseline_um
        response = _PR if change * 100 <= -30 * baseline_um else _SD
        rule = "C2" if response is _PR else "C4"
        reasons.append(
            f"sum {_fmt_mm(sum_um)} is {_fmt_change(change, baseline_um)} from "
            f"baseline {_fmt_mm(baseline_um)} → {response} ({rule})"
        )
        return TargetFinding(sum_um, True, response, tuple(reasons), diameters)

    def _classify_incomplete(
        self,
        sum_um: int,
        missing: list[str],
        nadir_um: int,
        params: ResponseParameters,
        diameters: CountedDiameters,
    ) -> TargetFinding:
        names = ", ".join(missing)
        if self.is_progression(sum_um, nadir_um, params):
            return TargetFinding(
                sum_um,
                False,
                _PD,
                (
                    f"{names} not assessed, but the assessed sum {_fmt_mm(sum_um)} is "
                    f"already {_fmt_change(sum_um - nadir_um, nadir_um)} from nadir "
                    f"{_fmt_mm(nadir_um)} → PD (B4, C3)",
                ),
                diameters,
            )
        return TargetFinding(
            sum_um,
            False,
            _NE,
            (f"{names} not assessed → target response NE (B4)",),
            diameters,
        )

    # ----------------------------------------------------------------- others
    def classify_non_target(
        self, timepoint: TimePoint, non_targets: tuple[Lesion, ...]
    ) -> tuple[Response | None, str | None]:
        """Non-target response of one follow-up (D1–D4)."""
        if not non_targets:
            return None, None
        assessments = {a.lesion_id: a for a in timepoint.non_target}
        progressed: list[str] = []
        unassessed: list[str] = []
        present: list[str] = []
        notes: list[str] = []
        for lesion in non_targets:  # one pass; the lists keep the lesion order
            lesion_id = lesion.lesion_id
            assessment = assessments.get(lesion_id)
            if assessment is None:
                unassessed.append(lesion_id)
                continue
            if self.non_target_progressed(lesion, assessment):
                progressed.append(lesion_id)
            note = self.non_target_note(lesion, assessment)
            if note:
                notes.append(note)
            state = assessment.state
            if state is _NT_NOT_EVALUABLE:
                unassessed.append(lesion_id)
            elif state in _NT_PRESENT:
                present.append(lesion_id)
        if progressed:
            return (
                _PD,
                f"unequivocal progression of {', '.join(progressed)} → PD (D3)",
            )
        if unassessed:
            response = _NE
            reason = f"non-target {', '.join(unassessed)} not assessed → NE (D4)"
        elif not present:
            response, reason = _CR, "all non-target lesions absent → CR (D1)"
        else:
            response = _NON_CR_NON_PD
            reason = f"non-target {', '.join(present)} present → NON-CR/NON-PD (D2)"
        if notes:
            return response, "; ".join([*notes, reason])
        return response, reason

    def non_target_progressed(
        self, lesion: Lesion, assessment: NonTargetAssessment
    ) -> bool:
        """Whether this non-target shows unequivocal progression (D3).

        ``further_increase`` (iRECIST H2) is unequivocal progression that grew
        further, so it is progression under every criteria set.
        """
        return assessment.state in _NT_PROGRESSION

    def non_target_note(
        self, lesion: Lesion, assessment: NonTargetAssessment
    ) -> str | None:
        """A criteria-specific remark on a non-target finding, or None."""
        return None

    def classify_new_lesions(
        self,
        timepoint: TimePoint,
        follow_up: int,
        confirmations: Mapping[str, NewLesionConfirmation],
        lesions: Mapping[str, Lesion],
    ) -> tuple[NewLesionFinding, str | None]:
        """New-lesion finding of follow-up number ``follow_up`` (E1–E3).

        A new lesion is unequivocal from the visit where it is confirmed on
        (``confirmations``, from :meth:`new_lesion_confirmations`), so a lesion
        confirmed by growth stays unequivocal at later visits (mRECIST J5).
        """
        if not timepoint.new_lesions:  # the usual visit: nothing to look at
            return _NO_NEW_LESION, None
        unequivocal: list[str] = []
        notes: list[str] = []
        for observation in timepoint.new_lesions:
            lesion_id = observation.lesion_id
            confirmation = confirmations.get(lesion_id)
            if confirmation is not None and confirmation.follow_up <= follow_up:
                unequivocal.append(lesion_id + confirmation.note)
                continue
            note = self.new_lesion_note(lesions[lesion_id], observation)
            if note:
                notes.append(note)
        if unequivocal:
            finding = NewLesionFinding.UNEQUIVOCAL
            reason = f"unequivocal new lesion {', '.join(unequivocal)} → PD (E1)"
        else:
            ids = ", ".join(o.lesion_id for o in timepoint.new_lesions)
            finding = NewLesionFinding.EQUIVOCAL
            reason = f"equivocal new lesion {ids}: not PD unless confirmed later (E2)"
        return finding, "; ".join([*notes, reason])

    def new_lesion_is_unequivocal(
        self, lesion: Lesion, observation: NewLesionObservation
    ) -> bool:
        """Whether a new lesion counts as progression when seen (E1, E3)."""
        return observation.is_unequivocal

    def new_lesion_note(
        self, lesion: Lesion, observation: NewLesionObservation
    ) -> str | None:
        """A criteria-specific remark on a new lesion not (yet) unequivocal."""
        return None

    def new_lesion_confirmations(
        self, reading: Reading
    ) -> dict[str, NewLesionConfirmation]:
        """The visit from which each new lesion is unequivocal (E1–E3).

        A lesion is confirmed at the first visit where
        :meth:`new_lesion_is_unequivocal` holds for it and counts as unequivocal
        from then on; an equivocal sighting before that is dated back to (E2).
        Lesions never confirmed are left out.
        """
        lesions = {lesion.lesion_id: lesion for lesion in reading.lesions}
        found: dict[str, NewLesionConfirmation] = {}
        for index, timepoint in enumerate(reading.follow_ups):
            for observation in timepoint.new_lesions:
                lesion_id = observation.lesion_id
                if lesion_id in found or not self.new_lesion_is_unequivocal(
                    lesions[lesion_id], observation
                ):
                    continue
                note = (
                    " (area not imaged at baseline, E3)"
                    if observation.not_imaged_at_baseline
                    else ""
                )
                found[lesion_id] = NewLesionConfirmation(index, timepoint.visit, note)
        return found

    def baseline_warnings(self, reading: Reading) -> tuple[ConformanceWarning, ...]:
        """Baseline conformance warnings (A1–A8)."""
        return check_baseline(reading)

    def combine_overall(
        self,
        target: Response | None,
        non_target: Response | None,
        new_lesions: NewLesionFinding,
    ) -> tuple[Response, str]:
        """Overall response from the three findings (Tables 1 and 2)."""
        new_text = _NEW_LESION_TEXT[new_lesions]
        if target is None:
            table = "Table 2"
            overall = self._non_target_only_overall(non_target, new_lesions)
            inputs = (
                f"non-target {non_target}, {new_text}"
                if non_target is not None
                else f"no disease at baseline, {new_text}"
            )
        else:
            table = "Table 1"
            overall = self._table_1_overall(target, non_target, new_lesions)
            inputs = f"target {target}, non-target {non_target or 'none'}, {new_text}"
        return overall, f"{inputs} → {overall} ({table})"

    @staticmethod
    def _table_1_overall(
        target: Response, non_target: Response | None, new: NewLesionFinding
    ) -> Response:
        if target is _PD or non_target is _PD or new is NewLesionFinding.UNEQUIVOCAL:
            return _PD
        if target is _CR:
            if non_target in (None, _CR):
                return _CR
            return _PR  # CR + non-CR/non-PD or not evaluated
        if target is _PR:
            return _PR
        if target is _SD:
            return _SD
        return _NE

    @staticmethod
    def _non_target_only_overall(
        non_target: Response | None, new: NewLesionFinding
    ) -> Response:
        if non_target is _PD or new is NewLesionFinding.UNEQUIVOCAL:
            return _PD
        if non_target is None:
            return _NED
        return non_target

    # ----------------------------------------------------------------- whole
    def assess(self, reading: Reading) -> Assessment:
        """Derive every response of ``reading`` (the single derivation)."""
        params = reading.params
        targets = reading.lesions_with_role(LesionRole.TARGET)
        non_targets = reading.lesions_with_role(LesionRole.NON_TARGET)
        baseline = reading.baseline
        baseline_sum_um: int | None = None
        baseline_diameters = NO_DIAMETERS
        if baseline is not None and targets:
            sum_um, baseline_diameters, missing = self.target_sum(
                baseline, targets, params
            )
            if not missing:
                baseline_sum_um = sum_um
        baseline_read = baseline is not None and baseline.is_read
        # A8: NED only by the reader's explicit "no disease at baseline", never
        # by default of an empty (not read) baseline
        no_disease = baseline_read and not targets and not non_targets
        baseline_result = BaselineAssessment(
            visit=baseline.visit if baseline else None,
            date=baseline.date if baseline else None,
            read=baseline_read,
            sum_of_diameters_mm=(
                None if baseline_sum_um is None else _mm(baseline_sum_um)
            ),
            target_count=len(targets),
            non_target_count=len(non_targets),
            overall_response=_NED if no_disease else None,
            warnings=self.baseline_warnings(reading),
            target_diameters=baseline_diameters,
        )
        course = _TargetCourse(
            baseline_um=baseline_sum_um, nadir_um=baseline_sum_um, no_disease=no_disease
        )
        follow_ups = reading.follow_ups
        confirmations: dict[str, NewLesionConfirmation] = {}
        backdated: dict[str, tuple[str, str]] = {}
        new_lesions: dict[str, Lesion] = {}
        if any(timepoint.new_lesions for timepoint in follow_ups):
            confirmations = self.new_lesion_confirmations(reading)
            backdated = _backdated_progression(follow_ups, confirmations)
            new_lesions = {
                lesion.lesion_id: lesion
                for lesion in reading.lesions_with_role(LesionRole.NEW)
            }
        reference_date = reading.first_dose_date or (
            baseline.date if baseline else datetime.date.min
        )
        events: list[ResponseEvent] = []
        results: list[TimepointAssessment] = []
        so_far: Response | None = None
        new = _NewLesionContext(confirmations, backdated, new_lesions)
        for index, timepoint in enumerate(follow_ups):
            if not (
                timepoint.measurements
                or timepoint.non_target
                or timepoint.new_lesions
                or timepoint.no_disease
            ):  # not read (TimePoint.is_read, inlined): no response, no event
                if so_far is None:
                    so_far = best_response_category(
                        events,
                        reference_date=reference_date,
                        params=params,
                        no_disease=no_disease,
                        confirmation=params.require_confirmation,
                    )
                results.append(self._not_read(timepoint, targets, params, so_far))
                continue
            on_treatment = timepoint.date >= reference_date
            pending = self._assess_timepoint(
                timepoint,
                index,
                targets,
                non_targets,
                course,
                params,
                new,
                on_treatment=on_treatment,
            )
            progressed = bool(events) and events[-1].response is _PD
            if on_treatment and not progressed:  # G1: from treatment start to PD
                overall = pending.overall
                # G3: the categories let the footnote tell disease from not read
                events.append(
                    _new_tuple(
                        ResponseEvent,
                        (
                            timepoint.visit,
                            timepoint.date,
                            overall,
                            pending.target.response,
                            pending.non_target,
                        ),
                    )
                )
                # G2-G6: a later NE, or a later response equal to the best so far,
                # confirms nothing new and qualifies nothing new: the best so far
                # stays (tested against the full derivation on random readings).
                if overall is not _NE and overall is not so_far:
                    so_far = None
            if so_far is None:
                so_far = best_response_category(
                    events,
                    reference_date=reference_date,
                    params=params,
                    no_disease=no_disease,
                    confirmation=params.require_confirmation,
                )
            results.append(pending.result(so_far))
        confirmed, unconfirmed = best_overall_responses(
            events,
            reference_date=reference_date,
            params=params,
            no_disease=no_disease,
        )
        return Assessment(
            patient_id=reading.patient_id,
            criteria=reading.criteria,
            engine_version=ENGINE_VERSION,
            baseline=baseline_result,
            timepoints=tuple(results),
            best_overall_response=(
                confirmed if params.require_confirmation else unconfirmed
            ),
            best_overall_response_confirmed=confirmed,
            best_overall_response_unconfirmed=unconfirmed,
        )

    def _not_read(
        self,
        timepoint: TimePoint,
        targets: tuple[Lesion, ...],
        params: ResponseParameters,
        best_so_far: Response,
    ) -> TimepointAssessment:
        """A follow-up not read: no response, never "no disease" (A8, B4)."""
        _, diameters, _ = self.target_sum(timepoint, targets, params)
        return TimepointAssessment(
            visit=timepoint.visit,
            date=timepoint.date,
            sum_of_diameters_mm=None,
            all_targets_assessed=not targets,  # every target missing (B4)
            change_from_baseline_mm=None,
            change_from_baseline_pct=None,
            nadir_mm=None,
            change_from_nadir_mm=None,
            change_from_nadir_pct=None,
            target_response=None,
            non_target_response=None,
            new_lesions=None,
            overall_response=None,
            best_overall_response_so_far=best_so_far,
            reasons=(NOT_READ_REASON,),
            target_diameters=diameters,
            new_lesion_sum_mm=None,
            new_lesion_diameters=NO_DIAMETERS,
        )

    def _assess_timepoint(
        self,
        timepoint: TimePoint,
        follow_up: int,
        targets: tuple[Lesion, ...],
        non_targets: tuple[Lesion, ...],
        course: _TargetCourse,
        params: ResponseParameters,
        new: _NewLesionContext,
        *,
        on_treatment: bool,
    ) -> _PendingTimepoint:
        nadir_before_um = course.nadir_um
        target = self.classify_target(timepoint, targets, course, params)
        non_target, non_target_reason = self.classify_non_target(timepoint, non_targets)
        new_lesions, new_reason = self.classify_new_lesions(
            timepoint, follow_up, new.confirmations, new.lesions
        )
        backdated = new.backdated
        overall, overall_reason = self.combine_overall(
            target.response, non_target, new_lesions
        )
        reasons = list(target.reasons)
        if non_target_reason is not None:
            reasons.append(non_target_reason)
        if new_reason is not None:
            reasons.append(new_reason)
        if overall is _NED and not course.no_disease:
            # A8: NED needs the reader's "no disease at baseline"; without it the
            # baseline was not read and nothing can be compared
            overall = _NE
            overall_reason = (
                "no target or non-target lesion and the baseline not read as "
                "'no disease' → NE (A8)"
            )
        if timepoint.visit in backdated and overall is not _PD:
            lesion_id, confirmed_at = backdated[timepoint.visit]
            overall = _PD
            overall_reason = (
                f"equivocal new lesion {lesion_id} confirmed at {confirmed_at}: "
                "PD dated from its first observation here → PD (E2)"
            )
        reasons.append(overall_reason)
        if on_treatment and targets and target.complete and course.nadir_um is not None:
            # C6, G1: the smallest sum since treatment start is the reference for PD
            course.nadir_um = min(course.nadir_um, target.sum_um)
        # positional, in field order: the fastest way to make the named tuple
        return _new_tuple(
            _PendingTimepoint,
            (
                timepoint,
                target,
                bool(targets),
                course.baseline_um,
                nadir_before_um,
                non_target,
                new_lesions,
                overall,
                tuple(reasons),
            ),
        )


class _NewLesionContext(NamedTuple):
    """What the follow-ups need to know about the reading's new lesions."""

    confirmations: Mapping[str, NewLesionConfirmation]
    backdated: Mapping[str, tuple[str, str]]
    lesions: Mapping[str, Lesion]


def _backdated_progression(
    follow_ups: tuple[TimePoint, ...],
    confirmations: Mapping[str, NewLesionConfirmation],
) -> dict[str, tuple[str, str]]:
    """Visits where a new lesion confirmed later was first seen (E2).

    Returns ``{visit of the first sighting: (lesion id, visit confirmed)}``: PD is
    dated back to the first sighting of a lesion that was equivocal there and
    confirmed at a later visit (the first such lesion per visit).
    """
    backdated: dict[str, tuple[str, str]] = {}
    seen: set[str] = set()
    for index, timepoint in enumerate(follow_ups):
        for observation in timepoint.new_lesions:
            lesion_id = observation.lesion_id
            if lesion_id in seen:
                continue
            seen.add(lesion_id)
            confirmation = confirmations.get(lesion_id)
            if confirmation is not None and confirmation.follow_up > index:
                backdated.setdefault(timepoint.visit, (lesion_id, confirmation.visit))
    return backdated


class _PendingTimepoint(NamedTuple):
    """A follow-up's findings, waiting for the best response so far.

    A named tuple, not a frozen dataclass: one is built per follow-up and a
    tuple is several times cheaper to make.
    """

    timepoint: TimePoint
    target: TargetFinding
    has_targets: bool
    baseline_um: int | None
    nadir_um: int | None
    non_target: Response | None
    new_lesions: NewLesionFinding
    overall: Response
    reasons: tuple[str, ...]

    def result(self, best_so_far: Response) -> TimepointAssessment:
        # _mm and _pct inlined (round to 0.1): this runs once per follow-up; the
        # fields are unpacked once (tuple attribute access is not free).
        (
            timepoint,
            target,
            has_targets,
            baseline_um,
            nadir_um,
            non_target,
            new_lesions,
            overall,
            reasons,
        ) = self
        sum_um, complete, target_response, _, diameters = target
        sum_mm = from_baseline_mm = from_baseline_pct = None
        from_nadir_mm = from_nadir_pct = None
        if has_targets and complete:
            sum_mm = round(sum_um / 1000, 1)
            if baseline_um is not None:
                delta_um = sum_um - baseline_um
                from_baseline_mm = round(delta_um / 1000, 1)
                if baseline_um:
                    from_baseline_pct = round(100 * delta_um / baseline_um, 1)
            if nadir_um is not None:
                delta_um = sum_um - nadir_um
                from_nadir_mm = round(delta_um / 1000, 1)
                if nadir_um:
                    from_nadir_pct = round(100 * delta_um / nadir_um, 1)
        # positional, in field order (issue 23: one per follow-up)
        return new_timepoint_assessment(
            timepoint.visit,
            timepoint.date,
            sum_mm,
            complete,
            from_baseline_mm,
            from_baseline_pct,
            None if nadir_um is None or not has_targets else round(nadir_um / 1000, 1),
            from_nadir_mm,
            from_nadir_pct,
            target_response,
            non_target,
            new_lesions,
            overall,
            best_so_far,
            reasons,
            diameters,
            None,
            NO_DIAMETERS,
        )


_REGISTRY: dict[Criteria, CriteriaRules] = {Criteria.RECIST_1_1: Recist11Rules()}


def _register_builtin_criteria() -> None:
    # Imported here: those modules subclass Recist11Rules from this one.
    from recist_app.recist.irecist import IRecistRules
    from recist_app.recist.mrecist import MRecistRules

    register_criteria(IRecistRules())
    register_criteria(MRecistRules())


def register_criteria(rules: CriteriaRules) -> None:
    """Make ``rules`` the derivation for ``rules.criteria``."""
    _REGISTRY[rules.criteria] = rules


def rules_for(criteria: Criteria) -> CriteriaRules:
    """The rules registered for ``criteria``.

    Raises
    ------
    UnsupportedCriteriaError
        When no rules are registered for ``criteria``.
    """
    try:
        return _REGISTRY[criteria]
    except KeyError:
        supported = ", ".join(c.value for c in _REGISTRY)
        raise UnsupportedCriteriaError(
            f"reading: criteria {criteria.value!r} is not supported yet "
            f"(supported: {supported})"
        ) from None


def assess(reading: Reading) -> Assessment:
    """Derive every response of ``reading`` under its criteria set.

    Cheap, total and deterministic: the same reading always gives the same
    assessment, and nothing is read from outside the reading.

    >>> import datetime
    >>> from recist_app.recist import Lesion, Measurement, Reading, TimePoint
    >>> reading = Reading(
    ...     patient_id="P1",
    ...     lesions=(Lesion(lesion_id="T01", role="target", organ="liver"),),
    ...     timepoints=(
    ...         TimePoint(visit="BASELINE", date=datetime.date(2024, 1, 1),
    ...                   is_baseline=True,
    ...                   measurements=(Measurement(lesion_id="T01",
    ...                                             long_axis_mm=50.0),)),
    ...         TimePoint(visit="WEEK 6", date=datetime.date(2024, 2, 12),
    ...                   measurements=(Measurement(lesion_id="T01",
    ...                                             long_axis_mm=35.0),)),
    ...     ),
    ... )
    >>> assess(reading).timepoints[0].target_response.value
    'PR'
    """
    return rules_for(reading.criteria).assess(reading)


_register_builtin_criteria()
