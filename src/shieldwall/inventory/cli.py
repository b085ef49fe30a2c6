"""``shieldwall inventory``: teams, people and services as code."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from shieldwall.config import get_settings
from shieldwall.inventory import service
from shieldwall.inventory.loader import load_inventory
from shieldwall.output import FormatOption, OutputFormat, emit
from shieldwall.runtime import cli_actor, database

app = typer.Typer(help="Teams, people and services, described in a file.", no_args_is_help=True)
console = Console(stderr=True)


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="Inventory YAML, or CSV of services or teams.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the changes, apply nothing.")
    ] = False,
) -> None:
    """Create or update teams, people and services from FILE (idempotent)."""
    spec, document = load_inventory(file, get_settings().max_inventory_size)
    db = database()
    try:
        with db.write() as session:
            result = service.apply_inventory(session, spec, document, cli_actor())
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    for change in result.changes:
        if change.action != "unchanged":
            detail = f" ({', '.join(change.fields)})" if change.fields else ""
            console.print(f"{change.action} {change.entity} {change.name}{detail}", markup=False)
    parts = []
    for entity, plural in (("team", "teams"), ("service", "services"), ("person", "people")):
        created, updated = result.count(entity, "created"), result.count(entity, "updated")
        unchanged = result.count(entity, "unchanged")
        if created or updated or unchanged:
            parts.append(f"{plural}: {created} created, {updated} updated, {unchanged} unchanged")
    prefix = "dry run, nothing applied: " if dry_run else ""
    console.print(prefix + ("; ".join(parts) or "the file describes nothing"), markup=False)


class Listing(StrEnum):
    SERVICES = "services"
    TEAMS = "teams"
    PEOPLE = "people"


_COLUMNS = {
    Listing.SERVICES: [
        ("name", "service"),
        ("team", "team"),
        ("tier", "tier"),
        ("exposure", "exposure"),
        ("data", "data"),
        ("lifecycle", "lifecycle"),
        ("repository", "repository"),
    ],
    Listing.TEAMS: [
        ("name", "team"),
        ("manager", "manager"),
        ("champion", "champion"),
        ("members", "members"),
        ("services", "services"),
    ],
    Listing.PEOPLE: [("email", "email"), ("name", "name")],
}


@app.command("list")
def list_inventory(
    what: Annotated[Listing, typer.Argument(help="What to list.")] = Listing.SERVICES,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List services (default), teams or people."""
    listers = {
        Listing.SERVICES: service.list_services,
        Listing.TEAMS: service.list_teams,
        Listing.PEOPLE: service.list_people,
    }
    with database().read() as session:
        rows = listers[what](session)
    emit(rows, _COLUMNS[what], fmt, title=what.value.capitalize())
