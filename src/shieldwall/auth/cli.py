"""``shieldwall user`` and ``shieldwall token``: accounts and API tokens."""

from __future__ import annotations

import getpass
import json
import sys
from typing import Annotated

import typer
from rich.console import Console

from shieldwall.auth import service
from shieldwall.auth.policy import Role, TokenScope
from shieldwall.clock import isoformat
from shieldwall.errors import InputError
from shieldwall.output import FormatOption, OutputFormat, emit
from shieldwall.runtime import cli_actor, database

users = typer.Typer(help="People who sign in to the web UI and API.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens for CI pipelines and scripts.", no_args_is_help=True)
console = Console(stderr=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise InputError("no terminal to ask for the password: use --password-stdin")
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise InputError("the two passwords differ")
    service.check_password(password)
    return password


@users.command("create")
def create_user(
    email: Annotated[str, typer.Option("--email", help="Sign-in address.")],
    role: Annotated[Role, typer.Option("--role", help="What the user may do.")],
    team: Annotated[
        list[str] | None,
        typer.Option("--team", help="A team the user belongs to (repeat for several)."),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
    ] = False,
) -> None:
    """Create a user; managers and engineers need at least one --team."""
    password = _read_password(password_stdin)
    with database().write() as session:
        user = service.create_user(
            session, email=email, role=role, teams=team or [], password=password, actor=cli_actor()
        )
        console.print(f"created {user.role} {user.email}", markup=False)


@users.command("list")
def list_users(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """List users, their roles and teams."""
    with database().read() as session:
        rows = service.list_users(session)
    columns = [
        ("email", "email"),
        ("role", "role"),
        ("teams", "teams"),
        ("active", "active"),
        ("last_login_at", "last sign-in"),
    ]
    emit(rows, columns, fmt, title="Users")


def _set_active(email: str, active: bool) -> None:
    with database().write() as session:
        user = service.set_active(session, email, active, cli_actor())
        console.print(f"{'enabled' if active else 'disabled'} {user.email}", markup=False)


@users.command("disable")
def disable_user(email: Annotated[str, typer.Argument(help="The user's e-mail.")]) -> None:
    """Stop a user from signing in (their history stays)."""
    _set_active(email, False)


@users.command("enable")
def enable_user(email: Annotated[str, typer.Argument(help="The user's e-mail.")]) -> None:
    """Let a disabled user sign in again."""
    _set_active(email, True)


@tokens.command("create")
def create_token(
    name: Annotated[str, typer.Option("--name", help="What the token is for (a pipeline).")],
    team: Annotated[str, typer.Option("--team", help="The team whose services it serves.")],
    scope: Annotated[TokenScope, typer.Option("--scope", help="What it may do.")],
    expires: Annotated[
        int | None, typer.Option("--expires", help="Days until it stops working.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON with the key `token`.")
    ] = False,
) -> None:
    """Create an API token. It is shown once: store it in the pipeline's secrets."""
    with database().write() as session:
        new = service.create_token(
            session, name=name, team=team, scope=scope, expires_days=expires, actor=cli_actor()
        )
        record = new.record
        summary = {
            "id": record.uid,
            "name": record.name,
            "team": team,
            "scope": record.scope,
            "expires_at": isoformat(record.expires_at),
        }
    if as_json:
        typer.echo(json.dumps({**summary, "token": new.token}))
        return
    console.print(
        f"created {record.scope} token {record.name} ({record.uid}) for team {team}; "
        "it is shown once:",
        markup=False,
    )
    typer.echo(new.token)


@tokens.command("list")
def list_tokens(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """List API tokens (never the tokens themselves)."""
    with database().read() as session:
        rows = service.list_tokens(session)
    columns = [
        ("id", "id"),
        ("name", "name"),
        ("team", "team"),
        ("scope", "scope"),
        ("prefix", "starts with"),
        ("state", "state"),
        ("expires_at", "expires"),
        ("last_used_at", "last used"),
    ]
    emit(rows, columns, fmt, title="API tokens")


@tokens.command("revoke")
def revoke_token(token_id: Annotated[str, typer.Argument(help="The token's id.")]) -> None:
    """Stop a token from working, at once."""
    with database().write() as session:
        record = service.revoke_token(session, token_id, cli_actor())
        console.print(f"revoked {record.name} ({record.uid})", markup=False)
