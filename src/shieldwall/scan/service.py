"""``shieldwall scan``: one walk of the tree feeding the secrets engine and the lockfile
parsers, then the dependencies matched offline, the history if asked, and the external
tools that are installed; everything as one SARIF document."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shieldwall.db.engine import Database
from shieldwall.scan import sarif
from shieldwall.scan.deps import match_packages
from shieldwall.scan.history import scan_history
from shieldwall.scan.lockfiles import LockedPackage, LockfileError, lockfile_kind, parse_lockfile
from shieldwall.scan.secrets.baseline import Baseline
from shieldwall.scan.secrets.engine import SecretMatch, SecretScanner
from shieldwall.scan.secrets.rules import load_rules
from shieldwall.scan.tools import TOOLS, ToolOptions, run_tool
from shieldwall.scan.walk import SourceFile, WalkStats, walk


@dataclass(frozen=True)
class ScanOptions:
    secrets: bool = True
    dependencies: bool = True
    history: bool = False
    tools: Sequence[str] = tuple(tool.name for tool in TOOLS)
    tool_options: ToolOptions = field(default_factory=ToolOptions)
    baseline: Baseline | None = None
    extra_rules: Sequence[Path] = ()


@dataclass
class ScanOutcome:
    runs: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[SecretMatch] = field(default_factory=list)
    """New secrets (not in the baseline), in the tree and, with --history, in history."""
    baselined: int = 0
    packages: list[LockedPackage] = field(default_factory=list)
    vulnerable: int = 0
    notes: list[str] = field(default_factory=list)
    stats: WalkStats = field(default_factory=WalkStats)

    def sarif(self) -> dict[str, Any]:
        return sarif.document(self.runs)


Progress = Callable[[SourceFile], None]


def scan(
    root: Path,
    options: ScanOptions,
    open_db: Callable[[], Database] | None,
    progress: Progress | None = None,
) -> ScanOutcome:
    """``open_db`` gives the advisory store; it is opened only when a lockfile pins
    something (a CI job scanning a repository without one never creates a store)."""
    outcome = ScanOutcome()
    scanner = SecretScanner(load_rules(options.extra_rules)) if options.secrets else None
    found: list[SecretMatch] = []
    lock_notes: list[str] = []
    for source in walk(root, outcome.stats):
        if progress is not None:
            progress(source)
        if scanner is not None:
            found += scanner.scan(source.text, source.relative)
        kind = lockfile_kind(source.relative) if options.dependencies else None
        if kind == "gosum" and (source.path.parent / "go.mod").is_file():
            continue  # go.mod is the truth; go.sum also lists what the build never uses
        if kind is not None:
            try:
                outcome.packages += parse_lockfile(source.relative, source.text)
            except LockfileError as exc:
                lock_notes.append(exc.message)
    if scanner is not None:
        if options.history:
            found += _historic(root, scanner, found)
        _secrets(outcome, found, options.baseline)
    if options.dependencies:
        _dependencies(outcome, open_db, lock_notes)
    for tool in TOOLS:
        if tool.name in options.tools:
            runs, note = run_tool(tool, root, options.tool_options)
            outcome.runs += runs
            if note:
                outcome.notes.append(note)
    return outcome


def _historic(
    root: Path, scanner: SecretScanner, in_tree: Sequence[SecretMatch]
) -> list[SecretMatch]:
    """Secrets of the history not also in the tree (one secret, one result)."""
    seen = {(m.rule.id, m.digest, m.path) for m in in_tree}
    older = []
    for match in scan_history(root, scanner):
        key = (match.rule.id, match.digest, match.path)
        if key not in seen:
            seen.add(key)
            older.append(match)
    return older


def _secrets(outcome: ScanOutcome, found: list[SecretMatch], baseline: Baseline | None) -> None:
    if baseline is not None:
        new = [m for m in found if not baseline.known(m)]
        outcome.baselined = len(found) - len(new)
        found = new
    outcome.secrets = found
    outcome.runs.append(sarif.secrets_run(found, baselined=outcome.baselined))


def _dependencies(
    outcome: ScanOutcome, open_db: Callable[[], Database] | None, notes: list[str]
) -> None:
    matched: list[Any] = []
    if outcome.packages and open_db is not None:
        matched, more = match_packages(open_db(), outcome.packages)
        notes += more
    outcome.vulnerable = len(matched)
    outcome.notes += notes
    outcome.runs.append(sarif.dependencies_run(matched, outcome.packages, notes))
