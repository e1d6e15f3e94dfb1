"""Keyed audit rows: an HMAC per row, and the rows found by entity key.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

``audit_log.row_mac`` holds HMAC-SHA256 of the row's hash under the site's audit
key (``$RECIST_APP_AUDIT_KEY``), which is kept outside the database; rows written
without a key, and every row written before this revision, have none. The rows'
content and hashes are untouched, so the chain verifies as before.
``ix_audit_log_entity_key`` lets an export find the row that recorded a reading's
signature without reading the whole trail.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable column and the index.

    A plain ``ADD COLUMN`` on SQLite as on PostgreSQL: the table is not copied,
    so its append-only triggers stay as they are.
    """
    op.add_column("audit_log", sa.Column("row_mac", sa.String(64), nullable=True))
    op.create_index("ix_audit_log_entity_key", "audit_log", ["entity_key"])


def downgrade() -> None:
    """Drop the index and the column (the MACs are lost, the chain is kept).

    ``ALTER TABLE ... DROP COLUMN`` in place (SQLite 3.35 and later, PostgreSQL):
    a batch copy of the table would drop its append-only triggers with it.
    """
    op.drop_index("ix_audit_log_entity_key", table_name="audit_log")
    op.drop_column("audit_log", "row_mac")
