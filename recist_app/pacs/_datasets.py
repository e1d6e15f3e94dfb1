"""Reading the answers of a PACS, the same for QIDO-RS and C-FIND.

Attributes come back as DICOM data sets (QIDO-RS JSON turned into data sets, or
C-FIND identifiers); these helpers read them tolerantly into the plain matches
of :mod:`recist_app.pacs.model` and put status codes into words.
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING

from recist_app.pacs.model import SeriesMatch, StudyMatch, dicom_date

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = [
    "failure_reason_text",
    "name_matches",
    "series_match",
    "study_match",
    "text_of",
]

_FAILURE_REASONS = {
    0x0110: "processing failure",
    0x0117: "invalid SOP Instance UID",
    0x0122: "SOP class not supported",
    0x0124: "not authorized",
    0xA700: "out of resources",
    0xA770: "out of resources: the study is too large",
    0xA900: "the data set does not match its SOP class",
    0xC000: "cannot understand",
    0xC122: "transfer syntax not supported",
    0xB000: "coercion of data elements",
    0xB006: "elements discarded",
    0xB007: "the data set does not match its SOP class (accepted)",
}


def failure_reason_text(code: int) -> str:
    """A STOW-RS or C-STORE status code in words.

    >>> failure_reason_text(0xA700)
    'out of resources (0xA700)'
    """
    text = _FAILURE_REASONS.get(code, "failure")
    return f"{text} (0x{code:04X})"


def text_of(dataset: Dataset, keyword: str) -> str:
    value = dataset.get(keyword)
    if value is None:
        return ""
    return str(value).strip()


def _number(dataset: Dataset, keyword: str) -> int | None:
    value = dataset.get(keyword)
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _modalities(dataset: Dataset) -> tuple[str, ...]:
    value = dataset.get("ModalitiesInStudy")
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(part for part in value.split("\\") if part)
    return tuple(str(item) for item in value)


def study_match(dataset: Dataset) -> StudyMatch:
    """A study answer (QIDO-RS or C-FIND) as a :class:`StudyMatch`."""
    return StudyMatch(
        study_instance_uid=text_of(dataset, "StudyInstanceUID"),
        patient_id=text_of(dataset, "PatientID"),
        patient_name=text_of(dataset, "PatientName"),
        study_date=dicom_date(text_of(dataset, "StudyDate")),
        study_time=text_of(dataset, "StudyTime"),
        description=text_of(dataset, "StudyDescription"),
        accession_number=text_of(dataset, "AccessionNumber"),
        modalities=_modalities(dataset),
        series_count=_number(dataset, "NumberOfStudyRelatedSeries"),
        instance_count=_number(dataset, "NumberOfStudyRelatedInstances"),
    )


def series_match(dataset: Dataset, study_instance_uid: str) -> SeriesMatch:
    """A series answer (QIDO-RS or C-FIND) as a :class:`SeriesMatch`."""
    return SeriesMatch(
        study_instance_uid=text_of(dataset, "StudyInstanceUID") or study_instance_uid,
        series_instance_uid=text_of(dataset, "SeriesInstanceUID"),
        modality=text_of(dataset, "Modality"),
        description=text_of(dataset, "SeriesDescription"),
        series_number=_number(dataset, "SeriesNumber"),
        instance_count=_number(dataset, "NumberOfSeriesRelatedInstances"),
    )


def name_matches(name: str, pattern: str) -> bool:
    """Whether ``name`` matches a DICOM wildcard ``pattern`` (``*``, ``?``).

    Case-insensitive, as most servers match person names (PS3.4 C.2.2.2.4).

    >>> name_matches("DEMO^UNREAD", "demo^un*")
    True
    >>> name_matches("DEMOXUNREAD", "DEMO^UN*")
    False
    """
    translated = pattern.upper().replace("[", "[[]")
    return fnmatch.fnmatchcase(name.upper(), translated)
