"""What every front door needs: the configured database and the acting identity."""

from __future__ import annotations

import getpass
from functools import lru_cache

from shieldwall.config import get_settings
from shieldwall.db.engine import Database
from shieldwall.db.revision import ensure_current


@lru_cache(maxsize=1)
def database() -> Database:
    """The configured database, its schema checked (and, for SQLite, migrated)."""
    db = raw_database()
    ensure_current(db)
    return db


@lru_cache(maxsize=1)
def raw_database() -> Database:
    """The configured database as it is, for commands that manage the schema itself."""
    return Database(get_settings().resolved_database_url)


def cli_actor() -> str:
    """Audit identity of a command-line user: ``cli`` plus the operating-system account."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
