"""Large reports are parsed by a second process: the result must be exactly what parsing
in-process gives, and its failures must read like any other bad report."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli, fixture, unavailable

ORG = fixture("inventory", "org.yaml")
# What differs between two imports of one report into two services: when, and the risk
# (the services' tiers and exposure differ).
VOLATILE = {"id", "service", "first_seen", "last_seen", "fixed_at", "priority", "risk_score"}
VOLATILE |= {"sla_due", "sla_state", "days_overdue"}


@pytest.fixture
def org(sqlite_cli: Cli) -> Cli:
    sqlite_cli.ok("inventory", "import", ORG)
    return sqlite_cli


def imported(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, report: Path, service: str, *, child: bool
) -> dict[str, int]:
    # 0: every report goes to the child; the default keeps these small ones in-process.
    monkeypatch.setenv("SHIELDWALL_PARSE_PROCESS_MIN_SIZE", "0" if child else str(2**40))
    return json.loads(cli.ok("import", report, "--service", service, "--json").out)  # type: ignore[no-any-return]


def state(cli: Cli, service: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    rows = json.loads(
        cli.ok("findings", "list", "--service", service, "--status", "all", "--format", "json").out
    )
    findings = sorted(
        ({k: v for k, v in row.items() if k not in VOLATILE} for row in rows),
        key=lambda row: str(row["fingerprint"]),
    )
    components = json.loads(cli.ok("components", "--service", service, "--format", "json").out)
    packages = sorted(
        ({k: v for k, v in c.items() if k not in VOLATILE} for c in components), key=str
    )
    return findings, packages


@pytest.mark.parametrize(
    "report",
    [
        "sarif/codeql.sarif",
        "sarif/semgrep-logged-out.sarif",
        "cyclonedx/trivy-image-1.5.json",
        "cyclonedx/grype-1.5.xml",
        "cyclonedx/syft-sbom-1.5.json",
        "gitleaks/v8.json",
        "detect-secrets/baseline.json",
        "trivy/image.json",
        "semgrep/semgrep-code.json",
        "checkov/checkov-frameworks.json",
        "npm-audit/npm7.json",
    ],
)
def test_the_parser_process_gives_what_parsing_in_process_gives(
    org: Cli, monkeypatch: pytest.MonkeyPatch, report: str
) -> None:
    path = fixture("reports", report)
    here = imported(org, monkeypatch, path, "payments-api", child=False)
    there = imported(org, monkeypatch, path, "ledger", child=True)
    assert there == here
    assert state(org, "ledger") == state(org, "payments-api")
    findings, components = state(org, "ledger")
    assert findings or components  # the comparison compared something
    # And a repeat through the child recognises every finding.
    again = imported(org, monkeypatch, path, "ledger", child=True)
    assert again["created"] == 0
    assert again["unchanged"] == here["total"]


BOMB = b'{"version": "2.1.0", "runs": [{"results": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}]}"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            fixture("reports", "sarif", "codeql.sarif").read_bytes()[:3000],
            "truncated JSON (the file ends in the middle of the document)",
        ),
        (BOMB, "JSON nested deeper than 64 levels"),
    ],
    ids=["truncated", "deep-nesting"],
)
def test_a_bad_report_fails_in_the_child_as_one_line_and_stores_nothing(
    org: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: bytes, problem: str
) -> None:
    bad = tmp_path / "bad.sarif"
    bad.write_bytes(content)
    monkeypatch.setenv("SHIELDWALL_PARSE_PROCESS_MIN_SIZE", "0")
    result = org("import", bad, "--service", "payments-api", "--format", "sarif")
    assert result.code == 2
    assert result.err.strip() == f"error: {bad}: {problem}"
    assert state(org, "payments-api") == ([], [])


def test_without_an_interpreter_to_start_the_report_is_parsed_in_process(
    org: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    counts = imported(
        org, monkeypatch, fixture("reports", "sarif", "codeql.sarif"), "payments-api", child=True
    )
    assert counts["created"] == 3


def test_a_parser_process_that_dies_fails_the_import(
    org: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    false = shutil.which("false")  # an "interpreter" that exits at once
    if false is None:
        unavailable("no `false` program to stand in for a dying interpreter")
    monkeypatch.setattr(sys, "executable", false)
    monkeypatch.setenv("SHIELDWALL_PARSE_PROCESS_MIN_SIZE", "0")
    report = fixture("reports", "sarif", "codeql.sarif")
    result = org("import", report, "--service", "payments-api")
    assert result.code == 2
    assert "the parser process ended unexpectedly" in result.err
    assert state(org, "payments-api") == ([], [])
