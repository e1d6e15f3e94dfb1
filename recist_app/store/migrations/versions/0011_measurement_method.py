"""The measurement method "semi-automatic, corrected" (click-to-measure).

Revision ID: 0011
Revises: 0010
Create Date: 2027-01-20

A measurement records how its diameters were obtained: ``manual``,
``semi-automatic`` (click-to-measure) or ``semi-automatic, corrected`` (then
moved by the reader). The last needs 25 characters; ``geometry_method`` (on the
measurements and new lesions) and ``viable_geometry_method`` were 16. Every
stored value is kept. Downgrading turns "semi-automatic, corrected" into
"semi-automatic" (the old program knows no correction), the one loss.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("measurements", "geometry_method"),
    ("measurements", "viable_geometry_method"),
    ("new_lesion_observations", "geometry_method"),
)


def _alter(length_from: int, length_to: int) -> None:
    # SQLite keeps the declared type only in the table's text: a batch copy
    # rewrites it (no table references these two, the audit triggers are on
    # audit_log); PostgreSQL alters the column in place.
    for table in ("measurements", "new_lesion_observations"):
        with op.batch_alter_table(table) as batch:
            for owner, column in _COLUMNS:
                if owner == table:
                    batch.alter_column(
                        column,
                        type_=sa.String(length_to),
                        existing_type=sa.String(length_from),
                        existing_nullable=True,
                    )


def upgrade() -> None:
    """Widen the method columns to 32 characters."""
    _alter(16, 32)


def downgrade() -> None:
    """Narrow them back; a corrected semi-automatic method becomes semi-automatic."""
    for table, column in _COLUMNS:
        op.execute(
            sa.text(
                f"UPDATE {table} SET {column} = 'semi-automatic' "
                f"WHERE {column} = 'semi-automatic, corrected'"
            )
        )
    _alter(32, 16)
