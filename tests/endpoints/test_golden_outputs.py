"""The full outputs of simulated trials stay byte for byte what they were.

``data/golden_endpoints.json.gz`` holds, for each analysis below, the files
:func:`write_endpoint_outputs` writes (``endpoints.json``, ``subjects.csv``,
``summary.csv``, ``safety.csv``, ``biomarkers.csv``), as the code wrote them
before the speed work of issue 23. A change to any endpoint, date, reason or
rounding shows up here with the first differing line. Regenerate only for an
intended change of results: ``python -m tests.endpoints.test_golden_outputs``.
"""

from __future__ import annotations

import dataclasses
import datetime
import gzip
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from recist_app.endpoints import (
    CbrDefinition,
    EndpointOptions,
    Population,
    compute_trial_endpoints,
    simulate_trial,
    write_endpoint_outputs,
)
from recist_app.endpoints.options import SurvivalCi
from recist_app.recist import Criteria

if TYPE_CHECKING:
    from recist_app.endpoints import ClinicalRecord, SimulatedTrial

GOLDEN = Path(__file__).with_name("data") / "golden_endpoints.json.gz"
PATIENTS = 200

SENSITIVITY = EndpointOptions(
    use_confirmed_response=False,
    censor_after_missed_assessments=False,
    censor_at_new_therapy=False,
    cbr_definition=CbrDefinition.CR_PR_SD_24_WEEKS,
    cbr_counts_non_cr_non_pd=True,
    population=Population.ALL_TREATED,
    survival_ci=SurvivalCi.LINEAR,
    confidence_level=0.9,
)


def _alive(
    value: datetime.date | None, record: ClinicalRecord, cutoff: datetime.date
) -> datetime.date | None:
    """``value`` kept on/after the (cut) first dose."""
    if value is None:
        return None
    return max(value, min(record.first_dose_date, cutoff))


def _early_cutoff(trial: SimulatedTrial) -> SimulatedTrial:
    """The same trial cut 200 days earlier: windows shorter than the readings."""
    cutoff = trial.data_cutoff_date - datetime.timedelta(days=200)
    clinical = tuple(
        dataclasses.replace(
            record,
            data_cutoff_date=cutoff,
            first_dose_date=min(record.first_dose_date, cutoff),
            last_known_alive_date=_alive(record.last_known_alive_date, record, cutoff),
        )
        for record in trial.clinical
    )
    return dataclasses.replace(trial, clinical=clinical, data_cutoff_date=cutoff)


ANALYSES: dict[str, tuple[int, Criteria | None, EndpointOptions, bool]] = {
    # name: (seed, criteria, options, early cut-off)
    "primary": (7, None, EndpointOptions(), False),
    "sensitivity": (7, None, SENSITIVITY, False),
    "early-cutoff": (11, None, EndpointOptions(), True),
    "irecist": (13, Criteria.IRECIST, EndpointOptions(), False),
    "irecist-early-cutoff": (13, Criteria.IRECIST, SENSITIVITY, True),
    "mrecist": (17, Criteria.MRECIST, EndpointOptions(), False),
}


def _outputs(name: str) -> dict[str, str]:
    seed, criteria, options, early = ANALYSES[name]
    trial = simulate_trial(PATIENTS, seed=seed)
    if early:
        trial = _early_cutoff(trial)
    result = compute_trial_endpoints(
        trial.readings,
        trial.clinical,
        options,
        criteria=criteria,
        adverse_events=trial.adverse_events,
        biomarkers=trial.biomarkers,
    )
    with tempfile.TemporaryDirectory() as folder:
        paths = write_endpoint_outputs(result, Path(folder), plots=False)
        return {path.name: path.read_text(encoding="utf-8") for path in paths}


def _golden() -> dict[str, dict[str, str]]:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as stream:
        data: dict[str, dict[str, str]] = json.load(stream)
    return data


@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_outputs_of_a_simulated_trial_are_unchanged(name: str) -> None:
    expected = _golden()[name]
    actual = _outputs(name)
    assert sorted(actual) == sorted(expected)
    for file_name, text in expected.items():
        got = actual[file_name].splitlines()
        want = text.splitlines()
        for number, (line, golden) in enumerate(zip(got, want, strict=False), 1):
            assert line == golden, f"{name}: {file_name} line {number}"
        assert len(got) == len(want), f"{name}: {file_name} line count"


def _write_golden() -> None:
    data = {name: _outputs(name) for name in sorted(ANALYSES)}
    with gzip.open(GOLDEN, "wt", encoding="utf-8", compresslevel=9) as stream:
        json.dump(data, stream, sort_keys=True)


if __name__ == "__main__":
    _write_golden()
