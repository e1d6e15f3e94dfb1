"""The clinical data and adverse events of the database feed the endpoints: one
import of both files, the stored rows in the analysis, and stale adverse events
named in one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from recist_app.endpoints import (
    adverse_events_csv_text,
    compute_trial_endpoints,
    endpoints_to_dict,
    simulate_trial,
    write_clinical_csv,
)
from recist_app.exchange import write_reading_file
from recist_app.store import open_store
from recist_app.workflows.endpoints import (
    import_clinical_data,
    trial_from_files,
    trial_from_store,
)
from recist_app.workflows.errors import WorkflowError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from recist_app.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'readings.sqlite3'}") as opened:
        yield opened


def test_stored_adverse_events_give_the_same_safety_summary_as_the_file(
    store: Store, tmp_path: Path
) -> None:
    trial = simulate_trial(10, seed=21)
    readings = tmp_path / "readings"
    readings.mkdir()
    for reading in trial.readings:
        store.readings.save(reading, user="dr-test")
        write_reading_file(reading, readings / f"{reading.patient_id}.json")
    clinical = tmp_path / "clinical.csv"
    write_clinical_csv(trial.clinical, clinical)
    ae = tmp_path / "ae.csv"
    ae.write_text(adverse_events_csv_text(trial.adverse_events), encoding="utf-8")

    with pytest.raises(WorkflowError, match="nothing to import"):
        import_clinical_data(store, user="dm")
    imported = import_clinical_data(
        store, clinical_csv=clinical, adverse_events_csv=ae, user="dm"
    )
    assert imported.clinical is not None
    assert imported.adverse_events is not None
    assert imported.adverse_events.inserted == len(trial.adverse_events)
    assert str(imported) == (
        "clinical rows: 10 added, 0 updated, 0 removed, 0 unchanged; adverse "
        f"events: {len(trial.adverse_events)} added, 0 removed, 0 unchanged"
    )

    from_store = endpoints_to_dict(trial_from_store(store).endpoints)
    from_files = endpoints_to_dict(
        trial_from_files(readings, clinical, adverse_events_csv=ae).endpoints
    )
    expected = endpoints_to_dict(
        compute_trial_endpoints(
            trial.readings, trial.clinical, adverse_events=trial.adverse_events
        )
    )
    assert from_store["adverse_events"] == expected["adverse_events"]
    assert from_files["adverse_events"] == expected["adverse_events"]

    # A new clinical file without a patient who has adverse events: the stored
    # adverse events are stale, and the analysis says so in one line.
    patient = trial.adverse_events[0].patient_id
    write_clinical_csv([r for r in trial.clinical if r.patient_id != patient], clinical)
    import_clinical_data(store, clinical_csv=clinical, user="dm")
    with pytest.raises(WorkflowError) as raised:
        trial_from_store(store)
    message = str(raised.value)
    assert f"adverse events of patient {patient!r}, who has no row" in message
    assert "clinical import --adverse-events" in message
    assert "\n" not in message
