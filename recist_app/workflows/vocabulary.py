"""The words every command and app action shares: criteria, user, the key.

One parser for the criteria set (the CLI's ``--criteria`` options, the app's
menus and the files all spell it through :func:`parse_criteria`), and one answer
to "who is doing this" for the audit trail (:func:`current_user`).
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from recist_app.environment import (
    CONFIG_DIR_ENV,
    DEID_KEY_ENV,
    READER_ROLE_ENV,
    USER_ENV,
)
from recist_app.recist import Criteria, ReaderRole
from recist_app.workflows.errors import WorkflowError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "ALL_CRITERIA",
    "CRITERIA_SPELLINGS",
    "DEID_KEY_ENV",
    "READER_ROLES",
    "READER_ROLE_ENV",
    "USER_ENV",
    "config_folder",
    "current_role",
    "current_user",
    "parse_criteria",
    "parse_criteria_choice",
    "parse_reader_role",
    "remember_reader",
    "remembered_reader",
]

READER_ROLES: tuple[ReaderRole, ...] = tuple(ReaderRole)
"""``single``, ``reader 1``, ``reader 2``, ``adjudicator``, in this order."""

_READER_FILE = "reader.txt"

ALL_CRITERIA: tuple[Criteria, ...] = tuple(Criteria)
"""RECIST 1.1, iRECIST and mRECIST, in this order."""

CRITERIA_SPELLINGS: dict[str, Criteria] = {
    "recist 1.1": Criteria.RECIST_1_1,
    "recist1.1": Criteria.RECIST_1_1,
    "recist-1.1": Criteria.RECIST_1_1,
    "recist": Criteria.RECIST_1_1,
    "irecist": Criteria.IRECIST,
    "mrecist": Criteria.MRECIST,
}
"""The documented spellings (compared without case and outer spaces)."""


def parse_criteria(text: str | Criteria) -> Criteria:
    """The criteria set ``text`` names, in any documented spelling.

    >>> parse_criteria("recist").value
    'RECIST 1.1'
    >>> parse_criteria(" iRECIST ").value
    'iRECIST'

    Raises
    ------
    WorkflowError
        ``text`` names no criteria set; the message lists the spellings.
    """
    if isinstance(text, Criteria):
        return text
    found = CRITERIA_SPELLINGS.get(" ".join(str(text).split()).lower())
    if found is None:
        raise WorkflowError(
            f"unknown criteria {text!r} (choose 'RECIST 1.1' or recist, iRECIST "
            "or irecist, mRECIST or mrecist)"
        )
    return found


def parse_criteria_choice(text: str) -> tuple[Criteria, ...] | None:
    """A criteria choice of ``evaluate`` and ``export``: one set, ``all`` or ``file``.

    Returns ``None`` for ``file`` (the reading's own criteria) and every criteria
    set for ``all``.

    >>> parse_criteria_choice("file") is None
    True
    >>> [c.value for c in parse_criteria_choice("all")]
    ['RECIST 1.1', 'iRECIST', 'mRECIST']
    """
    word = " ".join(str(text).split()).lower()
    if word == "file":
        return None
    if word == "all":
        return ALL_CRITERIA
    return (parse_criteria(text),)


def config_folder(environ: Mapping[str, str] | None = None) -> Path:
    """Where remembered settings live: ``$RECIST_APP_CONFIG_DIR`` or platformdirs."""
    environ = os.environ if environ is None else environ
    chosen = environ.get(CONFIG_DIR_ENV, "").strip()
    return Path(chosen) if chosen else Path(platformdirs.user_config_dir("recist-app"))


def remembered_reader(environ: Mapping[str, str] | None = None) -> str:
    """The reader identity set once in the app (``""`` when none was set)."""
    path = config_folder(environ) / _READER_FILE
    try:
        return " ".join(path.read_text(encoding="utf-8").split())
    except (OSError, UnicodeDecodeError):
        return ""


def remember_reader(name: str, environ: Mapping[str, str] | None = None) -> str:
    """Remember ``name`` as the reader identity (user config folder); return it.

    Raises
    ------
    WorkflowError
        An empty name, or the config folder cannot be written.
    """
    cleaned = " ".join(name.split())
    folder = config_folder(environ)
    if not cleaned:
        raise WorkflowError(
            f"reader identity ({folder / _READER_FILE}): a name is required"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / _READER_FILE).write_text(cleaned + "\n", encoding="utf-8")
    except OSError as error:
        raise WorkflowError(
            f"reader identity ({folder / _READER_FILE}): cannot write it: "
            f"{error.strerror or error}"
        ) from None
    return cleaned


def current_user(environ: Mapping[str, str] | None = None) -> str:
    """Who is working: ``$RECIST_APP_USER``, the remembered reader, else the login.

    The reader identity remembered in the app (:func:`remember_reader`) comes
    before the login name; ``unknown`` when there is none.

    The CLI's ``--user`` default and the app's reader identity both come from here,
    so the audit trail names the same person either way.
    """
    environ = os.environ if environ is None else environ
    chosen = environ.get(USER_ENV, "").strip()
    if chosen:
        return chosen
    remembered = remembered_reader(environ)
    if remembered:
        return remembered
    try:
        login = getpass.getuser().strip()
    except (KeyError, OSError):
        login = ""
    return login or "unknown"


def parse_reader_role(text: str | ReaderRole) -> ReaderRole:
    """The reading role ``text`` names: ``reader 1``, ``reader 2``, ``adjudicator``….

    Spaces, case, ``_`` and ``-`` do not matter: ``reader1``, ``READER_2`` and
    ``Reader-1`` are understood.

    >>> parse_reader_role("Reader_1").value
    'reader 1'

    Raises
    ------
    WorkflowError
        ``text`` names no role; the message lists them.
    """
    if isinstance(text, ReaderRole):
        return text
    word = "".join(str(text).replace("_", " ").replace("-", " ").split()).lower()
    for role in ReaderRole:
        if role.value.replace(" ", "") == word:
            return role
    raise WorkflowError(
        f"unknown reader role {text!r} (choose 'reader 1', 'reader 2', "
        "'adjudicator' or 'single')"
    )


def current_role(environ: Mapping[str, str] | None = None) -> ReaderRole:
    """Who works in a central review: ``$RECIST_APP_READER_ROLE``, else ``single``.

    The CLI's ``--role`` default; the app asks and remembers it, and shows it in
    the title bar beside the reader identity.

    Raises
    ------
    WorkflowError
        The variable names no role.
    """
    environ = os.environ if environ is None else environ
    chosen = environ.get(READER_ROLE_ENV, "").strip()
    return parse_reader_role(chosen) if chosen else ReaderRole.SINGLE
