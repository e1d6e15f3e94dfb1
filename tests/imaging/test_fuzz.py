"""Fuzz discovery and loading with damaged copies of pydicom's test files.

Every case takes one file of pydicom's and pydicom-data's corpus and damages it
one way (seeded, so a failing case is reproduced by its id): truncation anywhere,
random bytes over the header, an extreme value in a length field, inserted
bytes, a header element set to an absurd value through pydicom, or damaged pixel
data. The last two first give the file a patient geometry when it has none, so
the damage reaches the decoders instead of stopping at "no position". The case
runs
``discover`` on the file, then ``load_volume`` on every volume found, in a child
process (:mod:`tests.imaging.outcome_child`) with a time limit per case.

It passes when, for every case, nothing but an
:class:`~recist_app.imaging.errors.ImagingError` escapes, its message is one line
naming the file, every rejected file has a one-line reason, and no case hangs or
kills the process. The normal run fuzzes a few hundred cases over the files up to
1 MB; ``-m slow`` runs thousands over every file.
"""

from __future__ import annotations

import random
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_files

from tests.imaging.outcome_child import Case, Outcome, run_cases

CORPUS = sorted({name for name in get_testdata_files() if Path(name).is_file()})
SMALL_CORPUS = [name for name in CORPUS if Path(name).stat().st_size <= 1_000_000]
NORMAL_CASES = 500
SLOW_CASES = 2000  # per seed
CASE_LIMIT_S = 30.0
DECODE_LIMIT_S = 3.0

_LENGTHS = (0, 1, 2, 3, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF)
_HEADER_BYTES = 4096
_ABSURD: dict[str, tuple[object, ...]] = {
    "Rows": (0, 1, 3, 65535),
    "Columns": (0, 1, 7, 65535),
    "BitsAllocated": (0, 1, 12, 64, 65535),
    "BitsStored": (0, 17, 65535),
    "HighBit": (0, 65535),
    "SamplesPerPixel": (0, 3, 65535),
    "PixelRepresentation": (1, 7),
    "NumberOfFrames": ("0", "-1", "2", "99999999999999999999", "1e9"),
    "ImagePositionPatient": (["1e308", "1e308", "1e308"], ["nan", "0", "0"], []),
    "ImageOrientationPatient": ([0, 0, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0], ["inf"] * 6),
    "PixelSpacing": ([0, 0], ["-1", "1"], ["1e308", "1e308"]),
    "SliceThickness": ("0", "-5", "1e308"),
    "SpacingBetweenSlices": ("0", "1e308", "-2.5"),
    "RescaleSlope": ("0", "1e308", "nan"),
    "RescaleIntercept": ("1e308",),
    "WindowCenter": ("nan", "1e308"),
    "PhotometricInterpretation": ("", "PALETTE COLOR", "MONOCHROME9"),
    "SOPInstanceUID": ("", "1.2.3"),
    "SeriesInstanceUID": ("",),
    "PatientID": ("", "x" * 200),
}


@dataclass(frozen=True, slots=True)
class FuzzCase:
    """A damaged copy of one corpus file; ``case_id`` reproduces it."""

    case_id: str
    path: Path


def _truncate(data: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.5:  # most damage is in the header
        return data[: rng.randrange(0, min(len(data), _HEADER_BYTES) + 1)]
    return data[: rng.randrange(0, len(data) + 1)]


def _scribble(data: bytes, rng: random.Random) -> bytes:
    damaged = bytearray(data)
    end = min(len(damaged), _HEADER_BYTES)
    for _ in range(rng.randint(1, 8)):
        if end:
            damaged[rng.randrange(end)] = rng.randrange(256)
    return bytes(damaged)


def _bad_length(data: bytes, rng: random.Random) -> bytes:
    damaged = bytearray(data)
    end = min(len(damaged), _HEADER_BYTES) - 4
    if end <= 0:
        return data
    at = rng.randrange(end)
    value = rng.choice(_LENGTHS)
    if rng.random() < 0.5:
        damaged[at : at + 2] = struct.pack("<H", value & 0xFFFF)
    else:
        damaged[at : at + 4] = struct.pack("<L", value)
    return bytes(damaged)


def _insert(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(0, min(len(data), _HEADER_BYTES) + 1)
    return data[:at] + rng.randbytes(rng.randint(1, 64)) + data[at:]


def _placed(source: str) -> pydicom.Dataset:
    """The file's data set, with a patient geometry if it had none."""
    dataset = pydicom.dcmread(source, force=True)
    if "ImageOrientationPatient" not in dataset:
        dataset.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    if "ImagePositionPatient" not in dataset:
        dataset.ImagePositionPatient = [0, 0, 0]
    if "PixelSpacing" not in dataset:
        dataset.PixelSpacing = [1, 1]
    return dataset


def _absurd_value(source: str, target: Path, rng: random.Random) -> str | None:
    """Set one header element to an absurd value; ``None`` if pydicom cannot."""
    keyword = rng.choice(sorted(_ABSURD))
    value = rng.choice(_ABSURD[keyword])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dataset = _placed(source)
            setattr(dataset, keyword, value)
            dataset.save_as(target)
    except Exception:  # a file pydicom cannot round-trip: damage its bytes instead
        return None
    return f"{keyword}={value!r}"[:60]


def _damaged_pixels(source: str, target: Path, rng: random.Random) -> str | None:
    """Scribble over or cut the pixel data of a placed copy of the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _placed(source).save_as(target)
    except Exception:  # pydicom cannot round-trip it
        return None
    data = bytearray(target.read_bytes())
    start = max(0, data.rfind(b"\xe0\x7f\x10\x00"))  # (7FE0,0010) Pixel Data
    if rng.random() < 0.5:
        cut = rng.randrange(start, len(data) + 1)
        target.write_bytes(bytes(data[:cut]))
        return "pixels cut"
    for _ in range(rng.randint(1, 16)):
        data[rng.randrange(start, len(data))] = rng.randrange(256)
    target.write_bytes(bytes(data))
    return "pixels scribbled"


_BYTE_MUTATIONS = {
    "truncate": _truncate,
    "scribble": _scribble,
    "length": _bad_length,
    "insert": _insert,
}


def make_cases(
    corpus: list[str], count: int, seed: int, folder: Path
) -> list[FuzzCase]:
    """``count`` damaged files in ``folder``, cycling through ``corpus``."""
    rng = random.Random(seed)
    cases = []
    for index in range(count):
        source = corpus[index % len(corpus)]
        target = folder / f"case{index:05d}.dcm"
        kind = rng.choice([*_BYTE_MUTATIONS, "value", "value", "pixels", "pixels"])
        detail = None
        if kind == "value":
            detail = _absurd_value(source, target, rng)
        elif kind == "pixels":
            detail = _damaged_pixels(source, target, rng)
        if detail is None:
            kind = kind if kind in _BYTE_MUTATIONS else "scribble"
            target.write_bytes(_BYTE_MUTATIONS[kind](Path(source).read_bytes(), rng))
            detail = kind
        case_id = f"seed {seed} case {index}: {Path(source).name} {detail}"
        cases.append(FuzzCase(case_id=case_id, path=target))
    return cases


def _problems(case: FuzzCase, outcome: Outcome) -> list[str]:
    path = str(case.path)
    if outcome.status in ("hang", "crash", "escaped"):
        return [f"{case.case_id}: {outcome.status} {outcome.message}"]
    problems = []
    if outcome.status == "imaging-error" and (
        "\n" in outcome.message or path not in outcome.message
    ):
        problems.append(f"{case.case_id}: message {outcome.message!r}")
    for line in outcome.rejected:
        reason = line.removeprefix(f"{path}: ")
        if not reason.strip() or "\n" in reason or len(reason) > 400:
            problems.append(f"{case.case_id}: rejected {line!r}")
    return problems


def _fuzz(corpus: list[str], count: int, seed: int, folder: Path) -> list[Outcome]:
    cases = make_cases(corpus, count, seed, folder)
    outcomes = run_cases(
        [
            Case(
                path=str(case.path),
                action="discover+load",
                decode_time_limit_s=DECODE_LIMIT_S,
            )
            for case in cases
        ],
        limit_s=CASE_LIMIT_S,
    )
    assert len(outcomes) == len(cases)
    problems = [
        p for c, o in zip(cases, outcomes, strict=True) for p in _problems(c, o)
    ]
    assert not problems, "\n".join(problems[:20])
    return outcomes


def test_fuzzed_files_give_one_line_reasons_and_never_hang(tmp_path: Path) -> None:
    outcomes = _fuzz(SMALL_CORPUS, NORMAL_CASES, seed=17, folder=tmp_path)

    statuses = {o.status for o in outcomes}
    assert statuses <= {"ok", "imaging-error"}
    # the damage reaches every stage: rejected files, volumes, failing decoders
    assert sum(bool(o.rejected) for o in outcomes) > NORMAL_CASES // 3
    assert sum(bool(o.volumes) for o in outcomes) > NORMAL_CASES // 10
    assert sum(o.status == "imaging-error" for o in outcomes) > 20


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_many_more_fuzzed_files(tmp_path: Path, seed: int) -> None:
    _fuzz(CORPUS, SLOW_CASES, seed=seed, folder=tmp_path)
