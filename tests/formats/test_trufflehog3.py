"""trufflehog3 JSON (current and legacy): what a user sees after importing a trufflehog3 run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shieldwall.errors import InputError
from shieldwall.findings.vocabulary import Kind, Severity
from shieldwall.ingest.identity import IdentityAssigner
from shieldwall.ingest.records import RawFinding, ToolRun
from tests.conftest import fixture, parse_file, shared_data


def findings(path: Path, fmt: str = "auto") -> list[RawFinding]:
    return [r for r in parse_file(path, fmt) if isinstance(r, RawFinding)]


def test_current_issues_keep_trufflehog3_severity_and_never_read_the_context() -> None:
    records = parse_file(fixture("reports", "trufflehog3", "current.json"))
    assert records[0] == ToolRun("trufflehog3", None)
    webhook, entropy = (r for r in records if isinstance(r, RawFinding))

    assert webhook.kind is Kind.SECRET
    assert (webhook.rule_id, webhook.title) == ("slack-webhook", "Slack Webhook")
    assert (webhook.severity, webhook.tool_severity) == (Severity.HIGH, "HIGH")
    assert webhook.cwe_ids == ["CWE-798"]
    assert (webhook.path, webhook.line) == ("ops/alerts.yml", 14)
    assert webhook.secret == (
        "https://hooks.slack.example/services/T0FIXTURE0/B0FIXTURE0/sw0fixture0webhook0token0"
    )
    assert (webhook.snippet, webhook.context) == (None, None)
    assert webhook.description is not None
    assert "Author: Jane Doe <jane.doe@example.com>" in webhook.description
    assert "Branch: main" in webhook.description
    assert "#payments" not in webhook.description  # context lines are not copied

    # trufflehog3 rates a high-entropy string LOW: its own rating stands.
    assert (entropy.severity, entropy.tool_severity) == (Severity.LOW, "LOW")
    assert (entropy.path, entropy.line) == ("env-file.txt", 10)
    assert entropy.description is not None
    assert "Commit:" not in entropy.description  # null git fields


def test_legacy_diff_lines_added_then_removed_are_one_secret() -> None:
    removed, added, url = findings(fixture("reports", "trufflehog3", "legacy.json"))
    expected = '"password": "md5$c77N8n6nJPb1$3b35343aac5e46740f6e673521aa53dc",'
    assert removed.secret == added.secret == expected
    identity = IdentityAssigner()
    assert identity.fingerprint(removed) == identity.fingerprint(added)
    assert (removed.title, removed.severity, removed.path) == (
        "High entropy",
        Severity.HIGH,
        "app/users.json",
    )
    assert (url.title, url.path) == ("Password in URL", "/password_in_url.go")
    assert url.secret == "server_url = 'https://username:fixture-pass@localhost:1234'"


def test_an_empty_array_is_a_clean_scan_when_the_format_is_named(tmp_path: Path) -> None:
    path = tmp_path / "trufflehog3.json"
    path.write_text("[]")
    assert parse_file(path, "trufflehog3") == [ToolRun("trufflehog3", None)]


def test_hostile_issues_degrade_to_missing_values(tmp_path: Path) -> None:
    items = [
        {"rule": {"id": None, "severity": 3}, "path": None, "line": "x", "secret": 5},
        {"rule": "gitleaks-style rule", "offender": "o", "path": "p"},
        {"rule": {"id": "r", "severity": "CATASTROPHIC"}, "secret": "sw_s_0123456789", "path": "a"},
    ]
    path = tmp_path / "trufflehog3.json"
    path.write_text(json.dumps(items))
    odd, unknown_word = findings(path, "trufflehog3")
    assert (odd.rule_id, odd.secret, odd.path, odd.line) == ("unknown", None, None, None)
    assert odd.severity is Severity.LOW  # severity 3 read as a score
    assert unknown_word.severity is Severity.HIGH


def test_a_report_that_is_not_an_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "trufflehog3.json"
    path.write_text(json.dumps({"rule": {"id": "r"}, "secret": "s", "path": "p"}))
    with pytest.raises(InputError, match="does not look like trufflehog3"):
        parse_file(path, "trufflehog3")


def test_real_trufflehog3_reports() -> None:
    folder = shared_data("scans", "trufflehog3")
    for path in sorted(folder.iterdir()):
        if path.name != "zero_vulns.json":
            assert parse_file(path)[0] == ToolRun("trufflehog3", None)
    # zero_vulns.json is [], which gitleaks also writes: it needs --format.
    with pytest.raises(InputError, match="could be any of"):
        parse_file(folder / "zero_vulns.json")
    assert parse_file(folder / "zero_vulns.json", "trufflehog3") == [ToolRun("trufflehog3", None)]

    current = findings(folder / "many_vulns_current.json")
    assert [(f.severity, f.path, f.line) for f in current] == [
        (Severity.HIGH, "docker/Dockerfile", 3),
        (Severity.MEDIUM, "docker/Dockerfile", 2),
        (Severity.LOW, "env-file.txt", 10),
        (Severity.MEDIUM, "docker/Dockerfile", 2),
    ]
    assert current[2].secret == "44c45225cf94e58d0c86f0a31051eb7c52c8f78f"
    assert len(findings(folder / "many_vulns_legacy.json")) == 74
    legacy2 = findings(folder / "many_vulns2_legacy.json")
    assert len(legacy2) == 145
    assert {f.title for f in legacy2} >= {"High entropy", "SSH (EC) private key"}
    (serialized,) = findings(folder / "issue_6999.json")
    assert (serialized.rule_id, serialized.severity) == (
        "high-entropy-based-rules2",
        Severity.MEDIUM,
    )
