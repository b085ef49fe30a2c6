"""The gate over a large report: ``python -m benchmarks.gate [--results N] [--repeat N]``.

Target: a gate over a 100,000-result SARIF report decides in under 3 s on a 2-core machine.

The report is the Semgrep-shaped SARIF of the import benchmark (``--results`` results over
one twentieth as many files, content-based identity; generated into benchmarks/.data and
reused). The store is a fresh SQLite database in a temporary folder, migrated, with the
sample inventory of tests/fixtures/inventory/org.yaml; the gate judges for payments-api (tier
0, internet-facing), the default gate and risk policies. Three figures, each with its seconds,
results per second, peak RSS and the result's counts by outcome:

- a first gate: the service has no findings in the store, so every finding is new;
- the gate after the same report was imported into the service (branch main): every finding
  is known, the realistic case of a pull request;
- ``shieldwall gate REPORT --service payments-api --format json`` on that store, as a user
  runs it: wall clock from the process start (interpreter, imports, schema check) to its exit.

The first two run ``run_gate`` in a child process each, timed around the call, so that each
peak RSS is that run's own; the target applies to the last two. ``--repeat`` runs each
figure that many times and reports the median (and the fastest).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.generate import write_sarif
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.db.migrate import upgrade
from shieldwall.gate.policy import load_gate_policy
from shieldwall.gate.service import GateRequest, run_gate
from shieldwall.ingest.service import ImportRequest, import_report
from shieldwall.inventory.loader import load_inventory
from shieldwall.inventory.service import apply_inventory
from shieldwall.risk.policy import current_policy

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / ".data"
ORG = REPO / "tests" / "fixtures" / "inventory" / "org.yaml"
SERVICE = "payments-api"
BRANCH = "main"
RESULTS = 100_000
QUICK_RESULTS = 20_000
"""What ``benchmarks.run --quick`` asks for."""
TARGET_SECONDS = 3.0
OUTCOMES = ("block", "warn", "notice", "excepted", "triaged", "suppressed", "ignored")


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float | None
    result: str
    findings: int
    counts: dict[str, int]
    missing: list[str]
    exit_code: int | None = None


def report(results: int) -> Path:
    """The Semgrep-shaped report of ``results`` results (named as ``benchmarks.run`` names
    it, so the import benchmark's 100k report is reused)."""
    DATA.mkdir(exist_ok=True)
    path = DATA / f"sarif-{results}.sarif"
    if not path.exists():
        print(f"generating {path.name}...", flush=True)
        partial = path.with_suffix(".partial")
        write_sarif(partial, iter(range(results)), files=max(1, results // 20))
        partial.replace(path)
    return path


def settings_for(folder: Path, url: str) -> Settings:
    return Settings(home=folder, database_url=url)


def prepare(url: str) -> None:
    db = Database(url)
    try:
        upgrade(db)
        spec, document = load_inventory(ORG, 10**6)
        with db.write() as session:
            apply_inventory(session, spec, document, "bench")
    finally:
        db.dispose()


def environment(folder: Path, url: str) -> dict[str, str]:
    """This environment without any Shieldwall setting but the store's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIELDWALL_")}
    env["SHIELDWALL_HOME"] = str(folder)
    env["SHIELDWALL_DATABASE_URL"] = url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def spawn(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int, str]:
    """Run ``command``: wall seconds, its own peak RSS in MB (``wait4``, not the maximum
    over every child so far), exit code, standard output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {code}:\n{stderr[-4000:]}")
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KB on Linux
    return seconds, usage.ru_maxrss * scale / 1024**2, code, stdout


def in_child(what: str, path: Path, folder: Path, url: str) -> Run:
    """``run_gate`` (or the import) in a fresh interpreter, timed around the call."""
    command = [sys.executable, "-m", "benchmarks.gate", "--child", what, str(path)]
    _, peak, _, stdout = spawn(command, environment(folder, url), REPO)
    result = json.loads(stdout.strip().splitlines()[-1])
    return Run(
        result["seconds"],
        peak,
        result["result"],
        result["findings"],
        result["counts"],
        result.get("missing_scanners", []),
    )


def cli(path: Path, folder: Path, url: str) -> Run:
    shieldwall = Path(sys.executable).parent / "shieldwall"
    found = str(shieldwall) if shieldwall.exists() else shutil.which("shieldwall")
    if found is None:
        raise SystemExit("shieldwall: command not found (install the project in this venv)")
    command = [found, "gate", str(path), "--service", SERVICE, "--format", "json"]
    seconds, peak, code, stdout = spawn(command, environment(folder, url), folder)
    result = json.loads(stdout)
    return Run(
        seconds,
        peak,
        result["result"],
        result["findings"],
        result["counts"],
        result["missing_scanners"],
        code,
    )


def child(what: str, path: Path) -> None:
    """One measurement, printed as JSON: the settings come from the environment."""
    settings = Settings()
    db = Database(settings.resolved_database_url)
    started = time.perf_counter()
    out: dict[str, Any]
    if what == "import":
        summary = import_report(
            db, ImportRequest(path=path, service=SERVICE, branch=BRANCH, actor="bench"), settings
        )
        counts = summary.counts()
        out = {"result": "imported", "findings": counts["total"], "counts": counts}
    else:
        result = run_gate(
            db,
            GateRequest(reports=[path], service=SERVICE, branch=BRANCH, actor="bench"),
            load_gate_policy(settings.gate_policy),
            current_policy(settings.policy),
            settings,
        )
        out = {
            "result": result.result,
            "findings": result.findings,
            "counts": result.counts,
            "missing_scanners": result.missing_scanners,
        }
    out["seconds"] = time.perf_counter() - started
    db.dispose()
    print(json.dumps(out))


def summarise(runs: list[Run]) -> tuple[Run, float]:
    """The median run (by seconds) and the fastest time."""
    ordered = sorted(runs, key=lambda r: r.seconds)
    median = ordered[(len(ordered) - 1) // 2]
    return median, ordered[0].seconds


def row(label: str, runs: list[Run], results: int, target: bool) -> None:
    run, fastest = summarise(runs)
    peak = f"{run.peak_rss_mb:6.0f} MB" if run.peak_rss_mb is not None else "     - MB"
    counts = ", ".join(f"{k} {run.counts[k]}" for k in OUTCOMES if run.counts.get(k))
    spread = (
        f" (median of {len(runs)}, fastest {fastest:.2f} s, "
        f"stdev {statistics.stdev(r.seconds for r in runs):.2f})"
        if len(runs) > 1
        else ""
    )
    verdict = (
        f"target < {TARGET_SECONDS:.0f} s: {'met' if run.seconds < TARGET_SECONDS else 'NOT met'}"
        if target
        else f"target < {TARGET_SECONDS:.0f} s applies to a known report"
    )
    exit_code = f", exit {run.exit_code}" if run.exit_code is not None else ""
    missing = f" (missing scanners: {', '.join(run.missing)})" if run.missing else ""
    print(
        f"{label:<44} {run.seconds:7.2f} s {results / run.seconds:>9,.0f} results/s {peak}"
        f"  {verdict}{spread}",
        flush=True,
    )
    print(
        f"{'':<44} {run.result}{exit_code}{missing}: {run.findings} findings: {counts}", flush=True
    )


def run(results: int, repeat: int) -> None:
    path = report(results)
    size_mb = path.stat().st_size / 1024**2
    print(f"Gate: {results:,} results ({size_mb:.0f} MB SARIF), service {SERVICE}, SQLite")
    with tempfile.TemporaryDirectory(prefix="shieldwall-bench-gate-") as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'shieldwall.db'}"
        prepare(url)
        first = [in_child("gate", path, folder, url) for _ in range(repeat)]
        row("gate, nothing known (a first gate)", first, results, target=False)
        started = time.perf_counter()
        imported = in_child("import", path, folder, url)
        print(
            f"{'(import of the report into the service)':<44} "
            f"{time.perf_counter() - started:7.2f} s wall: "
            + ", ".join(f"{k} {v}" for k, v in imported.counts.items()),
            flush=True,
        )
        known = [in_child("gate", path, folder, url) for _ in range(repeat)]
        row("gate, every finding known (a PR)", known, results, target=True)
        command = [cli(path, folder, url) for _ in range(repeat)]
        row("shieldwall gate --format json (end to end)", command, results, target=True)


def main(argv: list[str] | None = None) -> None:
    """``argv`` are this module's options (none: the defaults, so that ``benchmarks.run``
    can call ``main([])`` whatever its own command line)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--results", type=int, default=RESULTS, help="results in the report")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each figure (median)")
    parser.add_argument("--child", nargs=2, metavar=("WHAT", "REPORT"), help=argparse.SUPPRESS)
    args = parser.parse_args([] if argv is None else argv)
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    if args.results < 1 or args.repeat < 1:
        parser.error("--results and --repeat must be at least 1")
    run(args.results, args.repeat)


if __name__ == "__main__":
    main(sys.argv[1:])
