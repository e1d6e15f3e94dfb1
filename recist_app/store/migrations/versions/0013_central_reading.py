"""Central reading: each reading's role, and the adjudicator's decisions.

Revision ID: 0013
Revises: 0012
Create Date: 2027-01-20

``readings.reader_role`` says who a reading is by in a blinded independent
central review: ``reader 1``, ``reader 2``, ``adjudicator``, or ``single`` for a
site read. Every reading stored before this revision is a site read
(``single``), as it always was in fact. ``adjudications`` holds, per patient and
criteria set, which primary read the adjudicator accepted, why, who and when;
each decision is also in the audit trail. It follows 0011 (the measurement
method's wider columns), made at the same time.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the role column (``single`` for every stored reading) and the decisions.

    A plain ``ADD COLUMN`` with a server default (no table copy) on SQLite as on
    PostgreSQL, so the findings' foreign keys to ``readings`` are untouched.
    """
    op.add_column(
        "readings",
        sa.Column(
            "reader_role",
            sa.String(16),
            server_default=sa.text("'single'"),
            nullable=False,
        ),
    )
    op.create_table(
        "adjudications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_row_id", sa.Integer(), nullable=False),
        sa.Column("criteria", sa.String(16), nullable=False),
        sa.Column("accepted_role", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(128), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_adjudications"),
        sa.ForeignKeyConstraint(
            ["patient_row_id"],
            ["patients.id"],
            name="fk_adjudications_patient_row_id_patients",
        ),
        sa.UniqueConstraint(
            "patient_row_id",
            "criteria",
            name="uq_adjudications_patient_row_id_criteria",
        ),
        sa.CheckConstraint(
            "accepted_role IN ('reader 1', 'reader 2')",
            name=op.f("ck_adjudications_accepted_role"),
        ),
    )


def downgrade() -> None:
    """Drop the decisions and the roles: every reading is a site read again.

    The decisions stay in the audit trail. ``DROP COLUMN`` in place (SQLite
    3.35 and later, PostgreSQL).
    """
    op.drop_table("adjudications")
    op.drop_column("readings", "reader_role")
