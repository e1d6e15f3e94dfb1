"""Benchmark: assess 10,000 generated readings (5 targets, 12 visits each).

Goal (issue 2): <= 2 s for all 10,000 on this machine class. The peer measured in
the same run is ``json.loads`` of the same readings as reading files, i.e. the cost
of merely decoding the input; the ratio says how many decodes one assessment costs,
which is stable across noisy machines where absolute seconds are not.

Goal (issue 23): reading file text -> assessment (decode, parse, assess) <= 2.5 x
``json.loads`` of the same text. The text is read by ``decode_reading_file``, the
reader ``evaluate`` and ``reading import`` use (msgspec's fast path, every check);
the hand-written reader it falls back to for messages is timed too, for comparison.
Each step starts after a full garbage collection, with the previous step's
objects released, so no step pays for another's garbage. The collector's share
is large here (10,000 readings kept, a million objects walked by each full
collection), so the three steps are also timed with it paused, as ``timeit``
times: the compute alone, what ``evaluate`` of one file pays.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_assess.py [--readings N]``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import random
import time

from recist_app.exchange import decode_reading_file, parse_reading, reading_to_dict
from recist_app.recist import (
    Lesion,
    LesionRole,
    Measurement,
    MeasurementState,
    NewLesionObservation,
    NewLesionState,
    NonTargetAssessment,
    NonTargetState,
    Reading,
    TimePoint,
    assess,
)

GOAL_SECONDS = 2.0
PIPELINE_GOAL_RATIO = 2.5
ORGANS = ("liver", "liver", "lung", "lung", "lymph node")


def generate_reading(rng: random.Random, index: int, visits: int = 12) -> Reading:
    lesions = [
        Lesion(
            lesion_id=f"T{n + 1:02d}",
            role=LesionRole.TARGET,
            organ=organ,
            is_lymph_node=organ == "lymph node",
        )
        for n, organ in enumerate(ORGANS)
    ]
    lesions.append(Lesion(lesion_id="NT01", role=LesionRole.NON_TARGET, organ="bone"))
    lesions.append(Lesion(lesion_id="N01", role=LesionRole.NEW, organ="lung"))
    sizes = [rng.uniform(15.0, 60.0) for _ in ORGANS]
    trend = rng.uniform(-0.12, 0.08)
    date = datetime.date(2024, 1, 1)
    timepoints = []
    for visit in range(visits):
        measurements = []
        for n, lesion in enumerate(lesions[:5]):
            if visit and rng.random() < 0.03:
                measurements.append(
                    Measurement(
                        lesion_id=lesion.lesion_id,
                        state=MeasurementState.NOT_EVALUABLE,
                    )
                )
                continue
            size = round(max(0.0, sizes[n] * (1 + trend * visit)), 1)
            if lesion.is_lymph_node:
                measurements.append(
                    Measurement(
                        lesion_id=lesion.lesion_id,
                        long_axis_mm=size + 5,
                        short_axis_mm=size,
                    )
                )
            else:
                measurements.append(
                    Measurement(lesion_id=lesion.lesion_id, long_axis_mm=size)
                )
        new: tuple[NewLesionObservation, ...] = ()
        if visit > 6 and rng.random() < 0.1:
            new = (
                NewLesionObservation(lesion_id="N01", state=NewLesionState.UNEQUIVOCAL),
            )
        timepoints.append(
            TimePoint(
                visit="BASELINE" if visit == 0 else f"MONTH {visit}",
                date=date,
                is_baseline=visit == 0,
                slice_thickness_mm=5.0,
                measurements=tuple(measurements),
                non_target=(
                    NonTargetAssessment(lesion_id="NT01", state=NonTargetState.PRESENT),
                ),
                new_lesions=new,
            )
        )
        date += datetime.timedelta(days=28 + rng.randint(-3, 3))
    return Reading(
        patient_id=f"HCC-{index:05d}",
        first_dose_date=datetime.date(2024, 1, 8),
        lesions=tuple(lesions),
        timepoints=tuple(timepoints),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readings", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20241124)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    readings = [generate_reading(rng, i) for i in range(args.readings)]
    texts = [json.dumps(reading_to_dict(r)) for r in readings]

    gc.collect()
    start = time.perf_counter()
    decoded = [json.loads(text) for text in texts]
    json_seconds = time.perf_counter() - start
    del decoded

    gc.collect()
    start = time.perf_counter()
    parsed = [decode_reading_file(text, "bench").reading for text in texts]
    read_seconds = time.perf_counter() - start
    assert parsed == readings

    gc.collect()
    start = time.perf_counter()
    assessments = [assess(reading) for reading in parsed]
    assess_seconds = time.perf_counter() - start
    del parsed

    gc.collect()
    start = time.perf_counter()
    by_hand = [parse_reading(json.loads(text)) for text in texts]
    hand_seconds = time.perf_counter() - start
    assert by_hand == readings
    del by_hand

    visits = sum(len(a.timepoints) for a in assessments)
    responses: dict[str, int] = {}
    for assessment in assessments:
        key = assessment.best_overall_response.response.value
        responses[key] = responses.get(key, 0) + 1
    print(f"readings: {len(readings)} x 12 visits x 5 targets ({visits} follow-ups)")
    print(f"json.loads (peer):       {json_seconds:7.3f} s")
    print(
        f"read reading file:       {read_seconds:7.3f} s  "
        f"({read_seconds / json_seconds:.2f} x json.loads; decode + parse + check)"
    )
    print(
        f"assess (engine):         {assess_seconds:7.3f} s  "
        f"({1e6 * assess_seconds / len(readings):.0f} µs per reading)"
    )
    print(f"assess / json.loads:     {assess_seconds / json_seconds:7.2f} x")
    pipeline = read_seconds + assess_seconds
    print(
        f"text -> assessment:      {pipeline:7.3f} s  "
        f"(read + assess: what evaluate does)"
    )
    print(
        f"  / json.loads:          {pipeline / json_seconds:7.2f} x  (goal <= "
        f"{PIPELINE_GOAL_RATIO} x, issue 23: "
        f"{'met' if pipeline <= PIPELINE_GOAL_RATIO * json_seconds else 'NOT met'})"
    )
    print(
        f"hand-written reader:     {hand_seconds:7.3f} s  "
        f"({hand_seconds / json_seconds:.2f} x json.loads; json.loads + "
        "parse_reading, the fallback that words the messages)"
    )
    print(
        f"assess / goal {GOAL_SECONDS:.0f} s:"
        f"        {assess_seconds / GOAL_SECONDS:7.2f}"
        f"  ({'met' if assess_seconds <= GOAL_SECONDS else 'NOT met'})"
    )
    json_paused, read_paused, assess_paused = _paused_collector_times(texts)
    print(
        f"collector paused:        json.loads {json_paused:.3f} s, "
        f"read {read_paused:.3f} s ({read_paused / json_paused:.2f} x), "
        f"assess {assess_paused:.3f} s ({assess_paused / json_paused:.2f} x), "
        f"text -> assessment {(read_paused + assess_paused) / json_paused:.2f} x"
    )
    print("best overall responses:", dict(sorted(responses.items())))


def _paused_collector_times(texts: list[str]) -> tuple[float, float, float]:
    """json.loads, read and assess of ``texts`` with the garbage collector paused."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        decoded = [json.loads(text) for text in texts]
        json_seconds = time.perf_counter() - start
        del decoded
        start = time.perf_counter()
        parsed = [decode_reading_file(text, "bench").reading for text in texts]
        read_seconds = time.perf_counter() - start
        start = time.perf_counter()
        assessed = [assess(reading) for reading in parsed]
        assess_seconds = time.perf_counter() - start
        del parsed, assessed
    finally:
        gc.enable()
    return json_seconds, read_seconds, assess_seconds


if __name__ == "__main__":
    main()
