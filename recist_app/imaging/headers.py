"""Header-only reading of DICOM files into :class:`SliceHeader` records.

Two readers produce the same record:

* :func:`read_slice_header` uses pydicom (``stop_before_pixels``) and understands
  every transfer syntax, enhanced multi-frame objects and malformed files; its
  warnings are collected, never printed.
* :func:`scan_slice_header` is a small raw parser for the common case (single
  frame, uncompressed little endian). It reads only the first bytes of the
  file, is several times faster than a full pydicom parse, and returns ``None``
  for anything unusual so the caller falls back to pydicom.
"""

from __future__ import annotations

import math
import os
import re
import stat
import struct
import warnings
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pydicom
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels.decoders.base import get_decoder
from pydicom.tag import BaseTag
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from recist_app.imaging.errors import NotDicomError, SliceReadError
from recist_app.imaging.identifiers import with_derived_identifiers
from recist_app.imaging.limits import (
    MAX_COORDINATE_MM,
    MAX_FILE_BYTES,
    MAX_FRAME_PIXELS,
    MAX_FRAMES,
    MAX_INFLATED_BYTES,
    MAX_SPACING_MM,
    format_bytes,
)

__all__ = [
    "SliceHeader",
    "decoder_problem",
    "limit_problem",
    "read_slice_header",
    "scan_slice_header",
    "usability_problem",
]

Triple = tuple[float, float, float]
Orientation = tuple[float, float, float, float, float, float]

_NATIVE_LITTLE_ENDIAN = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
_PIXEL_DATA_TAG = 0x7FE00010
_FLOAT_PIXEL_TAGS = (0x7FE00008, 0x7FE00009)
_MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
_ORTHOGONAL_TOLERANCE = 1e-3
_LOCALIZER_TYPES = frozenset({"LOCALIZER", "SCOUT", "TOPOGRAM", "SCANOGRAM"})


_DICOM_SUFFIXES = (".dcm", ".dicom", ".dic")
_IDENTIFIER_FIELDS = (
    "patient_id",
    "study_instance_uid",
    "series_instance_uid",
    "sop_instance_uid",
)
_BYTES_PER_VALUE = {
    "US": 2,
    "SS": 2,
    "UL": 4,
    "SL": 4,
    "FL": 4,
    "AT": 4,
    "FD": 8,
    "SV": 8,
    "UV": 8,
    "OW": 2,
    "OL": 4,
    "OF": 4,
    "OD": 8,
    "OV": 8,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SliceHeader:
    """What the imaging layer needs from one DICOM file, without pixel data.

    ``frame_positions_lps_mm`` has one LPS position per frame (one for a
    single-frame file) or is empty when the file has no patient geometry.
    ``pixel_spacing_mm`` is ``(row spacing, column spacing)`` as in DICOM.
    ``pixel_data_offset`` is set only for uncompressed little-endian pixel data:
    the byte offset of the first pixel in the file (fast path);
    ``pixel_data_length`` is the defined length of uncompressed pixel data.
    ``frame_geometry_problem`` says why a multi-frame object's frames cannot be
    placed, when they cannot. ``derived_identifiers`` names the identifiers the
    file lacked and that were derived from its content
    (:mod:`recist_app.imaging.identifiers`), e.g. ``("PatientID",)``.
    """

    path: str
    transfer_syntax_uid: str = ""
    sop_class_uid: str = ""
    sop_instance_uid: str = ""
    series_instance_uid: str = ""
    study_instance_uid: str = ""
    frame_of_reference_uid: str = ""
    patient_id: str = ""
    patient_name: str = ""
    patient_birth_date: str = ""
    patient_sex: str = ""
    study_date: str = ""
    study_time: str = ""
    study_description: str = ""
    accession_number: str = ""
    series_date: str = ""
    series_time: str = ""
    series_description: str = ""
    series_number: int | None = None
    modality: str = ""
    image_type: tuple[str, ...] = ()
    contrast_bolus_agent: str = ""
    body_part_examined: str = ""
    instance_number: int | None = None
    acquisition_number: int | None = None
    echo_number: int | None = None
    temporal_position: int | None = None
    rows: int = 0
    columns: int = 0
    bits_allocated: int = 0
    bits_stored: int = 0
    pixel_representation: int = 0
    samples_per_pixel: int = 1
    photometric_interpretation: str = ""
    number_of_frames: int = 1
    frame_positions_lps_mm: tuple[Triple, ...] = ()
    orientation: Orientation | None = None
    pixel_spacing_mm: tuple[float, float] | None = None
    slice_thickness_mm: float | None = None
    spacing_between_slices_mm: float | None = None
    gantry_tilt_deg: float | None = None
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    window_centers: tuple[float, ...] = ()
    window_widths: tuple[float, ...] = ()
    has_pixel_data: bool = True
    float_pixel_data: bool = False
    pixel_data_offset: int | None = None
    pixel_data_length: int | None = None
    is_directory: bool = False
    mixed_frame_orientations: bool = False
    frame_geometry_problem: str = ""
    derived_identifiers: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def is_localizer(self) -> bool:
        """Whether Image Type marks a localizer/scout (excluded from volumes)."""
        return any(value.upper() in _LOCALIZER_TYPES for value in self.image_type[2:])

    @property
    def frame_bytes(self) -> int:
        """Bytes of one uncompressed frame."""
        return (
            self.rows
            * self.columns
            * self.samples_per_pixel
            * (self.bits_allocated // 8)
        )


# ---------------------------------------------------------------- value helpers


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1", "replace").strip(" \0")
    return str(value).strip(" \0")


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        value = value[0] if len(value) else None
        if value is None:
            return None
    number = float(value)
    return number if math.isfinite(number) else None


def _length_mm(value: Any) -> float | None:
    """A positive length (thickness, spacing) up to the limit, else ``None``."""
    number = _number(value)
    return number if number is not None and 0 < number <= MAX_SPACING_MM else None


def _integer(value: Any) -> int | None:
    # pydicom's IS goes through float; the text is exact even for 20 digits
    text = getattr(value, "original_string", value)
    if isinstance(text, str) and text.strip().lstrip("+-").isdigit():
        return int(text.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    number = _number(value)
    return None if number is None else int(number)


def _floats(value: Any, count: int | None = None) -> tuple[float, ...] | None:
    if value is None or value == "":
        return None
    items = (
        list(value)
        if isinstance(value, Iterable) and not isinstance(value, str)
        else [value]
    )
    numbers = tuple(float(item) for item in items)
    if count is not None and len(numbers) != count:
        return None
    if not all(math.isfinite(n) for n in numbers):
        return None
    return numbers


def _strings(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split("\\"))
    return tuple(_text(item) for item in value)


def _triple(value: Any) -> Triple | None:
    numbers = _floats(value, 3)
    return None if numbers is None else (numbers[0], numbers[1], numbers[2])


def _orientation(value: Any) -> Orientation | None:
    numbers = _floats(value, 6)
    if numbers is None:
        return None
    row, column = numbers[:3], numbers[3:]
    if not (0.5 < math.hypot(*row) < 1.5 and 0.5 < math.hypot(*column) < 1.5):
        return None
    return (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5])


def _spacing(value: Any) -> tuple[float, float] | None:
    numbers = _floats(value, 2)
    if numbers is None or not all(0 < n <= MAX_SPACING_MM for n in numbers):
        return None
    return (numbers[0], numbers[1])


class _FieldError(Exception):
    """An element's value cannot be decoded; the message names the element."""


def _field_problem(dataset: Dataset, keyword: str, error: Exception) -> str:
    """Why pydicom could not decode ``keyword``, in a few words."""
    try:
        raw = dataset.get_item(keyword)
    except Exception:  # the element is unreadable even raw
        raw = None
    vr = str(getattr(raw, "VR", "") or "")
    length = getattr(raw, "length", None)
    size = _BYTES_PER_VALUE.get(vr)
    if isinstance(length, int) and size is not None and length % size:
        unit = "byte" if length == 1 else "bytes"
        return (
            f"a value of {length} {unit} is not valid for VR {vr} "
            f"({size} bytes per value)"
        )
    detail = " ".join(str(error).split())[:120] or type(error).__name__
    return f"unreadable value ({detail})"


# ------------------------------------------------------- plain values, read raw
#
# Converting an element is most of what reading a header costs (pydicom builds a
# DataElement, converts and validates its value): discovery of a trial's images
# spent 2.5 x the time of the bare read in it (issue 23). The values discovery
# needs are mostly short ASCII text that pydicom would accept as they are; those
# are decoded here directly from the raw element. Anything else (another VR than
# the dictionary's, non-ASCII text, a value pydicom might warn about or refuse, a
# wrong length) goes through pydicom as before, so its warnings and its errors
# are unchanged: each pattern below accepts only values pydicom takes silently.

_SLOW = object()
"""Returned by :func:`_plain_value` when pydicom must decode the element."""

_PLAIN_TEXT = {  # VR -> one value that pydicom converts without a warning
    "UI": re.compile(rb"[0-9][0-9.]{0,63}"),
    "DS": re.compile(
        rb" *[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,2})? *"
    ),
    "IS": re.compile(rb" *[-+]?[0-9]{1,9} *"),
    "CS": re.compile(rb"[A-Z0-9 _]{0,16}"),
    "DA": re.compile(rb"[0-9]{8}"),
    "TM": re.compile(rb"[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:\.[0-9]{1,6})?)?)? *"),
    "SH": re.compile(rb"[ -\[\]-~]{0,16}"),  # printable ASCII but backslash
    "LO": re.compile(rb"[ -\[\]-~]{0,64}"),
    "PN": re.compile(rb"[ -<>-\[\]-~]{0,64}"),  # and no '=' (component groups)
}
_PER_FRAME_GROUPS_TAG = BaseTag(0x52009230)  # PerFrameFunctionalGroupsSequence
_SHARED_GROUPS_TAG = BaseTag(0x52009229)  # SharedFunctionalGroupsSequence
_DIRECTORY_RECORDS_TAG = BaseTag(0x00041220)  # DirectoryRecordSequence
_DS_MAX, _MULTI_VALUED = 16, frozenset({"DS", "IS", "CS"})
_NOT_PLAIN = (BaseTag(0), "", None, False)
_PLAIN_KEYWORDS: dict[str, tuple[BaseTag, str, re.Pattern[bytes] | None, bool]] = {}
"""keyword -> (tag, VR, pattern of one value, multi-valued); :data:`_NOT_PLAIN`
for a keyword pydicom decodes (computed once per keyword: issue 23)."""


def _plain_keyword(
    keyword: str,
) -> tuple[BaseTag, str, re.Pattern[bytes] | None, bool]:
    """``(tag, VR, pattern, multi-valued)`` of a keyword read raw.

    :data:`_NOT_PLAIN` (VR ``""``) when pydicom decodes it.
    """
    known = _PLAIN_KEYWORDS.get(keyword)
    if known is None:
        tag = pydicom.datadict.tag_for_keyword(keyword)
        vr = "" if tag is None else pydicom.datadict.dictionary_VR(tag)
        if tag is None or (vr not in _PLAIN_TEXT and vr != "US"):
            known = _NOT_PLAIN
        else:
            known = (BaseTag(tag), vr, _PLAIN_TEXT.get(vr), vr in _MULTI_VALUED)
        _PLAIN_KEYWORDS[keyword] = known
    return known


def _plain_value(dataset: Dataset, keyword: str) -> Any:
    """The value of ``keyword`` decoded from its raw bytes, or :data:`_SLOW`.

    Text comes back as ``str`` (a list of them when multi-valued), US as ``int``,
    an absent element as ``None``: what the value helpers above take from
    pydicom, for the same values.
    """
    tag, vr, pattern, multi = _PLAIN_KEYWORDS.get(keyword) or _plain_keyword(keyword)
    if not vr:
        return _SLOW
    raw = dataset._dict.get(tag)  # pydicom's own element store
    if raw is None:
        return None
    if not isinstance(raw, RawDataElement) or raw.VR not in (None, vr):
        return _SLOW
    value = raw.value
    if value is None:
        return _SLOW
    if pattern is None:  # US
        if len(value) != 2:
            return _SLOW
        return int.from_bytes(value, "little" if raw.is_little_endian else "big")
    if not multi:
        if pattern.fullmatch(value.rstrip(b"\0")) is None:
            return _SLOW
        return value.decode("ascii").strip(" \0")
    parts = value.rstrip(b" \0").split(b"\\")
    for part in parts:
        if pattern.fullmatch(part.rstrip(b"\0")) is None or (
            vr == "DS" and len(part) > _DS_MAX
        ):
            return _SLOW
    if len(parts) == 1:
        return parts[0].decode("ascii").strip(" \0")
    return [part.decode("ascii").strip(" \0") for part in parts]


def _getter(dataset: Dataset | None) -> Any:
    """``dataset.get`` that turns a value pydicom cannot decode into _FieldError."""

    def get(keyword: str) -> Any:
        if dataset is None:
            return None
        value = _plain_value(dataset, keyword)
        if value is not _SLOW:
            return value
        try:
            return dataset.get(keyword)
        except Exception as error:  # any decoding failure of pydicom
            raise _FieldError(
                f"{keyword}: {_field_problem(dataset, keyword, error)}"
            ) from error

    return get


def _first_item(dataset: Dataset | None, keyword: str) -> Dataset | None:
    sequence = _getter(dataset)(keyword)
    if not sequence:
        return None
    item = sequence[0]
    return item if isinstance(item, Dataset) else None


# ---------------------------------------------------------------- pydicom reader


def decoder_problem(transfer_syntax_uid: str) -> str | None:
    """Return why pixel data in this transfer syntax cannot be decoded, or ``None``."""
    if transfer_syntax_uid in (*_NATIVE_LITTLE_ENDIAN, ExplicitVRBigEndian):
        return None
    if transfer_syntax_uid == DeflatedExplicitVRLittleEndian:
        return None
    try:
        decoder = get_decoder(transfer_syntax_uid)
    except NotImplementedError:
        name = pydicom.uid.UID(transfer_syntax_uid).name
        return f"unsupported transfer syntax {name} (no decoder exists)"
    except ValueError:
        return f"unknown transfer syntax {transfer_syntax_uid!r}"
    if not decoder.is_available:
        name = pydicom.uid.UID(transfer_syntax_uid).name
        return f"transfer syntax {name} needs a decoder package that is not installed"
    return None


def _pixel_element_at(
    handle: Any, little_endian: bool, explicit: bool
) -> tuple[int, int | None] | None:
    """Tag and value length of the element at the file position, if any."""
    raw = handle.read(12)
    if len(raw) < 8:
        return None
    order = "<" if little_endian else ">"
    group, element = struct.unpack(order + "HH", raw[:4])
    tag = (group << 16) | element
    if explicit:
        if len(raw) < 12:
            return (tag, None)
        length = struct.unpack(order + "L", raw[8:12])[0]
    else:
        length = struct.unpack(order + "L", raw[4:8])[0]
    return (tag, None if length == 0xFFFFFFFF else int(length))


def _frame_geometry(dataset: Dataset, frames: int) -> dict[str, Any]:
    """Geometry of an enhanced multi-frame object from its functional groups."""
    shared = _first_item(dataset, "SharedFunctionalGroupsSequence")
    per_frame = _getter(dataset)("PerFrameFunctionalGroupsSequence") or []
    measures = _first_item(shared, "PixelMeasuresSequence")
    plane = _first_item(shared, "PlaneOrientationSequence")
    transform = _first_item(shared, "PixelValueTransformationSequence")
    voi = _first_item(shared, "FrameVOILUTSequence")
    first = per_frame[0] if len(per_frame) else None
    measures = measures or _first_item(first, "PixelMeasuresSequence")
    plane = plane or _first_item(first, "PlaneOrientationSequence")
    transform = transform or _first_item(first, "PixelValueTransformationSequence")
    voi = voi or _first_item(first, "FrameVOILUTSequence")
    positions: list[Triple] = []
    orientations: set[Orientation | None] = set()
    for item in per_frame:
        position = _first_item(item, "PlanePositionSequence")
        triple = _triple(_getter(position)("ImagePositionPatient"))
        if triple is None:
            positions = []
            break
        positions.append(triple)
        own_plane = _first_item(item, "PlaneOrientationSequence")
        if own_plane is not None:
            orientations.add(
                _orientation(_getter(own_plane)("ImageOrientationPatient"))
            )
    result: dict[str, Any] = {
        "frame_positions_lps_mm": tuple(positions) if len(positions) == frames else (),
        "orientation": _orientation(_getter(plane)("ImageOrientationPatient")),
    }
    if len(per_frame) and len(positions) != frames:
        result["frame_geometry_problem"] = (
            f"PerFrameFunctionalGroupsSequence places {len(positions)} of "
            f"{frames} frames: cannot place the frames"
        )
    if len(orientations) > 1:
        result["mixed_frame_orientations"] = True
    if measures is not None:
        get = _getter(measures)
        result["pixel_spacing_mm"] = _spacing(get("PixelSpacing"))
        result["slice_thickness_mm"] = _length_mm(get("SliceThickness"))
        result["spacing_between_slices_mm"] = _length_mm(get("SpacingBetweenSlices"))
    if transform is not None:
        get = _getter(transform)
        result["rescale_slope"] = _number(get("RescaleSlope")) or 1.0
        result["rescale_intercept"] = _number(get("RescaleIntercept")) or 0.0
    if voi is not None:
        get = _getter(voi)
        result["window_centers"] = _floats(get("WindowCenter")) or ()
        result["window_widths"] = _floats(get("WindowWidth")) or ()
    return result


def _header_fields(dataset: Dataset) -> dict[str, Any]:
    get = _getter(dataset)
    frames = _integer(get("NumberOfFrames"))
    frames = 1 if frames is None or frames == 0 else frames
    fields: dict[str, Any] = {
        "sop_class_uid": _text(get("SOPClassUID")),
        "sop_instance_uid": _text(get("SOPInstanceUID")),
        "series_instance_uid": _text(get("SeriesInstanceUID")),
        "study_instance_uid": _text(get("StudyInstanceUID")),
        "frame_of_reference_uid": _text(get("FrameOfReferenceUID")),
        "patient_id": _text(get("PatientID")),
        "patient_name": _text(get("PatientName")),
        "patient_birth_date": _text(get("PatientBirthDate")),
        "patient_sex": _text(get("PatientSex")),
        "study_date": _text(get("StudyDate")),
        "study_time": _text(get("StudyTime")),
        "study_description": _text(get("StudyDescription")),
        "accession_number": _text(get("AccessionNumber")),
        "series_date": _text(get("SeriesDate")),
        "series_time": _text(get("SeriesTime")),
        "series_description": _text(get("SeriesDescription")),
        "series_number": _integer(get("SeriesNumber")),
        "modality": _text(get("Modality")),
        "image_type": _strings(get("ImageType")),
        "contrast_bolus_agent": _text(get("ContrastBolusAgent")),
        "body_part_examined": _text(get("BodyPartExamined")),
        "instance_number": _integer(get("InstanceNumber")),
        "acquisition_number": _integer(get("AcquisitionNumber")),
        "echo_number": _integer(get("EchoNumbers")),
        "temporal_position": _integer(get("TemporalPositionIdentifier")),
        "rows": _integer(get("Rows")) or 0,
        "columns": _integer(get("Columns")) or 0,
        "bits_allocated": _integer(get("BitsAllocated")) or 0,
        "bits_stored": _integer(get("BitsStored"))
        or _integer(get("BitsAllocated"))
        or 0,
        "pixel_representation": _integer(get("PixelRepresentation")) or 0,
        "samples_per_pixel": _integer(get("SamplesPerPixel")) or 1,
        "photometric_interpretation": _text(get("PhotometricInterpretation")).upper(),
        "number_of_frames": frames,
        "orientation": _orientation(get("ImageOrientationPatient")),
        "pixel_spacing_mm": _spacing(get("PixelSpacing")),
        "slice_thickness_mm": _length_mm(get("SliceThickness")),
        "spacing_between_slices_mm": _length_mm(get("SpacingBetweenSlices")),
        "gantry_tilt_deg": _number(get("GantryDetectorTilt")),
        "rescale_slope": _number(get("RescaleSlope")) or 1.0,
        "rescale_intercept": _number(get("RescaleIntercept")) or 0.0,
        "window_centers": _floats(get("WindowCenter")) or (),
        "window_widths": _floats(get("WindowWidth")) or (),
    }
    if not 1 <= frames <= MAX_FRAMES:
        return fields  # refused by usability_problem; never expand the frames
    position = _triple(get("ImagePositionPatient"))
    if (
        _PER_FRAME_GROUPS_TAG in dataset._dict  # the tags, not keywords (issue 23)
        or _SHARED_GROUPS_TAG in dataset._dict
    ):
        for key, value in _frame_geometry(dataset, frames).items():
            if (value is not None and value != ()) or key == "frame_positions_lps_mm":
                fields[key] = value
    elif position is not None and frames == 1:
        fields["frame_positions_lps_mm"] = (position,)
    elif position is not None and frames > 1:
        fields["frame_positions_lps_mm"] = _legacy_frame_positions(
            position, fields["orientation"], fields["spacing_between_slices_mm"], frames
        )
        if not fields["frame_positions_lps_mm"]:
            fields["frame_geometry_problem"] = (
                "multi-frame image without SpacingBetweenSlices or per-frame "
                f"positions: cannot place its {frames} frames"
            )
    return fields


def _legacy_frame_positions(
    first: Triple, orientation: Orientation | None, spacing: float | None, frames: int
) -> tuple[Triple, ...]:
    """Frame positions of a legacy multi-frame (e.g. NM/MR) from the spacing."""
    if orientation is None or spacing is None or spacing <= 0:
        return ()
    row, column = orientation[:3], orientation[3:]
    normal = (
        row[1] * column[2] - row[2] * column[1],
        row[2] * column[0] - row[0] * column[2],
        row[0] * column[1] - row[1] * column[0],
    )
    return tuple(
        (
            first[0] + index * spacing * normal[0],
            first[1] + index * spacing * normal[1],
            first[2] + index * spacing * normal[2],
        )
        for index in range(frames)
    )


def _warning_lines(caught: Sequence[warnings.WarningMessage]) -> tuple[str, ...]:
    lines: list[str] = []
    for item in caught:
        line = " ".join(str(item.message).split())
        if line and line not in lines:
            lines.append(line[:200])
    return tuple(lines)


def read_slice_header(path: str | os.PathLike[str]) -> SliceHeader:
    """Read one file's header with pydicom, without its pixel data.

    Parameters
    ----------
    path
        The file to read.

    Returns
    -------
    SliceHeader
        The header; pydicom's warnings about the file are in ``warnings``.

    Raises
    ------
    NotDicomError
        The file is not DICOM (callers skip it silently).
    SliceReadError
        The file is DICOM but its header cannot be parsed, is truncated or breaks
        a limit of :mod:`recist_app.imaging.limits`; the message is one line
        naming the file.
    """
    name = os.fspath(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            header = _read_header(name)
        except SliceReadError:
            raise
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise SliceReadError(f"{name}: cannot read: {reason}") from error
        except _FieldError as error:
            raise SliceReadError(
                f"{name}: cannot parse the DICOM header: {error}"
            ) from error
        except Exception as error:  # pydicom on a damaged file
            # pydicom raises many types on damaged input (BytesLengthException,
            # struct.error, RecursionError, MemoryError...): each is one line.
            raise SliceReadError(
                f"{name}: cannot parse the DICOM header: {_detail(error)}"
            ) from error
    if caught:
        header = _with_warnings(header, _warning_lines(caught))
    return header


def _detail(error: BaseException) -> str:
    text = " ".join(str(error).split())[:160]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _read_header(name: str) -> SliceHeader:
    status = os.stat(name)
    if not stat.S_ISREG(status.st_mode):  # a FIFO or device would block the read
        raise NotDicomError(f"{name}: not a regular file")
    size = status.st_size
    if size > MAX_FILE_BYTES:
        raise SliceReadError(
            f"{name}: the file's {format_bytes(size)} exceed the limit of "
            f"{format_bytes(MAX_FILE_BYTES)}"
        )
    try:
        # one open for the raw meta check and pydicom's read (issue 23)
        with open(name, "rb") as handle:
            meta = _raw_file_meta(name, size, handle)
            if meta is not None and meta[1] == DeflatedExplicitVRLittleEndian:
                _check_inflation(name, meta[0])
            handle.seek(0)
            header = _read_with_pydicom(name, force=False, handle=handle)
    except InvalidDicomError as error:
        if _looks_like_headerless_dicom(name):
            return _with_identifiers(_read_headerless(name))
        if name.lower().endswith(_DICOM_SUFFIXES):
            raise SliceReadError(
                f"{name}: named {os.path.splitext(name)[1]} but not readable as "
                "DICOM (no preamble, no data set)"
            ) from error
        raise NotDicomError(f"{name}: not a DICOM file") from error
    return _with_identifiers(header)


def _with_identifiers(header: SliceHeader) -> SliceHeader:
    return header if header.is_directory else with_derived_identifiers(header)


def _raw_file_meta(name: str, size: int, handle: Any) -> tuple[int, str] | None:
    """``(end offset, transfer syntax)`` of the file meta group, read raw.

    Raises
    ------
    SliceReadError
        The file ends inside its file meta information.
    """
    start = handle.read(144)
    if start[128:132] != b"DICM":
        return None
    if len(start) < 144 or start[132:138] != b"\x02\x00\x00\x00UL":
        if len(start) < 144:
            raise SliceReadError(
                f"{name}: truncated inside its file meta information "
                f"(the file ends at byte {size})"
            )
        return None  # no group length: leave the meta to pydicom
    meta_end = 144 + int(struct.unpack_from("<L", start, 140)[0])
    if size < meta_end:
        raise SliceReadError(
            f"{name}: truncated inside its file meta information "
            f"({size} of {meta_end} bytes)"
        )
    buffer = start + handle.read(meta_end - 144)
    found: dict[int, bytes] = {}
    try:
        _walk(buffer, 132, True, found, nested=False)
        syntax = found.get(0x00020010, b"").decode("ascii").strip(" \0")
    except (_ScanAbortError, struct.error, UnicodeDecodeError):
        return None
    return meta_end, syntax


def _check_inflation(name: str, start: int) -> None:
    """Inflate a deflated data set, keeping nothing, to refuse a corrupt or huge one."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    inflated = 0
    with open(name, "rb") as handle:
        handle.seek(start)
        try:
            while chunk := handle.read(1 << 20):
                while chunk:
                    inflated += len(inflater.decompress(chunk, 1 << 24))
                    chunk = inflater.unconsumed_tail
                    if inflated > MAX_INFLATED_BYTES:
                        raise SliceReadError(
                            f"{name}: the deflated data set inflates to more than "
                            f"the limit of {format_bytes(MAX_INFLATED_BYTES)}"
                        )
        except zlib.error as error:
            raise SliceReadError(
                f"{name}: corrupt deflated data set: {_detail(error)}"
            ) from error


def _looks_like_headerless_dicom(name: str) -> bool:
    """Whether a file without preamble starts like a DICOM data set.

    Old ACR-NEMA files and stripped exports start directly with an element of
    group 0002 or 0008, often its group length (gggg,0000).
    """
    try:
        with open(name, "rb") as handle:
            start = handle.read(8)
    except OSError:
        return False
    return start[:2] in (b"\x02\x00", b"\x08\x00", b"\x00\x08")


def _read_headerless(name: str) -> SliceHeader:
    try:
        header = _read_with_pydicom(name, force=True)
    except SliceReadError:
        raise
    except Exception as error:  # pydicom on a damaged file
        raise SliceReadError(
            f"{name}: no DICOM preamble, and the data set cannot be parsed: "
            f"{_detail(error)}"
        ) from error
    if not (
        header.sop_class_uid
        or header.series_instance_uid
        or header.rows
        or header.has_pixel_data
    ):
        raise SliceReadError(
            f"{name}: no DICOM preamble, and no image in what reads as a data set"
        )
    return replace(header, warnings=(*header.warnings, "no DICOM preamble/file meta"))


def _with_warnings(header: SliceHeader, lines: tuple[str, ...]) -> SliceHeader:
    return replace(header, warnings=header.warnings + lines)


def _encoding_syntax(dataset: Dataset) -> str:
    """The transfer syntax a data set without file meta was actually read in."""
    implicit, little = getattr(dataset, "original_encoding", (True, True))
    if implicit is None or little is None:
        return ImplicitVRLittleEndian
    if implicit:
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little else ExplicitVRBigEndian


def _read_with_pydicom(
    name: str, *, force: bool, handle: Any | None = None
) -> SliceHeader:
    if handle is None:
        with open(name, "rb") as own:
            return _read_with_pydicom(name, force=force, handle=own)
    dataset = pydicom.dcmread(handle, stop_before_pixels=True, force=force)
    position = handle.tell()
    meta = getattr(dataset, "file_meta", None) or Dataset()
    syntax = _meta_text(meta, "TransferSyntaxUID")
    if not syntax:
        syntax = _encoding_syntax(dataset)
    if _meta_text(meta, "MediaStorageSOPClassUID") == _MEDIA_STORAGE_DIRECTORY or (
        _DIRECTORY_RECORDS_TAG in dataset._dict
    ):
        return SliceHeader(path=name, transfer_syntax_uid=syntax, is_directory=True)
    fields = _header_fields(dataset)
    pixel = _locate_pixels(name, handle, position, syntax)
    return SliceHeader(path=name, transfer_syntax_uid=syntax, **fields, **pixel)


def _meta_text(meta: Dataset, keyword: str) -> str:
    """A file meta element's text, without pydicom's keyword lookup (issue 23).

    ``meta.get(keyword)`` converts the element through pydicom's attribute
    machinery, about 8 µs a file for each of the two read here. A raw element
    pydicom would take silently is decoded as :func:`_plain_value` decodes it; one
    pydicom has converted already (it reads the transfer syntax itself) gives its
    value; anything else goes through ``meta.get`` as before.
    """
    value = _plain_value(meta, keyword)
    if value is _SLOW:
        tag = (_PLAIN_KEYWORDS.get(keyword) or _plain_keyword(keyword))[0]
        element = meta._dict.get(tag)
        value = element.value if isinstance(element, DataElement) else meta.get(keyword)
    return _text(value)


def _locate_pixels(
    name: str, handle: Any, position: int, syntax: str
) -> dict[str, Any]:
    """Find the pixel data element after a ``stop_before_pixels`` read."""
    if syntax == DeflatedExplicitVRLittleEndian:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            full = pydicom.dcmread(name, specific_tags=["PixelData", "FloatPixelData"])
        return {
            "has_pixel_data": "PixelData" in full,
            "float_pixel_data": "FloatPixelData" in full,
        }
    little_endian = syntax != ExplicitVRBigEndian
    explicit = syntax != ImplicitVRLittleEndian
    handle.seek(position)
    element = _pixel_element_at(handle, little_endian, explicit)
    if element is None or element[0] != _PIXEL_DATA_TAG:
        floating = element is not None and element[0] in _FLOAT_PIXEL_TAGS
        return {"has_pixel_data": False, "float_pixel_data": floating}
    length = element[1]
    header_size = 12 if explicit else 8
    offset = position + header_size
    size = os.fstat(handle.fileno()).st_size
    if length is not None and offset + length > size:
        raise SliceReadError(
            f"{name}: truncated: pixel data needs {length} bytes, "
            f"the file holds {max(0, size - offset)}"
        )
    if syntax in _NATIVE_LITTLE_ENDIAN and length is not None:
        return {"pixel_data_offset": offset, "pixel_data_length": length}
    if syntax == ExplicitVRBigEndian and length is not None:
        return {"pixel_data_length": length}
    return {}


# ---------------------------------------------------------------- fast raw scanner

_LONG_VRS = frozenset(
    {
        b"OB",
        b"OD",
        b"OF",
        b"OL",
        b"OV",
        b"OW",
        b"SQ",
        b"SV",
        b"UC",
        b"UN",
        b"UR",
        b"UT",
        b"UV",
    }
)
_SCAN_BYTES = 32768
_UNDEFINED = 0xFFFFFFFF
_ITEM = 0xFFFEE000
_ITEM_END = 0xFFFEE00D
_SEQUENCE_END = 0xFFFEE0DD

# tag -> (field, kind); kinds: s text, u uint16, i int string, f decimal, t triple,
# o orientation, p spacing, m multi-valued text, F multi-valued decimal
_SCAN_TAGS: dict[int, tuple[str, str]] = {
    0x00020010: ("transfer_syntax_uid", "s"),
    0x00080008: ("image_type", "m"),
    0x00080016: ("sop_class_uid", "s"),
    0x00080018: ("sop_instance_uid", "s"),
    0x00080060: ("modality", "s"),
    0x00100020: ("patient_id", "s"),
    0x00180050: ("slice_thickness_mm", "f"),
    0x00180088: ("spacing_between_slices_mm", "f"),
    0x00181120: ("gantry_tilt_deg", "f"),
    0x0020000D: ("study_instance_uid", "s"),
    0x0020000E: ("series_instance_uid", "s"),
    0x00200012: ("acquisition_number", "i"),
    0x00200013: ("instance_number", "i"),
    0x00200032: ("position", "t"),
    0x00200037: ("orientation", "o"),
    0x00200052: ("frame_of_reference_uid", "s"),
    0x00280002: ("samples_per_pixel", "u"),
    0x00280004: ("photometric_interpretation", "s"),
    0x00280008: ("number_of_frames", "i"),
    0x00280010: ("rows", "u"),
    0x00280011: ("columns", "u"),
    0x00280030: ("pixel_spacing_mm", "p"),
    0x00280100: ("bits_allocated", "u"),
    0x00280101: ("bits_stored", "u"),
    0x00280103: ("pixel_representation", "u"),
    0x00281050: ("window_centers", "F"),
    0x00281051: ("window_widths", "F"),
    0x00281052: ("rescale_intercept", "f"),
    0x00281053: ("rescale_slope", "f"),
}


class _ScanAbortError(Exception):
    """The raw scanner met something it leaves to pydicom."""


def _skip_sequence(buffer: bytes, position: int, explicit: bool) -> int:
    """Return the position after an undefined-length sequence's delimiter."""
    while True:
        if position + 8 > len(buffer):
            raise _ScanAbortError
        group, element, length = struct.unpack_from("<HHL", buffer, position)
        tag = (group << 16) | element
        position += 8
        if tag == _SEQUENCE_END:
            return position
        if tag != _ITEM:
            raise _ScanAbortError
        if length == _UNDEFINED:
            position = _walk(buffer, position, explicit, None, nested=True)
        else:
            position += length


def _element_header(
    buffer: bytes, position: int, explicit: bool
) -> tuple[int, int, bytes]:
    """Return (header size, value length, VR for long-VR elements) at ``position``."""
    if explicit:
        vr = buffer[position + 4 : position + 6]
        if vr in _LONG_VRS:
            if position + 12 > len(buffer):
                raise _ScanAbortError
            return 12, struct.unpack_from("<L", buffer, position + 8)[0], vr
        return 8, struct.unpack_from("<H", buffer, position + 6)[0], b""
    return 8, struct.unpack_from("<L", buffer, position + 4)[0], b""


def _walk(
    buffer: bytes,
    position: int,
    explicit: bool,
    found: dict[int, bytes] | None,
    *,
    nested: bool,
) -> int:
    """Walk elements and collect wanted top-level values into ``found``.

    The top level stops at pixel data (recording its offset and length) or at
    the clean end of ``buffer``; a nested item stops after its delimiter.
    """
    size = len(buffer)
    while position + 8 <= size:
        group, element = struct.unpack_from("<HH", buffer, position)
        tag = (group << 16) | element
        if tag == _ITEM_END and nested:
            return position + 8
        if group == 0xFFFE:
            raise _ScanAbortError
        header, length, vr = _element_header(buffer, position, explicit)
        if not nested and found is not None and tag == _PIXEL_DATA_TAG:
            found[_PIXEL_DATA_TAG] = struct.pack("<QQ", position + header, length)
            return position
        value_start = position + header
        if length == _UNDEFINED:
            if vr == b"UN":
                raise _ScanAbortError
            position = _skip_sequence(buffer, value_start, explicit)
            continue
        if not nested and found is not None and tag in _SCAN_TAGS:
            if value_start + length > size:
                raise _ScanAbortError
            found[tag] = buffer[value_start : value_start + length]
        position = value_start + length
    if position == size and not nested:
        return position
    raise _ScanAbortError


def _decode_scanned(kind: str, raw: bytes) -> Any:
    if kind == "u":
        return struct.unpack("<H", raw[:2])[0] if len(raw) >= 2 else None
    text = raw.decode("ascii").strip(" \0")
    if kind == "s":
        return text
    if kind == "m":
        return tuple(part.strip() for part in text.split("\\"))
    parts = list(text.split("\\"))
    if kind == "i":
        return int(float(parts[0])) if parts[0].strip() else None
    if kind == "f":
        return float(parts[0]) if parts[0].strip() else None
    if kind == "F":
        return tuple(float(part) for part in parts if part.strip())
    if kind == "t":
        return _triple(parts)
    if kind == "o":
        return _orientation(parts)
    return _spacing(parts)


def scan_slice_header(path: str | os.PathLike[str]) -> SliceHeader | None:
    """Parse a plain single-frame little-endian file's header quickly.

    Parameters
    ----------
    path
        The file to scan.

    Returns
    -------
    SliceHeader or None
        The header with ``pixel_data_offset`` set, or ``None`` when the file
        needs the full pydicom reader (compressed, big endian, multi-frame,
        missing geometry, anything unexpected).
    """
    name = os.fspath(path)
    if not os.path.isfile(name):
        return None  # read_slice_header says why
    try:
        with open(name, "rb") as handle:
            buffer = handle.read(_SCAN_BYTES)
            size = os.fstat(handle.fileno()).st_size
        if buffer[128:132] != b"DICM" or buffer[132:136] != b"\x02\x00\x00\x00":
            return None
        if buffer[136:138] != b"UL":
            return None
        meta_end = 144 + int(struct.unpack_from("<L", buffer, 140)[0])
        meta: dict[int, bytes] = {}
        _walk(buffer[:meta_end], 132, True, meta, nested=False)
        syntax = _decode_scanned("s", meta.get(0x00020010, b""))
        if syntax not in _NATIVE_LITTLE_ENDIAN:
            return None
        values: dict[int, bytes] = {}
        _walk(buffer, meta_end, syntax == ExplicitVRLittleEndian, values, nested=False)
        if _PIXEL_DATA_TAG not in values:
            return None
        offset, length = struct.unpack("<QQ", values.pop(_PIXEL_DATA_TAG))
        if offset + length > size:
            return None  # truncated: pydicom's reader reports it
        fields = {
            _SCAN_TAGS[tag][0]: _decode_scanned(_SCAN_TAGS[tag][1], raw)
            for tag, raw in values.items()
        }
    except Exception:  # anything unusual is left to pydicom's reader
        return None
    return _scanned_header(name, syntax, int(offset), int(length), fields)


def _scanned_header(
    name: str, syntax: str, offset: int, length: int, fields: dict[str, Any]
) -> SliceHeader | None:
    position = fields.pop("position", None)
    frames = fields.pop("number_of_frames", None) or 1
    if position is None or fields.get("orientation") is None or frames != 1:
        return None
    if not all(fields.get(key) for key in _IDENTIFIER_FIELDS):
        return None  # derived from the content by read_slice_header
    if length == _UNDEFINED:
        return None
    fields = {key: value for key, value in fields.items() if value is not None}
    if "bits_stored" not in fields and "bits_allocated" in fields:
        fields["bits_stored"] = fields["bits_allocated"]
    if fields.get("rescale_slope", 1.0) == 0:
        return None
    header = SliceHeader(
        path=name,
        transfer_syntax_uid=syntax,
        frame_positions_lps_mm=(position,),
        pixel_data_offset=offset,
        pixel_data_length=length,
        **fields,
    )
    if header.frame_bytes == 0 or length < header.frame_bytes:
        return None
    return header


# ---------------------------------------------------------------- usability


def limit_problem(header: SliceHeader) -> str | None:
    """Return which size limit the header breaks, or ``None``.

    Frames and Rows x Columns are compared with :mod:`recist_app.imaging.limits`
    before anything is allocated for the pixel data.
    """
    frames = header.number_of_frames
    if frames < 1:
        return f"NumberOfFrames {frames} is not a positive number"
    if frames > MAX_FRAMES:
        return f"NumberOfFrames {frames} exceeds the limit of {MAX_FRAMES} frames"
    if header.rows * header.columns > MAX_FRAME_PIXELS:
        return (
            f"Rows {header.rows} x Columns {header.columns} exceeds the limit of "
            f"{MAX_FRAME_PIXELS} pixels per frame"
        )
    return None


def _pixel_length_problem(header: SliceHeader) -> str | None:
    """Uncompressed pixel data that does not hold Rows x Columns x frames."""
    length = header.pixel_data_length
    if length is None:
        return None
    needed = header.frame_bytes * header.number_of_frames
    if length == needed or (length == needed + 1 and needed % 2):
        return None  # odd lengths are padded to even
    return (
        f"pixel data holds {length} bytes; Rows {header.rows} x Columns "
        f"{header.columns} x {header.number_of_frames} frame(s) x "
        f"{header.bits_allocated // 8} bytes needs {needed}"
    )


def _pixel_problem(header: SliceHeader) -> str | None:
    if header.float_pixel_data:
        return "floating-point pixel data is not supported"
    if not header.has_pixel_data:
        return "no pixel data (not an image: e.g. a report or presentation state)"
    if header.rows <= 0 or header.columns <= 0:
        return "Rows/Columns missing or zero"
    if header.bits_allocated not in (8, 16, 32):
        return f"BitsAllocated {header.bits_allocated} is not supported (8, 16 or 32)"
    if not 0 < header.bits_stored <= header.bits_allocated:
        return (
            f"BitsStored {header.bits_stored} does not fit BitsAllocated "
            f"{header.bits_allocated}"
        )
    if (
        header.samples_per_pixel != 1
        or not header.photometric_interpretation.startswith("MONOCHROME")
    ):
        photometric = header.photometric_interpretation or "unknown"
        samples = header.samples_per_pixel
        return (
            f"colour image ({photometric}, {samples} samples): not a grey-scale slice"
        )
    return _pixel_length_problem(header) or decoder_problem(header.transfer_syntax_uid)


def _position_problem(header: SliceHeader) -> str | None:
    for position in header.frame_positions_lps_mm:
        if any(abs(value) > MAX_COORDINATE_MM for value in position):
            shown = ", ".join(f"{value:g}" for value in position)
            return (
                f"ImagePositionPatient ({shown}) is out of range "
                f"(limit ±{MAX_COORDINATE_MM:g} mm)"
            )
    return None


def _geometry_problem(header: SliceHeader) -> str | None:
    if header.orientation is None:
        return (
            "no usable ImageOrientationPatient: cannot place the image in patient space"
        )
    if header.mixed_frame_orientations:
        return "inconsistent orientation: frames of this object lie in different planes"
    row, column = header.orientation[:3], header.orientation[3:]
    cosine = sum(r * c for r, c in zip(row, column, strict=True))
    if abs(cosine) > _ORTHOGONAL_TOLERANCE:
        return (
            "inconsistent ImageOrientationPatient: row and column directions are "
            "not perpendicular"
        )
    if header.frame_geometry_problem:
        return header.frame_geometry_problem
    if not header.frame_positions_lps_mm:
        return "no ImagePositionPatient: cannot place the image in patient space"
    if header.pixel_spacing_mm is None:
        return "no usable PixelSpacing: cannot measure in millimetres"
    return _position_problem(header)


def usability_problem(header: SliceHeader) -> str | None:
    """Return why a file cannot become part of a volume, or ``None``.

    The reason is a short phrase (no file name); callers prefix the path.
    """
    if header.is_directory:
        return "DICOMDIR media directory (an index, not an image)"
    problem = limit_problem(header) or _pixel_problem(header)
    if problem is not None:
        return problem
    if header.is_localizer:
        return "localizer/scout image (excluded from volumes)"
    return _geometry_problem(header)
