"""Loading: fast path, compressed syntaxes, multi-frame, progress, memory, errors."""

from __future__ import annotations

import dataclasses
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from recist_app.imaging import (
    CancelToken,
    ImageVolume,
    LoadCancelledError,
    PhantomSeries,
    SeriesError,
    SliceReadError,
    discover,
    load_volume,
    read_slice_header,
    write_phantom_series,
)
from recist_app.imaging.headers import scan_slice_header
from recist_app.imaging.phantom import TRANSFER_SYNTAXES
from tests.imaging.conftest import copy_series, liver_geometry


@pytest.fixture(scope="module")
def reference(noisy_series: PhantomSeries) -> ImageVolume:
    return load_volume(noisy_series.folder)


@pytest.mark.parametrize("syntax", [s for s in TRANSFER_SYNTAXES if s != "explicit"])
def test_compressed_and_other_syntaxes_give_the_same_voxels(
    syntax: str, tmp_path: Path, reference: ImageVolume
) -> None:
    write_phantom_series(
        tmp_path,
        geometry=liver_geometry(),
        noise_hu=12.0,
        seed=3,
        transfer_syntax=syntax,
    )
    volume = load_volume(tmp_path)
    assert volume.voxels.dtype == reference.voxels.dtype
    np.testing.assert_array_equal(volume.voxels, reference.voxels)
    np.testing.assert_allclose(
        volume.slice_origins_lps_mm, reference.slice_origins_lps_mm
    )
    assert volume.sop_instance_uids == reference.sop_instance_uids


def test_fast_header_scan_agrees_with_pydicom(noisy_series: PhantomSeries) -> None:
    for name in noisy_series.paths[:5]:
        fast = scan_slice_header(name)
        full = read_slice_header(name)
        assert fast is not None
        for field in (
            "sop_instance_uid",
            "series_instance_uid",
            "rows",
            "columns",
            "bits_allocated",
            "pixel_representation",
            "frame_positions_lps_mm",
            "orientation",
            "pixel_spacing_mm",
            "rescale_intercept",
            "rescale_slope",
            "window_centers",
            "pixel_data_offset",
            "pixel_data_length",
        ):
            assert getattr(fast, field) == getattr(full, field), field


def test_fast_scan_declines_compressed_files(tmp_path: Path) -> None:
    series = write_phantom_series(
        tmp_path,
        geometry=liver_geometry(slice_count=1),
        noise_hu=0.0,
        transfer_syntax="rle",
        lesions=(),
    )
    assert scan_slice_header(series.paths[0]) is None
    assert read_slice_header(series.paths[0]).pixel_data_offset is None


def test_progress_reports_every_slice_and_middle_slice_comes_first(
    axial_series: PhantomSeries,
) -> None:
    events: list[tuple[str, int]] = []
    middle: dict[str, Any] = {}

    def on_middle(index: int, pixels: np.ndarray) -> None:
        events.append(("middle", index))
        middle["pixels"] = pixels.copy()

    volume = load_volume(
        axial_series.folder,
        progress=lambda done, total: events.append(("progress", done)),
        on_middle_slice=on_middle,
    )

    assert events[0] == ("progress", 1)
    assert events[1] == ("middle", 10)
    assert [n for kind, n in events if kind == "progress"] == list(range(1, 21))
    np.testing.assert_array_equal(middle["pixels"], volume.voxels[10])


def test_preview_volume_has_the_geometry_and_fills_in_as_slices_are_read(
    axial_series: PhantomSeries,
) -> None:
    seen: dict[str, Any] = {}

    def on_preview(preview: ImageVolume) -> None:
        seen["volume"] = preview
        seen["middle"] = preview.voxels[10].copy()
        seen["unread_zero"] = not preview.voxels[0].any()
        seen["filled_at_preview"] = int(
            sum(bool(preview.voxels[k].any()) for k in range(20))
        )

    volume = load_volume(axial_series.folder, on_preview=on_preview)

    preview = seen["volume"]
    assert seen["filled_at_preview"] == 1  # only the middle slice so far
    assert seen["unread_zero"]
    np.testing.assert_array_equal(seen["middle"], volume.voxels[10])
    np.testing.assert_array_equal(preview.voxels, volume.voxels)  # filled in
    assert not preview.voxels.flags.writeable
    assert preview.spacing_mm == volume.spacing_mm
    np.testing.assert_array_equal(
        preview.slice_origins_lps_mm, volume.slice_origins_lps_mm
    )
    assert preview.sop_instance_uids == volume.sop_instance_uids


def test_cancel_token_stops_loading(axial_series: PhantomSeries) -> None:
    token = CancelToken()

    def cancel_at_three(done: int, total: int) -> None:
        if done == 3:
            token.cancel()

    with pytest.raises(LoadCancelledError, match="cancelled"):
        load_volume(axial_series.folder, progress=cancel_at_three, cancel=token)
    with pytest.raises(LoadCancelledError):
        load_volume(axial_series.folder, cancel=lambda: True)


def test_memory_stays_near_the_volume_size(tmp_path: Path) -> None:
    geometry = liver_geometry(rows=256, columns=256, slice_count=24)
    write_phantom_series(tmp_path, geometry=geometry, noise_hu=5.0, lesions=())
    load_volume(tmp_path)  # warm the file cache and imports
    volume_bytes = 256 * 256 * 24 * 2
    tracemalloc.start()
    try:
        volume = load_volume(tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert volume.nbytes == volume_bytes
    assert peak <= volume_bytes * 1.25, f"peak {peak} for a {volume_bytes}-byte volume"


def test_loading_a_discovered_volume_matches_loading_the_folder(
    axial_series: PhantomSeries,
) -> None:
    (info,) = discover(axial_series.folder).volumes
    from_info = load_volume(info)
    from_folder = load_volume(axial_series.folder)
    np.testing.assert_array_equal(from_info.voxels, from_folder.voxels)
    assert from_info.sop_instance_uids == from_folder.sop_instance_uids
    assert from_info.window_centers == (40.0, -600.0)
    assert from_info.series_description == "CT PORTAL VENOUS 5mm"
    assert from_info.modality == "CT"


def test_voxels_are_read_only(axial_series: PhantomSeries) -> None:
    volume = load_volume(axial_series.folder)
    with pytest.raises(ValueError, match="read-only"):
        volume.voxels[0, 0, 0] = 1


def test_bad_files_in_a_folder_are_ignored_with_a_note(
    tmp_path: Path, axial_series: PhantomSeries
) -> None:
    paths = copy_series(axial_series, tmp_path)
    paths[0].write_bytes(paths[0].read_bytes()[:-100])
    (tmp_path / "readme.txt").write_text("hello")

    volume = load_volume(tmp_path)

    assert volume.slice_count == 19
    assert any(
        "1 file(s) ignored" in note and "truncated" in note for note in volume.warnings
    )


def test_truncation_after_discovery_is_a_one_line_error(
    tmp_path: Path, axial_series: PhantomSeries
) -> None:
    paths = copy_series(axial_series, tmp_path)
    (info,) = discover(tmp_path).volumes
    victim = Path(info.slices[5].header.path)
    victim.write_bytes(victim.read_bytes()[:-100])

    with pytest.raises(SliceReadError) as caught:
        load_volume(info)

    message = str(caught.value)
    assert message.startswith(str(victim))
    assert "truncated" in message
    assert "\n" not in message
    assert len(paths) == 20


def test_corrupt_compressed_slice_is_a_one_line_error(tmp_path: Path) -> None:
    series = write_phantom_series(
        tmp_path,
        geometry=liver_geometry(slice_count=3),
        noise_hu=0.0,
        transfer_syntax="jpeg2000",
        lesions=(),
    )
    broken = pydicom.dcmread(series.paths[1])
    data = bytearray(broken.PixelData)
    data[40:140] = b"\xff" * 100
    broken.PixelData = bytes(data)
    broken.save_as(series.paths[1])

    with pytest.raises(SliceReadError, match=r"cannot decode pixel data") as caught:
        load_volume(tmp_path)
    assert str(caught.value).startswith(series.paths[1])


def test_folder_with_two_volumes_must_be_chosen_from(tmp_path: Path) -> None:
    for visit in (0, 1):
        write_phantom_series(
            tmp_path / str(visit),
            geometry=liver_geometry(slice_count=3),
            visit=visit,
            noise_hu=0.0,
            lesions=(),
        )
    with pytest.raises(SeriesError, match="holds 2 volumes"):
        load_volume(tmp_path)


def test_folder_without_images_says_so(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(SeriesError, match="no loadable DICOM image"):
        load_volume(tmp_path)
    with pytest.raises(SeriesError, match="no such file"):
        load_volume(tmp_path / "missing")


def test_per_slice_rescale_becomes_float_modality_values(tmp_path: Path) -> None:
    series = write_phantom_series(
        tmp_path, geometry=liver_geometry(slice_count=4), noise_hu=0.0, lesions=()
    )
    plain = load_volume(tmp_path)
    dataset = pydicom.dcmread(series.paths[0])
    stored = dataset.pixel_array.astype(np.int32)
    dataset.RescaleIntercept = -1000
    dataset.PixelData = (stored - 24).astype(np.int16).tobytes()
    dataset.save_as(series.paths[0])

    volume = load_volume(tmp_path)

    assert volume.voxels.dtype == np.float32
    assert (volume.rescale_slope, volume.rescale_intercept) == (1.0, 0.0)
    np.testing.assert_allclose(volume.voxels, plain.modality_values())
    assert any("float32" in note for note in volume.warnings)


def test_enhanced_multiframe_ct_loads_like_single_frames(
    tmp_path: Path, noisy_series: PhantomSeries, reference: ImageVolume
) -> None:
    from highdicom.legacy import LegacyConvertedEnhancedCTImage

    datasets = [pydicom.dcmread(name) for name in noisy_series.paths]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enhanced = LegacyConvertedEnhancedCTImage(
            datasets,
            series_instance_uid=generate_uid(),
            series_number=9,
            sop_instance_uid=generate_uid(),
            instance_number=1,
        )
        enhanced.save_as(tmp_path / "enhanced.dcm")

    events: list[str] = []
    volume = load_volume(
        tmp_path / "enhanced.dcm",
        progress=lambda done, total: events.append(f"progress {done}/{total}"),
        on_middle_slice=lambda index, pixels: events.append(f"middle {index}"),
    )

    np.testing.assert_array_equal(volume.voxels, reference.voxels)
    np.testing.assert_allclose(
        volume.slice_origins_lps_mm, reference.slice_origins_lps_mm, atol=1e-4
    )
    np.testing.assert_allclose(volume.spacing_mm, reference.spacing_mm, atol=1e-4)
    assert volume.rescale_intercept == -1024.0
    assert volume.frame_numbers is not None
    assert sorted(volume.frame_numbers) == list(range(1, 21))
    assert set(volume.sop_instance_uids) == {str(enhanced.SOPInstanceUID)}
    assert events[:2] == ["progress 1/20", "middle 10"]  # the middle frame first
    assert events[-1] == "progress 20/20"


def test_single_slice_uses_slice_thickness_for_spacing(tmp_path: Path) -> None:
    write_phantom_series(
        tmp_path, geometry=liver_geometry(slice_count=1), noise_hu=0.0, lesions=()
    )
    volume = load_volume(tmp_path)
    assert volume.slice_count == 1
    assert volume.slice_spacing_mm == 2.5


def test_volume_rejects_inconsistent_fields(axial_series: PhantomSeries) -> None:
    volume = load_volume(axial_series.folder)
    with pytest.raises(ValueError, match="sop_instance_uids"):
        dataclasses.replace(volume, sop_instance_uids=("1",))
    with pytest.raises(ValueError, match="spacing_mm"):
        dataclasses.replace(volume, spacing_mm=(1.0, 0.0, 1.0))
