"""Benchmark: trial endpoints for 10,000 simulated patients, end to end.

Goal (issue 7): <= 3 s from ``Reading`` objects and clinical records to every
endpoint, ``endpoints.json`` data and the subjects table, excluding plotting and the
generation of the simulated trial. The peer measured in the same run is
``assess`` of the same readings (issue 2's engine, which the endpoints call once per
patient); the ratio says what the endpoint layer adds on top of the rules, which is
stable across noisy machines where absolute seconds are not. The same analysis with
the trial's adverse events and biomarkers (issue 22: safety summary, Fisher,
log-rank and Cox per biomarker) is measured too, without a goal of its own.

Each timed step starts after a full garbage collection with the previous step's
objects released, as in ``bench_assess.py``, so no step pays for another's
garbage: the 10,000 readings stay alive throughout (about 800,000 objects the
collector tracks), and a step that left more than a quarter of that behind since
the last full collection would pay CPython's next one, 0.3-0.4 s. The endpoints
keep about 7 tracked objects a patient, 13 with ``endpoints.json``'s data, which
stays under it; the full collections each step paid are printed.

Run: ``make bench`` or
``.venv/bin/python benchmarks/bench_endpoints.py [--patients N]``.
"""

from __future__ import annotations

import argparse
import gc
import time

from recist_app.endpoints import (
    compute_trial_endpoints,
    endpoints_to_dict,
    simulate_trial,
    subjects_table,
    summary_table,
)
from recist_app.recist import assess

GOAL_SECONDS = 3.0
RATIO_GOAL = 1.5


class _FullCollections:
    """Counts CPython's full (generation 2) collections; ``reset`` collects first."""

    def __init__(self) -> None:
        self.count = 0

    def reset(self) -> None:
        gc.collect()
        self.count = 0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            self.count += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    trial = simulate_trial(args.patients, seed=1)
    # warm-up: imports of scipy/lifelines are not part of the steady state
    compute_trial_endpoints(trial.readings[:20], trial.clinical[:20])
    full_collections = _FullCollections()
    gc.callbacks.append(full_collections)
    peer_best = endpoints_best = float("inf")
    peer_passes: list[int] = []
    endpoints_passes: list[int] = []
    for _ in range(args.repeat):
        full_collections.reset()
        start = time.perf_counter()
        for reading in trial.readings:
            assess(reading)
        peer_best = min(peer_best, time.perf_counter() - start)
        peer_passes.append(full_collections.count)
        full_collections.reset()
        start = time.perf_counter()
        result = compute_trial_endpoints(trial.readings, trial.clinical)
        endpoints_to_dict(result)
        subjects_table(result)
        summary_table(result)
        endpoints_best = min(endpoints_best, time.perf_counter() - start)
        endpoints_passes.append(full_collections.count)
        del result
    extended_best = float("inf")
    for _ in range(args.repeat):
        full_collections.reset()
        start = time.perf_counter()
        result = compute_trial_endpoints(
            trial.readings,
            trial.clinical,
            adverse_events=trial.adverse_events,
            biomarkers=trial.biomarkers,
        )
        endpoints_to_dict(result)
        extended_best = min(extended_best, time.perf_counter() - start)
        del result
    gc.callbacks.remove(full_collections)
    print(f"patients: {args.patients}, best of {args.repeat}")
    print(f"assess only (peer):        {peer_best:6.2f} s")
    print(f"endpoints end to end:      {endpoints_best:6.2f} s")
    ratio = endpoints_best / peer_best
    print(
        f"ratio endpoints / assess:  {ratio:6.2f}  (goal <= {RATIO_GOAL} x, "
        f"issue 23: {'met' if ratio <= RATIO_GOAL else 'NOT met'})"
    )
    print(
        f"full collections per step: assess {peer_passes}, endpoints {endpoints_passes}"
    )
    print(f"endpoint layer on top:     {endpoints_best - peer_best:6.2f} s")
    print(
        f"with AEs and biomarkers:   {extended_best:6.2f} s "
        f"({len(trial.adverse_events)} adverse events)"
    )
    scaled_goal = GOAL_SECONDS * args.patients / 10_000
    verdict = "OK" if endpoints_best <= scaled_goal else "SLOWER THAN GOAL"
    print(f"goal <= {scaled_goal:.2f} s: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
