"""Where a non-target lesion was marked on the images (issue 18).

Revision ID: 0012
Revises: 0011
Create Date: 2027-02-01

A non-target lesion is not measured (D1), but a reader who draws it on the
images marks where it is, so the viewer can jump back to it at any visit.
``non_target_assessments`` gets the geometry columns the measurements and new
lesions have had since revision 0001 (image UIDs, method, axis end points in LPS
mm), all nullable: the non-targets stored before have no mark, which is what
they had. Downgrading drops the columns (the marks are lost, the states kept).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UID = 64


def _mark_columns() -> list[sa.Column[object]]:
    """The new columns, frozen as written at this revision (nullable, no default)."""
    columns: list[sa.Column[object]] = [
        sa.Column("geometry_series_instance_uid", sa.String(UID), nullable=True),
        sa.Column("geometry_sop_instance_uid", sa.String(UID), nullable=True),
        sa.Column("geometry_method", sa.String(32), nullable=True),
    ]
    for axis in ("long_axis", "short_axis"):
        for end in ("start", "end"):
            for coordinate in ("l", "p", "s"):
                columns.append(
                    sa.Column(
                        f"{axis}_{end}_{coordinate}_mm", sa.Float(), nullable=True
                    )
                )
    return columns


def upgrade() -> None:
    """Add the nullable columns (a plain ``ADD COLUMN``; nothing is copied)."""
    with op.batch_alter_table("non_target_assessments") as batch:
        for column in _mark_columns():
            batch.add_column(column)


def downgrade() -> None:
    """Drop the columns: the marks are lost, every state is kept.

    On SQLite the batch copies the table without them; PostgreSQL drops them in
    place.
    """
    with op.batch_alter_table("non_target_assessments") as batch:
        for column in reversed(_mark_columns()):
            batch.drop_column(column.name)
