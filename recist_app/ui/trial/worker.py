"""The endpoint computation, run off the GUI thread.

:func:`compute_from_store` is plain Python (readings and clinical rows from the
store, then :func:`~recist_app.endpoints.compute_trial_endpoints`);
:class:`TrialComputation` runs it, or a clinical import followed by it, in a worker
thread and reports back through Qt signals, which Qt delivers in the GUI thread.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from recist_app.endpoints import (
    EndpointError,
    TrialEndpoints,
    clinical_from_store,
    compute_trial_endpoints,
    import_clinical_csv,
    readings_from_store,
)
from recist_app.recist import Criteria, ReadingError
from recist_app.store import StoreError

if TYPE_CHECKING:
    from pathlib import Path

    from recist_app.store import Store

__all__ = ["NoClinicalDataError", "TrialComputation", "compute_from_store"]


class NoClinicalDataError(EndpointError):
    """The database has readings but no clinical data yet."""


def compute_from_store(
    store: Store, criteria: Criteria
) -> tuple[TrialEndpoints, tuple[str, ...]]:
    """Endpoints of every patient in ``store`` under ``criteria``.

    The trial is the patients of the clinical data; readings of other patients
    (a demo patient, say) are left out and their ids returned beside the result.

    Raises
    ------
    NoClinicalDataError
        No clinical data has been imported.
    EndpointError
        Anything else that stops the analysis (one line).
    """
    if not store.clinical.records():
        raise NoClinicalDataError(
            "no clinical data in the database: choose the clinical CSV "
            "(first dose, death, last known alive, new therapy, cut-off)"
        )
    readings = readings_from_store(store, criteria=criteria)
    clinical = clinical_from_store(store)
    in_trial = {record.patient_id for record in clinical}
    left_out = tuple(r.patient_id for r in readings if r.patient_id not in in_trial)
    result = compute_trial_endpoints(
        [r for r in readings if r.patient_id in in_trial], clinical, criteria=criteria
    )
    return result, left_out


class TrialComputation(QObject):
    """Runs one computation at a time in a daemon thread.

    ``finished(result, left_out_patient_ids, generation)`` or ``failed(message,
    no_clinical_data, generation)`` follow each :meth:`start`; a caller ignores a
    generation older than its latest request. ``imported(summary_text)`` reports a
    clinical import.
    """

    finished = Signal(object, object, int)
    failed = Signal(str, bool, int)
    imported = Signal(str)

    def __init__(self, store: Store, *, user: str, parent: QObject | None = None):
        super().__init__(parent)
        self._store = store
        self._user = user
        self._generation = 0
        self._threads: list[threading.Thread] = []

    @property
    def generation(self) -> int:
        """Number of the latest request."""
        return self._generation

    def start(self, criteria: Criteria, clinical_csv: Path | None = None) -> int:
        """Compute under ``criteria``, importing ``clinical_csv`` first if given.

        Returns the request's generation.
        """
        self._generation += 1
        generation = self._generation
        thread = threading.Thread(
            target=self._run,
            args=(criteria, clinical_csv, generation),
            name=f"trial-endpoints-{generation}",
            daemon=True,
        )
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()
        return generation

    def wait(self, timeout_s: float = 30.0) -> None:
        """Wait for the running computations (closing, tests)."""
        for thread in self._threads:
            thread.join(timeout_s)

    def _run(
        self, criteria: Criteria, clinical_csv: Path | None, generation: int
    ) -> None:
        try:
            if clinical_csv is not None:
                summary = import_clinical_csv(
                    self._store, clinical_csv, user=self._user
                )
                self.imported.emit(f"{clinical_csv.name}: {summary}")
            result, left_out = compute_from_store(self._store, criteria)
        except NoClinicalDataError as error:
            self.failed.emit(str(error), True, generation)
        except (EndpointError, StoreError, ReadingError) as error:
            self.failed.emit(str(error), False, generation)
        except Exception as error:  # a bug must not kill the thread silently
            self.failed.emit(f"{type(error).__name__}: {error}", False, generation)
        else:
            self.finished.emit(result, left_out, generation)
