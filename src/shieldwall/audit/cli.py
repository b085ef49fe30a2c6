"""``shieldwall audit``: read and verify the audit log."""

from __future__ import annotations

from typing import Annotated

import typer

from shieldwall.audit import service
from shieldwall.clock import isoformat
from shieldwall.errors import CheckFailed
from shieldwall.output import FormatOption, OutputFormat, emit
from shieldwall.runtime import database

app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)


@app.command()
def verify(
    expect_head: Annotated[
        str | None,
        typer.Option(help="Head hash recorded earlier; detects entries removed from the end."),
    ] = None,
) -> None:
    """Check the hash chain; exit 1 when any entry was changed, removed or reordered."""
    with database().read() as session:
        result = service.verify(session, expect_head=expect_head)
    for problem in result.problems:
        typer.echo(f"audit chain: {problem}", err=True)
    if not result.ok:
        raise CheckFailed(f"audit log verification failed ({len(result.problems)} problems)")
    typer.echo(f"audit chain intact: {result.entries} entries, head {result.head_hash}")


@app.command("list")
def list_entries(
    entity_type: Annotated[
        str | None, typer.Option("--entity", help="team, service, finding, import...")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """The latest entries, newest first."""
    with database().read() as session:
        entries = service.list_entries(session, entity_type=entity_type, limit=limit)
    rows = [
        {
            "seq": e.seq,
            "at": isoformat(e.at),
            "actor": e.actor,
            "action": e.action,
            "entity_type": e.entity_type,
            "entity_id": e.entity_id,
            "changed": service.changed_fields(e.before, e.after),
            "before": e.before,
            "after": e.after,
            "hash": e.hash,
        }
        for e in entries
    ]
    if fmt is OutputFormat.CSV:
        # before/after are objects: JSON keeps them, CSV carries them as JSON text.
        for row in rows:
            row["before"] = service.canonical_json(row["before"])
            row["after"] = service.canonical_json(row["after"])
    columns = [
        ("seq", "#"),
        ("at", "at"),
        ("actor", "actor"),
        ("action", "action"),
        ("entity_id", "entity"),
        ("changed", "changed"),
    ]
    emit(rows, columns, fmt, title="Audit log")
