"""Import reading files into the database (``recist-app reading import``).

The workstation's File → Import reading… runs the same import.

Each file is read strictly (:func:`~recist_app.exchange.load_reading_file`, with
its ``sign_off`` and SHA-256), and every measurement or new lesion that carries
``geometry`` (or a measurement's mRECIST ``viable_geometry``) is checked: each
diameter drawn must be the length of its line to 0.1 mm
(:func:`~recist_app.recist.drawn_length_mismatches`), and against the images
indexed in the store the SOP Instance UID must be an indexed image of a series of
that patient, in the visit's own study (never another visit's), and both end
points of each axis must lie on that image's plane (within half a slice) and
inside its rows × columns. Then the reading is stored in one transaction.

One file is one transaction: a bad file imports nothing and is reported as one line
naming the file, the field, the visit and the lesion. When several files are
imported together each stands alone, so the good ones are imported and every bad
one is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist_app.exchange import ExchangeError, load_reading_file
from recist_app.imaging import ImagePlane, SliceReadError, read_slice_header
from recist_app.recist import drawn_length_mismatches
from recist_app.store import ImportOutcome, ReadingConflictError, StoreError
from recist_app.workflows.errors import WorkflowError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from recist_app.recist import (
        AxisGeometry,
        MeasurementGeometry,
        ReaderRole,
        Reading,
    )
    from recist_app.store import ReadingRecord, Store

__all__ = [
    "ReadingFileImport",
    "ReadingImportFailure",
    "ReadingImportReport",
    "check_reading_geometry",
    "import_reading_file",
    "import_reading_files",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingFileImport:
    """One file imported: what it did to the database and the record after."""

    path: Path
    outcome: ImportOutcome
    record: ReadingRecord
    sha256: str

    @property
    def changed(self) -> bool:
        """Whether the import created or replaced a stored reading."""
        return self.outcome is not ImportOutcome.UNCHANGED

    def __str__(self) -> str:
        what = {
            ImportOutcome.CREATED: "imported",
            ImportOutcome.REPLACED: "replaced",
            ImportOutcome.UNCHANGED: "already in the database, unchanged",
        }[self.outcome]
        line = f"{self.path}: {self.record.label} {what} ({self.record.status.value})"
        if self.changed and self.record.audit_head is not None:
            line += f"; audit trail head {self.record.audit_head}"
        return line


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadingImportFailure:
    """A file that imported nothing, and why (one line).

    ``conflict`` is true when the database holds a different reading of the same
    patient, criteria and reader: importing again with ``replace`` overwrites it.
    """

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

    @property
    def conflicts(self) -> tuple[ReadingImportFailure, ...]:
        """The files refused only because a different reading is stored."""
        return tuple(failure for failure in self.failures if failure.conflict)

    def summary(self) -> str:
        """``3 files: 2 imported, 1 unchanged, 0 replaced, 1 refused``."""
        counts = dict.fromkeys(ImportOutcome, 0)
        for item in self.imported:
            counts[item.outcome] += 1
        total = len(self.imported) + len(self.failures)
        return (
            f"{total} file{'s' if total != 1 else ''}: "
            f"{counts[ImportOutcome.CREATED]} imported, "
            f"{counts[ImportOutcome.UNCHANGED]} unchanged, "
            f"{counts[ImportOutcome.REPLACED]} replaced, "
            f"{len(self.failures)} refused"
        )


class _GeometryChecker:
    """Checks findings' geometry against the store's images (planes cached)."""

    def __init__(self, store: Store, reading: Reading, source: str) -> None:
        self._store = store
        self._reading = reading
        self._source = source
        self._planes: dict[str, ImagePlane] = {}

    def _fail(self, field: str, visit: str, lesion: str, problem: str) -> WorkflowError:
        return WorkflowError(
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
        self._check_study(uid, field, visit, lesion)
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
                problem = plane.point_problem(point, uid)
                if problem is not None:
                    raise self._fail(f"{field}.{name}.{end}", visit, lesion, problem)

    def _check_study(self, uid: str, field: str, visit: str, lesion: str) -> None:
        """The image must be of the visit's study, never another visit's."""
        image = self._store.images.image(uid)
        if image is None:  # _image_plane refused it already
            return
        study = image.study_instance_uid
        own = self._reading.timepoint(visit).study_instance_uid
        other = next(
            (
                t.visit
                for t in self._reading.timepoints
                if t.visit != visit and t.study_instance_uid == study
            ),
            None,
        )
        if (own is not None and study != own) or other is not None:
            whose = f"visit {other}'s study" if other is not None else f"study {study}"
            raise self._fail(
                f"{field}.sop_instance_uid",
                visit,
                lesion,
                f"image {uid} is in {whose}, not in this visit's"
                + (f" ({own})" if own is not None else ""),
            )

    def _image_plane(
        self, geometry: MeasurementGeometry, field: str, visit: str, lesion: str
    ) -> ImagePlane:
        uid = geometry.sop_instance_uid
        where = f"{field}.sop_instance_uid"
        image = self._store.images.image(uid)
        if image is None:
            raise self._fail(
                where,
                visit,
                lesion,
                f"image {uid} is not in the database; import its DICOM folder "
                "first (recist-app import DICOM_DIR)",
            )
        patient_id = self._reading.patient_id
        if image.patient_id != patient_id:
            raise self._fail(
                where,
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
            raise self._fail(where, visit, lesion, f"image {uid}: {error}") from None
        plane = ImagePlane.from_header(header)
        if plane is None:
            raise self._fail(
                where,
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
    WorkflowError
        The first diameter that is not the length of the line drawn for it; or
        the first finding whose image is not an indexed image of the reading's
        patient, is in another visit's study, or whose end points are off the
        image's plane or outside it; one line naming ``source``, the field, the
        visit and the lesion.
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
    # A diameter drawn is the length of its line (to 0.1 mm), never another value.
    for mismatch in drawn_length_mismatches(reading):
        raise WorkflowError(
            f"{source}: {mismatch.path}: visit {mismatch.visit}: lesion "
            f"{mismatch.lesion_id}: {mismatch.problem()}"
        )


def import_reading_file(
    store: Store,
    path: Path,
    *,
    user: str,
    replace: bool = False,
    role: ReaderRole | None = None,
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
    role
        The reading's central-review role (``reading import --role``), for a
        file without a top-level ``reader_role``; a file that has one must say
        the same.

    Raises
    ------
    ReadingConflictError
        A different reading is stored and ``replace`` is false.
    ExchangeError
        The file is unreadable or invalid.
    WorkflowError
        Its geometry does not fit the indexed images.
    StoreError
        The database refused it; nothing was imported.
    """
    loaded = load_reading_file(path)
    if (
        role is not None
        and loaded.reader_role is not None
        and loaded.reader_role is not role
    ):
        raise WorkflowError(
            f"{path}: reader_role: the file says {loaded.reader_role.value!r}, "
            f"--role says {role.value!r}"
        )
    check_reading_geometry(store, loaded.reading, source=str(path))
    try:
        result = store.readings.import_reading(
            loaded.reading,
            sign_off=loaded.sign_off,
            source_sha256=loaded.sha256,
            replace=replace,
            user=user,
            role=loaded.reader_role or role,
        )
    except StoreError as error:
        # The store names the reading; the file is what the user chose.
        raise type(error)(f"{path}: {error}") from None
    return ReadingFileImport(
        path=path, outcome=result.outcome, record=result.record, sha256=loaded.sha256
    )


def import_reading_files(
    store: Store,
    paths: Iterable[Path],
    *,
    user: str,
    replace: bool = False,
    role: ReaderRole | None = None,
    on_file: Callable[[ReadingFileImport | ReadingImportFailure], None] | None = None,
) -> ReadingImportReport:
    """Import each file in its own transaction; a bad file does not stop the rest.

    ``role`` is the central-review role of files without their own
    ``reader_role``. ``on_file`` is called after each file with its import or
    its failure.
    """
    imported: list[ReadingFileImport] = []
    failures: list[ReadingImportFailure] = []
    for path in paths:
        item: ReadingFileImport | ReadingImportFailure
        try:
            item = import_reading_file(
                store, path, user=user, replace=replace, role=role
            )
        except (ExchangeError, WorkflowError, StoreError) as error:
            item = ReadingImportFailure(
                path=path,
                message=str(error),
                conflict=isinstance(error, ReadingConflictError),
            )
            failures.append(item)
        else:
            imported.append(item)
        if on_file is not None:
            on_file(item)
    return ReadingImportReport(imported=tuple(imported), failures=tuple(failures))
