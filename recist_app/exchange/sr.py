"""DICOM SR TID 1500 Measurement Reports of a reading, and importing them back.

One Comprehensive 3D SR per visit (docs/standards.md section 2), built with highdicom:

- a TID 1410 planar ROI group per lesion drawn on an image, its ROI the axis RECIST
  counts (short axis for lymph nodes, long axis otherwise) as a two-point POLYLINE
  in the image's pixel coordinates, with Long Axis (SCT 103339001) and Short Axis
  (SCT 103340004) measurements in mm;
- a TID 1501 group for lesions recorded without image geometry (non-target lesions,
  diameters typed in), so every lesion of the visit is in the report;
- Tracking Identifier = lesion id (= SDTM link id) and a Tracking UID that is the
  same at every visit; finding site coded in SNOMED CT; the RECIST role as Baseline
  Category and RECIST 1.1 as Response Evaluation Method; a TID 1502 time point;
- a non-target's state as its Current Response (DCM 112048, CID 6144: complete
  response, incomplete response or stable disease, progressive disease), and for
  iRECIST's further increase since the iUPD (H2) also Trend (DCM 122151) =
  Increase in size (SCT 15454001), the one state CID 6144 cannot tell apart.

:func:`read_measurement_report` parses such an SR (ours or another tool's TID 1500
with the same codes) and :func:`import_measurement_report` puts its measurements
back into a reading, geometry included, so they reappear on the images. Other
tools' measurement groups are read in all three kinds TID 1500 allows: TID 1410
planar ROI groups (as ours), TID 1411 volumetric ROI groups, e.g. dcmqi and 3D
Slicer's Quantitative Reporting, which reference a segment of a DICOM SEG, and
TID 1501 image-level groups; lengths in cm or m are converted to mm. A volumetric
or image-level group gives its lengths without a drawn axis. An SR none of whose
groups holds a length RECIST uses is refused with one line saying what it holds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import highdicom as hd
import numpy as np
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from recist_app import __version__
from recist_app.exchange.errors import ExchangeError
from recist_app.recist import (
    DRAWN_LENGTH_TOLERANCE_MM,
    AxisGeometry,
    LesionRole,
    Measurement,
    MeasurementGeometry,
    MeasurementMethod,
    MeasurementState,
    Modality,
    NewLesionObservation,
    NewLesionState,
    NonTargetState,
    ReadingError,
    record_measurement,
)

if TYPE_CHECKING:
    import datetime
    from collections.abc import Mapping

    import numpy.typing as npt
    from pydicom.dataset import Dataset

    from recist_app.recist import Lesion, Reading, TimePoint

__all__ = [
    "LONG_AXIS",
    "ORGAN_CODES",
    "SHORT_AXIS",
    "SrLesion",
    "SrReport",
    "SrVerification",
    "build_measurement_report",
    "import_measurement_report",
    "lesion_tracking_uid",
    "lps_to_pixel",
    "pixel_to_lps",
    "read_measurement_report",
]

LONG_AXIS = hd.sr.CodedConcept("103339001", "SCT", "Long Axis")
SHORT_AXIS = hd.sr.CodedConcept("103340004", "SCT", "Short Axis")
ALGORITHM_NAME = "recist_app click-to-measure"
"""TID 4019 Algorithm Name of a diameter drawn by click-to-measure."""
METHOD_CODES: dict[MeasurementMethod, hd.sr.CodedConcept] = {
    MeasurementMethod.SEMI_AUTOMATIC: hd.sr.CodedConcept(
        "SEMIAUTO", "99RECISTAPP", "Semi-automatic"
    ),
    MeasurementMethod.SEMI_AUTOMATIC_CORRECTED: hd.sr.CodedConcept(
        "SEMIAUTOCORR", "99RECISTAPP", "Semi-automatic, corrected"
    ),
}
"""Measurement Method values (private scheme: DICOM codes none of these)."""
"""Meanings spelled as dcmjs/OHIF compare them (docs/standards.md 2.2)."""

ORGAN_CODES: dict[str, hd.sr.CodedConcept] = {
    name: hd.sr.CodedConcept(value, "SCT", meaning)
    for name, (value, meaning) in {
        "liver": ("10200004", "Liver"),
        "lung": ("39607008", "Lung"),
        "lymph node": ("59441001", "Lymph node"),
        "portal vein": ("32764006", "Portal vein"),
        "peritoneal cavity": ("83670000", "Peritoneal cavity"),
        "peritoneum": ("83670000", "Peritoneal cavity"),
        "adrenal gland": ("23451007", "Adrenal gland"),
        "bone": ("272673000", "Bone"),
        "mediastinal lymph node": ("62683002", "Mediastinal lymph node"),
        "abdominal lymph node": ("818991007", "Abdominal lymph node"),
        "spleen": ("78961009", "Spleen"),
        "kidney": ("64033007", "Kidney"),
        "pleura": ("3120008", "Pleura"),
        "brain": ("12738006", "Brain"),
        "pancreas": ("15776009", "Pancreas"),
    }.items()
}
"""Finding site codes (SNOMED CT) by organ name as the reading spells it."""

_PROCEDURE = {
    Modality.CT: codes.LN.CTUnspecifiedBodyRegion,
    Modality.MR: hd.sr.CodedConcept("25056-3", "LN", "MRI unspecified body region"),
    Modality.CHEST_XRAY: hd.sr.CodedConcept("36643-5", "LN", "XR Chest 2V"),
}
_SR_CLASSES: dict[
    str, type[hd.sr.Comprehensive3DSR | hd.sr.ComprehensiveSR | hd.sr.EnhancedSR]
] = {
    "1.2.840.10008.5.1.4.1.1.88.34": hd.sr.Comprehensive3DSR,
    "1.2.840.10008.5.1.4.1.1.88.33": hd.sr.ComprehensiveSR,
    "1.2.840.10008.5.1.4.1.1.88.22": hd.sr.EnhancedSR,
}
_OTHER_LENGTHS = (
    hd.sr.CodedConcept("410668003", "SCT", "Length"),
    hd.sr.CodedConcept("81827009", "SCT", "Diameter"),
)
"""Read as the long axis when an SR (dcmjs/OHIF, highdicom examples) has none."""
_TIME_POINT_CODES = frozenset({"C2348792", "126072"})  # UMLS (TID 1502), legacy DCM
_BASELINE_CATEGORY = {
    LesionRole.TARGET: codes.DCM.TargetLesionAtBaseline,
    LesionRole.NON_TARGET: codes.DCM.NonTargetLesionAtBaseline,
}
_NON_TARGET_RESPONSE = {  # CID 6144, per non-target lesion (D1–D3)
    NonTargetState.ABSENT: codes.DCM.NonTargetLesionCompleteResponse,
    NonTargetState.PRESENT: codes.DCM.NonTargetLesionIncompleteResponseOrStableDisease,
    NonTargetState.UNEQUIVOCAL_PROGRESSION: codes.DCM.NonTargetLesionProgressiveDisease,
    NonTargetState.FURTHER_INCREASE: codes.DCM.NonTargetLesionProgressiveDisease,
}
_INCREASE_IN_SIZE = hd.sr.CodedConcept("15454001", "SCT", "Increase in size")


@dataclass(frozen=True, slots=True, kw_only=True)
class SrLesion:
    """One lesion's measurement group as read from an SR."""

    lesion_id: str
    tracking_uid: str
    long_axis_mm: float | None
    short_axis_mm: float | None
    finding_site: str | None
    sop_instance_uid: str | None
    roi_points_px: tuple[tuple[float, float], ...] = ()
    method: MeasurementMethod = MeasurementMethod.MANUAL


@dataclass(frozen=True, slots=True, kw_only=True)
class SrVerification:
    """Who signed the reading and when: the SR's Verifying Observer.

    ``signed_at`` must be timezone-aware; ``organization`` is the Verifying
    Organization the SR names (Type 1 with the observer).
    """

    signer: str
    signed_at: datetime.datetime
    organization: str

    def __post_init__(self) -> None:
        if not self.signer.strip():
            raise ExchangeError("SR verification: the signer's name is empty")
        if self.signed_at.tzinfo is None:
            raise ExchangeError("SR verification: the signing time has no time zone")


@dataclass(frozen=True, slots=True, kw_only=True)
class SrReport:
    """What an SR measurement report says: the visit and its lesions."""

    time_point: str | None
    study_instance_uid: str
    observer: str | None
    lesions: tuple[SrLesion, ...]


def lesion_tracking_uid(reading: Reading, lesion: Lesion) -> str:
    """The lesion's Tracking UID: stored one, else derived stably from its ids.

    The derived UID depends only on the patient and lesion id, so every visit's SR
    carries the same UID for the same lesion (docs/standards.md 2.3).
    """
    if lesion.tracking_uid:
        return lesion.tracking_uid
    return str(
        generate_uid(
            entropy_srcs=["recist_app lesion", reading.patient_id, lesion.lesion_id]
        )
    )


def _image_axes(image: Dataset) -> tuple[npt.NDArray[np.float64], ...]:
    try:
        origin = np.asarray([float(v) for v in image.ImagePositionPatient])
        cosines = [float(v) for v in image.ImageOrientationPatient]
        row_spacing, column_spacing = (float(v) for v in image.PixelSpacing)
    except (AttributeError, ValueError, TypeError):
        raise ExchangeError(
            f"image {image.get('SOPInstanceUID', '?')}: no usable position, "
            "orientation or pixel spacing"
        ) from None
    row_dir = np.asarray(cosines[:3])
    column_dir = np.asarray(cosines[3:])
    return origin, row_dir, column_dir, np.asarray([row_spacing, column_spacing])


def lps_to_pixel(
    image: Dataset, point: tuple[float, float, float]
) -> tuple[float, float]:
    """LPS mm -> SR image coordinates (column, row), pixel centres at +0.5."""
    origin, row_dir, column_dir, spacing = _image_axes(image)
    offset = np.asarray(point) - origin
    column = float(offset @ row_dir) / spacing[1]
    row = float(offset @ column_dir) / spacing[0]
    return column + 0.5, row + 0.5


def pixel_to_lps(
    image: Dataset, point: tuple[float, float]
) -> tuple[float, float, float]:
    """SR image coordinates (column, row) -> LPS mm on the image plane."""
    origin, row_dir, column_dir, spacing = _image_axes(image)
    column, row = point[0] - 0.5, point[1] - 0.5
    lps = origin + column * spacing[1] * row_dir + row * spacing[0] * column_dir
    return float(lps[0]), float(lps[1]), float(lps[2])


def _measurements(
    long_axis_mm: float | None,
    short_axis_mm: float | None,
    method: MeasurementMethod = MeasurementMethod.MANUAL,
) -> list[hd.sr.Measurement]:
    """The diameters; a tool's (click-to-measure) with its method and algorithm.

    TID 300 gives a measurement a Measurement Method (SCT 370129005) and an
    Algorithm Identification (TID 4019); a manual line carries neither.
    """
    extra: dict[str, Any] = {}
    if method is not MeasurementMethod.MANUAL:
        extra["method"] = METHOD_CODES[method]
        extra["algorithm_id"] = hd.sr.AlgorithmIdentification(
            name=ALGORITHM_NAME, version=__version__
        )
    found = []
    for name, value in ((LONG_AXIS, long_axis_mm), (SHORT_AXIS, short_axis_mm)):
        if value is not None:
            found.append(
                hd.sr.Measurement(
                    name=name, value=value, unit=codes.UCUM.Millimeter, **extra
                )
            )
    return found


def _method_of(group: _Group) -> MeasurementMethod:
    for found in group.get_measurements():
        method = found.method
        if method is None:
            continue
        for known, code in METHOD_CODES.items():
            if (method.value, method.scheme_designator) == (
                code.value,
                code.scheme_designator,
            ):
                return known
    return MeasurementMethod.MANUAL


def _evaluations(
    lesion: Lesion, state: NonTargetState | None
) -> list[hd.sr.QualitativeEvaluation]:
    evaluations = [
        hd.sr.QualitativeEvaluation(
            name=codes.DCM.ResponseEvaluationMethod, value=codes.DCM.RECIST1Point1
        )
    ]
    response = None if state is None else _NON_TARGET_RESPONSE.get(state)
    if response is not None:
        evaluations.append(
            hd.sr.QualitativeEvaluation(name=codes.DCM.CurrentResponse, value=response)
        )
    if state is NonTargetState.FURTHER_INCREASE:  # iRECIST H2
        evaluations.append(
            hd.sr.QualitativeEvaluation(name=codes.DCM.Trend, value=_INCREASE_IN_SIZE)
        )
    category = _BASELINE_CATEGORY.get(lesion.role)
    if category is not None:
        evaluations.insert(
            0,
            hd.sr.QualitativeEvaluation(
                name=codes.DCM.BaselineCategory, value=category
            ),
        )
    return evaluations


def _finding_sites(lesion: Lesion) -> list[hd.sr.FindingSite] | None:
    code = ORGAN_CODES.get(lesion.organ.strip().lower())
    if code is None and lesion.is_lymph_node:
        code = ORGAN_CODES["lymph node"]
    return None if code is None else [hd.sr.FindingSite(anatomic_location=code)]


@dataclass(frozen=True, slots=True)
class _Finding:
    lesion: Lesion
    long_axis_mm: float | None
    short_axis_mm: float | None
    geometry: MeasurementGeometry | None
    non_target_state: NonTargetState | None = None


def _findings(reading: Reading, timepoint: TimePoint) -> list[_Finding]:
    found: list[_Finding] = []
    for m in timepoint.measurements:
        long_mm, short_mm = m.long_axis_mm, m.short_axis_mm
        if m.state is MeasurementState.DISAPPEARED:
            long_mm = short_mm = 0.0
        found.append(
            _Finding(reading.lesion(m.lesion_id), long_mm, short_mm, m.geometry)
        )
    for a in timepoint.non_target:
        found.append(_Finding(reading.lesion(a.lesion_id), None, None, None, a.state))
    for o in timepoint.new_lesions:
        found.append(
            _Finding(
                reading.lesion(o.lesion_id), o.long_axis_mm, o.short_axis_mm, o.geometry
            )
        )
    return found


def _roi_axis(finding: _Finding) -> tuple[str, AxisGeometry] | None:
    geometry = finding.geometry
    if geometry is None:
        return None
    order = (
        ("short", geometry.short_axis),
        ("long", geometry.long_axis),
    )
    if not finding.lesion.is_lymph_node:
        order = order[::-1]
    for name, axis in order:
        if axis is not None:
            return name, axis
    return None


def build_measurement_report(
    reading: Reading,
    visit: str,
    images: Mapping[str, Dataset],
    *,
    series_instance_uid: str | None = None,
    sop_instance_uid: str | None = None,
    series_number: int = 900,
    instance_number: int = 1,
    observer_name: str | None = None,
    verification: SrVerification | None = None,
) -> hd.sr.Comprehensive3DSR:
    """The TID 1500 Measurement Report of one visit.

    Parameters
    ----------
    reading
        The reading; lesions of ``visit`` drawn on images become TID 1410 groups.
    visit
        The visit label.
    images
        Headers (pixel data not needed) of the measured images by SOP Instance UID;
        the SR inherits patient and study from them.
    series_instance_uid, sop_instance_uid
        UIDs of the SR (default: derived stably from the reading, visit and reader,
        so re-exporting the same visit gives the same UIDs).
    observer_name
        Person observer (default: the reading's reader).
    verification
        The sign-off of a signed reading: the SR is then final — Completion
        Flag COMPLETE, Preliminary Flag FINAL, Verification Flag VERIFIED with
        the signer and signing time as Verifying Observer. Without it (a draft)
        the SR is PARTIAL, PRELIMINARY and UNVERIFIED.

    Raises
    ------
    ExchangeError
        Unknown visit, no measured image to reference, or a referenced image missing.
    """
    try:
        timepoint = reading.timepoint(visit)
    except KeyError:
        raise ExchangeError(f"SR: reading has no visit {visit!r}") from None
    findings = _findings(reading, timepoint)
    evidence: dict[str, Dataset] = {}
    for finding in findings:
        if finding.geometry is None:
            continue
        image = images.get(finding.geometry.sop_instance_uid)
        if image is None:
            raise ExchangeError(
                f"SR: visit {visit}, lesion {finding.lesion.lesion_id}: measured image "
                f"{finding.geometry.sop_instance_uid} was not found"
            )
        evidence.setdefault(finding.geometry.sop_instance_uid, image)
    if not evidence:
        raise ExchangeError(
            f"SR: visit {visit}: no lesion was measured on an image, and an SR must "
            "reference the measured images"
        )
    order = reading.timepoints.index(timepoint) + 1
    time_point = hd.sr.TimePointContext(
        time_point=visit,
        time_point_type=codes.UMLS.Baseline
        if timepoint.is_baseline
        else codes.DCM.Posttreatment,
        time_point_order=order,
        protocol_time_point_identifier=visit,
    )
    groups: list[
        hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations
        | hd.sr.MeasurementsAndQualitativeEvaluations
    ] = []
    for finding in findings:
        lesion = finding.lesion
        tracking = hd.sr.TrackingIdentifier(
            uid=lesion_tracking_uid(reading, lesion), identifier=lesion.lesion_id
        )
        common = {
            "tracking_identifier": tracking,
            "time_point_context": time_point,
            "finding_type": codes.SCT.Lesion,
            "finding_sites": _finding_sites(lesion),
            "measurements": _measurements(
                finding.long_axis_mm,
                finding.short_axis_mm,
                finding.geometry.method
                if finding.geometry is not None
                else MeasurementMethod.MANUAL,
            )
            or None,
            "qualitative_evaluations": _evaluations(lesion, finding.non_target_state),
        }
        roi = _roi_axis(finding)
        if roi is None or finding.geometry is None:
            groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(**common))
            continue
        image = evidence[finding.geometry.sop_instance_uid]
        points = np.asarray(
            [
                lps_to_pixel(image, roi[1].start_lps_mm),
                lps_to_pixel(image, roi[1].end_lps_mm),
            ],
            dtype=np.float64,
        )
        region = hd.sr.ImageRegion(
            graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
            graphic_data=points,
            source_image=hd.sr.SourceImageForRegion.from_source_image(image),
        )
        groups.append(
            hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
                referenced_region=region,
                **common,
            )
        )
    observer = observer_name or reading.reader or "UNKNOWN^READER"
    if "^" not in observer:
        observer += "^"  # one component: the whole name (PS3.5 6.2.1.2)
    context = hd.sr.ObservationContext(
        observer_person_context=hd.sr.ObserverContext(
            observer_type=codes.DCM.Person,
            observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
                name=observer
            ),
        )
    )
    report = hd.sr.MeasurementReport(
        observation_context=context,
        procedure_reported=_PROCEDURE[timepoint.modality],
        imaging_measurements=groups,
        title=codes.DCM.ImagingMeasurementReport,
        referenced_images=list(evidence.values()),
    )
    entropy = ["recist_app sr", reading.patient_id, reading.reader, visit]
    signed = verification is not None
    sr = hd.sr.Comprehensive3DSR(
        evidence=list(evidence.values()),
        content=report,
        series_instance_uid=series_instance_uid
        or str(generate_uid(entropy_srcs=[*entropy, "series"])),
        series_number=series_number,
        sop_instance_uid=sop_instance_uid or str(generate_uid(entropy_srcs=entropy)),
        instance_number=instance_number,
        manufacturer="recist_app",
        # signed means final (PS3.3 C.17.2): complete, final and verified by
        # the signer; a draft is partial, preliminary and unverified
        is_complete=signed,
        is_final=signed,
        is_verified=signed,
        verifying_observer_name=(
            None if verification is None else _person_name(verification.signer)
        ),
        verifying_organization=(
            None if verification is None else verification.organization
        ),
        series_description=f"RECIST 1.1 measurements {visit}"[:64],
    )
    if verification is not None:
        # highdicom dates the verification with its own clock: it is the signing
        sr.VerifyingObserverSequence[
            0
        ].VerificationDateTime = verification.signed_at.strftime("%Y%m%d%H%M%S%z")
    return sr


def _person_name(name: str) -> str:
    """A DICOM person name: one component holds the whole name (PS3.5 6.2.1.2)."""
    return name if "^" in name else f"{name}^"


_Group = (
    hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations
    | hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations
    | hd.sr.MeasurementsAndQualitativeEvaluations
)
"""A TID 1410, 1411 or 1501 measurement group."""
_MM_PER_UNIT = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "um": 0.001}
"""UCUM length units and their size in mm."""
_GROUP_KINDS = (
    ("planar", "TID 1410 planar"),
    ("volumetric", "TID 1411 volumetric"),
    ("image", "TID 1501 image-level"),
)


def _value(group: _Group, *names: hd.sr.CodedConcept) -> float | None:
    """The first of ``names`` measured in a length unit, in mm."""
    for name in names:
        for found in group.get_measurements(name=name):
            unit = getattr(found, "unit", None)
            scale = _MM_PER_UNIT.get(str(unit.value) if unit is not None else "mm")
            if scale is not None:
                return float(found.value) * scale
    return None


def _quantities(group: _Group) -> list[str]:
    """What a group measures, e.g. ``["Volume (mm3)"]``, for messages."""
    names = []
    for found in group.get_measurements():
        unit = getattr(found, "unit", None)
        suffix = f" ({unit.value})" if unit is not None else ""
        names.append(f"{found.name.meaning}{suffix}")
    return names


def _nothing_to_import(groups: dict[str, list[_Group]]) -> ExchangeError:
    total = sum(len(found) for found in groups.values())
    if not total:
        return ExchangeError(
            "SR: nothing to import: the report has no measurement group "
            "(TID 1410 planar, 1411 volumetric or 1501 image-level)"
        )
    kinds = ", ".join(
        f"{len(groups[key])} {label}" for key, label in _GROUP_KINDS if groups[key]
    )
    held = sorted(
        {q for found in groups.values() for g in found for q in _quantities(g)}
    )
    return ExchangeError(
        f"SR: nothing to import: its {total} measurement group(s) ({kinds}) hold "
        "no Long Axis, Short Axis, Length or Diameter in a length unit"
        + (f" (they hold {', '.join(held)})" if held else " (they hold no measurement)")
    )


def _time_point(group: _Group) -> str | None:
    for item in group[0].ContentSequence:
        name = item.ConceptNameCodeSequence[0].CodeValue
        if name in _TIME_POINT_CODES and item.ValueType == "TEXT":
            return str(item.TextValue)
    return None


def read_measurement_report(sr: Dataset) -> SrReport:
    """Parse a TID 1500 SR (as read by ``highdicom.sr.srread`` or pydicom).

    Raises
    ------
    ExchangeError
        Not a TID 1500 Measurement Report, or one with nothing to import: no
        measurement group holds a Long Axis, Short Axis, Length or Diameter.
    """
    try:
        if not isinstance(getattr(sr, "content", None), hd.sr.MeasurementReport):
            kind = _SR_CLASSES.get(str(sr.get("SOPClassUID", "")))
            if kind is None:
                raise ExchangeError(
                    f"SR: SOP class {sr.get('SOPClassUID', '(none)')} is not a "
                    "Enhanced, Comprehensive or Comprehensive 3D SR"
                )
            sr = kind.from_dataset(sr, copy=True)
        content = sr.content
        if not isinstance(content, hd.sr.MeasurementReport):
            raise ExchangeError("SR: not a TID 1500 Measurement Report")
        groups: dict[str, list[_Group]] = {
            "planar": list(content.get_planar_roi_measurement_groups()),
            "volumetric": list(content.get_volumetric_roi_measurement_groups()),
            "image": list(content.get_image_measurement_groups()),
        }
        lesions = [_lesion_of(group) for found in groups.values() for group in found]
        time_points = [
            point
            for found in groups.values()
            for group in found
            if (point := _time_point(group)) is not None
        ]
    except (AttributeError, ValueError, TypeError, KeyError, IndexError) as error:
        raise ExchangeError(
            f"SR: not a readable TID 1500 Measurement Report: {error}"
        ) from None
    if not any(
        lesion.long_axis_mm is not None or lesion.short_axis_mm is not None
        for lesion in lesions
    ):
        raise _nothing_to_import(groups)
    observers = [
        str(item.PersonName)
        for item in content[0].ContentSequence
        if item.ConceptNameCodeSequence[0].CodeValue == "121008"  # Person Observer
        and "PersonName" in item
    ]
    return SrReport(
        time_point=time_points[-1] if time_points else None,
        study_instance_uid=str(sr.StudyInstanceUID),
        observer=observers[0] if observers else None,
        lesions=tuple(lesions),
    )


def _lesion_of(group: _Group) -> SrLesion:
    """One measurement group, of any kind, as a lesion's lengths and drawn axis."""
    sites = group.finding_sites
    sop: str | None = None
    points: tuple[tuple[float, float], ...] = ()
    # only a planar group's ROI is an axis drawn on one image; a volumetric
    # group's is a segment, a surface or several regions
    roi = (
        group.roi
        if isinstance(group, hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations)
        else None
    )
    if isinstance(roi, hd.sr.ImageRegion):
        data = np.asarray(roi.value, dtype=np.float64)
        points = tuple((float(c), float(r)) for c, r in data)
        reference = roi.ContentSequence[0].ReferencedSOPSequence[0]
        sop = str(reference.ReferencedSOPInstanceUID)
    return SrLesion(
        lesion_id=str(group.tracking_identifier),
        tracking_uid=str(group.tracking_uid),
        long_axis_mm=_value(group, LONG_AXIS, *_OTHER_LENGTHS),
        short_axis_mm=_value(group, SHORT_AXIS),
        finding_site=str(sites[0].value.meaning) if sites else None,
        sop_instance_uid=sop,
        roi_points_px=points,
        method=_method_of(group),
    )


def _imported_geometry(
    found: SrLesion,
    images: Mapping[str, Dataset],
    previous: MeasurementGeometry | None,
) -> MeasurementGeometry | None:
    if found.sop_instance_uid is None or len(found.roi_points_px) != 2:
        return None
    image = images.get(found.sop_instance_uid)
    if image is None:
        raise ExchangeError(
            f"SR import: lesion {found.lesion_id}: image {found.sop_instance_uid} "
            "is not loaded"
        )
    start, end = (pixel_to_lps(image, point) for point in found.roi_points_px)
    axis = AxisGeometry(start_lps_mm=start, end_lps_mm=end)
    values = {"long_axis": found.long_axis_mm, "short_axis": found.short_axis_mm}
    # The ROI is whichever axis its drawn length matches best ...
    candidates = [
        (abs(value - axis.length_mm), name)
        for name, value in values.items()
        if value is not None
    ]
    difference, name = min(candidates) if candidates else (0.0, "long_axis")
    if difference > DRAWN_LENGTH_TOLERANCE_MM + 1e-9:
        # ... and the value must be the drawn line (to 0.1 mm)
        given = ", ".join(
            f"{n.replace('_', ' ')} {v:g} mm"
            for n, v in values.items()
            if v is not None
        )
        raise ExchangeError(
            f"SR import: lesion {found.lesion_id}: the line drawn on image "
            f"{found.sop_instance_uid} is {axis.length_mm:.1f} mm long, but the SR "
            f"gives {given}; a diameter drawn must be the length of its line"
        )
    kept = (
        previous
        if previous is not None and previous.sop_instance_uid == found.sop_instance_uid
        else None
    )
    other = "short_axis" if name == "long_axis" else "long_axis"
    kept_axis: AxisGeometry | None = getattr(kept, other) if kept else None
    other_value = values[other]
    if kept_axis is not None and (
        other_value is None
        or abs(other_value - kept_axis.length_mm) > DRAWN_LENGTH_TOLERANCE_MM + 1e-9
    ):
        kept_axis = None  # the other axis was re-measured: its old line is not it
    return MeasurementGeometry(
        series_instance_uid=str(image.SeriesInstanceUID),
        sop_instance_uid=found.sop_instance_uid,
        **{name: axis, other: kept_axis},
        method=found.method,
    )


def _check_study(
    reading: Reading,
    timepoint: TimePoint,
    found: SrLesion,
    images: Mapping[str, Dataset],
) -> None:
    """A line is drawn on an image of its visit's study, never another visit's."""
    if found.sop_instance_uid is None:
        return
    image = images.get(found.sop_instance_uid)
    if image is None:
        return  # _imported_geometry says it is not loaded
    study = str(image.get("StudyInstanceUID", ""))
    other = next(
        (
            t.visit
            for t in reading.timepoints
            if t.visit != timepoint.visit and t.study_instance_uid == study
        ),
        None,
    )
    own = timepoint.study_instance_uid
    if other is not None or (own is not None and study != own):
        whose = f"visit {other}'s study" if other is not None else f"study {study}"
        raise ExchangeError(
            f"SR import: visit {timepoint.visit}, lesion {found.lesion_id}: image "
            f"{found.sop_instance_uid} is in {whose}, not in this visit's"
        )


def _visit_of(reading: Reading, report: SrReport, visit: str | None) -> TimePoint:
    if visit is not None:
        try:
            return reading.timepoint(visit)
        except KeyError:
            raise ExchangeError(
                f"SR import: the reading has no visit {visit!r}"
            ) from None
    named = report.time_point
    if named is not None:
        same = [
            t
            for t in reading.timepoints
            if t.visit.strip().casefold() == named.strip().casefold()
        ]
        if len(same) == 1:
            return same[0]
    studies = [
        t
        for t in reading.timepoints
        if t.study_instance_uid == report.study_instance_uid
    ]
    if len(studies) == 1:
        return studies[0]
    if named is not None:
        raise ExchangeError(
            f"SR import: the reading has no visit {named!r} and no visit of study "
            f"{report.study_instance_uid}"
        )
    raise ExchangeError(
        "SR import: the SR names no time point and its study matches no visit"
    )


def import_measurement_report(
    reading: Reading,
    sr: Dataset,
    images: Mapping[str, Dataset],
    *,
    visit: str | None = None,
) -> Reading:
    """``reading`` with the target and new-lesion measurements of ``sr`` recorded.

    Lesions are matched by Tracking UID, else by Tracking Identifier (lesion id);
    the drawn axis is converted back to LPS millimetres on its image, so the
    measurement reappears where it was drawn.

    Parameters
    ----------
    reading
        The reading to update.
    sr
        A TID 1500 SR dataset.
    images
        Headers of the referenced images by SOP Instance UID.
    visit
        The visit to record into (default: the SR's time point, else its study).

    Raises
    ------
    ExchangeError
        Unknown visit or lesion, or a referenced image that is not loaded.
    """
    report = read_measurement_report(sr)
    timepoint = _visit_of(reading, report, visit)
    by_uid = {lesion_tracking_uid(reading, item): item for item in reading.lesions}
    by_id = {item.lesion_id: item for item in reading.lesions}
    for found in report.lesions:
        lesion = by_uid.get(found.tracking_uid) or by_id.get(found.lesion_id)
        if lesion is None:
            raise ExchangeError(
                f"SR import: lesion {found.lesion_id} ({found.tracking_uid}) is not "
                "in the reading"
            )
        if found.long_axis_mm is None and found.short_axis_mm is None:
            continue
        _check_study(reading, timepoint, found, images)
        try:
            if lesion.role is LesionRole.TARGET:
                previous = timepoint.measurement(lesion.lesion_id)
                geometry = _imported_geometry(
                    found, images, previous.geometry if previous else None
                )
                reading = record_measurement(
                    reading,
                    timepoint.visit,
                    Measurement(
                        lesion_id=lesion.lesion_id,
                        long_axis_mm=found.long_axis_mm,
                        short_axis_mm=found.short_axis_mm,
                        geometry=geometry,
                    ),
                )
            elif lesion.role is LesionRole.NEW:
                reading = _record_new(reading, timepoint.visit, lesion, found, images)
        except ReadingError as error:
            raise ExchangeError(f"SR import: {error}") from None
        timepoint = reading.timepoint(timepoint.visit)
    return reading


def _record_new(
    reading: Reading,
    visit: str,
    lesion: Lesion,
    found: SrLesion,
    images: Mapping[str, Dataset],
) -> Reading:
    timepoint = reading.timepoint(visit)
    previous = next(
        (o for o in timepoint.new_lesions if o.lesion_id == lesion.lesion_id), None
    ) or NewLesionObservation(
        lesion_id=lesion.lesion_id, state=NewLesionState.UNEQUIVOCAL
    )
    # The SR brings the diameters; the reader's calls on the lesion (state, E3,
    # vascular pattern J5, cytology J4) stay as the reading has them.
    observation = dataclasses.replace(
        previous,
        long_axis_mm=found.long_axis_mm,
        short_axis_mm=found.short_axis_mm,
        geometry=_imported_geometry(found, images, previous.geometry),
    )
    others = tuple(o for o in timepoint.new_lesions if o.lesion_id != lesion.lesion_id)
    updated = dataclasses.replace(timepoint, new_lesions=(*others, observation))
    return dataclasses.replace(
        reading,
        timepoints=tuple(
            updated if t.visit == visit else t for t in reading.timepoints
        ),
    )
