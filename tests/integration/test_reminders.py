"""`shieldwall sla remind` end to end: a breached finding reaches a real local webhook
receiver once, and an expiring exception reminds its requester."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from sqlalchemy import update

from shieldwall.clock import utcnow
from shieldwall.db.engine import Database
from shieldwall.findings.models import Finding
from tests.conftest import Cli, fixture


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


def test_a_breached_finding_is_reminded_once(
    cli: Cli, db: Database, receiver: list[dict[str, object]]
) -> None:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    cli.ok("import", fixture("reports", "gitleaks", "v8.json"), "--service", "payments-api")
    [first, *_] = json.loads(cli.ok("findings", "list", "--format", "json").out)
    with db.write() as session:
        session.execute(
            update(Finding)
            .where(Finding.uid == first["id"])
            .values(sla_due=utcnow() - timedelta(days=2))
        )

    cli.ok("sla", "remind")
    [notice] = [n for n in receiver if n["kind"] == "sla_breached"]
    assert first["id"] in str(notice["body"])
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
