"""msgspec's fast path reads exactly the files the hand-written reader reads (issue 23).

``fast_reading`` may decline any file (``None``: the hand-written reader then
decides and words the message); it must never accept a file the hand-written
reader refuses, nor build a different reading, reader role or sign-off. Checked
on valid generated readings, on a file using every optional key, and on
thousands of damaged copies of them (a value replaced by an odd one, a key
removed or added, text with escapes, control or non-ASCII characters, numbers
at and beyond the bounds). Every refusal still carries the hand-written line.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recist_app.exchange import (
    ExchangeError,
    decode_reading_file,
    read_reading_file,
    reading_to_json_text,
)
from recist_app.exchange.reading_decoder import fast_reading
from recist_app.exchange.reading_file import decode_reading_json, parse_reading
from recist_app.recist import Criteria, ReaderRole
from tests.recist.golden import golden_readings

UID = "1.2.826.0.1.3680043.8.498.1"


def full_file() -> dict[str, Any]:
    """A valid file with every optional key of the format."""
    point = {"start_lps_mm": [1.0, 2, -3.5], "end_lps_mm": [31.0, 2.0, -3.5]}
    geometry = {
        "series_instance_uid": UID + ".2",
        "sop_instance_uid": UID + ".3",
        "long_axis": point,
        "short_axis": None,
        "method": "semi-automatic",
    }
    return {
        "format": "recist-reading/1",
        "patient_id": "HCC-007",
        "criteria": "mRECIST",
        "first_dose_date": "2024-03-04",
        "params": {
            "confirmation_min_days": 28,
            "sd_min_days": 42,
            "require_confirmation": True,
            "max_ne_between_confirmation": 1,
            "too_small_mm": 5,
            "pd_min_increase_mm": None,
            "baseline_window_days": 28,
            "irecist_confirmation_min_days": 28,
            "irecist_confirmation_max_days": 56,
            "mrecist_pd_min_increase_mm": 5.0,
        },
        "lesions": [
            {
                "lesion_id": "T01",
                "role": "target",
                "organ": "liver",
                "is_lymph_node": False,
                "location": "segment VII, près du dôme",
                "tracking_uid": UID + ".9",
                "is_cystic": False,
                "previously_irradiated": True,
            },
            {"lesion_id": "T02", "role": "target", "organ": "liver"},
            {"lesion_id": "NT01", "role": "non-target", "organ": "portal vein"},
            {"lesion_id": "N01", "role": "new", "organ": "lung"},
        ],
        "timepoints": [
            {
                "visit": "SCREENING",
                "date": "2024-02-26",
                "slice_thickness_mm": 5,
                "modality": "CT",
                "study_instance_uid": UID + ".1",
                "series_instance_uid": UID + ".2",
                "measurements": [
                    {
                        "lesion_id": "T01",
                        "state": "measured",
                        "long_axis_mm": 30,
                        "short_axis_mm": 20.5,
                        "viable_long_axis_mm": 25.0,
                        "geometry": geometry,
                        "viable_geometry": geometry,
                    },
                    {"lesion_id": "T02", "state": "measured", "long_axis_mm": 22.0},
                ],
                "non_target": [
                    {
                        "lesion_id": "NT01",
                        "state": "present",
                        "cytology_confirmed": False,
                        "geometry": geometry,
                    }
                ],
                "new_lesions": [],
                "no_disease": False,
            },
            {
                "visit": "WEEK 6",
                "date": "2024-04-15",
                "baseline": False,
                "modality": "MR",
                "measurements": [
                    {"lesion_id": "T01", "state": "split", "parts_mm": [10, 5.5]},
                    {"lesion_id": "T02", "state": "merged", "merged_into": "T01"},
                ],
                "non_target": [{"lesion_id": "NT01", "state": "further_increase"}],
                "new_lesions": [
                    {
                        "lesion_id": "N01",
                        "state": "equivocal",
                        "not_imaged_at_baseline": False,
                        "long_axis_mm": 12.0,
                        "short_axis_mm": None,
                        "typical_vascular_pattern": True,
                        "cytology_confirmed": False,
                        "geometry": None,
                    }
                ],
            },
        ],
        "reader": "Dr Zhang",
        "reader_role": "reader 2",
        "sign_off": {
            "status": "signed",
            "signed_by": "Dr Zhang",
            "signed_at": "2024-05-01T10:00:00+00:00",
            "version": 2,
            "amendment_reason": None,
        },
    }


def _hand(text: bytes) -> Any:
    """What the hand-written reader makes of ``text``: its results or its message."""
    try:
        decoded = decode_reading_json(text, "f.json")
        reading = parse_reading(decoded, source="f.json")
    except ExchangeError as error:
        return str(error)
    assert isinstance(decoded, dict)
    role = decoded.get("reader_role")
    return reading, None if role is None else ReaderRole(role), decoded.get("sign_off")


def _sign_off_seen(sign_off: Any) -> Any:
    """A sign-off as ``load_reading_file`` reads it (``.get`` of each key)."""
    if sign_off is None:
        return None
    keys = ("status", "signed_by", "signed_at", "amendment_reason")
    return {key: sign_off.get(key) for key in keys} | {
        "version": sign_off.get("version", 0)
    }


def _agree(text: bytes) -> bool:
    """Check the fast path against the hand-written reader; True if it accepted."""
    hand = _hand(text)
    fast = fast_reading(text)
    if fast is not None:
        assert not isinstance(hand, str), f"fast path accepted a refused file: {hand}"
        reading, role, sign_off = hand
        assert fast.reading == reading
        assert repr(fast.reading) == repr(reading)  # int/float kept alike too
        assert fast.reader_role == role
        assert _sign_off_seen(fast.sign_off) == _sign_off_seen(sign_off)
    if isinstance(hand, str):
        with pytest.raises(ExchangeError) as error:
            decode_reading_file(text, "f.json")
        assert str(error.value) == hand
    else:
        assert decode_reading_file(text, "f.json").reading == hand[0]
    return fast is not None


def _texts(data: object) -> list[bytes]:
    compact = json.dumps(data).encode()
    pretty = json.dumps(data, indent=2, ensure_ascii=False).encode()
    return [compact, pretty]


def test_the_usual_files_take_the_fast_path() -> None:
    files = [full_file()] + [
        json.loads(reading_to_json_text(reading)) for reading in golden_readings(60)
    ]
    for data in files:
        # as the app writes them (ensure_ascii=False), and compact
        assert _agree(json.dumps(data, indent=2, ensure_ascii=False).encode())
        assert _agree(json.dumps(data, ensure_ascii=False).encode())


def test_escaped_text_is_left_to_the_hand_written_reader() -> None:
    text = json.dumps(full_file()).encode()  # "pr\u00e8s du d\u00f4me"
    assert b"\\u00e8" in text
    assert not _agree(text)
    assert decode_reading_file(text, "f.json").reading == _hand(text)[0]


def test_every_criteria_set_and_the_example_take_the_fast_path() -> None:
    for reading in golden_readings(9):
        text = reading_to_json_text(
            reading,
            reader_role=ReaderRole.READER_1,
            sign_off={"status": "draft", "version": 0},
        )
        assert _agree(text.encode())
    assert {r.criteria for r in golden_readings(9)} == set(Criteria)


ODD_VALUES: list[object] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    5,
    -0.0,
    1000,
    1000.0,
    1000.0001,
    -1000.0,
    1e308,
    10**30,
    3650,
    3651,
    "",
    " ",
    "x" * 17,
    "x" * 65,
    "x" * 129,
    "x" * 2001,
    "T01",
    "T02",
    "NT01",
    "N01",
    "T\u200b01",
    "T\u00f601",
    "tab\there",
    "del\x7f",
    'quote"d',
    "back\\slash",
    "\u00e9t\u00e9",
    "2024-02-29",
    "2024-02-30",
    "20240101",
    "1899-12-31",
    "2200-01-01",
    "2024-W01-1",
    "measured",
    "split",
    "merged",
    "present",
    "equivocal",
    "target",
    "new",
    "BASELINE",
    "Baseline ",
    "RECIST 1.1",
    "iRECIST",
    "recist",
    "reader 1",
    "signed",
    "draft",
    "1.2.3",
    "1.02.3",
    [],
    [1.0, 2.0, 3.0],
    [1.0, 2.0],
    ["T01"],
    {},
    {"lesion_id": "T01", "state": "measured", "long_axis_mm": 10.0},
]


def _paths(value: object, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _damage(data: dict[str, Any], rng: random.Random) -> object:
    """``data`` with one to three random changes."""
    damaged: Any = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(damaged)[1:])
        parent = damaged
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = rng.random()
        if action < 0.6:
            parent[last] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif action < 0.75:
            del parent[last]
        elif action < 0.85 and isinstance(parent, dict):
            parent[rng.choice(["extra", "baseline", "is_baseline", "geometry"])] = (
                copy.deepcopy(rng.choice(ODD_VALUES))
            )
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        else:
            parent[last] = copy.deepcopy(rng.choice(ODD_VALUES))
    return damaged


@settings(max_examples=700, deadline=None)
@given(seed=st.integers(0, 2**32), which=st.integers(0, 30))
def test_damaged_files_are_refused_with_the_hand_written_line(
    seed: int, which: int
) -> None:
    rng = random.Random(seed)
    if which == 0:
        data = full_file()
    else:
        data = json.loads(reading_to_json_text(golden_readings(30)[which - 1]))
    damaged = _damage(data, rng)
    for text in _texts(damaged):
        _agree(text)


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"[]",
        b"null",
        b'{"format": "recist-reading/1"}',
        b'{"format": NaN}',
        b"\xff\xfe",
        b"\xef\xbb\xbf{}",
        json.dumps(full_file()).encode() + b" x",
        json.dumps(full_file()).encode().replace(b'"T02"', b'"T\\u0030"'),
        json.dumps(full_file()).encode().replace(b"30,", b"30.0000000000000001,"),
        json.dumps(full_file(), ensure_ascii=False)
        .encode()
        .replace(b"Dr Zhang", "张医生".encode()),
        json.dumps(full_file()).encode().replace(b'"T01"', b'"T\xc3\xb601"'),
        json.dumps(full_file()).encode().replace(b'"liver"', b'"liver\xe2\x80\x8b"'),
        json.dumps(full_file()).encode().replace(b'"liver"', b'"l\xed\xa0\x80"'),
    ],
)
def test_edge_texts_agree(text: bytes) -> None:
    _agree(text)


def test_duplicate_keys_read_alike() -> None:
    text = json.dumps(full_file(), ensure_ascii=False).encode()
    doubled = text.replace(
        b'"criteria": "mRECIST"', b'"criteria": "iRECIST", "criteria": "mRECIST"'
    )
    assert doubled != text
    assert _agree(doubled)
    assert fast_reading(doubled).reading.criteria is Criteria.MRECIST  # type: ignore[union-attr]
    # a refused first value: the fast path declines, json.loads keeps the last
    refused = text.replace(
        b'"criteria": "mRECIST"', b'"criteria": "x", "criteria": "mRECIST"'
    )
    assert not _agree(refused)


def test_read_reading_file_uses_the_one_reader(tmp_path: Any) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(full_file()), encoding="utf-8")
    assert read_reading_file(path) == _hand(path.read_bytes())[0]
    path.write_text(json.dumps(full_file()).replace('"T02"', '"T 02"', 1))
    with pytest.raises(ExchangeError, match=r"r\.json: .*lesion"):
        read_reading_file(path)
