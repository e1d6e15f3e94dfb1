"""The reader's explicit "no measurable / no disease" at a visit (rule A8).

Revision ID: 0010
Revises: 0009
Create Date: 2027-01-10

``timepoints.no_disease`` records that the reader read the visit and found no
disease to record (at the baseline: no target and no non-target lesion, so the
patient is NED). Until now an empty visit was taken as "no disease"; it is now
*not read*. Existing visits get ``false``: an empty visit stored before this
revision becomes a visit not read, as it always was in fact. It follows 0009
(the new lesion's cytology flag), made at the same time.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column, false for every visit stored before.

    A plain ``ADD COLUMN`` with a server default (no table copy) on SQLite as on
    PostgreSQL, so the findings' foreign keys to this table are untouched.
    """
    op.add_column(
        "timepoints",
        sa.Column(
            "no_disease", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
    )


def downgrade() -> None:
    """Drop the column: a visit marked "no disease" becomes a visit not read.

    ``ALTER TABLE ... DROP COLUMN`` in place (SQLite 3.35 and later, PostgreSQL);
    a batch copy would recreate the table under the findings' foreign keys.
    """
    op.drop_column("timepoints", "no_disease")
