"""A new lesion's cytology flag (mRECIST J4), and iRECIST's further increase.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-12

``new_lesion_observations.cytology_confirmed``: a new effusion or ascites proven
neoplastic by cytology, the only kind that is progression under mRECIST (J4).
Existing new lesions get ``false``, which is what the rules assumed for them.

The non-target state ``further_increase`` (iRECIST H2: non-target disease that
increased further since the iUPD) needs no column: ``non_target_assessments.state``
is a ``VARCHAR(32)`` holding the state's name, so databases of every revision store
it as they are. A program older than this revision cannot read a reading that uses
it; downgrading keeps such rows as they are (changing them would lose what the
reader recorded and break their binding to the audit trail).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column, ``false`` for the new lesions stored before.

    A plain ``ADD COLUMN`` with a server default on SQLite as on PostgreSQL: the
    table is not copied and nothing else is touched.
    """
    op.add_column(
        "new_lesion_observations",
        sa.Column(
            "cytology_confirmed",
            sa.Boolean(),
            server_default=sa.false(),
            nullable=False,
        ),
    )


def downgrade() -> None:
    """Drop the column (the flags are lost, the new lesions are kept).

    On SQLite the batch copies the table without it, which works on SQLite
    versions without ``DROP COLUMN``; PostgreSQL drops it in place.
    """
    with op.batch_alter_table("new_lesion_observations") as batch:
        batch.drop_column("cytology_confirmed")
