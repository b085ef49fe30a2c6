"""Import and re-import issue a number of SQL statements that does not grow per finding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.ingest.service import ImportRequest, import_report
from shieldwall.inventory.loader import load_inventory
from shieldwall.inventory.service import apply_inventory
from tests.builders import code_result, sarif
from tests.conftest import fixture


def _statements(db: Database, report: Path, settings: Settings, service: str) -> int:
    count = 0

    def on_execute(*_: Any) -> None:
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        import_report(db, ImportRequest(path=report, service=service), settings)
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    return count


def _report(tmp_path: Path, name: str, size: int, start: int = 0) -> Path:
    results = [
        code_result("r", f"src/f{i}.py", i + 1, f"call_{i}()") for i in range(start, start + size)
    ]
    return sarif(tmp_path / name, "semgrep", results)


def test_statement_count_is_per_batch_not_per_finding(db: Database, tmp_path: Path) -> None:
    spec, document = load_inventory(fixture("inventory", "org.yaml"), 10**6)
    with db.write() as session:
        apply_inventory(session, spec, document, "test")
    settings = Settings(import_batch_size=500)

    # First imports into new streams: 10 findings and 400 findings (one batch each).
    small = _statements(db, _report(tmp_path, "small.sarif", 10), settings, "ledger")
    big_report = _report(tmp_path, "big.sarif", 400)
    big = _statements(db, big_report, settings, "payments-api")
    assert big == small

    # Identical re-import, and a re-import with 10% fixed and 10% new.
    assert _statements(db, big_report, settings, "payments-api") <= big
    changed = _report(tmp_path, "changed.sarif", 400, start=40)
    assert _statements(db, changed, settings, "payments-api") <= big

    # Three batches cost two more batches' statements (6 each at most), not 1,100 more.
    three = _statements(db, _report(tmp_path, "three.sarif", 1500), settings, "web")
    assert three <= small + 2 * 6
