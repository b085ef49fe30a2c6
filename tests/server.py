"""Helpers for tests of the server: an organisation, users, tokens, a logged-in browser
session and imports through the API."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from shieldwall.auth import service as auth
from shieldwall.auth.policy import Role, TokenScope
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.inventory.loader import load_inventory
from shieldwall.inventory.service import apply_inventory
from shieldwall.jobs import run_worker
from tests.conftest import fixture

PASSWORD = "correct horse battery"
REPORT = fixture("reports", "trivy", "image.json")
"""Seven findings of several severities."""


def organisation(db: Database) -> None:
    """Teams platform (payments-api, ledger) and growth (web)."""
    spec, document = load_inventory(fixture("inventory", "org.yaml"), 10**6)
    with db.write() as session:
        apply_inventory(session, spec, document, "test")


def user(db: Database, email: str, role: Role, teams: list[str] | None = None) -> str:
    with db.write() as session:
        auth.create_user(
            session, email=email, role=role, teams=teams or [], password=PASSWORD, actor="test"
        )
    return email


def bearer(db: Database, team: str, scope: TokenScope, name: str | None = None) -> dict[str, str]:
    with db.write() as session:
        new = auth.create_token(
            session,
            name=name or f"{team}-{scope}",
            team=team,
            scope=scope,
            expires_days=None,
            actor="test",
        )
    return {"Authorization": f"Bearer {new.token}"}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def attempt_login(
    client: TestClient, email: str, password: str = PASSWORD, next_url: str = "/"
) -> Any:
    """Fill in and send the login form as a browser does; the answer, not followed."""
    form = client.get("/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf": csrf_of(form.text), "next": next_url},
        follow_redirects=False,
    )


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log in as a browser does; the session's CSRF token."""
    answer = attempt_login(client, email, password)
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/").text)


def upload(
    client: TestClient,
    headers: dict[str, str],
    service: str,
    path: Path = REPORT,
    name: str | None = None,
    **fields: str,
) -> Any:
    """Upload ``path`` (as ``name``, by default its own) for import into ``service``."""
    with path.open("rb") as content:
        return client.post(
            "/api/v1/imports",
            headers=headers,
            files={"file": (name or path.name, content, "application/json")},
            data={"service": service, **fields},
        )


def wait_for_import(
    client: TestClient, headers: dict[str, str], uid: str, timeout: float = 30
) -> dict[str, Any]:
    """The import once it ended (done or failed)."""
    deadline = time.monotonic() + timeout
    while True:
        state: dict[str, Any] = client.get(f"/api/v1/imports/{uid}", headers=headers).json()
        if state["state"] in ("done", "failed") or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


def drain_queue(db: Database, settings: Settings) -> None:
    """On PostgreSQL nothing runs the queue but a worker: run one until the queue is empty
    (in a thread of its own, which has no event loop yet: the browser tests' Playwright may
    hold this one's)."""
    if db.dialect != "postgresql":
        return
    worker = threading.Thread(target=run_worker, args=(db, settings, 1), kwargs={"wait": False})
    worker.start()
    worker.join()
