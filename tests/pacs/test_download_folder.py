"""The download folder: whole files only, names a server cannot abuse."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, generate_uid

from recist_app.pacs import (
    PacsResponseError,
    SeriesFolder,
    SeriesMatch,
    parse_server_url,
    safe_name,
    series_folder,
)

SERVER = parse_server_url("dimse://ORTHANC@127.0.0.1:4242")


def _dataset(uid: str) -> Dataset:
    dataset = Dataset()
    dataset.SOPClassUID = CTImageStorage
    dataset.SOPInstanceUID = uid
    dataset.PatientID = "P"
    dataset.file_meta = FileMetaDataset()
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.file_meta.MediaStorageSOPClassUID = dataset.SOPClassUID
    dataset.file_meta.MediaStorageSOPInstanceUID = UID(uid)
    return dataset


@pytest.mark.parametrize(
    "uid", ["../../etc/passwd", "/abs", "..", "a" * 200, "1.2\x00.3", ""]
)
def test_a_servers_uids_never_leave_the_download_folder(
    tmp_path: Path, uid: str
) -> None:
    name = safe_name(uid)
    assert "/" not in name
    assert name not in {".", ".."}
    assert len(name) <= 64
    series = SeriesMatch(study_instance_uid=uid, series_instance_uid=uid or "x")
    folder = series_folder(tmp_path, SERVER, series)
    assert tmp_path in folder.parents


def test_instances_are_written_whole_named_by_their_uid(tmp_path: Path) -> None:
    written: list[str] = []
    sink = SeriesFolder(tmp_path / "series", SERVER, on_written=written.append)
    uid = str(generate_uid())
    sink.add_dataset(_dataset(uid))
    assert written == [uid]
    assert sink.present() == {f"{uid}.dcm"}
    assert dcmread(sink.path_of(uid)).SOPInstanceUID == uid
    assert not list((tmp_path / "series").glob("*.part"))


def test_an_instance_that_is_not_dicom_is_refused_and_leaves_no_file(
    tmp_path: Path,
) -> None:
    sink = SeriesFolder(tmp_path / "series", SERVER)
    with pytest.raises(PacsResponseError, match="is not a DICOM file"):
        sink.add_encoded("1.2.3", b"<html>login</html>")
    no_meta = _dataset("1.2.4")
    del no_meta.file_meta
    with pytest.raises(PacsResponseError, match="without its transfer syntax"):
        sink.add_dataset(no_meta)
    assert sink.present() == set()


def test_a_write_that_fails_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_then_disk_full(self: Dataset, path: Path, **_options: object) -> None:
        Path(path).write_bytes(b"\0" * 100)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Dataset, "save_as", half_then_disk_full)
    sink = SeriesFolder(tmp_path / "series", SERVER)
    with pytest.raises(OSError, match="No space left"):
        sink.add_dataset(_dataset("1.2.5"))
    assert list((tmp_path / "series").iterdir()) == []
    assert sink.written == []
