"""``shieldwall findings``: list, show, triage, summarise."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from shieldwall.config import get_settings
from shieldwall.db.engine import Database
from shieldwall.exceptions.service import expire_due
from shieldwall.findings import service
from shieldwall.findings.filters import finding_filter
from shieldwall.findings.service import SortKey
from shieldwall.findings.vocabulary import Kind, Severity, Status
from shieldwall.output import FormatOption, OutputFormat, emit, emit_record
from shieldwall.risk.policy import current_policy
from shieldwall.risk.service import current_priorities
from shieldwall.runtime import cli_actor, database

app = typer.Typer(help="The deduplicated, tracked findings of every service.", no_args_is_help=True)
console = Console(stderr=True)

TABLE_DEFAULT_LIMIT = 200

_LIST_COLUMNS = [
    ("id", "id"),
    ("priority", "priority"),
    ("risk_score", "risk"),
    ("sla", "SLA"),
    ("service", "service"),
    ("severity", "severity"),
    ("status", "status"),
    ("kind", "kind"),
    ("title", "title"),
    ("location", "where"),
    ("tools", "tools"),
]


@app.command("list")
def list_command(
    service_names: Annotated[
        list[str] | None, typer.Option("--service", "-s", help="Only these services (repeat).")
    ] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            help="Statuses, comma-separated or repeated: active (default: open and reopened), all, "
            + ", ".join(s.value for s in Status)
            + "."
        ),
    ] = None,
    severity: Annotated[
        list[str] | None, typer.Option(help="Severities, comma-separated or repeated.")
    ] = None,
    kind: Annotated[
        list[str] | None, typer.Option(help="Kinds: " + ", ".join(k.value for k in Kind) + ".")
    ] = None,
    tool: Annotated[str | None, typer.Option(help="Only findings this tool reports.")] = None,
    sort: Annotated[
        SortKey, typer.Option(help="Order (priority: the order to fix in).")
    ] = SortKey.PRIORITY,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1,
            help=f"At most this many (table default {TABLE_DEFAULT_LIMIT}; JSON and CSV: all).",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List findings; by default the active ones (open, reopened), most urgent first."""
    flt = finding_filter(
        services=service_names, status=status, severity=severity, kind=kind, tool=tool
    )
    if limit is None and fmt is OutputFormat.TABLE:
        limit = TABLE_DEFAULT_LIMIT
    with _current().read() as session:
        rows, total = service.list_findings(session, flt, sort=sort, limit=limit)
    records = [row.model_dump(mode="json") for row in rows]
    if fmt is OutputFormat.TABLE:
        for record in records:
            record["location"] = _location(record)
            record["sla"] = _sla(record)
        emit(records, _LIST_COLUMNS, fmt, title=f"Findings ({total})")
        if total > len(records):
            console.print(
                f"showing {len(records)} of {total}; use --limit or --format json for more"
            )
    else:
        emit(records, _LIST_COLUMNS, fmt)


def _sla(record: dict[str, Any]) -> str:
    if record["sla_state"] == "breached":
        return f"{record['days_overdue']}d overdue"
    if record["sla_due"] and record["sla_state"] in ("on_track", "due_soon"):
        return f"due {record['sla_due'][:10]}"
    return str(record["sla_state"]).replace("_", " ")


def _current() -> Database:
    """The database, its stored priorities computed with the policy in force."""
    db = database()
    policy = current_policy(get_settings().policy)
    expire_due(db, policy)
    current_priorities(db, policy)
    return db


def _location(record: dict[str, object]) -> str:
    if record.get("purl") or record.get("component_name"):
        name = record.get("component_name") or record.get("purl")
        version = record.get("component_version")
        return f"{name}@{version}" if version else str(name)
    path = record.get("path") or "-"
    return f"{path}:{record['line']}" if record.get("line") else str(path)


@app.command("show")
def show_command(
    finding_id: Annotated[
        str, typer.Argument(metavar="ID", help="The finding's id (from `findings list`).")
    ],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Everything about one finding: details, where it was seen, its history."""
    with _current().read() as session:
        detail = service.finding_detail(session, finding_id.strip())
    if fmt is OutputFormat.JSON:
        emit_record(detail, fmt)
        return
    sightings = detail.pop("sightings")
    history = detail.pop("history")
    emit_record(detail, fmt)
    if fmt is OutputFormat.TABLE:
        emit(
            sightings,
            [
                ("tool", "tool"),
                ("branch", "branch"),
                ("present", "present"),
                ("last_import", "last import"),
                ("last_import_at", "at"),
            ],
            fmt,
            title="Seen by",
        )
        if history:
            emit(
                history,
                [("at", "at"), ("actor", "actor"), ("action", "action"), ("after", "after")],
                fmt,
                title="History",
            )


@app.command("explain")
def explain_command(
    finding_id: Annotated[str, typer.Argument(metavar="ID", help="The finding's id.")],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table or json.")
    ] = OutputFormat.TABLE,
) -> None:
    """Why a finding has its priority: one line per factor, with its effect (+ more urgent,
    - less, · considered)."""
    with _current().read() as session:
        record = service.explanation(session, finding_id.strip())
    if fmt is OutputFormat.JSON:
        emit_record(record, fmt)
        return
    console.print(
        f"{record['id']} {record['priority']} (risk {record['risk_score']}) "
        f"{record['service']}: {record['title']}",
        markup=False,
        highlight=False,
    )
    for factor in record["factors"]:
        console.print(f"  {factor['effect']} {factor['text']}", markup=False, highlight=False)


@app.command("triage")
def triage_command(
    finding_id: Annotated[str, typer.Argument(metavar="ID", help="The finding's id.")],
    status: Annotated[Status, typer.Option(help="false_positive, not_affected, or open.")],
    reason: Annotated[str, typer.Option(help="Why: kept with the finding and in the audit log.")],
) -> None:
    """Record a person's assessment; it stands across re-imports."""
    with database().write() as session:
        row = service.triage(session, finding_id.strip(), status, reason, cli_actor())
    console.print(
        f"finding {row.id} is {row.status} ({row.status_source}): {row.status_reason}", markup=False
    )


@app.command("summary")
def summary_command(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Open findings per service by severity, with fixed and dismissed counts."""
    with database().read() as session:
        rows = service.summary_by_service(session)
    columns = [
        ("service", "service"),
        *((s.value, s.value) for s in Severity),
        ("open", "open"),
        ("fixed", "fixed"),
        ("dismissed", "dismissed"),
    ]
    emit(rows, columns, fmt, title="Open findings per service")
