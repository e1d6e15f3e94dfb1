"""Load a series into an :class:`~recist_app.imaging.volume.ImageVolume`.

Fast path (uncompressed little-endian slices): headers are parsed without pixel
data, the slices are sorted along the normal, the voxel array is allocated once
and each file's pixel bytes are read straight into their slice of it. Other
transfer syntaxes, big endian and multi-frame objects decode through pydicom's
pixel handlers one frame at a time into the same array, so memory stays at the
volume plus one decoded frame. Decoders that can abort, stall or panic on damaged
data run in a worker process with a time limit
(:mod:`recist_app.imaging.isolated_decoder`); the array size is checked against
:func:`~recist_app.imaging.limits.volume_bytes_limit` before it is allocated.

The middle slice is read first and handed to ``on_middle_slice`` so a viewer
can show it before the rest arrives.
"""

from __future__ import annotations

import functools
import math
import os
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.pixels.decoders.base import get_decoder
from pydicom.pixels.utils import iter_pixels
from pydicom.uid import DeflatedExplicitVRLittleEndian

from recist_app.imaging.discovery import (
    RejectedFile,
    VolumeInfo,
    group_volumes,
)
from recist_app.imaging.errors import (
    NotDicomError,
    SeriesError,
    SliceReadError,
)
from recist_app.imaging.headers import (
    SliceHeader,
    limit_problem,
    read_slice_header,
    scan_slice_header,
    usability_problem,
)
from recist_app.imaging.isolated_decoder import (
    ISOLATED_SYNTAXES,
    DecodeJob,
    decode_isolated,
)
from recist_app.imaging.limits import (
    DECODE_TIME_LIMIT_S,
    format_bytes,
    volume_bytes_limit,
)
from recist_app.imaging.progress import (
    CancelCheck,
    ProgressCallback,
    raise_if_cancelled,
)
from recist_app.imaging.volume import ImageVolume

__all__ = [
    "MiddleSliceCallback",
    "PreviewCallback",
    "load_volume",
    "read_file_frames",
]

MiddleSliceCallback = Callable[[int, npt.NDArray[Any]], None]
"""``on_middle_slice(k, pixels)``: the middle slice's index and stored pixels."""

PreviewCallback = Callable[[ImageVolume], None]
"""``on_preview(volume)``: the volume being filled, once its middle slice is read."""

FrameSink = Callable[[int, npt.NDArray[Any]], None]
"""``on_frame(frame_index, pixels)``: receives each decoded frame of a file."""


def _dtype_for(header: SliceHeader) -> np.dtype[Any]:
    kind = "i" if header.pixel_representation == 1 else "u"
    return np.dtype(f"<{kind}{header.bits_allocated // 8}")


def _fix_high_bits(pixels: npt.NDArray[Any], header: SliceHeader) -> None:
    """Sign-extend or mask values whose Bits Stored < Bits Allocated, in place."""
    unused = header.bits_allocated - header.bits_stored
    if unused <= 0 or header.bits_stored <= 0:
        return
    if header.pixel_representation == 1:
        np.left_shift(pixels, unused, out=pixels)
        np.right_shift(pixels, unused, out=pixels)
    else:
        np.bitwise_and(pixels, (1 << header.bits_stored) - 1, out=pixels)


def _read_native(header: SliceHeader, target: npt.NDArray[Any]) -> None:
    """Read one uncompressed slice's bytes straight into ``target``."""
    assert header.pixel_data_offset is not None
    view = target.data.cast("B")
    with open(header.path, "rb", buffering=0) as handle:
        handle.seek(header.pixel_data_offset)
        count = handle.readinto(view)
    if count != target.nbytes:
        raise SliceReadError(
            f"{header.path}: truncated pixel data: {count} of {target.nbytes} bytes"
        )
    if target.dtype.byteorder == ">":
        target.byteswap(inplace=True)
    _fix_high_bits(target, header)


def _decode_error(path: str, error: BaseException) -> SliceReadError:
    detail = " ".join(str(error).split())[:200] or type(error).__name__
    return SliceReadError(f"{path}: cannot decode pixel data: {detail}")


# Decoder plugin per transfer syntax family. GDCM aborts the whole process on
# some corrupt JPEG 2000 code streams, so codecs that raise Python errors win.
_PREFERRED_PLUGINS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("1.2.840.10008.1.2.4.9", ("pylibjpeg", "pillow")),  # JPEG 2000 and HTJ2K
    ("1.2.840.10008.1.2.4.20", ("pylibjpeg",)),  # HTJ2K (4.201-4.203)
    ("1.2.840.10008.1.2.4.8", ("pyjpegls",)),  # JPEG-LS
    ("1.2.840.10008.1.2.5", ("pylibjpeg", "pydicom")),  # RLE
)


@functools.lru_cache(maxsize=64)
def _decoding_plugin(transfer_syntax_uid: str) -> str:
    """The plugin pydicom should use for a syntax ("" lets pydicom choose)."""
    for prefix, plugins in _PREFERRED_PLUGINS:
        if not transfer_syntax_uid.startswith(prefix):
            continue
        try:
            available = get_decoder(transfer_syntax_uid).available_plugins
        except (NotImplementedError, ValueError):
            return ""
        for plugin in plugins:
            if plugin in available:
                return plugin
    return ""


def _isolated(syntax: str) -> bool:
    """Whether this syntax decodes in the worker process (see isolated_decoder)."""
    if syntax in ISOLATED_SYNTAXES:
        return True
    # a compressed syntax without a preferred plugin would fall to GDCM in process
    return syntax.startswith("1.2.840.10008.1.2.4.") and not _decoding_plugin(syntax)


def _next_frame(
    frames: Iterator[tuple[int, npt.NDArray[Any]]], path: str
) -> tuple[int, npt.NDArray[Any]] | None:
    try:
        return next(frames)
    except StopIteration:
        return None
    except Exception as error:  # decoders raise many types on damaged data
        raise _decode_error(path, error) from error


def _decode_frames(
    path: str,
    syntax: str,
    frame_indices: Sequence[int],
    on_frame: FrameSink,
    *,
    cancel: CancelCheck | None,
    time_limit_s: float,
    what: str,
) -> None:
    """Decode frames of one file, in a worker process for the risky syntaxes."""
    wanted = sorted(set(frame_indices))
    if _isolated(syntax):
        decode_isolated(
            [DecodeJob(path, tuple(wanted), _decoding_plugin(syntax))],
            lambda _, frame_index, frame: on_frame(frame_index, frame),
            time_limit_s=time_limit_s,
            cancel=cancel,
            what=what,
        )
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frames: Iterator[tuple[int, npt.NDArray[Any]]]
        if syntax == DeflatedExplicitVRLittleEndian:
            # pydicom's file-based decoders do not inflate; decode via the dataset
            frames = _inflated_frames(path, wanted)
        else:
            frames = zip(
                wanted,
                iter_pixels(
                    path, indices=wanted, decoding_plugin=_decoding_plugin(syntax)
                ),
                strict=False,
            )
        while (item := _next_frame(frames, path)) is not None:
            raise_if_cancelled(cancel, what)
            on_frame(*item)


def _inflated_frames(
    path: str, wanted: Sequence[int]
) -> Iterator[tuple[int, npt.NDArray[Any]]]:
    frames = pydicom.dcmread(path).pixel_array
    if frames.ndim == 2:
        frames = frames[np.newaxis]
    for index in wanted:
        if index < len(frames):
            yield index, frames[index]


def read_file_frames(
    path: str | os.PathLike[str],
    *,
    cancel: CancelCheck | None = None,
    decode_time_limit_s: float = DECODE_TIME_LIMIT_S,
) -> npt.NDArray[Any]:
    """Decode every frame of one file to stored values via pydicom's handlers.

    Parameters
    ----------
    path
        A single- or multi-frame grey-scale DICOM file.
    cancel
        A token or callable checked while decoding.
    decode_time_limit_s
        Longest wait for one frame from a worker-process decoder.

    Returns
    -------
    numpy.ndarray
        ``(frames, rows, columns)`` stored values (no rescale applied).

    Raises
    ------
    SliceReadError
        The header breaks a limit, or the pixel data cannot be decoded; the
        message names the file.
    LoadCancelledError
        ``cancel`` asked to stop.
    """
    name = os.fspath(path)
    header = read_slice_header(name)
    problem = limit_problem(header)
    if problem is not None:
        raise SliceReadError(f"{name}: {problem}")
    frames: list[npt.NDArray[Any]] = []

    def keep(_: int, frame: npt.NDArray[Any]) -> None:
        frames.append(np.array(frame))

    _decode_frames(
        name,
        header.transfer_syntax_uid,
        range(header.number_of_frames),
        keep,
        cancel=cancel,
        time_limit_s=decode_time_limit_s,
        what=f"decoding {name}",
    )
    if not frames:
        raise SliceReadError(f"{name}: no frame in the pixel data")
    if any(frame.shape != frames[0].shape or frame.ndim != 2 for frame in frames):
        raise SliceReadError(
            f"{name}: expected grey-scale frames, got shape {frames[0].shape}"
        )
    return np.stack(frames)


def _store(
    target: npt.NDArray[Any],
    frame: npt.NDArray[Any],
    path: str,
    *,
    rescale: tuple[float, float] | None,
) -> None:
    if frame.shape != target.shape:
        raise SliceReadError(
            f"{path}: decoded frame is {frame.shape}, expected {target.shape}"
        )
    if rescale is not None:
        slope, intercept = rescale
        np.multiply(frame, slope, out=target, casting="unsafe")
        target += intercept
        return
    if frame.dtype != target.dtype:
        info = np.iinfo(target.dtype)
        if frame.size and (frame.min() < info.min or frame.max() > info.max):
            raise SliceReadError(
                f"{path}: pixel values do not fit the series type {target.dtype}"
            )
    np.copyto(target, frame, casting="unsafe")


class _Reader:
    """Fills a preallocated array from slice references, middle slice first."""

    def __init__(
        self,
        volume: VolumeInfo,
        *,
        progress: ProgressCallback | None,
        cancel: CancelCheck | None,
        on_middle_slice: MiddleSliceCallback | None,
        on_preview: Callable[[npt.NDArray[Any]], None] | None = None,
        time_limit_s: float = DECODE_TIME_LIMIT_S,
    ) -> None:
        self.slices = volume.slices
        self.progress = progress
        self.cancel = cancel
        self.on_middle_slice = on_middle_slice
        self.on_preview = on_preview
        self.time_limit_s = time_limit_s
        self.label = f"loading series {volume.series_instance_uid or '(no UID)'}"
        first = volume.slices[0].header
        self.per_slice_rescale = any(
            (r.header.rescale_slope, r.header.rescale_intercept)
            != (first.rescale_slope, first.rescale_intercept)
            for r in volume.slices
        )
        dtype = np.dtype(np.float32) if self.per_slice_rescale else _dtype_for(first)
        shape = (len(volume.slices), volume.rows, volume.columns)
        _check_size(volume, shape, dtype)
        # A previewed volume is shown while it fills: slices not read yet must
        # be a defined value (0), not garbage. Large zeroed arrays come from
        # calloc'd pages, so this costs no more than np.empty.
        allocate = np.empty if on_preview is None else np.zeros
        self.voxels = allocate(shape, dtype=dtype)
        self.done = 0

    def _advance(self, index: int) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, len(self.slices))
        if index == len(self.slices) // 2:
            if self.on_middle_slice is not None:
                self.on_middle_slice(index, self.voxels[index])
            if self.on_preview is not None:
                self.on_preview(self.voxels)

    def _rescale_of(self, header: SliceHeader) -> tuple[float, float] | None:
        if not self.per_slice_rescale:
            return None
        return (header.rescale_slope, header.rescale_intercept)

    def run(self) -> npt.NDArray[Any]:
        middle = len(self.slices) // 2
        self._read([middle])  # first, so a viewer can show it at once
        self._read([k for k in range(len(self.slices)) if k != middle])
        return self.voxels

    def _read(self, indices: list[int]) -> None:
        """Read uncompressed slices in place, then decode the rest file by file."""
        to_decode: dict[str, list[int]] = {}
        for index in indices:
            header = self.slices[index].header
            if (
                header.pixel_data_offset is not None
                and header.number_of_frames == 1
                and not self.per_slice_rescale
                and _dtype_for(header) == self.voxels.dtype
            ):
                raise_if_cancelled(self.cancel, self.label)
                self._read_native(index, header)
            else:
                to_decode.setdefault(header.path, []).append(index)
        isolated = [
            indices
            for indices in to_decode.values()
            if _isolated(self.slices[indices[0]].header.transfer_syntax_uid)
        ]
        if isolated:
            self._decode_isolated(isolated)
        for file_indices in to_decode.values():
            syntax = self.slices[file_indices[0]].header.transfer_syntax_uid
            if not _isolated(syntax):
                self._decode_here(file_indices)

    def _read_native(self, index: int, header: SliceHeader) -> None:
        try:
            _read_native(header, self.voxels[index])
        except OSError as error:
            raise SliceReadError(
                f"{header.path}: cannot read: {error.strerror}"
            ) from error
        self._advance(index)

    def _store_frame(self, index: int, frame: npt.NDArray[Any]) -> None:
        header = self.slices[index].header
        _store(self.voxels[index], frame, header.path, rescale=self._rescale_of(header))
        self._advance(index)

    def _decode_here(self, indices: list[int]) -> None:
        """Decode in this process the frames of one file that fill ``indices``."""
        header = self.slices[indices[0]].header
        wanted = {self.slices[k].frame_index: k for k in indices}

        def store(frame_index: int, frame: npt.NDArray[Any]) -> None:
            index = wanted.pop(frame_index, None)
            if index is not None:
                self._store_frame(index, frame)

        _decode_frames(
            header.path,
            header.transfer_syntax_uid,
            list(wanted),
            store,
            cancel=self.cancel,
            time_limit_s=self.time_limit_s,
            what=self.label,
        )
        _check_all_frames(header.path, wanted)

    def _decode_isolated(self, files: list[list[int]]) -> None:
        """Decode several files in the worker process, in one request."""
        wanted = [{self.slices[k].frame_index: k for k in indices} for indices in files]
        jobs = []
        for indices, frames in zip(files, wanted, strict=True):
            header = self.slices[indices[0]].header
            plugin = _decoding_plugin(header.transfer_syntax_uid)
            jobs.append(DecodeJob(header.path, tuple(frames), plugin))

        def store(job: int, frame_index: int, frame: npt.NDArray[Any]) -> None:
            index = wanted[job].pop(frame_index, None)
            if index is not None:
                self._store_frame(index, frame)

        decode_isolated(
            jobs,
            store,
            time_limit_s=self.time_limit_s,
            cancel=self.cancel,
            what=self.label,
        )
        for job, frames in zip(jobs, wanted, strict=True):
            _check_all_frames(job.path, frames)


def _check_all_frames(path: str, missing: dict[int, int]) -> None:
    if missing:
        raise SliceReadError(
            f"{path}: {len(missing)} frame(s) missing from the pixel data"
        )


def _series_label(volume: VolumeInfo) -> str:
    """``series UID (first file and N more)``: errors name a file to look at."""
    uid = volume.series_instance_uid or "(no UID)"
    files = list(dict.fromkeys(ref.header.path for ref in volume.slices))
    more = f" and {len(files) - 1} more" if len(files) > 1 else ""
    return f"series {uid} ({files[0]}{more})" if files else f"series {uid}"


def _check_size(
    volume: VolumeInfo, shape: tuple[int, int, int], dtype: np.dtype[Any]
) -> None:
    """Refuse, before allocating, a voxel array larger than the memory limit."""
    needed = math.prod(shape) * dtype.itemsize
    limit = volume_bytes_limit()
    if needed > limit:
        slices, rows, columns = shape
        raise SeriesError(
            f"{_series_label(volume)}: {slices} slices "
            f"of {rows} x {columns} need {format_bytes(needed)}, more than the "
            f"limit of {format_bytes(limit)} (this machine's memory)"
        )


def _geometry(
    volume: VolumeInfo,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float, list[str]]:
    orientation = np.asarray(volume.orientation, dtype=np.float64)
    row = orientation[:3] / np.linalg.norm(orientation[:3])
    column = orientation[3:] / np.linalg.norm(orientation[3:])
    notes: list[str] = []
    if abs(float(np.dot(row, column))) > 1e-3:
        notes.append("row and column directions are not orthogonal")
    normal = np.cross(row, column)
    normal /= np.linalg.norm(normal)
    origins = np.array([ref.position_lps_mm for ref in volume.slices], dtype=np.float64)
    if len(origins) > 1:
        stack = origins[-1] - origins[0]
        length = float(np.linalg.norm(stack))
        spacing = length / (len(origins) - 1)
        if not (math.isfinite(spacing) and spacing > 0):
            raise SeriesError(
                f"{_series_label(volume)}: cannot compute "
                f"the slice spacing from the slice positions (first "
                f"{tuple(origins[0])}, last {tuple(origins[-1])})"
            )
        stack_direction = stack / length
    else:
        header = volume.slices[0].header
        spacing = header.spacing_between_slices_mm or header.slice_thickness_mm or 0.0
        if not (math.isfinite(spacing) and spacing > 0):
            spacing = 1.0
            notes.append("single slice without slice spacing: 1 mm assumed")
        stack_direction = normal
    direction = np.column_stack([row, column, stack_direction])
    return direction, origins, spacing, notes


def _volume_from(
    volume: VolumeInfo, voxels: npt.NDArray[Any], extra_notes: Sequence[str]
) -> ImageVolume:
    direction, origins, spacing, notes = _geometry(volume)
    middle = volume.slices[len(volume.slices) // 2].header
    rescale_slope, rescale_intercept = middle.rescale_slope, middle.rescale_intercept
    if voxels.dtype == np.float32 and _dtype_for(middle) != np.float32:
        rescale_slope, rescale_intercept = 1.0, 0.0
        notes.append(
            "rescale slope/intercept differ between slices: voxels hold modality "
            "values as float32"
        )
    centers, widths = middle.window_centers, middle.window_widths
    if len(centers) != len(widths):
        centers = widths = ()
    try:
        return _image_volume(
            volume,
            voxels,
            geometry=(direction, origins, spacing),
            rescale=(rescale_slope, rescale_intercept),
            windows=(centers, widths),
            notes=[*volume.warnings, *notes, *extra_notes],
        )
    except ValueError as error:  # ImageVolume refuses inconsistent geometry
        raise SeriesError(f"{_series_label(volume)}: {error}") from None


def _image_volume(
    volume: VolumeInfo,
    voxels: npt.NDArray[Any],
    *,
    geometry: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float],
    rescale: tuple[float, float],
    windows: tuple[tuple[float, ...], tuple[float, ...]],
    notes: Sequence[str],
) -> ImageVolume:
    direction, origins, spacing = geometry
    middle = volume.slices[len(volume.slices) // 2].header
    multi = any(ref.header.number_of_frames > 1 for ref in volume.slices)
    return ImageVolume(
        voxels=voxels,
        spacing_mm=(volume.pixel_spacing_mm[1], volume.pixel_spacing_mm[0], spacing),
        slice_origins_lps_mm=origins,
        direction=direction,
        rescale_slope=rescale[0],
        rescale_intercept=rescale[1],
        sop_instance_uids=tuple(ref.sop_instance_uid for ref in volume.slices),
        frame_numbers=tuple(ref.frame_index + 1 for ref in volume.slices)
        if multi
        else None,
        series_instance_uid=middle.series_instance_uid,
        study_instance_uid=middle.study_instance_uid,
        frame_of_reference_uid=middle.frame_of_reference_uid,
        patient_id=middle.patient_id,
        modality=middle.modality,
        series_description=middle.series_description,
        slice_thickness_mm=middle.slice_thickness_mm,
        window_centers=windows[0],
        window_widths=windows[1],
        warnings=tuple(dict.fromkeys(notes)),
        source_paths=tuple(ref.header.path for ref in volume.slices),
    )


def _header_of(name: str) -> SliceHeader:
    fast = scan_slice_header(name)
    if fast is not None:
        return fast
    return read_slice_header(name)


def _files_of(paths: Sequence[str | os.PathLike[str]]) -> list[str]:
    files: list[str] = []
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
        elif os.path.isfile(name):
            files.append(name)
        elif os.path.exists(name):
            raise SeriesError(f"{name}: not a regular file (a FIFO or device)")
        else:
            raise SeriesError(f"{name}: no such file or folder")
    return files


def _volume_from_paths(
    paths: Sequence[str | os.PathLike[str]], cancel: CancelCheck | None
) -> tuple[VolumeInfo, list[str]]:
    files = _files_of(paths)
    headers: list[SliceHeader] = []
    rejected: list[RejectedFile] = []
    for name in files:
        raise_if_cancelled(cancel, "reading slice headers")
        try:
            header = _header_of(name)
        except NotDicomError:
            continue
        except SliceReadError as error:
            rejected.append(RejectedFile(path=name, reason=str(error)))
            continue
        problem = usability_problem(header)
        if problem is None:
            headers.append(header)
        else:
            rejected.append(RejectedFile(path=name, reason=f"{name}: {problem}"))
    where = os.fspath(paths[0]) if len(paths) == 1 else f"{len(paths)} paths"
    if not headers:
        detail = f": {rejected[0].reason}" if rejected else ""
        raise SeriesError(f"{where}: no loadable DICOM image found{detail}")
    by_series: dict[str, list[SliceHeader]] = defaultdict(list)
    for header in headers:
        by_series[header.series_instance_uid].append(header)
    volumes = [v for members in by_series.values() for v in group_volumes(members)]
    if len(volumes) > 1:
        summary = "; ".join(f"{v.series_instance_uid} {v.label}" for v in volumes[:3])
        raise SeriesError(
            f"{where}: holds {len(volumes)} volumes ({summary}); "
            "choose one with discover()"
        )
    notes = []
    if rejected:
        notes.append(f"{len(rejected)} file(s) ignored, e.g. {rejected[0].reason}")
    return volumes[0], notes


def _previewer(
    volume: VolumeInfo, notes: Sequence[str], on_preview: PreviewCallback
) -> Callable[[npt.NDArray[Any]], None]:
    """Wrap the array being filled as a volume (a read-only view) for ``on_preview``."""

    def preview(voxels: npt.NDArray[Any]) -> None:
        on_preview(_volume_from(volume, voxels.view(), notes))

    return preview


def load_volume(
    source: VolumeInfo | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    on_middle_slice: MiddleSliceCallback | None = None,
    on_preview: PreviewCallback | None = None,
    decode_time_limit_s: float = DECODE_TIME_LIMIT_S,
) -> ImageVolume:
    """Load one volume: from a :class:`VolumeInfo`, a folder, or a list of files.

    Parameters
    ----------
    source
        A volume found by :func:`~recist_app.imaging.discovery.discover` (no
        header is re-read), or files/folders holding exactly one volume.
    progress
        Called as ``progress(slices_done, slices_total)`` after every slice.
    cancel
        A :class:`~recist_app.imaging.progress.CancelToken` or a callable; when
        it returns ``True`` loading stops with
        :class:`~recist_app.imaging.errors.LoadCancelledError`.
    on_middle_slice
        Called once with ``(k, pixels)`` as soon as the middle slice is read
        (it is read first), so a viewer can show it early.
    on_preview
        Called once, right after the middle slice is read, with an
        :class:`ImageVolume` of complete geometry whose voxels are a read-only
        view of the array being filled: slices not read yet hold 0 and fill in
        as loading goes on (``progress`` says how far). A viewer can show and
        scroll it at once; the returned volume shares the same voxels.
    decode_time_limit_s
        Longest wait for one frame from a worker-process decoder
        (:mod:`~recist_app.imaging.isolated_decoder`); the file is then refused.

    Returns
    -------
    ImageVolume
        Voxels in the stored type, sorted along the slice normal.

    Raises
    ------
    SeriesError
        The input does not hold exactly one loadable volume, its voxels would
        exceed the memory limit, or its slice positions give no spacing.
    SliceReadError
        A slice cannot be read or decoded (truncated, corrupt codestream, a
        decoder that crashed or stalled, ...).
    LoadCancelledError
        ``cancel`` asked to stop.
    """
    notes: list[str] = []
    if isinstance(source, VolumeInfo):
        volume = source
    else:
        paths: Sequence[str | os.PathLike[str]]
        paths = [source] if isinstance(source, str | os.PathLike) else source
        volume, notes = _volume_from_paths(paths, cancel)
    if not volume.slices:
        raise SeriesError(f"series {volume.series_instance_uid}: no slices")
    preview = None if on_preview is None else _previewer(volume, notes, on_preview)
    reader = _Reader(
        volume,
        progress=progress,
        cancel=cancel,
        on_middle_slice=on_middle_slice,
        on_preview=preview,
        time_limit_s=decode_time_limit_s,
    )
    voxels = reader.run()
    return _volume_from(volume, voxels, notes)
