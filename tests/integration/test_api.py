"""The REST API's shell: health, the error envelope, token authentication, team scoping and
paging, on both engines."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from shieldwall.auth import service as auth
from shieldwall.auth.policy import TokenScope
from shieldwall.db.engine import Database
from shieldwall.inventory.loader import load_inventory
from shieldwall.inventory.service import apply_inventory
from shieldwall.web.app import create_app
from shieldwall.web.pagination import encode_cursor
from tests.conftest import fixture


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    spec, document = load_inventory(fixture("inventory", "org.yaml"), 10**6)
    with db.write() as session:
        apply_inventory(session, spec, document, "test")
    with TestClient(create_app(db), raise_server_exceptions=False) as test_client:
        yield test_client


def token(db: Database, team: str, scope: TokenScope) -> dict[str, str]:
    with db.write() as session:
        new = auth.create_token(
            session, name=f"{team}-{scope}", team=team, scope=scope, expires_days=None, actor="test"
        )
    return {"Authorization": f"Bearer {new.token}"}


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "Shieldwall"


def test_without_a_valid_token_the_api_answers_401_in_the_envelope(
    client: TestClient, db: Database
) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer swt_not-a-token"},
        {"Authorization": "Basic eDp5"},
    ):
        response = client.get("/api/v1/services", headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "error": {"code": "unauthorized", "message": "a valid API token is required"}
        }
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_read_token_sees_only_its_teams_services(client: TestClient, db: Database) -> None:
    headers = token(db, "platform", TokenScope.READ)
    listed = client.get("/api/v1/services", headers=headers).json()
    assert [s["name"] for s in listed["items"]] == ["ledger", "payments-api"]
    assert {s["team"] for s in listed["items"]} == {"platform"}
    assert listed["total"] == 2
    assert listed["next"] is None
    teams = client.get("/api/v1/teams", headers=headers).json()
    assert [t["name"] for t in teams["items"]] == ["platform"]
    # Another team's service by id is as absent as a missing one.
    other = token(db, "growth", TokenScope.READ)
    web = client.get("/api/v1/services", headers=other).json()["items"][0]
    assert web["name"] == "web"
    assert client.get(f"/api/v1/services/{web['id']}", headers=other).status_code == 200
    hidden = client.get(f"/api/v1/services/{web['id']}", headers=headers)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/services/0000000000000000", headers=headers).json() == hidden.json()


def test_an_ingest_token_reads_nothing(client: TestClient, db: Database) -> None:
    headers = token(db, "platform", TokenScope.INGEST)
    for path in ("/api/v1/services", "/api/v1/teams"):
        response = client.get(path, headers=headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"


def test_pages_walk_every_row_once(client: TestClient, db: Database) -> None:
    headers = token(db, "platform", TokenScope.READ)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/services", headers=headers, params=params).json()
        assert page["total"] == 2
        seen.extend(s["name"] for s in page["items"])
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == ["ledger", "payments-api"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"limit": "501"}, 422, "invalid_request"),
        ({"limit": "0"}, 422, "invalid_request"),
        ({"cursor": "not-a-cursor"}, 400, "bad_request"),
        ({"cursor": encode_cursor(["x"] * 2)}, 400, "bad_request"),  # wrong width
        ({"cursor": encode_cursor([10**30])}, 400, "bad_request"),  # beyond 64 bits
        ({"cursor": "W" * 2000}, 400, "bad_request"),  # longer than any cursor given
        (  # nested deeper than the JSON parser recurses
            {"cursor": base64.urlsafe_b64encode(b"[" * 5000).decode().rstrip("=")},
            400,
            "bad_request",
        ),
        ({"cursor": "WyJ4Il0"}, 200, None),  # a well-formed cursor past the end: an empty page
    ],
)
def test_bad_paging_gets_the_error_envelope(
    client: TestClient, db: Database, params: dict[str, str], status: int, code: str | None
) -> None:
    response = client.get(
        "/api/v1/services", headers=token(db, "platform", TokenScope.READ), params=params
    )
    assert response.status_code == status
    if code is not None:
        assert response.json()["error"]["code"] == code
        assert set(response.json()) == {"error"}


def test_unknown_routes_and_methods_use_the_envelope(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong = client.delete("/healthz")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"
