"""Load a series into an :class:`~recist_app.imaging.volume.ImageVolume`.

Fast path (uncompressed little-endian slices): headers are parsed without pixel
data, the slices are sorted along the normal, the voxel array is allocated once
and each file's pixel bytes are read straight into their slice of it. Other
transfer syntaxes, big endian and multi-frame objects decode through pydicom's
pixel handlers one frame at a time into the same array, so memory stays at the
volume plus one decoded frame.

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
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_file_meta_info
from pydicom.pixels.decoders.base import get_decoder
from pydicom.pixels.utils import iter_pixels, pixel_array
from pydicom.uid import DeflatedExplicitVRLittleEndian

from recist_app.imaging.discovery import (
    RejectedFile,
    SliceRef,
    VolumeInfo,
    group_volumes,
)
from recist_app.imaging.errors import (
    LoadCancelledError,
    NotDicomError,
    SeriesError,
    SliceReadError,
)
from recist_app.imaging.headers import (
    SliceHeader,
    read_slice_header,
    scan_slice_header,
    usability_problem,
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

_DECODE_ERRORS = (
    ValueError,
    TypeError,
    RuntimeError,
    NotImplementedError,
    AttributeError,
    KeyError,
    IndexError,
    OSError,
    EOFError,
)


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


def _syntax_of(path: str) -> str:
    try:
        meta = read_file_meta_info(path)
    except (OSError, ValueError, InvalidDicomError):
        return ""
    return str(meta.get("TransferSyntaxUID", ""))


def _frames_of(name: str) -> Iterator[npt.NDArray[Any]]:
    """Decoded frames of a file, one at a time where pydicom allows it."""
    syntax = _syntax_of(name)
    if syntax == DeflatedExplicitVRLittleEndian:
        # pydicom's file-based decoders do not inflate; decode via the dataset
        frames = pydicom.dcmread(name).pixel_array
        yield from (frames[np.newaxis] if frames.ndim == 2 else frames)
        return
    yield from iter_pixels(name, decoding_plugin=_decoding_plugin(syntax))


def read_file_frames(path: str | os.PathLike[str]) -> npt.NDArray[Any]:
    """Decode every frame of one file to stored values via pydicom's handlers.

    Parameters
    ----------
    path
        A single- or multi-frame grey-scale DICOM file.

    Returns
    -------
    numpy.ndarray
        ``(frames, rows, columns)`` stored values (no rescale applied).

    Raises
    ------
    SliceReadError
        The pixel data cannot be decoded; the message names the file.
    """
    name = os.fspath(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            syntax = _syntax_of(name)
            if syntax == DeflatedExplicitVRLittleEndian:
                frames = pydicom.dcmread(name).pixel_array
            else:
                frames = pixel_array(name, decoding_plugin=_decoding_plugin(syntax))
        except _DECODE_ERRORS as error:
            raise _decode_error(name, error) from error
    if frames.ndim == 2:
        frames = frames[np.newaxis]
    if frames.ndim != 3:
        raise SliceReadError(
            f"{name}: expected grey-scale frames, got shape {frames.shape}"
        )
    return frames


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
    ) -> None:
        self.slices = volume.slices
        self.progress = progress
        self.cancel = cancel
        self.on_middle_slice = on_middle_slice
        self.on_preview = on_preview
        self.label = f"loading series {volume.series_instance_uid or '(no UID)'}"
        first = volume.slices[0].header
        self.per_slice_rescale = any(
            (r.header.rescale_slope, r.header.rescale_intercept)
            != (first.rescale_slope, first.rescale_intercept)
            for r in volume.slices
        )
        dtype = np.dtype(np.float32) if self.per_slice_rescale else _dtype_for(first)
        # A previewed volume is shown while it fills: slices not read yet must
        # be a defined value (0), not garbage. Large zeroed arrays come from
        # calloc'd pages, so this costs no more than np.empty.
        allocate = np.empty if on_preview is None else np.zeros
        self.voxels = allocate(
            (len(volume.slices), volume.rows, volume.columns), dtype=dtype
        )
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
        order = [middle, *(k for k in range(len(self.slices)) if k != middle)]
        multi_frame: dict[str, list[int]] = defaultdict(list)
        for index in order:
            ref = self.slices[index]
            if ref.header.number_of_frames > 1:
                if index == middle:
                    self._read_one_frame(index, ref)
                    continue
                multi_frame[ref.header.path].append(index)
                continue
            raise_if_cancelled(self.cancel, self.label)
            self._read_single(index, ref)
            self._advance(index)
        for path, indices in multi_frame.items():
            self._read_frames(path, indices)
        return self.voxels

    def _read_single(self, index: int, ref: SliceRef) -> None:
        header = ref.header
        target = self.voxels[index]
        if (
            header.pixel_data_offset is not None
            and not self.per_slice_rescale
            and _dtype_for(header) == target.dtype
        ):
            try:
                _read_native(header, target)
            except OSError as error:
                raise SliceReadError(
                    f"{header.path}: cannot read: {error.strerror}"
                ) from error
            return
        frames = read_file_frames(header.path)
        _store(target, frames[0], header.path, rescale=self._rescale_of(header))

    def _read_one_frame(self, index: int, ref: SliceRef) -> None:
        """Decode just the middle frame of a multi-frame file, so it shows first."""
        header = ref.header
        syntax = header.transfer_syntax_uid
        if syntax == DeflatedExplicitVRLittleEndian:
            self._read_frames(header.path, [index])
            return
        raise_if_cancelled(self.cancel, self.label)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                frame = pixel_array(
                    header.path,
                    index=ref.frame_index,
                    decoding_plugin=_decoding_plugin(syntax),
                )
            except _DECODE_ERRORS as error:
                raise _decode_error(header.path, error) from error
        _store(self.voxels[index], frame, header.path, rescale=self._rescale_of(header))
        self._advance(index)

    def _read_frames(self, path: str, indices: list[int]) -> None:
        wanted = {self.slices[k].frame_index: k for k in indices}
        header = self.slices[indices[0]].header
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                for frame_index, frame in enumerate(_frames_of(path)):
                    raise_if_cancelled(self.cancel, self.label)
                    index = wanted.pop(frame_index, None)
                    if index is None:
                        continue
                    _store(
                        self.voxels[index],
                        frame,
                        path,
                        rescale=self._rescale_of(header),
                    )
                    self._advance(index)
            except (SliceReadError, LoadCancelledError):
                raise
            except _DECODE_ERRORS as error:
                raise _decode_error(path, error) from error
        if wanted:
            raise SliceReadError(
                f"{path}: {len(wanted)} frame(s) missing from the pixel data"
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
        spacing = float(np.linalg.norm(stack)) / (len(origins) - 1)
        stack_direction = stack / np.linalg.norm(stack)
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
    multi = any(ref.header.number_of_frames > 1 for ref in volume.slices)
    return ImageVolume(
        voxels=voxels,
        spacing_mm=(volume.pixel_spacing_mm[1], volume.pixel_spacing_mm[0], spacing),
        slice_origins_lps_mm=origins,
        direction=direction,
        rescale_slope=rescale_slope,
        rescale_intercept=rescale_intercept,
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
        window_centers=centers,
        window_widths=widths,
        warnings=tuple(dict.fromkeys([*volume.warnings, *notes, *extra_notes])),
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
                files.extend(os.path.join(folder, n) for n in sorted(names))
        elif os.path.isfile(name):
            files.append(name)
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

    Returns
    -------
    ImageVolume
        Voxels in the stored type, sorted along the slice normal.

    Raises
    ------
    SeriesError
        The input does not hold exactly one loadable volume.
    SliceReadError
        A slice cannot be read or decoded (truncated, corrupt codestream, ...).
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
    )
    voxels = reader.run()
    return _volume_from(volume, voxels, notes)
