"""Risk in the server: exceptions requested and decided through the API and the pages, with
the policy's decision rights; a finding's explanation; the priority order; the queue and the
feed status pages. On both engines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from shieldwall.auth.policy import Role, TokenScope
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.findings.models import Finding
from shieldwall.ingest.service import ImportRequest, import_report
from shieldwall.inventory.models import Service
from shieldwall.risk.policy import current_policy
from shieldwall.risk.service import current_priorities
from shieldwall.web.app import create_app
from tests.server import REPORT, bearer, csrf_of, log_in, organisation, user

People = Callable[[str, Role, list[str] | None], tuple[TestClient, dict[str, str]]]


@pytest.fixture
def app(db: Database, tmp_path: Path) -> FastAPI:
    organisation(db)
    settings = Settings(home=tmp_path)
    for service in ("payments-api", "ledger"):
        import_report(db, ImportRequest(REPORT, service, actor="token:ingest"), settings)
    return create_app(db, settings)


@pytest.fixture
def person(app: FastAPI, db: Database) -> Iterator[People]:
    """A logged-in browser per person, and the CSRF header its API calls carry."""
    clients: list[TestClient] = []

    def make(email: str, role: Role, teams: list[str] | None) -> tuple[TestClient, dict[str, str]]:
        user(db, email, role, teams)
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client)
        return client, {"X-CSRF-Token": log_in(client, email)}

    yield make
    for client in clients:
        client.close()


def finding_in(db: Database, service: str, most_urgent: bool) -> tuple[str, int]:
    """The id and priority of ``service``'s most (or least) urgent open finding."""
    order = Finding.urgency.desc() if most_urgent else Finding.urgency.asc()
    with db.read() as session:
        row = session.execute(
            select(Finding.uid, Finding.priority)
            .join(Service, Service.id == Finding.service_id)
            .where(
                Service.name == service,
                Finding.status == "open",
                Finding.priority.is_not(None),
            )
            .order_by(order, Finding.id)
            .limit(1)
        ).one()
    return row[0], row[1]


def urgent_finding(db: Database) -> str:
    """payments-api's most urgent open finding, made a P1: the sample report has no exploited
    vulnerability (no feeds are loaded), so it stands in for a KEV listing."""
    current_priorities(db, current_policy(None))  # stored now: not recomputed over the change
    finding, _ = finding_in(db, "payments-api", most_urgent=True)
    with db.write() as session:
        session.execute(update(Finding).where(Finding.uid == finding).values(priority=1))
    return finding


def ask(client: TestClient, headers: dict[str, str], finding: str, days: int = 20) -> Any:
    return client.post(
        "/api/v1/exceptions",
        headers=headers,
        json={
            "finding_id": finding,
            "reason": "the vulnerable code path is not reachable",
            "compensating_controls": "WAF rule 9001",
            "expires": (date.today() + timedelta(days=days)).isoformat(),
        },
    )


def test_an_engineer_requests_and_security_approves(
    person: People, db: Database, app: FastAPI
) -> None:
    finding, priority = finding_in(db, "ledger", most_urgent=False)
    engineer, eng = person("lee@example.com", Role.ENGINEER, ["platform"])
    made = ask(engineer, eng, finding)
    assert made.status_code == 201, made.text
    exception = made.json()
    assert exception["state"] == "requested"
    assert exception["finding_id"] == finding
    assert exception["priority"] == f"P{priority}"
    assert exception["requested_by"] == "lee@example.com"

    listed = engineer.get("/api/v1/exceptions", params={"state": "requested"}).json()
    assert [x["id"] for x in listed["items"]] == [exception["id"]]
    assert listed["aging"]["awaiting_decision"] == 1
    twice = ask(engineer, eng, finding)
    assert twice.status_code == 400
    assert f"exception {exception['id']} for this is already awaiting a decision" in twice.text

    security, sec = person("sec@example.com", Role.SECURITY, None)
    approved = security.post(
        f"/api/v1/exceptions/{exception['id']}/approve", headers=sec, json={"note": "ok"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved"
    assert approved.json()["decided_by"] == "sec@example.com"
    detail = engineer.get(f"/api/v1/findings/{finding}").json()
    assert detail["status"] == "accepted"
    why = engineer.get(f"/api/v1/findings/{finding}/explanation").json()
    assert why["exception_id"] == exception["id"]
    again = security.post(f"/api/v1/exceptions/{exception['id']}/reject", headers=sec)
    assert again.status_code == 400
    assert "not awaiting a decision" in again.json()["error"]["message"]


def test_nobody_approves_their_own_request(person: People, db: Database) -> None:
    finding, _ = finding_in(db, "ledger", most_urgent=False)
    security, sec = person("sec@example.com", Role.SECURITY, None)
    exception = ask(security, sec, finding).json()
    refused = security.post(f"/api/v1/exceptions/{exception['id']}/approve", headers=sec)
    assert refused.status_code == 403
    assert "own request" in refused.text
    assert security.get(f"/api/v1/findings/{finding}").json()["status"] != "accepted"


def test_a_manager_may_not_approve_an_urgent_exception(person: People, db: Database) -> None:
    finding = urgent_finding(db)
    engineer, eng = person("lee@example.com", Role.ENGINEER, ["platform"])
    exception = ask(engineer, eng, finding, days=10).json()
    manager, man = person("boss@example.com", Role.MANAGER, ["platform"])
    refused = manager.post(f"/api/v1/exceptions/{exception['id']}/approve", headers=man)
    assert refused.status_code == 403
    assert "approved by: security" in refused.text
    rejected = manager.post(f"/api/v1/exceptions/{exception['id']}/reject", headers=man)
    assert rejected.status_code == 403
    state = engineer.get("/api/v1/exceptions").json()["items"][0]["state"]
    assert state == "requested"


def test_requests_are_checked(person: People, db: Database, app: FastAPI) -> None:
    finding, _priority = finding_in(db, "payments-api", most_urgent=True)
    engineer, eng = person("lee@example.com", Role.ENGINEER, ["platform"])
    too_long = ask(engineer, eng, finding, days=400)
    assert too_long.status_code == 400
    assert "may last at most" in too_long.json()["error"]["message"]
    assert ask(engineer, eng, "no-such-finding").status_code == 404
    with TestClient(app) as client:
        token = bearer(db, "platform", TokenScope.WRITE)
        by_token = ask(client, token, finding)
    assert by_token.status_code == 403
    assert "a person must" in by_token.text
    auditor, aud = person("audit@example.com", Role.AUDITOR, None)
    assert ask(auditor, aud, finding).status_code == 403


def test_explanation_and_priority_order(person: People, db: Database) -> None:
    engineer, _ = person("lee@example.com", Role.ENGINEER, ["platform"])
    rows = engineer.get("/api/v1/findings", params={"sort": "priority", "limit": 100}).json()
    priorities = [int(r["priority"][1:]) for r in rows["items"]]
    assert priorities == sorted(priorities)
    assert len(set(priorities)) > 1
    first = rows["items"][0]
    why = engineer.get(f"/api/v1/findings/{first['id']}/explanation").json()
    assert why["priority"] == first["priority"]
    assert why["factors"]
    assert all({"name", "text", "effect"} <= set(f) for f in why["factors"])
    assert why["sla_state"] == first["sla_state"]


def test_pages_show_the_risk(person: People, db: Database) -> None:
    finding = urgent_finding(db)
    engineer, _ = person("lee@example.com", Role.ENGINEER, ["platform"])
    page = engineer.get(f"/findings/{finding}")
    assert page.status_code == 200
    assert "Why this priority" in page.text
    assert "Request an exception" in page.text
    listing = engineer.get("/findings")
    assert '<th scope="col">Priority</th>' in listing.text
    assert 'class="prio prio-P' in listing.text
    queue = engineer.get("/queue")
    assert queue.status_code == 200
    assert "SLA breached" in queue.text
    assert "platform" in queue.text

    sent = engineer.post(
        f"/findings/{finding}/exception",
        data={
            "csrf": csrf_of(page.text),
            "reason": "fix ships next sprint",
            "compensating_controls": "none",
            "expires": (date.today() + timedelta(days=5)).isoformat(),
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    listed = engineer.get("/exceptions")
    assert "fix ships next sprint" in listed.text
    assert ">Approve</button>" not in listed.text  # nobody decides on their own request

    manager, _ = person("boss@example.com", Role.MANAGER, ["platform"])
    shown = manager.get("/exceptions")
    assert ">Approve</button>" in shown.text
    uid = engineer.get("/api/v1/exceptions").json()["items"][0]["id"]
    refused = manager.post(
        f"/exceptions/{uid}/approve", data={"csrf": csrf_of(shown.text)}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert "approved by: security" in refused.text
    assert 'role="alert"' in refused.text

    security, _ = person("sec@example.com", Role.SECURITY, None)
    form = security.get("/exceptions")
    decided = security.post(
        f"/exceptions/{uid}/reject",
        data={"csrf": csrf_of(form.text), "note": "fix it instead"},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert "fix it instead" in security.get("/exceptions").text


def test_feed_status_is_for_people_who_see_every_team(person: People) -> None:
    admin, _ = person("root@example.com", Role.ADMIN, None)
    page = admin.get("/intel")
    assert page.status_code == 200
    assert "Intelligence feeds" in page.text
    assert admin.get("/api/v1/intel/status").status_code == 200
    engineer, _ = person("lee@example.com", Role.ENGINEER, ["platform"])
    assert engineer.get("/intel").status_code == 403
    assert engineer.get("/api/v1/intel/status").status_code == 403
    assert "/intel" not in engineer.get("/").text
