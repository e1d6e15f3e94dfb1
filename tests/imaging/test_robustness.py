"""Every file pydicom and pydicom-data ship: no crash, a reason for each refusal."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pydicom.data import get_testdata_file, get_testdata_files
from pydicom.pixels.utils import pixel_array

from recist_app.imaging import (
    DiscoveryResult,
    ImagingError,
    discover,
    load_volume,
    read_file_frames,
    read_slice_header,
)

ALL_FILES = sorted({name for name in get_testdata_files() if Path(name).is_file()})


def _path(name: str) -> str:
    found = get_testdata_file(name, read=False)
    assert isinstance(found, str), name
    return found


@pytest.fixture(scope="module")
def everything() -> DiscoveryResult:
    return discover(ALL_FILES)


def test_the_corpus_holds_both_packages() -> None:
    assert len(ALL_FILES) > 240
    assert any("data_store" in name for name in ALL_FILES)  # pydicom-data


def test_discovery_of_every_file_gives_a_reason_for_each_refusal(
    everything: DiscoveryResult,
) -> None:
    in_volumes = {r.header.path for v in everything.volumes for r in v.slices}
    duplicated_uids = {
        r.sop_instance_uid
        for v in everything.volumes
        if any("duplicate file(s)" in note for note in v.warnings)
        for r in v.slices
    }
    rejected = {item.path for item in everything.rejected}
    for name in ALL_FILES:
        if Path(name).name == "DICOMDIR":
            continue  # an index: the files it references are scanned instead
        if name in in_volumes or name in rejected or name in everything.skipped:
            continue
        if name in everything.directories:
            continue
        # the only other outcome: a second copy of an instance already in a volume
        assert read_slice_header(name).sop_instance_uid in duplicated_uids, name
    for item in everything.rejected:
        assert item.reason.strip(), item.path
        assert "\n" not in item.reason
        assert len(item.reason) < 300
    reasons = " ".join(item.reason for item in everything.rejected)
    for expected in ("no pixel data", "truncated", "localizer", "colour image"):
        assert expected in reasons
    assert len(everything.volumes) >= 20


def _outcome(action: Callable[[], object]) -> str:
    """``"ok"`` or the one-line message of the imaging error raised."""
    try:
        action()
    except ImagingError as error:
        return str(error)
    return "ok"


def test_each_file_header_reads_or_fails_with_one_line() -> None:
    for name in ALL_FILES:
        outcome = _outcome(lambda name=name: read_slice_header(name))  # type: ignore[misc]
        assert outcome == "ok" or outcome.startswith(name)
        assert "\n" not in outcome


def test_every_found_volume_loads_to_pydicoms_pixels(
    everything: DiscoveryResult,
) -> None:
    for info in everything.volumes:
        volume = load_volume(info)
        assert volume.voxels.shape == (info.slice_count, info.rows, info.columns)
        for index, ref in enumerate(info.slices):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = pixel_array(ref.header.path)
            if expected.ndim == 3:
                expected = expected[ref.frame_index]
            np.testing.assert_array_equal(
                volume.voxels[index], expected, ref.header.path
            )


def test_loading_any_single_file_never_raises_anything_else() -> None:
    # JPEG Lossless included: GDCM, its only decoder, runs in the worker process
    for name in ALL_FILES:
        if _outcome(lambda name=name: read_slice_header(name)) != "ok":  # type: ignore[misc]
            continue
        outcome = _outcome(lambda name=name: load_volume(name))  # type: ignore[misc]
        assert "\n" not in outcome


MR_SMALL = [
    "MR_small.dcm",
    "MR_small_implicit.dcm",
    "MR_small_bigendian.dcm",
    "MR_small_expb.dcm",
    "MR_small_RLE.dcm",
    "MR_small_jp2klossless.dcm",
    "MR_small_jpeg_ls_lossless.dcm",
]


@pytest.mark.parametrize("name", MR_SMALL[1:])
def test_mr_slice_is_identical_in_every_transfer_syntax(name: str) -> None:
    reference = load_volume(_path(MR_SMALL[0]))
    volume = load_volume(_path(name))
    np.testing.assert_array_equal(volume.voxels, reference.voxels)
    np.testing.assert_allclose(
        volume.slice_origins_lps_mm, reference.slice_origins_lps_mm
    )
    assert volume.spacing_mm == reference.spacing_mm


@pytest.mark.parametrize(
    ("uncompressed", "compressed"),
    [("693_UNCR.dcm", "693_J2KR.dcm"), ("MR2_UNCR.dcm", "MR2_J2KR.dcm")],
)
def test_ct_and_mr_lossless_jpeg2000_match_uncompressed(
    uncompressed: str, compressed: str
) -> None:
    plain = load_volume(_path(uncompressed))
    decoded = load_volume(_path(compressed))
    np.testing.assert_array_equal(
        plain.voxels.astype(np.int32), decoded.voxels.astype(np.int32)
    )
    assert plain.spacing_mm == decoded.spacing_mm


@pytest.mark.parametrize(
    "name",
    [
        "emri_small_RLE.dcm",
        "emri_small_big_endian.dcm",
        "emri_small_jpeg_2k_lossless.dcm",
        "emri_small_jpeg_ls_lossless.dcm",
    ],
)
def test_multiframe_mr_frames_are_identical_across_syntaxes(name: str) -> None:
    reference = read_file_frames(_path("emri_small.dcm"))
    frames = read_file_frames(_path(name))
    assert frames.shape == reference.shape == (10, 64, 64)
    np.testing.assert_array_equal(frames, reference)


def test_signed_values_with_unused_high_bits_are_sign_extended() -> None:
    header = read_slice_header(_path("693_UNCR.dcm"))
    assert (header.bits_stored, header.bits_allocated) == (14, 16)
    assert header.pixel_data_offset is not None  # the fast readinto path
    volume = load_volume(_path("693_UNCR.dcm"))
    assert volume.voxels.min() < 0


def test_fast_header_scan_agrees_with_pydicom_on_every_file() -> None:
    from recist_app.imaging.headers import scan_slice_header

    compared = 0
    for name in ALL_FILES:
        fast = scan_slice_header(name)
        if fast is None:
            continue  # left to pydicom's reader
        full = read_slice_header(name)
        compared += 1
        for field in (
            "transfer_syntax_uid",
            "sop_instance_uid",
            "series_instance_uid",
            "rows",
            "columns",
            "bits_allocated",
            "bits_stored",
            "pixel_representation",
            "frame_positions_lps_mm",
            "orientation",
            "pixel_spacing_mm",
            "rescale_slope",
            "rescale_intercept",
            "pixel_data_offset",
            "pixel_data_length",
            "number_of_frames",
        ):
            assert getattr(fast, field) == getattr(full, field), (name, field)
    assert compared >= 10
