"""Browser tests: Playwright drives Debian's Chromium headless against a real server.

The browser is always the system one, ``/usr/bin/chromium`` (``make browsers`` installs it):
Playwright never downloads a browser here. Each test gets its own server (uvicorn on a free
port of 127.0.0.1, in a thread, over a fresh SQLite store with the sample organisation) and
its own browser context, whose console is watched for Content Security Policy violations
and script errors.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from shieldwall.auth import service as auth
from shieldwall.auth.policy import Role, TokenScope
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.db.migrate import upgrade
from shieldwall.inventory.loader import load_inventory
from shieldwall.inventory.service import apply_inventory
from shieldwall.web.app import create_app
from tests.conftest import fixture, unavailable

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery"  # the test accounts'
REPORT = fixture("reports", "semgrep", "semgrep-code.json")
"""Two findings, one of them suppressed in the source (so not active)."""
TIMEOUT_MS = 10_000
"""How long an action or an expectation waits: generous, since CI machines can be slow."""
expect.set_options(timeout=TIMEOUT_MS)


def require_chromium() -> Path:
    """The system Chromium; skips without it (fails when CI=true)."""
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} is missing: `make browsers` installs Debian's chromium")
    return CHROMIUM


@dataclass
class Server:
    """A running server over its own store, with the sample organisation."""

    url: str
    db: Database
    ingest_token: str
    """An ingest token of team platform (payments-api and ledger)."""

    def user(self, email: str, teams: list[str], role: Role = Role.ENGINEER) -> str:
        with self.db.write() as session:
            auth.create_user(
                session, email=email, role=role, teams=teams, password=PASSWORD, actor="test"
            )
        return email

    def api(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token or self.ingest_token}"},
            timeout=10,
            trust_env=False,  # never through a proxy: the server is on 127.0.0.1
        )

    def import_report(self, service: str, path: Path = REPORT) -> dict[str, Any]:
        """Uploads a report as CI does and follows the import until it ends; the import."""
        with self.api() as client:
            with path.open("rb") as content:
                answer = client.post(
                    "/api/v1/imports",
                    files={"file": (path.name, content, "application/json")},
                    data={"service": service, "branch": "main"},
                )
            assert answer.status_code == 202, answer.text
            state: dict[str, Any] = answer.json()
            assert state["state"] in ("queued", "running", "done"), state
            deadline = time.monotonic() + 30
            while state["state"] not in ("done", "failed") and time.monotonic() < deadline:
                time.sleep(0.05)
                polled = client.get(f"/api/v1/imports/{state['id']}")
                assert polled.status_code == 200, polled.text
                state = polled.json()
        assert state["state"] == "done", state
        return state


def _organisation(db: Database) -> None:
    """Teams platform (payments-api, ledger) and growth (web)."""
    spec, document = load_inventory(fixture("inventory", "org.yaml"), 10**6)
    with db.write() as session:
        apply_inventory(session, spec, document, "test")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    db = Database(f"sqlite:///{tmp_path}/shieldwall.db")
    upgrade(db)
    _organisation(db)
    with db.write() as session:
        token = auth.create_token(
            session,
            name="ci",
            team="platform",
            scope=TokenScope.INGEST,
            expires_days=None,
            actor="test",
        ).token
    app = create_app(db, Settings(home=tmp_path / "home"))
    # Bound here, handed to uvicorn: no other process can take the port in between.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not uv.started:
            assert thread.is_alive(), "the server stopped while starting"
            assert time.monotonic() < deadline, "the server did not start within 10 s"
            time.sleep(0.01)
        yield Server(f"http://127.0.0.1:{port}", db, token)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()
        db.dispose()
    assert not thread.is_alive(), "the server did not stop within 10 s"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    require_chromium()
    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox"],  # the tests may run as root, where the sandbox cannot start
        )
        yield launched
        launched.close()
    finally:
        playwright.stop()


def watch_console(page: Page) -> list[str]:
    """Console errors and uncaught script errors of the page, as they come."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.append(f"uncaught: {e}"))
    return seen


def csp_violations(messages: list[str]) -> list[str]:
    return [m for m in messages if "content security policy" in m.lower()]


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    """A fresh browser (no cookies) on the server; no CSP violation or script error allowed."""
    context = browser.new_context(base_url=server.url)
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    messages = watch_console(opened)
    yield opened
    context.close()
    assert not csp_violations(messages), messages
    assert not [m for m in messages if m.startswith("uncaught: ")], messages
