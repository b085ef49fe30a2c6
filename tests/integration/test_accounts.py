"""Users and API tokens, from the command line, on both engines."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from shieldwall.auth import service
from shieldwall.auth.policy import Action
from shieldwall.clock import utcnow
from shieldwall.db.engine import Database
from tests.conftest import Cli, fixture

PASSWORD = "correct horse battery staple"


@pytest.fixture
def org(cli: Cli) -> Cli:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    return cli


def create_user(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, *args: str, password: str = PASSWORD
) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return cli("user", "create", *args, "--password-stdin").code


def test_users_are_created_with_roles_and_teams_and_sign_in(
    org: Cli, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (
        create_user(
            org,
            monkeypatch,
            "--email",
            "Ana@Example.com",
            "--role",
            "engineer",
            "--team",
            "platform",
        )
        == 0
    )
    users = json.loads(org.ok("user", "list", "--format", "json").out)
    assert [(u["email"], u["role"], u["teams"], u["active"]) for u in users] == [
        ("ana@example.com", "engineer", ["platform"], True)
    ]
    with db.write() as session:
        user = service.authenticate(session, "ANA@example.com", PASSWORD)
        assert user is not None
        principal = service.principal_for_user(user)
        assert principal.allowed(Action.TRIAGE)
        assert not principal.allowed(Action.ADMINISTER)
        assert not principal.all_teams
        assert service.authenticate(session, "ana@example.com", PASSWORD + "x") is None
        assert service.authenticate(session, "nobody@example.com", PASSWORD) is None
    # The password is stored as an argon2id hash, nowhere in clear.
    with db.read() as session:
        stored = session.execute(text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in org.ok("audit", "list", "--format", "json").out


@pytest.mark.parametrize(
    ("args", "password", "problem"),
    [
        (("--email", "b@example.com", "--role", "admin"), "short", "at least 12 characters"),
        (("--email", "not-an-address", "--role", "admin"), PASSWORD, "is not an e-mail address"),
        (("--email", "c@example.com", "--role", "engineer"), PASSWORD, "give at least one --team"),
        (
            ("--email", "d@example.com", "--role", "manager", "--team", "nope"),
            PASSWORD,
            "team 'nope'",
        ),
        (("--email", "e@example.com", "--role", "overlord"), PASSWORD, "overlord"),
    ],
)
def test_bad_users_are_refused_with_one_line(
    org: Cli, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], password: str, problem: str
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    result = org("user", "create", *args, "--password-stdin")
    assert result.code == 2
    assert problem in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert json.loads(org.ok("user", "list", "--format", "json").out) == []


def test_a_second_user_with_the_same_address_is_refused(
    org: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert create_user(org, monkeypatch, "--email", "a@example.com", "--role", "auditor") == 0
    assert create_user(org, monkeypatch, "--email", "A@example.com", "--role", "admin") == 2


def test_a_disabled_user_cannot_sign_in(
    org: Cli, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_user(org, monkeypatch, "--email", "a@example.com", "--role", "security")
    org.ok("user", "disable", "a@example.com")
    with db.write() as session:
        assert service.authenticate(session, "a@example.com", PASSWORD) is None
    org.ok("user", "enable", "a@example.com")
    with db.write() as session:
        assert service.authenticate(session, "a@example.com", PASSWORD) is not None


def test_a_token_is_shown_once_stored_hashed_and_stops_when_revoked(org: Cli, db: Database) -> None:
    created = json.loads(
        org.ok(
            "token", "create", "--name", "ci", "--team", "platform", "--scope", "ingest", "--json"
        ).out
    )
    secret = created["token"]
    assert secret.startswith("swt_")
    assert len(secret) > 40
    listed = org.ok("token", "list", "--format", "json").out
    assert secret not in listed
    assert json.loads(listed)[0]["state"] == "active"
    with db.read() as session:
        stored = [row[0] for row in session.execute(text("SELECT token_hash FROM api_tokens"))]
    assert stored == [service.secret_hash(secret)]
    assert secret not in org.ok("audit", "list", "--format", "json").out

    with db.write() as session:
        principal = service.principal_for_token(session, secret)
        assert principal is not None
        assert principal.allowed(Action.IMPORT)
        assert not principal.allowed(Action.READ)  # an ingest token reads nothing
    assert json.loads(org.ok("token", "list", "--format", "json").out)[0]["last_used_at"]

    org.ok("token", "revoke", created["id"])
    assert json.loads(org.ok("token", "list", "--format", "json").out)[0]["state"] == "revoked"
    with db.write() as session:
        assert service.principal_for_token(session, secret) is None
        assert service.principal_for_token(session, secret[:-1] + "x") is None
    # Its name stays its own: the audit log and the imports it made name it.
    again = org("token", "create", "--name", "ci", "--team", "platform", "--scope", "ingest")
    assert again.code == 2
    assert "already has a token named 'ci'" in again.err
    org.ok("token", "create", "--name", "ci", "--team", "growth", "--scope", "ingest")


def test_an_expired_token_stops_working(org: Cli, db: Database) -> None:
    created = json.loads(
        org.ok(
            "token",
            "create",
            "--name",
            "ci",
            "--team",
            "growth",
            "--scope",
            "read",
            "--expires",
            "1",
            "--json",
        ).out
    )
    with db.write() as session:
        assert service.principal_for_token(session, created["token"]) is not None
        later = utcnow() + timedelta(days=1, seconds=1)
        assert service.principal_for_token(session, created["token"], later) is None


@pytest.mark.parametrize(
    "args",
    [
        ("--name", "ci", "--team", "nope", "--scope", "ingest"),
        ("--name", "ci", "--team", "platform", "--scope", "everything"),
        ("--name", "ci", "--team", "platform", "--scope", "read", "--expires", "0"),
        ("--name", "", "--team", "platform", "--scope", "read"),
    ],
)
def test_bad_tokens_are_refused(org: Cli, args: tuple[str, ...]) -> None:
    result = org("token", "create", *args)
    assert result.code == 2
    assert json.loads(org.ok("token", "list", "--format", "json").out) == []
