"""gitleaks JSON (v8 and v7): what a user sees after importing a gitleaks report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shieldwall.errors import InputError
from shieldwall.findings.vocabulary import Kind, Severity
from shieldwall.ingest.identity import IdentityAssigner
from shieldwall.ingest.records import RawFinding, ToolRun
from tests.conftest import fixture, parse_file, shared_data

API_KEY = "sw_live_7Qm2Xk9Rt4Vb8Np3Ls6Hd1Fg"


def findings(path: Path, fmt: str = "auto") -> list[RawFinding]:
    return [r for r in parse_file(path, fmt) if isinstance(r, RawFinding)]


def test_v8_findings_carry_rule_location_and_commit_with_the_secret_only_in_memory() -> None:
    records = parse_file(fixture("reports", "gitleaks", "v8.json"))
    assert records[0] == ToolRun("gitleaks", None)
    api, aws, key = findings(fixture("reports", "gitleaks", "v8.json"))

    assert api.kind is Kind.SECRET
    assert api.tool == "gitleaks"
    assert api.rule_id == "generic-api-key"
    assert api.title.startswith("Detected a Generic API Key")
    assert api.severity is Severity.HIGH
    assert api.tool_severity is None
    assert api.cwe_ids == ["CWE-798"]
    assert (api.path, api.line, api.end_line) == ("app/settings.py", 12, 12)
    assert api.secret == API_KEY
    assert api.snippet is None  # Match holds the secret: it is never used
    assert api.references == [
        "https://github.com/acme/payments-api/blob/5f1c9e2a7b3d4c6e8f0a1b2c3d4e5f6a7b8c9d0e/app/settings.py#L12"
    ]
    assert api.description is not None
    assert "Author: Jane Doe <jane.doe@example.com>" in api.description
    assert "Commit: 5f1c9e2a7b3d4c6e8f0a1b2c3d4e5f6a7b8c9d0e" in api.description
    assert "Rule: generic-api-key" in api.description
    # The commit message quotes the secret: it is left out rather than stored.
    assert "Commit message" not in api.description

    assert (aws.rule_id, aws.secret, aws.path, aws.line) == (
        "aws-access-token",
        "AKIAIOSFODNN7EXAMPLE",
        "deploy/env.sh",
        3,
    )
    assert aws.description is not None
    assert "Tags: aws, key" in aws.description
    assert "Commit:" not in aws.description  # a directory scan has no commit

    # A multi-line secret is hashed exactly as the tool wrote it.
    assert key.secret is not None
    assert key.secret.startswith("-----BEGIN PRIVATE KEY-----\nMIIB")
    assert (key.line, key.end_line) == (1, 5)


def test_redacted_v8_findings_have_no_secret_and_are_told_apart_by_rule_path_and_line() -> None:
    first, second = findings(fixture("reports", "gitleaks", "v8-redacted.json"))
    assert (first.secret, second.secret) == (None, None)
    assert (first.line, second.line) == (12, 40)
    identity = IdentityAssigner()
    assert identity.fingerprint(first) != identity.fingerprint(second)


def test_a_partly_redacted_secret_is_not_taken_for_the_secret(tmp_path: Path) -> None:
    # gitleaks --redact=50 keeps the first half of the secret followed by "...".
    (found,) = findings(
        _report(
            tmp_path, [{"RuleID": "generic-api-key", "Secret": "sw_live_7Qm2...", "File": "a.py"}]
        )
    )
    assert found.secret is None


def test_v7_findings_read_offender_line_number_and_leak_url() -> None:
    token, redacted = findings(fixture("reports", "gitleaks", "v7.json"))
    assert token.rule_id == "Generic Credential"
    assert token.title == "Generic Credential"
    assert token.secret == "sw_tok_Z8y7X6w5V4u3T2s1R0q9"
    assert (token.path, token.line) == ("scripts/deploy.sh", 7)
    assert token.references == [
        "https://github.com/acme/payments-api/blob/0c6d1f7a9e2b4c8d3e5f7a9b1c3d5e7f9a1b3c5d/scripts/deploy.sh#L7"
    ]
    assert token.description is not None
    assert "Repository: https://github.com/acme/payments-api" in token.description
    assert "Commit message: deploy script" in token.description

    assert redacted.secret is None  # offender "REDACTED"
    assert (redacted.path, redacted.line) == ("config/aws.ini", 2)
    assert redacted.description is not None
    assert "Date:" not in redacted.description  # Go's zero time is no date


def test_an_empty_array_is_a_clean_scan_but_needs_the_format_named(tmp_path: Path) -> None:
    path = tmp_path / "gitleaks.json"
    path.write_text("[]\n")
    assert parse_file(path, "gitleaks") == [ToolRun("gitleaks", None)]
    # trufflehog3 (and others) also write [] when they find nothing: no guess.
    with pytest.raises(InputError, match=r"could be any of .*gitleaks.*trufflehog3"):
        parse_file(path)


def test_gitleaks_v7_null_is_a_clean_scan_only_when_named(tmp_path: Path) -> None:
    path = tmp_path / "gitleaks.json"
    path.write_text("null\n")
    with pytest.raises(InputError, match="empty report"):
        parse_file(path)
    assert parse_file(path, "gitleaks") == [ToolRun("gitleaks")]


def test_hostile_items_degrade_to_missing_values(tmp_path: Path) -> None:
    items = [
        1,
        "text",
        None,
        {"RuleID": 5, "Secret": ["x"], "File": {"a": 1}, "StartLine": "twelve", "Tags": "x"},
        {"unrelated": True},
        {"RuleID": "r", "Secret": "sw_x_0123456789", "File": "../../etc/app.env", "EndLine": -3},
    ]
    numbered, climbing = findings(_report(tmp_path, items), "gitleaks")
    assert (numbered.rule_id, numbered.secret, numbered.path, numbered.line) == (
        "5",
        None,
        None,
        None,
    )
    assert climbing.path == "etc/app.env"
    assert climbing.end_line is None


def test_a_report_that_is_not_an_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gitleaks.json"
    path.write_text(json.dumps({"RuleID": "r", "Secret": "s", "File": "f"}))
    with pytest.raises(InputError, match="does not look like gitleaks"):
        parse_file(path, "gitleaks")


def test_real_gitleaks_reports() -> None:
    folder = shared_data("scans", "gitleaks")
    for path in sorted(folder.iterdir()):
        if path.name == "no_findings.json":
            continue  # gitleaks v7's "null", checked below
        records = parse_file(path)
        assert records[0] == ToolRun("gitleaks", None)
        assert all(f.kind is Kind.SECRET for f in records[1:] if isinstance(f, RawFinding))

    v8 = findings(folder / "gitleaks8_many.json")
    assert [(f.rule_id, f.path, f.line) for f in v8] == [
        ("aws-access-token", "/conf/aws.tf", 2),
        ("aws-access-token", "/conf/aws.tf", 2),
        ("RSA-PK", "conf/rsa.pk", 57),
        ("generic-api-key", "tests/api.py", 21),
    ]
    assert v8[3].secret == "dfjksdjfs3294dfjlsdaf213"  # Secret, not the whole Match
    # One secret in two commits of one file is one finding.
    identity = IdentityAssigner()
    assert identity.fingerprint(v8[0]) == identity.fingerprint(v8[1])

    redacted = findings(folder / "redacted_data_many.json")
    assert len(redacted) == 6
    assert all(f.secret is None and f.title == "AWS Access Key" for f in redacted)

    v7 = findings(folder / "version_7.5.0.json")
    assert len(v7) == 8
    assert sum(f.secret == "AKIAIOSFODNN7EXAMPLE" for f in v7) == 6
    (twitter,) = findings(folder / "issue4336.json")
    assert (twitter.title, twitter.path, twitter.line) == ("Twitter Client ID", "README.md", 23)

    with pytest.raises(InputError, match=r"no_findings\.json: empty report"):
        parse_file(folder / "no_findings.json")
    assert parse_file(folder / "no_findings.json", "gitleaks") == [ToolRun("gitleaks")]


def _report(tmp_path: Path, items: list[object]) -> Path:
    path = tmp_path / "gitleaks.json"
    path.write_text(json.dumps(items))
    return path
