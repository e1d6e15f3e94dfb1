"""The reading file's inline fast path accepts exactly what the general path does.

``_plain_measurement`` and ``_plain_non_target`` (issue 23) build the usual
entries without the general functions' per-value calls. They must never accept an
entry the general path refuses, nor build a different object: for any entry,
either they decline (``None``, and the general path reads it and gives every
message) or they return what the general path returns.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from recist_app.exchange.errors import ExchangeError
from recist_app.exchange.reading_file import (
    _Context,
    _measurement,
    _non_target,
    _plain_measurement,
    _plain_non_target,
)

TEXT = st.one_of(
    st.sampled_from(["T01", " T02 ", "", "   ", "T" * 16, "T" * 17, "T\u200b1", "Tö"]),
    st.text(max_size=20),
)
NUMBER = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1000.0, 1000.0001, -1.0, 5, True, "12", [1.0]]),
    st.integers(-2000, 2000),
)
MEASUREMENT_STATE = st.sampled_from(
    ["measured", "too_small", "disappeared", "not_evaluable", "split", "MEASURED", 3]
)
NON_TARGET_STATE = st.sampled_from(
    ["present", "absent", "unequivocal_progression", "further_increase", "gone", None]
)


@st.composite
def entries(draw: st.DrawFn, keys: dict[str, st.SearchStrategy[Any]]) -> object:
    if draw(st.integers(0, 20)) == 0:
        return draw(st.sampled_from([None, [], "T01", 3]))  # not an object
    entry = {key: draw(value) for key, value in keys.items() if draw(st.booleans())}
    if draw(st.integers(0, 10)) == 0:
        entry[draw(st.sampled_from(["extra", "parts_mm", "geometry"]))] = None
    return entry


def _general(read: Any, entry: object) -> object:
    try:
        return read(entry, "timepoints[1].measurements[0]", _Context("f"), "WEEK 8")
    except ExchangeError as error:
        return error


def _agree(plain: object, general: object) -> None:
    if plain is None:
        return  # declined: the general path decides
    assert not isinstance(general, ExchangeError), general
    assert plain == general
    for name in ("long_axis_mm", "short_axis_mm", "viable_long_axis_mm"):
        value = getattr(plain, name, None)
        assert value is None or math.isfinite(value)


@settings(max_examples=600, deadline=None)
@given(
    entries(
        {
            "lesion_id": TEXT,
            "state": MEASUREMENT_STATE,
            "long_axis_mm": NUMBER,
            "short_axis_mm": NUMBER,
            "viable_long_axis_mm": NUMBER,
        }
    )
)
def test_plain_measurement_agrees_with_the_general_path(entry: object) -> None:
    _agree(_plain_measurement(entry), _general(_measurement, entry))


@settings(max_examples=400, deadline=None)
@given(
    entries(
        {
            "lesion_id": TEXT,
            "state": NON_TARGET_STATE,
            "cytology_confirmed": st.sampled_from([True, False, 0, 1, None, "Y"]),
        }
    )
)
def test_plain_non_target_agrees_with_the_general_path(entry: object) -> None:
    _agree(_plain_non_target(entry), _general(_non_target, entry))


def test_the_usual_entries_take_the_fast_path() -> None:
    measurement = {"lesion_id": "T01", "state": "measured", "long_axis_mm": 42.5}
    non_target = {"lesion_id": "NT01", "state": "present"}
    assert _plain_measurement(measurement) is not None
    assert _plain_non_target(non_target) is not None
    assert _plain_measurement({**measurement, "long_axis_mm": -1.0}) is None
    assert _plain_measurement({**measurement, "long_axis_mm": math.nan}) is None
