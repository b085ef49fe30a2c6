"""``shieldwall scan``, ``shieldwall check-secrets``, ``shieldwall sbom`` and
``shieldwall posture``."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from shieldwall import __version__
from shieldwall.atomic import atomic_file
from shieldwall.config import get_settings
from shieldwall.errors import InputError
from shieldwall.output import FormatOption, OutputFormat, emit
from shieldwall.runtime import database
from shieldwall.scan.secrets.baseline import Baseline, load_baseline, write_baseline
from shieldwall.scan.secrets.engine import SecretMatch, SecretScanner
from shieldwall.scan.secrets.rules import load_rules
from shieldwall.scan.service import ScanOptions, ScanOutcome, scan
from shieldwall.scan.tools import TOOL_NAMES, ToolOptions
from shieldwall.scan.upload import upload
from shieldwall.scan.walk import SourceFile, WalkStats, walk
from shieldwall.text import one_line

console = Console(stderr=True)


def _tools(value: str) -> tuple[str, ...]:
    if value.strip().lower() in ("", "none"):
        return ()
    names = tuple(n.strip().lower() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in TOOL_NAMES]
    if unknown:
        raise InputError(f"--tools: unknown tool {unknown[0]!r} (known: {', '.join(TOOL_NAMES)})")
    return names


def write_json_atomically(path: Path, document: Any) -> None:
    with atomic_file(path) as out:
        json.dump(document, out, indent=1)


def scan_command(
    path: Annotated[Path, typer.Argument(help="The repository (or file) to scan.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the SARIF report here.")
    ] = None,
    service: Annotated[
        str | None, typer.Option("--service", "-s", help="The inventory service (for --upload).")
    ] = None,
    send: Annotated[
        bool, typer.Option("--upload", help="Send the report to the server (or local store).")
    ] = False,
    branch: Annotated[str, typer.Option(help="Branch scanned (with --upload).")] = "",
    commit: Annotated[str | None, typer.Option(help="Commit scanned (with --upload).")] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="Known secrets (by rule and hash) not to report.")
    ] = None,
    write_baseline_to: Annotated[
        Path | None,
        typer.Option("--write-baseline", help="Write every secret found as the new baseline."),
    ] = None,
    history: Annotated[bool, typer.Option("--history", help="Also scan git history.")] = False,
    secrets: Annotated[bool, typer.Option("--secrets/--no-secrets")] = True,
    dependencies: Annotated[bool, typer.Option("--dependencies/--no-dependencies")] = True,
    tools: Annotated[
        str,
        typer.Option(help=f"External tools to run when installed ({','.join(TOOL_NAMES)}|none)."),
    ] = ",".join(TOOL_NAMES),
    semgrep_rules: Annotated[
        Path | None, typer.Option(help="Local Semgrep rules (Semgrep runs only with them).")
    ] = None,
    rules: Annotated[
        list[Path] | None, typer.Option("--rules", help="More secret rules (YAML); repeatable.")
    ] = None,
) -> None:
    """Scan PATH for secrets, vulnerable locked dependencies and, with the tools installed,
    code and infrastructure problems; one SARIF report. Exit 0 whatever it finds: the gate
    (`shieldwall gate`) decides what blocks."""
    if not path.exists():
        raise InputError.in_file(path, "does not exist")
    if send and not service:
        raise InputError("--upload needs --service")
    options = ScanOptions(
        secrets=secrets,
        dependencies=dependencies,
        history=history,
        tools=_tools(tools),
        tool_options=ToolOptions(semgrep_rules=semgrep_rules),
        baseline=load_baseline(baseline) if baseline and write_baseline_to is None else None,
        extra_rules=rules or (),
    )
    outcome = _run(path, options)
    if write_baseline_to is not None:
        count = write_baseline(write_baseline_to, outcome.secrets)
        console.print(f"baseline of {count} secret(s) written to {write_baseline_to}")
    document = outcome.sarif()
    if out is not None:
        write_json_atomically(out, document)
    elif not send:
        typer.echo(json.dumps(document, indent=1))
    _summary(outcome, out)
    if send:
        assert service is not None
        report = out
        with tempfile.TemporaryDirectory(prefix="shieldwall-scan-") as folder:
            if report is None:
                report = Path(folder) / "scan.sarif"
                write_json_atomically(report, document)
            console.print(upload(report, service, branch, commit, get_settings()), markup=False)


def _run(path: Path, options: ScanOptions) -> ScanOutcome:
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True
    ) as progress:
        task = progress.add_task("scanning", total=None)
        counted = {"files": 0, "bytes": 0}

        def seen(source: SourceFile) -> None:
            counted["files"] += 1
            counted["bytes"] += len(source.text)
            if counted["files"] % 50 == 0:
                progress.update(
                    task,
                    description=f"scanning: {counted['files']} files, "
                    f"{counted['bytes'] / 1e6:.1f} MB ({source.relative[-60:]})",
                )

        return scan(path, options, database, seen)


def _summary(outcome: ScanOutcome, out: Path | None) -> None:
    stats = outcome.stats
    lines = [
        f"scanned {stats.files} files ({stats.bytes / 1e6:.1f} MB; skipped "
        f"{stats.skipped_binary} binary, {stats.skipped_large} too large)",
        f"secrets: {len(outcome.secrets)} new"
        + (f", {outcome.baselined} in the baseline" if outcome.baselined else ""),
        f"dependencies: {len(outcome.packages)} locked packages, "
        f"{outcome.vulnerable} known vulnerabilities",
        *(f"note: {note}" for note in outcome.notes),
    ]
    if out is not None:
        lines.append(f"SARIF written to {out}")
    for line in lines:
        console.print(line, markup=False, highlight=False)


class SecretsFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


@dataclass
class _Checked:
    stats: WalkStats = field(default_factory=WalkStats)
    secrets: list[SecretMatch] = field(default_factory=list)
    """New secrets; their path is the one given on the command line (or under it)."""
    baselined: int = 0
    links: int = 0
    """Links and special files (pipes, devices) given, not read: git commits a link's
    target path, not the content it points at."""


def check_secrets_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="The files to check (a folder is walked as `shieldwall scan` walks it); "
            "none: nothing to check.",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="Known secrets not to report (as `shieldwall scan --write-baseline` writes them)."
        ),
    ] = None,
    rules: Annotated[
        list[Path] | None, typer.Option("--rules", help="More secret rules (YAML); repeatable.")
    ] = None,
    fmt: Annotated[
        SecretsFormat,
        typer.Option("--format", "-f", help="text: one line per secret; json: a list of objects."),
    ] = SecretsFormat.TEXT,
) -> None:
    """Check the given files for secrets, as a pre-commit hook does with the staged files:
    one line per secret the baseline does not know (its rule and a redacted preview, never
    the secret), then a count on stderr. Exit 1 when there is one, 0 when there is none."""
    known = load_baseline(baseline) if baseline is not None else None
    scanner = SecretScanner(load_rules(rules or ()))
    targets, links = _check_targets(paths or ())
    checked = _Checked(links=links)
    for shown, source in _check_sources(targets, checked.stats):
        for match in scanner.scan(source.text, shown):
            if known is not None and known.known(match):
                checked.baselined += 1
            else:
                checked.secrets.append(match)
    if fmt is SecretsFormat.JSON:
        emit([_secret_row(m) for m in checked.secrets], [], OutputFormat.JSON)
    else:
        for match in checked.secrets:
            typer.echo(
                f"{one_line(match.path)}:{match.line}:{match.column}: {match.rule.id} "
                f"{one_line(match.rule.spec.title)} ({one_line(match.preview)})"
            )
    _check_summary(checked, known)
    if checked.secrets:
        raise typer.Exit(1)


def _check_targets(paths: Sequence[Path]) -> tuple[list[Path], int]:
    """The paths to read, every one checked before any is read (a missing one is bad input,
    not a clean file), and the number of links and special files left out."""
    targets: list[Path] = []
    left_out = 0
    for path in paths:
        if path.is_symlink():
            left_out += 1
        elif not path.exists():
            raise InputError.in_file(path, "does not exist")
        elif path.is_file() or path.is_dir():
            targets.append(path)
        else:  # a pipe or a device: reading it could block or never end
            left_out += 1
    return targets, left_out


def _check_sources(targets: Sequence[Path], stats: WalkStats) -> Iterator[tuple[str, SourceFile]]:
    """Each text file of ``targets`` once, read as the tree walk reads it (binary and large
    files skipped), with the path to show: as given, or under the folder given."""
    seen: set[Path] = set()
    for target in targets:
        unreadable = stats.unreadable
        for source in walk(target, stats):
            key = source.path.resolve()
            if key not in seen:
                seen.add(key)
                yield source.path.as_posix(), source
        if stats.unreadable > unreadable and target.is_file():
            raise InputError.in_file(target, "cannot be read")


def _secret_row(match: SecretMatch) -> dict[str, object]:
    return {
        "path": match.path,
        "line": match.line,
        "column": match.column,
        "end_line": match.end_line,
        "rule_id": match.rule.id,
        "title": match.rule.spec.title,
        "severity": str(match.rule.spec.severity),
        "confidence": str(match.confidence),
        "preview": match.preview,
        "hash": match.digest,
    }


def _check_summary(checked: _Checked, known: Baseline | None) -> None:
    stats = checked.stats
    skipped = [
        f"{count} {what}"
        for count, what in (
            (stats.skipped_binary, "binary"),
            (stats.skipped_large, "too large"),
            (checked.links, "links or special files"),
            (stats.unreadable, "unreadable"),
        )
        if count
    ]
    line = f"{len(checked.secrets)} secret(s) in {stats.files} file(s) checked"
    if known is not None:
        line += f", {checked.baselined} more in the baseline"
    if skipped:
        line += f" (skipped {', '.join(skipped)})"
    console.print(line, markup=False, highlight=False, soft_wrap=True)
    if checked.secrets:
        console.print(
            "rotate a real secret and remove it; accept a false one with a `shieldwall:allow` "
            "comment on its line or in a baseline (`shieldwall scan . --write-baseline FILE`)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def sbom_command(
    path: Annotated[Path, typer.Argument(help="The repository to list the locked packages of.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the SBOM here.")] = None,
    name: Annotated[str | None, typer.Option(help="The application's name.")] = None,
) -> None:
    """Write a CycloneDX 1.6 SBOM of the packages PATH's lockfiles pin."""
    from shieldwall.scan.sbom import cyclonedx_sbom

    if not path.exists():
        raise InputError.in_file(path, "does not exist")
    options = ScanOptions(secrets=False, dependencies=True, tools=())
    outcome = scan(path, options, None)
    document = cyclonedx_sbom(
        outcome.packages, name=name or path.resolve().name, tool_version=__version__
    )
    if out is None:
        typer.echo(json.dumps(document, indent=1))
    else:
        write_json_atomically(out, document)
    for note in outcome.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    console.print(f"{len(document['components'])} components", markup=False)


def posture_command(
    path: Annotated[Path, typer.Argument(help="The repository to check.")],
    fmt: FormatOption = OutputFormat.TABLE,
    list_checks: Annotated[bool, typer.Option("--list", help="List the checks and stop.")] = False,
) -> None:
    """Check the repository's security posture offline, as OpenSSF Scorecard does and more:
    CI and the scanners it runs, pinned actions, token permissions, dangerous workflows,
    lockfiles, security policy... Exit 1 when a check fails (a warning does not)."""
    from shieldwall.scan.posture import CHECKS, Result, as_rows, check_repository

    if list_checks:
        rows = [{"check": c.name, "description": c.description} for c in CHECKS]
        emit(rows, [("check", "check"), ("description", "what it checks")], fmt)
        return
    results = check_repository(path)
    emit(
        as_rows(results),
        [("check", "check"), ("result", "result"), ("reason", "reason")],
        fmt,
        title=f"Posture of {path}",
        wrap=True,
    )
    if any(r.result is Result.FAIL for r in results):
        raise typer.Exit(1)
