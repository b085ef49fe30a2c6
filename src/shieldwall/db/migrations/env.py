"""Alembic environment: always run from ``shieldwall.db.migrate`` with a live connection."""

from __future__ import annotations

from alembic import context

from shieldwall.db.migrate import include_name
from shieldwall.db.schema import metadata

connection = context.config.attributes["connection"]


context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_name=include_name,
)
with context.begin_transaction():
    context.run_migrations()
