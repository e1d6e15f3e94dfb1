"""CDISC SDTM TU, TR and RS datasets of a RECIST reading (docs/standards.md section 1).

TU holds one ``TUMIDENT`` row per lesion at the visit it was identified; TR one row
per lesion per visit (``LDIAM`` for non-nodal targets, ``LPERP`` for nodal targets,
``TUMSTATE`` for non-target and new lesions) and a ``SUMDIAM`` row per visit; RS the
target, non-target, new-lesion and overall responses per follow-up, one set of
records per criteria set (RSCAT ``RECIST 1.1``, ``iRECIST``, ``mRECIST``, see
:func:`response_assessments`). Link ids equal
the lesion ids (the DICOM SR Tracking Identifier), ``--LNKGRP`` is ``A`` plus the
visit number, and ``--DY`` counts from the first dose (no day 0).

Before anything is written :func:`check_sdtm` verifies the cross-domain rules of
docs/standards.md 1.3 and the RSCAT rules; a failure is an
:class:`~recist_app.exchange.errors.ExchangeError`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist_app.exchange.errors import ExchangeError
from recist_app.exchange.xpt import XptVariable, write_xpt
from recist_app.recist import (
    Criteria,
    LesionRole,
    MeasurementMethod,
    MeasurementState,
    Modality,
    NewLesionFinding,
    NewLesionState,
    NonTargetState,
    ReadingError,
    UnsupportedCriteriaError,
    assess,
)

if TYPE_CHECKING:
    import datetime
    from collections.abc import Sequence
    from pathlib import Path

    from recist_app.recist import Assessment, Lesion, Measurement, Reading, TimePoint

__all__ = [
    "DOMAINS",
    "SdtmDatasets",
    "SdtmVariable",
    "build_sdtm",
    "check_sdtm",
    "define_rows",
    "merge_sdtm",
    "response_assessments",
    "sdtm_csv_text",
    "study_day",
    "write_sdtm",
]

Value = str | int | float | None
Row = dict[str, Value]


@dataclass(frozen=True, slots=True, kw_only=True)
class SdtmVariable:
    """A variable of an SDTM domain: name, label, type, and whether always emitted.

    Variables marked ``?`` in docs/standards.md 1.1 (``always=False``) are emitted only
    when some row has a value.
    """

    name: str
    label: str
    numeric: bool = False
    always: bool = True
    origin: str = "Assigned"


def _v(
    name: str,
    label: str,
    *,
    numeric: bool = False,
    always: bool = True,
    origin: str = "Assigned",
) -> SdtmVariable:
    return SdtmVariable(
        name=name, label=label, numeric=numeric, always=always, origin=origin
    )


_IDS = (
    _v("STUDYID", "Study Identifier"),
    _v("DOMAIN", "Domain Abbreviation"),
    _v("USUBJID", "Unique Subject Identifier"),
)
_VISIT = (
    _v("VISITNUM", "Visit Number", numeric=True),
    _v("VISIT", "Visit Name"),
)

TU_VARIABLES = (
    *_IDS,
    _v("TUSEQ", "Sequence Number", numeric=True),
    _v("TUGRPID", "Group ID", always=False),
    _v("TUREFID", "Reference ID", always=False),
    _v("TULNKID", "Link ID"),
    _v("TUTESTCD", "Tumor/Lesion ID Short Name"),
    _v("TUTEST", "Tumor/Lesion ID Test Name"),
    _v("TUORRES", "Tumor/Lesion ID Result", origin="Collected"),
    _v("TUSTRESC", "Tumor/Lesion ID Result Std. Format", origin="Derived"),
    _v("TULOC", "Location of the Tumor/Lesion", origin="Collected"),
    _v("TULAT", "Laterality", always=False, origin="Collected"),
    _v("TUMETHOD", "Method of Identification", origin="Collected"),
    _v("TUEVAL", "Evaluator"),
    _v("TUEVALID", "Evaluator Identifier", always=False),
    _v("TUACPTFL", "Accepted Record Flag", always=False),
    *_VISIT,
    _v("TUDTC", "Date/Time of Tumor/Lesion Identification", origin="Collected"),
    _v(
        "TUDY",
        "Study Day of Tumor/Lesion Identification",
        numeric=True,
        origin="Derived",
    ),
)
TR_VARIABLES = (
    *_IDS,
    _v("TRSEQ", "Sequence Number", numeric=True),
    _v("TRGRPID", "Group ID"),
    _v("TRREFID", "Reference ID", always=False),
    _v("TRLNKGRP", "Link Group ID"),
    _v("TRLNKID", "Link ID"),
    _v("TRTESTCD", "Tumor/Lesion Assessment Short Name"),
    _v("TRTEST", "Tumor/Lesion Assessment Test Name"),
    _v("TRORRES", "Result or Finding in Original Units", origin="Collected"),
    _v("TRORRESU", "Original Units", origin="Collected"),
    _v("TRSTRESC", "Character Result/Finding in Std Format", origin="Derived"),
    _v(
        "TRSTRESN",
        "Numeric Result/Finding in Standard Units",
        numeric=True,
        origin="Derived",
    ),
    _v("TRSTRESU", "Standard Units", origin="Derived"),
    _v("TRSTAT", "Completion Status", always=False),
    _v("TRREASND", "Reason Not Done", always=False, origin="Collected"),
    _v("TRMETHOD", "Method Used to Identify the Tumor/Lesion", origin="Collected"),
    _v("TREVAL", "Evaluator"),
    _v("TREVALID", "Evaluator Identifier", always=False),
    _v("TRACPTFL", "Accepted Record Flag", always=False),
    *_VISIT,
    _v("TRDTC", "Date/Time of Tumor/Lesion Measurement", origin="Collected"),
    _v("TRDY", "Study Day of Tumor/Lesion Measurement", numeric=True, origin="Derived"),
)
RS_VARIABLES = (
    *_IDS,
    _v("RSSEQ", "Sequence Number", numeric=True),
    _v("RSLNKGRP", "Link Group ID"),
    _v("RSTESTCD", "Assessment Short Name"),
    _v("RSTEST", "Assessment Name"),
    _v("RSCAT", "Category for Assessment"),
    _v("RSORRES", "Result or Finding in Original Units", origin="Derived"),
    _v("RSSTRESC", "Character Result/Finding in Std Format", origin="Derived"),
    _v("RSSTAT", "Completion Status", always=False),
    _v("RSREASND", "Reason Not Done", always=False),
    _v("RSEVAL", "Evaluator"),
    _v("RSEVALID", "Evaluator Identifier", always=False),
    _v("RSACPTFL", "Accepted Record Flag", always=False),
    *_VISIT,
    _v("RSDTC", "Date/Time of Assessment", origin="Collected"),
    _v("RSDY", "Study Day of Assessment", numeric=True, origin="Derived"),
)

DOMAINS: dict[str, tuple[str, tuple[SdtmVariable, ...]]] = {
    "TU": ("Tumor/Lesion Identification", TU_VARIABLES),
    "TR": ("Tumor/Lesion Results", TR_VARIABLES),
    "RS": ("Disease Response and Clin Classification", RS_VARIABLES),
}
"""Domain code -> (dataset label, variables in emission order)."""

_METHODS = {Modality.CT: "CT SCAN", Modality.MR: "MRI", Modality.CHEST_XRAY: "X-RAY"}
_MEASURING = {
    MeasurementMethod.MANUAL: "",
    MeasurementMethod.SEMI_AUTOMATIC: "; SEMI-AUTOMATIC",
    MeasurementMethod.SEMI_AUTOMATIC_CORRECTED: "; SEMI-AUTOMATIC, CORRECTED",
}
_PAIRED_ORGANS = frozenset(
    {"lung", "kidney", "adrenal gland", "breast", "ovary", "pleura", "pleural cavity"}
)
_NON_TARGET_STATES = {
    NonTargetState.PRESENT: "PRESENT",
    NonTargetState.ABSENT: "ABSENT",
    NonTargetState.UNEQUIVOCAL_PROGRESSION: "UNEQUIVOCAL",
    # iRECIST H2: unequivocal progression increased further since the iUPD (the
    # FAQ's "further increase from last assessment"; sponsor term, unverified
    # against CDISC CT)
    NonTargetState.FURTHER_INCREASE: "FURTHER INCREASE",
}
_INDEPENDENT = "INDEPENDENT ASSESSOR"


@dataclass(frozen=True, slots=True, kw_only=True)
class SdtmDatasets:
    """The three domains as rows keyed by variable name, in sequence order."""

    tu: tuple[Row, ...]
    tr: tuple[Row, ...]
    rs: tuple[Row, ...]

    def rows(self, domain: str) -> tuple[Row, ...]:
        """Rows of ``domain`` (``TU``, ``TR`` or ``RS``)."""
        return {"TU": self.tu, "TR": self.tr, "RS": self.rs}[domain]

    def variables(self, domain: str) -> tuple[SdtmVariable, ...]:
        """Variables of ``domain`` that are emitted: all core, optional when used."""
        rows = self.rows(domain)
        return tuple(
            variable
            for variable in DOMAINS[domain][1]
            if variable.always
            or any(row.get(variable.name) not in (None, "") for row in rows)
        )


def _number_text(value: float) -> str:
    """``42.0`` -> ``42``, ``12.34`` -> ``12.34`` (shortest exact text, 0.01 mm)."""
    rounded = round(value, 2)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.2f}".rstrip("0")


def _number(value: float) -> int | float:
    rounded = round(value, 2)
    return int(rounded) if rounded == int(rounded) else rounded


def study_day(date: datetime.date, first_dose: datetime.date | None) -> int | None:
    """SDTM --DY: days from the first dose, +1 on or after it (there is no day 0)."""
    if first_dose is None:
        return None
    delta = (date - first_dose).days
    return delta + 1 if delta >= 0 else delta


def _laterality(lesion: Lesion) -> str | None:
    if lesion.organ.strip().lower() not in _PAIRED_ORGANS:
        return None
    words = lesion.location.lower().replace(",", " ").split()
    if "bilateral" in words:
        return "BILATERAL"
    if "right" in words:
        return "RIGHT"
    if "left" in words:
        return "LEFT"
    return None


class _Builder:
    def __init__(
        self,
        reading: Reading,
        assessment: Assessment,
        *,
        study_id: str,
        usubjid: str,
        evaluator: str,
        evaluator_id: str | None,
        accepted: bool | None = None,
    ) -> None:
        self.accepted = accepted
        self.reading = reading
        self.assessment = assessment
        self.study_id = study_id
        self.usubjid = usubjid
        self.evaluator = evaluator
        self.evaluator_id = evaluator_id
        self.tu: list[Row] = []
        self.tr: list[Row] = []
        self.rs: list[Row] = []

    def _ids(self, domain: str, seq: int) -> Row:
        return {
            "STUDYID": self.study_id,
            "DOMAIN": domain,
            "USUBJID": self.usubjid,
            f"{domain}SEQ": seq,
        }

    def _visit(self, domain: str, timepoint: TimePoint, *, dated: bool = True) -> Row:
        number = self.reading.timepoints.index(timepoint) + 1
        row: Row = {"VISITNUM": number, "VISIT": timepoint.visit}
        if dated:
            row[f"{domain}DTC"] = timepoint.date.isoformat()
            row[f"{domain}DY"] = study_day(timepoint.date, self.reading.first_dose_date)
        return row

    def _evaluator(self, domain: str) -> Row:
        row: Row = {f"{domain}EVAL": self.evaluator}
        if self.evaluator_id:
            row[f"{domain}EVALID"] = self.evaluator_id
        if self.accepted:
            row[f"{domain}ACPTFL"] = "Y"
        return row

    # ---------------------------------------------------------------- TU
    def add_tu(self, lesion_id: str, lesion: Lesion, timepoint: TimePoint) -> None:
        result = {
            LesionRole.TARGET: "TARGET",
            LesionRole.NON_TARGET: "NON-TARGET",
            LesionRole.NEW: "NEW",
        }[lesion.role]
        self.tu.append(
            {
                **self._ids("TU", len(self.tu) + 1),
                "TULNKID": lesion_id,
                "TUTESTCD": "TUMIDENT",
                "TUTEST": "Tumor Identification",
                "TUORRES": result,
                "TUSTRESC": result,
                "TULOC": lesion.organ.strip().upper(),
                "TULAT": _laterality(lesion),
                "TUMETHOD": _METHODS[timepoint.modality],
                **self._evaluator("TU"),
                **self._visit("TU", timepoint),
            }
        )

    def identify_lesions(self) -> None:
        first_seen: dict[str, TimePoint] = {}
        parts_seen: list[tuple[str, Lesion, TimePoint]] = []
        for timepoint in self.reading.timepoints:
            ids = [m.lesion_id for m in timepoint.measurements]
            ids += [a.lesion_id for a in timepoint.non_target]
            ids += [o.lesion_id for o in timepoint.new_lesions]
            for lesion_id in ids:
                first_seen.setdefault(lesion_id, timepoint)
            for measurement in timepoint.measurements:
                if measurement.state is MeasurementState.SPLIT:
                    lesion = self.reading.lesion(measurement.lesion_id)
                    for index in range(1, len(measurement.parts_mm) + 1):
                        part_id = f"{lesion.lesion_id}.{index}"
                        if all(p[0] != part_id for p in parts_seen):
                            parts_seen.append((part_id, lesion, timepoint))
        baseline = self.reading.timepoints[0]
        for lesion in self.reading.lesions:
            self.add_tu(
                lesion.lesion_id, lesion, first_seen.get(lesion.lesion_id, baseline)
            )
        for part_id, lesion, timepoint in parts_seen:
            self.add_tu(part_id, lesion, timepoint)

    # ---------------------------------------------------------------- TR
    def _tr(
        self,
        timepoint: TimePoint,
        values: Row,
        *,
        dated: bool = True,
        method: MeasurementMethod = MeasurementMethod.MANUAL,
    ) -> None:
        group = f"A{self.reading.timepoints.index(timepoint) + 1}"
        row: Row = {**self._ids("TR", len(self.tr) + 1), "TRLNKGRP": group}
        row.update(values)
        if dated:
            # the imaging method, then how the diameter was obtained when a
            # tool drew it (click-to-measure): "CT SCAN; SEMI-AUTOMATIC"
            row["TRMETHOD"] = _METHODS[timepoint.modality] + _MEASURING[method]
        row.update(self._evaluator("TR"))
        row.update(self._visit("TR", timepoint, dated=dated))
        self.tr.append(row)

    def _diameter_row(self, lesion: Lesion, lesion_id: str, result: Row) -> Row:
        nodal = lesion.is_lymph_node
        return {
            "TRGRPID": "TARGET",
            "TRLNKID": lesion_id,
            "TRTESTCD": "LPERP" if nodal else "LDIAM",
            "TRTEST": "Longest Perpendicular" if nodal else "Longest Diameter",
            **result,
        }

    def _counted_mm(self, timepoint: TimePoint, lesion: Lesion) -> float | None:
        """The diameter ``lesion`` counted at ``timepoint`` in the assessment."""
        try:
            counted = self.assessment.target_diameters_at(timepoint.visit)
        except KeyError:
            return None
        found = counted.get(lesion.lesion_id)
        return None if found is None else found.diameter_mm

    def add_target(self, timepoint: TimePoint, measurement: Measurement) -> None:
        """The target's TR row: the diameter the assessment counted (A6, B2–B4, J1).

        A split lesion has a row per part (their sum is what it counted, B3).
        """
        lesion = self.reading.lesion(measurement.lesion_id)
        state = measurement.state
        if state is MeasurementState.SPLIT:
            for index, part in enumerate(measurement.parts_mm, start=1):
                self._tr(
                    timepoint,
                    self._diameter_row(
                        lesion, f"{lesion.lesion_id}.{index}", _measured(part)
                    ),
                )
            return
        counted_mm = self._counted_mm(timepoint, lesion)
        result: Row
        if state is MeasurementState.MEASURED or state is MeasurementState.DISAPPEARED:
            result = (
                # measured, but not the diameter these criteria count (mRECIST, J1)
                {"TRSTAT": "NOT DONE", "TRREASND": "NOT EVALUABLE"}
                if counted_mm is None
                else _measured(counted_mm)
            )
        elif state is MeasurementState.TOO_SMALL:
            if counted_mm is None:  # the rules count too_small_mm (B2)
                raise ExchangeError(
                    f"lesion {lesion.lesion_id} at {timepoint.visit}: too small "
                    "but not counted in the assessment"
                )
            result = {
                "TRORRES": "TOO SMALL TO MEASURE",
                "TRSTRESC": _number_text(counted_mm),
                "TRSTRESN": _number(counted_mm),
                "TRSTRESU": "mm",
            }
        elif state is MeasurementState.MERGED:
            result = {"TRSTAT": "NOT DONE", "TRREASND": "TUMOR MERGED"}
        elif state is MeasurementState.NOT_EVALUABLE:
            result = {"TRSTAT": "NOT DONE", "TRREASND": "NOT EVALUABLE"}
        else:
            result = {"TRSTAT": "NOT DONE", "TRREASND": "SCAN NOT PERFORMED"}
            self._tr(
                timepoint,
                self._diameter_row(lesion, lesion.lesion_id, result),
                dated=False,
            )
            return
        method = (
            measurement.geometry.method
            if measurement.geometry is not None
            else MeasurementMethod.MANUAL
        )
        self._tr(
            timepoint,
            self._diameter_row(lesion, lesion.lesion_id, result),
            method=method,
        )

    def add_state(
        self, timepoint: TimePoint, group: str, lesion_id: str, state: str | None
    ) -> None:
        values: Row = {
            "TRGRPID": group,
            "TRLNKID": lesion_id,
            "TRTESTCD": "TUMSTATE",
            "TRTEST": "Tumor State",
        }
        if state is None:
            values.update({"TRSTAT": "NOT DONE", "TRREASND": "NOT EVALUABLE"})
        else:
            values.update({"TRORRES": state, "TRSTRESC": state})
        self._tr(timepoint, values)

    def add_visit_results(self, timepoint: TimePoint) -> None:
        for lesion in self.reading.lesions_with_role(LesionRole.TARGET):
            measurement = timepoint.measurement(lesion.lesion_id)
            if measurement is not None:
                self.add_target(timepoint, measurement)
        for assessment in timepoint.non_target:
            self.add_state(
                timepoint,
                "NON-TARGET",
                assessment.lesion_id,
                _NON_TARGET_STATES.get(assessment.state),
            )
        for observation in timepoint.new_lesions:
            self.add_state(timepoint, "NEW", observation.lesion_id, "PRESENT")
        total = self._visit_sum(timepoint)
        if total is not None:
            self._tr(
                timepoint,
                {
                    "TRGRPID": "TARGET",
                    "TRTESTCD": "SUMDIAM",
                    "TRTEST": "Sum of Diameter",
                    **_measured(total),
                },
                dated=False,
            )

    def _visit_sum(self, timepoint: TimePoint) -> float | None:
        if timepoint.is_baseline:
            return self.assessment.baseline.sum_of_diameters_mm
        try:
            return self.assessment.timepoint(timepoint.visit).sum_of_diameters_mm
        except KeyError:
            return None

    # ---------------------------------------------------------------- RS
    def _rs(
        self,
        timepoint: TimePoint,
        criteria: Criteria,
        code: str,
        name: str,
        result: str,
    ) -> None:
        number = self.reading.timepoints.index(timepoint) + 1
        group = f"A{number}"
        linked = code == "OVRLRESP" and any(row["TRLNKGRP"] == group for row in self.tr)
        self.rs.append(
            {
                **self._ids("RS", len(self.rs) + 1),
                "RSLNKGRP": group if linked else None,
                "RSTESTCD": code,
                "RSTEST": name,
                "RSCAT": criteria.value,
                "RSORRES": result,
                "RSSTRESC": result,
                **self._evaluator("RS"),
                **self._visit("RS", timepoint),
            }
        )

    def add_responses(self, timepoint: TimePoint, assessment: Assessment) -> None:
        criteria = assessment.criteria

        def add(code: str, name: str, result: str) -> None:
            self._rs(timepoint, criteria, code, name, result)

        if timepoint.is_baseline:
            overall = assessment.baseline.overall_response
            if overall is not None:
                add("OVRLRESP", "Overall Response", overall.value)
            return
        result = assessment.timepoint(timepoint.visit)
        overall_response = result.overall_response
        if overall_response is None:
            return  # not read: no response, so no RS record (README, not read)
        if result.target_response is not None:
            add("TRGRESP", "Target Response", result.target_response.value)
        if result.non_target_response is not None:
            add("NTRGRESP", "Non-target Response", result.non_target_response.value)
        found = result.new_lesions is not NewLesionFinding.NONE
        add("NEWLIND", "New Lesion Indicator", "Y" if found else "N")
        if found:
            # The criteria's own finding: under mRECIST a new lesion the reader
            # called unequivocal may still be equivocal (J4, J5).
            add(
                "NEWLPROG",
                "New Lesion Progression",
                "UNEQUIVOCAL"
                if result.new_lesions is NewLesionFinding.UNEQUIVOCAL
                else NewLesionState.EQUIVOCAL.value.upper(),
            )
        add("OVRLRESP", "Overall Response", overall_response.value)


def _measured(value: float) -> Row:
    return {
        "TRORRES": _number_text(value),
        "TRORRESU": "mm",
        "TRSTRESC": _number_text(value),
        "TRSTRESN": _number(value),
        "TRSTRESU": "mm",
    }


def _may_be_mrecist(reading: Reading) -> bool:
    return reading.criteria is Criteria.MRECIST or any(
        m.viable_long_axis_mm is not None
        for t in reading.timepoints
        for m in t.measurements
    )


def response_assessments(
    reading: Reading, criteria: Sequence[Criteria] | None = None
) -> tuple[Assessment, ...]:
    """The assessments of ``reading`` under each criteria set, for RS.

    Parameters
    ----------
    reading
        The reading (its lesions are assessed under every criteria set).
    criteria
        The criteria sets, in RS order. ``None`` (the default): every set the
        reading supports, in the order RECIST 1.1, iRECIST, mRECIST: its own
        criteria, RECIST 1.1 and iRECIST on the same lesions, and mRECIST when
        the reading is an mRECIST reading or has a viable diameter measured (without
        one every mRECIST target response would be NE). A set whose rules reject
        the reading is then left out; the reading's own never is. An empty
        sequence means the reading's own criteria only.

    Raises
    ------
    ExchangeError
        The reading cannot be assessed under a criteria set that was asked for
        (or under its own).
    """
    own = reading.criteria
    if criteria is not None and len(criteria) == 0:
        criteria = (own,)
    wanted = (
        tuple(criteria)
        if criteria is not None
        else tuple(
            c
            for c in Criteria
            if c is own or c is not Criteria.MRECIST or _may_be_mrecist(reading)
        )
    )
    found: list[Assessment] = []
    for name in dict.fromkeys(wanted):
        try:
            found.append(assess(dataclasses.replace(reading, criteria=name)))
        except (ReadingError, UnsupportedCriteriaError) as error:
            if criteria is None and name is not own:
                continue
            raise ExchangeError(
                f"{reading.patient_id}: cannot assess under {name.value}: {error}"
            ) from None
    return tuple(found)


def build_sdtm(
    reading: Reading,
    assessment: Assessment,
    *,
    study_id: str,
    usubjid: str | None = None,
    evaluator: str = "INVESTIGATOR",
    evaluator_id: str | None = None,
    responses: Sequence[Assessment] | None = None,
    accepted: bool | None = None,
) -> SdtmDatasets:
    """TU, TR and RS rows for one reading, checked with :func:`check_sdtm`.

    Parameters
    ----------
    reading, assessment
        The reading and ``assess(reading)`` (its sums are TR's SUMDIAM).
    responses
        Assessments of the same reading whose responses RS carries, one set of
        records per criteria set with RSCAT its criteria, in the order given
        (default: ``assessment`` alone; see :func:`response_assessments`).
    study_id
        STUDYID.
    usubjid
        USUBJID (default: the reading's patient id).
    evaluator
        ``INVESTIGATOR`` or ``INDEPENDENT ASSESSOR`` (--EVAL).
    evaluator_id
        --EVALID, e.g. ``READER 1`` for an independent central reader.
    accepted
        --ACPTFL ``Y`` on every record when true (the central review's accepted,
        final read); empty otherwise.

    Raises
    ------
    ExchangeError
        The reading has no timepoints, or the datasets fail the consistency checks.
    """
    if not study_id.strip():
        raise ExchangeError("SDTM: STUDYID must not be empty")
    if not reading.timepoints:
        raise ExchangeError(f"SDTM: reading of {reading.patient_id} has no visits")
    builder = _Builder(
        reading,
        assessment,
        study_id=study_id,
        usubjid=usubjid or reading.patient_id,
        evaluator=evaluator,
        evaluator_id=evaluator_id,
        accepted=accepted,
    )
    builder.identify_lesions()
    for timepoint in reading.timepoints:
        builder.add_visit_results(timepoint)
    for result in (assessment,) if responses is None else responses:
        for timepoint in reading.timepoints:
            builder.add_responses(timepoint, result)
    datasets = SdtmDatasets(
        tu=tuple(builder.tu), tr=tuple(builder.tr), rs=tuple(builder.rs)
    )
    check_sdtm(datasets)
    return datasets


def check_sdtm(datasets: SdtmDatasets) -> None:
    """Cross-domain consistency (docs/standards.md 1.3); raises on the first problem.

    Every TRLNKID has a TU row of the same subject; every OVRLRESP RSLNKGRP exists
    in TR; each SUMDIAM equals the sum of its link group's LDIAM and LPERP values;
    every RSCAT is a criteria set (``RECIST 1.1``, ``iRECIST``, ``mRECIST``) with at
    most one record per test and visit, and all sets of a subject cover the same
    visits.
    """
    identified = {(*_who(row, "TU"), row["TULNKID"]) for row in datasets.tu}
    for row in datasets.tr:
        link = row.get("TRLNKID")
        if link and (*_who(row, "TR"), link) not in identified:
            raise ExchangeError(
                f"SDTM check: TR row {row['TRSEQ']} of {row['USUBJID']} links to "
                f"lesion {link}, which has no TU row"
            )
    groups = {(*_who(row, "TR"), row["TRLNKGRP"]) for row in datasets.tr}
    for row in datasets.rs:
        group = row.get("RSLNKGRP")
        if group and (*_who(row, "RS"), group) not in groups:
            raise ExchangeError(
                f"SDTM check: RS row {row['RSSEQ']} links to group {group}, "
                "which has no TR rows"
            )
    _check_rscat(datasets.rs)
    for row in datasets.tr:
        if row["TRTESTCD"] != "SUMDIAM":
            continue
        parts = [
            other["TRSTRESN"]
            for other in datasets.tr
            if _who(other, "TR") == _who(row, "TR")
            and other["TRLNKGRP"] == row["TRLNKGRP"]
            and other["TRTESTCD"] in ("LDIAM", "LPERP")
        ]
        total = sum(float(p) for p in parts if isinstance(p, int | float))
        stated = row["TRSTRESN"]
        if not isinstance(stated, int | float) or not math.isclose(
            total, float(stated), abs_tol=0.011
        ):
            raise ExchangeError(
                f"SDTM check: SUMDIAM {stated} of {row['USUBJID']} visit "
                f"{row['VISIT']} is not the sum of its lesions ({_number_text(total)})"
            )


def _who(row: Row, domain: str) -> tuple[Value, Value]:
    """A subject's records by one evaluator: ``(USUBJID, --EVALID)``.

    A central review writes both primary readers' records of a subject; each
    reader's records are checked on their own.
    """
    return row["USUBJID"], row.get(f"{domain}EVALID")


def _check_rscat(rs: Sequence[Row]) -> None:
    """Check RSCAT: a criteria set, one record per test and visit, same visits.

    Every set of a subject must assess the same visits.
    """
    known = {c.value for c in Criteria}
    tests: set[tuple[Value, ...]] = set()
    visits: dict[tuple[Value, Value], dict[Value, set[Value]]] = {}
    for row in rs:
        category = row.get("RSCAT")
        if category not in known:
            raise ExchangeError(
                f"SDTM check: RS row {row['RSSEQ']} of {row['USUBJID']} has RSCAT "
                f"{category!r}, not one of {', '.join(sorted(known))}"
            )
        who = _who(row, "RS")
        key = (*who, category, row["VISITNUM"], row["RSTESTCD"])
        if key in tests:
            by = f" by {who[1]}" if who[1] else ""
            raise ExchangeError(
                f"SDTM check: RS of {row['USUBJID']}{by} has two {row['RSTESTCD']} "
                f"records for {category} at visit {row['VISIT']}"
            )
        tests.add(key)
        if row["RSTESTCD"] == "OVRLRESP":
            per_subject = visits.setdefault(who, {})
            per_subject.setdefault(category, set()).add(row["VISITNUM"])
    for subject, by_category in visits.items():
        (first, first_visits), *others = by_category.items()
        for other, found in others:
            if found != first_visits:
                raise ExchangeError(
                    f"SDTM check: RS of {subject[0]}: {other} assesses visits "
                    f"{sorted(map(str, found))}, {first} visits "
                    f"{sorted(map(str, first_visits))}"
                )


def sdtm_csv_text(datasets: SdtmDatasets, domain: str) -> str:
    """One domain as CSV text (emitted variables in order, empty for missing)."""
    variables = datasets.variables(domain)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([v.name for v in variables])
    for row in datasets.rows(domain):
        writer.writerow(
            ["" if row.get(v.name) is None else row.get(v.name) for v in variables]
        )
    return buffer.getvalue()


def _text_length(datasets: SdtmDatasets, domain: str, name: str) -> int:
    longest = max(
        (len(str(row.get(name) or "")) for row in datasets.rows(domain)), default=0
    )
    return max(1, longest)


def define_rows(datasets: SdtmDatasets) -> list[dict[str, str]]:
    """The define-style variable list: dataset, variable, label, type, length."""
    rows: list[dict[str, str]] = []
    for domain, (label, _variables) in DOMAINS.items():
        for order, variable in enumerate(datasets.variables(domain), start=1):
            rows.append(
                {
                    "dataset": domain,
                    "dataset_label": label,
                    "order": str(order),
                    "variable": variable.name,
                    "label": variable.label,
                    "type": "Num" if variable.numeric else "Char",
                    "length": "8"
                    if variable.numeric
                    else str(_text_length(datasets, domain, variable.name)),
                    "origin": variable.origin,
                }
            )
    return rows


def write_sdtm(
    datasets: SdtmDatasets,
    folder: Path,
    *,
    created: datetime.datetime | None = None,
) -> tuple[Path, ...]:
    """Write ``tu/tr/rs.csv``, ``tu/tr/rs.xpt`` and ``define.csv`` into ``folder``.

    Returns the written paths. The caller provides an empty staging folder (see
    :func:`recist_app.exchange.export.export_patient`), so a failure leaves nothing.
    """
    check_sdtm(datasets)
    written: list[Path] = []
    for domain, (label, _variables) in DOMAINS.items():
        csv_path = folder / f"{domain.lower()}.csv"
        csv_path.write_text(sdtm_csv_text(datasets, domain), encoding="utf-8")
        variables = [
            XptVariable(
                name=v.name,
                label=v.label,
                numeric=v.numeric,
                length=8 if v.numeric else _text_length(datasets, domain, v.name),
            )
            for v in datasets.variables(domain)
        ]
        xpt_path = folder / f"{domain.lower()}.xpt"
        write_xpt(
            xpt_path, domain, label, variables, datasets.rows(domain), created=created
        )
        written += [csv_path, xpt_path]
    define_path = folder / "define.csv"
    buffer = io.StringIO()
    rows = define_rows(datasets)
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    define_path.write_text(buffer.getvalue(), encoding="utf-8")
    written.append(define_path)
    return tuple(written)


def merge_sdtm(parts: list[SdtmDatasets]) -> SdtmDatasets:
    """Several readings' datasets as one.

    --SEQ is per subject: a subject's later parts (a second central reader's
    records) continue its numbers after the earlier ones; a subject in one part
    keeps its own.
    """
    merged: dict[str, list[Row]] = {"TU": [], "TR": [], "RS": []}
    for domain, rows in merged.items():
        last: dict[Value, int] = {}
        for part in parts:
            offsets = dict(last)
            for row in part.rows(domain):
                subject = row["USUBJID"]
                seq = int(str(row[f"{domain}SEQ"])) + offsets.get(subject, 0)
                last[subject] = max(last.get(subject, 0), seq)
                rows.append({**row, f"{domain}SEQ": seq})
    return SdtmDatasets(
        tu=tuple(merged["TU"]), tr=tuple(merged["TR"]), rs=tuple(merged["RS"])
    )
