"""The audit rows an older recist-app wrote, for databases built by hand in tests.

Migration tests insert rows with plain SQL as an older revision's program stored
them; that program also wrote the audit trail, with each row's values as its
schema had them. :func:`audit_as_written` appends those audit rows, so the
upgraded database verifies only if the data matches its trail, columns added
later included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from recist_app.store._rows import canonical_json, reading_to_rows
from recist_app.store._unit_of_work import label_of
from recist_app.store.audit import GENESIS_HASH, audit_row_digest

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.engine import Connection

    from recist_app.recist import Reading

COLUMNS_AFTER_0001 = frozenset(
    {
        "irecist_confirmation_min_days",
        "irecist_confirmation_max_days",
        "mrecist_pd_min_increase_mm",
        "cytology_confirmed",
        "typical_vascular_pattern",
    }
)


def append_raw_audit(
    connection: Connection,
    entries: Iterable[tuple[str, str, str, str | None, dict[str, Any] | None]],
    *,
    user: str = "dr-a",
    recorded_at: str = "2025-01-02T10:00:00+00:00",
) -> None:
    """Append ``(action, entity, key, patient_id, after)`` rows to the chain."""
    last = connection.execute(
        text("SELECT sequence, row_hash FROM audit_log ORDER BY sequence DESC LIMIT 1")
    ).first()
    sequence, previous = (0, GENESIS_HASH) if last is None else tuple(last)
    for action, entity, key, patient_id, after in entries:
        sequence += 1
        values = {
            "sequence": sequence,
            "recorded_at": recorded_at,
            "user_name": user,
            "action": action,
            "entity": entity,
            "entity_key": key,
            "patient_id": patient_id,
            "reason": None,
            "before_values": None,
            "after_values": None if after is None else canonical_json(after),
            "previous_hash": previous,
        }
        previous = audit_row_digest(values)
        connection.execute(
            text(
                "INSERT INTO audit_log (sequence, recorded_at, user_name, action, "
                "entity, entity_key, patient_id, reason, before_values, "
                "after_values, previous_hash, row_hash) VALUES (:sequence, "
                ":recorded_at, :user_name, :action, :entity, :entity_key, "
                ":patient_id, :reason, :before_values, :after_values, "
                ":previous_hash, :row_hash)"
            ),
            {**values, "row_hash": previous},
        )


def audit_as_written(
    connection: Connection,
    reading: Reading,
    *,
    without: Iterable[str] = (),
    new_patient: bool = True,
) -> None:
    """Append the rows recording that ``reading`` was stored as a new draft.

    ``without`` names the columns the writing program's schema did not have
    yet; they are left out of the recorded values.
    """
    dropped = set(without)

    def kept(values: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in values.items() if name not in dropped}

    rows = reading_to_rows(reading)
    label = label_of(reading)
    patient = reading.patient_id
    entries: list[tuple[str, str, str, str | None, dict[str, Any] | None]] = []
    if new_patient:
        entries.append(("insert", "patient", patient, patient, {"patient_id": patient}))
    entries.append(
        ("insert", "reading", label, patient, {"status": "draft", **kept(rows.reading)})
    )
    for lesion_id, values in rows.lesions.items():
        entries.append(
            ("insert", "lesions", f"{label} / {lesion_id}", patient, kept(values))
        )
    for visit, values in rows.timepoints.items():
        entries.append(
            ("insert", "timepoints", f"{label} / {visit}", patient, kept(values))
        )
    for name in ("measurements", "non_target", "new_lesions"):
        items: dict[tuple[str, str], dict[str, Any]] = getattr(rows, name)
        for (visit, lesion_id), values in items.items():
            entries.append(
                (
                    "insert",
                    name,
                    f"{label} / {visit} / {lesion_id}",
                    patient,
                    kept(values),
                )
            )
    append_raw_audit(connection, entries)
