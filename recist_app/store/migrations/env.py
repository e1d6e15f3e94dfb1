"""Alembic environment: runs on the connection :mod:`recist_app.store` passes in.

Without a connection (``alembic upgrade --sql`` style offline mode) it renders the
SQL for the dialect of ``sqlalchemy.url``, which the PostgreSQL test uses.
"""

from __future__ import annotations

from alembic import context

from recist_app.store.schema import Base


def _run() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is None:
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=Base.metadata,
            literal_binds=True,
        )
    else:
        context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()


_run()
