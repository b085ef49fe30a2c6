"""``shieldwall intel``: load, sync, inspect and move the vulnerability intelligence."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.audit import service as audit
from shieldwall.config import get_settings
from shieldwall.errors import ShieldwallError
from shieldwall.ingest.models import Component
from shieldwall.intel import bundle, store, sync
from shieldwall.intel.match import match_all
from shieldwall.intel.matching import ecosystem_family
from shieldwall.output import FormatOption, OutputFormat, emit
from shieldwall.risk.policy import current_policy
from shieldwall.risk.service import reprioritize, with_vulnerabilities
from shieldwall.runtime import cli_actor, database

app = typer.Typer(
    help="Vulnerability intelligence: OSV advisories, KEV, EPSS.", no_args_is_help=True
)
load_app = typer.Typer(help="Load a feed from a file.", no_args_is_help=True)
app.add_typer(load_app, name="load")
console = Console(stderr=True)


class Feed(StrEnum):
    OSV = "osv"
    KEV = "kev"
    EPSS = "epss"


@load_app.command("osv")
def load_osv_command(
    path: Annotated[Path, typer.Argument(help="A folder or zip of OSV records (JSON or YAML).")],
) -> None:
    """Load OSV advisories, then match stored components against them."""
    _load(Feed.OSV, path)


@load_app.command("kev")
def load_kev_command(
    path: Annotated[Path, typer.Argument(help="CISA's known_exploited_vulnerabilities.json.")],
) -> None:
    """Load the KEV catalog (a full snapshot: CVEs it no longer lists lose the flag)."""
    _load(Feed.KEV, path)


@load_app.command("epss")
def load_epss_command(
    path: Annotated[Path, typer.Argument(help="EPSS daily CSV, gzipped or not.")],
) -> None:
    """Load EPSS scores (a full snapshot)."""
    _load(Feed.EPSS, path)


def _load(feed: Feed, path: Path, origin: str | None = None) -> None:
    with database().write() as session, _counter(f"loading {feed} {path.name}") as tick:
        if feed is Feed.OSV:
            result = store.load_osv(session, path, origin=origin, progress=tick)
        elif feed is Feed.KEV:
            result = store.load_kev(session, path, origin=origin)
        else:
            result = store.load_epss(session, path, origin=origin, progress=tick)
        _after_load(session, [result])


def _after_load(session: Session, results: list[store.LoadResult]) -> None:
    """Record the loads, match components when advisories arrived, re-prioritise."""
    settings = get_settings()
    policy = current_policy(settings.policy)
    for result in results:
        console.print(result.line(), markup=False)
        audit.record(
            session,
            actor=cli_actor(),
            action="intel.loaded",
            entity_type="intel_feed",
            entity_id=result.feed,
            after={"added": result.added, "updated": result.updated, "removed": result.removed},
        )
    if any(r.feed == "osv" and (r.added or r.updated) for r in results):
        for summary in match_all(session, policy, settings):
            console.print(
                f"matched {summary.service} components: {summary.created} new, "
                f"{summary.closed} closed, {summary.unchanged + summary.updated} still affected",
                markup=False,
            )
    changed = reprioritize(session, policy, condition=with_vulnerabilities())
    console.print(f"re-prioritised: {changed} findings changed priority or SLA", markup=False)


@app.command("match")
def match_command() -> None:
    """Match every stored component against the advisories again: creates findings for new
    matches and closes those no longer affected."""
    settings = get_settings()
    with database().write() as session:
        results = match_all(session, current_policy(settings.policy), settings)
        rows = [
            {
                "service": r.service,
                "new": r.created,
                "closed": r.closed,
                "reopened": r.reopened,
                "affected": r.total,
            }
            for r in results
        ]
    emit(
        rows,
        [(k, k) for k in ("service", "new", "closed", "reopened", "affected")],
        OutputFormat.TABLE,
        title="Component matches",
    )


@app.command("status")
def status_command(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """What is loaded and how old it is."""
    with database().read() as session:
        feeds = store.status(session)
    rows = [
        {
            "feed": f.name,
            "records": f.records,
            "version": f.version,
            "data_date": f.data_date.isoformat() if f.data_date else None,
            "loaded_at": f.loaded_at.isoformat(timespec="seconds"),
            "age_days": f.age_days,
            "stale": f.stale,
            "origin": f.origin,
        }
        for f in feeds
    ]
    columns = [(k, k.replace("_", " ")) for k in ("feed", "records", "version", "data_date")]
    columns += [("age_days", "age (days)"), ("stale", "stale"), ("origin", "from")]
    emit(rows, columns, fmt, title="Intelligence")
    if fmt is OutputFormat.TABLE:
        if not rows:
            console.print("nothing loaded: run `shieldwall intel sync` or `shieldwall intel load`")
        for row in rows:
            if row["stale"]:
                console.print(f"{row['feed']} is {row['age_days']} days old", markup=False)


@app.command("sync")
def sync_command(
    ecosystem: Annotated[
        list[str] | None,
        typer.Option(
            help="OSV ecosystems to download (repeat); default: the configured ones"
            " and those of stored components."
        ),
    ] = None,
) -> None:
    """Download KEV, EPSS and the OSV ecosystem zips from their publishers, then load them.

    This command uses the network (nothing else in Shieldwall does)."""
    settings = get_settings()
    db = database()
    with db.read() as session:
        stored = {
            ecosystem_family(e)
            for e in session.scalars(select(Component.ecosystem).distinct())
            if e
        }
    wanted = ecosystem or sorted({*settings.intel_ecosystems, *stored})
    console.print(f"intel sync downloads from the network: KEV, EPSS, OSV {', '.join(wanted)}")
    failures: list[str] = []
    with sync.workspace() as folder, _downloads() as progress:
        loaded: list[tuple[sync.Source, Path]] = []
        for source in sync.sources(
            settings.intel_kev_url, settings.intel_epss_url, settings.intel_osv_url, wanted
        ):
            try:
                loaded.append((source, sync.download(source, Path(folder), progress)))
            except sync.DownloadError as exc:
                failures.append(exc.message)
        with db.write() as session:
            results = []
            for source, path in loaded:
                if source.feed == "kev":
                    results.append(store.load_kev(session, path, origin=source.url))
                elif source.feed == "epss":
                    results.append(store.load_epss(session, path, origin=source.url))
                else:
                    results.append(store.load_osv(session, path, origin=source.url))
            if results:
                _after_load(session, results)
    if failures:
        raise ShieldwallError("\n".join(failures))


@app.command("export-bundle")
def export_bundle_command(
    file: Annotated[Path, typer.Argument(help="The bundle to write (a .zip).")],
) -> None:
    """Write everything loaded to one file, to import on an installation without network."""
    with database().read() as session:
        counts = bundle.export_bundle(session, file)
    console.print(
        f"wrote {file}: {counts['osv']} advisories, {counts['kev']} KEV entries, "
        f"{counts['epss']} EPSS scores",
        markup=False,
    )


@app.command("import-bundle")
def import_bundle_command(
    file: Annotated[Path, typer.Argument(help="A bundle made by `intel export-bundle`.")],
) -> None:
    """Load a bundle made by `intel export-bundle` (one transaction)."""
    with database().write() as session:
        _after_load(session, bundle.import_bundle(session, file))


@contextmanager
def _counter(label: str) -> Iterator[Callable[[int], None]]:
    with Progress(
        TextColumn("{task.description}"),
        TextColumn("{task.completed} records"),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(label, total=None)
        yield lambda n: progress.advance(task, n)


@contextmanager
def _downloads() -> Iterator[sync.Progress]:
    with Progress(
        TextColumn("downloading {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as progress:
        tasks: dict[str, int] = {}

        def update(feed: str, done: int, total: int | None) -> None:
            if feed not in tasks:
                tasks[feed] = int(progress.add_task(feed, total=total))
            progress.update(tasks[feed], completed=done, total=total)  # type: ignore[arg-type]

        yield update
