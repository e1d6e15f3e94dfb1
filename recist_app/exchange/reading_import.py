"""Reading files into the database: ``recist-app reading import`` and File → Import.

Each file is read strictly (:func:`~recist_app.exchange.parse_reading`), its
``sign_off`` turned into an :class:`~recist_app.store.ImportedSignOff`, and every
measurement or new lesion that carries ``geometry`` (or a measurement's mRECIST
``viable_geometry``) is checked against the images indexed in the store: the SOP
Instance UID must be an indexed image of a series of that patient, and both end
points of each axis must lie on that image's plane (within half a slice) and inside
its rows × columns. Then the reading is written by
:meth:`~recist_app.store.Readings.import_reading` in one transaction.

One file is one transaction: a bad file imports nothing and is reported as one line
naming the file, the field, the visit and the lesion. When several files are
imported together each stands alone, so the good ones are imported and every bad
one is reported (:func:`import_reading_files`).
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recist_app.exchange.errors import ExchangeError
from recist_app.exchange.reading_file import parse_reading

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from recist_app.imaging.headers import SliceHeader
    from recist_app.recist import AxisGeometry, MeasurementGeometry, Reading
    from recist_app.store import (
        ImportedSignOff,
        ImportOutcome,
        ReadingRecord,
        Store,
    )

__all__ = [
    "ReadingFile",
    "ReadingFileConflictError",
    "ReadingFileImport",
    "ReadingImportFailure",
    "ReadingImportReport",
    "check_reading_geometry",
    "import_reading_file",
    "import_reading_files",
    "load_reading_file",
]

_POINT_TOLERANCE_MM = 1e-3
"""Rounding allowance on top of half a slice and the pixel grid's edge."""
_DEFAULT_SLICE_MM = 1.0
"""Slice spacing assumed when an image states neither spacing nor thickness."""


class ReadingFileConflictError(ExchangeError):
    """The database holds a different reading; importing with replace overwrites it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingFile:
    """A reading file as read: the reading, its sign-off and its bytes' SHA-256."""

    path: Path
    reading: Reading
    sign_off: ImportedSignOff
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingFileImport:
    """One file imported: what it did to the database and the record after."""

    path: Path
    outcome: ImportOutcome
    record: ReadingRecord
    sha256: str

    def __str__(self) -> str:
        what = {
            "created": "imported",
            "replaced": "replaced",
            "unchanged": "already in the database, unchanged",
        }[self.outcome.value]
        return f"{self.path}: {self.record.label} {what} ({self.record.status.value})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingImportFailure:
    """A file that imported nothing, and why (one line)."""

    path: Path
    message: str
    conflict: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingImportReport:
    """The outcome of importing several files, one transaction each."""

    imported: tuple[ReadingFileImport, ...]
    failures: tuple[ReadingImportFailure, ...]

    @property
    def ok(self) -> bool:
        """Whether every file was imported (or was already there)."""
        return not self.failures

    def summary(self) -> str:
        """``3 files: 2 imported, 1 unchanged, 0 replaced, 1 refused``."""
        counts = dict.fromkeys(("created", "unchanged", "replaced"), 0)
        for item in self.imported:
            counts[item.outcome.value] += 1
        total = len(self.imported) + len(self.failures)
        return (
            f"{total} file{'s' if total != 1 else ''}: "
            f"{counts['created']} imported, {counts['unchanged']} unchanged, "
            f"{counts['replaced']} replaced, {len(self.failures)} refused"
        )


# --------------------------------------------------------------------- reading


def load_reading_file(path: Path) -> ReadingFile:
    """Read a ``recist-reading/1`` file with its sign-off and SHA-256.

    Raises
    ------
    ExchangeError
        One line naming the file, the field, the visit and the lesion.
    """
    try:
        data_bytes = path.read_bytes()
    except FileNotFoundError:
        raise ExchangeError(f"{path}: no such file") from None
    except OSError as error:
        raise ExchangeError(f"{path}: cannot read: {error.strerror}") from None
    try:
        data = json.loads(data_bytes.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ExchangeError(f"{path}: not UTF-8 text: {error.reason}") from None
    except json.JSONDecodeError as error:
        raise ExchangeError(
            f"{path}: not valid JSON: {error.msg} at line {error.lineno} "
            f"column {error.colno}"
        ) from None
    reading = parse_reading(data, source=str(path))
    return ReadingFile(
        path=path,
        reading=reading,
        sign_off=_sign_off(data.get("sign_off"), str(path)),
        sha256=hashlib.sha256(data_bytes).hexdigest(),
    )


def _sign_off(value: Any, source: str) -> ImportedSignOff:
    """The validated ``sign_off`` object (parse_reading checked its types)."""
    from recist_app.store import ImportedSignOff, StoreError

    if value is None:
        return ImportedSignOff()
    signed_at = value.get("signed_at")
    moment: datetime.datetime | None = None
    if signed_at is not None:
        try:
            moment = datetime.datetime.fromisoformat(signed_at)
        except ValueError:
            raise ExchangeError(
                f"{source}: sign_off.signed_at: expected an ISO 8601 time, "
                f"got {signed_at!r}"
            ) from None
        if moment.tzinfo is None:
            raise ExchangeError(
                f"{source}: sign_off.signed_at: {signed_at!r} lacks its UTC offset "
                "(e.g. +00:00)"
            )
    status = value["status"]
    if status == "signed":
        for key in ("signed_by", "signed_at"):
            if not value.get(key):
                raise ExchangeError(
                    f"{source}: sign_off.{key}: a signed reading needs it"
                )
        if value.get("version", 0) < 1:
            raise ExchangeError(
                f"{source}: sign_off.version: a signed reading has version >= 1"
            )
    try:
        return ImportedSignOff(
            status=status,
            signed_by=value.get("signed_by"),
            signed_at=moment,
            version=value.get("version", 0),
            amendment_reason=value.get("amendment_reason"),
        )
    except StoreError as error:
        raise ExchangeError(f"{source}: sign_off: {error}") from None


# --------------------------------------------------------------------- geometry


@dataclass(frozen=True, slots=True)
class _Plane:
    """An image's pixel grid in LPS mm: origin, directions, spacing, size."""

    origins_lps_mm: tuple[tuple[float, float, float], ...]
    row_direction: tuple[float, float, float]
    column_direction: tuple[float, float, float]
    normal: tuple[float, float, float]
    row_spacing_mm: float
    column_spacing_mm: float
    rows: int
    columns: int
    half_slice_mm: float


def _dot(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _sub(
    a: tuple[float, float, float], b: tuple[float, float, float]
) -> tuple[float, float, float]:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _plane(header: SliceHeader) -> _Plane | None:
    if (
        header.orientation is None
        or header.pixel_spacing_mm is None
        or not header.frame_positions_lps_mm
        or header.rows <= 0
        or header.columns <= 0
    ):
        return None
    o = header.orientation
    row_direction = (o[0], o[1], o[2])
    column_direction = (o[3], o[4], o[5])
    normal = (
        o[1] * o[5] - o[2] * o[4],
        o[2] * o[3] - o[0] * o[5],
        o[0] * o[4] - o[1] * o[3],
    )
    length = math.sqrt(_dot(normal, normal))
    if length < 1e-6:
        return None
    normal = (normal[0] / length, normal[1] / length, normal[2] / length)
    positions = header.frame_positions_lps_mm
    frame_gaps = sorted(
        abs(_dot(_sub(b, a), normal)) for a, b in itertools.pairwise(positions)
    )
    slice_mm = next(
        (
            value
            for value in (
                frame_gaps[0] if frame_gaps else None,
                header.spacing_between_slices_mm,
                header.slice_thickness_mm,
            )
            if value is not None and value > 0
        ),
        _DEFAULT_SLICE_MM,
    )
    return _Plane(
        origins_lps_mm=positions,
        row_direction=row_direction,
        column_direction=column_direction,
        normal=normal,
        row_spacing_mm=header.pixel_spacing_mm[0],
        column_spacing_mm=header.pixel_spacing_mm[1],
        rows=header.rows,
        columns=header.columns,
        half_slice_mm=slice_mm / 2,
    )


def _format_point(point: tuple[float, float, float]) -> str:
    return "(" + ", ".join(f"{c:.1f}" for c in point) + ") mm"


def _point_problem(
    plane: _Plane, point: tuple[float, float, float], uid: str
) -> str | None:
    """Why ``point`` is not on the image, or ``None`` when it is."""
    distances = [
        (abs(_dot(_sub(point, origin), plane.normal)), origin)
        for origin in plane.origins_lps_mm
    ]
    distance, origin = min(distances, key=lambda item: item[0])
    if distance > plane.half_slice_mm + _POINT_TOLERANCE_MM:
        return (
            f"point {_format_point(point)} is {distance:.1f} mm off the plane of "
            f"image {uid} (at most {plane.half_slice_mm:g} mm, half a slice)"
        )
    offset = _sub(point, origin)
    column = _dot(offset, plane.row_direction) / plane.column_spacing_mm
    row = _dot(offset, plane.column_direction) / plane.row_spacing_mm
    edge = _POINT_TOLERANCE_MM / min(plane.row_spacing_mm, plane.column_spacing_mm)
    if not (
        -0.5 - edge <= column <= plane.columns - 0.5 + edge
        and -0.5 - edge <= row <= plane.rows - 0.5 + edge
    ):
        return (
            f"point {_format_point(point)} lies outside image {uid} "
            f"(column {column:.1f}, row {row:.1f} of {plane.columns} × "
            f"{plane.rows} pixels)"
        )
    return None


class _GeometryChecker:
    """Checks findings' geometry against the store's images (headers cached)."""

    def __init__(self, store: Store, reading: Reading, source: str) -> None:
        self._store = store
        self._reading = reading
        self._source = source
        self._planes: dict[str, _Plane] = {}

    def _fail(self, field: str, visit: str, lesion: str, problem: str) -> ExchangeError:
        return ExchangeError(
            f"{self._source}: {field}: visit {visit}: lesion {lesion}: {problem}"
        )

    def check(
        self, geometry: MeasurementGeometry, field: str, visit: str, lesion: str
    ) -> None:
        uid = geometry.sop_instance_uid
        plane = self._planes.get(uid)
        if plane is None:
            plane = self._image_plane(geometry, field, visit, lesion)
            self._planes[uid] = plane
        axes: tuple[tuple[str, AxisGeometry | None], ...] = (
            ("long_axis", geometry.long_axis),
            ("short_axis", geometry.short_axis),
        )
        for name, axis in axes:
            if axis is None:
                continue
            for end, point in (
                ("start_lps_mm", axis.start_lps_mm),
                ("end_lps_mm", axis.end_lps_mm),
            ):
                problem = _point_problem(plane, point, uid)
                if problem is not None:
                    raise self._fail(f"{field}.{name}.{end}", visit, lesion, problem)

    def _image_plane(
        self, geometry: MeasurementGeometry, field: str, visit: str, lesion: str
    ) -> _Plane:
        from recist_app.imaging.errors import SliceReadError
        from recist_app.imaging.headers import read_slice_header

        uid = geometry.sop_instance_uid
        image = self._store.images.image(uid)
        if image is None:
            raise self._fail(
                f"{field}.sop_instance_uid",
                visit,
                lesion,
                f"image {uid} is not in the database; import its DICOM folder "
                "first (recist-app import DICOM_DIR)",
            )
        patient_id = self._reading.patient_id
        if image.patient_id != patient_id:
            raise self._fail(
                f"{field}.sop_instance_uid",
                visit,
                lesion,
                f"image {uid} belongs to patient {image.patient_id}, not {patient_id}",
            )
        if image.series_instance_uid != geometry.series_instance_uid:
            raise self._fail(
                f"{field}.series_instance_uid",
                visit,
                lesion,
                f"image {uid} is in series {image.series_instance_uid}, "
                f"not {geometry.series_instance_uid}",
            )
        try:
            header = read_slice_header(image.file_path)
        except SliceReadError as error:
            raise self._fail(
                f"{field}.sop_instance_uid", visit, lesion, f"image {uid}: {error}"
            ) from None
        plane = _plane(header)
        if plane is None:
            raise self._fail(
                f"{field}.sop_instance_uid",
                visit,
                lesion,
                f"image {uid} ({image.file_path}) has no patient geometry "
                "(orientation, position, pixel spacing)",
            )
        return plane


def check_reading_geometry(store: Store, reading: Reading, *, source: str) -> None:
    """Check every finding's geometry against the images indexed in ``store``.

    Raises
    ------
    ExchangeError
        The first finding whose image is not an indexed image of the reading's
        patient, or whose end points are off the image's plane or outside it;
        one line naming ``source``, the field, the visit and the lesion.
    """
    checker = _GeometryChecker(store, reading, source)
    for t, timepoint in enumerate(reading.timepoints):
        for m, measurement in enumerate(timepoint.measurements):
            for name, geometry in (
                ("geometry", measurement.geometry),
                ("viable_geometry", measurement.viable_geometry),
            ):
                if geometry is not None:
                    checker.check(
                        geometry,
                        f"timepoints[{t}].measurements[{m}].{name}",
                        timepoint.visit,
                        measurement.lesion_id,
                    )
        for n, observation in enumerate(timepoint.new_lesions):
            if observation.geometry is not None:
                checker.check(
                    observation.geometry,
                    f"timepoints[{t}].new_lesions[{n}].geometry",
                    timepoint.visit,
                    observation.lesion_id,
                )


# --------------------------------------------------------------------- importing


def import_reading_file(
    store: Store, path: Path, *, user: str, replace: bool = False
) -> ReadingFileImport:
    """Import one reading file into ``store`` in one transaction.

    Parameters
    ----------
    store
        The reading database.
    path
        A ``recist-reading/1`` file (its ``sign_off``, if any, comes with it).
    user
        Who imports, for the audit trail.
    replace
        Overwrite a different reading already stored for the same patient,
        criteria and reader (the audit trail records it with the file's SHA-256).

    Raises
    ------
    ReadingFileConflictError
        A different reading is stored and ``replace`` is false.
    ExchangeError
        The file is bad, its geometry does not fit the indexed images, or the
        database refused it; nothing was imported.
    """
    from recist_app.store import ReadingConflictError, StoreError

    loaded = load_reading_file(path)
    try:
        check_reading_geometry(store, loaded.reading, source=str(path))
        result = store.readings.import_reading(
            loaded.reading,
            sign_off=loaded.sign_off,
            source_sha256=loaded.sha256,
            replace=replace,
            user=user,
        )
    except ReadingConflictError as error:
        raise ReadingFileConflictError(f"{path}: {error}") from None
    except StoreError as error:
        raise ExchangeError(f"{path}: {error}") from None
    return ReadingFileImport(
        path=path, outcome=result.outcome, record=result.record, sha256=loaded.sha256
    )


def import_reading_files(
    store: Store,
    paths: Iterable[Path],
    *,
    user: str,
    replace: bool = False,
    on_file: Callable[[ReadingFileImport | ReadingImportFailure], None] | None = None,
) -> ReadingImportReport:
    """Import each file in its own transaction; a bad file does not stop the rest.

    ``on_file`` is called after each file with its import or its failure.
    """
    imported: list[ReadingFileImport] = []
    failures: list[ReadingImportFailure] = []
    for path in paths:
        item: ReadingFileImport | ReadingImportFailure
        try:
            item = import_reading_file(store, path, user=user, replace=replace)
        except ExchangeError as error:
            item = ReadingImportFailure(
                path=path,
                message=str(error),
                conflict=isinstance(error, ReadingFileConflictError),
            )
            failures.append(item)
        else:
            imported.append(item)
        if on_file is not None:
            on_file(item)
    return ReadingImportReport(imported=tuple(imported), failures=tuple(failures))
