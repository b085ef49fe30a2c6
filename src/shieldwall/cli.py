"""The ``shieldwall`` command: every domain's commands under one root.

Errors reach the user as one line on stderr with a documented exit code (see
``shieldwall.errors``); a traceback is shown only with ``SHIELDWALL_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys

import typer

from shieldwall import __version__
from shieldwall.audit.cli import app as audit_app
from shieldwall.auth.cli import tokens as tokens_app
from shieldwall.auth.cli import users as users_app
from shieldwall.coverage.cli import coverage_command
from shieldwall.db.cli import app as db_app
from shieldwall.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, ShieldwallError
from shieldwall.exceptions.cli import app as exception_app
from shieldwall.exceptions.cli import vex_app
from shieldwall.findings.cli import app as findings_app
from shieldwall.gate.cli import (
    friction_command,
    gate_command,
    gate_override_command,
    gate_runs_command,
)
from shieldwall.ingest.cli import components_command, formats_command, import_command
from shieldwall.intel.cli import app as intel_app
from shieldwall.inventory.cli import app as inventory_app
from shieldwall.risk.cli import policy_app, sla_app
from shieldwall.scan.cli import check_secrets_command, posture_command, sbom_command, scan_command
from shieldwall.threatmodel.cli import app as threatmodel_app
from shieldwall.web.cli import serve_command, worker_command

app = typer.Typer(
    name="shieldwall",
    help="Security program control plane: inventory, findings, and the evidence they work.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(inventory_app, name="inventory")
app.add_typer(findings_app, name="findings")
app.add_typer(intel_app, name="intel")
app.add_typer(exception_app, name="exception")
app.add_typer(vex_app, name="vex")
app.add_typer(policy_app, name="policy")
app.add_typer(sla_app, name="sla")
app.add_typer(users_app, name="user")
app.add_typer(tokens_app, name="token")
app.add_typer(threatmodel_app, name="threatmodel")
app.command("import")(import_command)
app.command("formats")(formats_command)
app.command("scan")(scan_command)
app.command("check-secrets")(check_secrets_command)
app.command("gate")(gate_command)
app.command("gate-runs")(gate_runs_command)
app.command("gate-override")(gate_override_command)
app.command("friction")(friction_command)
app.command("sbom")(sbom_command)
app.command("posture")(posture_command)
app.command("components")(components_command)
app.command("coverage")(coverage_command)
app.command("serve")(serve_command)
app.command("worker")(worker_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shieldwall {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Shieldwall."""


def main(argv: list[str] | None = None) -> None:
    debug = os.environ.get("SHIELDWALL_DEBUG", "").lower() in ("1", "true", "yes")
    try:
        # Outside standalone mode click returns the code of a `typer.Exit` instead of exiting.
        code = app(args=argv, prog_name="shieldwall", standalone_mode=False)
    except typer.Abort:
        _fail("aborted", 130)
    except typer.TyperException as exc:  # usage errors: unknown option, bad value...
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx is not None else "shieldwall"
        _fail(f"{exc.format_message()} (see `{command} --help`)", EXIT_BAD_INPUT)
    except ShieldwallError as exc:
        _fail(exc.message, exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:
        if debug:
            raise
        detail = " ".join(str(exc).split())[:300]
        _fail(
            f"internal error: {type(exc).__name__}: {detail} "
            "(a bug; SHIELDWALL_DEBUG=1 shows where)",
            EXIT_INTERNAL,
        )
    else:
        sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)
