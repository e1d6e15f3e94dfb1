"""ADaM datasets as CSV and SAS transport files, with a define-style variable list.

The datasets themselves (ADSL, ADRS, ADTTE, ADAE) are derived by the endpoint
engine (``recist_app.endpoints.build_adam``) from the same analysis that writes
``subjects.csv`` and ``endpoints.json``; this module only writes them, so it
takes any object with their shape (:class:`AnalysisDataset`). Per dataset
``<name>.csv`` (dates ISO 8601) and ``<name>.xpt`` (SAS XPORT v5 through
:mod:`recist_app.exchange.xpt`; dates as SAS dates, days since 1960-01-01, with
the ``DATE9.`` format), plus ``define.csv``: dataset, label, structure, and per
variable its order, name, label, type, length, display format and derivation.
Files appear only when all were written.
"""

from __future__ import annotations

import csv
import datetime
import io
from typing import TYPE_CHECKING, Protocol

from recist_app.exchange._staging import staged_output
from recist_app.exchange.errors import ExchangeError
from recist_app.exchange.xpt import XptVariable, write_xpt

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

__all__ = [
    "AnalysisDataset",
    "AnalysisVariable",
    "adam_csv_text",
    "adam_define_rows",
    "sas_date",
    "write_adam",
]

_SAS_EPOCH = datetime.date(1960, 1, 1)


class AnalysisVariable(Protocol):
    """What the writer needs of a variable (``endpoints.AdamVariable``)."""

    @property
    def name(self) -> str:
        """SAS name, at most 8 characters."""
        ...

    @property
    def label(self) -> str:
        """Label, at most 40 characters."""
        ...

    @property
    def kind(self) -> str:
        """``text``, ``number`` or ``date``."""
        ...

    @property
    def derivation(self) -> str:
        """How the value is derived (the define list's last column)."""
        ...


class AnalysisDataset(Protocol):
    """What the writer needs of a dataset (``endpoints.AdamDataset``)."""

    @property
    def name(self) -> str:
        """The dataset's name, ``ADSL`` for instance."""
        ...

    @property
    def label(self) -> str:
        """Dataset label, at most 40 characters."""
        ...

    @property
    def structure(self) -> str:
        """What one record is ("one record per subject")."""
        ...

    @property
    def variables(self) -> Sequence[AnalysisVariable]:
        """Variables in column order."""
        ...

    @property
    def rows(self) -> Sequence[Mapping[str, object]]:
        """Observations by variable name."""
        ...


def sas_date(value: datetime.date) -> int:
    """Days since 1960-01-01, the SAS date of ``value``.

    >>> sas_date(datetime.date(1960, 1, 1)), sas_date(datetime.date(2024, 3, 4))
    (0, 23439)
    """
    return (value - _SAS_EPOCH).days


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.15g}"
    return str(value)


def adam_csv_text(dataset: AnalysisDataset) -> str:
    """One dataset as CSV (its variables in order; dates ISO, missing empty)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([v.name for v in dataset.variables])
    for row in dataset.rows:
        writer.writerow([_csv_cell(row.get(v.name)) for v in dataset.variables])
    return buffer.getvalue()


def _text_length(dataset: AnalysisDataset, name: str) -> int:
    longest = max(
        (len(_csv_cell(row.get(name)).encode("utf-8")) for row in dataset.rows),
        default=0,
    )
    return max(1, longest)


def adam_define_rows(datasets: Sequence[AnalysisDataset]) -> list[dict[str, str]]:
    """The define-style variable list of ``datasets``, one row per variable."""
    rows: list[dict[str, str]] = []
    for dataset in datasets:
        for order, variable in enumerate(dataset.variables, start=1):
            text = variable.kind == "text"
            rows.append(
                {
                    "dataset": dataset.name,
                    "dataset_label": dataset.label,
                    "structure": dataset.structure,
                    "order": str(order),
                    "variable": variable.name,
                    "label": variable.label,
                    "type": "Char" if text else "Num",
                    "length": str(_text_length(dataset, variable.name))
                    if text
                    else "8",
                    "display_format": "DATE9." if variable.kind == "date" else "",
                    "derivation": variable.derivation,
                }
            )
    return rows


def _xpt_row(dataset: AnalysisDataset, row: Mapping[str, object]) -> dict[str, object]:
    converted: dict[str, object] = {}
    for variable in dataset.variables:
        value = row.get(variable.name)
        if variable.kind == "date" and isinstance(value, datetime.date):
            value = sas_date(value)
        converted[variable.name] = value
    return converted


def write_adam(
    datasets: Sequence[AnalysisDataset],
    out_dir: Path,
    *,
    created: datetime.datetime | None = None,
) -> tuple[Path, ...]:
    """Write every dataset as ``<name>.csv`` and ``<name>.xpt``, and ``define.csv``.

    Parameters
    ----------
    datasets
        ADSL, ADRS, ADTTE (and ADAE), in that order.
    out_dir
        The folder (created); files appear only when all were written.
    created
        The transport files' creation time (default now).

    Raises
    ------
    ExchangeError
        No dataset, a value that does not fit SAS transport (not ASCII, longer
        than 200 bytes), or a folder that cannot be written.
    """
    if not datasets:
        raise ExchangeError("ADaM: no datasets to write")
    with staged_output(out_dir) as staging:
        try:
            for dataset in datasets:
                stem = dataset.name.lower()
                (staging / f"{stem}.csv").write_text(
                    adam_csv_text(dataset), encoding="utf-8"
                )
                variables = [
                    XptVariable(
                        name=v.name,
                        label=v.label,
                        numeric=v.kind != "text",
                        length=8 if v.kind != "text" else _text_length(dataset, v.name),
                        format_name="DATE" if v.kind == "date" else "",
                        format_width=9 if v.kind == "date" else 0,
                    )
                    for v in dataset.variables
                ]
                write_xpt(
                    staging / f"{stem}.xpt",
                    dataset.name,
                    dataset.label,
                    variables,
                    [_xpt_row(dataset, row) for row in dataset.rows],
                    created=created,
                )
            buffer = io.StringIO()
            rows = adam_define_rows(datasets)
            writer = csv.DictWriter(
                buffer, fieldnames=list(rows[0]), lineterminator="\n"
            )
            writer.writeheader()
            writer.writerows(rows)
            (staging / "define.csv").write_text(buffer.getvalue(), encoding="utf-8")
        except OSError as error:
            raise ExchangeError(
                f"{out_dir}: cannot write: {error.strerror or error}"
            ) from None
        written = sorted(p.relative_to(staging) for p in staging.iterdir())
    return tuple(out_dir / p for p in written)
