"""The ``shieldwall`` command: every domain's commands under one root.

Errors reach the user as one line on stderr with a documented exit code (see
``shieldwall.errors``); a traceback is shown only with ``SHIELDWALL_DEBUG=1``.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from shieldwall import __version__
from shieldwall.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, ShieldwallError

# Every command, in the order help lists them, as "module:attribute" (a Typer is a group of
# commands). A command's module is imported when the command is run or listed: importing
# every domain's dependencies cost each command, however small, a second of start-up.
COMMANDS = {
    "import": "shieldwall.ingest.cli:import_command",
    "formats": "shieldwall.ingest.cli:formats_command",
    "scan": "shieldwall.scan.cli:scan_command",
    "check-secrets": "shieldwall.scan.cli:check_secrets_command",
    "gate": "shieldwall.gate.cli:gate_command",
    "gate-runs": "shieldwall.gate.cli:gate_runs_command",
    "gate-override": "shieldwall.gate.cli:gate_override_command",
    "friction": "shieldwall.gate.cli:friction_command",
    "sbom": "shieldwall.scan.cli:sbom_command",
    "posture": "shieldwall.scan.cli:posture_command",
    "components": "shieldwall.ingest.cli:components_command",
    "coverage": "shieldwall.coverage.cli:coverage_command",
    "serve": "shieldwall.web.cli:serve_command",
    "worker": "shieldwall.web.cli:worker_command",
    "db": "shieldwall.db.cli:app",
    "audit": "shieldwall.audit.cli:app",
    "inventory": "shieldwall.inventory.cli:app",
    "findings": "shieldwall.findings.cli:app",
    "intel": "shieldwall.intel.cli:app",
    "exception": "shieldwall.exceptions.cli:app",
    "vex": "shieldwall.exceptions.cli:vex_app",
    "policy": "shieldwall.risk.cli:policy_app",
    "sla": "shieldwall.risk.cli:sla_app",
    "user": "shieldwall.auth.cli:users",
    "token": "shieldwall.auth.cli:tokens",
    "threatmodel": "shieldwall.threatmodel.cli:app",
}


class _LazyGroup(TyperGroup):
    """The root command: loads each of ``COMMANDS`` when it is first asked for."""

    def list_commands(self, ctx: Any) -> list[str]:
        loaded = super().list_commands(ctx)
        return [*COMMANDS, *(name for name in loaded if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands:
            # A name that is no command's loads them all: "did you mean" picks among them.
            for name in [cmd_name] if cmd_name in COMMANDS else COMMANDS:
                if name not in self.commands:
                    self.add_command(_load(name), name)
        return super().get_command(ctx, cmd_name)


def _load(name: str) -> Any:
    module, _, attribute = COMMANDS[name].partition(":")
    if module not in sys.modules:
        # Importing a command makes hundreds of thousands of objects that live as long as
        # the process and hold no garbage: the cyclic collector's passes over them, while
        # importing and after (unless frozen out of its reach), cost a tenth of a second.
        collecting = gc.isenabled()
        gc.disable()
        try:
            importlib.import_module(module)
        finally:
            if collecting:
                gc.enable()
        gc.freeze()
    target = getattr(sys.modules[module], attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer(add_completion=False)
    single.command(name)(target)
    return typer.main.get_command(single)


app = typer.Typer(
    name="shieldwall",
    cls=_LazyGroup,
    help="Security program control plane: inventory, findings, and the evidence they work.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


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
