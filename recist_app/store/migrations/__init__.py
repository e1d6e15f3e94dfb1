"""Alembic environment and revisions of the reading database, run programmatically."""
