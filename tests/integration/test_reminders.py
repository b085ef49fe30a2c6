"""Reminders end to end: a breached finding reaches a real local webhook receiver once, an
expiring exception reminds its requester, and the server (SQLite) and the workers
(PostgreSQL) send them on their schedule without cron."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from sqlalchemy import update

from shieldwall.clock import utcnow
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.findings.models import Finding
from shieldwall.jobs import REMINDERS_TASK, ThreadJobs, queue_app
from tests.conftest import Cli, fixture
from tests.server import drain_queue


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, object]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Receiver.received = []
    url = f"webhook+http://127.0.0.1:{server.server_address[1]}/hook"
    monkeypatch.setenv("SHIELDWALL_NOTIFIERS", json.dumps([url]))
    yield _Receiver.received
    server.shutdown()


def _breach_one(cli: Cli, db: Database) -> str:
    """Import a report and move its first finding's SLA two days into the past."""
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    cli.ok("import", fixture("reports", "gitleaks", "v8.json"), "--service", "payments-api")
    [first, *_] = json.loads(cli.ok("findings", "list", "--format", "json").out)
    with db.write() as session:
        session.execute(
            update(Finding)
            .where(Finding.uid == first["id"])
            .values(sla_due=utcnow() - timedelta(days=2))
        )
    return str(first["id"])


def test_a_breached_finding_is_reminded_once(
    cli: Cli, db: Database, receiver: list[dict[str, object]]
) -> None:
    breached = _breach_one(cli, db)

    cli.ok("sla", "remind")
    [notice] = [n for n in receiver if n["kind"] == "sla_breached"]
    assert breached in str(notice["body"])
    assert "breached their SLA" in str(notice["subject"])

    cli.ok("sla", "remind")
    assert [n["kind"] for n in receiver].count("sla_breached") == 1


def test_an_expiring_exception_reminds_its_requester(
    cli: Cli, receiver: list[dict[str, object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    cli.ok("import", fixture("reports", "gitleaks", "v8.json"), "--service", "web")
    for email, role in (("eng@example.com", "engineer"), ("sec@example.com", "security")):
        monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
        cli.ok(
            "user",
            "create",
            "--email",
            email,
            "--role",
            role,
            "--team",
            "growth",
            "--password-stdin",
        )
    [finding, *_] = json.loads(cli.ok("findings", "list", "--format", "json").out)
    expires = (utcnow() + timedelta(days=3)).date().isoformat()
    exception = cli.ok(
        "exception",
        "request",
        "--finding",
        finding["id"],
        "--reason",
        "vendor fix due",
        "--compensating-controls",
        "none",
        "--expires",
        expires,
        "--as",
        "eng@example.com",
    ).out.strip()
    cli.ok("exception", "approve", exception, "--as", "sec@example.com")

    cli.ok("sla", "remind")
    [notice] = [n for n in receiver if n["kind"] == "exception_expiring"]
    assert exception in str(notice["body"])
    assert notice["fields"] == {"team": "growth", "count": "1"}


def test_the_sqlite_server_sends_reminders_on_its_schedule(
    sqlite_cli: Cli,
    sqlite_db: Database,
    receiver: list[dict[str, object]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = sqlite_db
    breached = _breach_one(sqlite_cli, db)
    monkeypatch.setenv("SHIELDWALL_REMINDERS_CRON", "* * * * * */1")  # every second

    jobs = ThreadJobs(db, Settings())
    try:
        deadline = time.monotonic() + 20
        while not receiver and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2.5)  # two more ticks: the reminder must not go out again
    finally:
        jobs.close()

    [notice] = receiver
    assert notice["kind"] == "sla_breached"
    assert breached in str(notice["body"])


def test_postgresql_workers_run_reminders_as_a_periodic_task(
    postgres_cli: Cli,
    postgres_db: Database,
    receiver: list[dict[str, object]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = postgres_db
    breached = _breach_one(postgres_cli, db)
    monkeypatch.setenv("SHIELDWALL_REMINDERS_CRON", "30 6 * * *")
    settings = Settings()
    app = queue_app(db, settings)
    [periodic] = app.periodic_registry.periodic_tasks.values()
    assert (periodic.task.name, periodic.cron) == (REMINDERS_TASK, "30 6 * * *")

    # What the periodic deferrer does at 06:30, then a worker takes the job.
    with app.open():
        app.configure_task(REMINDERS_TASK).defer(timestamp=int(time.time()))
    drain_queue(db, settings)

    [notice] = receiver
    assert breached in str(notice["body"])


def test_no_schedule_means_no_periodic_task(postgres_db: Database) -> None:
    assert not queue_app(postgres_db, Settings(reminders_cron="")).periodic_registry.periodic_tasks
