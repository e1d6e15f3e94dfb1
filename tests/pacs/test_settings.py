"""The PACS settings file and server URLs: good ones read, bad ones one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from recist_app.environment import PACS_SETTINGS_ENV
from recist_app.pacs import (
    PacsProtocol,
    PacsSettings,
    PacsSettingsError,
    load_settings,
    parse_server_url,
)

GOOD = """
calling_ae_title = "READSTATION1"
download_folder = "~/recist-pacs"
timeout_s = 12

[servers.orthanc]
url = "https://pacs.example.org/dicom-web/"
username = "reader"
password_env = "TEST_PACS_PASSWORD"
ca_file = "/etc/ssl/site-ca.pem"

[servers.orthanc-dimse]
url = "dimse://ORTHANC@pacs.example.org:4242"

[servers.vna]
url = "https://vna.example.org/dicomweb"
token = "abc.def"
calling_ae_title = "OTHERAET"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pacs.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_file_names_servers_with_credentials_tls_and_our_ae_title(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, GOOD)
    settings = load_settings(path, environ={"TEST_PACS_PASSWORD": "s3cret"})
    web, dimse, vna = settings.servers
    assert settings.calling_ae_title == "READSTATION1"
    assert settings.download_folder == Path("~/recist-pacs").expanduser()
    assert (web.name, web.protocol, web.url) == (
        "orthanc",
        PacsProtocol.DICOMWEB,
        "https://pacs.example.org/dicom-web",
    )
    assert (web.username, web.password, web.ca_file) == (
        "reader",
        "s3cret",
        Path("/etc/ssl/site-ca.pem"),
    )
    assert web.timeout_s == 12
    assert (dimse.protocol, dimse.called_ae_title, dimse.host, dimse.port) == (
        PacsProtocol.DIMSE,
        "ORTHANC",
        "pacs.example.org",
        4242,
    )
    assert dimse.calling_ae_title == "READSTATION1"
    assert (vna.token, vna.calling_ae_title) == ("abc.def", "OTHERAET")
    assert "s3cret" not in repr(web)
    assert "abc.def" not in repr(vna)
    assert settings.server("orthanc-dimse") is dimse
    assert settings.server(
        "orthanc-dimse", calling_ae_title="WS2"
    ).calling_ae_title == ("WS2")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[servers.a]\nurl = 'ftp://x/y'\n", "server a: url 'ftp://x/y': expected"),
        ("[servers.a]\nurl = 'dimse://host:104'\n", "the called AE title is missing"),
        ("[servers.a]\nurl = 'dimse://A@h:port'\n", "the port is not a number"),
        (
            "[servers.a]\nurl = 'dimse://ABCDEFGHIJKLMNOPQ@h:1'\n",
            "called AE title 'ABCDEFGHIJKLMNOPQ' is longer than 16 characters",
        ),
        ("[servers.a]\nurl = 'http://h/d'\nusername = 'u'\n", "without a password"),
        (
            "[servers.a]\nurl = 'http://h/d'\ntoken = 't'\nusername = 'u'\n"
            "password = 'p'\n",
            "not both",
        ),
        ("[servers.a]\nurl = 'http://h/d'\nca_file = '/ca.pem'\n", "https://"),
        (
            "[servers.a]\nurl = 'dimse://A@h:1'\nusername = 'u'\npassword = 'p'\n",
            "are for DICOMweb servers, not DIMSE",
        ),
        ("[servers.a]\nurl = 'http://h/d'\nport = 1\n", "unknown key 'port'"),
        ("server = 'x'\n", "unknown key 'server'"),
        ("[servers.a]\nusername = 'u'\n", "server a: url is missing"),
        ("[servers.a]\nurl = 'http://h/d'\npassword_env = 'NOPE_UNSET'\n", "unset"),
        ("calling_ae_title = ''\n", "calling_ae_title is empty"),
        ("timeout_s = 'long'\n", "timeout_s must be a number"),
        ("[servers.a]\nurl = 'http://h/d'\ntimeout_s = 0\n", "timeout_s 0.0 must be"),
        ("[servers\n", "not a TOML file"),
        (
            "[servers.'a b']\nurl = 'http://h/d'\n",
            "server a b: a name is letters, digits",
        ),
    ],
    ids=[
        "not-a-pacs-url",
        "dimse-without-called-aet",
        "port-not-a-number",
        "aet-too-long",
        "user-without-password",
        "token-and-user",
        "ca-file-without-https",
        "credentials-for-dimse",
        "unknown-server-key",
        "unknown-top-key",
        "no-url",
        "password-env-unset",
        "empty-calling-aet",
        "timeout-not-a-number",
        "timeout-zero",
        "not-toml",
        "bad-server-name",
    ],
)
def test_bad_settings_are_one_line_naming_file_server_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(PacsSettingsError) as raised:
        load_settings(path, environ={})
    line = str(raised.value)
    assert "\n" not in line
    assert line.startswith(str(path))
    assert message in line


def test_missing_default_settings_file_means_no_server_but_a_named_one_is_an_error(
    tmp_path: Path,
) -> None:
    settings = load_settings(environ={"XDG_CONFIG_HOME": str(tmp_path)})
    assert settings.servers == ()
    with pytest.raises(PacsSettingsError, match="no such settings file"):
        load_settings(environ={PACS_SETTINGS_ENV: str(tmp_path / "nope.toml")})


def test_unknown_server_name_lists_the_configured_ones(tmp_path: Path) -> None:
    settings = load_settings(
        _write(tmp_path, GOOD), environ={"TEST_PACS_PASSWORD": "x"}
    )
    with pytest.raises(PacsSettingsError) as raised:
        settings.server("orthnac")
    assert "'orthnac' is not in" in str(raised.value)
    assert "configured: orthanc, orthanc-dimse, vna" in str(raised.value)


@pytest.mark.parametrize(
    ("url", "protocol", "label", "user"),
    [
        (
            "http://reader:p%40ss@127.0.0.1:8042/dicom-web/",
            PacsProtocol.DICOMWEB,
            "http://127.0.0.1:8042/dicom-web",
            ("reader", "p@ss"),
        ),
        ("https://pacs/dicomweb", PacsProtocol.DICOMWEB, "https://pacs/dicomweb", None),
        (
            "dimse://ORTHANC@10.0.0.5:4242",
            PacsProtocol.DIMSE,
            "dimse://ORTHANC@10.0.0.5:4242",
            None,
        ),
    ],
    ids=["dicomweb-basic-auth-in-url", "dicomweb-no-auth", "dimse"],
)
def test_server_urls_on_the_command_line(
    url: str, protocol: PacsProtocol, label: str, user: tuple[str, str] | None
) -> None:
    server = PacsSettings().server(url)
    assert server.protocol is protocol
    assert server.label == label
    assert server.calling_ae_title == "RECISTAPP"
    if user is not None:
        assert (server.username, server.password) == user
    assert "p@ss" not in server.label
    assert "p%40ss" not in server.url


def test_dimse_default_port_is_104() -> None:
    assert parse_server_url("dimse://PACS@pacs.example.org").port == 104
