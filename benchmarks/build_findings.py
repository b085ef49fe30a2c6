"""A SQLite store with a large organisation's findings, for the page benchmark
(``benchmarks.pages``).

20 teams and 200 services (the test inventory's two teams and three services among them),
findings spread over the services the way real estates are (a few services hold most of
them: the largest, payments-api, a tenth), each seen by one scan stream (service, tool,
branch ``main``) whose imports ran every few weeks over the last 120 days. Statuses: about
70% open, 20% fixed, the rest dismissed or reopened. Two users (an admin and an engineer of
the ``platform`` team) and a read token of that team.

The rows go in through SQLAlchemy Core in batches (``execute_many``), in one transaction:
the schema is the migrations' own, so every index the application has is in place while the
rows are written, as it would be after years of imports. The store is built under a
temporary name and renamed when complete; ``ensure_store`` reuses one built for the same
size and schema revision within the last week (the dashboard counts "this week").
"""

from __future__ import annotations

import bisect
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, insert, text

from shieldwall.auth.policy import Role, TokenScope
from shieldwall.auth.service import create_token, create_user
from shieldwall.db.engine import Database, execute_many
from shieldwall.db.migrate import head_revision, upgrade
from shieldwall.findings.models import Finding
from shieldwall.findings.vocabulary import Kind, Severity, Status
from shieldwall.ingest.models import ReportImport, ScanStream, Sighting
from shieldwall.inventory.loader import load_inventory
from shieldwall.inventory.schemas import InventorySpec, ServiceSpec, TeamSpec
from shieldwall.inventory.service import apply_inventory
from shieldwall.inventory.vocabulary import DataClass, Exposure

ORG = Path(__file__).parent.parent / "tests" / "fixtures" / "inventory" / "org.yaml"
TEAMS = 20
SERVICES = 200
DAYS = 120
IMPORTS_PER_STREAM = 5
BATCH = 10_000
REUSE_DAYS = 7
ADMIN = "admin@bench.example.com"
ENGINEER = "engineer@bench.example.com"
ENGINEER_TEAM = "platform"
PASSWORD = "benchmark-password"
LARGEST_SERVICE = "payments-api"

# Which tool reports each kind (code: three in four by Semgrep, the rest by CodeQL).
TOOLS = {
    Kind.CODE: ("semgrep", "semgrep", "semgrep", "codeql"),
    Kind.DEPENDENCY: ("trivy",),
    Kind.SECRET: ("gitleaks",),
    Kind.IAC: ("checkov",),
}
STREAM_TOOLS = ("semgrep", "codeql", "trivy", "gitleaks", "checkov")
FORMATS = {"semgrep": "sarif", "codeql": "sarif", "trivy": "trivy", "gitleaks": "gitleaks"}
KINDS = (Kind.CODE, Kind.DEPENDENCY, Kind.SECRET, Kind.IAC)
KIND_WEIGHTS = (40, 40, 10, 10)
SEVERITIES = tuple(Severity)
SEVERITY_WEIGHTS = (5, 20, 40, 25, 10)
STATUSES = (
    Status.OPEN,
    Status.FIXED,
    Status.FALSE_POSITIVE,
    Status.REOPENED,
    Status.NOT_AFFECTED,
)
STATUS_WEIGHTS = (70, 20, 5, 3, 2)
RULES = 300


@dataclass(frozen=True)
class Store:
    """A built store and what the benchmark needs to use it."""

    path: Path
    size: int
    revision: str
    built_at: datetime
    build_seconds: float
    token: str
    """A read token of ``ENGINEER_TEAM`` (the secret: the store keeps only its hash)."""

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


def _table(entity: type[Any]) -> Table:
    return cast(Table, entity.__table__)


def store_path(folder: Path, size: int) -> Path:
    return folder / f"pages-{size}-r{head_revision()}.db"


def ensure_store(folder: Path, size: int, *, rebuild: bool = False) -> tuple[Store, bool]:
    """The store for ``size`` findings, built unless a current one is there; and whether it
    was built now."""
    path = store_path(folder, size)
    meta = path.with_suffix(".json")
    if not rebuild and path.exists() and meta.exists():
        saved = json.loads(meta.read_text())
        store = Store(
            path=path,
            size=saved["size"],
            revision=saved["revision"],
            built_at=datetime.fromisoformat(saved["built_at"]),
            build_seconds=saved["build_seconds"],
            token=saved["token"],
        )
        fresh = datetime.now(UTC) - store.built_at < timedelta(days=REUSE_DAYS)
        if store.size == size and store.revision == head_revision() and fresh:
            return store, False
    meta.unlink(missing_ok=True)
    store = build(path, size)
    meta.touch(mode=0o600)  # it holds the token's secret, as the store holds its hash
    meta.write_text(
        json.dumps(
            {
                "size": store.size,
                "revision": store.revision,
                "built_at": store.built_at.isoformat(),
                "build_seconds": store.build_seconds,
                "token": store.token,
            }
        )
    )
    return store, True


def build(path: Path, size: int) -> Store:
    """Write a store with ``size`` findings at ``path`` (replacing any)."""
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    for stale in (partial, *(Path(f"{partial}{suffix}") for suffix in ("-wal", "-shm"))):
        stale.unlink(missing_ok=True)
    db = Database(f"sqlite:///{partial}")
    try:
        upgrade(db)
        now = datetime.now(UTC)
        service_ids = _inventory(db)
        token = _accounts(db)
        with db.write() as session:
            # A larger page cache while writing (this connection only): rows go into several
            # indexes in random key order.
            session.execute(text("PRAGMA cache_size=-1048576"))
            rng = random.Random(size)
            streams, imports = _streams_and_imports(rng, service_ids, now)
            execute_many(session, insert(_table(ReportImport)), imports)
            execute_many(
                session,
                insert(_table(ScanStream)),
                [
                    {
                        "id": stream.id,
                        "service_id": stream.service_id,
                        "tool": stream.tool,
                        "branch": "main",
                        "last_import_id": stream.import_ids[-1],
                        "last_import_at": stream.import_times[-1],
                        "last_complete_at": stream.import_times[-1],
                    }
                    for stream in streams.values()
                ],
            )
            for findings, sightings in _findings(rng, size, service_ids, streams, now):
                execute_many(session, insert(_table(Finding)), findings)
                execute_many(session, insert(_table(Sighting)), sightings)
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.dispose()
    for previous in (path, *(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm"))):
        previous.unlink(missing_ok=True)
    partial.rename(path)
    return Store(path, size, head_revision(), now, time.perf_counter() - started, token)


def _inventory(db: Database) -> list[int]:
    """The test inventory and more teams and services; the service ids, largest first."""
    spec, document = load_inventory(ORG, 10**6)
    with db.write() as session:
        apply_inventory(session, spec, document, "bench")
    team_names = [t.name for t in spec.teams]
    team_names += [f"team-{n:02d}" for n in range(len(team_names) + 1, TEAMS + 1)]
    exposures = tuple(Exposure)
    services = [
        ServiceSpec(
            name=f"service-{n:03d}",
            team=team_names[n % TEAMS],
            repository=f"https://git.example.com/acme/service-{n:03d}",
            tier=n % 3,
            exposure=exposures[n % len(exposures)],
            data=[DataClass.PII] if n % 4 == 0 else [],
        )
        for n in range(len(spec.services), SERVICES)
    ]
    more = InventorySpec(
        teams=[TeamSpec(name=name) for name in team_names[len(spec.teams) :]],
        services=services,
    )
    with db.write() as session:
        apply_inventory(session, more, None, "bench")
        ids: dict[str, int] = dict(
            session.execute(text("SELECT name, id FROM services")).tuples().all()
        )
    # payments-api and ledger first (the largest two, both the engineer's), then the rest.
    first = (LARGEST_SERVICE, "ledger")
    return [ids[name] for name in (*first, *sorted(set(ids) - set(first)))]


def _accounts(db: Database) -> str:
    with db.write() as session:
        create_user(
            session, email=ADMIN, role=Role.ADMIN, teams=[], password=PASSWORD, actor="bench"
        )
        create_user(
            session,
            email=ENGINEER,
            role=Role.ENGINEER,
            teams=[ENGINEER_TEAM],
            password=PASSWORD,
            actor="bench",
        )
        made = create_token(
            session,
            name="bench-read",
            team=ENGINEER_TEAM,
            scope=TokenScope.READ,
            expires_days=None,
            actor="bench",
        )
    return made.token


@dataclass
class _Stream:
    id: int
    service_id: int
    tool: str
    import_ids: list[int]
    import_times: list[datetime]


def _streams_and_imports(
    rng: random.Random, service_ids: list[int], now: datetime
) -> tuple[dict[tuple[int, str], _Stream], list[dict[str, Any]]]:
    """A stream per service and tool, each with imports evenly over the last 120 days (the
    last within two days); imports numbered in time order, as they would have been made."""
    streams: dict[tuple[int, str], _Stream] = {}
    planned: list[tuple[datetime, _Stream]] = []
    step = timedelta(days=DAYS) / (IMPORTS_PER_STREAM - 1)
    for service_id in service_ids:
        for tool in STREAM_TOOLS:
            stream = _Stream(len(streams) + 1, service_id, tool, [], [])
            streams[service_id, tool] = stream
            last = now - timedelta(minutes=rng.randrange(10, 2 * 24 * 60))
            for n in reversed(range(IMPORTS_PER_STREAM)):
                planned.append((last - n * step, stream))
    planned.sort(key=lambda item: item[0])
    imports = []
    for number, (at, stream) in enumerate(planned, start=1):
        stream.import_ids.append(number)
        stream.import_times.append(at)
        imports.append(
            {
                "id": number,
                "uid": f"{rng.getrandbits(64):016x}",
                "service_id": stream.service_id,
                "format": FORMATS.get(stream.tool, "sarif"),
                "filename": f"{stream.tool}-report.json",
                "size_bytes": rng.randrange(10_000, 50_000_000),
                "branch": "main",
                "commit": f"{rng.getrandbits(160):040x}",
                "partial": False,
                "state": "done",
                "error": None,
                "actor": "token:ci",
                "tools": [stream.tool],
                "created": rng.randrange(0, 500),
                "unchanged": rng.randrange(0, 5000),
                "updated": 0,
                "closed": rng.randrange(0, 100),
                "reopened": 0,
                "total": rng.randrange(0, 5000),
                "components": 0,
                "queued_at": at,
                "started_at": at,
                "finished_at": at + timedelta(seconds=rng.randrange(1, 120)),
            }
        )
    return streams, imports


def _service_weights(count: int) -> list[float]:
    """Zipf-like: the largest service holds about a tenth of the findings."""
    return [1 / (rank + 1) ** 0.8 for rank in range(count)]


def _findings(
    rng: random.Random,
    size: int,
    service_ids: list[int],
    streams: dict[tuple[int, str], _Stream],
    now: datetime,
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Batches of findings and their sightings, numbered in order of first sight."""
    start = now - timedelta(days=DAYS)
    span = timedelta(days=DAYS).total_seconds()
    texts = [
        f"Rule {r} found input that reaches a sensitive operation without validation. "
        "An attacker who controls it may read or change data they should not see; "
        "validate it against an allow-list or use the framework's safe API instead. " * (1 + r % 3)
        for r in range(RULES)
    ]
    for offset in range(0, size, BATCH):
        count = min(BATCH, size - offset)
        services = rng.choices(service_ids, weights=_service_weights(len(service_ids)), k=count)
        kinds = rng.choices(KINDS, weights=KIND_WEIGHTS, k=count)
        severities = rng.choices(SEVERITIES, weights=SEVERITY_WEIGHTS, k=count)
        statuses = rng.choices(STATUSES, weights=STATUS_WEIGHTS, k=count)
        findings: list[dict[str, Any]] = []
        sightings: list[dict[str, Any]] = []
        for n in range(count):
            finding_id = offset + n + 1
            kind, severity, status = kinds[n], severities[n], statuses[n]
            tool = rng.choice(TOOLS[kind])
            stream = streams[services[n], tool]
            target = start + timedelta(seconds=span * finding_id / size)
            # First seen by the last import at or before that moment (or the stream's first).
            first = max(bisect.bisect_right(stream.import_times, target) - 1, 0)
            first_seen = max(stream.import_times[first], target)
            last = len(stream.import_ids) - 1
            fixed_at = None
            if status is Status.FIXED:
                if first < last:
                    gone = rng.randrange(first + 1, last + 1)
                    fixed_at = stream.import_times[gone]
                    last = gone - 1
                else:
                    status = Status.OPEN
            rule = rng.randrange(RULES)
            code = kind is not Kind.DEPENDENCY
            path = f"src/pkg{rule % 40}/module_{rng.randrange(2000)}.py" if code else None
            component = f"library-{rule}" if kind is Kind.DEPENDENCY else None
            assessed = status in (Status.FALSE_POSITIVE, Status.NOT_AFFECTED)
            findings.append(
                {
                    "id": finding_id,
                    "uid": f"{rng.getrandbits(64):016x}",
                    "service_id": stream.service_id,
                    "fingerprint": f"{rng.getrandbits(128):032x}",
                    "kind": kind.value,
                    "rule_id": f"{tool}.rule-{rule}",
                    "title": f"{tool} rule {rule}: unvalidated input reaches a sink",
                    "description": texts[rule],
                    "severity": severity.value,
                    "severity_rank": severity.rank,
                    "severity_source": "scanner",
                    "tool_severity": ("error", "warning", "note")[severity.rank % 3],
                    "status": status.value,
                    "status_source": "person" if assessed else "scanner",
                    "status_reason": "not reachable in production" if assessed else None,
                    "status_by": f"user:{ENGINEER}" if assessed else None,
                    "status_at": fixed_at or first_seen,
                    "cwe_ids": [f"CWE-{79 + rule % 50}"] if code else [],
                    "vulnerability_ids": (
                        [f"CVE-2024-{10000 + rule * 7}"] if kind is Kind.DEPENDENCY else []
                    ),
                    "references": [f"https://rules.example.com/{tool}/{rule}"],
                    "path": path,
                    "line": rng.randrange(1, 900) if code else None,
                    "end_line": None,
                    "snippet_hash": f"{rng.getrandbits(128):032x}" if code else None,
                    "component_purl": f"pkg:pypi/{component}@1.{rule % 9}.0" if component else None,
                    "component_name": component,
                    "component_version": f"1.{rule % 9}.0" if component else None,
                    "ecosystem": "pypi" if component else None,
                    "fixed_version": f"1.{rule % 9}.1" if component else None,
                    "secret_hash": (
                        f"{rng.getrandbits(256):064x}" if kind is Kind.SECRET else None
                    ),
                    "secret_preview": "AKIA****************" if kind is Kind.SECRET else None,
                    "tools": [tool],
                    "scan_digest": f"{rng.getrandbits(128):032x}",
                    "first_seen": first_seen,
                    "fixed_at": fixed_at,
                    "reopen_count": 1 if status is Status.REOPENED else 0,
                }
            )
            sightings.append(
                {
                    "finding_id": finding_id,
                    "stream_id": stream.id,
                    "first_import_id": stream.import_ids[first],
                    "last_import_id": stream.import_ids[last],
                    "last_seen": max(stream.import_times[last], first_seen),
                    "present": fixed_at is None,
                }
            )
        yield findings, sightings
