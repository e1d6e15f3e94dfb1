"""Pure RECIST response rules: frozen domain objects and the ``assess`` derivation.

Standard library only, no I/O, no clock (docs/architecture.md, house rules). Rule
numbers in comments and messages refer to docs/rules.md.
"""

from recist_app.recist.assessment import (
    Assessment,
    BaselineAssessment,
    BestOverallResponse,
    ConformanceWarning,
    TimepointAssessment,
)
from recist_app.recist.best_response import ResponseEvent, best_overall_responses
from recist_app.recist.conformance import check_baseline, measurable_minimum_mm
from recist_app.recist.drawing import (
    DrawnAxes,
    DrawnResult,
    LesionTemplate,
    lesion_geometry_near,
    record_drawn_axes,
    record_viable_axis,
)
from recist_app.recist.editing import (
    add_lesion,
    add_timepoint,
    next_lesion_id,
    record_measurement,
    record_new_lesion,
    record_non_target,
    remove_lesion,
    remove_timepoint,
    replace_lesion,
)
from recist_app.recist.enums import (
    Criteria,
    LesionRole,
    MeasurementMethod,
    MeasurementState,
    Modality,
    NewLesionFinding,
    NewLesionState,
    NonTargetState,
    Response,
)
from recist_app.recist.errors import (
    ReadingError,
    UnknownLesionError,
    UnknownVisitError,
    UnsupportedCriteriaError,
)
from recist_app.recist.model import (
    AxisGeometry,
    Lesion,
    Measurement,
    MeasurementGeometry,
    NewLesionObservation,
    NonTargetAssessment,
    Reading,
    ResponseParameters,
    TimePoint,
)
from recist_app.recist.response import (
    ENGINE_VERSION,
    CriteriaRules,
    Recist11Rules,
    TargetFinding,
    assess,
    register_criteria,
    rules_for,
)

__all__ = [
    "ENGINE_VERSION",
    "Assessment",
    "AxisGeometry",
    "BaselineAssessment",
    "BestOverallResponse",
    "ConformanceWarning",
    "Criteria",
    "CriteriaRules",
    "DrawnAxes",
    "DrawnResult",
    "Lesion",
    "LesionRole",
    "LesionTemplate",
    "Measurement",
    "MeasurementGeometry",
    "MeasurementMethod",
    "MeasurementState",
    "Modality",
    "NewLesionFinding",
    "NewLesionObservation",
    "NewLesionState",
    "NonTargetAssessment",
    "NonTargetState",
    "Reading",
    "ReadingError",
    "Recist11Rules",
    "Response",
    "ResponseEvent",
    "ResponseParameters",
    "TargetFinding",
    "TimePoint",
    "TimepointAssessment",
    "UnknownLesionError",
    "UnknownVisitError",
    "UnsupportedCriteriaError",
    "add_lesion",
    "add_timepoint",
    "assess",
    "best_overall_responses",
    "check_baseline",
    "lesion_geometry_near",
    "measurable_minimum_mm",
    "next_lesion_id",
    "record_drawn_axes",
    "record_measurement",
    "record_new_lesion",
    "record_non_target",
    "record_viable_axis",
    "register_criteria",
    "remove_lesion",
    "remove_timepoint",
    "replace_lesion",
    "rules_for",
]
