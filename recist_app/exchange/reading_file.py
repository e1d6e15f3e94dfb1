"""The reading file ``recist-reading/1``: strict reader and writer.

Files are read by :func:`~recist_app.exchange.reading_decoder.decode_reading_file`:
msgspec's fast path first, and the hand-written reader here
(:func:`decode_reading_json`, :func:`parse_reading`) whenever the fast path
declines; this reader decides those files and words every message (issue 23).

Read strictly, so a typo never silently changes a response: unknown keys, wrong
types, unknown lesion ids, dates out of order, a baseline target without a
measurement and more than one baseline are errors. Each error is one line naming
the file, the field, the visit and the lesion.

Extensions over the format's first version (README, File formats), all optional: per
lesion ``location``, ``tracking_uid``, ``is_cystic``, ``previously_irradiated``; per
visit ``baseline`` (otherwise a visit labelled BASELINE or SCREENING is the baseline),
``modality``, ``study_instance_uid``, ``series_instance_uid``, ``no_disease`` (the
reader's "no measurable / no disease", rule A8: without it a visit with no finding
is not read); per measurement the
states ``split`` (with ``parts_mm``) and ``merged`` (with ``merged_into``) for rule B3
(docs/rules.md), ``geometry`` and ``viable_geometry`` (where the mRECIST viable long
axis was drawn); per new lesion ``not_imaged_at_baseline`` (E3), diameters,
``typical_vascular_pattern`` (mRECIST J5) and ``cytology_confirmed`` (J4); the
non-target state ``further_increase`` (iRECIST H2);
``params.max_ne_between_confirmation``, ``too_small_mm``, ``pd_min_increase_mm``,
``baseline_window_days``; top-level ``reader``, ``reader_role`` (``"reader 1"``,
``"reader 2"``, ``"adjudicator"``, ``"single"``: who the reading is by in a central
review; validated, used by ``reading import``, never by the rules), and
``sign_off`` (status, signer, time and version of the signature, written by
exports; validated, never used by the rules).

Bounds, checked before anything is built from the file (issue 17): text no longer
than the database column that will hold it (:data:`MAX_TEXT_LENGTHS`, the column
lengths of ``recist_app/store/schema.py``, so ``evaluate`` and ``reading import``
accept the same files), no control or format characters anywhere, lesion ids in
printable ASCII (SDTM transport files hold nothing else), diameters up to
:data:`MAX_DIAMETER_MM`, coordinates up to :data:`MAX_COORDINATE_MM`, day counts
up to :data:`MAX_DAYS`, dates from 1900 to 2199, JSON nested at most
:data:`MAX_JSON_DEPTH` deep, no ``NaN``/``Infinity``, files up to
:data:`MAX_FILE_BYTES`.
"""

from __future__ import annotations

import datetime
import json
import math
import unicodedata
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias, TypeVar

from recist_app.exchange.errors import ExchangeError
from recist_app.recist import (
    AxisGeometry,
    Criteria,
    Lesion,
    LesionRole,
    Measurement,
    MeasurementGeometry,
    MeasurementMethod,
    MeasurementState,
    Modality,
    NewLesionObservation,
    NewLesionState,
    NonTargetAssessment,
    NonTargetState,
    ReaderRole,
    Reading,
    ReadingError,
    ResponseParameters,
    TimePoint,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

__all__ = [
    "MAX_COORDINATE_MM",
    "MAX_DAYS",
    "MAX_DIAMETER_MM",
    "MAX_FILE_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_TEXT_LENGTHS",
    "READING_FORMAT",
    "DecodedReadingFile",
    "decode_reading_json",
    "parse_reading",
    "read_reading_file",
    "reading_to_dict",
    "reading_to_json_text",
    "write_reading_file",
    "write_text_atomically",
]

_E = TypeVar("_E", bound=StrEnum)

READING_FORMAT = "recist-reading/1"
BASELINE_LABELS = frozenset({"BASELINE", "SCREENING"})

MAX_DIAMETER_MM = 1000.0
"""Largest diameter, part, slice thickness or threshold accepted (1 m): a larger
one is a typo or a damaged value, and would overflow the exact arithmetic."""
MAX_COORDINATE_MM = 1_000_000.0
"""Largest magnitude of a geometry coordinate in patient LPS mm (1 km)."""
MAX_DAYS = 3650
"""Largest day count in ``params`` (10 years)."""
MAX_COUNT = 1000
"""Largest count in ``params`` (``max_ne_between_confirmation``)."""
MAX_JSON_DEPTH = 64
"""Deepest nesting of objects and lists; a reading file needs 7."""
MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest reading file read (64 MB); a trial's largest is well under 1 MB."""
MAX_TEXT_LENGTHS: dict[str, int] = {
    "patient_id": 64,  # patients.patient_id
    "reader": 128,  # readings.reader
    "lesion_id": 16,  # lesions.lesion_id
    "merged_into": 16,  # measurements.merged_into
    "organ": 128,  # lesions.organ
    "location": 256,  # lesions.location
    "tracking_uid": 64,  # lesions.tracking_uid
    "visit": 64,  # timepoints.visit
    "study_instance_uid": 64,  # timepoints.study_instance_uid
    "series_instance_uid": 64,  # timepoints, geometry_series_instance_uid
    "sop_instance_uid": 64,  # geometry_sop_instance_uid
    "signed_by": 128,  # readings.signed_by
}
"""Longest text per key: the column lengths of ``recist_app/store/schema.py``
(a test compares them); other text keys take :data:`MAX_OTHER_TEXT_LENGTH`."""
MAX_OTHER_TEXT_LENGTH = 2000
EARLIEST_YEAR, LATEST_YEAR = 1900, 2199
"""The first and last years of a date a reading file may hold."""
_LESION_ID_KEYS = frozenset({"lesion_id", "merged_into"})
_REFUSED_CATEGORIES = {"Cc": "control", "Cf": "format", "Cs": "surrogate"}


class DecodedReadingFile(NamedTuple):
    """A reading file as read: the reading and the keys the rules never use.

    ``reader_role`` is the top-level ``reader_role`` (``None`` when absent);
    ``sign_off`` the validated ``sign_off`` object (``None`` when absent; a key
    it lacks reads as absent or ``None``).
    """

    reading: Reading
    reader_role: ReaderRole | None
    sign_off: Mapping[str, Any] | None


class _Keys(dict[str, bool]):
    """A JSON object's keys, each ``True`` when required, with its sets built once.

    Not rebuilt for every object read: set building per object was a large share
    of parse time (issue 23).
    """

    def __init__(self, keys: Mapping[str, bool]) -> None:
        super().__init__(keys)
        self.allowed = frozenset(keys)
        self.required = tuple(key for key, required in keys.items() if required)


_TOP_KEYS = _Keys(
    {
        "format": True,
        "patient_id": True,
        "criteria": False,
        "first_dose_date": False,
        "params": False,
        "lesions": True,
        "timepoints": True,
        "reader": False,
        "reader_role": False,
        "sign_off": False,
    }
)
_SIGN_OFF_KEYS = _Keys(
    {
        "status": True,
        "signed_by": False,
        "signed_at": False,
        "version": False,
        "amendment_reason": False,
    }
)
_LESION_KEYS = _Keys(
    {
        "lesion_id": True,
        "role": True,
        "organ": True,
        "is_lymph_node": False,
        "location": False,
        "tracking_uid": False,
        "is_cystic": False,
        "previously_irradiated": False,
    }
)
_TIMEPOINT_KEYS = _Keys(
    {
        "visit": True,
        "date": True,
        "baseline": False,
        "slice_thickness_mm": False,
        "modality": False,
        "study_instance_uid": False,
        "series_instance_uid": False,
        "measurements": False,
        "non_target": False,
        "new_lesions": False,
        "no_disease": False,
    }
)
_MEASUREMENT_KEYS = _Keys(
    {
        "lesion_id": True,
        "state": True,
        "long_axis_mm": False,
        "short_axis_mm": False,
        "viable_long_axis_mm": False,
        "parts_mm": False,
        "merged_into": False,
        "geometry": False,
        "viable_geometry": False,
    }
)
_NON_TARGET_KEYS = _Keys(
    {
        "lesion_id": True,
        "state": True,
        "cytology_confirmed": False,
        "geometry": False,  # where the lesion was marked on the images (not measured)
    }
)
_NEW_LESION_KEYS = _Keys(
    {
        "lesion_id": True,
        "state": True,
        "not_imaged_at_baseline": False,
        "long_axis_mm": False,
        "short_axis_mm": False,
        "typical_vascular_pattern": False,
        "cytology_confirmed": False,
        "geometry": False,
    }
)
_GEOMETRY_KEYS = _Keys(
    {
        "series_instance_uid": True,
        "sop_instance_uid": True,
        "long_axis": False,
        "short_axis": False,
        "method": False,
    }
)
_AXIS_KEYS = _Keys({"start_lps_mm": True, "end_lps_mm": True})
_PARAM_TYPES: dict[str, tuple[type, ...]] = {
    "confirmation_min_days": (int,),
    "sd_min_days": (int,),
    "require_confirmation": (bool,),
    "max_ne_between_confirmation": (int,),
    "too_small_mm": (int, float),
    "pd_min_increase_mm": (int, float, type(None)),
    "baseline_window_days": (int,),
    "irecist_confirmation_min_days": (int,),
    "irecist_confirmation_max_days": (int,),
    "mrecist_pd_min_increase_mm": (int, float, type(None)),
}

_PARAM_KEYS = _Keys(dict.fromkeys(_PARAM_TYPES, False))

_Field: TypeAlias = "str | tuple[_Field, str]"
"""A field's path, joined with dots only when an error names it (issue 23: the
parser built a dotted path for every value it read, used only in messages)."""


def _field_name(field: _Field) -> str:
    """``lesions[0].organ`` from ``("lesions[0]", "organ")``."""
    if isinstance(field, str):
        return field
    parent, key = field
    return f"{_field_name(parent)}.{key}"


class _Context:
    """Where the parser is, for error messages: field path, visit and lesion.

    ``visit`` and ``lesion`` are those being parsed; every error names them.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.visit: str | None = None
        self.lesion: str | None = None

    def fail(
        self,
        field: _Field,
        problem: str,
        *,
        visit: str | None = None,
        lesion: str | None = None,
    ) -> ExchangeError:
        visit = self.visit if visit is None else visit
        lesion = self.lesion if lesion is None else lesion
        where = [self.source, _field_name(field)]
        if visit is not None:
            where.append(f"visit {visit}")
        if lesion is not None:
            where.append(f"lesion {lesion}")
        return ExchangeError(f"{': '.join(where)}: {problem}")


def read_reading_file(path: Path) -> Reading:
    """Read and validate a ``recist-reading/1`` file.

    Parameters
    ----------
    path
        The JSON file.

    Returns
    -------
    Reading
        The validated reading.

    Raises
    ------
    ExchangeError
        One line naming the file, the field, and the visit and lesion concerned.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ExchangeError(
                f"{path}: {size} bytes, more than the {MAX_FILE_BYTES} a reading "
                "file may have"
            )
        data_bytes = path.read_bytes()
    except FileNotFoundError:
        raise ExchangeError(f"{path}: no such file") from None
    except OSError as error:
        raise ExchangeError(f"{path}: cannot read: {error.strerror}") from None
    # imported here, not at the top: that module reads this one's bounds
    from recist_app.exchange.reading_decoder import decode_reading_file

    return decode_reading_file(data_bytes, str(path)).reading


class _ConstantError(ValueError):
    """JSON's non-standard NaN, Infinity or -Infinity."""


def _refuse_constant(name: str) -> object:
    raise _ConstantError(name)


def _depth(value: object) -> int:
    """Nesting depth of decoded JSON, without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def decode_reading_json(data: bytes | str, source: str) -> object:
    """Decode a reading file's bytes to JSON values, refusing what JSON should not hold.

    Parameters
    ----------
    data
        The file's bytes (UTF-8), or its text.
    source
        The file, for messages.

    Returns
    -------
    object
        The decoded JSON, nested at most :data:`MAX_JSON_DEPTH` deep.

    Raises
    ------
    ExchangeError
        Not UTF-8, not JSON, ``NaN``/``Infinity``, an integer of thousands of
        digits, or nesting beyond :data:`MAX_JSON_DEPTH`; one line naming
        ``source``.
    """
    try:
        text = data if isinstance(data, str) else data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ExchangeError(f"{source}: not UTF-8 text: {error.reason}") from None
    try:
        decoded = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise ExchangeError(
            f"{source}: not valid JSON: {error.msg} at line {error.lineno} "
            f"column {error.colno}"
        ) from None
    except _ConstantError as error:
        raise ExchangeError(
            f"{source}: not valid JSON: {error} is not a number JSON allows"
        ) from None
    except RecursionError:
        raise ExchangeError(
            f"{source}: JSON nested too deeply (a reading file nests at most "
            f"{MAX_JSON_DEPTH} levels)"
        ) from None
    except ValueError:  # an integer of thousands of digits (int_max_str_digits)
        raise ExchangeError(
            f"{source}: not valid JSON: a number with thousands of digits"
        ) from None
    if _depth(decoded) > MAX_JSON_DEPTH:
        raise ExchangeError(
            f"{source}: JSON nested too deeply (a reading file nests at most "
            f"{MAX_JSON_DEPTH} levels)"
        )
    return decoded


def parse_reading(data: object, *, source: str = "reading") -> Reading:
    """Build a :class:`Reading` from the decoded JSON of a reading file."""
    context = _Context(source)
    top = _object(data, "(top level)", _TOP_KEYS, context)
    if top["format"] != READING_FORMAT:
        raise context.fail(
            "format", f"expected {READING_FORMAT!r}, got {top['format']!r}"
        )
    lesions = tuple(
        _about_lesion(_lesion, item, f"lesions[{index}]", context)
        for index, item in enumerate(_list(top["lesions"], "lesions", context))
    )
    timepoints = _timepoints(top["timepoints"], context)
    if "sign_off" in top:
        _sign_off(top["sign_off"], context)
    if "reader_role" in top:
        _enum(top["reader_role"], "reader_role", ReaderRole, context)
    params = _params(top.get("params", {}), context)
    try:
        reading = Reading(
            patient_id=_string(top["patient_id"], "patient_id", context),
            criteria=_enum(
                top.get("criteria", "RECIST 1.1"), "criteria", Criteria, context
            ),
            first_dose_date=_optional_date(
                top.get("first_dose_date"), "first_dose_date", context
            ),
            params=params,
            lesions=lesions,
            timepoints=timepoints,
            reader=_string(top.get("reader", ""), "reader", context, empty_ok=True),
        )
    except ReadingError as error:
        raise ExchangeError(f"{source}: {error}") from None
    _check_baseline_targets(reading, context)
    return reading


def _timepoints(value: object, context: _Context) -> tuple[TimePoint, ...]:
    items = _list(value, "timepoints", context)
    parsed: list[TimePoint] = []
    for index, item in enumerate(items):
        try:
            parsed.append(_timepoint(item, f"timepoints[{index}]", context))
        finally:
            context.visit = None
    baselines = [t.visit for t in parsed if t.is_baseline]
    if len(baselines) > 1:
        raise context.fail(
            "timepoints",
            f"more than one baseline (visits {', '.join(baselines)})",
        )
    if not baselines:
        raise context.fail(
            "timepoints",
            'no baseline visit: label one BASELINE or set "baseline": true',
        )
    return tuple(parsed)


def _check_baseline_targets(reading: Reading, context: _Context) -> None:
    baseline = reading.baseline
    if baseline is None:
        raise context.fail(
            "timepoints[0]",
            "the baseline must be the first visit",
        )
    for lesion in reading.lesions_with_role(LesionRole.TARGET):
        measurement = baseline.measurement(lesion.lesion_id)
        if measurement is None:
            raise context.fail(
                "timepoints[0].measurements",
                "target lesion has no baseline measurement",
                visit=baseline.visit,
                lesion=lesion.lesion_id,
            )
    for observation_visit in reading.timepoints:
        for measurement in observation_visit.measurements:
            if (
                observation_visit.is_baseline
                and measurement.state is MeasurementState.MERGED
            ):
                raise context.fail(
                    "measurements",
                    "a lesion cannot be merged at baseline",
                    visit=observation_visit.visit,
                    lesion=measurement.lesion_id,
                )


_T = TypeVar("_T")


def _about_lesion(
    parse: Callable[..., _T], value: object, field: str, context: _Context, *args: str
) -> _T:
    """Parse one lesion's item; errors name its lesion until it is done."""
    try:
        return parse(value, field, context, *args)
    finally:
        context.lesion = None


def _lesion_id(item: dict[str, Any], field: str, context: _Context) -> str:
    lesion_id = _string(item["lesion_id"], (field, "lesion_id"), context)
    context.lesion = lesion_id
    return lesion_id


def _lesion(value: object, field: str, context: _Context) -> Lesion:
    item = _object(value, field, _LESION_KEYS, context)
    lesion_id = _lesion_id(item, field, context)
    try:
        return Lesion(
            lesion_id=lesion_id,
            role=_enum(
                item["role"], (field, "role"), LesionRole, context, lesion=lesion_id
            ),
            organ=_string(item["organ"], (field, "organ"), context),
            location=_string(
                item.get("location", ""), (field, "location"), context, empty_ok=True
            ),
            is_lymph_node=_bool(
                item.get("is_lymph_node", False), (field, "is_lymph_node"), context
            ),
            tracking_uid=_optional_string(
                item.get("tracking_uid"), (field, "tracking_uid"), context
            ),
            is_cystic=_bool(
                item.get("is_cystic", False), (field, "is_cystic"), context
            ),
            previously_irradiated=_bool(
                item.get("previously_irradiated", False),
                (field, "previously_irradiated"),
                context,
            ),
        )
    except ReadingError as error:
        raise context.fail(field, str(error), lesion=lesion_id) from None


def _timepoint(value: object, field: str, context: _Context) -> TimePoint:
    item = _object(value, field, _TIMEPOINT_KEYS, context)
    visit = _string(item["visit"], (field, "visit"), context)
    context.visit = visit
    is_baseline = item.get("baseline")
    if is_baseline is None:
        is_baseline = visit.strip().upper() in BASELINE_LABELS
    else:
        is_baseline = _bool(is_baseline, (field, "baseline"), context)

    def findings(key: str) -> list[object]:
        return _list(item.get(key, []), (field, key), context, visit=visit)

    measurements = tuple(
        _plain_measurement(m)
        or _about_lesion(_measurement, m, f"{field}.measurements[{i}]", context, visit)
        for i, m in enumerate(findings("measurements"))
    )
    non_target = tuple(
        _plain_non_target(a)
        or _about_lesion(_non_target, a, f"{field}.non_target[{i}]", context, visit)
        for i, a in enumerate(findings("non_target"))
    )
    new_lesions = tuple(
        _about_lesion(_new_lesion, o, f"{field}.new_lesions[{i}]", context, visit)
        for i, o in enumerate(findings("new_lesions"))
    )
    try:
        return TimePoint(
            visit=visit,
            date=_date(item["date"], (field, "date"), context, visit=visit),
            is_baseline=is_baseline,
            slice_thickness_mm=_optional_number(
                item.get("slice_thickness_mm"), (field, "slice_thickness_mm"), context
            ),
            modality=_enum(
                item.get("modality", "CT"),
                (field, "modality"),
                Modality,
                context,
                visit=visit,
            ),
            study_instance_uid=_optional_string(
                item.get("study_instance_uid"), (field, "study_instance_uid"), context
            ),
            series_instance_uid=_optional_string(
                item.get("series_instance_uid"),
                (field, "series_instance_uid"),
                context,
            ),
            measurements=measurements,
            non_target=non_target,
            new_lesions=new_lesions,
            no_disease=_bool(
                item.get("no_disease", False), (field, "no_disease"), context
            ),
        )
    except ReadingError as error:
        raise context.fail(field, str(error)) from None


# The usual measurement and non-target entry (a lesion id, a state, plain
# diameters) is checked inline here, with exactly the checks of the general
# functions below; anything else, valid or not, goes to them, and so does every
# error message (issue 23: per-value function calls were most of parse time).
_PLAIN_MEASUREMENT_KEYS = frozenset(
    {"lesion_id", "state", "long_axis_mm", "short_axis_mm", "viable_long_axis_mm"}
)
_PLAIN_NON_TARGET_KEYS = frozenset({"lesion_id", "state", "cytology_confirmed"})
_MEASUREMENT_STATES = {state.value: state for state in MeasurementState}
_NON_TARGET_STATES = {state.value: state for state in NonTargetState}
_LESION_ID_LENGTH = MAX_TEXT_LENGTHS["lesion_id"]


def _plain_lesion_id(value: object) -> bool:
    """Whether ``value`` is a lesion id :func:`_string` accepts, checked inline."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= _LESION_ID_LENGTH
        and value.isascii()
        and value.isprintable()
        and bool(value.strip())
    )


def _plain_diameter(value: object) -> bool:
    """Whether ``value`` is absent or a diameter :func:`_number` accepts as is."""
    return value is None or (
        isinstance(value, float) and -MAX_DIAMETER_MM <= value <= MAX_DIAMETER_MM
    )


def _plain_measurement(value: object) -> Measurement | None:
    """The usual measurement entry, or ``None`` for :func:`_measurement` to read."""
    if not isinstance(value, dict) or not value.keys() <= _PLAIN_MEASUREMENT_KEYS:
        return None
    lesion_id, state = value.get("lesion_id"), value.get("state")
    long_mm, short_mm = value.get("long_axis_mm"), value.get("short_axis_mm")
    viable_mm = value.get("viable_long_axis_mm")
    if not (
        isinstance(lesion_id, str)
        and _plain_lesion_id(lesion_id)
        and isinstance(state, str)
        and state in _MEASUREMENT_STATES
        and _plain_diameter(long_mm)
        and _plain_diameter(short_mm)
        and _plain_diameter(viable_mm)
    ):
        return None
    try:
        return Measurement(
            lesion_id=lesion_id,
            state=_MEASUREMENT_STATES[state],
            long_axis_mm=long_mm,
            short_axis_mm=short_mm,
            viable_long_axis_mm=viable_mm,
        )
    except ReadingError:
        return None  # the general path says why


def _plain_non_target(value: object) -> NonTargetAssessment | None:
    """The usual non-target entry, or ``None`` for :func:`_non_target` to read."""
    if not isinstance(value, dict) or not value.keys() <= _PLAIN_NON_TARGET_KEYS:
        return None
    lesion_id, state = value.get("lesion_id"), value.get("state")
    cytology = value.get("cytology_confirmed", False)
    if not (
        isinstance(lesion_id, str)
        and _plain_lesion_id(lesion_id)
        and isinstance(state, str)
        and state in _NON_TARGET_STATES
        and isinstance(cytology, bool)
    ):
        return None
    try:
        return NonTargetAssessment(
            lesion_id=lesion_id,
            state=_NON_TARGET_STATES[state],
            cytology_confirmed=cytology,
        )
    except ReadingError:
        return None


def _measurement(
    value: object, field: str, context: _Context, visit: str
) -> Measurement:
    item = _object(value, field, _MEASUREMENT_KEYS, context, visit=visit)
    lesion_id = _lesion_id(item, field, context)
    parts = _list(item.get("parts_mm", []), (field, "parts_mm"), context, visit=visit)
    try:
        return Measurement(
            lesion_id=lesion_id,
            state=_enum(
                item["state"],
                (field, "state"),
                MeasurementState,
                context,
                visit=visit,
                lesion=lesion_id,
            ),
            long_axis_mm=_optional_number(
                item.get("long_axis_mm"), (field, "long_axis_mm"), context
            ),
            short_axis_mm=_optional_number(
                item.get("short_axis_mm"), (field, "short_axis_mm"), context
            ),
            viable_long_axis_mm=_optional_number(
                item.get("viable_long_axis_mm"), (field, "viable_long_axis_mm"), context
            ),
            parts_mm=tuple(
                _number(p, f"{field}.parts_mm[{i}]", context)
                for i, p in enumerate(parts)
            )
            if parts
            else (),
            merged_into=_optional_string(
                item.get("merged_into"), (field, "merged_into"), context
            ),
            geometry=_geometry(item.get("geometry"), (field, "geometry"), context),
            viable_geometry=_geometry(
                item.get("viable_geometry"), (field, "viable_geometry"), context
            ),
        )
    except ReadingError as error:
        raise context.fail(
            field, _strip_where(error), visit=visit, lesion=lesion_id
        ) from None


def _non_target(
    value: object, field: str, context: _Context, visit: str
) -> NonTargetAssessment:
    item = _object(value, field, _NON_TARGET_KEYS, context, visit=visit)
    lesion_id = _lesion_id(item, field, context)
    try:
        return NonTargetAssessment(
            lesion_id=lesion_id,
            state=_enum(
                item["state"],
                (field, "state"),
                NonTargetState,
                context,
                visit=visit,
                lesion=lesion_id,
            ),
            cytology_confirmed=_bool(
                item.get("cytology_confirmed", False),
                (field, "cytology_confirmed"),
                context,
            ),
            geometry=_geometry(item.get("geometry"), (field, "geometry"), context),
        )
    except ReadingError as error:
        raise context.fail(
            field, _strip_where(error), visit=visit, lesion=lesion_id
        ) from None


def _new_lesion(
    value: object, field: str, context: _Context, visit: str
) -> NewLesionObservation:
    item = _object(value, field, _NEW_LESION_KEYS, context, visit=visit)
    lesion_id = _lesion_id(item, field, context)
    try:
        return NewLesionObservation(
            lesion_id=lesion_id,
            state=_enum(
                item["state"],
                (field, "state"),
                NewLesionState,
                context,
                visit=visit,
                lesion=lesion_id,
            ),
            not_imaged_at_baseline=_bool(
                item.get("not_imaged_at_baseline", False),
                (field, "not_imaged_at_baseline"),
                context,
            ),
            long_axis_mm=_optional_number(
                item.get("long_axis_mm"), (field, "long_axis_mm"), context
            ),
            short_axis_mm=_optional_number(
                item.get("short_axis_mm"), (field, "short_axis_mm"), context
            ),
            typical_vascular_pattern=(
                None
                if item.get("typical_vascular_pattern") is None
                else _bool(
                    item["typical_vascular_pattern"],
                    (field, "typical_vascular_pattern"),
                    context,
                )
            ),
            cytology_confirmed=_bool(
                item.get("cytology_confirmed", False),
                (field, "cytology_confirmed"),
                context,
            ),
            geometry=_geometry(item.get("geometry"), (field, "geometry"), context),
        )
    except ReadingError as error:
        raise context.fail(
            field, _strip_where(error), visit=visit, lesion=lesion_id
        ) from None


def _geometry(
    value: object, field: _Field, context: _Context
) -> MeasurementGeometry | None:
    if value is None:
        return None
    item = _object(value, field, _GEOMETRY_KEYS, context)

    def axis(key: str) -> AxisGeometry | None:
        raw = item.get(key)
        if raw is None:
            return None
        axis_item = _object(raw, (field, key), _AXIS_KEYS, context)
        return AxisGeometry(
            start_lps_mm=_point(axis_item["start_lps_mm"], (field, key), context),
            end_lps_mm=_point(axis_item["end_lps_mm"], (field, key), context),
        )

    return MeasurementGeometry(
        series_instance_uid=_string(
            item["series_instance_uid"], (field, "series_instance_uid"), context
        ),
        sop_instance_uid=_string(
            item["sop_instance_uid"], (field, "sop_instance_uid"), context
        ),
        long_axis=axis("long_axis"),
        short_axis=axis("short_axis"),
        method=_enum(
            item.get("method", "manual"), (field, "method"), MeasurementMethod, context
        ),
    )


def _sign_off(value: object, context: _Context) -> None:
    """Validate the export-only ``sign_off`` record; the rules never use it."""
    item = _object(value, "sign_off", _SIGN_OFF_KEYS, context)
    if item["status"] not in ("draft", "signed"):
        raise context.fail(
            "sign_off.status", f"expected 'draft' or 'signed', got {item['status']!r}"
        )
    for key in ("signed_by", "signed_at", "amendment_reason"):
        _optional_string(item.get(key), f"sign_off.{key}", context)
    version = item.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise context.fail(
            "sign_off.version", f"expected an integer >= 0, got {version!r}"
        )


def _params(value: object, context: _Context) -> ResponseParameters:
    item = _object(value, "params", _PARAM_KEYS, context)
    for key, raw in item.items():
        types = _PARAM_TYPES[key]
        if (isinstance(raw, bool) and bool not in types) or not isinstance(raw, types):
            expected = " or ".join(
                "null" if t is type(None) else t.__name__ for t in types
            )
            raise context.fail(f"params.{key}", f"expected {expected}, got {raw!r}")
        _check_param_range(key, raw, context)
    try:
        return ResponseParameters(**item)
    except ReadingError as error:
        raise ExchangeError(f"{context.source}: {error}") from None


def _check_param_range(key: str, value: object, context: _Context) -> None:
    if value is None or isinstance(value, bool):
        return
    if key.endswith("_mm"):
        _number(value, f"params.{key}", context)
        return
    limit = MAX_DAYS if key.endswith("_days") else MAX_COUNT
    if isinstance(value, int) and value > limit:
        raise context.fail(
            f"params.{key}", f"{_shown(value)} is more than the {limit} allowed"
        )


# --------------------------------------------------------------------- primitives
def _object(
    value: object,
    field: _Field,
    keys: _Keys,
    context: _Context,
    *,
    visit: str | None = None,
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise context.fail(
            field, f"expected an object, got {_kind(value)}", visit=visit
        )
    if value.keys() <= keys.allowed and all(key in value for key in keys.required):
        return value  # the usual case, decided before any message is built
    unknown = sorted(set(value) - keys.allowed)
    if unknown:
        raise context.fail(
            field,
            f"unknown key {unknown[0]!r} (allowed: {', '.join(keys)})",
            visit=visit,
            lesion=_lesion_hint(value),
        )
    missing = [key for key in keys.required if key not in value]
    if missing:
        raise context.fail(
            field,
            f"missing required key {missing[0]!r}",
            visit=visit,
            lesion=_lesion_hint(value),
        )
    return value


def _lesion_hint(value: dict[str, Any]) -> str | None:
    lesion_id = value.get("lesion_id")
    return lesion_id if isinstance(lesion_id, str) else None


def _list(
    value: object, field: _Field, context: _Context, *, visit: str | None = None
) -> list[object]:
    if not isinstance(value, list):
        raise context.fail(field, f"expected a list, got {_kind(value)}", visit=visit)
    return value


def _text_problem(value: str, key: str) -> str | None:
    """Why ``value`` cannot be the text of ``key``, or ``None``."""
    limit = MAX_TEXT_LENGTHS.get(key, MAX_OTHER_TEXT_LENGTH)
    if len(value) > limit:
        return f"{len(value)} characters, more than the {limit} the database holds"
    if value.isascii() and value.isprintable():
        return None  # printable ASCII has no control, format or surrogate character
    for position, character in enumerate(value):
        kind = _REFUSED_CATEGORIES.get(unicodedata.category(character))
        if kind is not None:
            return (
                f"{kind} character U+{ord(character):04X} at position {position}: "
                "text must be printable"
            )
    if key in _LESION_ID_KEYS and not (value.isascii() and value.isprintable()):
        return (
            f"{value!r}: a lesion id must be printable ASCII (SDTM transport files "
            "hold nothing else)"
        )
    return None


def _string(
    value: object,
    field: _Field,
    context: _Context,
    *,
    empty_ok: bool = False,
    visit: str | None = None,
    lesion: str | None = None,
) -> str:
    if not isinstance(value, str) or (not empty_ok and not value.strip()):
        raise context.fail(
            field,
            f"expected a non-empty string, got {_shown(value)}",
            visit=visit,
            lesion=lesion,
        )
    key = field[1] if isinstance(field, tuple) else field.rsplit(".", 1)[-1]
    problem = _text_problem(value, key)
    if problem is not None:
        raise context.fail(field, problem, visit=visit, lesion=lesion)
    return value


def _shown(value: object) -> str:
    """``repr`` for messages, cut short (a bad value may be megabytes long)."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} characters)"


def _optional_string(
    value: object,
    field: _Field,
    context: _Context,
    *,
    visit: str | None = None,
    lesion: str | None = None,
) -> str | None:
    if value is None:
        return None
    return _string(value, field, context, visit=visit, lesion=lesion)


def _bool(value: object, field: _Field, context: _Context) -> bool:
    if not isinstance(value, bool):
        raise context.fail(field, f"expected true or false, got {_shown(value)}")
    return value


def _number(
    value: object,
    field: _Field,
    context: _Context,
    *,
    limit: float = MAX_DIAMETER_MM,
    visit: str | None = None,
    lesion: str | None = None,
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise context.fail(
            field,
            f"expected a number, got {_shown(value)}",
            visit=visit,
            lesion=lesion,
        )
    # compare before float(): an int beyond 1e308 would raise OverflowError
    if abs(value) > limit or not math.isfinite(value):
        shown = f"{value:g}" if isinstance(value, float) else _shown(value)
        raise context.fail(
            field,
            f"{shown} mm is not a plausible value (at most {limit:g} mm)",
            visit=visit,
            lesion=lesion,
        )
    return float(value)


def _optional_number(
    value: object,
    field: _Field,
    context: _Context,
    *,
    visit: str | None = None,
    lesion: str | None = None,
) -> float | None:
    if value is None:
        return None
    if isinstance(value, float) and -MAX_DIAMETER_MM <= value <= MAX_DIAMETER_MM:
        return value  # the usual case, checked inline (NaN fails the comparison)
    return _number(value, field, context, visit=visit, lesion=lesion)


def _point(
    value: object, field: _Field, context: _Context
) -> tuple[float, float, float]:
    items = _list(value, field, context)
    if len(items) != 3:
        raise context.fail(field, f"expected 3 coordinates, got {len(items)}")
    x, y, z = (_number(c, field, context, limit=MAX_COORDINATE_MM) for c in items)
    return (x, y, z)


def _date(
    value: object, field: _Field, context: _Context, *, visit: str | None = None
) -> datetime.date:
    if not isinstance(value, str):
        raise context.fail(
            field, f"expected a date YYYY-MM-DD, got {_shown(value)}", visit=visit
        )
    try:
        date = datetime.date.fromisoformat(value)
    except ValueError:
        raise context.fail(
            field, f"expected a date YYYY-MM-DD, got {_shown(value)}", visit=visit
        ) from None
    if not EARLIEST_YEAR <= date.year <= LATEST_YEAR:
        raise context.fail(
            field,
            f"{value} is outside {EARLIEST_YEAR}-01-01 to {LATEST_YEAR}-12-31",
            visit=visit,
        )
    return date


def _optional_date(
    value: object, field: _Field, context: _Context
) -> datetime.date | None:
    return None if value is None else _date(value, field, context)


def _enum(
    value: object,
    field: _Field,
    enum: type[_E],
    context: _Context,
    *,
    visit: str | None = None,
    lesion: str | None = None,
) -> _E:
    members = _ENUM_MEMBERS.get(enum)
    if members is None:
        members = _ENUM_MEMBERS[enum] = {member.value: member for member in enum}
    member = members.get(value) if isinstance(value, str) else None
    if member is None:
        raise context.fail(
            field,
            f"unknown value {value!r} (allowed: {', '.join(members)})",
            visit=visit,
            lesion=lesion,
        )
    return member  # type: ignore[return-value]


_ENUM_MEMBERS: dict[type[StrEnum], dict[str, StrEnum]] = {}
"""Each enum's members by value, built once (not on every call: issue 23)."""


def _kind(value: object) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _strip_where(error: ReadingError) -> str:
    """Drop the domain's own 'measurement of lesion X: ' prefix (we add ours)."""
    text = str(error)
    head, sep, tail = text.partition(": ")
    return tail if sep and "lesion" in head else text


# --------------------------------------------------------------------- writing
def reading_to_dict(reading: Reading) -> dict[str, Any]:
    """The ``recist-reading/1`` object for ``reading`` (inverse of parse_reading)."""
    defaults = ResponseParameters()
    params = {
        key: getattr(reading.params, key)
        for key in _PARAM_TYPES
        if key in ("confirmation_min_days", "sd_min_days", "require_confirmation")
        or getattr(reading.params, key) != getattr(defaults, key)
    }
    data: dict[str, Any] = {
        "format": READING_FORMAT,
        "patient_id": reading.patient_id,
        "criteria": reading.criteria.value,
        "first_dose_date": _iso(reading.first_dose_date),
        "params": params,
        "lesions": [_lesion_dict(lesion) for lesion in reading.lesions],
        "timepoints": [_timepoint_dict(t) for t in reading.timepoints],
    }
    if reading.reader:
        data["reader"] = reading.reader
    return data


def reading_to_json_text(
    reading: Reading,
    *,
    reader_role: ReaderRole | None = None,
    sign_off: Mapping[str, Any] | None = None,
) -> str:
    """The reading file's text, indented, ending in a newline.

    ``reader_role`` and ``sign_off`` add the top-level keys of the same names
    (a central read, a signed file).
    """
    data = reading_to_dict(reading)
    if reader_role is not None:
        data["reader_role"] = ReaderRole(reader_role).value
    if sign_off is not None:
        data["sign_off"] = dict(sign_off)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_reading_file(
    reading: Reading,
    path: Path,
    *,
    reader_role: ReaderRole | None = None,
    sign_off: Mapping[str, Any] | None = None,
) -> None:
    """Write ``reading`` to ``path`` atomically (see :func:`reading_to_json_text`)."""
    write_text_atomically(
        reading_to_json_text(reading, reader_role=reader_role, sign_off=sign_off),
        path,
    )


def write_text_atomically(text: str, path: Path) -> None:
    """Write ``text`` to a temporary beside ``path``, then rename it into place.

    A reader never sees a half-written file, and a failed write leaves any
    existing ``path`` untouched.
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as error:
        raise ExchangeError(f"{path}: cannot write: {error.strerror}") from None


def _iso(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _lesion_dict(lesion: Lesion) -> dict[str, Any]:
    data: dict[str, Any] = {
        "lesion_id": lesion.lesion_id,
        "role": lesion.role.value,
        "organ": lesion.organ,
        "is_lymph_node": lesion.is_lymph_node,
    }
    if lesion.location:
        data["location"] = lesion.location
    if lesion.tracking_uid:
        data["tracking_uid"] = lesion.tracking_uid
    if lesion.is_cystic:
        data["is_cystic"] = True
    if lesion.previously_irradiated:
        data["previously_irradiated"] = True
    return data


def _timepoint_dict(timepoint: TimePoint) -> dict[str, Any]:
    data: dict[str, Any] = {
        "visit": timepoint.visit,
        "date": timepoint.date.isoformat(),
    }
    if timepoint.is_baseline != (timepoint.visit.strip().upper() in BASELINE_LABELS):
        data["baseline"] = timepoint.is_baseline
    if timepoint.slice_thickness_mm is not None:
        data["slice_thickness_mm"] = timepoint.slice_thickness_mm
    if timepoint.modality.value != "CT":
        data["modality"] = timepoint.modality.value
    if timepoint.study_instance_uid:
        data["study_instance_uid"] = timepoint.study_instance_uid
    if timepoint.series_instance_uid:
        data["series_instance_uid"] = timepoint.series_instance_uid
    data["measurements"] = [_measurement_dict(m) for m in timepoint.measurements]
    data["non_target"] = [
        {"lesion_id": a.lesion_id, "state": a.state.value}
        | ({"cytology_confirmed": True} if a.cytology_confirmed else {})
        | ({"geometry": _geometry_dict(a.geometry)} if a.geometry is not None else {})
        for a in timepoint.non_target
    ]
    data["new_lesions"] = [_new_lesion_dict(o) for o in timepoint.new_lesions]
    if timepoint.no_disease:
        data["no_disease"] = True
    return data


def _measurement_dict(measurement: Measurement) -> dict[str, Any]:
    data: dict[str, Any] = {
        "lesion_id": measurement.lesion_id,
        "state": measurement.state.value,
    }
    for key in ("long_axis_mm", "short_axis_mm", "viable_long_axis_mm"):
        value = getattr(measurement, key)
        if value is not None:
            data[key] = value
    if measurement.parts_mm:
        data["parts_mm"] = list(measurement.parts_mm)
    if measurement.merged_into is not None:
        data["merged_into"] = measurement.merged_into
    if measurement.geometry is not None:
        data["geometry"] = _geometry_dict(measurement.geometry)
    if measurement.viable_geometry is not None:
        data["viable_geometry"] = _geometry_dict(measurement.viable_geometry)
    return data


def _new_lesion_dict(observation: NewLesionObservation) -> dict[str, Any]:
    data: dict[str, Any] = {
        "lesion_id": observation.lesion_id,
        "state": observation.state.value,
    }
    if observation.not_imaged_at_baseline:
        data["not_imaged_at_baseline"] = True
    for key in ("long_axis_mm", "short_axis_mm", "typical_vascular_pattern"):
        value = getattr(observation, key)
        if value is not None:
            data[key] = value
    if observation.cytology_confirmed:
        data["cytology_confirmed"] = True
    if observation.geometry is not None:
        data["geometry"] = _geometry_dict(observation.geometry)
    return data


def _geometry_dict(geometry: MeasurementGeometry) -> dict[str, Any]:
    data: dict[str, Any] = {
        "series_instance_uid": geometry.series_instance_uid,
        "sop_instance_uid": geometry.sop_instance_uid,
        "method": geometry.method.value,
    }
    for key in ("long_axis", "short_axis"):
        axis: AxisGeometry | None = getattr(geometry, key)
        if axis is not None:
            data[key] = {
                "start_lps_mm": list(axis.start_lps_mm),
                "end_lps_mm": list(axis.end_lps_mm),
            }
    return data
