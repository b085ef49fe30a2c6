"""Every route × every role and token scope × own team / another team, against the table
below, which states who may do what.

A principal that lacks the right gets 403; one that has it, asking about another team's
service, finding, import or team, gets 404 (as if it did not exist: ids leak nothing).
Pages are for people: tokens do not log in to them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shieldwall.auth.policy import Role, TokenScope
from shieldwall.auth.service import get_user
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.exceptions import service as exceptions
from shieldwall.findings.models import Finding
from shieldwall.ingest.models import ReportImport
from shieldwall.ingest.service import ImportRequest, import_report
from shieldwall.inventory.models import Service, Team
from shieldwall.risk.policy import current_policy
from shieldwall.web.app import create_app
from tests.server import PASSWORD, REPORT, bearer, log_in, organisation, user

PEOPLE = ("admin", "security", "manager", "engineer", "auditor")
TOKENS = ("ingest", "read", "write")
READERS = "admin security manager engineer auditor read write"
TRIAGERS = "admin security manager engineer write"
ALL_TEAMS = "admin security auditor"
CHANGERS = "admin security"  # people who may change other teams' things
DECIDERS = "security manager"  # on a P2-P4 exception of their team, by the default policy

# route: (who may, for the own team; who may, for another team — None when the route is
# about no team in particular)
TABLE: dict[str, tuple[str, str | None]] = {
    "GET /api/v1/teams": (READERS, None),
    "GET /api/v1/services": (READERS, None),
    "GET /api/v1/services/{service}": (READERS, ALL_TEAMS),
    "POST /api/v1/services": ("admin security write", CHANGERS),
    "PATCH /api/v1/services/{service}": ("admin security write", CHANGERS),
    "POST /api/v1/teams": (CHANGERS, None),
    "PATCH /api/v1/teams/{team}": ("admin security write", CHANGERS),
    "GET /api/v1/findings": (READERS, None),
    "GET /api/v1/findings/{finding}": (READERS, ALL_TEAMS),
    "POST /api/v1/findings/{finding}/triage": (TRIAGERS, CHANGERS),
    "POST /api/v1/findings/triage": (TRIAGERS, CHANGERS),
    "POST /api/v1/imports": ("admin security manager engineer ingest write", CHANGERS),
    "GET /api/v1/imports": (READERS, None),
    "GET /api/v1/imports/{import}": (READERS + " ingest", ALL_TEAMS),
    "GET /": (" ".join(PEOPLE), None),
    "GET /services": (" ".join(PEOPLE), None),
    "GET /services/{service}": (" ".join(PEOPLE), ALL_TEAMS),
    "GET /findings": (" ".join(PEOPLE), None),
    "GET /findings/{finding}": (" ".join(PEOPLE), ALL_TEAMS),
    "POST /findings/{finding}/triage": ("admin security manager engineer", CHANGERS),
    "POST /findings/triage": ("admin security manager engineer", CHANGERS),
    "GET /imports": (" ".join(PEOPLE), None),
    "GET /api/v1/coverage": (READERS, None),
    "GET /teams/{team}": (" ".join(PEOPLE), ALL_TEAMS),
    "GET /api/v1/findings/{finding}/explanation": (READERS, ALL_TEAMS),
    "GET /api/v1/exceptions": (READERS, None),
    # Exceptions are a person's call: tokens may neither request nor decide. Deciding is the
    # policy's (default: security, managers for P2 and below; admin is not named), and only
    # people who may decide on some exception learn whether another team's exists.
    "POST /api/v1/exceptions": ("admin security manager engineer", CHANGERS),
    "POST /api/v1/exceptions/{api_approve}/approve": (DECIDERS, "security"),
    "POST /api/v1/exceptions/{api_reject}/reject": (DECIDERS, "security"),
    "GET /api/v1/intel/status": (ALL_TEAMS, None),
    "GET /exceptions": (" ".join(PEOPLE), None),
    "POST /findings/{finding}/exception": ("admin security manager engineer", CHANGERS),
    "POST /exceptions/{page_approve}/approve": (DECIDERS, "security"),
    "POST /exceptions/{page_reject}/reject": (DECIDERS, "security"),
    "GET /queue": (" ".join(PEOPLE), None),
    "GET /intel": (ALL_TEAMS, None),
    "GET /admin/users": ("admin", None),
    "POST /admin/users": ("admin", None),
    "GET /admin/tokens": ("admin", None),
    "POST /admin/tokens": ("admin", None),
}


@dataclass
class World:
    ids: dict[str, dict[str, str]]
    """For "own" (team platform) and "other" (team growth): service, finding, import, team
    ids, and the service and team names."""


@pytest.fixture
def world(db: Database, tmp_path: Path) -> World:
    organisation(db)
    settings = Settings(home=tmp_path)
    for service, actor in (("ledger", "token:ingest"), ("web", "token:someone-else")):
        import_report(db, ImportRequest(REPORT, service, actor=actor), settings)
    user(db, "requester@example.com", Role.SECURITY)
    ids: dict[str, dict[str, str]] = {}
    with db.read() as session:
        for side, team, service in (("own", "platform", "ledger"), ("other", "growth", "web")):
            row = session.execute(
                select(Service.uid, Service.id, Team.uid)
                .join(Team, Team.id == Service.team_id)
                .where(Service.name == service)
            ).one()
            ids[side] = {
                "service": row[0],
                "service_name": service,
                "team": row[2],
                "team_name": team,
                "finding": session.scalars(
                    select(Finding.uid).where(Finding.service_id == row[1]).limit(1)
                ).one(),
                "import": session.scalars(
                    select(ReportImport.uid).where(ReportImport.service_id == row[1])
                ).one(),
            }
        requester = get_user(session, "requester@example.com")
    policy = current_policy(None)
    for side in ("own", "other"):
        service = ids[side]["service_name"]
        with db.write() as session:
            names = ("api_approve", "api_reject", "page_approve", "page_reject")
            # One finding each (a finding has one request at a time), and one more for the
            # API's request route (the page's requests on {finding}).
            *findings, ids[side]["request_finding"] = session.scalars(
                select(Finding.uid)
                .join(Service, Service.id == Finding.service_id)
                .where(
                    Service.name == service,
                    Finding.priority >= 2,
                    Finding.uid != ids[side]["finding"],
                )
                .order_by(Finding.uid)
                .limit(len(names) + 1)
            ).all()
            for name, finding in zip(names, findings, strict=True):
                ids[side][name] = exceptions.request(
                    session,
                    get_user(session, requester.email),
                    exceptions.Subject(finding=finding),
                    reason="matrix",
                    compensating_controls="none",
                    expires=date.today() + timedelta(days=7),
                    policy=policy,
                ).uid
    return World(ids)


@pytest.fixture
def app_client(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(
        create_app(db, Settings(home=tmp_path)), raise_server_exceptions=False
    ) as client:
        yield client


_counter = itertools.count()


def request_for(route: str, side: str, world: World) -> tuple[str, str, dict[str, Any]]:
    """The method, URL and request arguments exercising ``route`` on ``side``'s things."""
    method, template = route.split(" ", 1)
    ids = world.ids[side]
    url = template.format(**ids)
    n = next(_counter)
    bodies: dict[str, dict[str, Any]] = {
        "POST /api/v1/services": {
            "json": {
                "name": f"svc-{n}",
                "team": ids["team_name"],
                "tier": 2,
                "exposure": "internal",
            }
        },
        "PATCH /api/v1/services/{service}": {"json": {"description": f"edit {n}"}},
        "POST /api/v1/teams": {"json": {"name": f"team-{n}"}},
        "PATCH /api/v1/teams/{team}": {"json": {"description": f"edit {n}"}},
        "POST /api/v1/findings/{finding}/triage": {
            "json": {"status": "not_affected", "reason": f"matrix {n}"}
        },
        "POST /api/v1/findings/triage": {
            "json": {"ids": [ids["finding"]], "status": "not_affected", "reason": f"matrix {n}"}
        },
        "POST /api/v1/imports": {
            "files": {"file": ("report.json", REPORT.read_bytes(), "application/json")},
            "data": {"service": ids["service_name"]},
        },
        "POST /findings/{finding}/triage": {
            "data": {"status": "not_affected", "reason": f"matrix {n}"}
        },
        "POST /findings/triage": {
            "data": {"ids": [ids["finding"]], "status": "not_affected", "reason": f"matrix {n}"}
        },
        "POST /api/v1/exceptions": {
            "json": {
                "finding_id": ids["request_finding"],
                "reason": f"matrix {n}",
                "compensating_controls": "none",
                "expires": (date.today() + timedelta(days=7)).isoformat(),
            }
        },
        "POST /findings/{finding}/exception": {
            "data": {
                "reason": f"matrix {n}",
                "compensating_controls": "none",
                "expires": (date.today() + timedelta(days=7)).isoformat(),
            }
        },
        "POST /admin/users": {
            "data": {"email": f"new{n}@example.com", "role": "auditor", "password": PASSWORD}
        },
        "POST /admin/tokens": {"data": {"name": f"t{n}", "team": "platform", "scope": "read"}},
    }
    return method, url, bodies.get(route, {})


def caller(db: Database, client: TestClient, who: str) -> dict[str, str]:
    """Headers that make requests as ``who``: a token, or a person's logged-in session."""
    if who in TOKENS:
        return bearer(db, "platform", TokenScope(who), name=who)
    role = Role(who)
    teams = [] if who in ("admin", "security", "auditor") else ["platform"]
    user(db, f"{who}@example.com", role, teams)
    csrf = log_in(client, f"{who}@example.com")
    return {"X-CSRF-Token": csrf}


@pytest.mark.parametrize("who", PEOPLE + TOKENS)
def test_authorization_matrix(who: str, db: Database, world: World, app_client: TestClient) -> None:
    headers = caller(db, app_client, who)
    wrong: list[str] = []
    for route, (own, other) in TABLE.items():
        page = not route.split(" ", 1)[1].startswith("/api/")
        for side, allowed in (("own", own), ("other", other)):
            if side == "other" and other is None:
                continue
            method, url, arguments = request_for(route, side, world)
            if page and who in TOKENS:
                expected = {303}  # no session: sent to the login page
            elif who in allowed.split():
                expected = {200, 201, 202, 303}
            elif side == "other" and who in own.split():
                expected = {404}
            else:
                expected = {403}
            data = arguments.get("data")
            if page and method == "POST":
                data = {**(data or {}), "csrf": headers.get("X-CSRF-Token", "")}
            answer = app_client.request(
                method,
                url,
                headers=headers,
                json=arguments.get("json"),
                data=data,
                files=arguments.get("files"),
                follow_redirects=False,
            )
            if answer.status_code not in expected:
                wrong.append(
                    f"{route} [{side}]: {answer.status_code}, expected {sorted(expected)}: "
                    f"{answer.text[:120]}"
                )
            if answer.status_code >= 500:
                wrong.append(f"{route} [{side}]: server error")
    assert wrong == []
