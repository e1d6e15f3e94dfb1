"""Run discovery and loading on files in a child process, one JSON line per case.

A decoder that aborts the process or loops for ever must not take the test run
down with it, and must still fail the one case it broke. :func:`run_cases` writes
the cases to a file, starts ``python -m tests.imaging.outcome_child CASES`` and
reads one outcome per case as it finishes; when a case takes longer than its
limit or the child dies, it records that case as ``hang`` or ``crash`` and
restarts the child with the cases left.

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
import tempfile
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
    for line in Path(sys.argv[1]).read_text(encoding="utf-8").splitlines():
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
    with tempfile.TemporaryDirectory() as folder:
        cases_file = Path(folder) / "cases.jsonl"
        while remaining:
            # a file, not stdin: a pipe would fill up both ways and deadlock
            cases_file.write_text(
                "".join(json.dumps(dataclasses.asdict(c)) + "\n" for c in remaining),
                encoding="utf-8",
            )
            _run_child(cases_file, remaining, outcomes, limit_s, env)
    return outcomes


def _run_child(
    cases_file: Path,
    remaining: list[Case],
    outcomes: list[Outcome],
    limit_s: float,
    env: dict[str, str],
) -> None:
    """Run the cases left in one child until they are done or it hangs or dies."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.imaging.outcome_child", str(cases_file)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env=env,
    )
    assert child.stdout is not None
    lines = _Lines(child.stdout.fileno())
    try:
        first = True
        while remaining:
            wait = limit_s + (30.0 if first else 0.0)
            first = False
            line = lines.next(wait)
            if line is None:
                outcomes.append(Outcome(status="hang", seconds=wait))
                remaining.pop(0)
                break
            if not line:
                code = child.wait()
                outcomes.append(Outcome(status="crash", message=f"exit status {code}"))
                remaining.pop(0)
                break
            outcomes.append(Outcome(**json.loads(line)))
            remaining.pop(0)
    finally:
        lines.close()
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()


class _Lines:
    """Lines from a pipe with a time limit (no buffered reader hiding lines)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""
        self.selector = selectors.DefaultSelector()
        self.selector.register(fd, selectors.EVENT_READ)

    def next(self, timeout_s: float) -> str | None:
        """The next line; ``""`` at the end of the pipe, ``None`` after the limit."""
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self.selector.select(left):
                return None
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return ""
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode("utf-8")

    def close(self) -> None:
        self.selector.close()


if __name__ == "__main__":
    _child_main()
