"""Enumerations whose values are the codes used in files, exports and the UI.

Like highdicom's enums, the value *is* the standard string, so
``Response("PR") is Response.PARTIAL_RESPONSE`` and ``str(Response.PD) == "PD"``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CountedBasis",
    "Criteria",
    "LesionRole",
    "MeasurementMethod",
    "MeasurementState",
    "Modality",
    "NewLesionFinding",
    "NewLesionState",
    "NonTargetState",
    "ReaderRole",
    "Response",
]


class Criteria(StrEnum):
    """Response criteria set a reading is assessed under."""

    RECIST_1_1 = "RECIST 1.1"
    IRECIST = "iRECIST"
    MRECIST = "mRECIST"


class ReaderRole(StrEnum):
    """Who a reading is by in a central review (FDA 2018 imaging endpoint guidance).

    ``reader 1`` and ``reader 2`` read blinded to each other; the ``adjudicator``
    accepts one of their reads when they disagree; ``single`` is a site read.
    """

    SINGLE = "single"
    READER_1 = "reader 1"
    READER_2 = "reader 2"
    ADJUDICATOR = "adjudicator"

    @property
    def is_primary(self) -> bool:
        """Whether this is one of the two blinded primary readers."""
        return self in (ReaderRole.READER_1, ReaderRole.READER_2)


class LesionRole(StrEnum):
    """Role of a lesion in the reading (RECIST 1.1 §4.2, §4.3.5)."""

    TARGET = "target"
    NON_TARGET = "non-target"
    NEW = "new"


class MeasurementState(StrEnum):
    """State of one target lesion at one timepoint (docs/rules.md B1–B4)."""

    MEASURED = "measured"
    TOO_SMALL = "too_small"
    DISAPPEARED = "disappeared"
    NOT_EVALUABLE = "not_evaluable"
    NOT_DONE = "not_done"
    SPLIT = "split"
    MERGED = "merged"


class CountedBasis(StrEnum):
    """Why a lesion counts the diameter it does at one visit (A2, A6, B2–B4, J1, H4).

    The first three are measured diameters; ``too_small`` counts ``too_small_mm``
    (B2); ``disappeared`` and ``merged`` count 0 mm (B2, B3); ``split`` counts the
    sum of the parts (B3); the last four count nothing: the lesion is not assessed
    (B4).
    """

    LONG_AXIS = "long_axis"
    SHORT_AXIS = "short_axis"
    VIABLE_LONG_AXIS = "viable_long_axis"
    TOO_SMALL = "too_small"
    DISAPPEARED = "disappeared"
    SPLIT = "split"
    MERGED = "merged"
    NOT_EVALUABLE = "not_evaluable"
    NOT_DONE = "not_done"
    MISSING = "missing"
    AXIS_NOT_MEASURED = "axis_not_measured"


class MeasurementMethod(StrEnum):
    """How the diameters were obtained."""

    MANUAL = "manual"
    SEMI_AUTOMATIC = "semi-automatic"
    SEMI_AUTOMATIC_CORRECTED = "semi-automatic, corrected"


class Modality(StrEnum):
    """Imaging modality of a timepoint; it sets the measurability minimum (A1)."""

    CT = "CT"
    MR = "MR"
    CHEST_XRAY = "CR"


class NonTargetState(StrEnum):
    """State of one non-target lesion at one timepoint (docs/rules.md D1–D4, H2).

    ``unequivocal_progression`` is progression (D3), and after an iRECIST iUPD it
    means "still unequivocally progressed, unchanged since the iUPD";
    ``further_increase`` is unequivocal progression that has increased further
    since the iUPD, which confirms a non-target iUPD as iCPD (H2; the iRECIST
    FAQ's "further increase from last assessment"). Both are PD under RECIST 1.1.
    """

    PRESENT = "present"
    ABSENT = "absent"
    UNEQUIVOCAL_PROGRESSION = "unequivocal_progression"
    FURTHER_INCREASE = "further_increase"
    NOT_EVALUABLE = "not_evaluable"

    @property
    def is_progression(self) -> bool:
        """Whether the state is unequivocal progression (D3), further or not."""
        return self in _PROGRESSION_STATES


_PROGRESSION_STATES = frozenset(
    {NonTargetState.UNEQUIVOCAL_PROGRESSION, NonTargetState.FURTHER_INCREASE}
)


class NewLesionState(StrEnum):
    """How certain the reader is that a new lesion is malignant (rules E1–E2)."""

    EQUIVOCAL = "equivocal"
    UNEQUIVOCAL = "unequivocal"


class NewLesionFinding(StrEnum):
    """New-lesion finding of one timepoint."""

    NONE = "NONE"
    EQUIVOCAL = "EQUIVOCAL"
    UNEQUIVOCAL = "UNEQUIVOCAL"


class Response(StrEnum):
    """Response codes exactly as the files spell them (README, File formats)."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    PD = "PD"
    NE = "NE"
    NON_CR_NON_PD = "NON-CR/NON-PD"
    NED = "NED"
    # iRECIST (docs/rules.md H5)
    ICR = "iCR"
    IPR = "iPR"
    ISD = "iSD"
    IUPD = "iUPD"
    ICPD = "iCPD"
    NON_ICR_NON_IUPD = "NON-iCR/NON-iUPD"
