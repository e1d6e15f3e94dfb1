"""The controlled organ/location list, read from ``resources/vocabulary.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["VOCABULARY_PATH", "OrganTerm", "load_vocabulary"]

VOCABULARY_PATH = Path(__file__).resolve().parents[2] / "resources" / "vocabulary.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrganTerm:
    """One organ of the controlled list and its locations."""

    organ: str
    locations: tuple[str, ...]
    lymph_node: bool = False


def load_vocabulary(path: Path = VOCABULARY_PATH) -> tuple[OrganTerm, ...]:
    """Read the organ list; raises ``ValueError`` naming the file on bad content."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"{path}: cannot read: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path}: not JSON: {error.msg} (line {error.lineno})"
        ) from None
    if not isinstance(data, dict) or data.get("format") != "recist-vocabulary/1":
        raise ValueError(f"{path}: format must be 'recist-vocabulary/1'")
    terms: list[OrganTerm] = []
    for index, entry in enumerate(data.get("organs", [])):
        organ = entry.get("organ") if isinstance(entry, dict) else None
        locations = entry.get("locations", []) if isinstance(entry, dict) else None
        if not isinstance(organ, str) or not organ.strip():
            raise ValueError(
                f"{path}: organs[{index}].organ must be a non-empty string"
            )
        if not isinstance(locations, list) or not all(
            isinstance(item, str) for item in locations
        ):
            raise ValueError(f"{path}: organs[{index}].locations must be strings")
        terms.append(
            OrganTerm(
                organ=organ,
                locations=tuple(locations),
                lymph_node=bool(entry.get("lymph_node", False)),
            )
        )
    if not terms:
        raise ValueError(f"{path}: the organ list is empty")
    return tuple(terms)
