"""One error boundary: every error the project raises is one line and exit 2.

Each layer keeps its errors in its own ``errors.py`` with one base error; the
command line's ``main`` turns any of them (and any subclass) into
``recist-app: error: <one line>`` on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import TYPE_CHECKING

import pytest

import recist_app
from recist_app.cli import main
from recist_app.cli.errors import CliError
from recist_app.workflows.errors import project_error_types

if TYPE_CHECKING:
    import argparse

LAYERS = ("recist", "imaging", "store", "exchange", "endpoints", "workflows")


def _all_modules() -> list[str]:
    return [
        info.name
        for info in pkgutil.walk_packages(recist_app.__path__, "recist_app.")
        if ".migrations" not in info.name
    ]


def _project_exceptions() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _all_modules():
        module = importlib.import_module(name)
        for _attribute, value in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(value, Exception)
                and value.__module__.startswith("recist_app.")
                and not value.__name__.startswith("_")
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[key] for key in sorted(found)]


def test_every_error_class_lives_in_its_layers_errors_module() -> None:
    misplaced = [
        f"{error.__module__}.{error.__qualname__}"
        for error in _project_exceptions()
        if not error.__module__.endswith(".errors")
    ]
    assert misplaced == []


def test_every_layer_has_one_base_error() -> None:
    bases = project_error_types()
    for layer in LAYERS:
        errors = importlib.import_module(f"recist_app.{layer}.errors")
        classes = [
            value
            for _name, value in inspect.getmembers(errors, inspect.isclass)
            if issubclass(value, Exception) and value.__module__ == errors.__name__
        ]
        roots = [
            cls for cls in classes if not any(b in classes for b in cls.__mro__[1:])
        ]
        assert len(roots) == 1, (layer, roots)
        assert roots[0] in bases, layer


@pytest.mark.parametrize(
    "error",
    [
        e
        for e in _project_exceptions()
        if e.__module__.split(".")[1] in (*LAYERS, "cli")
    ],
    ids=lambda e: e.__qualname__,
)
def test_any_project_error_is_one_line_and_exit_2(
    error: type[Exception],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def failing(_args: argparse.Namespace) -> int:
        raise error("patient P1: visit WEEK 6:\n  lesion T01 is wrong")

    monkeypatch.setattr("recist_app.cli.evaluate._run", failing)
    assert main(["evaluate", "reading.json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "recist-app: error: patient P1: visit WEEK 6: lesion T01 is wrong\n"
    )


def test_a_missing_file_is_one_line_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "no/such/reading.json"]) == 2
    assert capsys.readouterr().err == (
        "recist-app: error: no/such/reading.json: no such file\n"
    )


def test_a_bug_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def buggy(_args: argparse.Namespace) -> int:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("recist_app.cli.evaluate._run", buggy)
    with pytest.raises(ZeroDivisionError):
        main(["evaluate", "reading.json"])


def test_cli_errors_are_project_errors_of_the_command_line() -> None:
    assert not issubclass(CliError, project_error_types())
