"""Each use case has one home: the command line and the workstation run the same
workflow and agree (issue 14).

Four places where the two used to differ are tested here through both doors:
readings without a clinical row in the trial endpoints, the de-identification
key, the audit user, and the spellings of the criteria.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from recist_app.cli import main
from recist_app.endpoints import simulate_trial, write_clinical_csv
from recist_app.exchange import write_reading_file
from recist_app.recist import Criteria, ReaderRole
from recist_app.store import Store, open_store
from recist_app.ui.export_dialog import ExportDialog
from recist_app.ui.trial import TrialWindow
from recist_app.ui.workstation import open_workstation
from recist_app.workflows.export import load_deidentification_key
from recist_app.workflows.vocabulary import current_user

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pytestqt.qtbot import QtBot

    from recist_app.recist import Reading

REPOSITORY = Path(__file__).parents[1]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'readings.sqlite3'}"


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with open_store(database_url) as opened:
        yield opened


@pytest.fixture
def trial(store: Store, tmp_path: Path) -> tuple[Reading, ...]:
    """Six simulated patients in the database; the clinical data knows five."""
    simulated = simulate_trial(6, seed=11)
    for reading in simulated.readings:
        store.readings.save(reading, user="dr-test")
    clinical = tmp_path / "clinical.csv"
    write_clinical_csv(simulated.clinical[:5], clinical)
    assert main(["clinical", "import", str(clinical), "--database", store.url]) == 0
    return simulated.readings


# ------------------------------------------------------------ trial endpoints


@pytest.mark.gui
def test_a_reading_without_clinical_row_is_left_out_and_named_by_both_doors(
    qtbot: QtBot,
    store: Store,
    database_url: str,
    trial: tuple[Reading, ...],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    left_out = trial[5].patient_id
    out = tmp_path / "endpoints"
    status = main(["endpoints", "--database", database_url, "--out", str(out)])
    assert status == 0
    errors = capsys.readouterr().err
    assert f"without a row in the clinical data left out: {left_out}" in errors
    written = json.loads((out / "endpoints.json").read_text(encoding="utf-8"))
    assert written["treated"] == 5
    assert left_out not in {subject["patient_id"] for subject in written["subjects"]}

    view = TrialWindow(store, user="dr-test")
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.computed, timeout=60_000):
        pass
    assert view.result is not None
    assert view.result.treated == 5
    assert view.result.orr.estimate == pytest.approx(written["orr"]["estimate"])
    assert f"1 reading(s) without clinical data left out ({left_out})" in (
        view.status_label.text()
    )


@pytest.mark.gui
def test_a_patient_not_read_is_left_out_with_the_reason_by_both_doors(
    qtbot: QtBot,
    store: Store,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # rule A8: a reading whose visits have no findings is not read, never a
    # patient without disease: out of every analysis, named with the reason
    simulated = simulate_trial(5, seed=11)
    first = simulated.readings[0]
    unread = dataclasses.replace(
        first,
        lesions=(),
        timepoints=tuple(
            dataclasses.replace(t, measurements=(), non_target=(), new_lesions=())
            for t in first.timepoints
        ),
    )
    for reading in (unread, *simulated.readings[1:]):
        store.readings.save(reading, user="dr-test")
    clinical = tmp_path / "clinical.csv"
    write_clinical_csv(simulated.clinical, clinical)
    assert main(["clinical", "import", str(clinical), "--database", store.url]) == 0
    capsys.readouterr()
    out = tmp_path / "endpoints"
    assert main(["endpoints", "--database", database_url, "--out", str(out)]) == 0
    visits = len(first.timepoints)
    line = (
        f"patient {first.patient_id} left out of every analysis: not read: none "
        f"of its {visits} visits has a finding recorded"
    )
    assert f"warning: {line}" in capsys.readouterr().err.splitlines()
    written = json.loads((out / "endpoints.json").read_text(encoding="utf-8"))
    assert written["treated"] == 4
    assert line in written["warnings"]
    assert first.patient_id not in {s["patient_id"] for s in written["subjects"]}

    view = TrialWindow(store, user="dr-test")
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.computed, timeout=60_000):
        pass
    assert view.result is not None
    assert view.result.treated == 4
    assert f"1 patient(s) not read left out ({first.patient_id}; see Left out)" in (
        view.status_label.text()
    )
    assert view.left_out_model.cell(0, 0) == first.patient_id
    assert view.left_out_model.cell(0, 1).startswith("not read: none of its")


# ------------------------------------------------------------ de-identification


@pytest.mark.gui
def test_export_without_the_site_key_fails_the_same_way_in_cli_and_dialog(
    qtbot: QtBot,
    store: Store,
    database_url: str,
    trial: tuple[Reading, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("RECIST_APP_DEID_KEY", raising=False)
    patient = trial[0].patient_id
    status = main(
        [
            "export",
            "--patient",
            patient,
            "--format",
            "csv",
            "--out",
            str(tmp_path / "cli"),
            "--deidentify",
            "--database",
            database_url,
        ]
    )
    assert status == 2
    cli_line = capsys.readouterr().err.strip()
    assert cli_line.startswith("recist-app: error: de-identification needs")

    window = open_workstation(store, demo=False)
    qtbot.addWidget(window)
    assert window.open_patient(patient)
    assert window.writer is not None
    dialog = ExportDialog(window.document, window.writer, {}, parent=window)
    qtbot.addWidget(dialog)
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, _title, text: shown.append(text)
    )
    dialog.format_boxes[next(iter(dialog.format_boxes))].setChecked(True)
    QTest.mouseClick(dialog.deidentify_box, Qt.MouseButton.LeftButton)
    QTest.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running and bool(shown), timeout=30_000)
    assert shown == [cli_line.removeprefix("recist-app: error: ")]


@pytest.mark.gui
def test_cli_and_dialog_write_the_same_de_identified_export(
    qtbot: QtBot,
    store: Store,
    database_url: str,
    trial: tuple[Reading, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = tmp_path / "site.key"
    key.write_text("a secret only the site knows\n", encoding="utf-8")
    monkeypatch.setenv("RECIST_APP_DEID_KEY", key.read_text().strip())
    patient = trial[1].patient_id
    cli_out = tmp_path / "cli"
    assert (
        main(
            [
                "export",
                "--patient",
                patient,
                "--format",
                "csv",
                "--out",
                str(cli_out),
                "--deidentify",
                "--database",
                database_url,
            ]
        )
        == 0
    )
    window = open_workstation(store, demo=False)
    qtbot.addWidget(window)
    assert window.open_patient(patient)
    assert window.writer is not None
    dialog = ExportDialog(window.document, window.writer, {}, parent=window)
    qtbot.addWidget(dialog)
    for fmt, box in dialog.format_boxes.items():
        box.setChecked(fmt.value == "csv")
    app_out = tmp_path / "app"
    dialog.folder_edit.setText(str(app_out))
    QTest.mouseClick(dialog.deidentify_box, Qt.MouseButton.LeftButton)
    QTest.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    for name in ("responses.csv", "lesions.csv"):
        cli_text = (cli_out / name).read_text(encoding="utf-8")
        assert cli_text == (app_out / "csv" / name).read_text(encoding="utf-8")
        assert patient not in cli_text  # pseudonymous
    assert load_deidentification_key(None) == key.read_bytes().strip()


def test_the_key_variable_is_named_once() -> None:
    sources = [
        path
        for path in (REPOSITORY / "recist_app").rglob("*.py")
        if re.search(r"""["']RECIST_APP_DEID_KEY["']""", path.read_text("utf-8"))
    ]
    assert [path.name for path in sources] == ["environment.py"]


# ------------------------------------------------------------ the audit user


@pytest.mark.gui
def test_the_audit_names_the_same_user_from_the_cli_and_the_app(
    qtbot: QtBot,
    store: Store,
    database_url: str,
    trial: tuple[Reading, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECIST_APP_USER", "dr-env")
    assert current_user() == "dr-env"
    reading = dataclasses.replace(trial[2], patient_id="AUDIT-CLI")
    path = tmp_path / "reading.json"
    write_reading_file(reading, path)
    assert main(["reading", "import", str(path), "--database", database_url]) == 0
    assert {entry.user for entry in store.audit.trail("AUDIT-CLI")} == {"dr-env"}

    window = open_workstation(store, demo=False)
    qtbot.addWidget(window)
    assert window.session is not None
    assert window.session.user == "dr-env"
    assert window.open_patient(trial[3].patient_id)
    document = window.document
    before = document.reading
    document.replace(
        dataclasses.replace(before, first_dose_date=before.timepoints[0].date),
        "Set the first dose",
    )
    assert window.writer is not None
    assert window.writer.flush()
    newest = store.audit.trail(trial[3].patient_id, limit=1)
    assert [entry.user for entry in newest] == ["dr-env"]


# ------------------------------------------------------------ criteria spellings


@pytest.mark.parametrize("spelling", ["recist", "RECIST 1.1", "recist1.1", " Recist "])
def test_export_criteria_accepts_every_documented_spelling(
    spelling: str,
    database_url: str,
    trial: tuple[Reading, ...],
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    status = main(
        [
            "export",
            "--all",
            "--format",
            "csv",
            "--out",
            str(out),
            "--criteria",
            spelling,
            "--database",
            database_url,
        ]
    )
    assert status == 0
    with (out / "responses.csv").open(newline="", encoding="utf-8") as handle:
        patients = {row["patient_id"] for row in csv.DictReader(handle)}
    assert patients == {reading.patient_id for reading in trial}


@pytest.mark.parametrize(
    "command",
    [
        ["export", "--all", "--format", "csv", "--out", "OUT"],
        ["endpoints", "--out", "OUT"],
        ["evaluate", str(REPOSITORY / "examples" / "HCC-001.reading.json")],
        ["import-sr", "missing.dcm"],
    ],
    ids=["export", "endpoints", "evaluate", "import-sr"],
)
def test_an_unknown_criteria_is_one_line_naming_the_spellings(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        main([*command, "--criteria", "recist 1.0"])
    assert raised.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "unknown criteria 'recist 1.0'" in error
    assert "iRECIST" in error
    assert "mRECIST" in error


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [("recist", "RECIST 1.1"), ("irecist", "iRECIST"), ("MRECIST", "mRECIST")],
)
def test_evaluate_and_endpoints_read_the_same_spellings(
    spelling: str,
    expected: str,
    trial: tuple[Reading, ...],
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "reading.json"
    write_reading_file(trial[0], path)
    assert main(["evaluate", str(path), "--criteria", spelling]) == 0
    assert json.loads(capsys.readouterr().out)["criteria"] == expected
    out = tmp_path / "endpoints"
    assert (
        main(
            [
                "endpoints",
                "--database",
                database_url,
                "--out",
                str(out),
                "--no-plots",
                "--criteria",
                spelling,
            ]
        )
        == 0
    )
    written = json.loads((out / "endpoints.json").read_text(encoding="utf-8"))
    assert written["criteria"] == Criteria(expected).value


def test_no_criteria_spelling_table_outside_the_vocabulary() -> None:
    # The one parser: no other module maps "irecist" to a criteria set.
    pattern = re.compile(r"""["']irecist["']\s*:""")
    found = [
        path.relative_to(REPOSITORY).as_posix()
        for path in (REPOSITORY / "recist_app").rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == ["recist_app/workflows/vocabulary.py"]


# ------------------------------------------------------------ central review


@pytest.mark.gui
def test_the_agreement_is_the_same_from_the_cli_and_the_trial_view(
    qtbot: QtBot,
    store: Store,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    simulated = simulate_trial(12, seed=5, readers=2)
    for role, readings in (
        (ReaderRole.READER_1, simulated.readings),
        (ReaderRole.READER_2, simulated.second_readings),
    ):
        reader = "dr-one" if role is ReaderRole.READER_1 else "dr-two"
        for reading in readings:
            read = dataclasses.replace(reading, reader=reader)
            store.readings.save(read, user=reader, role=role)
            store.signing.sign(read.patient_id, read.criteria, reader, user=reader)
    clinical = tmp_path / "clinical.csv"
    write_clinical_csv(simulated.clinical, clinical)
    assert main(["clinical", "import", str(clinical), "--database", store.url]) == 0
    capsys.readouterr()
    assert (
        main(["adjudication", "list", "--format", "csv", "--database", store.url]) == 0
    )
    discordant = [
        row["patient_id"]
        for row in csv.DictReader(capsys.readouterr().out.splitlines())
    ]
    assert discordant, "the simulated readers disagree on some patients"
    for patient in discordant:
        decided = [
            "adjudication", "decide", patient, "--accept", "reader 2",
            "--reason", "closer to the images", "--database", store.url,
        ]  # fmt: skip
        assert main(decided) == 0
    capsys.readouterr()
    assert main(["agreement", "--format", "json", "--database", database_url]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["accepted_reader_2_n"] == len(discordant)

    view = TrialWindow(store, user="dr-test")
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.computed, timeout=60_000):
        pass
    model = view.agreement_model
    shown = {
        model.index(row, 0).data(): model.index(row, 1).data()
        for row in range(model.rowCount())
    }
    assert shown["patients with both reads signed"] == "12"
    bor = f"{report['bor_agreement_n']}/12 ({report['bor_agreement_pct']:.1f} %)"
    assert shown["BOR agreement"] == bor
    assert shown["adjudicator accepted reader 2"].startswith(f"{len(discordant)}/")
