"""Adverse events per patient for the safety endpoints.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09

One row per adverse event (term, system organ class, CTCAE grade, start and end,
serious, related, action taken), imported from the AE file
(docs/standards.md 3.7). Existing data is untouched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the adverse event table."""
    op.create_table(
        "adverse_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_row_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("soc", sa.Text(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("related", sa.Boolean(), nullable=False),
        sa.Column("action", sa.String(16), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_adverse_events"),
        sa.ForeignKeyConstraint(
            ["patient_row_id"],
            ["patients.id"],
            name="fk_adverse_events_patient_row_id_patients",
        ),
        sa.CheckConstraint(
            "grade BETWEEN 1 AND 5", name=op.f("ck_adverse_events_grade")
        ),
        sa.CheckConstraint(
            "action IS NULL OR action IN "
            "('none', 'interrupted', 'reduced', 'discontinued')",
            name=op.f("ck_adverse_events_action"),
        ),
    )
    op.create_index(
        "ix_adverse_events_patient_row_id", "adverse_events", ["patient_row_id"]
    )


def downgrade() -> None:
    """Drop the adverse event table (its rows are lost; re-import the AE file)."""
    op.drop_index("ix_adverse_events_patient_row_id", table_name="adverse_events")
    op.drop_table("adverse_events")
