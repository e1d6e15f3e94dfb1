"""Clinical dates per patient for the trial endpoints.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

One row per patient: first dose, death, last known alive, first new anticancer
therapy and the data cut-off (docs/standards.md 3.1). Existing data is untouched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the clinical table."""
    op.create_table(
        "clinical_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_row_id", sa.Integer(), nullable=False),
        sa.Column("first_dose_date", sa.Date(), nullable=False),
        sa.Column("death_date", sa.Date(), nullable=True),
        sa.Column("last_known_alive_date", sa.Date(), nullable=True),
        sa.Column("new_anticancer_therapy_date", sa.Date(), nullable=True),
        sa.Column("data_cutoff_date", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_clinical_records"),
        sa.ForeignKeyConstraint(
            ["patient_row_id"],
            ["patients.id"],
            name="fk_clinical_records_patient_row_id_patients",
        ),
        sa.UniqueConstraint(
            "patient_row_id", name="uq_clinical_records_patient_row_id"
        ),
    )


def downgrade() -> None:
    """Drop the clinical table (its dates are lost; re-import the CSV)."""
    op.drop_table("clinical_records")
