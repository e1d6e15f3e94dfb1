"""Where the mRECIST viable long axis was drawn.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

The measurement table gets the geometry columns again with a ``viable_`` prefix
(image UIDs, method, axis end points in LPS mm), as revision 0001 has them for the
long and short axes. Existing measurements get none: their viable line was never
stored, and its length (``viable_long_axis_mm``) is untouched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UID = 64


def _viable_geometry_columns() -> list[sa.Column[object]]:
    """The new columns, frozen as written at this revision (nullable, no default)."""
    columns: list[sa.Column[object]] = [
        sa.Column("viable_geometry_series_instance_uid", sa.String(UID), nullable=True),
        sa.Column("viable_geometry_sop_instance_uid", sa.String(UID), nullable=True),
        sa.Column("viable_geometry_method", sa.String(16), nullable=True),
    ]
    for axis in ("long_axis", "short_axis"):
        for end in ("start", "end"):
            for coordinate in ("l", "p", "s"):
                columns.append(
                    sa.Column(
                        f"viable_{axis}_{end}_{coordinate}_mm",
                        sa.Float(),
                        nullable=True,
                    )
                )
    return columns


def upgrade() -> None:
    """Add the nullable columns, so measurements stored before keep working.

    Batch operations, which for added nullable columns are a plain ``ADD COLUMN``
    on SQLite as on PostgreSQL (no table copy), so nothing else is touched.
    """
    with op.batch_alter_table("measurements") as batch:
        for column in _viable_geometry_columns():
            batch.add_column(column)


def downgrade() -> None:
    """Drop the columns (where viable lines were drawn is lost, not their length).

    On SQLite the batch copies the table without them, which works on SQLite
    versions without ``DROP COLUMN``; PostgreSQL drops them in place.
    """
    with op.batch_alter_table("measurements") as batch:
        for column in reversed(_viable_geometry_columns()):
            batch.drop_column(column.name)
