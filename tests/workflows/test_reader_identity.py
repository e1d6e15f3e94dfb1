"""The reader identity: set once (CLI or app), remembered, used by both."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from recist_app.cli.main import main
from recist_app.workflows.errors import WorkflowError
from recist_app.workflows.vocabulary import (
    current_user,
    remember_reader,
    remembered_reader,
)

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("environment", "remembered", "expected"),
    [
        ({"RECIST_APP_USER": "dr-env"}, "Dr Set", "dr-env"),
        ({}, "Dr Set", "Dr Set"),
    ],
    ids=["environment_wins", "remembered_before_login"],
)
def test_current_user_prefers_the_environment_then_the_remembered_reader(
    tmp_path: Path, environment: dict[str, str], remembered: str, expected: str
) -> None:
    environ = {"RECIST_APP_CONFIG_DIR": str(tmp_path), **environment}
    remember_reader(remembered, environ)
    assert remembered_reader(environ) == "Dr Set"
    assert current_user(environ) == expected


def test_an_empty_reader_name_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(WorkflowError, match=r"reader identity .*: a name is required"):
        remember_reader("   ", {"RECIST_APP_CONFIG_DIR": str(tmp_path)})


def test_cli_reader_sets_and_shows_the_identity(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RECIST_APP_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("RECIST_APP_USER", raising=False)
    assert main(["reader", "--set", "Dr  Ada Reader"]) == 0
    assert capsys.readouterr().out == "Dr Ada Reader\n"
    assert main(["reader"]) == 0
    assert capsys.readouterr().out == "Dr Ada Reader\n"
    assert main(["reader", "--set", " "]) == 2
    assert "a name is required" in capsys.readouterr().err
