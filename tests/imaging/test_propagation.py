"""Points carried from the baseline to moved follow-ups (known pose = truth).

The phantom's follow-ups are drawn with a :class:`PatientPose`: a roll of a few
degrees, a table shift of centimetres and a breathing shift of the liver, spleen
and lungs that the nodes beside the aorta do not follow. Every lesion's centre
at the follow-up is therefore known exactly; the predicted centre must be
within 3 mm of it (or one slice).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from recist_app.cli.main import main
from recist_app.imaging import LESIONS, SeriesGeometry, write_phantom_series
from recist_app.imaging.phantom import LesionTruth
from recist_app.imaging.phantom_cases import HARD_LESIONS, PhantomLesion, phantom_volume
from recist_app.imaging.phantom_pose import DEMO_POSES, IDENTITY_POSE, PatientPose
from recist_app.imaging.registration import (
    SeriesRegistration,
    locate_point,
    propagate_point,
    register_series,
)
from recist_app.imaging.volume import ImageVolume

GEOMETRY = SeriesGeometry(
    rows=192,
    columns=192,
    slice_count=56,
    pixel_spacing_mm=(2.0, 2.0),
    slice_spacing_mm=4.0,
    center_lps_mm=(0.0, 0.0, -20.0),
)
TOLERANCE_MM = max(3.0, GEOMETRY.slice_spacing_mm)

BREATHING_ONLY = PatientPose(breathing_mm=10.0)
"""A deeper breath: the liver and lungs 1 cm lower, spine and nodes still."""

POSES = {"rolled, shifted, breathing": DEMO_POSES[1], "breathing": BREATHING_ONLY}

Phantom = tuple[ImageVolume, tuple[PhantomLesion, ...]]
Studies = tuple[Path, Path, tuple[tuple[LesionTruth, ...], tuple[LesionTruth, ...]]]


def _phantom(pose: PatientPose, visit: int, seed: int) -> Phantom:
    specs = [s for s in LESIONS + HARD_LESIONS if s.sizes_mm[0] is not None]
    return phantom_volume(
        GEOMETRY, lesions=specs, visit=visit, seed=seed, pose=pose, noise_hu=10.0
    )


@pytest.fixture(scope="module")
def baseline() -> Phantom:
    return _phantom(IDENTITY_POSE, 0, 1)


@pytest.fixture(scope="module", params=list(POSES))
def moved(
    request: pytest.FixtureRequest, baseline: Phantom
) -> tuple[SeriesRegistration, Phantom]:
    follow_up = _phantom(POSES[request.param], 0, 2)
    return register_series(baseline[0], follow_up[0]), follow_up


def _errors(
    registration: SeriesRegistration,
    baseline: Phantom,
    follow_up: Phantom,
    *,
    local: bool,
) -> dict[str, float]:
    truth = {t.lesion_id: t.center_lps_mm for t in follow_up[1]}
    return {
        t.lesion_id: math.dist(
            propagate_point(registration, t.center_lps_mm, local=local),
            truth[t.lesion_id],
        )
        for t in baseline[1]
        if t.lesion_id in truth
    }


@pytest.mark.slow
def test_every_lesion_centre_is_found_within_3_mm_or_one_slice(
    baseline: Phantom, moved: tuple[SeriesRegistration, Phantom]
) -> None:
    registration, follow_up = moved
    errors = _errors(registration, baseline, follow_up, local=True)
    assert len(errors) == len(LESIONS) - 1 + len(HARD_LESIONS)
    assert max(errors.values()) <= TOLERANCE_MM, errors
    assert float(np.median(list(errors.values()))) <= 1.5, errors


@pytest.mark.slow
def test_the_para_aortic_node_needs_the_local_step_the_global_transform_misses_it(
    baseline: Phantom, moved: tuple[SeriesRegistration, Phantom]
) -> None:
    """The global transform follows the breathing organs, the node stays put."""
    registration, follow_up = moved
    coarse = _errors(registration, baseline, follow_up, local=False)
    local = _errors(registration, baseline, follow_up, local=True)
    for node in ("T02", "H06"):
        assert coarse[node] > 5.0  # the failure this step fixes is real here
        assert local[node] <= 3.0


@pytest.mark.slow
@pytest.mark.parametrize("visit", [1, 3])
def test_still_anatomy_is_block_matched_and_shrunk_lesions_are_centred(
    baseline: Phantom, visit: int
) -> None:
    """Week 8: T01 42 -> 30 mm, T02 25 -> 17; week 24: T02 14 mm (the match
    lands beside it, the lesion is looked for nearby)."""
    pose = DEMO_POSES[visit]
    follow_up = _phantom(pose, visit, 3)
    registration = register_series(baseline[0], follow_up[0])
    vertebra = (0.0, 70.0, -40.0)  # the spine does not breathe
    match = locate_point(registration, vertebra)
    assert match.method.startswith("affine registration + block match")
    assert math.dist(match.point_lps_mm, pose.apply(vertebra)) <= 3.0
    truth = {t.lesion_id: t.center_lps_mm for t in follow_up[1]}
    for lesion in baseline[1]:
        if lesion.lesion_id in ("T01", "T02", "T03"):
            found = locate_point(registration, lesion.center_lps_mm)
            assert found.method.endswith("lesion centre")
            assert math.dist(found.point_lps_mm, truth[lesion.lesion_id]) <= 3.0


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> Studies:
    root = tmp_path_factory.mktemp("propagate")
    geometry = SeriesGeometry(
        rows=160,
        columns=160,
        slice_count=36,
        pixel_spacing_mm=(2.2, 2.2),
        slice_spacing_mm=5.0,
        center_lps_mm=(0.0, 0.0, -30.0),
    )
    first = write_phantom_series(
        root / "baseline", geometry=geometry, lesions=LESIONS[:3], seed=1
    )
    second = write_phantom_series(
        root / "week8",
        geometry=geometry,
        lesions=LESIONS[:3],
        seed=2,
        pose=DEMO_POSES[3],
    )
    return Path(first.folder), Path(second.folder), (first.lesions, second.lesions)


@pytest.mark.slow
def test_cli_propagate_prints_the_point_as_json(
    studies: Studies, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, (before, after) = studies
    node = next(t for t in before if t.lesion_id == "T02")
    truth = next(t for t in after if t.lesion_id == "T02").center_lps_mm
    x, y, z = node.center_lps_mm
    argv = ["propagate", str(first), str(second), f"--at={x},{y},{z}"]
    assert main([*argv, "--format", "json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert set(answer) == {"point_lps_mm", "method"}
    assert math.dist(answer["point_lps_mm"], truth) <= 3.0
    assert answer["method"].startswith("affine registration + block match")


@pytest.mark.slow
def test_cli_propagate_measure_finds_and_measures_the_node_as_enter_does(
    studies: Studies, capsys: pytest.CaptureFixture[str]
) -> None:
    """``propagate --measure``: the workstation's Enter at a follow-up, headless."""
    first, second, (before, after) = studies
    node = next(t for t in before if t.lesion_id == "T02")
    then = next(t for t in after if t.lesion_id == "T02")
    x, y, z = node.center_lps_mm
    argv = ["propagate", str(first), str(second), f"--at={x},{y},{z}"]
    assert main([*argv, "--measure", "--lymph-node", "--format", "json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert set(answer) == {"point_lps_mm", "method", "measurement"}
    assert math.dist(answer["point_lps_mm"], then.center_lps_mm) <= 3.0
    measured = answer["measurement"]
    assert measured["short_axis_mm"] == pytest.approx(then.short_axis_mm, abs=2.2)
    assert main([*argv, "--measure"]) == 0
    assert "long axis" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("at", "expected"),
    [("1,2", "expected X,Y,Z"), ("a,b,c", "expected X,Y,Z")],
)
def test_cli_propagate_bad_point_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], at: str, expected: str
) -> None:
    assert main(["propagate", str(tmp_path), str(tmp_path), "--at", at]) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert err.strip().count("\n") == 0


def test_cli_propagate_missing_folder_and_empty_folder_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["propagate", str(tmp_path / "none"), str(tmp_path), "--at", "1,2,3"]) == 2
    )
    err = capsys.readouterr().err
    assert "no such folder" in err
    assert err.strip().count("\n") == 0
    (tmp_path / "empty").mkdir()
    assert (
        main(["propagate", str(tmp_path / "empty"), str(tmp_path), "--at=-1,2,-3"]) == 2
    )
    err = capsys.readouterr().err
    assert "no image series found" in err
    assert err.strip().count("\n") == 0
