"""The rules engine gives, to the byte, the assessments it gave before issue 23's work.

3,000 generated readings (:mod:`tests.recist.golden`: every measurement state,
nodes, non-target states, new lesions, visits not read, "no disease"), a third
under each criteria set, are assessed and every ``assessment_to_dict`` is hashed.
The digest was computed on main before the engine was made faster (issue 23): a
speed-up that changes a single response, reason, diameter or date fails here.
"""

from __future__ import annotations

from collections import Counter

from recist_app.recist import Criteria, assess
from tests.recist.golden import assessment_digest, golden_readings

GOLDEN_COUNT = 3000
GOLDEN_DIGEST = "f26917095f9f24bb3b718782828a663631cdc50d158e29cd92b97b5bd6ea29d8"
"""``assessment_digest(golden_readings(3000))`` on main at 58c685d."""


def test_assessments_match_the_digest_taken_before_the_speed_up() -> None:
    readings = golden_readings(GOLDEN_COUNT)
    assert assessment_digest(readings) == GOLDEN_DIGEST


def test_golden_readings_cover_every_criteria_set_and_response() -> None:
    readings = golden_readings(GOLDEN_COUNT)
    counts = Counter(r.criteria for r in readings)
    assert all(counts[criteria] > 900 for criteria in Criteria), counts
    best = {assess(r).best_overall_response.response.value for r in readings}
    assert {"CR", "PR", "SD", "PD", "NE", "NED", "iCR", "iUPD", "iCPD"} <= best
