"""iRECIST and mRECIST fields: confirmation window, mRECIST PD rule, HCC findings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

Existing readings get the rules' defaults (iUPD confirmed 28-56 days later, no
absolute mRECIST PD increase, no cytology, vascular pattern not assessed).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the columns with defaults, so readings stored before keep working.

    Plain ``ADD COLUMN`` (no table copy), which SQLite and PostgreSQL both do in
    place, so foreign keys pointing at these tables are untouched.
    """
    op.add_column(
        "readings",
        sa.Column(
            "irecist_confirmation_min_days",
            sa.Integer(),
            server_default=sa.text("28"),
            nullable=False,
        ),
    )
    op.add_column(
        "readings",
        sa.Column(
            "irecist_confirmation_max_days",
            sa.Integer(),
            server_default=sa.text("56"),
            nullable=False,
        ),
    )
    op.add_column(
        "readings", sa.Column("mrecist_pd_min_increase_mm", sa.Float(), nullable=True)
    )
    op.add_column(
        "non_target_assessments",
        sa.Column(
            "cytology_confirmed",
            sa.Boolean(),
            server_default=sa.false(),
            nullable=False,
        ),
    )
    op.add_column(
        "new_lesion_observations",
        sa.Column("typical_vascular_pattern", sa.Boolean(), nullable=True),
    )


def downgrade() -> None:
    """Drop the columns (their values are lost)."""
    op.drop_column("new_lesion_observations", "typical_vascular_pattern")
    op.drop_column("non_target_assessments", "cytology_confirmed")
    op.drop_column("readings", "mrecist_pd_min_increase_mm")
    op.drop_column("readings", "irecist_confirmation_max_days")
    op.drop_column("readings", "irecist_confirmation_min_days")
