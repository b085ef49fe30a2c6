"""``shieldwall db``: schema and backups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from shieldwall.audit import service as audit
from shieldwall.db import backup as backups
from shieldwall.db import migrate
from shieldwall.errors import CheckFailed
from shieldwall.runtime import raw_database

app = typer.Typer(help="Database schema and portable backups.", no_args_is_help=True)
console = Console(stderr=True)


@app.command()
def upgrade() -> None:
    """Create or migrate the schema to the current version."""
    db = raw_database()
    before = migrate.current_revision(db)
    migrate.upgrade(db)
    after = migrate.current_revision(db)
    state = "already current" if before == after else f"{before or 'empty'} -> {after}"
    console.print(f"database {db.display_url()}: {state}")


@app.command()
def current() -> None:
    """Show the database location and its schema revision."""
    db = raw_database()
    revision = migrate.current_revision(db)
    head = migrate.head_revision()
    note = "current" if revision == head else f"behind, head is {head}"
    typer.echo(f"{db.display_url()} revision {revision or 'none'} ({note})")


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the JSON-lines dump.")],
) -> None:
    """Write a portable backup (restorable into SQLite or PostgreSQL)."""
    summary = backups.backup(raw_database(), file)
    console.print(f"wrote {summary.rows} rows to {summary.path} (schema {summary.schema_revision})")


@app.command()
def restore(file: Annotated[Path, typer.Argument(help="A file written by `db backup`.")]) -> None:
    """Load a backup into an empty database, then check its audit chain."""
    db = raw_database()
    summary = backups.restore(db, file)
    console.print(f"restored {summary.rows} rows from {summary.path} into {db.display_url()}")
    with db.read() as session:
        result = audit.verify(session)
    if not result.ok:
        raise CheckFailed(f"restored, but the audit chain is broken: {result.problems[0]}")
    console.print(f"audit chain intact: {result.entries} entries")
