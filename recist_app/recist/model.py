"""Frozen domain model of a reading: lesions, timepoints and measurements.

Every object validates itself in ``__post_init__`` and raises
:class:`~recist_app.recist.errors.ReadingError` naming the field, the visit and the
lesion, so an invalid reading can never exist (highdicom's principle). Collections are
tuples, so snapshots are hashable and comparable (undo, caching, equality in tests).

Structural rules live here (unique ids, known lesion ids, dates in order, one baseline);
clinical conformance (docs/rules.md section A) is reported as warnings by
:mod:`recist_app.recist.conformance`, because a reading is legitimately incomplete
while the radiologist is still marking it.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass, field

from recist_app.recist.enums import (
    Criteria,
    LesionRole,
    MeasurementMethod,
    MeasurementState,
    Modality,
    NewLesionState,
    NonTargetState,
)
from recist_app.recist.errors import (
    ReadingError,
    UnknownLesionError,
    UnknownVisitError,
)

__all__ = [
    "AxisGeometry",
    "Lesion",
    "Measurement",
    "MeasurementGeometry",
    "NewLesionObservation",
    "NonTargetAssessment",
    "Reading",
    "ResponseParameters",
    "TimePoint",
]

Point3 = tuple[float, float, float]

_UID_PATTERN = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
_INF = math.inf
_DATE = datetime.date
_MEASURED = MeasurementState.MEASURED
_TARGET = LesionRole.TARGET
_NON_TARGET = LesionRole.NON_TARGET
_NEW = LesionRole.NEW

# Issue 23: every object of a reading is built, and checked, each time a file or
# the database is read. The usual object (a measured target with plain float
# diameters, a non-target with a state, a lesion with its organ) is decided
# inline in ``__post_init__`` by a test that implies every check of its
# ``_validate``; anything else, valid or not, goes through ``_validate``, which
# makes every decision and gives every message (tests/recist/test_model_fast_path.py
# checks that the inline test never accepts what ``_validate`` refuses).


def _check_length_mm(value: float | None, name: str, where: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReadingError(f"{where}: {name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ReadingError(f"{where}: {name} must be finite and >= 0, got {value!r}")


def _check_text(value: str, name: str, where: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ReadingError(f"{where}: {name} must be a non-empty string")


def _check_uid(value: str | None, name: str, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, str) or len(value) > 64 or not _UID_PATTERN.match(value):
        raise ReadingError(f"{where}: {name} {value!r} is not a valid DICOM UID")


def _distinct_lesions(
    items: tuple[Measurement, ...]
    | tuple[NonTargetAssessment, ...]
    | tuple[NewLesionObservation, ...],
) -> bool:
    """Whether no lesion appears twice among ``items``."""
    return len(items) < 2 or len({item.lesion_id for item in items}) == len(items)


@dataclass(frozen=True, slots=True, kw_only=True)
class AxisGeometry:
    """The two end points of one measured axis, in patient LPS millimetres."""

    start_lps_mm: Point3
    end_lps_mm: Point3

    def __post_init__(self) -> None:
        for name in ("start_lps_mm", "end_lps_mm"):
            point = getattr(self, name)
            if (
                not isinstance(point, tuple)
                or len(point) != 3
                or not all(
                    isinstance(c, int | float) and math.isfinite(c) for c in point
                )
            ):
                raise ReadingError(f"axis geometry: {name} must be 3 finite numbers")

    @property
    def length_mm(self) -> float:
        """Euclidean length of the axis in millimetres."""
        return math.dist(self.start_lps_mm, self.end_lps_mm)


@dataclass(frozen=True, slots=True, kw_only=True)
class MeasurementGeometry:
    """Where a measurement was drawn: the image and the axes' end points.

    It follows OHIF's tool-independent measurement record: plain LPS millimetres plus
    the UIDs an export needs. The rules ignore it; exports and the viewer use it.
    """

    series_instance_uid: str
    sop_instance_uid: str
    long_axis: AxisGeometry | None = None
    short_axis: AxisGeometry | None = None
    method: MeasurementMethod = MeasurementMethod.MANUAL

    def __post_init__(self) -> None:
        _check_uid(self.series_instance_uid, "series_instance_uid", "geometry")
        _check_uid(self.sop_instance_uid, "sop_instance_uid", "geometry")
        object.__setattr__(self, "method", MeasurementMethod(self.method))


@dataclass(frozen=True, slots=True, kw_only=True)
class Measurement:
    """One target lesion at one timepoint (docs/rules.md B1–B4).

    Parameters
    ----------
    lesion_id
        Stable id of the target lesion (``T01``).
    state
        ``measured``; ``too_small`` counts the default 5 mm (B2); ``disappeared``
        counts 0 mm (B2); ``not_evaluable`` / ``not_done`` leave the lesion
        unassessed (B4); ``split`` sums ``parts_mm`` (B3); ``merged`` counts 0 mm for
        the lesion absorbed into ``merged_into`` (B3).
    long_axis_mm, short_axis_mm
        Diameters. Non-nodal lesions count the long axis, lymph nodes the short
        axis (A2, A6).
    viable_long_axis_mm
        mRECIST: long axis of the arterially enhancing part (J1).
    geometry
        Where the long and short axes were drawn.
    viable_geometry
        Where the viable long axis was drawn (its ``long_axis``), possibly on
        another series (the arterial phase) than ``geometry``.
    """

    lesion_id: str
    state: MeasurementState = MeasurementState.MEASURED
    long_axis_mm: float | None = None
    short_axis_mm: float | None = None
    viable_long_axis_mm: float | None = None
    parts_mm: tuple[float, ...] = ()
    merged_into: str | None = None
    geometry: MeasurementGeometry | None = None
    viable_geometry: MeasurementGeometry | None = None

    def __post_init__(self) -> None:
        lesion_id = self.lesion_id
        long_mm = self.long_axis_mm
        short_mm = self.short_axis_mm
        viable_mm = self.viable_long_axis_mm
        if not (
            self.state is _MEASURED
            and lesion_id.__class__ is str
            and lesion_id.strip()
            and (
                long_mm is None
                or (long_mm.__class__ is float and 0.0 <= long_mm < _INF)
            )
            and (
                short_mm is None
                or (short_mm.__class__ is float and 0.0 <= short_mm < _INF)
            )
            and (
                viable_mm is None
                or (viable_mm.__class__ is float and 0.0 <= viable_mm < _INF)
            )
            and (long_mm is None or short_mm is None or short_mm <= long_mm)
            and (long_mm is not None or short_mm is not None or viable_mm is not None)
            and self.parts_mm.__class__ is tuple
            and not self.parts_mm
            and self.merged_into is None
            and (self.viable_geometry is None or viable_mm is not None)
        ):
            self._validate()

    def _validate(self) -> None:
        _check_text(self.lesion_id, "lesion_id", "measurement")
        where = f"measurement of lesion {self.lesion_id}"
        state = self.state
        if state.__class__ is not MeasurementState:
            try:
                state = MeasurementState(state)
            except ValueError:
                raise ReadingError(f"{where}: unknown state {state!r}") from None
            object.__setattr__(self, "state", state)
        for name, value in (
            ("long_axis_mm", self.long_axis_mm),
            ("short_axis_mm", self.short_axis_mm),
            ("viable_long_axis_mm", self.viable_long_axis_mm),
        ):
            # the usual value checked inline (NaN and inf fail), the rest with
            # its message (issue 23: this runs for every measurement read)
            if value is not None and not (
                value.__class__ is float and 0.0 <= value < math.inf
            ):
                _check_length_mm(value, name, where)
        if (
            self.long_axis_mm is not None
            and self.short_axis_mm is not None
            and self.short_axis_mm > self.long_axis_mm
        ):
            raise ReadingError(
                f"{where}: short_axis_mm {self.short_axis_mm} is longer than "
                f"long_axis_mm {self.long_axis_mm}"
            )
        if state is MeasurementState.MEASURED and (
            self.long_axis_mm is None
            and self.short_axis_mm is None
            and self.viable_long_axis_mm is None
        ):
            raise ReadingError(f"{where}: state 'measured' needs a diameter")
        if state is MeasurementState.DISAPPEARED and any(
            getattr(self, n) for n in ("long_axis_mm", "short_axis_mm")
        ):
            raise ReadingError(f"{where}: a disappeared lesion measures 0 mm (B2)")
        if self.viable_geometry is not None and self.viable_long_axis_mm is None:
            raise ReadingError(
                f"{where}: viable_geometry needs viable_long_axis_mm (J1)"
            )
        self._check_split_and_merge(state, where)

    def _check_split_and_merge(self, state: MeasurementState, where: str) -> None:
        if not isinstance(self.parts_mm, tuple):
            raise ReadingError(f"{where}: parts_mm must be a tuple")
        if state is MeasurementState.SPLIT:
            if len(self.parts_mm) < 2:
                raise ReadingError(f"{where}: a split lesion needs >= 2 parts_mm (B3)")
            for index, part in enumerate(self.parts_mm):
                _check_length_mm(part, f"parts_mm[{index}]", where)
        elif self.parts_mm:
            raise ReadingError(f"{where}: parts_mm is only for state 'split'")
        if state is MeasurementState.MERGED:
            _check_text(self.merged_into or "", "merged_into", where)
            if self.merged_into == self.lesion_id:
                raise ReadingError(f"{where}: a lesion cannot merge into itself")
        elif self.merged_into is not None:
            raise ReadingError(f"{where}: merged_into is only for state 'merged'")

    @property
    def is_assessed(self) -> bool:
        """Whether this measurement contributes a diameter (B4)."""
        return self.state not in (
            MeasurementState.NOT_EVALUABLE,
            MeasurementState.NOT_DONE,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class NonTargetAssessment:
    """State of one non-target lesion at one timepoint (D1–D4).

    ``cytology_confirmed`` marks an effusion or ascites proven neoplastic; only then
    does its progression count under mRECIST (J4). ``geometry`` is where the reader
    marked the lesion on the images (a line drawn with the non-target role): it is
    not measured (D1), the mark only lets the viewer jump back to it.
    """

    lesion_id: str
    state: NonTargetState = NonTargetState.PRESENT
    cytology_confirmed: bool = False
    geometry: MeasurementGeometry | None = None

    def __post_init__(self) -> None:
        lesion_id = self.lesion_id
        if not (
            self.state.__class__ is NonTargetState
            and lesion_id.__class__ is str
            and lesion_id.strip()
            and self.cytology_confirmed.__class__ is bool
        ):
            self._validate()

    def _validate(self) -> None:
        _check_text(self.lesion_id, "lesion_id", "non-target assessment")
        if not isinstance(self.cytology_confirmed, bool):
            raise ReadingError(
                f"non-target assessment of lesion {self.lesion_id}: "
                "cytology_confirmed must be true or false"
            )
        try:
            object.__setattr__(self, "state", NonTargetState(self.state))
        except ValueError:
            raise ReadingError(
                f"non-target assessment of lesion {self.lesion_id}: "
                f"unknown state {self.state!r}"
            ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewLesionObservation:
    """A new lesion seen at one follow-up (E1–E3).

    ``not_imaged_at_baseline`` marks a lesion in an area not scanned at baseline; it
    counts as unequivocal (E3). Diameters are optional (iRECIST measures new lesions,
    H4). ``typical_vascular_pattern`` (arterial hyperenhancement with washout) decides
    a new liver lesion under mRECIST (J5); ``None`` means not assessed.
    ``cytology_confirmed`` marks a new effusion or ascites proven neoplastic; only
    then is it progression under mRECIST (J4).
    """

    lesion_id: str
    state: NewLesionState = NewLesionState.UNEQUIVOCAL
    not_imaged_at_baseline: bool = False
    long_axis_mm: float | None = None
    short_axis_mm: float | None = None
    typical_vascular_pattern: bool | None = None
    cytology_confirmed: bool = False
    geometry: MeasurementGeometry | None = None

    def __post_init__(self) -> None:
        _check_text(self.lesion_id, "lesion_id", "new lesion")
        where = f"new lesion {self.lesion_id}"
        try:
            object.__setattr__(self, "state", NewLesionState(self.state))
        except ValueError:
            raise ReadingError(f"{where}: unknown state {self.state!r}") from None
        _check_length_mm(self.long_axis_mm, "long_axis_mm", where)
        _check_length_mm(self.short_axis_mm, "short_axis_mm", where)
        if self.typical_vascular_pattern not in (None, True, False):
            raise ReadingError(f"{where}: typical_vascular_pattern must be a boolean")
        if not isinstance(self.cytology_confirmed, bool):
            raise ReadingError(f"{where}: cytology_confirmed must be true or false")

    @property
    def is_unequivocal(self) -> bool:
        """Unequivocal, or in an area not imaged at baseline (E1, E3)."""
        return self.state is NewLesionState.UNEQUIVOCAL or self.not_imaged_at_baseline


@dataclass(frozen=True, slots=True, kw_only=True)
class Lesion:
    """A lesion followed across visits.

    ``lesion_id`` is the stable id (``T01``, ``NT01``, ``N01``) that is also the
    SDTM link id and the DICOM SR Tracking Identifier; ``tracking_uid`` is the DICOM
    Tracking UID, which never changes across visits.
    """

    lesion_id: str
    role: LesionRole
    organ: str
    location: str = ""
    is_lymph_node: bool = False
    tracking_uid: str | None = None
    is_cystic: bool = False
    previously_irradiated: bool = False

    def __post_init__(self) -> None:
        lesion_id = self.lesion_id
        organ = self.organ
        if not (
            self.role.__class__ is LesionRole
            and lesion_id.__class__ is str
            and lesion_id.strip()
            and organ.__class__ is str
            and organ.strip()
            and self.location.__class__ is str
            and self.is_lymph_node.__class__ is bool
            and self.is_cystic.__class__ is bool
            and self.previously_irradiated.__class__ is bool
            and self.tracking_uid is None
        ):
            self._validate()

    def _validate(self) -> None:
        _check_text(self.lesion_id, "lesion_id", "lesion")
        where = f"lesion {self.lesion_id}"
        try:
            object.__setattr__(self, "role", LesionRole(self.role))
        except ValueError:
            raise ReadingError(f"{where}: unknown role {self.role!r}") from None
        _check_text(self.organ, "organ", where)
        if not isinstance(self.location, str):
            raise ReadingError(f"{where}: location must be a string")
        for name in ("is_lymph_node", "is_cystic", "previously_irradiated"):
            if not isinstance(getattr(self, name), bool):
                raise ReadingError(f"{where}: {name} must be true or false")
        _check_uid(self.tracking_uid, "tracking_uid", where)

    @property
    def organ_group(self) -> str:
        """Organ for the 2-per-organ limit: all lymph nodes are one organ (A3)."""
        return "lymph node" if self.is_lymph_node else self.organ.strip().lower()


@dataclass(frozen=True, slots=True, kw_only=True)
class TimePoint:
    """One visit: its date, what was read, and the lesion findings.

    A visit with no measurement, no non-target state and no new-lesion entry is
    *not read* (:attr:`is_read`), never "no disease": the rules give it no
    response. ``no_disease`` is the reader's explicit statement that the visit was
    read and holds nothing to record: at the baseline, no measurable and no
    non-measurable disease (A8, NED); at a follow-up of such a patient, still
    none. It cannot go with findings, nor with a reading that has target or
    non-target lesions (:class:`Reading`).
    """

    visit: str
    date: datetime.date
    is_baseline: bool = False
    slice_thickness_mm: float | None = None
    modality: Modality = Modality.CT
    measurements: tuple[Measurement, ...] = ()
    non_target: tuple[NonTargetAssessment, ...] = ()
    new_lesions: tuple[NewLesionObservation, ...] = ()
    study_instance_uid: str | None = None
    series_instance_uid: str | None = None
    no_disease: bool = False

    def __post_init__(self) -> None:
        visit = self.visit
        thickness = self.slice_thickness_mm
        measurements = self.measurements
        non_target = self.non_target
        new_lesions = self.new_lesions
        no_disease = self.no_disease
        if not (
            visit.__class__ is str
            and visit.strip()
            and self.date.__class__ is _DATE
            and self.modality.__class__ is Modality
            and (
                thickness is None
                or (thickness.__class__ is float and 0.0 < thickness < _INF)
            )
            and self.study_instance_uid is None
            and self.series_instance_uid is None
            and measurements.__class__ is tuple
            and non_target.__class__ is tuple
            and new_lesions.__class__ is tuple
            and _distinct_lesions(measurements)
            and _distinct_lesions(non_target)
            and _distinct_lesions(new_lesions)
            and not (self.is_baseline and new_lesions)
            and no_disease.__class__ is bool
            and not (no_disease and (measurements or non_target or new_lesions))
        ):
            self._validate()

    def _validate(self) -> None:
        _check_text(self.visit, "visit", "timepoint")
        where = f"visit {self.visit}"
        if not isinstance(self.date, datetime.date) or isinstance(
            self.date, datetime.datetime
        ):
            raise ReadingError(f"{where}: date must be a calendar date")
        try:
            object.__setattr__(self, "modality", Modality(self.modality))
        except ValueError:
            raise ReadingError(f"{where}: unknown modality {self.modality!r}") from None
        _check_length_mm(self.slice_thickness_mm, "slice_thickness_mm", where)
        if self.slice_thickness_mm == 0:
            raise ReadingError(f"{where}: slice_thickness_mm must be > 0")
        _check_uid(self.study_instance_uid, "study_instance_uid", where)
        _check_uid(self.series_instance_uid, "series_instance_uid", where)
        for name in ("measurements", "non_target", "new_lesions"):
            items = getattr(self, name)
            if not isinstance(items, tuple):
                raise ReadingError(f"{where}: {name} must be a tuple")
            seen: set[str] = set()
            for item in items:
                if item.lesion_id in seen:
                    raise ReadingError(
                        f"{where}: lesion {item.lesion_id} appears twice in {name}"
                    )
                seen.add(item.lesion_id)
        if self.is_baseline and self.new_lesions:
            raise ReadingError(f"{where}: a baseline cannot have new lesions")
        if not isinstance(self.no_disease, bool):
            raise ReadingError(f"{where}: no_disease must be true or false")
        if self.no_disease and (
            self.measurements or self.non_target or self.new_lesions
        ):
            raise ReadingError(
                f"{where}: no_disease is recorded together with findings; it says "
                "the visit was read and holds nothing to record"
            )

    @property
    def is_read(self) -> bool:
        """Whether the visit was read: a finding recorded, or ``no_disease``.

        A visit with neither is not read: no response, never "no disease".
        """
        return bool(
            self.measurements or self.non_target or self.new_lesions or self.no_disease
        )

    def measurement(self, lesion_id: str) -> Measurement | None:
        """The measurement of ``lesion_id`` at this visit, if recorded."""
        return next((m for m in self.measurements if m.lesion_id == lesion_id), None)

    def non_target_state(self, lesion_id: str) -> NonTargetState | None:
        """The state of non-target ``lesion_id`` at this visit, if recorded."""
        return next(
            (a.state for a in self.non_target if a.lesion_id == lesion_id), None
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseParameters:
    """Protocol choices left open by the criteria (docs/rules.md preamble).

    Parameters
    ----------
    confirmation_min_days
        Minimum days between a CR/PR and its confirming assessment (G2, G3).
    sd_min_days
        SD must be met at least this many days after first dose (or baseline) (G4).
    require_confirmation
        Whether the best overall response needs confirmation (G2 vs G5).
    max_ne_between_confirmation
        NE assessments allowed between a response and its confirmation (G3).
    too_small_mm
        Diameter counted for a target too small to measure (B2).
    pd_min_increase_mm
        Absolute increase over the nadir that PD also needs (C3); ``None`` turns the
        rule off (mRECIST J3).
    baseline_window_days
        Baseline imaging at most this many days before first dose (A7).
    irecist_confirmation_min_days, irecist_confirmation_max_days
        Window after an iUPD in which the next assessment confirms it (H2).
    mrecist_pd_min_increase_mm
        mRECIST's absolute PD increase; off (``None``) by default (J3).
    """

    confirmation_min_days: int = 28
    sd_min_days: int = 42
    require_confirmation: bool = True
    max_ne_between_confirmation: int = 1
    too_small_mm: float = 5.0
    pd_min_increase_mm: float | None = 5.0
    baseline_window_days: int = 28
    irecist_confirmation_min_days: int = 28
    irecist_confirmation_max_days: int = 56
    mrecist_pd_min_increase_mm: float | None = None

    def __post_init__(self) -> None:
        for name in (
            "confirmation_min_days",
            "sd_min_days",
            "max_ne_between_confirmation",
            "baseline_window_days",
            "irecist_confirmation_min_days",
            "irecist_confirmation_max_days",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ReadingError(f"params: {name} must be an integer >= 0")
        if not isinstance(self.require_confirmation, bool):
            raise ReadingError("params: require_confirmation must be true or false")
        _check_length_mm(self.too_small_mm, "too_small_mm", "params")
        _check_length_mm(self.pd_min_increase_mm, "pd_min_increase_mm", "params")
        _check_length_mm(
            self.mrecist_pd_min_increase_mm, "mrecist_pd_min_increase_mm", "params"
        )
        if self.irecist_confirmation_max_days < self.irecist_confirmation_min_days:
            raise ReadingError(
                "params: irecist_confirmation_max_days is before "
                "irecist_confirmation_min_days"
            )


def _usual_references(timepoint: TimePoint, lesions: dict[str, Lesion]) -> bool:
    """Whether :meth:`Reading._check_references` would pass, decided inline.

    ``False`` leaves it to that method, which decides and gives the message.
    """
    for measurement in timepoint.measurements:
        lesion = lesions.get(measurement.lesion_id)
        if lesion is None or lesion.role is not _TARGET:
            return False
        if measurement.state is _MEASURED and (
            measurement.short_axis_mm is None
            if lesion.is_lymph_node
            else measurement.long_axis_mm is None
            and measurement.viable_long_axis_mm is None
        ):
            return False
        if measurement.merged_into is not None:
            return False
    for assessment in timepoint.non_target:
        lesion = lesions.get(assessment.lesion_id)
        if lesion is None or lesion.role is not _NON_TARGET:
            return False
    for observation in timepoint.new_lesions:
        lesion = lesions.get(observation.lesion_id)
        if lesion is None or lesion.role is not _NEW:
            return False
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """One reader's assessment of one patient under one criteria set.

    Invariants checked on construction: unique lesion ids; visits unique and in
    strictly increasing date order; at most one baseline and it comes first; every
    finding refers to a known lesion of the right role; a measured target has the
    diameter its kind counts (nodes: short axis, A2; others: long axis, A6); a
    merged lesion merges into another target.
    """

    patient_id: str
    criteria: Criteria = Criteria.RECIST_1_1
    first_dose_date: datetime.date | None = None
    params: ResponseParameters = field(default_factory=ResponseParameters)
    lesions: tuple[Lesion, ...] = ()
    timepoints: tuple[TimePoint, ...] = ()
    reader: str = ""

    def __post_init__(self) -> None:
        _check_text(self.patient_id, "patient_id", "reading")
        try:
            object.__setattr__(self, "criteria", Criteria(self.criteria))
        except ValueError:
            raise ReadingError(
                f"reading: unknown criteria {self.criteria!r} "
                f"(expected one of {', '.join(c.value for c in Criteria)})"
            ) from None
        if self.first_dose_date is not None and (
            not isinstance(self.first_dose_date, datetime.date)
            or isinstance(self.first_dose_date, datetime.datetime)
        ):
            raise ReadingError("reading: first_dose_date must be a calendar date")
        if not isinstance(self.lesions, tuple) or not isinstance(
            self.timepoints, tuple
        ):
            raise ReadingError("reading: lesions and timepoints must be tuples")
        lesions = self._check_lesions()
        self._check_timepoint_order()
        for timepoint in self.timepoints:
            if not _usual_references(timepoint, lesions):
                self._check_references(timepoint, lesions)
        self._check_no_disease()

    def _check_lesions(self) -> dict[str, Lesion]:
        lesions: dict[str, Lesion] = {}
        for lesion in self.lesions:
            if lesion.lesion_id in lesions:
                raise ReadingError(f"lesion {lesion.lesion_id}: duplicate lesion_id")
            lesions[lesion.lesion_id] = lesion
        return lesions

    def _check_no_disease(self) -> None:
        """``no_disease`` only where there is no baseline disease to follow (A8)."""
        flagged = [t.visit for t in self.timepoints if t.no_disease]
        if not flagged:
            return
        disease = [
            lesion.lesion_id
            for lesion in self.lesions
            if lesion.role is not LesionRole.NEW
        ]
        if disease:
            raise ReadingError(
                f"visit {flagged[0]}: no_disease, but the reading has target or "
                f"non-target lesion {', '.join(disease)}; record their states "
                "instead"
            )

    def _check_timepoint_order(self) -> None:
        visits: set[str] = set()
        previous: TimePoint | None = None
        for index, timepoint in enumerate(self.timepoints):
            if timepoint.visit in visits:
                raise ReadingError(f"visit {timepoint.visit}: duplicate visit label")
            visits.add(timepoint.visit)
            if timepoint.is_baseline and index != 0:
                raise ReadingError(
                    f"visit {timepoint.visit}: only the first visit can be the "
                    "baseline (more than one baseline, or baseline not first)"
                )
            if previous is not None and timepoint.date <= previous.date:
                raise ReadingError(
                    f"visit {timepoint.visit}: date {timepoint.date.isoformat()} is "
                    f"not after visit {previous.visit} ({previous.date.isoformat()}); "
                    "dates out of order"
                )
            previous = timepoint

    def _check_references(
        self, timepoint: TimePoint, lesions: dict[str, Lesion]
    ) -> None:
        where = f"visit {timepoint.visit}"
        for measurement in timepoint.measurements:
            lesion = self._lesion_of_role(
                lesions, measurement.lesion_id, LesionRole.TARGET, where, "measurement"
            )
            if measurement.state is MeasurementState.MEASURED:
                if lesion.is_lymph_node and measurement.short_axis_mm is None:
                    raise ReadingError(
                        f"{where}, lesion {lesion.lesion_id}: a measured lymph node "
                        "needs short_axis_mm (A2)"
                    )
                if (
                    not lesion.is_lymph_node
                    and measurement.long_axis_mm is None
                    and measurement.viable_long_axis_mm is None
                ):
                    raise ReadingError(
                        f"{where}, lesion {lesion.lesion_id}: a measured lesion "
                        "needs long_axis_mm (A6)"
                    )
            if measurement.merged_into is not None:
                self._lesion_of_role(
                    lesions,
                    measurement.merged_into,
                    LesionRole.TARGET,
                    where,
                    "merged_into",
                )
        for assessment in timepoint.non_target:
            self._lesion_of_role(
                lesions,
                assessment.lesion_id,
                LesionRole.NON_TARGET,
                where,
                "non_target",
            )
        for observation in timepoint.new_lesions:
            self._lesion_of_role(
                lesions, observation.lesion_id, LesionRole.NEW, where, "new_lesions"
            )

    @staticmethod
    def _lesion_of_role(
        lesions: dict[str, Lesion],
        lesion_id: str,
        role: LesionRole,
        where: str,
        field_name: str,
    ) -> Lesion:
        lesion = lesions.get(lesion_id)
        if lesion is None:
            raise ReadingError(
                f"{where}, lesion {lesion_id}: {field_name} names an unknown lesion id"
            )
        if lesion.role is not role:
            raise ReadingError(
                f"{where}, lesion {lesion_id}: {field_name} needs a {role.value} "
                f"lesion, but {lesion_id} is {lesion.role.value}"
            )
        return lesion

    @property
    def baseline(self) -> TimePoint | None:
        """The baseline timepoint, if the reading has one."""
        if self.timepoints and self.timepoints[0].is_baseline:
            return self.timepoints[0]
        return None

    @property
    def follow_ups(self) -> tuple[TimePoint, ...]:
        """Timepoints after the baseline, in date order."""
        return self.timepoints[1:] if self.baseline is not None else self.timepoints

    def lesions_with_role(self, role: LesionRole) -> tuple[Lesion, ...]:
        """Lesions of ``role`` in id order of entry."""
        return tuple([lesion for lesion in self.lesions if lesion.role is role])

    def lesion(self, lesion_id: str) -> Lesion:
        """The lesion with ``lesion_id``.

        Raises
        ------
        UnknownLesionError
            No lesion has this id (also a ``KeyError``).
        """
        for lesion in self.lesions:
            if lesion.lesion_id == lesion_id:
                return lesion
        raise UnknownLesionError(f"lesion {lesion_id}: no such lesion in the reading")

    def timepoint(self, visit: str) -> TimePoint:
        """The timepoint labelled ``visit``.

        Raises
        ------
        UnknownVisitError
            No timepoint has this label (also a ``KeyError``).
        """
        for timepoint in self.timepoints:
            if timepoint.visit == visit:
                return timepoint
        raise UnknownVisitError(f"visit {visit}: no such visit in the reading")
