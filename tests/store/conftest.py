"""Fixtures for the store tests: a fresh database per test, and readings.

A test that takes ``store`` runs twice: on a SQLite file and on a new database of
the throw-away PostgreSQL server (``tests/postgres.py``; skipped with the reason
when the server cannot run). Tests that also reach into the SQLite file itself
(``database_path``, ``raw``, ``store_url``, directly or through a fixture) run on
SQLite only.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest

from recist_app.recist import (
    AxisGeometry,
    Lesion,
    LesionRole,
    Measurement,
    MeasurementGeometry,
    NewLesionObservation,
    NewLesionState,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    TimePoint,
)
from recist_app.store import Store, open_store


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def database_path(tmp_path: Path) -> Path:
    return tmp_path / "readings.sqlite3"


_SQLITE_BOUND = frozenset({"database_path", "raw", "store_url", "audited"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every ``store`` test on SQLite and on PostgreSQL (module docstring)."""
    if "store" not in metafunc.fixturenames:
        return
    own = set(metafunc.definition.function.__code__.co_varnames)
    backends = ["sqlite"] if own & _SQLITE_BOUND else ["sqlite", "postgresql"]
    metafunc.parametrize("backend", backends)


@pytest.fixture
def backend() -> str:
    """The database the ``store`` fixture opens (parametrised per test)."""
    return "sqlite"


@pytest.fixture
def store(
    backend: str, database_path: Path, request: pytest.FixtureRequest
) -> Iterator[Store]:
    url = (
        sqlite_url(database_path)
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    with open_store(url) as opened:
        yield opened


def example_reading(patient_id: str = "HCC-001", reader: str = "dr-a") -> Reading:
    """The reading-file format's first example, with geometry on one measurement."""
    geometry = MeasurementGeometry(
        series_instance_uid="1.2.826.0.1.3680043.8.498.1",
        sop_instance_uid="1.2.826.0.1.3680043.8.498.1.17",
        long_axis=AxisGeometry(
            start_lps_mm=(10.5, -20.25, 103.0), end_lps_mm=(52.5, -20.25, 103.0)
        ),
        short_axis=AxisGeometry(
            start_lps_mm=(30.0, -35.0, 103.0), end_lps_mm=(30.0, -5.0, 103.0)
        ),
    )
    return Reading(
        patient_id=patient_id,
        reader=reader,
        first_dose_date=datetime.date(2024, 3, 4),
        lesions=(
            Lesion(lesion_id="T01", role=LesionRole.TARGET, organ="liver"),
            Lesion(
                lesion_id="T02",
                role=LesionRole.TARGET,
                organ="lymph node",
                is_lymph_node=True,
            ),
            Lesion(lesion_id="NT01", role=LesionRole.NON_TARGET, organ="portal vein"),
            Lesion(lesion_id="N01", role=LesionRole.NEW, organ="lung"),
        ),
        timepoints=(
            TimePoint(
                visit="BASELINE",
                date=datetime.date(2024, 2, 26),
                is_baseline=True,
                slice_thickness_mm=5.0,
                measurements=(
                    Measurement(
                        lesion_id="T01",
                        long_axis_mm=42.0,
                        short_axis_mm=30.0,
                        geometry=geometry,
                    ),
                    Measurement(lesion_id="T02", long_axis_mm=25.0, short_axis_mm=18.0),
                ),
                non_target=(
                    NonTargetAssessment(lesion_id="NT01", state=NonTargetState.PRESENT),
                ),
            ),
            TimePoint(
                visit="WEEK 6",
                date=datetime.date(2024, 4, 15),
                measurements=(
                    Measurement(lesion_id="T01", long_axis_mm=30.0),
                    Measurement(lesion_id="T02", short_axis_mm=9.0),
                ),
                non_target=(
                    NonTargetAssessment(lesion_id="NT01", state=NonTargetState.PRESENT),
                ),
                new_lesions=(
                    NewLesionObservation(
                        lesion_id="N01", state=NewLesionState.EQUIVOCAL
                    ),
                ),
            ),
        ),
    )


@pytest.fixture
def reading() -> Reading:
    return example_reading()
