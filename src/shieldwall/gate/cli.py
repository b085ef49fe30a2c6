"""``shieldwall gate``, ``gate-runs``, ``gate-override`` and ``friction``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from shieldwall.atomic import atomic_file
from shieldwall.config import get_settings
from shieldwall.errors import EXIT_CHECK_FAILED, InputError
from shieldwall.gate.diff import changed_lines
from shieldwall.gate.policy import load_gate_policy
from shieldwall.gate.report import github_annotations, junit, markdown
from shieldwall.gate.schemas import GateResult
from shieldwall.gate.service import GateRequest, friction, override, run_gate, run_rows
from shieldwall.ingest.service import check_request_fields
from shieldwall.output import FormatOption, OutputFormat, emit
from shieldwall.risk.policy import current_policy
from shieldwall.runtime import cli_actor, database

console = Console(stderr=True)


def gate_command(
    reports: Annotated[
        list[Path],
        typer.Argument(
            help="Reports to judge: SARIF from `shieldwall scan`, or any `shieldwall formats`."
        ),
    ],
    policy_file: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="Gate policy YAML (default: SHIELDWALL_GATE_POLICY, else the defaults).",
        ),
    ] = None,
    service: Annotated[
        str | None,
        typer.Option(
            "--service", "-s", help="The inventory service: its context, findings and exceptions."
        ),
    ] = None,
    branch: Annotated[str, typer.Option(help="The branch (recorded with the run).")] = "",
    commit: Annotated[str | None, typer.Option(help="The commit (recorded with the run).")] = None,
    baseline: Annotated[
        list[Path] | None,
        typer.Option(
            "--baseline", help="An earlier report: findings in it are not new. Repeatable."
        ),
    ] = None,
    base_ref: Annotated[
        str | None,
        typer.Option(
            "--base-ref",
            help="Diff-aware: only findings on lines changed since this git ref are new.",
        ),
    ] = None,
    repository: Annotated[
        Path, typer.Option("--repository", help="The git checkout for --base-ref.")
    ] = Path(),
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="markdown (a PR comment) or json.")
    ] = "markdown",
    junit_file: Annotated[
        Path | None, typer.Option("--junit", help="Also write JUnit XML here.")
    ] = None,
    annotations: Annotated[
        bool,
        typer.Option(
            "--github-annotations",
            help="Also print GitHub Actions annotations (and append to GITHUB_STEP_SUMMARY).",
        ),
    ] = False,
) -> None:
    """Decide whether a change may go on: exit 0 pass, 1 blocked, 2 bad input. Secrets block
    (verified or high-confidence), so do new findings at or above the policy's priority
    unless an approved exception covers them; the rest warn. The run is recorded (locally,
    or on SHIELDWALL_SERVER_URL) for friction metrics."""
    if fmt not in ("markdown", "json"):
        raise InputError(f"--format {fmt!r}: use markdown or json")
    if baseline and base_ref:
        raise InputError("give --baseline or --base-ref, not both")
    check_request_fields(branch, commit)
    settings = get_settings()
    policy_path = policy_file or settings.gate_policy
    gate_policy = load_gate_policy(policy_path)
    changed = changed_lines(repository, base_ref) if base_ref else None
    request = GateRequest(
        reports=reports,
        service=service,
        branch=branch,
        commit=commit,
        baseline=baseline or (),
        changed=changed,
        actor=cli_actor(),
    )
    if settings.server_url:
        from shieldwall.gate.remote import gate_on_server  # its HTTP client: only for a server

        result = gate_on_server(request, policy_path, settings)
    else:
        result = run_gate(
            database(), request, gate_policy, current_policy(settings.policy), settings
        )
    _write_outputs(result, fmt, junit_file, annotations)
    if result.result == "blocked":
        raise typer.Exit(EXIT_CHECK_FAILED)


def _write_outputs(
    result: GateResult, fmt: str, junit_file: Path | None, annotations: bool
) -> None:
    summary = markdown(result)
    if junit_file is not None:
        with atomic_file(junit_file) as out:
            out.write(junit(result))
    if annotations:
        for line in github_annotations(result):
            typer.echo(line)
        step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if step_summary:
            with Path(step_summary).open("a", encoding="utf-8") as out:
                out.write(summary)
    typer.echo(result.model_dump_json(indent=1) if fmt == "json" else summary, nl=fmt == "json")
    console.print(
        f"gate {result.result}: {result.counts.get('block', 0)} blocking, "
        f"{result.counts.get('warn', 0)} warnings ({result.duration_ms} ms"
        + (f", run {result.run})" if result.run else ")"),
        markup=False,
    )


def gate_runs_command(
    service: Annotated[
        str | None, typer.Option("--service", "-s", help="Only this service.")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=10_000, help="At most this many, newest first.")
    ] = 50,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Recorded gate runs, newest first."""
    with database().read() as session:
        rows = run_rows(session, service=service, limit=limit)
    columns = [(k, k.replace("_", " ")) for k in ("run", "service", "branch", "commit", "result")]
    columns += [(k, k.replace("_", " ")) for k in ("blocking", "warnings", "missing_scanners")]
    columns += [("decided_at", "decided"), ("overridden_by", "overridden by")]
    emit(rows, columns, fmt, title="Gate runs")


def gate_override_command(
    run: Annotated[str, typer.Argument(help="The blocked run's id.")],
    reason: Annotated[str, typer.Option(help="Why it may go on anyway (recorded, audited).")],
) -> None:
    """Record that a blocked run was let through, by whom and why."""
    with database().write() as session:
        found = override(session, run, cli_actor(), reason)
        console.print(f"gate run {found.uid} overridden by {found.overridden_by}", markup=False)


def friction_command(
    days: Annotated[int, typer.Option(min=1, max=3650, help="Runs of the last N days.")] = 30,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Pipeline friction per service: runs, blocks, overrides, blocks later triaged as
    false positives, and the median hours from a block to the next passing run."""
    with database().read() as session:
        rows = friction(session, days=days)
    keys = (
        "service",
        "runs",
        "blocked",
        "block_rate",
        "overridden",
        "false_positive_blocks",
        "median_hours_to_unblock",
        "still_blocked",
    )
    emit(
        rows,
        [(k, k.replace("_", " ")) for k in keys],
        fmt,
        title=f"Gate friction, last {days} days",
    )
