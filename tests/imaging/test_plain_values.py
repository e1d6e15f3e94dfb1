"""Values read raw (the fast path of header reading) equal what pydicom decodes.

:func:`recist_app.imaging.headers._plain_value` skips pydicom's element
conversion for plain ASCII values (issue 23). It must never change a header, a
warning or a refusal: every file pydicom and pydicom-data ship, and values at the
edges of each pattern, are read both ways and compared.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_files
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.tag import BaseTag
from pydicom.uid import (
    UID,
    CTImageStorage,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from recist_app.imaging import headers, read_slice_header
from recist_app.imaging.errors import ImagingError

ALL_FILES = sorted({name for name in get_testdata_files() if Path(name).is_file()})


def _outcome(path: str) -> object:
    """The header read from ``path``, or the refusal's type and message."""
    try:
        return read_slice_header(path)
    except ImagingError as error:
        return (type(error).__name__, str(error))


def _both_ways(paths: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    fast = [_outcome(path) for path in paths]
    with monkeypatch.context() as patch:
        patch.setattr(headers, "_plain_value", lambda dataset, keyword: headers._SLOW)
        slow = [_outcome(path) for path in paths]
    for path, fast_outcome, slow_outcome in zip(paths, fast, slow, strict=True):
        assert fast_outcome == slow_outcome, path


@pytest.mark.parametrize("keyword", ["TransferSyntaxUID", "MediaStorageSOPClassUID"])
def test_file_meta_text_read_raw_equals_pydicoms_value(keyword: str) -> None:
    """The two file meta UIDs every header reads skip pydicom's keyword lookup."""
    compared = 0
    for path in ALL_FILES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = headers._text(
                    pydicom.dcmread(path, stop_before_pixels=True).file_meta.get(
                        keyword
                    )
                )
                meta = pydicom.dcmread(path, stop_before_pixels=True).file_meta
        except Exception:  # damaged corpus files: read_slice_header refuses them
            continue
        assert headers._meta_text(meta, keyword) == expected, path
        compared += 1
    assert compared > 200


def test_every_corpus_file_reads_the_same_raw_and_through_pydicom(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert len(ALL_FILES) > 240
    _both_ways(ALL_FILES, monkeypatch)


# values at the edges of each plain pattern: some take the fast path, some not
EDGE_VALUES: list[tuple[str, str | list[str]]] = [
    ("SliceThickness", "5"),
    ("SliceThickness", " 2.50 "),
    ("SliceThickness", "1e2"),
    ("SliceThickness", "1e400"),  # not finite: pydicom's path
    ("SliceThickness", "-0"),
    ("SliceThickness", "12345678901234567"),  # longer than DS allows
    ("SliceThickness", "abc"),
    ("SliceThickness", ""),
    ("PixelSpacing", ["0.7", "0.7"]),
    ("PixelSpacing", ["0.7", "x"]),
    ("ImagePositionPatient", ["-200", "-200.5", "+3"]),
    ("ImageOrientationPatient", ["1", "0", "0", "0", "1", "0"]),
    ("InstanceNumber", "7"),
    ("InstanceNumber", " 0012 "),
    ("InstanceNumber", "99999999999999999999"),  # beyond IS range
    ("InstanceNumber", "3.5"),
    ("SeriesNumber", ""),
    ("PatientID", "ANON^1 2"),
    ("PatientID", "back\\slash"),
    ("PatientID", "Zoë"),
    ("PatientName", "Doe^John"),
    ("PatientName", "Doe^John=ドウ^ジョン"),
    ("StudyDate", "20240115"),
    ("StudyDate", "2024-01-15"),
    ("StudyTime", "101500.123"),
    ("StudyTime", "1015"),
    ("StudyTime", "25:00"),
    ("Modality", "CT"),
    ("Modality", "ct"),
    ("ImageType", ["ORIGINAL", "PRIMARY", "AXIAL"]),
    ("ImageType", ["DERIVED", "secondary"]),
    ("SeriesInstanceUID", "1.2.3.4"),
    ("SeriesInstanceUID", "1.2.3.4 "),
    ("SeriesInstanceUID", "1.2.a"),
]


def _raw(value: str | list[str]) -> bytes:
    return ("\\".join(value) if isinstance(value, list) else value).encode()


def _slice(folder: Path, index: int, keyword: str, value: object, syntax: str) -> str:
    """A small CT slice whose ``keyword`` holds ``value``.

    In Implicit VR files the value is written byte for byte (a raw element: the
    reader takes the dictionary's VR), so values pydicom would refuse to write
    can be read; in Explicit VR files pydicom writes it.
    """
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = UID(f"1.2.826.0.1.3680043.10.9.{index}")
    meta.TransferSyntaxUID = UID(syntax)
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.10.1"
    ds.SeriesInstanceUID = "1.2.826.0.1.3680043.10.2"
    ds.PatientID = "EDGE"
    ds.Modality = "CT"
    ds.Rows = ds.Columns = 4
    ds.BitsAllocated = ds.BitsStored = 16
    ds.PixelRepresentation = 0
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.ImagePositionPatient = [0, 0, index]
    ds.PixelSpacing = [1, 1]
    with warnings.catch_warnings():  # pydicom warns about the invalid ones
        warnings.simplefilter("ignore")
        if syntax == ImplicitVRLittleEndian:
            assert isinstance(value, str | list)
            number = pydicom.datadict.tag_for_keyword(keyword)
            assert number is not None, keyword
            tag = BaseTag(number)
            raw = _raw(value)
            raw += b" " if len(raw) % 2 else b""
            ds[tag] = RawDataElement(tag, None, len(raw), raw, 0, True, True)
        else:
            setattr(ds, keyword, value)
        ds.PixelData = bytes(32)
        path = folder / f"edge{index:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
    return str(path)


def _writable(keyword: str, value: object) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            setattr(Dataset(), keyword, value)
    except (ValueError, OverflowError):
        return False
    return True


@pytest.mark.parametrize(
    "syntax", [ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian]
)
def test_edge_values_read_the_same_raw_and_through_pydicom(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syntax: str
) -> None:
    paths = [
        _slice(tmp_path, index, keyword, value, syntax)
        for index, (keyword, value) in enumerate(EDGE_VALUES)
        if syntax == ImplicitVRLittleEndian or _writable(keyword, value)
    ]
    assert len(paths) > 20
    _both_ways(paths, monkeypatch)


def test_plain_values_take_the_fast_path(tmp_path: Path) -> None:
    """The usual CT header is decoded raw (else the fast path would be dead code)."""
    path = _slice(tmp_path, 0, "SliceThickness", "5", ImplicitVRLittleEndian)
    dataset = pydicom.dcmread(path, stop_before_pixels=True)
    for keyword, expected in [
        ("SliceThickness", "5"),
        ("PixelSpacing", ["1.0", "1.0"]),
        ("Rows", 4),
        ("PatientID", "EDGE"),
        ("SeriesInstanceUID", "1.2.826.0.1.3680043.10.2"),
        ("StudyDate", None),
    ]:
        assert headers._plain_value(dataset, keyword) == expected, keyword
    assert headers._plain_value(dataset, "PatientName") is None
