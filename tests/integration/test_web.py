"""The web front door: login, sessions, CSRF, rate limits, security headers, first run; and
the findings API and inventory changes a person makes. On both engines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from shieldwall.audit.models import AuditEntry
from shieldwall.auth import service as auth
from shieldwall.auth.models import User, WebSession
from shieldwall.auth.policy import Role, TokenScope
from shieldwall.clock import utcnow
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.web.app import create_app
from shieldwall.web.cli import INITIAL_PASSWORD_FILE, _first_run
from tests.server import (
    PASSWORD,
    attempt_login,
    bearer,
    csrf_of,
    drain_queue,
    log_in,
    organisation,
    upload,
    user,
    wait_for_import,
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, login_failures_per_account=3, login_failures_per_address=6)


@pytest.fixture
def client(db: Database, settings: Settings) -> Iterator[TestClient]:
    organisation(db)
    with TestClient(create_app(db, settings), raise_server_exceptions=False) as test_client:
        yield test_client


def imported(client: TestClient, db: Database, settings: Settings, service: str) -> None:
    ingest = bearer(db, "platform" if service != "web" else "growth", TokenScope.INGEST, service)
    uid = upload(client, ingest, service).json()["id"]
    drain_queue(db, settings)
    assert wait_for_import(client, ingest, uid)["state"] == "done"


# --- sessions -----------------------------------------------------------------------------


def test_pages_need_a_login_and_the_session_cookie_is_guarded(
    client: TestClient, db: Database
) -> None:
    gone = client.get("/findings?severity=high", follow_redirects=False)
    assert gone.status_code == 303
    assert gone.headers["location"] == "/login?next=%2Ffindings"
    user(db, "ana@example.com", Role.ENGINEER, ["platform"])
    answer = attempt_login(client, "Ana@Example.com")
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "sw_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # plain http here; https sets it
    home = client.get("/")
    assert home.status_code == 200
    assert "ana@example.com (engineer)" in home.text


def test_the_session_cookie_is_secure_over_https(db: Database, settings: Settings) -> None:
    organisation(db)
    user(db, "ana@example.com", Role.ENGINEER, ["platform"])
    with TestClient(create_app(db, settings), base_url="https://testserver") as secure:
        answer = attempt_login(secure, "ana@example.com")
        assert "Secure" in answer.headers["set-cookie"]
        assert answer.headers["strict-transport-security"].startswith("max-age=")


def test_login_does_not_tell_which_part_was_wrong(client: TestClient, db: Database) -> None:
    user(db, "ana@example.com", Role.ENGINEER, ["platform"])
    answers = []
    for email, password in (
        ("ana@example.com", "wrong password!"),
        ("nobody@example.com", PASSWORD),
    ):
        answers.append(attempt_login(client, email, password))
    assert [a.status_code for a in answers] == [401, 401]
    assert answers[0].text.replace("ana@example.com", "") == answers[1].text.replace(
        "nobody@example.com", ""
    ).replace(csrf_of(answers[1].text), csrf_of(answers[0].text))


def test_login_is_rate_limited_per_account_even_for_unknown_ones(
    client: TestClient, db: Database
) -> None:
    user(db, "ana@example.com", Role.ENGINEER, ["platform"])
    for email in ("ana@example.com", "nobody@example.com"):
        codes = []
        for _ in range(4):
            codes.append(attempt_login(client, email, "not the password").status_code)
        assert codes == [401, 401, 401, 429]
    # Even the right password waits now: the limit does not reveal it either.
    right = attempt_login(client, "ana@example.com")
    assert right.status_code == 429
    assert "too many failed logins" in right.text.lower()


def test_login_is_rate_limited_per_address(client: TestClient, db: Database) -> None:
    codes = []
    for n in range(7):
        codes.append(attempt_login(client, f"u{n}@example.com", "nope nope").status_code)
    assert codes == [401] * 6 + [429]


def test_login_without_its_form_token_is_refused(client: TestClient, db: Database) -> None:
    user(db, "ana@example.com", Role.ENGINEER, ["platform"])
    client.get("/login")
    forged = client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    assert forged.status_code == 403
    assert "sw_session" not in forged.headers.get("set-cookie", "")


def test_state_changes_need_the_csrf_token(
    client: TestClient, db: Database, settings: Settings
) -> None:
    imported(client, db, settings, "ledger")
    user(db, "ana@example.com", Role.ENGINEER, ["platform"])
    csrf = log_in(client, "ana@example.com")
    uid = client.get("/api/v1/findings", headers=bearer(db, "platform", TokenScope.READ)).json()[
        "items"
    ][0]["id"]
    form = {"status": "false_positive", "reason": "test data"}
    assert client.post(f"/findings/{uid}/triage", data=form).status_code == 403
    assert (
        client.post(f"/findings/{uid}/triage", data={**form, "csrf": "x" * 43}).status_code == 403
    )
    done = client.post(
        f"/findings/{uid}/triage", data={**form, "csrf": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    page = client.get(f"/findings/{uid}").text
    assert "user:ana@example.com" in page
    assert "test data" in page
    # The header htmx sends works as well as the form field.
    back = client.post(
        f"/findings/{uid}/triage",
        data={"status": "open", "reason": "after all"},
        headers={"X-CSRF-Token": csrf},
        follow_redirects=False,
    )
    assert back.status_code == 303


def test_logout_ends_the_session_for_good(client: TestClient, db: Database) -> None:
    user(db, "ana@example.com", Role.ENGINEER, ["platform"])
    csrf = log_in(client, "ana@example.com")
    stolen = client.cookies.get("sw_session")
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    client.cookies.set("sw_session", stolen or "")
    assert client.get("/", follow_redirects=False).status_code == 303
    with db.read() as session:
        assert session.scalars(select(WebSession)).all() == []


@pytest.mark.parametrize(
    ("column", "age"),
    [("last_seen_at", timedelta(minutes=31)), ("created_at", timedelta(hours=13))],
)
def test_sessions_end_when_idle_or_old(
    client: TestClient, db: Database, column: str, age: timedelta
) -> None:
    user(db, "ana@example.com", Role.ENGINEER, ["platform"])
    log_in(client, "ana@example.com")
    assert client.get("/", follow_redirects=False).status_code == 200
    with db.write() as session:
        session.execute(update(WebSession).values({column: utcnow() - age}))
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_disabled_user_is_logged_out(client: TestClient, db: Database) -> None:
    user(db, "ana@example.com", Role.ENGINEER, ["platform"])
    log_in(client, "ana@example.com")
    with db.write() as session:
        auth.set_active(session, "ana@example.com", False, "test")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/login", "/healthz", "/api/v1/openapi.json", "/nothing", "/static/app.css"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
    page = client.get("/login").text
    assert "<script>" not in page
    assert " style=" not in page
    assert "onclick" not in page


def test_login_redirects_only_within_the_site(client: TestClient, db: Database) -> None:
    user(db, "ana@example.com", Role.ENGINEER, ["platform"])
    for target, expected in (
        ("/findings", "/findings"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
    ):
        answer = attempt_login(client, "ana@example.com", next_url=target)
        assert answer.headers["location"] == expected


def test_first_run_creates_an_admin_whose_password_only_the_owner_reads(
    db: Database, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    _first_run(db, settings)
    secret = settings.home / INITIAL_PASSWORD_FILE
    password = secret.read_text().strip()
    assert secret.stat().st_mode & 0o777 == 0o600
    printed = capsys.readouterr()
    assert password not in printed.out + printed.err
    assert str(secret) in printed.err.replace("\n", "")
    with db.write() as session:
        admin = auth.authenticate(session, "admin@example.com", password)
        assert admin is not None
        assert admin.role == "admin"
    _first_run(db, settings)  # accounts exist: nothing more
    with db.read() as session:
        assert len(session.scalars(select(User)).all()) == 1


# --- findings API -------------------------------------------------------------------------


def test_findings_list_filters_pages_and_scopes(
    client: TestClient, db: Database, settings: Settings
) -> None:
    imported(client, db, settings, "ledger")
    imported(client, db, settings, "web")
    platform = bearer(db, "platform", TokenScope.READ)
    everything = client.get("/api/v1/findings", headers=platform, params={"status": "all"}).json()
    assert everything["total"] > 1
    assert {f["service"] for f in everything["items"]} == {"ledger"}
    ranks = ["critical", "high", "medium", "low", "info"]
    order = [ranks.index(f["severity"]) for f in everything["items"]]
    assert order == sorted(order)
    walked: list[str] = []
    cursor = None
    while True:
        params = {"status": "all", "limit": "1", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/findings", headers=platform, params=params).json()
        walked.extend(f["id"] for f in page["items"])
        cursor = page["next"]
        if cursor is None:
            break
    assert walked == [f["id"] for f in everything["items"]]
    oldest = client.get(
        "/api/v1/findings", headers=platform, params={"status": "all", "sort": "oldest", "limit": 1}
    ).json()
    assert oldest["next"] is not None
    assert oldest["total"] == everything["total"]
    high = client.get(
        "/api/v1/findings", headers=platform, params={"severity": "high,critical", "status": "all"}
    ).json()
    assert all(f["severity"] in ("high", "critical") for f in high["items"])
    # Another team's service is unknown, not empty.
    hidden = client.get("/api/v1/findings", headers=platform, params={"service": "web"})
    assert hidden.status_code == 404
    bad = client.get("/api/v1/findings", headers=platform, params={"severity": "urgent"})
    assert bad.status_code == 400
    assert "severity 'urgent'" in bad.json()["error"]["message"]
    growth_finding = client.get(
        "/api/v1/findings", headers=bearer(db, "growth", TokenScope.READ)
    ).json()["items"][0]["id"]
    assert client.get(f"/api/v1/findings/{growth_finding}", headers=platform).status_code == 404


def test_triage_through_the_api_is_audited_with_the_actor(
    client: TestClient, db: Database, settings: Settings
) -> None:
    imported(client, db, settings, "ledger")
    writer = bearer(db, "platform", TokenScope.WRITE, "ci-writer")
    reader = bearer(db, "platform", TokenScope.READ, "dashboards")
    ids = [f["id"] for f in client.get("/api/v1/findings", headers=writer).json()["items"]]
    body = {"status": "false_positive", "reason": "test fixture"}
    assert (
        client.post(f"/api/v1/findings/{ids[0]}/triage", headers=reader, json=body).status_code
        == 403
    )
    one = client.post(f"/api/v1/findings/{ids[0]}/triage", headers=writer, json=body)
    assert one.status_code == 200
    assert one.json()["status"] == "false_positive"
    detail = client.get(f"/api/v1/findings/{ids[0]}", headers=reader).json()
    assert detail["history"][-1]["actor"] == "token:ci-writer"
    assert detail["history"][-1]["after"]["status_reason"] == "test fixture"
    bulk = client.post(
        "/api/v1/findings/triage", headers=writer, json={**body, "ids": [ids[1], "0" * 16]}
    )
    assert bulk.status_code == 404  # all or nothing
    assert client.get(f"/api/v1/findings/{ids[1]}", headers=reader).json()["status"] == "open"
    bulk = client.post("/api/v1/findings/triage", headers=writer, json={**body, "ids": ids[1:3]})
    assert [f["status"] for f in bulk.json()] == ["false_positive", "false_positive"]
    invalid = client.post(
        f"/api/v1/findings/{ids[0]}/triage", headers=writer, json={"status": "fixed", "reason": "x"}
    )
    assert invalid.status_code == 400
    with db.read() as session:
        actors = session.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "finding.triaged")
        ).all()
    assert actors == ["token:ci-writer"] * 3


# --- inventory changes --------------------------------------------------------------------


def test_inventory_changes_through_the_api(client: TestClient, db: Database) -> None:
    writer = bearer(db, "platform", TokenScope.WRITE)
    reader = bearer(db, "platform", TokenScope.READ)
    service = {"name": "billing", "team": "platform", "tier": 1, "exposure": "internal"}
    assert client.post("/api/v1/services", headers=reader, json=service).status_code == 403
    made = client.post("/api/v1/services", headers=writer, json=service)
    assert made.status_code == 201
    assert made.json()["data"] == []
    assert made.json()["lifecycle"] == "production"
    uid = made.json()["id"]
    again = client.post("/api/v1/services", headers=writer, json=service)
    assert again.status_code == 409
    theirs = client.post(
        "/api/v1/services", headers=writer, json={**service, "name": "x", "team": "growth"}
    )
    assert theirs.status_code == 404  # a team-bound credential cannot place a service elsewhere
    changed = client.patch(
        f"/api/v1/services/{uid}", headers=writer, json={"exposure": "internet", "data": ["pii"]}
    )
    assert changed.status_code == 200
    assert (changed.json()["exposure"], changed.json()["data"], changed.json()["tier"]) == (
        "internet",
        ["pii"],
        1,
    )
    bad = client.patch(f"/api/v1/services/{uid}", headers=writer, json={"tier": 7})
    assert bad.status_code == 400
    assert "tier" in bad.json()["error"]["message"]
    moved = client.patch(f"/api/v1/services/{uid}", headers=writer, json={"team": "growth"})
    assert moved.status_code == 404
    assert client.post("/api/v1/teams", headers=writer, json={"name": "data"}).status_code == 403
    web = client.get("/api/v1/services", headers=bearer(db, "growth", TokenScope.READ)).json()[
        "items"
    ][0]
    assert (
        client.patch(f"/api/v1/services/{web['id']}", headers=writer, json={"tier": 0}).status_code
        == 404
    )
    with db.read() as session:
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity_type == "service", AuditEntry.entity_id == "billing"
            )
        ).all()
    assert [(e.action, e.actor) for e in entries] == [
        ("service.created", "token:platform-write"),
        ("service.updated", "token:platform-write"),
    ]


def test_security_uses_the_api_from_its_browser_session(client: TestClient, db: Database) -> None:
    user(db, "sec@example.com", Role.SECURITY)
    csrf = log_in(client, "sec@example.com")
    team = {"name": "data", "manager": "mo@example.com"}
    assert client.post("/api/v1/teams", json=team).status_code == 403  # no CSRF header
    made = client.post("/api/v1/teams", json=team, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201
    changed = client.patch(
        f"/api/v1/teams/{made.json()['id']}",
        json={"champion": "raj@example.com"},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.json()["champion"] == "raj@example.com"
    assert changed.json()["manager"] == "mo@example.com"
    listed = client.get("/api/v1/teams").json()
    assert [t["name"] for t in listed["items"]] == ["data", "growth", "platform"]


# --- metrics ------------------------------------------------------------------------------


def test_metrics_count_requests_the_queue_and_open_findings(
    client: TestClient, db: Database, settings: Settings
) -> None:
    imported(client, db, settings, "ledger")
    client.get("/healthz")
    text = client.get("/metrics").text
    assert 'shieldwall_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert (
        'shieldwall_http_requests_total{method="POST",route="/api/v1/imports",status="202"}' in text
    )
    assert "shieldwall_http_request_duration_seconds_bucket" in text
    assert 'shieldwall_jobs{state="queued"} 0.0' in text
    reader = bearer(db, "platform", TokenScope.READ, "m")
    high = client.get("/api/v1/findings", headers=reader, params={"severity": "high"}).json()[
        "total"
    ]
    assert f'shieldwall_open_findings{{severity="high"}} {float(high)}' in text
    # Raw paths never become series: ids would make one per finding.
    client.get("/api/v1/findings/0123456789abcdef", headers=reader)
    assert "0123456789abcdef" not in client.get("/metrics").text


def test_spellings_of_one_address_share_its_login_limit(client: TestClient, db: Database) -> None:
    user(db, "ana@example.com", Role.ENGINEER, ["platform"])
    spellings = ["ana@example.com", "ANA@Example.com", "ana@\uff45xample.com"]  # fullwidth e
    codes = []
    for email in [*spellings, "ana@example.com"]:
        codes.append(attempt_login(client, email, "not the password").status_code)
    assert codes == [401, 401, 401, 429]


def test_a_tool_of_another_team_is_unknown(
    client: TestClient, db: Database, settings: Settings
) -> None:
    imported(client, db, settings, "web")  # only growth has trivy reports
    platform = bearer(db, "platform", TokenScope.READ)
    answer = client.get("/api/v1/findings", headers=platform, params={"tool": "trivy"})
    assert answer.status_code == 404
    growth = bearer(db, "growth", TokenScope.READ)
    assert client.get("/api/v1/findings", headers=growth, params={"tool": "trivy"}).json()["total"]


def test_forged_form_tokens_of_any_text_are_refused_not_crashed(
    client: TestClient, db: Database
) -> None:
    user(db, "ana@example.com", Role.ENGINEER, ["platform"])
    client.get("/login")
    login = client.post(
        "/login", data={"email": "ana@example.com", "password": PASSWORD, "csrf": "é☃"}
    )
    assert login.status_code == 403
    log_in(client, "ana@example.com")
    assert client.post("/logout", data={"csrf": "é☃"}).status_code == 403
    api = client.post("/api/v1/teams", json={"name": "x"}, headers={"X-CSRF-Token": b"\xe9"})
    assert api.status_code == 403
