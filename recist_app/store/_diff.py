"""What changed between two versions of a reading, row by row.

:func:`diff_rows` compares two :class:`~recist_app.store._rows.ReadingRows` and
lists the child rows to delete, insert and update, in the order they must be
written (findings reference lesions and visits, so they are deleted first and
written last). The store diffs either the whole stored reading against the new one
(imports, first saves), or, when the caller hands in the reading it saved last,
only the rows :func:`touched_rows` finds changed in memory. Rows left out of both
sides make no change, so both ways give the same changes in the same order and
hence the same audit rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from recist_app.store._rows import (
    FindingKey,
    ReadingRows,
    Values,
    add_lesion_rows,
    add_timepoint_rows,
    empty_rows,
)

if TYPE_CHECKING:
    from recist_app.recist import Reading, TimePoint

__all__ = [
    "FINDING_NAMES",
    "PARENT_NAMES",
    "RowChange",
    "changed",
    "diff_rows",
    "touched_rows",
]

FINDING_NAMES = ("measurements", "non_target", "new_lesions")
"""The :class:`ReadingRows` fields of findings, keyed ``(visit, lesion_id)``."""
PARENT_NAMES = ("lesions", "timepoints")
"""The :class:`ReadingRows` fields that findings reference, keyed by id or visit."""

_Key = TypeVar("_Key", str, FindingKey)


@dataclass(frozen=True, slots=True, kw_only=True)
class RowChange:
    """One child row of a reading to delete, insert or update.

    Parameters
    ----------
    action
        ``"delete"``, ``"insert"`` or ``"update"``.
    name
        The :class:`ReadingRows` field (``"lesions"``, ``"measurements"``, ...).
    key
        Lesion id, visit label, or ``(visit, lesion_id)`` for a finding.
    before, after
        The row's values; ``None`` for an insert (before) or a delete (after).
    """

    action: str
    name: str
    key: str | FindingKey
    before: Values | None
    after: Values | None


def changed(old: Values, new: Values) -> bool:
    """Whether any column of ``new`` differs from ``old``."""
    return any(old[name] != value for name, value in new.items())


def _deletions(
    name: str, old: dict[_Key, Values], new: dict[_Key, Values]
) -> list[RowChange]:
    return [
        RowChange(action="delete", name=name, key=key, before=old[key], after=None)
        for key in sorted(old.keys() - new.keys())
    ]


def _writes(
    name: str, old: dict[_Key, Values], new: dict[_Key, Values]
) -> list[RowChange]:
    found: list[RowChange] = []
    for key, values in new.items():
        before = old.get(key)
        if before is None:
            found.append(
                RowChange(
                    action="insert", name=name, key=key, before=None, after=values
                )
            )
        elif changed(before, values):
            found.append(
                RowChange(
                    action="update", name=name, key=key, before=before, after=values
                )
            )
    return found


def diff_rows(old: ReadingRows, new: ReadingRows) -> list[RowChange]:
    """The child rows to write to turn ``old`` into ``new``, in writing order.

    Deleted findings first (sorted by key), then for lesions and then visits:
    deletions (sorted by key), insertions and updates (in ``new``'s order);
    inserted and updated findings last, table by table in ``new``'s order.
    """
    changes: list[RowChange] = []
    for name in FINDING_NAMES:
        changes.extend(_deletions(name, getattr(old, name), getattr(new, name)))
    for name in PARENT_NAMES:
        changes.extend(_deletions(name, getattr(old, name), getattr(new, name)))
        changes.extend(_writes(name, getattr(old, name), getattr(new, name)))
    for name in FINDING_NAMES:
        changes.extend(_writes(name, getattr(old, name), getattr(new, name)))
    return changes


def touched_rows(base: Reading, reading: Reading) -> tuple[ReadingRows, ReadingRows]:
    """The rows of ``base`` and of ``reading`` that may differ, found in memory.

    Domain objects are frozen and edits reuse what they leave alone, so a visit
    that is the same object (or an equal one) at the same position has the same
    rows and is left out of both results; so are the lesions when the lesion
    list is unchanged. The reading row is always included (it is one row).
    Work is proportional to what changed, not to the number of visits.

    Returns
    -------
    tuple of ReadingRows
        ``(old, new)``: the touched rows as ``base`` and as ``reading`` have them.
    """
    old, new = empty_rows(base), empty_rows(reading)
    if base.lesions != reading.lesions:
        add_lesion_rows(old, base)
        add_lesion_rows(new, reading)
    before: dict[str, tuple[int, TimePoint]] = {
        timepoint.visit: (position, timepoint)
        for position, timepoint in enumerate(base.timepoints)
    }
    for position, timepoint in enumerate(reading.timepoints):
        found = before.pop(timepoint.visit, None)
        if found is not None:
            old_position, old_timepoint = found
            if old_position == position and (
                old_timepoint is timepoint or old_timepoint == timepoint
            ):
                continue
            add_timepoint_rows(old, old_position, old_timepoint)
        add_timepoint_rows(new, position, timepoint)
    for old_position, old_timepoint in before.values():  # visits removed
        add_timepoint_rows(old, old_position, old_timepoint)
    return old, new
