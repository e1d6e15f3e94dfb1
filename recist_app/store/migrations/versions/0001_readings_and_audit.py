"""Readings, lesions, visits, findings, signed versions and the audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UID = 64

# Per dialect, the statements that make audit_log append-only. Frozen here as
# written at this revision; a later change belongs in a new revision.
_AUDIT_PROTECTION = {
    "sqlite": (
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be "
        "updated'); END",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be "
        "deleted'); END",
    ),
    "postgresql": (
        # No "%" placeholder: drivers with the pyformat style would double it.
        "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RAISE EXCEPTION USING MESSAGE = "
        "'audit_log is append-only: ' || lower(TG_OP) || ' refused'; END $$",
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ),
}


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _finding_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("timepoint_id", sa.Integer(), nullable=False),
        sa.Column("lesion_row_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    ]


def _finding_constraints(table: str) -> list[sa.Constraint]:
    return [
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        sa.ForeignKeyConstraint(
            ["timepoint_id"],
            ["timepoints.id"],
            name=f"fk_{table}_timepoint_id_timepoints",
        ),
        sa.ForeignKeyConstraint(
            ["lesion_row_id"], ["lesions.id"], name=f"fk_{table}_lesion_row_id_lesions"
        ),
        sa.UniqueConstraint(
            "timepoint_id",
            "lesion_row_id",
            name=f"uq_{table}_timepoint_id_lesion_row_id",
        ),
    ]


def _geometry_columns() -> list[sa.Column[object]]:
    columns: list[sa.Column[object]] = [
        sa.Column("geometry_series_instance_uid", sa.String(UID), nullable=True),
        sa.Column("geometry_sop_instance_uid", sa.String(UID), nullable=True),
        sa.Column("geometry_method", sa.String(16), nullable=True),
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
    """Create the reading tables and the protected audit trail."""
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_patients"),
        sa.UniqueConstraint("patient_id", name="uq_patients_patient_id"),
    )
    op.create_table(
        "readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_row_id", sa.Integer(), nullable=False),
        sa.Column("criteria", sa.String(16), nullable=False),
        sa.Column("reader", sa.String(128), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("signed_version", sa.Integer(), nullable=False),
        sa.Column("signed_at", _timestamp(), nullable=True),
        sa.Column("signed_by", sa.String(128), nullable=True),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("first_dose_date", sa.Date(), nullable=True),
        sa.Column("confirmation_min_days", sa.Integer(), nullable=False),
        sa.Column("sd_min_days", sa.Integer(), nullable=False),
        sa.Column("require_confirmation", sa.Boolean(), nullable=False),
        sa.Column("max_ne_between_confirmation", sa.Integer(), nullable=False),
        sa.Column("too_small_mm", sa.Float(), nullable=False),
        sa.Column("pd_min_increase_mm", sa.Float(), nullable=True),
        sa.Column("baseline_window_days", sa.Integer(), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
        sa.Column("updated_at", _timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_readings"),
        sa.ForeignKeyConstraint(
            ["patient_row_id"],
            ["patients.id"],
            name="fk_readings_patient_row_id_patients",
        ),
        sa.UniqueConstraint(
            "patient_row_id",
            "criteria",
            "reader",
            name="uq_readings_patient_row_id_criteria_reader",
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'signed')", name=op.f("ck_readings_status")
        ),
    )
    op.create_table(
        "lesions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reading_id", sa.Integer(), nullable=False),
        sa.Column("lesion_id", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("organ", sa.String(128), nullable=False),
        sa.Column("location", sa.String(256), nullable=False),
        sa.Column("is_lymph_node", sa.Boolean(), nullable=False),
        sa.Column("tracking_uid", sa.String(UID), nullable=True),
        sa.Column("is_cystic", sa.Boolean(), nullable=False),
        sa.Column("previously_irradiated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lesions"),
        sa.ForeignKeyConstraint(
            ["reading_id"], ["readings.id"], name="fk_lesions_reading_id_readings"
        ),
        sa.UniqueConstraint(
            "reading_id", "lesion_id", name="uq_lesions_reading_id_lesion_id"
        ),
    )
    op.create_table(
        "timepoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reading_id", sa.Integer(), nullable=False),
        sa.Column("visit", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("is_baseline", sa.Boolean(), nullable=False),
        sa.Column("slice_thickness_mm", sa.Float(), nullable=True),
        sa.Column("modality", sa.String(8), nullable=False),
        sa.Column("study_instance_uid", sa.String(UID), nullable=True),
        sa.Column("series_instance_uid", sa.String(UID), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_timepoints"),
        sa.ForeignKeyConstraint(
            ["reading_id"], ["readings.id"], name="fk_timepoints_reading_id_readings"
        ),
        sa.UniqueConstraint(
            "reading_id", "visit", name="uq_timepoints_reading_id_visit"
        ),
    )
    op.create_table(
        "measurements",
        *_finding_columns(),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("long_axis_mm", sa.Float(), nullable=True),
        sa.Column("short_axis_mm", sa.Float(), nullable=True),
        sa.Column("viable_long_axis_mm", sa.Float(), nullable=True),
        sa.Column("parts_mm", sa.JSON(), nullable=False),
        sa.Column("merged_into", sa.String(16), nullable=True),
        *_geometry_columns(),
        *_finding_constraints("measurements"),
    )
    op.create_table(
        "non_target_assessments",
        *_finding_columns(),
        sa.Column("state", sa.String(32), nullable=False),
        *_finding_constraints("non_target_assessments"),
    )
    op.create_table(
        "new_lesion_observations",
        *_finding_columns(),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("not_imaged_at_baseline", sa.Boolean(), nullable=False),
        sa.Column("long_axis_mm", sa.Float(), nullable=True),
        sa.Column("short_axis_mm", sa.Float(), nullable=True),
        *_geometry_columns(),
        *_finding_constraints("new_lesion_observations"),
    )
    op.create_table(
        "reading_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reading_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("signed_at", _timestamp(), nullable=False),
        sa.Column("signed_by", sa.String(128), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("snapshot_sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reading_versions"),
        sa.ForeignKeyConstraint(
            ["reading_id"],
            ["readings.id"],
            name="fk_reading_versions_reading_id_readings",
        ),
        sa.UniqueConstraint(
            "reading_id", "version", name="uq_reading_versions_reading_id_version"
        ),
    )
    op.create_table(
        "audit_log",
        sa.Column("sequence", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", sa.String(40), nullable=False),
        sa.Column("user_name", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_key", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("before_values", sa.Text(), nullable=True),
        sa.Column("after_values", sa.Text(), nullable=True),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name="pk_audit_log"),
        sa.UniqueConstraint("row_hash", name="uq_audit_log_row_hash"),
    )
    dialect = op.get_context().dialect.name
    if dialect not in _AUDIT_PROTECTION:
        raise RuntimeError(
            f"the audit trail has no append-only protection for {dialect} databases "
            f"(supported: {', '.join(sorted(_AUDIT_PROTECTION))})"
        )
    for statement in _AUDIT_PROTECTION[dialect]:
        op.execute(statement)


def downgrade() -> None:
    """Not supported: downgrading would discard the audit trail."""
    raise NotImplementedError("the reading database cannot be downgraded")
