r"""The reading file's fast path: msgspec decodes and checks it in one pass (issue 23).

msgspec decodes a ``recist-reading/1`` file's bytes straight into private typed
structs that mirror the format (unknown keys, wrong types, missing keys, the
bounds of :mod:`~recist_app.exchange.reading_file` as constraints), in C, far
faster than ``json.loads`` followed by checks in Python; the domain objects are
then built from them and check themselves as always. It is exactly as strict as
the hand-written reader or stricter: whenever msgspec refuses, the domain refuses,
or a check below fails, :func:`fast_reading` returns ``None`` and the hand-written
reader (:func:`~recist_app.exchange.reading_file.parse_reading`) reads the file
again and gives the one-line message naming the field, the visit and the lesion.
A file it accepts, the hand-written reader accepts, with an equal reading
(``tests/exchange/test_reading_decoder.py`` checks both on generated and damaged
files). It declines, rather than checks, the rare files the constraints cannot
express cheaply: text with a JSON escape (``\``), with a character that is not
printable, or with a lesion id that is not ASCII.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from recist_app.exchange.errors import ExchangeError
from recist_app.exchange.reading_file import (
    BASELINE_LABELS,
    EARLIEST_YEAR,
    LATEST_YEAR,
    MAX_COORDINATE_MM,
    MAX_COUNT,
    MAX_DAYS,
    MAX_DIAMETER_MM,
    MAX_OTHER_TEXT_LENGTH,
    MAX_TEXT_LENGTHS,
    READING_FORMAT,
    DecodedReadingFile,
    _check_baseline_targets,
    _Context,
    decode_reading_json,
    parse_reading,
)
from recist_app.recist import (
    Criteria,
    Lesion,
    LesionRole,
    MeasurementMethod,
    MeasurementState,
    Modality,
    NewLesionState,
    NonTargetState,
    ReaderRole,
    Reading,
    ReadingError,
    ResponseParameters,
    TimePoint,
)

__all__ = ["decode_reading_file", "fast_reading"]

_LENGTH = MAX_TEXT_LENGTHS
_MM = MAX_DIAMETER_MM
_Mm = Annotated[float, Meta(ge=-_MM, le=_MM)]
_Coordinate = Annotated[float, Meta(ge=-MAX_COORDINATE_MM, le=MAX_COORDINATE_MM)]
_Point = tuple[_Coordinate, _Coordinate, _Coordinate]
_Days = Annotated[int, Meta(le=MAX_DAYS)]
_Count = Annotated[int, Meta(le=MAX_COUNT)]
# a params diameter keeps its JSON type, as the hand-written reader keeps it
_ParamMm = Annotated[int, Meta(ge=-int(_MM), le=int(_MM))] | _Mm
_LesionId = Annotated[str, Meta(max_length=_LENGTH["lesion_id"])]
_Uid = Annotated[str, Meta(max_length=_LENGTH["sop_instance_uid"])]
_Organ = Annotated[str, Meta(max_length=_LENGTH["organ"])]
_Location = Annotated[str, Meta(max_length=_LENGTH["location"])]
_Visit = Annotated[str, Meta(max_length=_LENGTH["visit"])]
_PatientId = Annotated[str, Meta(max_length=_LENGTH["patient_id"])]
_Reader = Annotated[str, Meta(max_length=_LENGTH["reader"])]
_SignedBy = Annotated[str, Meta(max_length=_LENGTH["signed_by"])]
_OtherText = Annotated[str, Meta(max_length=MAX_OTHER_TEXT_LENGTH)]


class _Axis(Struct, forbid_unknown_fields=True, gc=False):
    start_lps_mm: _Point
    end_lps_mm: _Point


class _Geometry(Struct, forbid_unknown_fields=True, gc=False):
    series_instance_uid: _Uid
    sop_instance_uid: _Uid
    long_axis: _Axis | None = None
    short_axis: _Axis | None = None
    method: MeasurementMethod = MeasurementMethod.MANUAL


class _Measurement(Struct, forbid_unknown_fields=True, gc=False):
    lesion_id: _LesionId
    state: MeasurementState
    long_axis_mm: _Mm | None = None
    short_axis_mm: _Mm | None = None
    viable_long_axis_mm: _Mm | None = None
    parts_mm: tuple[_Mm, ...] = ()
    merged_into: _LesionId | None = None
    geometry: _Geometry | None = None
    viable_geometry: _Geometry | None = None


class _NonTarget(Struct, forbid_unknown_fields=True, gc=False):
    lesion_id: _LesionId
    state: NonTargetState
    cytology_confirmed: bool = False
    geometry: _Geometry | None = None


class _NewLesion(Struct, forbid_unknown_fields=True, gc=False):
    lesion_id: _LesionId
    state: NewLesionState
    not_imaged_at_baseline: bool = False
    long_axis_mm: _Mm | None = None
    short_axis_mm: _Mm | None = None
    typical_vascular_pattern: bool | None = None
    cytology_confirmed: bool = False
    geometry: _Geometry | None = None


class _Lesion(Struct, forbid_unknown_fields=True, gc=False):
    lesion_id: _LesionId
    role: LesionRole
    organ: _Organ
    is_lymph_node: bool = False
    location: _Location = ""
    tracking_uid: _Uid | None = None
    is_cystic: bool = False
    previously_irradiated: bool = False


class _TimePoint(Struct, forbid_unknown_fields=True, gc=False):
    """A visit; its attributes are :class:`TimePoint`'s, ``baseline`` renamed."""

    visit: _Visit
    date: datetime.date
    is_baseline: bool | None = msgspec.field(default=None, name="baseline")
    slice_thickness_mm: _Mm | None = None
    modality: Modality = Modality.CT
    study_instance_uid: _Uid | None = None
    series_instance_uid: _Uid | None = None
    measurements: tuple[_Measurement, ...] = ()
    non_target: tuple[_NonTarget, ...] = ()
    new_lesions: tuple[_NewLesion, ...] = ()
    no_disease: bool = False

    def __post_init__(self) -> None:
        if self.is_baseline is None:  # the format's default: the visit's label
            self.is_baseline = self.visit.strip().upper() in BASELINE_LABELS


class _Params(Struct, forbid_unknown_fields=True, gc=False):
    confirmation_min_days: _Days | UnsetType = UNSET
    sd_min_days: _Days | UnsetType = UNSET
    require_confirmation: bool | UnsetType = UNSET
    max_ne_between_confirmation: _Count | UnsetType = UNSET
    too_small_mm: _ParamMm | UnsetType = UNSET
    pd_min_increase_mm: _ParamMm | UnsetType | None = UNSET
    baseline_window_days: _Days | UnsetType = UNSET
    irecist_confirmation_min_days: _Days | UnsetType = UNSET
    irecist_confirmation_max_days: _Days | UnsetType = UNSET
    mrecist_pd_min_increase_mm: _ParamMm | UnsetType | None = UNSET


class _SignOff(Struct, forbid_unknown_fields=True, gc=False):
    status: Literal["draft", "signed"]
    signed_by: _SignedBy | None = None
    signed_at: _OtherText | None = None
    version: Annotated[int, Meta(ge=0)] = 0
    amendment_reason: _OtherText | None = None


class _File(Struct, forbid_unknown_fields=True, gc=False):
    format: str
    patient_id: _PatientId
    lesions: tuple[_Lesion, ...]
    timepoints: tuple[_TimePoint, ...]
    criteria: Criteria = Criteria.RECIST_1_1
    first_dose_date: datetime.date | None = None
    params: _Params | UnsetType = UNSET
    reader: _Reader = ""
    reader_role: ReaderRole | UnsetType = UNSET
    sign_off: _SignOff | UnsetType = UNSET


_DECODER = msgspec.json.Decoder(_File)
_DEFAULT_PARAMS = ResponseParameters()
_PARAM_NAMES = _Params.__struct_fields__
_LINE_BREAKS = str.maketrans("", "", "\t\n\r")


def decode_reading_file(data: bytes | str, source: str) -> DecodedReadingFile:
    """Read a reading file's bytes (or its text): the one reader of reading files.

    The fast path (:func:`fast_reading`) first; when it declines, the
    hand-written reader, which gives the message of an invalid file.

    Parameters
    ----------
    data
        The file's bytes (UTF-8), or its text.
    source
        The file, for messages.

    Returns
    -------
    DecodedReadingFile
        The reading, and the file's ``reader_role`` and ``sign_off``.

    Raises
    ------
    ExchangeError
        One line naming the file, the field, and the visit and lesion concerned.
    """
    fast = fast_reading(data)
    if fast is not None:
        return fast
    decoded = decode_reading_json(data, source)
    reading = parse_reading(decoded, source=source)
    assert isinstance(decoded, dict)  # parse_reading refuses anything else
    role = decoded.get("reader_role")
    return DecodedReadingFile(
        reading,
        None if role is None else ReaderRole(role),
        decoded.get("sign_off"),
    )


def fast_reading(data: bytes | str) -> DecodedReadingFile | None:
    """Read a reading file's bytes (or text), or ``None`` to leave it to the reader.

    ``None`` means the file may be invalid, or is one of the rare valid files this
    path leaves to :func:`~recist_app.exchange.reading_file.parse_reading`; that
    reader then decides, and gives the message.
    """
    if not _plain_text(data):
        return None
    try:
        file = _DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeEncodeError):
        return None
    if file.format != READING_FORMAT or not _dates_in_range(file):
        return None
    sign_off = None
    if file.sign_off is not UNSET:
        sign_off = _sign_off(file.sign_off)
        if sign_off is None:
            return None
    try:
        reading = _reading(file)
    except (msgspec.ValidationError, ReadingError):  # a domain object refused
        return None
    if not all(lesion.lesion_id.isascii() for lesion in reading.lesions):
        return None
    try:  # the hand-written reader's own check of the baseline, not a copy
        _check_baseline_targets(reading, _Context("fast path"))
    except ExchangeError:
        return None
    role = None if file.reader_role is UNSET else file.reader_role
    return DecodedReadingFile(reading, role, sign_off)


def _plain_text(data: bytes | str) -> bool:
    r"""Whether every string in ``data`` is plain text, decided on the whole text.

    No ``\``: no JSON escape, so every string is its characters as written (JSON
    refuses raw control characters in strings, and so does msgspec). ASCII
    without DEL, or else printable apart from the line breaks and tabs between
    tokens: no string holds a control, format or surrogate character.
    """
    if isinstance(data, str):
        if "\\" in data:
            return False
        if data.isascii():
            return "\x7f" not in data
        return data.translate(_LINE_BREAKS).isprintable()
    if b"\\" in data:
        return False
    if data.isascii():
        return b"\x7f" not in data
    try:
        return data.decode("utf-8").translate(_LINE_BREAKS).isprintable()
    except UnicodeDecodeError:
        return False


def _dates_in_range(file: _File) -> bool:
    first_dose = file.first_dose_date
    if first_dose is not None and not (EARLIEST_YEAR <= first_dose.year <= LATEST_YEAR):
        return False
    return all(
        EARLIEST_YEAR <= timepoint.date.year <= LATEST_YEAR
        for timepoint in file.timepoints
    )


def _sign_off(sign_off: _SignOff) -> dict[str, Any] | None:
    """The ``sign_off`` object as the hand-written reader leaves it, or ``None``."""
    for text in (sign_off.signed_by, sign_off.signed_at, sign_off.amendment_reason):
        if text is not None and not text.strip():
            return None
    return {
        "status": sign_off.status,
        "signed_by": sign_off.signed_by,
        "signed_at": sign_off.signed_at,
        "version": sign_off.version,
        "amendment_reason": sign_off.amendment_reason,
    }


def _params(params: _Params | UnsetType) -> ResponseParameters:
    if params is UNSET:
        return _DEFAULT_PARAMS
    given = {
        name: value
        for name in _PARAM_NAMES
        if (value := getattr(params, name)) is not UNSET
    }
    return ResponseParameters(**given) if given else _DEFAULT_PARAMS


class _Findings(Struct, gc=False):
    """What msgspec builds, in C, from a decoded file: every domain object but one.

    Each of these domain classes has the attributes of the struct it is built
    from (``from_attributes``), and checks itself in ``__post_init__``.
    """

    lesions: tuple[Lesion, ...]
    timepoints: tuple[TimePoint, ...]


def _reading(file: _File) -> Reading:
    """The domain reading of a decoded file (every object checks itself)."""
    findings = msgspec.convert(file, _Findings, from_attributes=True)
    return Reading(
        patient_id=file.patient_id,
        criteria=file.criteria,
        first_dose_date=file.first_dose_date,
        params=_params(file.params),
        lesions=findings.lesions,
        timepoints=findings.timepoints,
        reader=file.reader,
    )
