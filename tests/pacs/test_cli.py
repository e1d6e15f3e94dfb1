"""``recist-app pacs echo|find``, ``import --from`` and ``export --send`` end to end.

The command runs in-process (``recist_app.cli.main``) against the session's
Orthanc; a server is given by URL or by its name in a settings file.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recist_app.cli import main
from recist_app.environment import PACS_SETTINGS_ENV
from recist_app.store import open_store
from tests.orthanc import ORTHANC_PASSWORD, ORTHANC_USER, free_port

if TYPE_CHECKING:
    from tests.orthanc import DemoOnServer

UNREAD = "DEMO-HCC-002"
READ = "DEMO-HCC-001"


@pytest.fixture
def settings(
    orthanc: DemoOnServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A settings file naming the Orthanc twice (web, dimse), as the env names it."""
    path = tmp_path / "pacs.toml"
    path.write_text(
        f"""
calling_ae_title = "RECISTAPP"
download_folder = "{tmp_path / "downloads"}"

[servers.web]
url = "{orthanc.server.dicomweb_url}"
username = "{ORTHANC_USER}"
password_env = "TEST_ORTHANC_PASSWORD"

[servers.dimse]
url = "{orthanc.server.dimse_url}"
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("TEST_ORTHANC_PASSWORD", ORTHANC_PASSWORD)
    monkeypatch.setenv(PACS_SETTINGS_ENV, str(path))
    return path


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'readings.sqlite3'}"


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "Traceback" not in err
    assert err.startswith("recist-app: error: ")
    return err.removeprefix("recist-app: error: ")


@pytest.mark.parametrize("name", ["web", "dimse"])
def test_pacs_echo_by_name(
    settings: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pacs", "echo", name]) == 0
    assert capsys.readouterr().out.startswith(f"{name} (")


@pytest.mark.parametrize("name", ["web", "dimse"])
def test_pacs_find_csv_has_one_row_per_study_with_its_uid(
    settings: Path,
    orthanc: DemoOnServer,
    name: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        ["pacs", "find", name, "--patient", UNREAD, "--modality", "ct",
         "--date", "2024-01-01..", "--format", "csv"]
    )  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["study_instance_uid"] for row in rows] == list(
        orthanc.study_uids[UNREAD]
    )
    assert {row["patient_id"] for row in rows} == {UNREAD}


def test_pacs_find_table_to_a_file_by_url(
    orthanc: DemoOnServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "studies.txt"
    url = orthanc.server.dicomweb_url_with_credentials
    assert main(["pacs", "find", url, "--name", "DEMO^*", "--out", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].split()[:2] == ["patient", "name"]
    assert len(lines) == 1 + 6
    assert "wrote 6 studies" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["web", "dimse"])
def test_import_from_a_pacs_then_again_changes_nothing(
    settings: Path,
    orthanc: DemoOnServer,
    database: str,
    name: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["import", "--from", name, "--patient", UNREAD, "--database", database]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"{orthanc.images} images retrieved" in out
    assert f"{orthanc.images} images added" in out
    with open_store(database) as store:
        studies = store.images.studies(UNREAD)
        assert [s.study_instance_uid for s in studies] == list(
            orthanc.study_uids[UNREAD]
        )
        files = store.images.series_files(studies[0].series[0].series_instance_uid)
        assert all(settings.parent / "downloads" in path.parents for path in files)
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "nothing new: every series was already indexed" in captured.out
    assert captured.err.count("already indexed; not retrieved") == 3


def test_export_sr_sent_to_the_pacs_reports_what_it_accepted(
    settings: Path,
    orthanc: DemoOnServer,
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        main(["import", "--from", "web", "--patient", READ, "--database", database])
        == 0
    )
    assert main(
        ["reading", "import", str(orthanc.readings[READ]), "--database", database]
    ) == 0  # fmt: skip
    capsys.readouterr()
    code = main(
        ["export", "--patient", READ, "--format", "sr", "--out", str(tmp_path / "sr"),
         "--send", "dimse", "--database", database]
    )  # fmt: skip
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("wrote 3 files for 1 readings")
    for line, study_uid in zip(lines[1:4], orthanc.study_uids[READ], strict=True):
        assert "accepted by dimse (" in line
        assert f"in study {study_uid} as " in line
    assert lines[4].endswith("accepted 3 of 3 reports")
    for line in lines[1:4]:
        sop_uid = line.rsplit(" as ", 1)[1]
        assert orthanc.server.instance_file(sop_uid) is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pacs", "echo", "nowhere"], "PACS server 'nowhere' is not in"),
        (["pacs", "find", "web", "--date", "2024-02-30"], "is not a date"),
        (["pacs", "find", "web", "--modality", "C T"], "DICOM modality code"),
        (["import", "--from", "web"], "--from SERVER needs --patient ID"),
        (["import", "somewhere", "--from", "web", "--patient", "X"], "not both"),
        (["import", "somewhere", "--patient", "X"], "go with --from SERVER"),
        (["import", "--from", "web", "--patient", "DEMO*"], "not a pattern"),
        (["import", "--from", "web", "--patient", "NOBODY"], "no study of patient"),
        (
            ["export", "--patient", "X", "--format", "csv", "--out", "o",
             "--send", "web"],
            "export the sr format",
        ),
        (
            ["export", "--patient", "X", "--format", "sr", "--out", "o",
             "--send", "web", "--deidentify"],
            "de-identified SR would not belong",
        ),
        (["pacs", "echo", "dimse", "--calling-aet", "A" * 17], "longer than 16"),
    ],
    ids=["unknown-name", "bad-date", "bad-modality", "from-without-patient",
         "folder-and-from", "patient-without-from", "patient-pattern",
         "unknown-patient", "send-without-sr", "send-deidentified", "long-aet"],
)  # fmt: skip
def test_bad_pacs_commands_are_one_line_and_exit_2(
    settings: Path,
    database: str,
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--database", database, *args]) == 2
    assert message in _error(capsys)


def test_unreachable_server_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"dimse://PACS@127.0.0.1:{free_port()}"
    assert main(["pacs", "echo", url]) == 2
    error = _error(capsys)
    assert error.startswith(f"{url}: cannot connect")
    assert "connection refused" in error
