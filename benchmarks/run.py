"""Import speed and memory, then page speed: ``make bench`` (or ``python -m benchmarks
[--quick] [--no-1gb] [--no-pages]``).

Generates its own data (in benchmarks/.data, reused when present) and prints each figure:

- a Semgrep-shaped SARIF report, 100,000 results over 5,000 files (content-based identity);
- a CycloneDX 1.6 SBOM, 5,000 components and 20,000 vulnerabilities;
- a CycloneDX SBOM listing one component 10^6 times (a hostile or broken SBOM);
- a CodeQL-shaped SARIF report of about 1 GB (line-hash fingerprints, code flows).

For each: ``json.load`` of the file as the yardstick, first import, identical re-import,
re-import with 10% fixed and 10% new, each with its peak RSS, on SQLite and on PostgreSQL
(SHIELDWALL_BENCH_POSTGRES_URL, default the local server; skipped with a note when absent).
Targets on a 2-core machine with SQLite: 100k first import < 10 s, identical re-import < 5 s,
peak RSS < 400 MB importing the 1 GB report.

Then advisory matching (10,000 components against ../shared/data/osv, target under 2 s:
see ``benchmarks.matching``), the secrets scan against detect-secrets (throughput over the
installed site-packages, precision and recall on a planted corpus: ``benchmarks.secrets``),
the gate over a 100,000-result SARIF report (20,000 with ``--quick``; target a decision
under 3 s for a report the store knows, in process and as ``shieldwall gate`` end to end:
see ``benchmarks.gate``), threat model checking of 1,000 elements and 3,000 flows against
OWASP pytm on the same model (target under 2 s: see ``benchmarks.threatmodel``), then every
web page and API list timed on a SQLite store of 1,000,000 findings (50,000 with
``--quick``), target under 300 ms each: see ``benchmarks.pages``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from benchmarks import gate, matching, pages, threatmodel
from benchmarks import secrets as secrets_benchmark
from benchmarks.generate import (
    sized_indices,
    write_cyclonedx,
    write_duplicate_components,
    write_sarif,
)
from shieldwall.db.engine import Database
from shieldwall.db.migrate import upgrade
from shieldwall.inventory.loader import load_inventory
from shieldwall.inventory.service import apply_inventory

DATA = Path(__file__).parent / ".data"
ORG = Path(__file__).parent.parent / "tests" / "fixtures" / "inventory" / "org.yaml"
POSTGRES_URL = os.environ.get(
    "SHIELDWALL_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass
class Run:
    seconds: float
    cpu: float
    """CPU time of the import and its parser process: steadier than wall time on a shared
    machine, and above it when the two processes overlap."""
    peak_rss_mb: float
    summary: dict[str, int]


def measure(*args: str) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.measure", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(result["seconds"], result["cpu"], result["peak_rss_mb"], result["summary"])


def datasets(quick: bool, with_1gb: bool) -> dict[str, Path]:
    DATA.mkdir(exist_ok=True)
    size = 10_000 if quick else 100_000
    files = 500 if quick else 5_000
    out: dict[str, Path] = {}

    def make(name: str, build: Callable[[Path], object]) -> Path:
        path = DATA / name
        if not path.exists():
            print(f"generating {path.name}...", flush=True)
            build(path)
        return path

    out["sarif"] = make(
        f"sarif-{size}.sarif", lambda p: write_sarif(p, iter(range(size)), files=files)
    )
    # 10% fixed (every tenth result gone) and 10% new (results never seen before).
    changed = (i for i in range(size + size // 10) if i % 10 != 0)
    out["sarif-changed"] = make(
        f"sarif-{size}-changed.sarif", lambda p: write_sarif(p, changed, files=files)
    )
    components, vulns = (500, 2_000) if quick else (5_000, 20_000)
    out["cyclonedx"] = make(
        f"cyclonedx-{components}-{vulns}.json",
        lambda p: write_cyclonedx(p, components, iter(range(vulns))),
    )
    kept_and_new = (v for v in range(vulns + vulns // 10) if v % 10 != 0)
    out["cyclonedx-changed"] = make(
        f"cyclonedx-{components}-{vulns}-changed.json",
        lambda p: write_cyclonedx(p, components, kept_and_new),
    )
    copies = 100_000 if quick else 1_000_000
    out["duplicates"] = make(
        f"cyclonedx-duplicates-{copies}.json", lambda p: write_duplicate_components(p, copies)
    )
    if with_1gb:
        target = 100 * 1024**2 if quick else 1024**3
        out["big"] = make(
            f"codeql-{target // 1024**2}mb.sarif",
            lambda p: write_sarif(
                p, sized_indices(target, 5_000, "codeql"), files=5_000, shape="codeql"
            ),
        )
    return out


@contextmanager
def fresh_database(engine: str, folder: Path) -> Iterator[str | None]:
    if engine == "sqlite":
        url = f"sqlite:///{folder / f'bench-{secrets.token_hex(4)}.db'}"
        _prepare(url)
        yield url
        return
    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except OperationalError:
        admin.dispose()
        yield None
        return
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        _prepare(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _prepare(url: str) -> None:
    db = Database(url)
    upgrade(db)
    spec, document = load_inventory(ORG, 10**6)
    with db.write() as session:
        apply_inventory(session, spec, document, "bench")
    db.dispose()


def row(label: str, engine: str, run: Run, yardstick: Run | None, note: str = "") -> None:
    ratio = f"{run.seconds / yardstick.seconds:5.1f}x" if yardstick else "     "
    print(
        f"{label:<44} {engine:<10} {run.seconds:8.2f} s {run.cpu:7.2f} s {run.peak_rss_mb:8.0f} MB"
        f"  {ratio}  {note}",
        flush=True,
    )


def counts(run: Run) -> str:
    s = run.summary
    shown = ", ".join(f"{key} {s[key]}" for key in ("created", "unchanged", "updated", "closed"))
    return shown + (f", components {s['components']}" if s.get("components") else "")


def series(name: str, first: Path, changed: Path, engine: str, folder: Path, service: str) -> None:
    yardstick = measure("json.load", str(first))
    size_mb = first.stat().st_size / 1024**2
    row(f"{name}: json.load ({size_mb:.0f} MB)", "-", yardstick, None)
    with fresh_database(engine, folder) as url:
        if url is None:
            print(f"{name}: {engine} skipped: PostgreSQL not reachable at {POSTGRES_URL}")
            return
        run = measure("import", str(first), url, service)
        row(f"{name}: first import", engine, run, yardstick, counts(run))
        run = measure("import", str(first), url, service)
        row(f"{name}: identical re-import", engine, run, yardstick, counts(run))
        run = measure("import", str(changed), url, service)
        row(f"{name}: re-import, 10% fixed + 10% new", engine, run, yardstick, counts(run))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one tenth of the sizes")
    parser.add_argument("--no-1gb", action="store_true", help="skip the 1 GB report")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--no-pages", action="store_true", help="skip the page timings at 10^6 findings"
    )
    args = parser.parse_args()
    data = datasets(args.quick, not args.no_1gb)
    print(
        f"{'benchmark':<44} {'engine':<10} {'time':>10} {'cpu':>9} {'peak RSS':>11}  {'/json':>6}"
        "  result"
    )
    with tempfile.TemporaryDirectory(prefix="shieldwall-bench-") as tmp:
        folder = Path(tmp)
        for engine in args.engines.split(","):
            series(
                "SARIF 100k results",
                data["sarif"],
                data["sarif-changed"],
                engine,
                folder,
                "payments-api",
            )
            series(
                "CycloneDX 5k comps, 20k vulns",
                data["cyclonedx"],
                data["cyclonedx-changed"],
                engine,
                folder,
                "ledger",
            )
        yardstick = measure("json.load", str(data["duplicates"]))
        size_mb = data["duplicates"].stat().st_size / 1024**2
        row(
            f"CycloneDX, one component 10^6 times: json.load ({size_mb:.0f} MB)",
            "-",
            yardstick,
            None,
        )
        with fresh_database("sqlite", folder) as url:
            assert url is not None
            run = measure("import", str(data["duplicates"]), url, "web")
            row(
                "CycloneDX, one component 10^6 times: import", "sqlite", run, yardstick, counts(run)
            )
        if "big" in data:
            yardstick = measure("json.load", str(data["big"]))
            size_mb = data["big"].stat().st_size / 1024**2
            row(f"1 GB SARIF: json.load ({size_mb:.0f} MB)", "-", yardstick, None)
            with fresh_database("sqlite", folder) as url:
                assert url is not None
                run = measure("import", str(data["big"]), url, "web")
                row("1 GB SARIF: first import (streamed)", "sqlite", run, yardstick, counts(run))
    print()
    matching.main([])
    print()
    secrets_benchmark.main([])
    print()
    gate.main(["--results", str(gate.QUICK_RESULTS if args.quick else gate.RESULTS)])
    print()
    threatmodel.main(["--repeat", "1" if args.quick else "3"])
    if not args.no_pages:
        print()
        pages.run(pages.QUICK_SIZE if args.quick else pages.SIZE)


if __name__ == "__main__":
    main()
