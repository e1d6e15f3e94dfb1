"""SAS transport (XPORT version 5) files, written with the standard library.

The format (SAS technical note TS-140, "The Record Layout of a Data Set in SAS
Transport (XPORT) Format") is a sequence of 80-byte records: a library header,
one member header per dataset, one 140-byte *namestr* per variable, and the
observations, numbers as 8-byte IBM System/360 floating point and text padded
with blanks. FDA submissions of SDTM datasets use version 5, which limits names
to 8 characters, labels to 40 and text values to 200 bytes.
"""

from __future__ import annotations

import datetime
import math
import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recist_app.exchange.errors import ExchangeError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

__all__ = ["XptVariable", "ibm_float", "write_xpt"]

_RECORD = 80
_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,7}$")
_MISSING = b"." + bytes(7)
_MAX_TEXT = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class XptVariable:
    """One variable of a transport dataset: name, label, type and width.

    ``format_name`` and ``format_width`` are its SAS display format and informat
    (``DATE`` and 9 for a SAS date shown as ``DATE9.``); empty by default.
    """

    name: str
    label: str
    numeric: bool
    length: int = 8
    format_name: str = ""
    format_width: int = 0

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ExchangeError(f"XPT variable {self.name!r}: not a SAS v5 name")
        if len(self.label.encode("ascii", "replace")) > 40:
            raise ExchangeError(f"XPT variable {self.name}: label over 40 characters")
        if self.numeric and self.length != 8:
            raise ExchangeError(f"XPT variable {self.name}: numbers take 8 bytes")
        if not 1 <= self.length <= _MAX_TEXT:
            raise ExchangeError(f"XPT variable {self.name}: length 1..200 required")
        if self.format_name and not _NAME.match(self.format_name):
            raise ExchangeError(
                f"XPT variable {self.name}: format {self.format_name!r} is not a "
                "SAS v5 format name"
            )
        if not 0 <= self.format_width <= 99:
            raise ExchangeError(f"XPT variable {self.name}: format width 0..99")


def ibm_float(value: float | None) -> bytes:
    """``value`` as an 8-byte big-endian IBM hexadecimal float (``None``: missing).

    >>> ibm_float(1.0).hex()
    '4110000000000000'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _MISSING
    if not math.isfinite(value):
        raise ExchangeError(f"XPT cannot store {value!r}")
    if value == 0:
        return bytes(8)
    sign = 0x80 if value < 0 else 0
    mantissa, exponent = math.frexp(abs(value))  # abs = mantissa * 2**exponent
    exponent16 = -(-exponent // 4)  # ceil: abs = fraction * 16**exponent16
    fraction = mantissa * 2.0 ** (exponent - 4 * exponent16)  # in [1/16, 1)
    bits = int(fraction * 2.0**56)  # exact: a double has 53 significant bits
    biased = exponent16 + 64
    if not 0 <= biased <= 127:
        raise ExchangeError(f"XPT cannot store {value!r} (out of IBM float range)")
    return bytes([sign | biased]) + bits.to_bytes(7, "big")


def _text(value: str, width: int) -> bytes:
    encoded = value.encode("ascii", "strict")
    return encoded.ljust(width, b" ")


def _header(kind: str, tail: str = "0" * 30) -> bytes:
    return _text(f"HEADER RECORD*******{kind:<8}HEADER RECORD!!!!!!!{tail}", _RECORD)


def _stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%d%b%y:%H:%M:%S").upper()


def _namestr(variable: XptVariable, number: int, position: int) -> bytes:
    form = _text(variable.format_name, 8) if variable.format_name else bytes(8)
    return struct.pack(
        ">hhhh8s40s8shhh2s8shhl52s",
        1 if variable.numeric else 2,
        0,
        variable.length,
        number,
        _text(variable.name, 8),
        _text(variable.label, 40),
        form,
        variable.format_width,
        0,
        0,
        bytes(2),
        form,
        variable.format_width,
        0,
        position,
        bytes(52),
    )


def _pad(data: bytes) -> bytes:
    return data + b" " * (-len(data) % _RECORD)


def _observation(
    variables: Sequence[XptVariable], row: Mapping[str, object], dataset: str
) -> bytes:
    parts: list[bytes] = []
    for variable in variables:
        value = row.get(variable.name)
        if variable.numeric:
            if value is not None and not isinstance(value, int | float):
                raise ExchangeError(
                    f"XPT {dataset}.{variable.name}: expected a number, got {value!r}"
                )
            parts.append(ibm_float(None if value is None else float(value)))
            continue
        text = "" if value is None else str(value)
        try:
            encoded = text.encode("ascii")
        except UnicodeEncodeError:
            raise ExchangeError(
                f"XPT {dataset}.{variable.name}: {text!r} is not ASCII"
            ) from None
        if len(encoded) > variable.length:
            raise ExchangeError(
                f"XPT {dataset}.{variable.name}: {text!r} is longer than "
                f"{variable.length} bytes"
            )
        parts.append(encoded.ljust(variable.length, b" "))
    return b"".join(parts)


def write_xpt(
    path: Path,
    dataset: str,
    label: str,
    variables: Sequence[XptVariable],
    rows: Sequence[Mapping[str, object]],
    *,
    created: datetime.datetime | None = None,
) -> None:
    """Write one dataset as a SAS XPORT v5 file.

    Parameters
    ----------
    path
        The ``.xpt`` file to write.
    dataset
        Member name (<= 8 characters, e.g. ``TR``).
    label
        Dataset label (<= 40 characters).
    variables
        Variables in column order.
    rows
        Observations by variable name; missing keys are missing values.
    created
        Creation time in the headers (default: now); fix it for reproducible files.

    Raises
    ------
    ExchangeError
        A name, label or value does not fit version 5, or the file cannot be written.
    """
    if not _NAME.match(dataset):
        raise ExchangeError(f"XPT dataset {dataset!r}: not a SAS v5 name")
    if len(label) > 40:
        raise ExchangeError(f"XPT dataset {dataset}: label over 40 characters")
    stamp = _stamp(created or datetime.datetime.now(datetime.UTC))
    out = bytearray()
    out += _header("LIBRARY")
    out += _text(
        f"{'SAS':<8}{'SAS':<8}{'SASLIB':<8}{'9.4':<8}{'X64_7PRO':<8}{'':<24}{stamp}",
        _RECORD,
    )
    out += _text(stamp, _RECORD)
    out += _header("MEMBER", "000000000000000001600000000140")
    out += _header("DSCRPTR")
    out += _text(
        f"{'SAS':<8}{dataset:<8}{'SASDATA':<8}{'9.4':<8}{'X64_7PRO':<8}{'':<24}{stamp}",
        _RECORD,
    )
    out += _text(f"{stamp}{'':<16}{label:<40}{'':<8}", _RECORD)
    out += _header("NAMESTR", f"000000{len(variables):04d}" + "0" * 20)
    names = bytearray()
    position = 0
    for number, variable in enumerate(variables, start=1):
        names += _namestr(variable, number, position)
        position += variable.length
    out += _pad(bytes(names))
    out += _header("OBS")
    data = b"".join(_observation(variables, row, dataset) for row in rows)
    out += _pad(data)
    try:
        path.write_bytes(bytes(out))
    except OSError as error:
        raise ExchangeError(f"{path}: cannot write: {error.strerror}") from None
