"""Portable backups: a dump from either engine restores into either engine, whole or not at all."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.conftest import POSTGRES_URL, Cli, fixture, unavailable


@pytest.fixture
def other_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on the other engine than ``database_url``."""
    if database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    schema = f"r_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except OperationalError as exc:
        unavailable(f"PostgreSQL is not reachable at {POSTGRES_URL}: {str(exc).splitlines()[0]}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def state(cli: Cli) -> tuple[object, ...]:
    return (
        json.loads(cli.ok("inventory", "list", "teams", "--format", "json").out),
        json.loads(cli.ok("inventory", "list", "--format", "json").out),
        json.loads(
            cli.ok(
                "findings", "list", "--status", "all", "--sort", "first_seen", "--format", "json"
            ).out
        ),
        json.loads(cli.ok("audit", "list", "--limit", "10000", "--format", "json").out),
    )


def test_backup_restores_into_the_other_engine(
    cli: Cli, other_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    cli.ok("import", fixture("reports", "sarif", "codeql.sarif"), "--service", "payments-api")
    cli.ok("import", fixture("reports", "sarif", "gitleaks.sarif"), "--service", "ledger")
    original = state(cli)
    dump = tmp_path / "backup.jsonl"
    result = cli.ok("db", "backup", dump)
    assert "wrote" in result.err
    assert dump.stat().st_mode & 0o777 == 0o600

    monkeypatch.setenv("SHIELDWALL_DATABASE_URL", other_url)
    restored = cli.ok("db", "restore", dump)
    assert "audit chain intact" in restored.err
    assert state(cli) == original
    # The restored store keeps working: new rows get new ids, re-imports stay unchanged.
    again = json.loads(
        cli.ok(
            "import",
            fixture("reports", "sarif", "codeql.sarif"),
            "--service",
            "payments-api",
            "--json",
        ).out
    )
    assert again["unchanged"] == 3
    cli.ok("audit", "verify")


def test_restore_refuses_a_database_that_has_data(cli: Cli, tmp_path: Path) -> None:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    dump = tmp_path / "backup.jsonl"
    cli.ok("db", "backup", dump)
    result = cli("db", "restore", dump)
    assert result.code == 2
    assert "is not empty" in result.err


def test_a_damaged_backup_restores_nothing(
    cli: Cli, other_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    dump = tmp_path / "backup.jsonl"
    cli.ok("db", "backup", dump)
    lines = dump.read_text().splitlines()
    truncated = tmp_path / "truncated.jsonl"
    truncated.write_text("\n".join(lines[:-3]) + "\n")
    monkeypatch.setenv("SHIELDWALL_DATABASE_URL", other_url)
    result = cli("db", "restore", truncated)
    assert result.code == 2
    assert f"{truncated}" in result.err
    assert "truncated" in result.err
    assert json.loads(cli.ok("inventory", "list", "--format", "json").out) == []

    forged = tmp_path / "forged.jsonl"
    forged.write_text(lines[0] + '\n{"t": "intruders", "r": {"name": "x"}}\n')
    result = cli("db", "restore", forged)
    assert result.code == 2
    assert f"{forged}:2: unknown table 'intruders'" in result.err


def test_not_a_backup(cli: Cli, tmp_path: Path) -> None:
    junk = tmp_path / "junk.jsonl"
    junk.write_text("hello\n")
    result = cli("db", "restore", junk)
    assert result.code == 2
    assert result.err.strip() == f"error: {junk}:1: not a Shieldwall backup (bad header)"
