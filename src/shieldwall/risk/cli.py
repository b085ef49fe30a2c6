"""``shieldwall policy show`` and ``shieldwall sla report|remind``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console

from shieldwall.config import get_settings
from shieldwall.gate.policy import default_gate_policy_text, load_gate_policy
from shieldwall.output import FormatOption, OutputFormat, emit
from shieldwall.risk.policy import current_policy, default_policy_text
from shieldwall.risk.reminding import run_reminders
from shieldwall.risk.reports import sla_report
from shieldwall.risk.service import current_priorities
from shieldwall.runtime import database

policy_app = typer.Typer(help="The risk policy: priorities, SLAs, decision rights.")
sla_app = typer.Typer(help="SLA status, MTTR and reminders.", no_args_is_help=True)
console = Console(stderr=True)


@policy_app.command("show")
def policy_show_command(
    gate: Annotated[
        bool, typer.Option("--gate", help="The gate policy (what blocks a change) instead.")
    ] = False,
) -> None:
    """Print the policy in force: the defaults, with the file SHIELDWALL_POLICY (or, with
    --gate, SHIELDWALL_GATE_POLICY) names laid over them."""
    settings = get_settings()
    if gate:
        _show_gate_policy(settings.gate_policy)
        return
    if settings.policy is None:
        typer.echo(default_policy_text(), nl=False)
        return
    policy = current_policy(settings.policy)
    typer.echo(f"# the defaults (`SHIELDWALL_POLICY` unset) with {settings.policy} laid over them")
    typer.echo(yaml.safe_dump(policy.model_dump(mode="json", by_alias=True), sort_keys=False))


def _show_gate_policy(path: Path | None) -> None:
    if path is None:
        typer.echo(default_gate_policy_text(), nl=False)
        return
    policy = load_gate_policy(path)
    typer.echo(f"# the defaults (`SHIELDWALL_GATE_POLICY` unset) with {path} laid over them")
    typer.echo(yaml.safe_dump(policy.model_dump(mode="json"), sort_keys=False))


@sla_app.command("report")
def report_command(
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    days: Annotated[int, typer.Option(min=1, help="MTTR over findings fixed in these days.")] = 90,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Per team and priority: open, breached, due soon, accepted; MTTR and the share fixed
    within the SLA."""
    policy = current_policy(get_settings().policy)
    db = database()
    current_priorities(db, policy)
    with db.read() as session:
        rows = sla_report(session, policy, team=team, window_days=days)
    columns = [(k, k.replace("_", " ")) for k in ("team", "priority", "open", "breached")]
    columns += [(k, k.replace("_", " ")) for k in ("due_soon", "accepted", "fixed")]
    columns += [("mttr_days", "MTTR (days)"), ("fixed_within_sla", "within SLA")]
    emit(rows, columns, fmt, title=f"SLA by team and priority (MTTR: last {days} days)")


@sla_app.command("remind")
def remind_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print; send nothing.")] = False,
) -> None:
    """End expired exceptions, then send the reminders due (before and on breach, before an
    exception expires) to the configured notifiers. Each reminder goes out once. `shieldwall
    serve` (SQLite) and `shieldwall worker` (PostgreSQL) run the same on the schedule
    SHIELDWALL_REMINDERS_CRON; this command is for installations without either, from cron."""
    settings = get_settings()
    if not settings.notifiers and not dry_run:
        console.print("no notifiers configured (SHIELDWALL_NOTIFIERS): printing instead")
    run = run_reminders(database(), settings, dry_run=dry_run)
    for uid in run.expired:
        console.print(f"exception {uid} expired", markup=False)
    if not run.sent:
        for notice in run.due:
            typer.echo(f"{notice.kind}: {notice.subject}\n{notice.body}\n")
    for failure in run.failures:
        console.print(f"not sent: {failure}", markup=False)
    console.print(f"{len(run.due)} reminder(s)", markup=False)
