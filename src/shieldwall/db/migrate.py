"""Schema migrations with Alembic, driven from code (no alembic.ini to find).

The embedded SQLite store migrates itself on first use, as a desktop application would; a
PostgreSQL server is shared by many processes, so it is migrated only by an explicit
``shieldwall db upgrade`` and every other command refuses to run on an outdated schema.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory

from shieldwall.db.engine import Database
from shieldwall.errors import InputError

_MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    """The migration scripts, read once: they do not change while the program runs."""
    return ScriptDirectory.from_config(_config())


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """What Alembic compares with the models: everything but procrastinate's job queue
    (PostgreSQL), whose tables migration 0003 creates from procrastinate's own schema."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    config = _config()
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def ensure_current(db: Database) -> None:
    """Make sure the schema is at head before a command touches the data."""
    current = current_revision(db)
    head = head_revision()
    if current == head:
        return
    if db.dialect == "sqlite":
        upgrade(db)
        return
    state = "empty" if current is None else f"at revision {current}"
    raise InputError(
        f"database {db.display_url()} is {state}, not at {head}: run `shieldwall db upgrade`"
    )


def all_revisions() -> list[Script]:
    return list(_scripts().walk_revisions())
