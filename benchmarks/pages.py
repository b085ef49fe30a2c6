"""Page speed at a million findings: ``python -m benchmarks.pages [--size N] [--rebuild]
[--sql]``, and a section of ``make bench`` (50,000 findings with ``--quick``).

Target (the web UI and API must stay usable at 1,000,000 findings): every page and API
list answers in under 300 ms of server time on SQLite at that size.

Builds (or reuses, see ``benchmarks.build_findings``) a SQLite store with 1,000,000
findings over 200 services of 20 teams, then requests each page in process through
``TestClient``, so that the wall time of a request is the server's time (routing, queries,
templates) without a network: the dashboard, services, a service, finding lists (default,
each sort, filters, the second and the twentieth page), a finding, imports, the admin pages,
the API lists and details (with a team's read token) and ``/metrics``. Web pages are timed
as an admin (all teams) and as an engineer of one team (about a fifth of the findings).
Each is requested ``REPEAT`` times; the table shows the median and the slowest, and marks
those over the target. ``--sql`` then lists, for each page over it, the statements that
took longest, each with SQLite's query plan.
"""

from __future__ import annotations

import argparse
import html
import re
import statistics
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from benchmarks.build_findings import (
    ADMIN,
    ENGINEER,
    LARGEST_SERVICE,
    PASSWORD,
    Store,
    ensure_store,
)
from shieldwall.db.engine import Database
from shieldwall.findings.models import Finding
from shieldwall.inventory.models import Service
from shieldwall.web.app import create_app

with warnings.catch_warnings():
    # Starlette's notice that its TestClient will want httpx2: nothing this benchmark can act on.
    warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
    from fastapi.testclient import TestClient

DATA = Path(__file__).parent / ".data"
SIZE = 1_000_000
QUICK_SIZE = 50_000
TARGET_MS = 300.0
REPEAT = 5
DEEP_PAGE = 20
SLOW_STATEMENT_MS = 10.0

_NEXT = re.compile(r'<a href="([^"]+)" rel="next"')
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass(frozen=True)
class Timing:
    label: str
    role: str
    url: str
    headers: dict[str, str]
    client: TestClient
    times_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def slowest(self) -> float:
        return max(self.times_ms)


@dataclass
class Statements:
    """The statements a request ran (SQL and parameters), while ``recording``."""

    recording: bool = False
    seen: list[tuple[str, Any]] = field(default_factory=list)

    def attach(self, db: Database) -> None:
        event.listen(db.engine, "after_cursor_execute", self._after)

    def _after(
        self,
        _conn: Any,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        executemany: bool,
    ) -> None:
        if self.recording and not executemany:
            self.seen.append((statement, parameters))

    @contextmanager
    def record(self) -> Iterator[list[tuple[str, Any]]]:
        self.seen = []
        self.recording = True
        try:
            yield self.seen
        finally:
            self.recording = False


def login(client: TestClient, email: str) -> None:
    form = client.get("/login")
    found = _CSRF.search(form.text)
    assert found is not None, "no csrf field on the login page"
    answer = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf": found.group(1), "next": "/"},
        follow_redirects=False,
    )
    if answer.status_code != 303 or "sw_session" not in client.cookies:
        raise SystemExit(f"logging in as {email} failed: {answer.status_code}")


def get(client: TestClient, url: str, headers: dict[str, str] | None = None) -> tuple[float, str]:
    """One request: its wall time in ms and its body (any status but 200 stops the run)."""
    started = time.perf_counter()
    response = client.get(url, headers=headers or {}, follow_redirects=False)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}: {response.text[:300]}")
    return elapsed, response.text


def next_page(client: TestClient, url: str) -> str:
    _, body = get(client, url)
    found = _NEXT.search(body)
    if found is None:
        raise SystemExit(f"{url} has no next page")
    return html.unescape(found.group(1))


def measure(
    label: str, role: str, client: TestClient, url: str, headers: dict[str, str] | None = None
) -> Timing:
    times = [get(client, url, headers)[0] for _ in range(REPEAT)]
    return Timing(label, role, url, headers or {}, client, times)


def web_pages(
    client: TestClient, role: str, service_uid: str, finding_uid: str
) -> Iterator[Timing]:
    yield measure("/", role, client, "/")
    yield measure("/services", role, client, "/services")
    service = f"/services/{service_uid}"
    yield measure(f"/services/{{uid}} ({LARGEST_SERVICE})", role, client, service)
    for query in (
        "",
        "?sort=newest",
        "?sort=oldest",
        "?severity=critical",
        "?status=all",
        f"?service={LARGEST_SERVICE}",
        "?kind=secret&severity=high",
        "?tool=semgrep",
    ):
        yield measure(f"/findings{query}", role, client, f"/findings{query}")
    url = next_page(client, "/findings")
    yield measure("/findings (page 2)", role, client, url)
    for _ in range(DEEP_PAGE - 2):
        url = next_page(client, url)
    yield measure(f"/findings (page {DEEP_PAGE})", role, client, url)
    yield measure("/findings/{uid}", role, client, f"/findings/{finding_uid}")
    yield measure("/imports", role, client, "/imports")
    if role == "admin":
        yield measure("/admin/users", role, client, "/admin/users")
        yield measure("/admin/tokens", role, client, "/admin/tokens")


def api_pages(client: TestClient, token: str, finding_uid: str) -> Iterator[Timing]:
    headers = {"Authorization": f"Bearer {token}"}
    for url in (
        "/api/v1/findings",
        "/api/v1/findings?severity=high&limit=500",
        f"/api/v1/findings/{finding_uid}",
        "/api/v1/imports",
        "/api/v1/services",
    ):
        label = url.replace(finding_uid, "{uid}")
        yield measure(label, "token", client, url, headers)


def _samples(db: Database) -> tuple[str, str]:
    """The largest service's id and one of its findings' (the engineer's team owns both)."""
    with db.read() as session:
        service_id, service_uid = session.execute(
            select(Service.id, Service.uid).where(Service.name == LARGEST_SERVICE)
        ).one()
        finding_uid = session.scalars(
            select(Finding.uid).where(Finding.service_id == service_id).order_by(Finding.id)
        ).first()
    assert finding_uid is not None
    return service_uid, finding_uid


def _megabytes(path: Path) -> float:
    files = [path, *(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm"))]
    return sum(f.stat().st_size for f in files if f.exists()) / 1024**2


def report_store(store: Store, built: bool) -> None:
    how = "built" if built else f"reused (built {store.built_at:%Y-%m-%d %H:%M} UTC)"
    print(
        f"store: {store.size:,} findings, {how}, build time {store.build_seconds:.1f} s, "
        f"{_megabytes(store.path):,.0f} MB at {store.path}",
        flush=True,
    )


def print_table(timings: list[Timing]) -> None:
    print(f"{'page':<44} {'as':<9} {'median':>9} {'slowest':>9}")
    for t in timings:
        mark = ""
        if t.median > TARGET_MS:
            mark = f"  OVER {TARGET_MS:.0f} ms"
        elif t.slowest > TARGET_MS:
            mark = f"  slowest over {TARGET_MS:.0f} ms"
        print(f"{t.label:<44} {t.role:<9} {t.median:6.1f} ms {t.slowest:6.1f} ms{mark}", flush=True)
    over = [t for t in timings if t.median > TARGET_MS]
    print(
        f"{len(timings) - len(over)} of {len(timings)} under {TARGET_MS:.0f} ms (median)",
        flush=True,
    )


def explain_slow(db: Database, statements: Statements, timings: list[Timing]) -> None:
    """For each page over the target: its slowest statements and their query plans. Each
    statement is run again on its own and read to the end (SQLite does much of a query's
    work while rows are fetched, after the execute that the event listener sees)."""
    for t in timings:
        if t.median <= TARGET_MS:
            continue
        with statements.record() as seen:
            get(t.client, t.url, t.headers)
        print(f"\n{t.label} as {t.role}: {t.url}")
        rerun: list[tuple[float, str, Any]] = []
        with db.engine.connect() as conn:
            for statement, parameters in seen:
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                started = time.perf_counter()
                conn.exec_driver_sql(statement, parameters).fetchall()
                rerun.append(((time.perf_counter() - started) * 1000, statement, parameters))
            for elapsed, statement, parameters in sorted(rerun, key=lambda s: -s[0]):
                if elapsed < SLOW_STATEMENT_MS:
                    break
                print(f"  {elapsed:7.1f} ms  {' '.join(statement.split())}")
                print(f"             parameters {parameters}")
                plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
                for row in plan:
                    print(f"             plan: {row[3]}")


def run(size: int, *, rebuild: bool = False, sql: bool = False, folder: Path = DATA) -> None:
    """Build or reuse the store, time every page and print the table."""
    store, built = ensure_store(folder, size, rebuild=rebuild)
    report_store(store, built)
    db = Database(store.url)
    statements = Statements()
    statements.attach(db)
    service_uid, finding_uid = _samples(db)
    timings: list[Timing] = []
    try:
        with (
            TestClient(create_app(db)) as admin,
            TestClient(create_app(db)) as engineer,
            TestClient(create_app(db)) as api,
        ):
            login(admin, ADMIN)
            login(engineer, ENGINEER)
            for client, role in ((admin, "admin"), (engineer, "engineer")):
                timings.extend(web_pages(client, role, service_uid, finding_uid))
            timings.extend(api_pages(api, store.token, finding_uid))
            timings.append(measure("/metrics", "-", api, "/metrics"))
            print_table(timings)
            if sql:
                explain_slow(db, statements, timings)
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=SIZE, help="findings in the store")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SIZE:,} findings")
    parser.add_argument("--rebuild", action="store_true", help="build the store even if present")
    parser.add_argument("--sql", action="store_true", help="explain the slow pages' statements")
    args = parser.parse_args()
    run(QUICK_SIZE if args.quick else args.size, rebuild=args.rebuild, sql=args.sql)


if __name__ == "__main__":
    main()
