"""What is asked of a PACS and what it answers, the same for DICOMweb and DIMSE.

A :class:`StudyQuery` (patient id or name, study dates, modality) finds
:class:`StudyMatch` es; a study's :class:`SeriesMatch` es and their
:class:`InstanceMatch` es plan a retrieval; storing reports a
:class:`StoreOutcome`: what the server accepted and what it refused, and why.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from recist_app.pacs.errors import PacsQueryError

__all__ = [
    "NON_IMAGE_MODALITIES",
    "EchoOutcome",
    "InstanceMatch",
    "RefusedInstance",
    "SeriesMatch",
    "StoreOutcome",
    "StoredInstance",
    "StudyMatch",
    "StudyQuery",
    "dicom_date",
    "parse_date_range",
]

NON_IMAGE_MODALITIES = frozenset(
    {"SR", "KO", "PR", "DOC", "REG", "SEG", "RTSTRUCT", "RTPLAN", "RTRECORD", "OT"}
)
"""Series of these modalities hold no images to read; retrieval leaves them out."""

_MODALITY = re.compile(r"^[A-Z0-9_]{1,16}$")
_DICOM_RANGE = re.compile(r"^(\d{8})?-(\d{8})?$")


def dicom_date(value: str) -> datetime.date | None:
    """A DICOM DA value as a date; ``None`` when empty or not a valid date.

    >>> dicom_date("20240422")
    datetime.date(2024, 4, 22)
    >>> dicom_date("2024") is None
    True
    """
    text = value.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _date(text: str, whole: str) -> datetime.date:
    parsed = dicom_date(text.replace("-", "")) if text else None
    if parsed is None or (("-" in text) and len(text) != 10):
        raise PacsQueryError(
            f"study date {whole!r}: {text!r} is not a date (YYYYMMDD or YYYY-MM-DD)"
        )
    return parsed


def parse_date_range(text: str) -> tuple[datetime.date | None, datetime.date | None]:
    """A study date or a range of study dates, as typed by the user.

    ``20240101``, ``20240101-20240630`` (DICOM), open ends ``20240101-`` /
    ``-20240630``, or ISO ``2024-01-01..2024-06-30`` (``2024-01-01..``).

    >>> parse_date_range("2024-01-01..")
    (datetime.date(2024, 1, 1), None)
    >>> parse_date_range("20240101-20240630")
    (datetime.date(2024, 1, 1), datetime.date(2024, 6, 30))

    Raises
    ------
    PacsQueryError
        Not a date or a range of dates, or a range that ends before it starts.
    """
    whole = text.strip()
    if not whole:
        return None, None
    if ".." in whole:
        first, _, last = whole.partition("..")
        start = _date(first.strip(), whole) if first.strip() else None
        end = _date(last.strip(), whole) if last.strip() else None
    elif (match := _DICOM_RANGE.match(whole)) is not None:
        start = _date(match.group(1), whole) if match.group(1) else None
        end = _date(match.group(2), whole) if match.group(2) else None
    else:
        start = end = _date(whole, whole)
    if start is None and end is None:
        raise PacsQueryError(f"study date {whole!r}: a range needs a start or an end")
    if start is not None and end is not None and end < start:
        raise PacsQueryError(f"study date {whole!r}: the range ends before it starts")
    return start, end


def _check_text(value: str, what: str, limit: int) -> None:
    if len(value) > limit:
        raise ValueError(f"{what} is longer than {limit} characters")
    if "\\" in value or any(not char.isprintable() for char in value):
        raise ValueError(f"{what} {value!r} may not hold '\\' or control characters")


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyQuery:
    """Which studies to find; empty fields match anything.

    Parameters
    ----------
    patient_id
        The Patient ID (DICOM matching: ``*`` and ``?`` are wildcards).
    patient_name
        The Patient's Name (``DOE^J*``).
    date_from, date_to
        The study date range (both ends included; ``None``: open).
    modality
        A modality the study holds (``CT``, ``MR``).
    study_instance_uid
        One study.
    """

    patient_id: str = ""
    patient_name: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    modality: str = ""
    study_instance_uid: str = ""

    def __post_init__(self) -> None:
        _check_text(self.patient_id, "patient_id", 64)
        _check_text(self.patient_name, "patient_name", 64 * 5)
        _check_text(self.study_instance_uid, "study_instance_uid", 64)
        if self.modality and not _MODALITY.match(self.modality):
            raise ValueError(
                f"modality {self.modality!r} must be a DICOM modality code such as CT"
            )
        if (
            self.date_from is not None
            and self.date_to is not None
            and self.date_to < self.date_from
        ):
            raise ValueError("date_to is before date_from")

    @property
    def dicom_date_range(self) -> str:
        """The dates as a DICOM range (``YYYYMMDD-YYYYMMDD``; "" when unrestricted).

        >>> StudyQuery(date_from=datetime.date(2024, 1, 1)).dicom_date_range
        '20240101-'
        """
        if self.date_from is None and self.date_to is None:
            return ""
        start = self.date_from.strftime("%Y%m%d") if self.date_from else ""
        end = self.date_to.strftime("%Y%m%d") if self.date_to else ""
        if start and start == end:
            return start
        return f"{start}-{end}"

    @property
    def description(self) -> str:
        """The query in words, for messages."""
        parts = [
            f"patient {self.patient_id}" if self.patient_id else "",
            f"name {self.patient_name}" if self.patient_name else "",
            f"dates {self.dicom_date_range}" if self.dicom_date_range else "",
            f"modality {self.modality}" if self.modality else "",
            f"study {self.study_instance_uid}" if self.study_instance_uid else "",
        ]
        return ", ".join(part for part in parts if part) or "every study"


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyMatch:
    """A study the server holds."""

    study_instance_uid: str
    patient_id: str = ""
    patient_name: str = ""
    study_date: datetime.date | None = None
    study_time: str = ""
    description: str = ""
    accession_number: str = ""
    modalities: tuple[str, ...] = ()
    series_count: int | None = None
    instance_count: int | None = None

    def __post_init__(self) -> None:
        if not self.study_instance_uid:
            raise ValueError("a study without StudyInstanceUID")


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesMatch:
    """A series of a study the server holds."""

    study_instance_uid: str
    series_instance_uid: str
    modality: str = ""
    description: str = ""
    series_number: int | None = None
    instance_count: int | None = None

    def __post_init__(self) -> None:
        if not self.series_instance_uid:
            raise ValueError("a series without SeriesInstanceUID")

    @property
    def holds_images(self) -> bool:
        """Whether the series holds images to read (not an SR, a key-object note…)."""
        return self.modality.upper() not in NON_IMAGE_MODALITIES


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceMatch:
    """An instance (an image) of a series the server holds."""

    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    sop_class_uid: str = ""

    def __post_init__(self) -> None:
        if not self.sop_instance_uid:
            raise ValueError("an instance without SOPInstanceUID")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredInstance:
    """An instance the server accepted (``note``: a warning it gave, if any)."""

    sop_instance_uid: str
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RefusedInstance:
    """An instance the server refused, and why."""

    sop_instance_uid: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreOutcome:
    """What the server did with the instances sent to it."""

    accepted: tuple[StoredInstance, ...] = ()
    refused: tuple[RefusedInstance, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class EchoOutcome:
    """The server answered: how, and how fast."""

    server: str
    protocol: str
    elapsed_ms: float
    detail: str

    def __str__(self) -> str:
        return (
            f"{self.server}: {self.detail} ({self.protocol}, {self.elapsed_ms:.0f} ms)"
        )
