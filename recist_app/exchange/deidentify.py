"""De-identification for exports leaving the site (docs/standards.md section 4).

A :class:`Pseudonymizer` holds the site's secret key. From it every identifier is
derived with HMAC-SHA256, so the same key gives the same pseudonymous subject id,
the same date shift and the same replacement UIDs in every file and every export
session, while nobody without the key can reverse them. Dates move back by a
per-patient number of days (62-730), which keeps every interval (study days,
confirmation windows, time to event) exactly as it was: PS3.15 "Retain
Longitudinal Temporal Information with Modified Dates".

:func:`deidentify_reading` applies this to a reading (tabular, JSON and PDF
exports); :func:`deidentify_dataset` applies the DICOM PS3.15 Annex E Basic
Application Level Confidentiality Profile actions this tool's objects need to a
DICOM dataset (the CT headers an SR inherits from, and the SR itself).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydicom.dataset import Dataset
from pydicom.uid import UID

from recist_app.exchange.errors import ExchangeError

if TYPE_CHECKING:
    from pydicom.dataelem import DataElement

    from recist_app.recist import (
        Lesion,
        Measurement,
        MeasurementGeometry,
        NewLesionObservation,
        Reading,
        TimePoint,
    )

__all__ = [
    "DEIDENTIFICATION_METHOD",
    "Pseudonymizer",
    "deidentify_dataset",
    "deidentify_reading",
    "mark_deidentified",
]

DEIDENTIFICATION_METHOD = "PS3.15 Basic Profile; Modified Dates; Clean Descriptors"
"""De-identification Method (LO, at most 64 characters)."""
_MIN_SHIFT_DAYS = 62
_MAX_SHIFT_DAYS = 730

# PS3.15 Table E.1-1 actions for the attributes our CT headers and SRs carry.
# Z: keep the attribute empty (Type 2 in the IODs we write); X: remove it.
_EMPTY = (
    "AccessionNumber",
    "ReferringPhysicianName",
    "PatientBirthDate",
    "PatientSex",
    "ContentCreatorName",
)
_REMOVE = (
    "InstitutionName",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "StationName",
    "OperatorsName",
    "PerformingPhysicianName",
    "NameOfPhysiciansReadingStudy",
    "PhysiciansOfRecord",
    "RequestingPhysician",
    "OtherPatientIDs",
    "OtherPatientIDsSequence",
    "OtherPatientNames",
    "PatientBirthName",
    "PatientBirthTime",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "PatientMotherBirthName",
    "PatientAge",
    "PatientSize",
    "PatientWeight",
    "MedicalRecordLocator",
    "EthnicGroup",
    "Occupation",
    "AdditionalPatientHistory",
    "PatientComments",
    "DeviceSerialNumber",
    "StudyDescription",
    "SeriesDescription",
    "ImageComments",
    "ProtocolName",
    "RequestAttributesSequence",
    "ReferencedPatientSequence",
    "ReferencedStudySequence",
    "AdmittingDiagnosesDescription",
    "DerivationDescription",
)


@dataclass(frozen=True, slots=True)
class Pseudonymizer:
    """Keyed, stable replacements for subject ids, dates, UIDs and names.

    Parameters
    ----------
    secret
        The site's de-identification key (kept at the site, never exported).
    subject_prefix
        Prefix of pseudonymous subject ids (e.g. the protocol's site code).
    """

    secret: bytes
    subject_prefix: str = "SUBJ-"

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ExchangeError("de-identification key must be at least 16 bytes long")

    def _digest(self, kind: str, value: str) -> bytes:
        message = f"{kind}\x00{value}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).digest()

    def _number(self, kind: str, value: str) -> int:
        return int.from_bytes(self._digest(kind, value), "big")

    def subject_id(self, patient_id: str) -> str:
        """The pseudonymous id of ``patient_id`` (``SUBJ-`` + 8 digits)."""
        return f"{self.subject_prefix}{self._number('subject', patient_id) % 10**8:08d}"

    def shift_days(self, patient_id: str) -> int:
        """Days every date of ``patient_id`` moves back (62-730)."""
        span = _MAX_SHIFT_DAYS - _MIN_SHIFT_DAYS + 1
        return _MIN_SHIFT_DAYS + self._number("shift", patient_id) % span

    def shift_date(self, date: datetime.date, patient_id: str) -> datetime.date:
        """``date`` moved back by :meth:`shift_days`."""
        return date - datetime.timedelta(days=self.shift_days(patient_id))

    def uid(self, uid: str) -> str:
        """A replacement UID under the UUID-derived root ``2.25`` (PS3.5 B.2)."""
        return f"2.25.{self._number('uid', uid) >> 128}"

    def dummy_id(self, value: str) -> str:
        """An 8-digit stand-in for a short identifier such as Study ID (PS3.15 D)."""
        return f"{self._number('id', value) % 10**8:08d}"

    def person(self, name: str) -> str:
        """A stable pseudonym for a reader or other person."""
        return f"READER-{self._digest('person', name).hex()[:8].upper()}"


def _replace_geometry(
    geometry: MeasurementGeometry | None, pseudonyms: Pseudonymizer
) -> MeasurementGeometry | None:
    if geometry is None:
        return None
    return dataclasses.replace(
        geometry,
        series_instance_uid=pseudonyms.uid(geometry.series_instance_uid),
        sop_instance_uid=pseudonyms.uid(geometry.sop_instance_uid),
    )


def _optional_uid(uid: str | None, pseudonyms: Pseudonymizer) -> str | None:
    return None if uid is None else pseudonyms.uid(uid)


def deidentify_reading(reading: Reading, pseudonyms: Pseudonymizer) -> Reading:
    """``reading`` with a pseudonymous patient, shifted dates and replaced UIDs.

    Intervals between dates are unchanged, so the assessment of the result equals
    the original's except for its dates and patient id. Lesion ids, organs and
    locations are kept (they are anatomical, not personal).
    """
    patient = reading.patient_id

    def lesion(item: Lesion) -> Lesion:
        return dataclasses.replace(
            item, tracking_uid=_optional_uid(item.tracking_uid, pseudonyms)
        )

    def measurement(item: Measurement) -> Measurement:
        return dataclasses.replace(
            item, geometry=_replace_geometry(item.geometry, pseudonyms)
        )

    def new_lesion(item: NewLesionObservation) -> NewLesionObservation:
        return dataclasses.replace(
            item, geometry=_replace_geometry(item.geometry, pseudonyms)
        )

    def timepoint(item: TimePoint) -> TimePoint:
        return dataclasses.replace(
            item,
            date=pseudonyms.shift_date(item.date, patient),
            study_instance_uid=_optional_uid(item.study_instance_uid, pseudonyms),
            series_instance_uid=_optional_uid(item.series_instance_uid, pseudonyms),
            measurements=tuple(measurement(m) for m in item.measurements),
            new_lesions=tuple(new_lesion(o) for o in item.new_lesions),
        )

    return dataclasses.replace(
        reading,
        patient_id=pseudonyms.subject_id(patient),
        first_dose_date=None
        if reading.first_dose_date is None
        else pseudonyms.shift_date(reading.first_dose_date, patient),
        lesions=tuple(lesion(item) for item in reading.lesions),
        timepoints=tuple(timepoint(item) for item in reading.timepoints),
        reader=pseudonyms.person(reading.reader) if reading.reader else "",
    )


def _shift_da(value: str, days: int) -> str:
    if not value:
        return value
    try:
        date = datetime.datetime.strptime(value[:8], "%Y%m%d").date()
    except ValueError:
        return ""  # an unparseable date cannot be shifted: blank it (Z)
    return (date - datetime.timedelta(days=days)).strftime("%Y%m%d")


def _is_registered_uid(value: str) -> bool:
    """SOP classes, transfer syntaxes, coding schemes: standard, not identifying."""
    uid = UID(value)
    return uid.name != str(uid) or value.startswith("1.2.840.10008.")


def _clean_element(
    element: DataElement, pseudonyms: Pseudonymizer, days: int, keep_uids: set[str]
) -> None:
    vr = element.VR
    if element.value is None or element.value == "":
        return
    if vr == "DA":
        if element.VM > 1:
            element.value = [_shift_da(str(v), days) for v in element.value]
        else:
            element.value = _shift_da(str(element.value), days)
    elif vr == "DT":
        text = str(element.value)
        element.value = _shift_da(text[:8], days) + text[8:] if len(text) >= 8 else ""
    elif vr == "UI":
        values = element.value if element.VM > 1 else [element.value]
        replaced = [
            str(v)
            if _is_registered_uid(str(v)) or str(v) in keep_uids
            else pseudonyms.uid(str(v))
            for v in values
        ]
        element.value = replaced if element.VM > 1 else replaced[0]
    elif vr == "PN" and element.keyword != "PatientName":
        element.value = "ANONYMOUS"


def deidentify_dataset(
    dataset: Dataset,
    pseudonyms: Pseudonymizer,
    *,
    patient_id: str,
    sponsor_name: str,
    protocol_id: str,
    time_point: str | None = None,
    site_id: str = "",
) -> Dataset:
    """A de-identified copy of ``dataset`` (PS3.15 Basic profile, modified dates).

    Parameters
    ----------
    dataset
        A CT image header or an SR.
    pseudonyms
        The site key's replacements.
    patient_id
        The original patient id (selects the pseudonym and the date shift).
    sponsor_name, protocol_id, site_id
        Clinical Trial Subject module values.
    time_point
        Clinical Trial Time Point ID (the visit), if known.

    Returns
    -------
    Dataset
        Private tags removed; names, ids and descriptors replaced, emptied or
        removed; dates shifted; non-standard UIDs replaced consistently (in nested
        sequences too, so SR references stay valid against images de-identified
        with the same key); PS3.15 flags and Clinical Trial attributes added.
    """
    result = copy.deepcopy(dataset)
    result.remove_private_tags()
    days = pseudonyms.shift_days(patient_id)
    keep = {
        str(getattr(result, "file_meta", Dataset()).get("ImplementationClassUID", ""))
    }

    def clean(ds: Dataset, element: DataElement) -> None:
        _clean_element(element, pseudonyms, days, keep)

    result.walk(clean)
    if hasattr(result, "file_meta"):
        result.file_meta.walk(clean)
    for keyword in _REMOVE:
        if keyword in result:
            delattr(result, keyword)
    for keyword in _EMPTY:
        if keyword in result:
            setattr(result, keyword, "")
    if result.get("StudyID"):
        result.StudyID = pseudonyms.dummy_id(str(result.StudyID))
    mark_deidentified(
        result,
        pseudonyms.subject_id(patient_id),
        sponsor_name=sponsor_name,
        protocol_id=protocol_id,
        time_point=time_point,
        site_id=site_id,
    )
    return result


def mark_deidentified(
    dataset: Dataset,
    subject_id: str,
    *,
    sponsor_name: str,
    protocol_id: str,
    time_point: str | None = None,
    site_id: str = "",
) -> None:
    """Set the pseudonymous patient, the PS3.15 flags and Clinical Trial attributes.

    For an object built from already de-identified sources (an SR made from
    de-identified image headers), which must not have its UIDs replaced twice.
    """
    dataset.PatientName = f"{subject_id}^"  # one component: the whole name
    dataset.PatientID = subject_id
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = DEIDENTIFICATION_METHOD
    dataset.DeidentificationMethodCodeSequence = [
        _code("113100", "Basic Application Confidentiality Profile"),
        _code(
            "113107", "Retain Longitudinal Temporal Information Modified Dates Option"
        ),
        _code("113105", "Clean Descriptors Option"),
    ]
    dataset.LongitudinalTemporalInformationModified = "MODIFIED"
    dataset.ClinicalTrialSponsorName = sponsor_name
    dataset.ClinicalTrialProtocolID = protocol_id
    dataset.ClinicalTrialProtocolName = ""
    dataset.ClinicalTrialSiteID = site_id
    dataset.ClinicalTrialSiteName = ""
    dataset.ClinicalTrialSubjectID = subject_id
    if time_point is not None:
        dataset.ClinicalTrialTimePointID = time_point


def _code(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = "DCM"
    item.CodeMeaning = meaning
    return item
