"""Damaged files (issue 17): each is refused with one line, the rest still imports.

Every case is generated here (or taken from pydicom's bundled files) and was an
escape before: an exception out of ``discover``/``load_volume``, a hang, or the
whole process killed. Cases whose decoder aborts or hangs run in a child process
(:mod:`tests.imaging.outcome_child`), so a regression fails one test instead of
killing or stalling the run.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import struct
import time
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import ExplicitVRLittleEndian

from recist_app.imaging import (
    ImagingError,
    PhantomSeries,
    SeriesError,
    discover,
    load_volume,
    read_slice_header,
    write_phantom_series,
)
from recist_app.imaging.limits import MAX_FRAMES
from tests.imaging.conftest import liver_geometry
from tests.imaging.outcome_child import Case, Outcome, run_cases


def _series(folder: Path, syntax: str = "explicit", **changes: object) -> PhantomSeries:
    settings: dict[str, object] = {"rows": 32, "columns": 32, "slice_count": 3}
    settings.update(changes)
    return write_phantom_series(
        folder,
        geometry=liver_geometry(**settings),
        noise_hu=5.0,
        transfer_syntax=syntax,
        lesions=(),
    )


def _edit(path: str | Path, **values: object) -> None:
    dataset = pydicom.dcmread(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about the invalid values
        for keyword, value in values.items():
            setattr(dataset, keyword, value)
        dataset.save_as(path)


def _testdata(name: str) -> str:
    path = get_testdata_file(name, read=False)
    assert isinstance(path, str), name
    return path


def _reasons(folder: Path) -> dict[str, str]:
    return {Path(item.path).name: item.reason for item in discover(folder).rejected}


def _one_line_naming(outcome: Outcome, path: Path) -> None:
    assert outcome.status == "imaging-error", outcome
    assert outcome.message.startswith(str(path)), outcome
    assert "\n" not in outcome.message


def _meta_end(raw: bytes) -> int:
    return 144 + int(struct.unpack_from("<L", raw, 140)[0])


# ------------------------------------------------------------------ header damage


def test_corrupt_deflated_file_is_rejected_and_the_rest_imports(
    tmp_path: Path,
) -> None:
    series = _series(tmp_path, "deflate")
    victim = Path(series.paths[1])
    raw = bytearray(victim.read_bytes())
    start = _meta_end(bytes(raw)) + 20
    raw[start : start + 40] = bytes(b ^ 0x5A for b in raw[start : start + 40])
    victim.write_bytes(bytes(raw))

    found = discover(tmp_path)

    assert [v.slice_count for v in found.volumes] == [2]
    (rejected,) = found.rejected
    assert rejected.path == str(victim)
    assert rejected.reason.startswith("corrupt deflated data set")
    assert load_volume(found.volumes[0]).slice_count == 2


def test_position_of_1e308_is_refused_before_any_geometry(tmp_path: Path) -> None:
    series = _series(tmp_path)
    _edit(series.paths[1], ImagePositionPatient=["1e308", "1e308", "1e308"])

    reasons = _reasons(tmp_path)
    volume = load_volume(tmp_path)

    assert reasons[Path(series.paths[1]).name] == (
        "ImagePositionPatient (1e+308, 1e+308, 1e+308) is out of range "
        "(limit ±1e+06 mm)"
    )
    assert volume.slice_count == 2
    assert any("1 file(s) ignored" in note for note in volume.warnings)


def test_slice_positions_that_overflow_the_spacing_are_a_series_error(
    tmp_path: Path,
) -> None:
    (info,) = discover(_series(tmp_path).folder).volumes
    far = dataclasses.replace(info.slices[-1], position_lps_mm=(9e5, 9e5, 9e5))
    near = dataclasses.replace(info.slices[0], position_lps_mm=(9e5, 9e5, 9e5))
    broken = dataclasses.replace(info, slices=(near, *info.slices[1:-1], far))

    with pytest.raises(SeriesError, match="slice spacing") as caught:
        load_volume(broken)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("tag", "keyword"),
    [
        (b"\x28\x00\x10\x00US\x02\x00", "Rows"),
        (b"\x28\x00\x00\x01US\x02\x00", "BitsAllocated"),
    ],
    ids=["rows", "bits-allocated"],
)
def test_element_with_a_wrong_length_names_the_element(
    tmp_path: Path, tag: bytes, keyword: str
) -> None:
    series = _series(tmp_path)
    victim = Path(series.paths[1])
    raw = bytearray(victim.read_bytes())
    at = raw.index(tag)
    raw[at + 6 : at + 8] = b"\x01\x00"  # the value is now 1 byte long
    del raw[at + 9]
    victim.write_bytes(bytes(raw))

    found = discover(tmp_path)

    assert [v.slice_count for v in found.volumes] == [2]
    (rejected,) = found.rejected
    assert rejected.path == str(victim)
    assert rejected.reason == (
        f"cannot parse the DICOM header: {keyword}: a value of 1 byte is not "
        "valid for VR US (2 bytes per value)"
    )


def test_file_cut_inside_its_file_meta_group_is_truncated(tmp_path: Path) -> None:
    series = _series(tmp_path)
    raw = Path(series.paths[0]).read_bytes()
    cuts = (133, 141, 142, 143, 150, 153, 200, _meta_end(raw) - 1)
    for cut in cuts:
        (tmp_path / f"cut{cut}.dcm").write_bytes(raw[:cut])

    found = discover(tmp_path)

    assert [v.slice_count for v in found.volumes] == [3]
    reasons = {Path(r.path).name: r.reason for r in found.rejected}
    assert set(reasons) == {f"cut{cut}.dcm" for cut in cuts}
    for cut in cuts:
        assert reasons[f"cut{cut}.dcm"].startswith(
            "truncated inside its file meta information"
        ), reasons[f"cut{cut}.dcm"]


def test_absurd_number_of_frames_is_refused_at_once(tmp_path: Path) -> None:
    series = _series(tmp_path)
    _edit(
        series.paths[1], NumberOfFrames="99999999999999999999", SpacingBetweenSlices=2.5
    )

    (outcome,) = run_cases([Case(path=str(tmp_path), action="discover")], limit_s=20.0)

    assert outcome.status == "ok", outcome
    assert outcome.volumes == [2]
    assert outcome.rejected == [
        f"{series.paths[1]}: NumberOfFrames 99999999999999999999 exceeds the limit "
        f"of {MAX_FRAMES} frames"
    ]


def test_multiframe_without_spacing_between_slices_says_so(tmp_path: Path) -> None:
    source = pydicom.dcmread(_testdata("emri_small.dcm"))
    source.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    source.ImagePositionPatient = [0, 0, 0]
    source.PixelSpacing = [1, 1]
    del source.SpacingBetweenSlices
    source.save_as(tmp_path / "multi.dcm")

    reasons = _reasons(tmp_path)

    assert reasons["multi.dcm"] == (
        "multi-frame image without SpacingBetweenSlices or per-frame positions: "
        "cannot place its 10 frames"
    )


@pytest.mark.parametrize("change", [-64, 64], ids=["shorter", "longer"])
def test_pixel_data_not_matching_rows_columns_frames_is_reported(
    tmp_path: Path, change: int
) -> None:
    series = _series(tmp_path)
    victim = pydicom.dcmread(series.paths[1])
    data = victim.PixelData
    victim.PixelData = data[:change] if change < 0 else data + b"\x00" * change
    victim.save_as(series.paths[1])

    reasons = _reasons(tmp_path)

    expected = 32 * 32 * 2
    assert reasons[Path(series.paths[1]).name] == (
        f"pixel data holds {expected + change} bytes; Rows 32 x Columns 32 x "
        f"1 frame(s) x 2 bytes needs {expected}"
    )
    assert load_volume(tmp_path).slice_count == 2


# ----------------------------------------------------------- preamble and ACR-NEMA


def test_data_set_without_preamble_and_file_meta_is_read(tmp_path: Path) -> None:
    series = _series(tmp_path, slice_count=2)
    raw = Path(series.paths[1]).read_bytes()
    dataset = pydicom.dcmread(series.paths[1])
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    Path(series.paths[1]).write_bytes(raw[_meta_end(raw) :])  # explicit VR, no meta

    header = read_slice_header(series.paths[1])
    volume = load_volume(tmp_path)

    assert "no DICOM preamble/file meta" in header.warnings
    assert volume.slice_count == 2


def test_acr_nema_data_set_starting_with_a_group_length_gets_a_reason() -> None:
    path = _testdata("OT-PAL-8-face.dcm")
    assert Path(path).read_bytes()[:4] == b"\x08\x00\x00\x00"  # (0008,0000)

    found = discover(path)

    assert found.skipped == ()
    (rejected,) = found.rejected
    assert rejected.reason.startswith("colour image (PALETTE COLOR")


def test_a_dcm_file_that_is_not_dicom_is_rejected_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "image.dcm").write_bytes(b"\x20" + b"\x08\x00\x05\x00CS" * 40)
    (tmp_path / "notes.txt").write_text("not DICOM")

    found = discover(tmp_path)

    assert [Path(p).name for p in found.skipped] == ["notes.txt"]
    (rejected,) = found.rejected
    assert rejected.reason == (
        "named .dcm but not readable as DICOM (no preamble, no data set)"
    )


# ------------------------------------------------------------------ native decoders


def _jpeg_ls_cut(folder: Path) -> Path:
    series = _series(folder, "jpeg-ls")
    victim = Path(series.paths[0])
    raw = victim.read_bytes()
    victim.write_bytes(raw[: len(raw) - 42])  # CharLS loops on this stream
    return victim


def test_truncated_jpeg_ls_stops_at_the_time_limit(tmp_path: Path) -> None:
    victim = _jpeg_ls_cut(tmp_path)

    (outcome,) = run_cases(
        [Case(path=str(victim), action="load", decode_time_limit_s=1.0)],
        limit_s=30.0,
    )

    _one_line_naming(outcome, victim)
    assert "decoder gave no frame within 1 s" in outcome.message


def test_truncated_jpeg_ls_load_can_be_cancelled(tmp_path: Path) -> None:
    victim = _jpeg_ls_cut(tmp_path)

    (outcome,) = run_cases(
        [
            Case(
                path=str(victim),
                action="load-cancel",
                cancel_after_s=1.0,
                decode_time_limit_s=600.0,
            )
        ],
        limit_s=30.0,
    )

    assert outcome.status == "imaging-error", outcome
    assert outcome.message.endswith("cancelled")
    assert outcome.seconds < 10.0


def test_truncated_jpeg_ls_in_a_folder_spares_the_other_slices(tmp_path: Path) -> None:
    victim = _jpeg_ls_cut(tmp_path)
    started = time.perf_counter()

    found = discover(tmp_path)
    (info,) = found.volumes
    with pytest.raises(ImagingError) as caught:
        load_volume(info, decode_time_limit_s=2.0)

    assert str(caught.value).startswith(str(victim))
    assert time.perf_counter() - started < 60.0


def _jpeg_lossless_with_wrong_bits(folder: Path) -> Path:
    dataset = pydicom.dcmread(_testdata("JPEG-LL.dcm"))
    assert dataset.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.70"
    dataset.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    dataset.ImagePositionPatient = [0, 0, 0]
    dataset.PixelSpacing = [1, 1]
    dataset.BitsAllocated = 32  # the code stream holds 16-bit samples
    folder.mkdir(parents=True, exist_ok=True)
    dataset.save_as(folder / "jpeg_lossless.dcm")
    return folder / "jpeg_lossless.dcm"


def test_jpeg_lossless_that_aborts_gdcm_leaves_the_process_alive(
    tmp_path: Path,
) -> None:
    victim = _jpeg_lossless_with_wrong_bits(tmp_path)

    (outcome,) = run_cases([Case(path=str(victim), action="load")], limit_s=30.0)

    _one_line_naming(outcome, victim)
    assert "decoder crashed (SIGABRT)" in outcome.message


def test_rle_whose_rows_do_not_match_is_a_one_line_error(tmp_path: Path) -> None:
    series = _series(tmp_path, "rle", slice_count=1)
    victim = Path(series.paths[0])
    _edit(victim, Rows=16)

    (outcome,) = run_cases([Case(path=str(victim), action="load")], limit_s=30.0)

    _one_line_naming(outcome, victim)
    assert "cannot decode pixel data" in outcome.message


def test_rle_panic_in_this_process_is_an_error_and_the_rest_loads(
    tmp_path: Path,
) -> None:
    rle = _series(tmp_path / "bad", "rle", slice_count=1)
    _edit(rle.paths[0], Rows=16)

    with pytest.raises(ImagingError) as caught:
        load_volume(rle.paths[0], decode_time_limit_s=10.0)

    assert str(caught.value).startswith(rle.paths[0])
    good = _series(tmp_path / "good", "rle")
    assert load_volume(good.folder).slice_count == 3


def test_isolated_decoding_gives_the_same_voxels(tmp_path: Path) -> None:
    plain = load_volume(_series(tmp_path / "plain").folder)
    for syntax in ("rle", "jpeg-ls"):
        decoded = load_volume(_series(tmp_path / syntax, syntax).folder)
        np.testing.assert_array_equal(decoded.voxels, plain.voxels)


def test_isolated_decoding_of_8_bit_frames_is_whole(tmp_path: Path) -> None:
    # found by the fuzz test: 2-D uint8 frames crossed the pipe one row long
    dataset = pydicom.dcmread(_testdata("JPGLosslessP14SV1_1s_1f_8b.dcm"))
    dataset.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    dataset.ImagePositionPatient = [0, 0, 0]
    dataset.PixelSpacing = [1, 1]
    dataset.save_as(tmp_path / "eight_bit.dcm")

    volume = load_volume(tmp_path / "eight_bit.dcm")

    assert volume.voxels.dtype == np.uint8
    np.testing.assert_array_equal(volume.voxels[0], dataset.pixel_array)


@pytest.mark.parametrize(
    "file_id",
    [["..", "..", "etc", "passwd"], ["CT2\x00\x04\x10", "17166"], ["A/B", "C"]],
    ids=["traversal", "control-characters", "separator"],
)
def test_dicomdir_record_naming_no_file_of_the_media_is_one_line(
    tmp_path: Path, file_id: list[str]
) -> None:
    # found by the fuzz test: a damaged ReferencedFileID became a garbage path
    source = Path(_testdata("DICOMDIR")).parent
    media = tmp_path / "media"
    shutil.copytree(source, media)
    directory = pydicom.dcmread(media / "DICOMDIR")
    records = directory.DirectoryRecordSequence
    (number, record) = next(
        (n, r) for n, r in enumerate(records) if "ReferencedFileID" in r
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        record.ReferencedFileID = file_id
        directory.save_as(media / "DICOMDIR")

    found = discover(media / "DICOMDIR")

    reasons = [r for r in found.rejected if "ReferencedFileID" in r.reason]
    (rejected,) = reasons
    assert rejected.path == str(media / "DICOMDIR")
    assert rejected.reason.startswith(f"record {number + 1}: ReferencedFileID ")
    assert rejected.reason.endswith("is not a file name within the media")
    assert found.volumes


def test_a_fifo_in_the_folder_does_not_block_the_scan(tmp_path: Path) -> None:
    series = _series(tmp_path)
    os.mkfifo(tmp_path / "pipe.dcm")  # opening it for reading would wait for ever

    (outcome,) = run_cases([Case(path=str(tmp_path))], limit_s=20.0)
    direct = discover(tmp_path / "pipe.dcm")

    assert outcome.status == "ok", outcome
    assert outcome.volumes == [3]
    assert len(series.paths) == 3
    (rejected,) = direct.rejected
    assert rejected.reason == "not a regular file (a FIFO or device)"
