"""The audit log is append-only and tampering is detected."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shieldwall.db.engine import Database
from tests.conftest import Cli, fixture


def test_every_inventory_change_is_chained_and_verifies(cli: Cli) -> None:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    result = cli.ok("audit", "verify")
    assert "audit chain intact:" in result.out
    entries = json.loads(cli.ok("audit", "list", "--format", "json").out)
    assert entries[0]["actor"].startswith("cli")
    assert [e["seq"] for e in entries] == list(range(len(entries), 0, -1))


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"])
def test_the_database_refuses_edits_and_deletions(cli: Cli, db: Database, statement: str) -> None:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    with db.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text(statement))


def _drop_guards(db: Database) -> None:
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))


def test_an_edit_made_around_the_guards_is_detected(cli: Cli, db: Database) -> None:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    _drop_guards(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"))
    result = cli("audit", "verify")
    assert result.code == 1
    assert "entry 2 was modified" in result.err


def test_a_deleted_entry_is_detected(cli: Cli, db: Database) -> None:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    _drop_guards(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    result = cli("audit", "verify")
    assert result.code == 1
    assert "entries 3..3 are missing" in result.err
    assert "entry 4 does not link to the entry before it" in result.err


def test_entries_removed_from_the_end_are_caught_with_a_recorded_head(
    cli: Cli, db: Database
) -> None:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    head = cli.ok("audit", "verify").out.split("head ")[1].strip()
    cli.ok("audit", "verify", "--expect-head", head)
    _drop_guards(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)"))
    assert cli("audit", "verify").code == 0  # the chain itself is still consistent...
    result = cli("audit", "verify", "--expect-head", head)
    assert result.code == 1  # ...but not the head recorded elsewhere
    assert "entries removed from the end" in result.err
