"""A raw secret is never stored, logged or shown: only a hash and a redacted preview."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from shieldwall.db.engine import Database
from shieldwall.db.schema import metadata
from tests.conftest import Cli, fixture

SECRETS = ("AKIAZ7VRSQ5TEXAMPLE1", "9f8e7d6c5b4a39281706f5e4d3c2b1a0")


def test_secret_values_appear_nowhere(cli: Cli, db: Database, tmp_path: Path) -> None:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    outputs = [
        cli.ok("import", fixture("reports", "sarif", "gitleaks.sarif"), "--service", "ledger")
    ]
    rows = json.loads(cli.ok("findings", "list", "--format", "json").out)
    assert {r["secret_preview"] for r in rows} == {"AKIA****", "9f8e****"}
    assert {r["kind"] for r in rows} == {"secret"}
    outputs += [cli.ok("findings", "list"), cli.ok("findings", "list", "--format", "csv")]
    outputs += [cli.ok("findings", "show", r["id"], "--format", "json") for r in rows]
    outputs.append(cli.ok("audit", "list", "--format", "json"))
    dump = tmp_path / "backup.jsonl"
    cli.ok("db", "backup", dump)

    stored: list[str] = []
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            stored.extend(repr(tuple(row)) for row in conn.execute(select(table)))
    haystacks = ["\n".join(stored), dump.read_text(), *(o.out + o.err for o in outputs)]
    for secret in SECRETS:
        for haystack in haystacks:
            assert secret not in haystack


def test_the_same_secret_found_again_is_the_same_finding(cli: Cli) -> None:
    cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    report = fixture("reports", "sarif", "gitleaks.sarif")
    cli.ok("import", report, "--service", "ledger")
    again = json.loads(cli.ok("import", report, "--service", "ledger", "--json").out)
    assert (again["created"], again["unchanged"]) == (0, 2)
