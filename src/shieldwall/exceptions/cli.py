"""``shieldwall exception``: request, approve, reject and list risk exceptions; and
``shieldwall vex export``."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from shieldwall.auth.models import User
from shieldwall.auth.service import get_user
from shieldwall.config import get_settings
from shieldwall.errors import InputError
from shieldwall.exceptions import service
from shieldwall.exceptions.vex import vex_export
from shieldwall.exceptions.vocabulary import ExceptionState
from shieldwall.output import FormatOption, OutputFormat, emit, emit_record
from shieldwall.risk.policy import Priority, current_policy
from shieldwall.risk.service import current_priorities
from shieldwall.runtime import database

app = typer.Typer(
    help="Risk exceptions: accept a finding's risk until a date.", no_args_is_help=True
)
vex_app = typer.Typer(
    help="VEX statements for not-affected and accepted findings.", no_args_is_help=True
)
console = Console(stderr=True)

ActingAs = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="The account acting (default: SHIELDWALL_OPERATOR from the configuration).",
    ),
]


def _acting(session: object, email: str | None) -> User:
    named = email or get_settings().operator
    if not named:
        raise InputError("name the account acting with --as EMAIL (or set SHIELDWALL_OPERATOR)")
    return get_user(session, named)  # type: ignore[arg-type]


def _expiry(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@app.command("request")
def request_command(
    reason: Annotated[str, typer.Option(help="Why the risk is acceptable.")],
    compensating_controls: Annotated[
        str, typer.Option(help="What reduces the risk meanwhile ('none' if nothing).")
    ],
    expires: Annotated[str, typer.Option(help="Last day it holds (YYYY-MM-DD).")],
    finding: Annotated[str | None, typer.Option(help="The finding's id.")] = None,
    rule: Annotated[
        str | None, typer.Option(help="A rule: every finding of it in --service.")
    ] = None,
    service_name: Annotated[str | None, typer.Option("--service", help="With --rule.")] = None,
    acting: ActingAs = None,
) -> None:
    """Ask for an exception; someone the policy names decides on it."""
    policy = current_policy(get_settings().policy)
    db = database()
    current_priorities(db, policy)
    with db.write() as session:
        exception = service.request(
            session,
            _acting(session, acting),
            service.Subject(finding=finding, rule=rule, service=service_name),
            reason=reason,
            compensating_controls=compensating_controls,
            expires=_expiry(expires),
            policy=policy,
        )
        console.print(
            f"exception {exception.uid} requested (P{exception.priority}, until "
            f"{exception.expires_at.date().isoformat()}); approvers: "
            + ", ".join(policy.exceptions.approvers_for(Priority(exception.priority))),
            markup=False,
        )
    typer.echo(exception.uid)


def _decide(exception_id: str, acting: str | None, note: str | None, approve: bool) -> None:
    policy = current_policy(get_settings().policy)
    with database().write() as session:
        exception = service.decide(
            session,
            _acting(session, acting),
            exception_id.strip(),
            approve=approve,
            note=note,
            policy=policy,
        )
        console.print(f"exception {exception.uid} is {exception.state}", markup=False)


@app.command("approve")
def approve_command(
    exception_id: Annotated[str, typer.Argument(metavar="ID")],
    note: Annotated[str | None, typer.Option(help="Kept with the decision.")] = None,
    acting: ActingAs = None,
) -> None:
    """Approve: what it covers becomes accepted until the expiry date."""
    _decide(exception_id, acting, note, approve=True)


@app.command("reject")
def reject_command(
    exception_id: Annotated[str, typer.Argument(metavar="ID")],
    note: Annotated[str | None, typer.Option(help="Why, for the requester.")] = None,
    acting: ActingAs = None,
) -> None:
    """Reject a request."""
    _decide(exception_id, acting, note, approve=False)


_COLUMNS = [
    ("id", "id"),
    ("state", "state"),
    ("priority", "priority"),
    ("service", "service"),
    ("finding_id", "finding"),
    ("rule_id", "rule"),
    ("expires_at", "expires"),
    ("days_left", "days left"),
    ("age_days", "age"),
    ("requested_by", "requested by"),
    ("decided_by", "decided by"),
    ("reason", "reason"),
]


@app.command("list")
def list_command(
    state: Annotated[
        list[ExceptionState] | None, typer.Option(help="Only these states (repeat).")
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Exceptions, newest first, with their aging (expired ones are ended first)."""
    db = database()
    service.expire_due(db, current_policy(get_settings().policy))
    with db.read() as session:
        rows = service.listing(session, states=state)
    emit(rows, _COLUMNS, fmt, title="Exceptions")
    if fmt is OutputFormat.TABLE:
        summary = service.aging(rows)
        console.print(
            f"{summary['approved']} approved ({summary['older_than_90_days']} older than 90 "
            f"days, {summary['share_older_than_90_days']:.0%}), "
            f"{summary['awaiting_decision']} awaiting a decision",
            markup=False,
        )


@app.command("aging")
def aging_command(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Exception aging: approved, median age, share older than 90 days."""
    with database().read() as session:
        summary = service.aging(service.listing(session))
    emit_record(summary, fmt)


class VexFormat(StrEnum):
    OPENVEX = "openvex"
    CYCLONEDX = "cyclonedx"


@vex_app.command("export")
def vex_export_command(
    service_name: Annotated[str, typer.Option("--service", help="The service (product).")],
    fmt: Annotated[VexFormat, typer.Option("--format", help="openvex or cyclonedx.")] = (
        VexFormat.OPENVEX
    ),
) -> None:
    """Print a VEX document of the service's not-affected and accepted findings."""
    with database().read() as session:
        document = vex_export(session, service_name, fmt.value)
    typer.echo(json.dumps(document, indent=2))
