"""External scanners ``shieldwall scan`` runs when they are installed: each writes SARIF of
its own, whose runs go into the scan's report as they are. A tool that is missing, fails or
times out is reported (a note in the report), never fatal: the rest of the scan stands."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ToolOptions:
    semgrep_rules: Path | None = None
    """Semgrep runs offline only with local rules; without them it is not run."""
    timeout: float = 1800


@dataclass(frozen=True)
class ExternalTool:
    name: str
    executable: str
    covers: str
    """sast, iac or sca: what coverage the tool's run counts for."""
    argv: Callable[[str, Path, ToolOptions], list[str] | None]
    """The command, given the executable and the SARIF file to write; None to skip."""


def _bandit(exe: str, out: Path, _: ToolOptions) -> list[str]:
    return [exe, "-r", ".", "-f", "sarif", "-o", str(out), "-q"]


def _semgrep(exe: str, out: Path, options: ToolOptions) -> list[str] | None:
    if options.semgrep_rules is None:
        return None
    rules = str(options.semgrep_rules.resolve())
    return [exe, "scan", "--config", rules, "--sarif", "--output", str(out), "--metrics=off", "-q"]


def _checkov(exe: str, out: Path, _: ToolOptions) -> list[str]:
    # checkov names the file itself (results_sarif.sarif) inside the folder it is given.
    return [exe, "-d", ".", "-o", "sarif", "--output-file-path", str(out.parent), "--quiet"]


def _trivy(exe: str, out: Path, _: ToolOptions) -> list[str]:
    return [exe, "fs", "--format", "sarif", "--output", str(out), "--quiet", "."]


TOOLS = (
    ExternalTool("bandit", "bandit", "sast", _bandit),
    ExternalTool("semgrep", "semgrep", "sast", _semgrep),
    ExternalTool("checkov", "checkov", "iac", _checkov),
    ExternalTool("trivy", "trivy", "sca", _trivy),
)
TOOL_NAMES = tuple(tool.name for tool in TOOLS)


def run_tool(tool: ExternalTool, root: Path, options: ToolOptions) -> tuple[list[Any], str | None]:
    """The tool's SARIF runs, and a note when it did not run or failed."""
    executable = shutil.which(tool.executable)
    if executable is None:
        return [], f"{tool.name} is not installed: its checks did not run"
    with tempfile.TemporaryDirectory(prefix=f"shieldwall-{tool.name}-") as folder:
        out = Path(folder) / "results_sarif.sarif"
        argv = tool.argv(executable, out, options)
        if argv is None:
            return [], f"{tool.name} did not run: give it local rules (--semgrep-rules PATH)"
        try:
            done = subprocess.run(  # noqa: S603 - the tool on PATH, our arguments, no shell
                argv, cwd=root, capture_output=True, timeout=options.timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return [], f"{tool.name} did not finish within {options.timeout:g} s"
        except OSError as exc:
            return [], f"{tool.name} could not start: {exc.strerror}"
        try:
            document = json.loads(out.read_text(encoding="utf-8"))
            runs = document["runs"]
            if not isinstance(runs, list):
                raise TypeError("runs is not a list")
        except (OSError, ValueError, KeyError, TypeError):
            last = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            return [], f"{tool.name} failed (exit {done.returncode}): {last[0][:200]}"
    return runs, None
