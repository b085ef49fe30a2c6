"""Matching components against advisories: ``python -m benchmarks.matching [--data PATH]
[--components N]``.

Target: 10,000 components matched against every OSV record of ../shared/data/osv (about
8,000: Go, crates.io, PyPI) in under 2 s on a 2-core machine, loading and parsing the records
excluded. The time includes compiling each advisory's ranges on first use, as a first scan
after start-up would.

Loads the records (``SHIELDWALL_SHARED_DATA``/osv by default), builds the index, then makes
the components deterministically from the records' own packages: a third at an affected
version (an introduced event or an enumerated version), a third at a fixed version, a third at
some other version, and about one in ten a package no advisory names. Prints the time of each
step and the number of matches.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Iterable
from pathlib import Path

from shieldwall.intel.matching import Index
from shieldwall.intel.osv import Advisory, iter_advisories

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SHIELDWALL_SHARED_DATA", REPO.parent / "shared" / "data")) / "osv"
COMPONENTS = 10_000
TARGET_SECONDS = 2.0

Component = tuple[str, str, str]


def load(root: Path) -> list[Advisory]:
    return [advisory for folder in sorted(root.iterdir()) for advisory in iter_advisories(folder)]


def components(advisories: Iterable[Advisory], count: int, rng: random.Random) -> list[Component]:
    """(ecosystem, name, version) triples drawn from the records' packages."""
    affected: dict[tuple[str, str], list[str]] = {}
    fixed: dict[tuple[str, str], list[str]] = {}
    for advisory in advisories:
        for entry in advisory.affected:
            package = (entry.ecosystem, entry.name)
            hits = affected.setdefault(package, [])
            hits.extend(entry.versions)
            for item in entry.ranges:
                if item.type == "GIT":
                    continue
                for kind, version in item.events:
                    if kind == "introduced" and version != "0":
                        hits.append(version)
                    elif kind == "fixed":
                        fixed.setdefault(package, []).append(version)
    packages = sorted(affected)
    ecosystems = sorted({ecosystem for ecosystem, _ in packages})
    out: list[Component] = []
    for i in range(count):
        other = f"{rng.randrange(30)}.{rng.randrange(30)}.{rng.randrange(30)}"
        if rng.random() < 0.1:
            out.append((rng.choice(ecosystems), f"no-advisory-{i}", other))
            continue
        ecosystem, name = rng.choice(packages)
        pick = rng.random()
        choices = affected[(ecosystem, name)] if pick < 1 / 3 else fixed.get((ecosystem, name))
        version = rng.choice(choices) if pick < 2 / 3 and choices else other
        if ecosystem == "Go" and rng.random() < 0.5:
            version = f"v{version}"  # as go.mod writes them
        out.append((ecosystem, name, version))
    return out


def run(root: Path, count: int) -> None:
    started = time.perf_counter()
    advisories = load(root)
    print(f"load {len(advisories):,} advisories from {root}: {time.perf_counter() - started:.2f} s")

    started = time.perf_counter()
    index = Index()
    for advisory in advisories:
        for entry in advisory.affected:
            index.add(advisory.id, entry)
    print(f"build the index: {time.perf_counter() - started:.2f} s")

    wanted = components(advisories, count, random.Random(7))
    started = time.perf_counter()
    matches = [index.match(ecosystem, name, version) for ecosystem, name, version in wanted]
    elapsed = time.perf_counter() - started
    mark = "" if elapsed < TARGET_SECONDS else "  OVER TARGET"
    print(
        f"match {len(wanted):,} components against {len(advisories):,} advisories: "
        f"{elapsed:.2f} s (target < {TARGET_SECONDS:.0f} s){mark}"
    )
    with_fix = sum(match.fixed is not None for found in matches for match in found)
    print(
        f"{sum(map(len, matches)):,} matches ({with_fix:,} with a fix) on "
        f"{sum(1 for found in matches if found):,} vulnerable components"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA, help="folder of OSV record folders")
    parser.add_argument("--components", type=int, default=COMPONENTS)
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        raise SystemExit(f"{args.data}: not found (set SHIELDWALL_SHARED_DATA)")
    run(args.data, args.components)


if __name__ == "__main__":
    main()
