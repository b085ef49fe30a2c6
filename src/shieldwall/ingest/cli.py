"""``shieldwall import`` and ``shieldwall formats``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from shieldwall.config import get_settings
from shieldwall.ingest import registry
from shieldwall.ingest.service import ImportRequest, import_report, list_components
from shieldwall.output import FormatOption, OutputFormat, emit
from shieldwall.runtime import cli_actor, database

console = Console(stderr=True)
_PROGRESS_FROM_BYTES = 8 * 1024 * 1024


def import_command(
    file: Annotated[
        Path, typer.Argument(help="The scanner's report (JSON, JSON lines, XML; gzip is fine).")
    ],
    service: Annotated[
        str, typer.Option("--service", "-s", help="Inventory service the report is about.")
    ],
    fmt: Annotated[
        str, typer.Option("--format", help="Report format, or auto to detect it from the content.")
    ] = "auto",
    branch: Annotated[
        str, typer.Option(help="Branch scanned; each branch is its own scan stream.")
    ] = "",
    commit: Annotated[str | None, typer.Option(help="Commit scanned.")] = None,
    partial: Annotated[
        bool,
        typer.Option("--partial", help="A partial scan: add and update, never close findings."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import one report into SERVICE's findings (one transaction: all or nothing)."""
    request = ImportRequest(
        path=file,
        service=service,
        format=fmt,
        branch=branch.strip(),
        commit=commit.strip() if commit else None,
        partial=partial,
        actor=cli_actor(),
    )
    settings = get_settings()
    db = database()
    size = file.stat().st_size if file.is_file() else 0
    with Progress(
        TextColumn("importing {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=size < _PROGRESS_FROM_BYTES or not console.is_terminal,
    ) as progress:
        task = progress.add_task(file.name, total=size)
        summary = import_report(
            db, request, settings, lambda done: progress.update(task, completed=done)
        )
    if as_json:
        typer.echo(json.dumps(summary.counts()))
        return
    counts = summary.counts()
    scope = "partial scan, nothing closed" if summary.partial else "complete scan"
    console.print(
        f"imported {file.name} as {summary.format} ({', '.join(summary.tools) or 'no tool runs'}) "
        f"into {summary.service} [{scope}]: "
        + ", ".join(f"{value} {name}" for name, value in counts.items())
        + (f"; {summary.components} components" if summary.components else "")
        + f" (import {summary.id})",
        markup=False,
        highlight=False,
    )


def formats_command(
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List the report formats `shieldwall import` reads."""
    rows = [
        {"name": f.name, "title": f.title, "syntax": sorted(f.syntaxes)}
        for f in registry.all_formats().values()
    ]
    emit(
        rows,
        [("name", "--format"), ("title", "format"), ("syntax", "syntax")],
        fmt,
        title="Report formats",
    )


def components_command(
    service: Annotated[
        str | None, typer.Option("--service", "-s", help="Only this service.")
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List the components (packages) the imported SBOMs and scans list, per service."""
    with database().read() as session:
        rows = list_components(session, service)
    columns = [
        ("service", "service"),
        ("name", "component"),
        ("version", "version"),
        ("ecosystem", "ecosystem"),
        ("licenses", "licenses"),
        ("tool", "from"),
    ]
    emit(rows, columns, fmt, title=f"Components ({len(rows)})")
