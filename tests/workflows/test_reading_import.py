"""`recist-app reading import` / `reading list`: files into the database and back.

The demo patient's phantom CT studies are indexed once into a template database
(plus three images of another patient); each test works on a copy of it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid

from recist_app.cli import main
from recist_app.exchange import reading_to_dict, write_reading_file
from recist_app.recist import (
    AxisGeometry,
    Measurement,
    MeasurementState,
    Reading,
    TimePoint,
    assess,
)
from recist_app.store import (
    ImportOutcome,
    ReadingConflictError,
    ReadingLockedError,
    ReadingStatus,
    open_store,
)
from recist_app.workflows.images import import_dicom
from recist_app.workflows.reading_import import import_reading_file
from tests.exchange.demo import PATIENT_ID, DemoPatient
from tests.exchange.readings import standards_example

OTHER_PATIENT = "OTHER-002"


def _other_patient_images(demo: DemoPatient, folder: Path) -> list[str]:
    """Three images of the demo series relabelled as another patient's; their UIDs."""
    folder.mkdir()
    series_uid, study_uid = generate_uid(), generate_uid()
    uids: list[str] = []
    source = sorted(demo.images.values())[:3]
    for index, path in enumerate(source):
        dataset = dcmread(path)
        dataset.PatientID = OTHER_PATIENT
        dataset.PatientName = "OTHER^PATIENT"
        dataset.StudyInstanceUID = study_uid
        dataset.SeriesInstanceUID = series_uid
        dataset.SOPInstanceUID = generate_uid()
        dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        dataset.save_as(folder / f"{index}.dcm")
        uids.append(str(dataset.SOPInstanceUID))
    return uids


@dataclasses.dataclass(frozen=True)
class Template:
    path: Path
    other_uids: list[str]


@pytest.fixture(scope="module")
def template(demo: DemoPatient, tmp_path_factory: pytest.TempPathFactory) -> Template:
    root = tmp_path_factory.mktemp("import-template")
    path = root / "template.sqlite3"
    other = _other_patient_images(demo, root / "other")
    with open_store(f"sqlite:///{path}") as store:
        import_dicom(
            store, Path(next(iter(demo.images.values()))).parents[1], user="indexer"
        )
        import_dicom(store, root / "other", user="indexer")
    return Template(path=path, other_uids=other)


@pytest.fixture
def database(template: Template, tmp_path: Path) -> str:
    path = tmp_path / "readings.sqlite3"
    shutil.copy(template.path, path)
    return f"sqlite:///{path}"


def _import(database: str, *files: Path, replace: bool = False) -> int:
    extra = ["--replace"] if replace else []
    return main(
        ["reading", "import", *map(str, files), "--database", database,
         "--user", "importer", *extra]
    )  # fmt: skip


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "Traceback" not in err
    return err


def _with_t01_axis(reading: Reading, visit: str, change: AxisGeometry) -> Reading:
    timepoints = []
    for timepoint in reading.timepoints:
        if timepoint.visit == visit:
            measurements = tuple(
                dataclasses.replace(
                    m,
                    geometry=dataclasses.replace(m.geometry, long_axis=change),
                )
                if m.lesion_id == "T01" and m.geometry is not None
                else m
                for m in timepoint.measurements
            )
            timepoint = dataclasses.replace(timepoint, measurements=measurements)
        timepoints.append(timepoint)
    return dataclasses.replace(reading, timepoints=tuple(timepoints))


def _t01_long_axis(reading: Reading, visit: str) -> AxisGeometry:
    measurement = reading.timepoint(visit).measurement("T01")
    assert measurement is not None
    assert measurement.geometry is not None
    assert measurement.geometry.long_axis is not None
    return measurement.geometry.long_axis


# ---------------------------------------------------------------- round trip


def test_export_import_export_is_identical_and_lines_stay_on_their_pixels(
    demo: DemoPatient, database: str, template: Template, tmp_path: Path
) -> None:
    with open_store(database) as store:
        store.readings.save(demo.reading, user="dr-reader")
        store.signing.sign(PATIENT_ID, demo.reading.criteria, demo.reading.reader)
    first, second = tmp_path / "first", tmp_path / "second"
    export = ["export", "--patient", PATIENT_ID, "--format", "json"]
    assert main([*export, "--out", str(first), "--database", database]) == 0
    fresh = tmp_path / "fresh.sqlite3"
    shutil.copy(template.path, fresh)
    fresh_url = f"sqlite:///{fresh}"
    [reading_file] = first.glob("*.reading.json")
    assert _import(fresh_url, reading_file) == 0
    assert main([*export, "--out", str(second), "--database", fresh_url]) == 0
    for path in first.iterdir():
        assert (second / path.name).read_bytes() == path.read_bytes()
    with open_store(fresh_url) as store:
        imported = store.readings.load_stored(
            PATIENT_ID, demo.reading.criteria, demo.reading.reader
        )
    # Geometry comes back to the bit: the lines are drawn on the same pixels.
    assert imported.reading == demo.reading
    assert imported.record.status is ReadingStatus.SIGNED


# ---------------------------------------------------------------- geometry


@pytest.mark.parametrize(
    ("problem", "field", "expected"),
    [
        ("another patient", "sop_instance_uid", f"belongs to patient {OTHER_PATIENT}"),
        ("off the plane", "long_axis.start_lps_mm", "off the plane of image"),
        ("outside", "long_axis.end_lps_mm", "lies outside image"),
        ("not indexed", "sop_instance_uid", "is not in the database"),
    ],
)
def test_geometry_that_does_not_fit_the_images_is_one_line_and_imports_nothing(
    demo: DemoPatient,
    database: str,
    template: Template,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    problem: str,
    field: str,
    expected: str,
) -> None:
    visit = demo.reading.timepoints[1].visit
    axis = _t01_long_axis(demo.reading, visit)
    reading = demo.reading
    if problem == "another patient":
        reading = _with_uid(reading, visit, template.other_uids[1])
    elif problem == "not indexed":
        reading = _with_uid(reading, visit, "1.2.3.4.5.6.7.8.9")
    elif problem == "off the plane":
        x, y, z = axis.start_lps_mm
        reading = _with_t01_axis(
            reading, visit, dataclasses.replace(axis, start_lps_mm=(x, y, z + 4.0))
        )
    else:
        x, y, z = axis.end_lps_mm
        reading = _with_t01_axis(
            reading, visit, dataclasses.replace(axis, end_lps_mm=(x + 400.0, y, z))
        )
    path = tmp_path / "bad.reading.json"
    write_reading_file(reading, path)
    with open_store(database) as store:
        audit_before = len(store.audit.trail())
    assert _import(database, path) == 2
    error = _one_error_line(capsys)
    assert str(path) in error
    assert f"measurements[0].geometry.{field}" in error
    assert f"visit {visit}" in error
    assert "lesion T01" in error
    assert expected in error
    with open_store(database) as store:
        assert store.readings.list() == ()
        assert len(store.audit.trail()) == audit_before


def _t01(reading: Reading, visit: str) -> Measurement:
    measurement = reading.timepoint(visit).measurement("T01")
    assert measurement is not None
    return measurement


def _with_t01(reading: Reading, visit: str, measurement: Measurement) -> Reading:
    return dataclasses.replace(
        reading,
        timepoints=tuple(
            dataclasses.replace(
                t,
                measurements=tuple(
                    measurement if m.lesion_id == "T01" else m for m in t.measurements
                ),
            )
            if t.visit == visit
            else t
            for t in reading.timepoints
        ),
    )


# The value of a drawn diameter is its line (to 0.1 mm); a line is drawn on an
# image of the visit's own study. (problem, change, field, expected)
DRAWN_LINE_RULES = [
    ("long-axis-off-by-0.2-mm", "long", "long_axis_mm", "not the length of the line"),
    ("short-axis-off", "short", "short_axis_mm", "not the length of the line"),
    ("drawn-without-a-value", "missing", "long_axis_mm", "is missing, but a line"),
    ("another-visits-study", "study", "geometry.sop_instance_uid", "study, not in"),
]


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [row[1:] for row in DRAWN_LINE_RULES],
    ids=[row[0] for row in DRAWN_LINE_RULES],
)
def test_the_axis_value_must_be_the_drawn_line_on_the_visits_own_study(
    demo: DemoPatient,
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: str,
    field: str,
    expected: str,
) -> None:
    visit, later = demo.reading.timepoints[1].visit, demo.reading.timepoints[2].visit
    t01 = _t01(demo.reading, visit)
    assert t01.long_axis_mm is not None
    if change == "long":
        t01 = dataclasses.replace(t01, long_axis_mm=t01.long_axis_mm + 0.2)
    elif change == "short":
        assert t01.short_axis_mm is not None
        t01 = dataclasses.replace(t01, short_axis_mm=t01.short_axis_mm - 1.0)
    elif change == "missing":
        t01 = dataclasses.replace(
            t01,
            state=MeasurementState.TOO_SMALL,
            long_axis_mm=None,
            short_axis_mm=None,
        )
    else:  # the line and value of the later visit, at this visit
        t01 = _t01(demo.reading, later)
    path = tmp_path / "bad.reading.json"
    write_reading_file(_with_t01(demo.reading, visit, t01), path)
    assert _import(database, path) == 2
    error = _one_error_line(capsys)
    assert str(path) in error
    assert f"measurements[0].{field}" in error
    assert f"visit {visit}" in error
    assert "lesion T01" in error
    assert expected in error
    if change == "study":
        assert f"visit {later}'s study" in error
    with open_store(database) as store:
        assert store.readings.list() == ()


def test_a_value_within_0_1_mm_of_its_line_is_accepted(
    demo: DemoPatient, database: str, tmp_path: Path
) -> None:
    visit = demo.reading.timepoints[1].visit
    t01 = _t01(demo.reading, visit)
    assert t01.long_axis_mm is not None
    rounded = dataclasses.replace(t01, long_axis_mm=round(t01.long_axis_mm, 1))
    path = tmp_path / "rounded.reading.json"
    write_reading_file(_with_t01(demo.reading, visit, rounded), path)
    assert _import(database, path) == 0


def _with_uid(reading: Reading, visit: str, uid: str) -> Reading:
    def change(timepoint: TimePoint) -> TimePoint:
        return dataclasses.replace(
            timepoint,
            measurements=tuple(
                dataclasses.replace(
                    m,
                    geometry=dataclasses.replace(m.geometry, sop_instance_uid=uid),
                )
                if m.lesion_id == "T01" and m.geometry is not None
                else m
                for m in timepoint.measurements
            ),
        )

    return dataclasses.replace(
        reading,
        timepoints=tuple(
            change(t) if t.visit == visit else t for t in reading.timepoints
        ),
    )


def test_a_point_within_half_a_slice_of_the_plane_is_accepted(
    demo: DemoPatient, database: str, tmp_path: Path
) -> None:
    visit = demo.reading.timepoints[0].visit
    axis = _t01_long_axis(demo.reading, visit)
    x, y, z = axis.start_lps_mm
    reading = _with_t01_axis(
        demo.reading, visit, dataclasses.replace(axis, start_lps_mm=(x, y, z + 2.4))
    )
    path = tmp_path / "near.reading.json"
    write_reading_file(reading, path)
    assert _import(database, path) == 0


def _with_t01_viable_line(reading: Reading, visit: str, axis: AxisGeometry) -> Reading:
    """T01 at ``visit`` with an mRECIST viable line ``axis`` on its own image."""

    def change(timepoint: TimePoint) -> TimePoint:
        return dataclasses.replace(
            timepoint,
            measurements=tuple(
                dataclasses.replace(
                    m,
                    viable_long_axis_mm=axis.length_mm,
                    viable_geometry=dataclasses.replace(
                        m.geometry, long_axis=axis, short_axis=None
                    ),
                )
                if m.lesion_id == "T01" and m.geometry is not None
                else m
                for m in timepoint.measurements
            ),
        )

    return dataclasses.replace(
        reading,
        timepoints=tuple(
            change(t) if t.visit == visit else t for t in reading.timepoints
        ),
    )


def test_a_viable_line_is_checked_stored_and_reimported_unchanged(
    demo: DemoPatient, database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    visit = demo.reading.timepoints[1].visit
    axis = _t01_long_axis(demo.reading, visit)
    (x0, y0, z0), (x1, y1, z1) = axis.start_lps_mm, axis.end_lps_mm
    shorter = AxisGeometry(
        start_lps_mm=(x0 + 0.25 * (x1 - x0), y0 + 0.25 * (y1 - y0), z0),
        end_lps_mm=(x1, y1, z1),
    )
    off_plane = dataclasses.replace(shorter, end_lps_mm=(x1, y1, z1 + 4.0))
    bad = tmp_path / "bad.reading.json"
    write_reading_file(_with_t01_viable_line(demo.reading, visit, off_plane), bad)
    assert _import(database, bad) == 2
    error = _one_error_line(capsys)
    assert "measurements[0].viable_geometry.long_axis.end_lps_mm" in error
    assert f"visit {visit}" in error
    assert "off the plane of image" in error

    reading = _with_t01_viable_line(demo.reading, visit, shorter)
    good = tmp_path / "good.reading.json"
    write_reading_file(reading, good)
    assert _import(database, good) == 0
    capsys.readouterr()
    assert _import(database, good) == 0
    assert "unchanged" in capsys.readouterr().out
    with open_store(database) as store:
        stored = store.readings.load(PATIENT_ID, "RECIST 1.1", demo.reading.reader)
    assert stored == reading
    measurement = stored.timepoint(visit).measurement("T01")
    assert measurement is not None
    assert measurement.viable_geometry is not None
    assert measurement.viable_geometry.long_axis == shorter


# ---------------------------------------------------------------- idempotence etc.


def test_importing_the_same_file_twice_changes_nothing(
    demo: DemoPatient, database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.reading.json"
    write_reading_file(demo.reading, path)
    assert _import(database, path) == 0
    with open_store(database) as store:
        record = store.readings.record(PATIENT_ID, "RECIST 1.1", demo.reading.reader)
        audit = store.audit.trail()
    capsys.readouterr()
    assert _import(database, path) == 0
    assert "unchanged" in capsys.readouterr().out
    with open_store(database) as store:
        assert (
            store.readings.record(PATIENT_ID, "RECIST 1.1", demo.reading.reader)
            == record
        )
        assert store.audit.trail() == audit
        assert store.audit.verify().ok
    assert audit[0].action == "import"
    assert audit[0].user == "importer"


def test_a_conflicting_file_is_refused_and_replace_is_audited_with_its_sha256(
    demo: DemoPatient, database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = tmp_path / "a.reading.json"
    write_reading_file(demo.reading, original)
    assert _import(database, original) == 0
    visit = demo.reading.timepoints[2].visit
    changed = _with_measurement(demo.reading, visit, long_axis_mm=20.0)
    other = tmp_path / "b.reading.json"
    write_reading_file(changed, other)
    capsys.readouterr()
    assert _import(database, other) == 2
    error = _one_error_line(capsys)
    assert str(other) in error
    assert f"visit {visit}, lesion T01: long_axis_" in error  # value or its line
    assert "--replace" in error
    with open_store(database) as store:
        assert store.readings.load(PATIENT_ID, "RECIST 1.1", demo.reading.reader) == (
            demo.reading
        )
    assert _import(database, other, replace=True) == 0
    with open_store(database) as store:
        assert (
            store.readings.load(PATIENT_ID, "RECIST 1.1", demo.reading.reader)
            == changed
        )
        newest = store.audit.trail(limit=1)[0]
        assert store.audit.verify().ok
    digest = hashlib.sha256(other.read_bytes()).hexdigest()
    assert newest.action == "replace"
    assert newest.user == "importer"
    assert newest.after is not None
    assert newest.after["source_sha256"] == digest
    assert newest.reason is not None
    assert digest in newest.reason
    assert newest.recorded_at.tzinfo is not None


def _redrawn(measurement: Measurement, long_axis_mm: float) -> Measurement:
    """T01 re-measured at ``long_axis_mm``: its line drawn that long too."""
    geometry = measurement.geometry
    if geometry is None or geometry.long_axis is None:
        return dataclasses.replace(measurement, long_axis_mm=long_axis_mm)
    start, end = geometry.long_axis.start_lps_mm, geometry.long_axis.end_lps_mm
    scale = long_axis_mm / geometry.long_axis.length_mm
    end = (
        start[0] + (end[0] - start[0]) * scale,
        start[1] + (end[1] - start[1]) * scale,
        start[2] + (end[2] - start[2]) * scale,
    )
    axis = dataclasses.replace(geometry.long_axis, end_lps_mm=end)
    return dataclasses.replace(
        measurement,
        long_axis_mm=long_axis_mm,
        geometry=dataclasses.replace(geometry, long_axis=axis),
    )


def _with_measurement(reading: Reading, visit: str, *, long_axis_mm: float) -> Reading:
    def change(timepoint: TimePoint) -> TimePoint:
        return dataclasses.replace(
            timepoint,
            measurements=tuple(
                _redrawn(m, long_axis_mm) if m.lesion_id == "T01" else m
                for m in timepoint.measurements
            ),
        )

    return dataclasses.replace(
        reading,
        timepoints=tuple(
            change(t) if t.visit == visit else t for t in reading.timepoints
        ),
    )


def test_a_signed_reading_stays_signed_and_locked_with_its_signer_and_time(
    demo: DemoPatient, database: str, tmp_path: Path
) -> None:
    data = reading_to_dict(demo.reading)
    data["sign_off"] = {
        "status": "signed",
        "signed_by": "Dr Jane Reader",
        "signed_at": "2024-06-03T14:05:09+02:00",
        "version": 2,
    }
    path = tmp_path / "signed.reading.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with open_store(database) as store:
        result = import_reading_file(store, path, user="importer")
        assert result.outcome is ImportOutcome.CREATED
        record = result.record
        assert record.status is ReadingStatus.SIGNED
        assert record.signed_by == "Dr Jane Reader"
        assert record.signed_at is not None
        assert record.signed_at.isoformat() == "2024-06-03T12:05:09+00:00"
        assert record.signed_version == 2
        [version] = store.signing.history(PATIENT_ID, "RECIST 1.1", demo.reading.reader)
        assert (version.version, version.signed_by) == (2, "Dr Jane Reader")
        assert version.reading == demo.reading
        with pytest.raises(ReadingLockedError):
            store.readings.save(
                _with_measurement(
                    demo.reading, demo.reading.timepoints[1].visit, long_axis_mm=99.0
                ),
                user="someone",
            )
        again = import_reading_file(store, path, user="importer")
        assert again.outcome is ImportOutcome.UNCHANGED


def test_a_signed_file_without_its_time_is_refused(
    demo: DemoPatient, database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = reading_to_dict(demo.reading)
    data["sign_off"] = {"status": "signed", "signed_by": "Dr X", "version": 1}
    path = tmp_path / "unsigned.reading.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert _import(database, path) == 2
    error = _one_error_line(capsys)
    assert error.endswith(f"{path}: sign_off.signed_at: a signed reading needs it")


def test_a_bad_file_among_good_ones_imports_nothing_and_the_others_are_imported(
    demo: DemoPatient, database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.reading.json"
    write_reading_file(standards_example(), good)
    bad_reading = _with_uid(demo.reading, demo.reading.timepoints[0].visit, "1.2.3.999")
    bad = tmp_path / "bad.reading.json"
    write_reading_file(bad_reading, bad)
    assert _import(database, bad, good) == 2
    captured = capsys.readouterr()
    [error] = captured.err.strip().splitlines()
    assert str(bad) in error
    assert "2 files: 1 imported, 0 unchanged, 0 replaced, 1 refused" in captured.out
    with open_store(database) as store:
        assert [r.patient_id for r in store.readings.list()] == ["LT-01-001"]


def test_the_library_raises_a_conflict_error_naming_the_difference(
    demo: DemoPatient, database: str, tmp_path: Path
) -> None:
    path = tmp_path / "a.reading.json"
    write_reading_file(demo.reading, path)
    changed = tmp_path / "b.reading.json"
    write_reading_file(dataclasses.replace(demo.reading, first_dose_date=None), changed)
    with open_store(database) as store:
        import_reading_file(store, path, user="importer")
        with pytest.raises(ReadingConflictError, match="params: first_dose_date"):
            import_reading_file(store, changed, user="importer")


# ---------------------------------------------------------------- worklist


def test_reading_list_shows_status_visits_and_responses(
    demo: DemoPatient, database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = standards_example()
    unread_follow_up = dataclasses.replace(
        example,
        timepoints=(
            *example.timepoints,
            TimePoint(
                visit="WEEK 18", date=example.timepoints[-1].date.replace(day=30)
            ),
        ),
    )
    with open_store(database) as store:
        store.readings.save(demo.reading, user="dr-reader")
        store.signing.sign(PATIENT_ID, "RECIST 1.1", demo.reading.reader)
        store.readings.save(unread_follow_up, user="dr-example")
    capsys.readouterr()
    assert main(["reading", "list", "--format", "csv", "--database", database]) == 0
    lines = capsys.readouterr().out.splitlines()
    demo_assessment = assess(demo.reading)
    assert lines == [
        "patient_id,criteria,reader,role,status,visits_read,"
        "latest_overall_response,bor_so_far,central_review",
        f"{PATIENT_ID},RECIST 1.1,{demo.reading.reader},single,signed,4/4,"
        f"{demo_assessment.timepoints[-1].overall_response},"
        f"{demo_assessment.best_overall_response.response.value},",
        # WEEK 18 is not read: no response; the latest read is WEEK 12's PR
        "LT-01-001,RECIST 1.1,Dr Example,single,draft,3/4,PR,PR,",
    ]
    assert main(["reading", "list", "--database", database]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == [
        "patient", "criteria", "reader", "role", "status", "visits", "read",
        "latest", "response", "BOR", "so", "far", "central", "review",
    ]  # fmt: skip
    assert "3/4" in table[2]
    assert "draft" in table[2]


def test_measurement_states_survive_import(database: str, tmp_path: Path) -> None:
    reading = standards_example()
    follow_up = reading.timepoints[1]
    reading = dataclasses.replace(
        reading,
        timepoints=(
            reading.timepoints[0],
            dataclasses.replace(
                follow_up,
                measurements=(
                    Measurement(lesion_id="T01", state=MeasurementState.TOO_SMALL),
                    *follow_up.measurements[1:],
                ),
            ),
            *reading.timepoints[2:],
        ),
    )
    path = tmp_path / "states.reading.json"
    write_reading_file(reading, path)
    assert _import(database, path) == 0
    with open_store(database) as store:
        assert store.readings.load("LT-01-001", "RECIST 1.1", "Dr Example") == reading
