"""Imported studies, series and file locations; cached derived responses.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UID = 64


def upgrade() -> None:
    """Create the imaging index and the response cache."""
    op.create_table(
        "studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_row_id", sa.Integer(), nullable=False),
        sa.Column("study_instance_uid", sa.String(UID), nullable=False),
        sa.Column("study_date", sa.Date(), nullable=True),
        sa.Column("study_time", sa.String(16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("accession_number", sa.String(16), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_studies"),
        sa.ForeignKeyConstraint(
            ["patient_row_id"],
            ["patients.id"],
            name="fk_studies_patient_row_id_patients",
        ),
        sa.UniqueConstraint("study_instance_uid", name="uq_studies_study_instance_uid"),
    )
    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("series_instance_uid", sa.String(UID), nullable=False),
        sa.Column("series_number", sa.Integer(), nullable=True),
        sa.Column("modality", sa.String(16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("series_date", sa.Date(), nullable=True),
        sa.Column("slice_thickness_mm", sa.Float(), nullable=True),
        sa.Column("phase_hint", sa.String(32), nullable=False),
        sa.Column("body_part", sa.String(64), nullable=False),
        sa.Column("slice_count", sa.Integer(), nullable=False),
        sa.Column("volume_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_series"),
        sa.ForeignKeyConstraint(
            ["study_id"], ["studies.id"], name="fk_series_study_id_studies"
        ),
        sa.UniqueConstraint(
            "series_instance_uid", name="uq_series_series_instance_uid"
        ),
    )
    op.create_table(
        "series_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("sop_instance_uid", sa.String(UID), nullable=False),
        sa.Column("file_path", sa.Text(), nullable=False),
        sa.Column("instance_number", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_series_files"),
        sa.ForeignKeyConstraint(
            ["series_id"], ["series.id"], name="fk_series_files_series_id_series"
        ),
        sa.UniqueConstraint(
            "series_id",
            "sop_instance_uid",
            name="uq_series_files_series_id_sop_instance_uid",
        ),
    )
    op.create_table(
        "cached_assessments",
        sa.Column("reading_id", sa.Integer(), nullable=False),
        sa.Column("engine_version", sa.String(64), nullable=False),
        sa.Column("reading_sha256", sa.String(64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("best_overall_response", sa.String(16), nullable=False),
        sa.Column("best_response_confirmed", sa.Boolean(), nullable=False),
        sa.Column("assessment", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("reading_id", name="pk_cached_assessments"),
        sa.ForeignKeyConstraint(
            ["reading_id"],
            ["readings.id"],
            name="fk_cached_assessments_reading_id_readings",
        ),
    )


def downgrade() -> None:
    """Drop the imaging index and the response cache (both can be rebuilt)."""
    op.drop_table("cached_assessments")
    op.drop_table("series_files")
    op.drop_table("series")
    op.drop_table("studies")
