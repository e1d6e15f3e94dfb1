"""Evaluate a reading file: ``recist-app evaluate``.

The reading file is read strictly and assessed under its own criteria set, one
other, or all three side by side; the result is the ``recist-assessment/1`` JSON
(``recist-assessment-set/1`` for several criteria) or the per-visit CSV that
``recist-app export --format csv`` writes too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from recist_app.exchange import (
    assessment_json_text,
    assessment_set_json_text,
    read_reading_file,
    visits_csv_text,
    write_text_atomically,
)
from recist_app.recist import assess

if TYPE_CHECKING:
    from pathlib import Path

    from recist_app.recist import Assessment, Criteria, Reading

__all__ = [
    "Evaluation",
    "EvaluationFormat",
    "evaluate_reading_file",
    "write_text_file",
]

EvaluationFormat = Literal["json", "csv"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    """A reading file and its assessments, one per criteria set asked for."""

    reading: Reading
    assessments: tuple[Assessment, ...]

    def text(self, output_format: EvaluationFormat = "json") -> str:
        """The assessments as ``recist-assessment/1`` JSON or per-visit CSV.

        The CSV is the layout of ``export --format csv`` (``responses.csv``): a
        baseline row and one row per follow-up, one block per criteria set.
        """
        if output_format == "csv":
            reader = self.reading.reader
            return visits_csv_text(
                (assessment, reader) for assessment in self.assessments
            )
        if len(self.assessments) == 1:
            return assessment_json_text(self.assessments[0])
        return assessment_set_json_text(self.assessments)


def evaluate_reading_file(
    path: Path, criteria: tuple[Criteria, ...] | None = None
) -> Evaluation:
    """Read the reading file at ``path`` and assess it.

    Parameters
    ----------
    path
        A ``recist-reading/1`` file.
    criteria
        The criteria sets to assess under (the same lesions, measured once);
        ``None``: the file's own.

    Raises
    ------
    ExchangeError
        The file is unreadable or invalid (one line: file, field, visit, lesion).
    ReadingError
        The reading cannot be assessed under a criteria set asked for.
    """
    reading = read_reading_file(path)
    chosen = criteria or (reading.criteria,)
    return Evaluation(
        reading=reading,
        assessments=tuple(
            assess(dataclasses.replace(reading, criteria=name)) for name in chosen
        ),
    )


def write_text_file(text: str, path: Path) -> None:
    """Write ``text`` to ``path`` atomically, creating its folder.

    Raises
    ------
    ExchangeError
        The folder or file cannot be written (one line naming it).
    """
    from recist_app.exchange import ExchangeError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExchangeError(f"{path.parent}: cannot create: {error.strerror}") from None
    write_text_atomically(text, path)
