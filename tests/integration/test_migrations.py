"""The migrations build exactly the schema the code declares, on both engines, and can be
walked back and forth."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shieldwall.db import revision
from shieldwall.db.engine import Database
from shieldwall.db.migrate import _config, current_revision, head_revision, include_name, upgrade
from shieldwall.db.schema import metadata


def differences(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        return list(compare_metadata(context, metadata))


def test_the_migrated_schema_is_the_declared_one(db: Database) -> None:
    assert current_revision(db) == head_revision()
    assert differences(db) == []


def test_each_migration_goes_down_and_up_again(db: Database) -> None:
    config = _config()
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert current_revision(db) is None
    upgrade(db)
    assert differences(db) == []


def test_the_quick_schema_check_knows_the_newest_migration(db: Database) -> None:
    # Commands compare the stored revision with revision.HEAD before loading Alembic: a new
    # migration must move HEAD, or every command would migrate (SQLite) or refuse (PostgreSQL).
    assert head_revision() == revision.HEAD
    assert revision.stored_revision(db) == head_revision()
