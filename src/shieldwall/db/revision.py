"""The schema revision every command needs, checked without importing Alembic.

Importing Alembic (and Mako and Pygments with it) costs a command about 0.15 s of start-up;
the usual answer, "the schema is current", needs one query. ``HEAD`` is the newest
migration's revision (a test holds it equal to Alembic's head); only when the stored revision
differs is Alembic loaded, to migrate SQLite or to refuse an outdated PostgreSQL schema.
"""

from __future__ import annotations

from sqlalchemy import inspect, text

from shieldwall.db.engine import Database

HEAD = "0006"
_VERSION_TABLE = "alembic_version"


def stored_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        if not inspect(conn).has_table(_VERSION_TABLE):
            return None
        value = conn.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalar()  # noqa: S608 - a constant
        return str(value) if value is not None else None


def ensure_current(db: Database) -> None:
    """Make sure the schema is at head before a command touches the data."""
    if stored_revision(db) == HEAD:
        return
    from shieldwall.db import migrate  # Alembic, only when there is work to do or to refuse

    migrate.ensure_current(db)
