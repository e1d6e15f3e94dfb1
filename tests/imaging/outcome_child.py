"""Run discovery and loading on files in a child process, one JSON line per case.

A decoder that aborts the process or loops for ever must not take the test run
down with it, and must still fail the one case it broke. :func:`run_cases` starts
``python -m tests.imaging.outcome_child`` with the cases on stdin, reads one
outcome per case as it finishes and, when a case takes longer than its limit or
the child dies, records that case as ``hang`` or ``crash`` and restarts the child
with the cases left.

An outcome is a dict: ``status`` is ``ok`` (nothing raised), ``imaging-error``
(an :class:`~recist_app.imaging.errors.ImagingError` was raised; ``message`` is its
text), ``escaped`` (anything else; ``message`` is ``Type: text``), ``hang`` or
``crash``. ``rejected`` lists discovery's one-line reasons and ``volumes`` the
slice counts of what was found or loaded.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class Case:
    """One file or folder and what to do with it."""

    path: str
    action: str = "discover+load"  # discover, load, discover+load, load-cancel
    cancel_after_s: float = 0.5
    decode_time_limit_s: float = 5.0


@dataclass(slots=True)
class Outcome:
    """What happened to one case (see the module docstring)."""

    status: str
    message: str = ""
    rejected: list[str] = field(default_factory=list)
    volumes: list[int] = field(default_factory=list)
    seconds: float = 0.0


def _describe(error: BaseException) -> str:
    return f"{type(error).__module__}.{type(error).__qualname__}: {error}"


def _run_one(case: Case) -> dict[str, Any]:
    from recist_app.imaging import CancelToken, ImagingError, discover, load_volume

    limit: dict[str, Any] = {}
    if "decode_time_limit_s" in inspect.signature(load_volume).parameters:
        limit["decode_time_limit_s"] = case.decode_time_limit_s
    start = time.perf_counter()
    result: dict[str, Any] = {"status": "ok", "rejected": [], "volumes": []}
    try:
        if "discover" in case.action:
            found = discover(case.path)
            result["rejected"] = [str(item) for item in found.rejected]
            result["volumes"] = [v.slice_count for v in found.volumes]
            if "load" in case.action:
                for info in found.volumes:
                    load_volume(info, **limit)
        elif case.action == "load":
            volume = load_volume(case.path, **limit)
            result["volumes"] = [volume.slice_count]
        elif case.action == "load-cancel":
            token = CancelToken()
            threading.Timer(case.cancel_after_s, token.cancel).start()
            load_volume(case.path, cancel=token, **limit)
        else:
            raise ValueError(f"unknown action {case.action!r}")
    except ImagingError as error:
        result.update(status="imaging-error", message=str(error))
    except BaseException as error:  # the point is to see everything
        result.update(status="escaped", message=_describe(error))
    result["seconds"] = time.perf_counter() - start
    return result


def _child_main() -> None:
    import warnings

    warnings.simplefilter("ignore")
    for line in sys.stdin:
        outcome = _run_one(Case(**json.loads(line)))
        sys.stdout.write(json.dumps(outcome) + "\n")
        sys.stdout.flush()


def run_cases(cases: list[Case], *, limit_s: float) -> list[Outcome]:
    """Run ``cases`` in child processes; each gets ``limit_s`` seconds at most.

    The first case of each child also gets the child's start-up time.
    """
    outcomes: list[Outcome] = []
    remaining = list(cases)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    while remaining:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.imaging.outcome_child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=env,
        )
        assert child.stdin is not None
        assert child.stdout is not None
        for case in remaining:
            child.stdin.write(json.dumps(dataclasses.asdict(case)) + "\n")
        child.stdin.close()
        selector = selectors.DefaultSelector()
        selector.register(child.stdout, selectors.EVENT_READ)
        first = True
        while remaining:
            wait = limit_s + (30.0 if first else 0.0)
            first = False
            if not selector.select(timeout=wait):
                child.kill()
                child.wait()
                outcomes.append(Outcome(status="hang", seconds=wait))
                remaining.pop(0)
                break
            line = child.stdout.readline()
            if not line:
                code = child.wait()
                outcomes.append(Outcome(status="crash", message=f"exit status {code}"))
                remaining.pop(0)
                break
            outcomes.append(Outcome(**json.loads(line)))
            remaining.pop(0)
        selector.close()
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()
    return outcomes


if __name__ == "__main__":
    _child_main()
