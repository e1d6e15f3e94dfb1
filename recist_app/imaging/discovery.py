"""Find the image series in a folder tree or DICOMDIR, reading headers only.

:func:`discover` groups files into patients -> studies -> series -> volumes.
Non-DICOM files are skipped silently; DICOM files that cannot be used are
listed in :attr:`DiscoveryResult.rejected`, each with a one-line reason, and no
file can stop the scan: whatever goes wrong reading one file is that file's
reason. Files without Patient ID or UIDs get identifiers derived from their
content (:mod:`recist_app.imaging.identifiers`), said in
:attr:`DiscoveryResult.notes`.
:func:`group_volumes` splits the slices of one series into volumes that each
have one orientation and size, sorted along the slice normal, with notes about
duplicates, irregular or missing spacing and gantry tilt.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pydicom

from recist_app.imaging.errors import NotDicomError, SliceReadError
from recist_app.imaging.headers import (
    SliceHeader,
    read_slice_header,
    usability_problem,
)
from recist_app.imaging.identifiers import (
    PLACEHOLDER_PATIENT_PREFIX,
    separate_clashing_instances,
)
from recist_app.imaging.progress import (
    CancelCheck,
    ProgressCallback,
    raise_if_cancelled,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

__all__ = [
    "DiscoveryResult",
    "PatientInfo",
    "RejectedFile",
    "SeriesInfo",
    "SliceRef",
    "StudyInfo",
    "VolumeInfo",
    "contrast_phase_hint",
    "discover",
    "group_volumes",
]

FloatArray = npt.NDArray[np.float64]

_ORIENTATION_DECIMALS = 3
_SPACING_DECIMALS = 3
_DUPLICATE_TOLERANCE_MM = 0.01
_IRREGULAR_FRACTION = 0.02
_GAP_FACTOR = 1.5
_TILT_NOTE_DEG = 0.05


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectedFile:
    """A DICOM file that cannot be used, with a one-line reason."""

    path: str
    reason: str
    series_instance_uid: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SliceRef:
    """One 2-D slice: a file (and frame, for multi-frame objects) and its position."""

    header: SliceHeader
    frame_index: int
    position_lps_mm: tuple[float, float, float]

    @property
    def sop_instance_uid(self) -> str:
        """SOP Instance UID of the file holding the slice."""
        return self.header.sop_instance_uid


@dataclass(frozen=True, slots=True, kw_only=True)
class VolumeInfo:
    """Slices of one series that form one loadable volume, sorted along the normal.

    Parameters
    ----------
    series_instance_uid
        The series the slices come from.
    slices
        The slices, sorted by ascending position along the slice normal.
    rows, columns
        Slice size in pixels.
    orientation
        Image Orientation (Patient): row then column direction cosines.
    pixel_spacing_mm
        ``(row spacing, column spacing)`` in mm, as in DICOM.
    slice_spacing_mm
        Median distance between slice planes, ``None`` for a single slice.
    warnings
        One-line notes: duplicates dropped, irregular spacing, gaps, tilt.
    dropped
        Duplicate files left out of the volume, each with its reason.
    """

    series_instance_uid: str
    slices: tuple[SliceRef, ...]
    rows: int
    columns: int
    orientation: tuple[float, float, float, float, float, float]
    pixel_spacing_mm: tuple[float, float]
    slice_spacing_mm: float | None
    warnings: tuple[str, ...] = ()
    dropped: tuple[RejectedFile, ...] = ()

    @property
    def slice_count(self) -> int:
        """Number of slices."""
        return len(self.slices)

    @property
    def plane(self) -> str:
        """``axial``, ``coronal``, ``sagittal`` or ``oblique`` from the normal."""
        return _plane_name(_normal(self.orientation))

    @property
    def label(self) -> str:
        """Short text for a series list, e.g. ``axial 512x512x60, 5.0 mm``."""
        spacing = (
            "" if self.slice_spacing_mm is None else f", {self.slice_spacing_mm:g} mm"
        )
        return f"{self.plane} {self.columns}x{self.rows}x{self.slice_count}{spacing}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesInfo:
    """One series with the fields a reader chooses by, and its volumes."""

    series_instance_uid: str
    series_number: int | None
    modality: str
    description: str
    date: str
    time: str
    image_type: tuple[str, ...]
    slice_thickness_mm: float | None
    contrast_agent: str
    phase_hint: str
    body_part: str
    volumes: tuple[VolumeInfo, ...]
    excluded: tuple[RejectedFile, ...] = ()

    @property
    def slice_count(self) -> int:
        """Slices over all volumes of the series."""
        return sum(volume.slice_count for volume in self.volumes)


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyInfo:
    """One study (visit) of a patient."""

    study_instance_uid: str
    date: str
    time: str
    description: str
    accession_number: str
    series: tuple[SeriesInfo, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientInfo:
    """One patient and their studies, oldest first."""

    patient_id: str
    patient_name: str
    birth_date: str
    sex: str
    studies: tuple[StudyInfo, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveryResult:
    """What :func:`discover` found.

    Parameters
    ----------
    patients
        Usable images grouped into patients, studies, series and volumes.
    rejected
        DICOM files that cannot be used, each with a reason.
    skipped
        Files that are not DICOM (skipped silently; listed for completeness).
    directories
        DICOMDIR index files met (their references are checked, not imaged).
    files_scanned
        Number of files looked at.
    notes
        One line each about what was made up so nothing is lost: placeholder
        patients for files without Patient ID, identifiers derived from the
        files' content where UIDs were missing or shared by different images.
    """

    patients: tuple[PatientInfo, ...]
    rejected: tuple[RejectedFile, ...]
    skipped: tuple[str, ...]
    directories: tuple[str, ...]
    files_scanned: int
    notes: tuple[str, ...] = ()

    def iter_series(self) -> Iterator[tuple[PatientInfo, StudyInfo, SeriesInfo]]:
        """Yield every series with its patient and study."""
        for patient in self.patients:
            for study in patient.studies:
                for series in study.series:
                    yield patient, study, series

    @property
    def volumes(self) -> tuple[VolumeInfo, ...]:
        """Every loadable volume, in patient/study/series order."""
        return tuple(v for _, _, series in self.iter_series() for v in series.volumes)


# ---------------------------------------------------------------- phase hints

_PHASES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "non-contrast",
        re.compile(
            r"non[- ]?contrast|non[- ]?enhanced|unenhanced|pre[- ]?contrast|"
            r"\bplain\b|\bnative?\b|\bw/?o\b|without contrast|\bnc\b"
        ),
    ),
    ("arterial", re.compile(r"arterial|\bart\b|\bhap\b|\bap\b")),
    ("portal venous", re.compile(r"portal|venous|\bpvp?\b|\bvp\b")),
    ("delayed", re.compile(r"delay|equilibrium|\blate\b|\beq\b")),
)


def contrast_phase_hint(description: str, contrast_agent: str = "") -> str:
    """Guess the contrast phase from Series Description and Contrast/Bolus Agent.

    Parameters
    ----------
    description
        Series Description.
    contrast_agent
        Contrast/Bolus Agent (0018,0010), empty when absent.

    Returns
    -------
    str
        ``"arterial"``, ``"portal venous"``, ``"delayed"``, ``"non-contrast"``,
        ``"contrast (phase not stated)"`` or ``""`` when nothing hints.

    Examples
    --------
    >>> contrast_phase_hint("Abdomen PORTAL VENOUS 5mm")
    'portal venous'
    >>> contrast_phase_hint("CHEST", "Iohexol")
    'contrast (phase not stated)'
    """
    text = description.lower()
    for phase, pattern in _PHASES:
        if pattern.search(text):
            return phase
    return "contrast (phase not stated)" if contrast_agent.strip() else ""


# ---------------------------------------------------------------- geometry helpers


def _normal(orientation: Sequence[float]) -> FloatArray:
    row = np.asarray(orientation[:3], dtype=np.float64)
    column = np.asarray(orientation[3:6], dtype=np.float64)
    normal = np.cross(row, column)
    return np.asarray(normal / np.linalg.norm(normal), dtype=np.float64)


def _plane_name(normal: FloatArray) -> str:
    axis = int(np.argmax(np.abs(normal)))
    if abs(normal[axis]) < math.cos(math.radians(10)):
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def _volume_key(header: SliceHeader) -> tuple[object, ...]:
    assert header.orientation is not None
    assert header.pixel_spacing_mm is not None
    return (
        tuple(round(v, _ORIENTATION_DECIMALS) + 0.0 for v in header.orientation),
        header.rows,
        header.columns,
        tuple(round(v, _SPACING_DECIMALS) for v in header.pixel_spacing_mm),
        header.bits_allocated,
    )


def _expand(headers: Iterable[SliceHeader]) -> list[SliceRef]:
    return [
        SliceRef(header=header, frame_index=index, position_lps_mm=position)
        for header in headers
        for index, position in enumerate(header.frame_positions_lps_mm)
    ]


def _sort_key(ref: SliceRef) -> tuple[int, int, str]:
    """Instance number first (missing ones last), then frame, then path."""
    instance = ref.header.instance_number
    number = instance if instance is not None else 1 << 30
    return (number, ref.frame_index, ref.header.path)


def _dropped(ref: SliceRef, reason: str) -> RejectedFile:
    return RejectedFile(
        path=ref.header.path,
        reason=reason,
        series_instance_uid=ref.header.series_instance_uid,
    )


def _drop_same_instance(
    refs: list[SliceRef], notes: list[str], dropped: list[RejectedFile]
) -> list[SliceRef]:
    seen: dict[tuple[str, int], SliceRef] = {}
    kept: list[SliceRef] = []
    for ref in refs:
        key = (ref.header.sop_instance_uid, ref.frame_index)
        first = seen.get(key)
        if ref.header.sop_instance_uid and first is not None:
            dropped.append(
                _dropped(
                    ref, f"duplicate of {first.header.path} (same SOP Instance UID)"
                )
            )
            continue
        seen[key] = ref
        kept.append(ref)
    if len(kept) < len(refs):
        notes.append(
            f"{len(refs) - len(kept)} duplicate file(s) of the same SOP instance "
            "ignored"
        )
    return kept


def _has_duplicate_heights(heights: FloatArray) -> bool:
    ordered = np.sort(heights)
    return bool(np.any(np.diff(ordered) < _DUPLICATE_TOLERANCE_MM))


def _split_duplicates(
    refs: list[SliceRef],
    normal: FloatArray,
    notes: list[str],
    dropped: list[RejectedFile],
) -> list[list[SliceRef]]:
    """Split stacks that repeat positions (echoes, phases, acquisitions)."""

    def height(ref: SliceRef) -> float:
        return float(np.dot(ref.position_lps_mm, normal))

    if not _has_duplicate_heights(np.array([height(r) for r in refs])):
        return [refs]
    attributes: tuple[tuple[str, Callable[[SliceHeader], int | None]], ...] = (
        ("echo number", lambda h: h.echo_number),
        ("temporal position", lambda h: h.temporal_position),
        ("acquisition number", lambda h: h.acquisition_number),
    )
    for name, value in attributes:
        groups: dict[int | None, list[SliceRef]] = defaultdict(list)
        for ref in refs:
            groups[value(ref.header)].append(ref)
        if len(groups) > 1 and all(
            not _has_duplicate_heights(np.array([height(r) for r in group]))
            for group in groups.values()
        ):
            notes.append(
                f"slices repeat positions: split into {len(groups)} volumes by {name}"
            )
            return list(groups.values())
    kept: dict[float, SliceRef] = {}
    for ref in sorted(refs, key=_sort_key):
        key = round(height(ref) / _DUPLICATE_TOLERANCE_MM)
        first = kept.setdefault(key, ref)
        if first is not ref:
            dropped.append(
                _dropped(
                    ref,
                    f"same position as {first.header.path} in the same series "
                    "(kept the first by instance number)",
                )
            )
    notes.append(
        f"{len(refs) - len(kept)} slice(s) repeat the position of another slice; "
        "kept the first by instance number"
    )
    return [list(kept.values())]


def _spacing_notes(heights: FloatArray) -> tuple[float | None, list[str]]:
    if heights.size < 2:
        return None, []
    steps = np.diff(heights)
    median = float(np.median(steps))
    notes: list[str] = []
    gaps = np.flatnonzero(steps > _GAP_FACTOR * median)
    if gaps.size:
        first = int(gaps[0])
        notes.append(
            f"missing slice(s) suspected: {gaps.size} gap(s), first of "
            f"{steps[first]:.2f} mm after slice {first} (spacing {median:.2f} mm)"
        )
    if float(np.max(np.abs(steps - median))) > max(0.01, _IRREGULAR_FRACTION * median):
        notes.append(
            f"irregular slice spacing: {float(steps.min()):.2f} to "
            f"{float(steps.max()):.2f} mm (median {median:.2f} mm)"
        )
    return median, notes


def _tilt_note(refs: Sequence[SliceRef], normal: FloatArray) -> str | None:
    if len(refs) < 2:
        return None
    stack = np.subtract(refs[-1].position_lps_mm, refs[0].position_lps_mm)
    length = float(np.linalg.norm(stack))
    if length == 0:
        return None
    angle = math.degrees(
        math.acos(min(1.0, abs(float(np.dot(stack, normal))) / length))
    )
    if angle < _TILT_NOTE_DEG:
        return None
    return (
        f"gantry tilt {angle:.1f} deg: slices are sheared; positions are kept exact "
        "(lengths in the slice plane are unaffected)"
    )


def _rescale_note(refs: Sequence[SliceRef]) -> str | None:
    pairs = {(r.header.rescale_slope, r.header.rescale_intercept) for r in refs}
    if len(pairs) > 1:
        return "rescale slope/intercept differ between slices"
    return None


def _make_volume(
    refs: list[SliceRef], notes: list[str], dropped: Sequence[RejectedFile]
) -> VolumeInfo:
    header = refs[0].header
    assert header.orientation is not None
    assert header.pixel_spacing_mm is not None
    normal = _normal(header.orientation)
    refs = sorted(refs, key=lambda r: float(np.dot(r.position_lps_mm, normal)))
    heights = np.array([float(np.dot(r.position_lps_mm, normal)) for r in refs])
    spacing, spacing_notes = _spacing_notes(heights)
    extra = [note for note in (_tilt_note(refs, normal), _rescale_note(refs)) if note]
    return VolumeInfo(
        series_instance_uid=header.series_instance_uid,
        slices=tuple(refs),
        rows=header.rows,
        columns=header.columns,
        orientation=header.orientation,
        pixel_spacing_mm=header.pixel_spacing_mm,
        slice_spacing_mm=spacing,
        warnings=tuple(notes + spacing_notes + extra),
        dropped=tuple(dropped),
    )


_CLASH_NOTE = "share SOP Instance UIDs but hold different images"
_DERIVED_NOTE = "identifiers derived from the files' content"


def _identity_notes(headers: Sequence[SliceHeader]) -> list[str]:
    notes: list[str] = []
    missing = sorted(
        {name for h in headers for name in h.derived_identifiers},
        key=(
            "PatientID",
            "StudyInstanceUID",
            "SeriesInstanceUID",
            "SOPInstanceUID",
        ).index,
    )
    count = sum(1 for h in headers if h.derived_identifiers)
    if missing:
        notes.append(f"{count} file(s) without {', '.join(missing)}: {_DERIVED_NOTE}")
    return notes


def group_volumes(headers: Sequence[SliceHeader]) -> tuple[VolumeInfo, ...]:
    """Split usable headers of one series into volumes.

    Files that share a SOP Instance UID but place different images get UIDs
    derived from their bytes first (so none is dropped as a duplicate). Slices
    are grouped by orientation, size, pixel spacing and bit depth; a group that
    repeats positions is split by echo, temporal position or acquisition number,
    else duplicates are dropped with a note.

    Parameters
    ----------
    headers
        Usable headers (see :func:`~recist_app.imaging.headers.usability_problem`),
        normally of one series.

    Returns
    -------
    tuple of VolumeInfo
        Largest volume first.
    """
    identity_notes = _identity_notes(headers)
    headers, clashing = separate_clashing_instances(headers)
    if clashing:
        identity_notes.append(
            f"{clashing} files {_CLASH_NOTE}: each got a UID from its bytes"
        )
    groups: dict[tuple[object, ...], list[SliceHeader]] = defaultdict(list)
    for header in headers:
        groups[_volume_key(header)].append(header)
    volumes: list[VolumeInfo] = []
    split_note = (
        [f"series mixes {len(groups)} orientations/sizes: split"]
        if len(groups) > 1
        else []
    )
    for members in groups.values():
        notes = [*identity_notes, *split_note]
        dropped: list[RejectedFile] = []
        refs = _drop_same_instance(
            _expand(sorted(members, key=lambda h: h.path)), notes, dropped
        )
        first = members[0]
        assert first.orientation is not None
        stacks = _split_duplicates(refs, _normal(first.orientation), notes, dropped)
        for number, stack in enumerate(stacks):
            unique = list({item.path: item for item in dropped}.values())
            volumes.append(
                _make_volume(stack, list(notes), unique if number == 0 else ())
            )
    volumes.sort(key=lambda v: -v.slice_count)
    return tuple(volumes)


# ---------------------------------------------------------------- scanning


# PS3.10 8.5 allows 8 upper-case letters, digits and _ per component; real media
# use longer and lower-case names too, but never separators, controls or "..".
_FILE_ID_PART = re.compile(r"(?!\.\.?$)[A-Za-z0-9_.\- ]{1,64}")


def _dicomdir_files(path: str) -> tuple[list[str], list[RejectedFile]]:
    """Files referenced by a DICOMDIR, and references that are missing."""
    base = os.path.dirname(path)
    files: list[str] = []
    missing: list[RejectedFile] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        directory = pydicom.dcmread(path)
    for number, record in enumerate(directory.get("DirectoryRecordSequence") or []):
        file_id = record.get("ReferencedFileID")
        if not file_id:
            continue
        parts = [
            str(part) for part in ([file_id] if isinstance(file_id, str) else file_id)
        ]
        if not all(_FILE_ID_PART.fullmatch(part) for part in parts):
            shown = repr("\\".join(parts))
            missing.append(
                RejectedFile(
                    path=path,
                    reason=f"record {number + 1}: ReferencedFileID "
                    f"{shown[:60]} is not a file name within the media",
                )
            )
            continue
        target = os.path.join(base, *parts)
        if os.path.isfile(target):
            files.append(target)
        else:
            missing.append(
                RejectedFile(path=target, reason=f"referenced by {path} but missing")
            )
    return files, missing


def _list_files(
    paths: Sequence[str | os.PathLike[str]],
) -> tuple[list[str], list[RejectedFile]]:
    files: list[str] = []
    problems: list[RejectedFile] = []
    for item in paths:
        name = os.fspath(item)
        if os.path.isdir(name):
            for folder, subfolders, names in os.walk(name):
                subfolders.sort()
                # regular files only: opening a FIFO or a device would block
                files.extend(
                    path
                    for path in (os.path.join(folder, n) for n in sorted(names))
                    if os.path.isfile(path)
                )
        elif os.path.basename(name).upper() == "DICOMDIR" and os.path.isfile(name):
            try:
                referenced, missing = _dicomdir_files(name)
            except Exception as error:  # pydicom on a damaged DICOMDIR
                problems.append(
                    RejectedFile(path=name, reason=f"unreadable DICOMDIR: {error}")
                )
                continue
            files.extend(referenced)
            problems.extend(missing)
        elif os.path.isfile(name):
            files.append(name)
        elif os.path.exists(name):
            problems.append(
                RejectedFile(path=name, reason="not a regular file (a FIFO or device)")
            )
        else:
            problems.append(RejectedFile(path=name, reason="no such file or folder"))
    return list(dict.fromkeys(files)), problems


@dataclass(slots=True)
class _Scan:
    usable: list[SliceHeader] = field(default_factory=list)
    rejected: list[RejectedFile] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    directories: list[str] = field(default_factory=list)
    total: int = 0

    def add(self, name: str) -> None:
        try:
            self._add(name)
        except Exception as error:  # one file never stops the scan
            detail = " ".join(str(error).split())[:160]
            self.rejected.append(
                RejectedFile(
                    path=name,
                    reason=f"unexpected error reading the file: "
                    f"{type(error).__name__}: {detail}",
                )
            )

    def _add(self, name: str) -> None:
        try:
            header = read_slice_header(name)
        except NotDicomError:
            self.skipped.append(name)
            return
        except SliceReadError as error:
            self.rejected.append(
                RejectedFile(path=name, reason=_reason(str(error), name))
            )
            return
        if header.is_directory:
            self.directories.append(name)
            self.rejected.extend(_check_dicomdir(name))
            return
        problem = usability_problem(header)
        if problem is None:
            self.usable.append(header)
            return
        self.rejected.append(
            RejectedFile(
                path=name,
                reason=problem,
                series_instance_uid=header.series_instance_uid,
            )
        )


def _scan(
    paths: Sequence[str | os.PathLike[str]],
    progress: ProgressCallback | None,
    cancel: CancelCheck | None,
) -> _Scan:
    files, problems = _list_files(paths)
    scan = _Scan(rejected=problems, total=len(files))
    for done, name in enumerate(files, start=1):
        raise_if_cancelled(cancel, "scanning for DICOM files")
        scan.add(name)
        if progress is not None:
            progress(done, scan.total)
    return scan


def _reason(message: str, name: str) -> str:
    prefix = f"{name}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _check_dicomdir(name: str) -> list[RejectedFile]:
    try:
        _, missing = _dicomdir_files(name)
    except Exception as error:  # pydicom on a damaged DICOMDIR
        return [RejectedFile(path=name, reason=f"unreadable DICOMDIR: {error}")]
    return missing


def _first_text(headers: Sequence[SliceHeader], attribute: str) -> str:
    for header in headers:
        value = getattr(header, attribute)
        if value:
            return str(value)
    return ""


def _series_info(
    headers: list[SliceHeader], excluded: list[RejectedFile]
) -> SeriesInfo:
    headers = sorted(headers, key=lambda h: (h.instance_number or 0, h.path))
    first = headers[0]
    description = _first_text(headers, "series_description")
    agent = _first_text(headers, "contrast_bolus_agent")
    volumes = group_volumes(headers)
    return SeriesInfo(
        series_instance_uid=first.series_instance_uid,
        series_number=first.series_number,
        modality=first.modality,
        description=description,
        date=first.series_date or first.study_date,
        time=first.series_time,
        image_type=first.image_type,
        slice_thickness_mm=first.slice_thickness_mm,
        contrast_agent=agent,
        phase_hint=contrast_phase_hint(description, agent),
        body_part=first.body_part_examined,
        volumes=volumes,
        excluded=(*excluded, *(item for v in volumes for item in v.dropped)),
    )


def _adopt_patient_ids(headers: list[SliceHeader]) -> tuple[list[SliceHeader], int]:
    """Files without Patient ID take the one their study's other files carry.

    A Study Instance UID belongs to one patient, so files of a study that lack
    the Patient ID join that patient instead of a placeholder (which the store
    would refuse as the same study under a second patient).
    """
    owners: dict[str, set[str]] = defaultdict(set)
    for header in headers:
        if "PatientID" not in header.derived_identifiers:
            owners[header.study_instance_uid].add(header.patient_id)
    adopted = 0
    result = []
    for header in headers:
        names = owners.get(header.study_instance_uid, set())
        if (
            "PatientID" in header.derived_identifiers
            and "StudyInstanceUID" not in header.derived_identifiers
            and len(names) == 1
        ):
            header = dataclasses.replace(
                header,
                patient_id=next(iter(names)),
                derived_identifiers=tuple(
                    name for name in header.derived_identifiers if name != "PatientID"
                ),
            )
            adopted += 1
        result.append(header)
    return result, adopted


def _organise(
    usable: list[SliceHeader], excluded_by_series: dict[str, list[RejectedFile]]
) -> tuple[PatientInfo, ...]:
    tree: dict[str, dict[str, dict[str, list[SliceHeader]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for header in usable:
        tree[header.patient_id][header.study_instance_uid][
            header.series_instance_uid
        ].append(header)
    patients: list[PatientInfo] = []
    for patient_id, studies in tree.items():
        study_infos: list[StudyInfo] = []
        for study_uid, series_map in studies.items():
            series = [
                _series_info(members, excluded_by_series.get(series_uid, []))
                for series_uid, members in series_map.items()
            ]
            series.sort(
                key=lambda s: (
                    s.series_number is None,
                    s.series_number or 0,
                    s.description,
                )
            )
            members = [h for group in series_map.values() for h in group]
            study_infos.append(
                StudyInfo(
                    study_instance_uid=study_uid,
                    date=_first_text(members, "study_date"),
                    time=_first_text(members, "study_time"),
                    description=_first_text(members, "study_description"),
                    accession_number=_first_text(members, "accession_number"),
                    series=tuple(series),
                )
            )
        study_infos.sort(key=lambda s: (s.date, s.time, s.study_instance_uid))
        members = [h for s in studies.values() for g in s.values() for h in g]
        patients.append(
            PatientInfo(
                patient_id=patient_id,
                patient_name=_first_text(members, "patient_name"),
                birth_date=_first_text(members, "patient_birth_date"),
                sex=_first_text(members, "patient_sex"),
                studies=tuple(study_infos),
            )
        )
    patients.sort(key=lambda p: (p.patient_id, p.patient_name))
    return tuple(patients)


def discover(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> DiscoveryResult:
    """Scan folders, files or a DICOMDIR for image series, reading headers only.

    Parameters
    ----------
    source
        A folder (scanned recursively), a file, a ``DICOMDIR``, or several.
    progress
        Called as ``progress(files_done, files_total)``.
    cancel
        A :class:`~recist_app.imaging.progress.CancelToken` or callable; when
        it returns ``True`` scanning stops with
        :class:`~recist_app.imaging.errors.LoadCancelledError`.

    Returns
    -------
    DiscoveryResult
        Patients -> studies -> series -> volumes, plus rejected files with reasons.
    """
    paths: Sequence[str | os.PathLike[str]]
    paths = [source] if isinstance(source, str | os.PathLike) else source
    scan = _scan(paths, progress, cancel)
    rejected = scan.rejected
    excluded: dict[str, list[RejectedFile]] = defaultdict(list)
    for item in rejected:
        if item.series_instance_uid:
            excluded[item.series_instance_uid].append(item)
    usable, adopted = _adopt_patient_ids(scan.usable)
    patients = _organise(usable, excluded)
    for patient in patients:
        for study in patient.studies:
            for series in study.series:
                rejected.extend(item for v in series.volumes for item in v.dropped)
    return DiscoveryResult(
        patients=patients,
        rejected=tuple(rejected),
        skipped=tuple(scan.skipped),
        directories=tuple(scan.directories),
        files_scanned=scan.total,
        notes=(
            *(
                [
                    f"{adopted} file(s) without Patient ID joined the patient named "
                    "by the other files of their study"
                ]
                if adopted
                else []
            ),
            *_discovery_notes(patients),
        ),
    )


def _discovery_notes(patients: Sequence[PatientInfo]) -> tuple[str, ...]:
    """One line per placeholder patient and per series with derived identifiers."""
    notes: list[str] = []
    for patient in patients:
        placeholder = [
            ref
            for study in patient.studies
            for series in study.series
            for volume in series.volumes
            for ref in volume.slices
            if "PatientID" in ref.header.derived_identifiers
        ]
        if placeholder and patient.patient_id.startswith(PLACEHOLDER_PATIENT_PREFIX):
            files = len({ref.header.path for ref in placeholder})
            notes.append(
                f"patient {patient.patient_id}: no Patient ID in {files} file(s) of "
                f"study {patient.studies[0].study_instance_uid}: indexed under this "
                "placeholder patient (one per study; identifiers derived from the "
                "files' content)"
            )
        for study in patient.studies:
            for series in study.series:
                lines = dict.fromkeys(
                    note
                    for volume in series.volumes
                    for note in volume.warnings
                    if _DERIVED_NOTE in note or _CLASH_NOTE in note
                )
                notes.extend(
                    f"series {series.series_instance_uid}: {line}" for line in lines
                )
    return tuple(notes)
