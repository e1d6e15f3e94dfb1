"""A throw-away PostgreSQL server for the tests, on 127.0.0.1 and a free port.

Debian's ``postgresql`` package (installed by ``make test`` when missing) ships
``initdb`` and ``pg_ctl`` in ``/usr/lib/postgresql/N/bin``. The server runs in a
temporary folder with ``trust`` authentication on the loopback interface only, as
the ``postgres`` system user when the tests run as root (PostgreSQL refuses to
run as root). Each test gets its own database (:meth:`PostgresServer.new_database`).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PostgresServer", "find_postgres_tools", "start_postgres"]


def find_postgres_tools() -> tuple[str, str, str] | None:
    """``initdb``, ``pg_ctl`` and ``psql``: on PATH, else Debian's newest server."""
    found: list[str] = []
    for name in ("initdb", "pg_ctl", "psql"):
        path = shutil.which(name)
        if path is None:
            candidates = sorted(
                glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_server_version
            )
            path = candidates[-1] if candidates else None
        if path is None:
            return None
        found.append(path)
    return found[0], found[1], found[2]


def _server_version(path: str) -> int:
    version = Path(path).parts[-3]  # /usr/lib/postgresql/15/bin/initdb
    return int(version) if version.isdigit() else 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    """A running server: its port, tools and folder."""

    port: int
    folder: Path
    psql_path: str
    pg_ctl_path: str
    as_user: tuple[str, ...]
    _databases: int = 0

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` as ``user`` (psycopg driver)."""
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def psql(
        self, sql: str, *, database: str = "postgres", user: str = "postgres"
    ) -> subprocess.CompletedProcess[str]:
        """Run ``sql`` through ``psql``; the result holds its output and errors."""
        return subprocess.run(
            [
                self.psql_path,
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                user,
                "-d",
                database,
                "-X",
                "-q",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
            ],
            input=sql,
            capture_output=True,
            text=True,
            check=False,
        )

    def new_database(self) -> str:
        """Create an empty database; return its name."""
        self._databases += 1
        name = f"test_{os.getpid()}_{self._databases}"
        created = self.psql(f"CREATE DATABASE {name};")
        if created.returncode != 0:
            raise RuntimeError(f"cannot create database {name}: {created.stderr}")
        return name

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        subprocess.run(
            [
                *self.as_user,
                self.pg_ctl_path,
                "-D",
                str(self.folder / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> PostgresServer | str:
    """Start a server; return it, or why it cannot be started (a skip reason)."""
    tools = find_postgres_tools()
    if tools is None:
        return (
            "PostgreSQL server binaries (initdb, pg_ctl, psql) are not installed; "
            "`make test` installs Debian's postgresql package when it can"
        )
    initdb, pg_ctl, psql = tools
    as_user: tuple[str, ...] = ()
    folder = Path(tempfile.mkdtemp(prefix="recist-pg-"))
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "PostgreSQL refuses to run as root and runuser is missing"
        try:
            shutil.chown(folder, "postgres")
        except (LookupError, OSError):
            return "PostgreSQL refuses to run as root and there is no postgres user"
        as_user = ("runuser", "-u", "postgres", "--")
    port = _free_port()
    data = folder / "data"
    commands = [
        [
            *as_user,
            initdb,
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale",
            "C",
        ],
        [
            *as_user,
            pg_ctl,
            "-D",
            str(data),
            "-w",
            "-l",
            str(folder / "log"),
            "-o",
            f"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -F",
            "start",
        ],
    ]
    for arguments in commands:
        started = subprocess.run(arguments, capture_output=True, text=True)
        if started.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            return f"cannot start a PostgreSQL server: {started.stderr.strip()}"
    return PostgresServer(
        port=port, folder=folder, psql_path=psql, pg_ctl_path=pg_ctl, as_user=as_user
    )
