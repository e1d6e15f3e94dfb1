"""Which PACS servers the workstation talks to: the settings file and server URLs.

A server is given either by its name in the settings file or by a URL on the
command line:

- DICOMweb: ``http(s)://[user[:password]@]host[:port]/path`` — the service's base
  URL (``…/dicom-web`` on Orthanc), with optional HTTP basic credentials;
- DIMSE: ``dimse://CALLED_AE_TITLE@host[:port]`` (port 104 when not given), where
  our own (calling) AE title is ``RECISTAPP`` unless configured otherwise.

The settings file is TOML, ``pacs.toml`` in the user config folder (or the file
named by ``$RECIST_APP_PACS_SETTINGS``)::

    calling_ae_title = "RECISTAPP"       # our AE title for DIMSE
    download_folder = "~/recist-pacs"    # where retrieved images are kept
    timeout_s = 30

    [servers.orthanc]
    url = "https://pacs.example.org/dicom-web"
    username = "reader"
    password_env = "PACS_PASSWORD"       # or password = "…"
    ca_file = "/etc/ssl/certs/site-ca.pem"

    [servers.orthanc-dimse]
    url = "dimse://ORTHANC@pacs.example.org:4242"

    [servers.vna]
    url = "https://vna.example.org/dicomweb"
    token_env = "VNA_TOKEN"              # bearer token; or token = "…"

Every problem is one line naming the file, the server and the key.
"""

from __future__ import annotations

import enum
import os
import re
import tomllib
import urllib.parse
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recist_app.environment import PACS_SETTINGS_ENV
from recist_app.pacs.errors import PacsSettingsError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "DEFAULT_CALLING_AE_TITLE",
    "DEFAULT_TIMEOUT_S",
    "PacsProtocol",
    "PacsServer",
    "PacsSettings",
    "check_ae_title",
    "default_settings_path",
    "load_settings",
    "parse_server_url",
]

DEFAULT_CALLING_AE_TITLE = "RECISTAPP"
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_DIMSE_PORT = 104
_SETTINGS_NAME = "pacs.toml"
_TOP_KEYS = frozenset({"calling_ae_title", "download_folder", "timeout_s", "servers"})
_SERVER_KEYS = frozenset(
    {
        "url",
        "username",
        "password",
        "password_env",
        "token",
        "token_env",
        "ca_file",
        "calling_ae_title",
        "timeout_s",
    }
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class PacsProtocol(enum.StrEnum):
    """How the workstation talks to a server."""

    DICOMWEB = "DICOMweb"
    DIMSE = "DIMSE"


def check_ae_title(title: str, what: str) -> str:
    """``title`` if it is a valid AE title (1–16 ASCII characters), else raise.

    >>> check_ae_title("RECISTAPP", "calling AE title")
    'RECISTAPP'

    Raises
    ------
    ValueError
        Empty, longer than 16 characters, or with a backslash or control character.
    """
    text = title.strip()
    if not text:
        raise ValueError(f"{what} is empty")
    if len(text) > 16:
        raise ValueError(f"{what} {text!r} is longer than 16 characters")
    if "\\" in text or any(not char.isprintable() or ord(char) > 126 for char in text):
        raise ValueError(f"{what} {text!r} may hold only printable ASCII, no '\\'")
    return text


@dataclass(frozen=True, slots=True, kw_only=True)
class PacsServer:
    """One PACS server: where it is, how to authenticate, who we are.

    Parameters
    ----------
    url
        DICOMweb base URL (``http(s)://host:port/path``, no credentials) or
        ``dimse://CALLED_AE_TITLE@host:port``.
    name
        Its name in the settings file ("" when given as a URL).
    calling_ae_title
        Our own AE title (DIMSE).
    username, password
        HTTP basic authentication (DICOMweb).
    token
        A bearer token (DICOMweb), instead of a user name.
    ca_file
        The certificate authorities to trust for ``https`` (default: the system's).
    timeout_s
        How long to wait for the server to connect or answer.
    """

    url: str
    name: str = ""
    calling_ae_title: str = DEFAULT_CALLING_AE_TITLE
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https", "dimse"):
            raise ValueError(
                f"url {self.url!r}: expected http(s)://host/path or "
                "dimse://AE_TITLE@host:port"
            )
        if not parts.hostname:
            raise ValueError(f"url {self.url!r}: no host")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"url {self.url!r}: the port is not a number") from None
        if port == 0:
            raise ValueError(f"url {self.url!r}: port 0")
        check_ae_title(self.calling_ae_title, "calling_ae_title")
        if parts.scheme == "dimse":
            self._check_dimse(parts)
        elif parts.username or parts.password:
            raise ValueError(
                "url: give the credentials as username and password, not in the URL"
            )
        self._check_credentials(parts.scheme)
        if not 0 < self.timeout_s <= 3600:
            raise ValueError(f"timeout_s {self.timeout_s} must be within (0, 3600]")

    def _check_dimse(self, parts: urllib.parse.SplitResult) -> None:
        if not parts.username:
            raise ValueError(
                f"url {self.url!r}: the called AE title is missing "
                "(dimse://AE_TITLE@host:port)"
            )
        check_ae_title(urllib.parse.unquote(parts.username), "called AE title")
        if self.username or self.password or self.token or self.ca_file:
            raise ValueError(
                "username, password, token and ca_file are for DICOMweb "
                "servers, not DIMSE"
            )

    def _check_credentials(self, scheme: str) -> None:
        if self.password is not None and self.username is None:
            raise ValueError("password without username")
        if self.username is not None and self.password is None:
            raise ValueError(f"username {self.username!r} without a password")
        if self.token is not None and self.username is not None:
            raise ValueError("give either username and password or a token, not both")
        if self.ca_file is not None and scheme != "https":
            raise ValueError("ca_file is for https:// servers")

    @property
    def protocol(self) -> PacsProtocol:
        """DICOMweb or DIMSE."""
        if self.url.startswith("dimse://"):
            return PacsProtocol.DIMSE
        return PacsProtocol.DICOMWEB

    @property
    def label(self) -> str:
        """How messages name the server: its name and URL (never credentials)."""
        return f"{self.name} ({self.url})" if self.name else self.url

    @property
    def host(self) -> str:
        """The server's host name or address."""
        return urllib.parse.urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        """The server's TCP port (the scheme's default when the URL has none)."""
        parts = urllib.parse.urlsplit(self.url)
        if parts.port is not None:
            return parts.port
        return {"http": 80, "https": 443}.get(parts.scheme, DEFAULT_DIMSE_PORT)

    @property
    def called_ae_title(self) -> str:
        """The server's AE title (DIMSE; "" for DICOMweb)."""
        if self.protocol is not PacsProtocol.DIMSE:
            return ""
        return urllib.parse.unquote(urllib.parse.urlsplit(self.url).username or "")


def parse_server_url(
    text: str,
    *,
    name: str = "",
    calling_ae_title: str = DEFAULT_CALLING_AE_TITLE,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> PacsServer:
    """A server from its URL; DICOMweb credentials may be in the URL.

    >>> parse_server_url("dimse://ORTHANC@127.0.0.1:4242").called_ae_title
    'ORTHANC'
    >>> parse_server_url("http://reader:secret@pacs:8042/dicom-web/").label
    'http://pacs:8042/dicom-web'

    Raises
    ------
    PacsSettingsError
        Not a DICOMweb or DIMSE URL, or an invalid part (one line naming it).
    """
    raw = text.strip()
    parts = urllib.parse.urlsplit(raw)
    username = password = None
    if parts.scheme in ("http", "https") and (parts.username or parts.password):
        username = urllib.parse.unquote(parts.username or "")
        password = urllib.parse.unquote(parts.password or "")
        netloc = parts.hostname or ""
        if ":" in netloc:
            netloc = f"[{netloc}]"  # an IPv6 address
        if parts.port is not None:
            netloc += f":{parts.port}"
        parts = parts._replace(netloc=netloc)
    if parts.scheme in ("http", "https"):
        parts = parts._replace(path=parts.path.rstrip("/"), fragment="")
    shown = name or urllib.parse.urlunsplit(parts)
    try:
        return PacsServer(
            url=urllib.parse.urlunsplit(parts),
            name=name,
            calling_ae_title=calling_ae_title,
            username=username,
            password=password,
            timeout_s=timeout_s,
        )
    except ValueError as error:
        raise PacsSettingsError(f"PACS server {shown}: {error}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class PacsSettings:
    """The configured servers and our own settings (the settings file).

    Parameters
    ----------
    servers
        The named servers, in the file's order.
    calling_ae_title
        Our AE title for servers given as a URL (and those without their own).
    download_folder
        Where retrieved images are kept (``None``: the default).
    timeout_s
        The default time to wait for a server.
    source
        The file read, if any.
    """

    servers: tuple[PacsServer, ...] = ()
    calling_ae_title: str = DEFAULT_CALLING_AE_TITLE
    download_folder: Path | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    source: Path | None = None

    def __post_init__(self) -> None:
        check_ae_title(self.calling_ae_title, "calling_ae_title")
        names = [server.name for server in self.servers]
        if len(set(names)) != len(names):
            raise ValueError("two servers share a name")

    def server(self, text: str, *, calling_ae_title: str | None = None) -> PacsServer:
        """The server named ``text`` in the settings, or the server at URL ``text``.

        ``calling_ae_title`` replaces our AE title (the command line's option).

        Raises
        ------
        PacsSettingsError
            Neither a configured name nor a server URL.
        """
        wanted = text.strip()
        for server in self.servers:
            if server.name == wanted:
                if calling_ae_title is None:
                    return server
                try:
                    return replace(server, calling_ae_title=calling_ae_title)
                except ValueError as error:
                    raise PacsSettingsError(
                        f"PACS server {server.label}: {error}"
                    ) from None
        if "://" not in wanted:
            known = ", ".join(server.name for server in self.servers) or "none"
            where = self.source or "the settings file"
            raise PacsSettingsError(
                f"PACS server {wanted!r} is not in {where} (configured: {known}); "
                "give its name or a URL: http(s)://host/dicom-web or "
                "dimse://AE_TITLE@host:port"
            )
        return parse_server_url(
            wanted,
            calling_ae_title=calling_ae_title or self.calling_ae_title,
            timeout_s=self.timeout_s,
        )


def default_settings_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$RECIST_APP_PACS_SETTINGS``, else ``pacs.toml`` in the user config folder."""
    environ = os.environ if environ is None else environ
    if environ.get(PACS_SETTINGS_ENV):
        return Path(environ[PACS_SETTINGS_ENV]).expanduser()
    import platformdirs

    folder = platformdirs.user_config_dir("recist-app", appauthor=False)
    return Path(folder) / _SETTINGS_NAME


def _text(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PacsSettingsError(f"{where}: {key} must be text")
    return value


def _seconds(table: Mapping[str, Any], where: str, default: float) -> float:
    value = table.get("timeout_s", default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PacsSettingsError(f"{where}: timeout_s must be a number of seconds")
    return float(value)


def _secret(
    table: Mapping[str, Any], key: str, where: str, environ: Mapping[str, str]
) -> str | None:
    direct = _text(table, key, where)
    variable = _text(table, f"{key}_env", where)
    if direct is not None and variable is not None:
        raise PacsSettingsError(f"{where}: give {key} or {key}_env, not both")
    if variable is None:
        return direct
    if not environ.get(variable):
        raise PacsSettingsError(f"{where}: {key}_env names ${variable}, which is unset")
    return environ[variable]


def _server(
    name: str,
    table: object,
    source: Path,
    defaults: tuple[str, float],
    environ: Mapping[str, str],
) -> PacsServer:
    where = f"{source}: server {name}"
    if not _NAME.match(name):
        raise PacsSettingsError(
            f"{where}: a name is letters, digits, '.', '_' and '-' (≤ 64)"
        )
    if not isinstance(table, dict):
        raise PacsSettingsError(f"{where}: expected a table [servers.{name}]")
    unknown = sorted(set(table) - _SERVER_KEYS)
    if unknown:
        raise PacsSettingsError(
            f"{where}: unknown key {unknown[0]!r} "
            f"(known: {', '.join(sorted(_SERVER_KEYS))})"
        )
    url = _text(table, "url", where)
    if not url:
        raise PacsSettingsError(f"{where}: url is missing")
    ca_file = _text(table, "ca_file", where)
    calling = _text(table, "calling_ae_title", where)
    try:
        return PacsServer(
            url=url.strip().rstrip("/") if not url.startswith("dimse") else url.strip(),
            name=name,
            calling_ae_title=defaults[0] if calling is None else calling,
            username=_text(table, "username", where),
            password=_secret(table, "password", where, environ),
            token=_secret(table, "token", where, environ),
            ca_file=Path(ca_file).expanduser() if ca_file else None,
            timeout_s=_seconds(table, where, defaults[1]),
        )
    except ValueError as error:
        raise PacsSettingsError(f"{where}: {error}") from None


def load_settings(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> PacsSettings:
    """Read the settings file (default: :func:`default_settings_path`).

    A missing default file means no configured server; a missing file named
    explicitly (argument or ``$RECIST_APP_PACS_SETTINGS``) is an error.

    Raises
    ------
    PacsSettingsError
        The file cannot be read, is not TOML, or holds an invalid entry.
    """
    environ = os.environ if environ is None else environ
    explicit = path is not None or bool(environ.get(PACS_SETTINGS_ENV))
    source = path if path is not None else default_settings_path(environ)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise PacsSettingsError(f"{source}: no such settings file") from None
        return PacsSettings()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise PacsSettingsError(f"{source}: cannot read: {reason}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PacsSettingsError(f"{source}: not a TOML file: {error}") from None
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise PacsSettingsError(
            f"{source}: unknown key {unknown[0]!r} "
            f"(known: {', '.join(sorted(_TOP_KEYS))})"
        )
    calling = _text(data, "calling_ae_title", str(source))
    if calling is None:
        calling = DEFAULT_CALLING_AE_TITLE
    try:
        check_ae_title(calling, "calling_ae_title")
    except ValueError as error:
        raise PacsSettingsError(f"{source}: {error}") from None
    timeout_s = _seconds(data, str(source), DEFAULT_TIMEOUT_S)
    servers_table = data.get("servers", {})
    if not isinstance(servers_table, dict):
        raise PacsSettingsError(f"{source}: servers must be tables [servers.NAME]")
    servers = tuple(
        _server(name, table, source, (calling, timeout_s), environ)
        for name, table in servers_table.items()
    )
    folder = _text(data, "download_folder", str(source))
    try:
        return PacsSettings(
            servers=servers,
            calling_ae_title=calling,
            download_folder=Path(folder).expanduser() if folder else None,
            timeout_s=timeout_s,
            source=source,
        )
    except ValueError as error:
        raise PacsSettingsError(f"{source}: {error}") from None
