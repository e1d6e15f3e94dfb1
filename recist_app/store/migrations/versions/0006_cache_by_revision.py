"""The response cache is keyed by the reading's revision, not a hash of its rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Hashing every row of a reading on every save made a save slower the more visits
the reading had; the revision, which every change of a reading increases, says the
same for free. ``cached_assessments.reading_sha256`` becomes ``reading_revision``.

Cached assessments are kept: each was written by the save that made the reading's
current content (signing and amending change the revision, not the content), so
it takes the reading's current revision. Its engine version is still checked.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# No SHA-256 digest is empty: revision 0005 recomputes such a cache when loaded.
_NO_DIGEST = ""
_COLUMNS_0005 = (
    "reading_id",
    "engine_version",
    "reading_sha256",
    "computed_at",
    "best_overall_response",
    "best_response_confirmed",
    "assessment",
)


def upgrade() -> None:
    """Give every cached assessment its reading's revision; drop the digest."""
    with op.batch_alter_table("cached_assessments") as batch:
        batch.add_column(sa.Column("reading_revision", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE cached_assessments SET reading_revision = COALESCE(("
        "SELECT readings.revision FROM readings "
        "WHERE readings.id = cached_assessments.reading_id), -1)"
    )
    with op.batch_alter_table("cached_assessments") as batch:
        batch.alter_column(
            "reading_revision", existing_type=sa.Integer(), nullable=False
        )
        batch.drop_column("reading_sha256")


def downgrade() -> None:
    """Bring the digest column back, empty, so revision 0005 recomputes each cache.

    Revision 0005 hashes the reading's rows with the program's own code, which a
    migration must not import; an empty digest matches no reading, so every
    cached assessment is recomputed (and its row rewritten) when next loaded.
    """
    with op.batch_alter_table("cached_assessments") as batch:
        batch.add_column(sa.Column("reading_sha256", sa.String(64), nullable=True))
    op.execute(f"UPDATE cached_assessments SET reading_sha256 = '{_NO_DIGEST}'")
    # Where revision 0002 put it (SQLite copies the table; PostgreSQL appends).
    with op.batch_alter_table(
        "cached_assessments",
        partial_reordering=[_COLUMNS_0005],
    ) as batch:
        batch.alter_column(
            "reading_sha256", existing_type=sa.String(64), nullable=False
        )
        batch.drop_column("reading_revision")
