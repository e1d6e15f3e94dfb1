"""Study-level endpoints on small hand-made trials and on the simulated trial."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from recist_app.endpoints import (
    CbrDefinition,
    ClinicalRecord,
    EndpointError,
    EndpointOptions,
    Population,
    bor_table,
    compute_trial_endpoints,
    endpoints_to_dict,
    risk_table,
    simulate_trial,
    subjects_table,
    summary_table,
    write_endpoint_outputs,
)
from recist_app.recist import Reading
from tests.endpoints._builders import make_clinical, make_reading

LONG_PR = [(28 * k, "PR") for k in range(1, 8)] + [(224, "PD")]
SHORT_PR = [(28, "PR"), (56, "PR"), (84, "PD")]
LONG_SD = [(28 * k, "SD") for k in range(1, 8)]


def small_trial() -> tuple[list[Reading], list[ClinicalRecord]]:
    readings = [
        make_reading("A", LONG_PR),
        make_reading("B", SHORT_PR),
        make_reading("C", LONG_SD),
        make_reading("D", [(28, "PD")]),
        make_reading("E", [(28, "NE")]),
    ]
    clinical = [
        make_clinical("A", last_alive=300),
        make_clinical("B", death=200),
        make_clinical("C", last_alive=250),
        make_clinical("D", death=100),
        make_clinical("E", last_alive=40),
    ]
    return readings, clinical


def test_proportions_count_confirmed_responses_over_measurable_patients() -> None:
    readings, clinical = small_trial()
    result = compute_trial_endpoints(readings, clinical)
    assert (result.orr.count, result.orr.total) == (2, 5)
    assert result.dcr.count == 3
    assert result.cbr.count == 1  # only A's response lasted > 183 days
    assert result.bor_counts_confirmed["PR"] == 2
    assert result.bor_counts_confirmed["NE"] == 1
    assert result.dor.subjects == 2
    assert result.subject("A").dor is not None
    assert result.subject("A").dor.days == 224 - 28 + 1  # type: ignore[union-attr]


def test_cbr_switch_counts_sd_lasting_24_weeks() -> None:
    readings, clinical = small_trial()
    options = EndpointOptions(cbr_definition=CbrDefinition.CR_PR_SD_24_WEEKS)
    result = compute_trial_endpoints(readings, clinical, options)
    assert result.cbr.count == 3  # A, B (responders) and C (SD at day 168)


def test_censored_response_of_183_days_counts_for_cbr() -> None:
    visits = [(28 * k, "PR") for k in range(1, 8)] + [(211, "PR")]
    result = compute_trial_endpoints(
        [make_reading("F", visits)], [make_clinical("F", last_alive=260)]
    )
    subject = result.subject("F")
    assert subject.dor is not None
    assert not subject.dor.event
    assert (subject.dor.end_date - subject.dor.start_date).days == 183
    assert subject.clinical_benefit


def test_os_events_and_censoring() -> None:
    readings, clinical = small_trial()
    result = compute_trial_endpoints(readings, clinical)
    assert result.os.events == 2
    assert result.subject("A").os.days == 301
    # E: last contact day 40 but scanned on day 28 → censored at day 40
    assert result.subject("E").os.days == 41


def test_population_all_treated_includes_unread_patients() -> None:
    readings, clinical = small_trial()
    clinical.append(make_clinical("G", death=20))
    options = EndpointOptions(
        population=Population.ALL_TREATED, allow_unread_patients=True
    )
    result = compute_trial_endpoints(readings, clinical, options)
    assert result.orr.total == 6
    assert result.bor_counts_confirmed["MISSING"] == 1
    assert result.pfs.subjects == 6


def test_two_readings_of_one_patient_is_an_error() -> None:
    with pytest.raises(EndpointError, match="two readings"):
        compute_trial_endpoints(
            [make_reading("A", []), make_reading("A", [])], [make_clinical("A")]
        )


def test_json_is_strict_and_tables_have_one_row_per_subject() -> None:
    readings, clinical = small_trial()
    result = compute_trial_endpoints(readings, clinical)
    data = endpoints_to_dict(result)
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["orr"]["count"] == 2
    assert data["pfs"]["numbers_at_risk"][0] == {"time_days": 0.0, "at_risk": 5}
    table = subjects_table(result)
    assert [row[0] for row in table.rows] == ["A", "B", "C", "D", "E"]
    assert all(len(row) == len(table.columns) for row in table.rows)
    assert summary_table(result).rows[3][1].startswith("2/5 = 40.0 %")


def test_simulated_trial_is_deterministic_and_realistic() -> None:
    trial = simulate_trial(76)  # the demo trial (default seed)
    assert trial == simulate_trial(76)
    assert trial != simulate_trial(76, seed=12)
    assert len(trial.readings) == len(trial.clinical) == 76
    result = compute_trial_endpoints(trial.readings, trial.clinical)
    counts = result.bor_counts_confirmed
    assert counts["PR"] + counts["CR"] > 5
    assert counts["SD"] > 10
    assert counts["PD"] >= 3
    assert 0.1 < (result.orr.estimate or 0) < 0.5
    assert result.pfs.events > 30
    assert 0 < result.os.events < 76
    median = result.pfs.median_days
    assert median is not None
    assert math.isfinite(median)
    assert result.pfs_rates[0].estimable
    assert result.mortality_rates[1].estimable


def test_simulated_trials_exercise_the_censoring_rows() -> None:
    trial = simulate_trial(400, seed=3)
    result = compute_trial_endpoints(trial.readings, trial.clinical)
    codes = {subject.pfs.cnsr for subject in result.subjects}
    assert {0, 3, 4, 5} <= codes


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_subject_dates_are_consistent(seed: int) -> None:
    trial = simulate_trial(60, seed=seed)
    result = compute_trial_endpoints(trial.readings, trial.clinical)
    for subject in result.subjects:
        assert subject.first_dose_date <= subject.pfs.end_date <= subject.os.end_date
        assert subject.os.end_date <= result.data_cutoff_date
        if subject.pfs.event and subject.death_date is not None:
            assert subject.pfs.end_date <= subject.death_date
        if subject.dor is not None:
            assert subject.dor.start_date >= subject.first_dose_date
            assert subject.dor.end_date == subject.pfs.end_date
            assert subject.responder
        assert subject.clinical_benefit <= subject.responder
        assert subject.responder <= subject.disease_control


def test_bor_and_risk_tables_for_the_view() -> None:
    readings, clinical = small_trial()
    result = compute_trial_endpoints(readings, clinical)
    bors = bor_table(result)
    assert bors.columns == ("BOR", "Confirmed", "Unconfirmed")
    assert ("PR", "2 (40.0 %)", "2 (40.0 %)") in bors.rows
    risk = risk_table(result)
    assert [row[0] for row in risk.rows] == ["PFS", "TTP", "OS", "DOR"]
    assert risk.rows[0][1] == "5"
    assert risk.columns[1] == "0.0"


def test_outputs_for_a_trial_without_response_population(tmp_path: Path) -> None:
    result = compute_trial_endpoints(
        [],
        [make_clinical("A"), make_clinical("B", death=10)],
        EndpointOptions(allow_unread_patients=True),
    )
    assert result.orr.estimate is None
    assert summary_table(result).rows[3][1] == "0/0 (NE)"
    written = write_endpoint_outputs(result, tmp_path)
    assert (tmp_path / "report.pdf") in written
    data = json.loads((tmp_path / "endpoints.json").read_text())
    assert data["orr"]["estimate"] is None
    assert data["dor"]["median_days"] is None
