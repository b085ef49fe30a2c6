"""TruffleHog JSON lines (v3 and v2): what a user sees after importing a TruffleHog run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shieldwall.errors import InputError
from shieldwall.findings.vocabulary import Kind, Severity
from shieldwall.ingest.identity import IdentityAssigner
from shieldwall.ingest.records import RawFinding, ToolRun
from tests.conftest import fixture, parse_file, shared_data

AWS_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PG_PASSWORD = "Tr0ub4dor-fixture"


def findings(path: Path, fmt: str = "auto") -> list[RawFinding]:
    return [r for r in parse_file(path, fmt) if isinstance(r, RawFinding)]


def test_v3_verified_secret_is_critical_and_its_other_parts_never_leave_the_report() -> None:
    records = parse_file(fixture("reports", "trufflehog", "v3.jsonl"))
    assert records[0] == ToolRun("trufflehog", None)
    aws, postgres = (r for r in records if isinstance(r, RawFinding))  # log lines are skipped

    assert aws.kind is Kind.SECRET
    assert (aws.rule_id, aws.title) == ("AWS", "AWS secret")
    assert aws.severity is Severity.CRITICAL
    assert aws.tool_severity == "verified"
    assert aws.cwe_ids == ["CWE-798"]
    assert aws.secret == "AKIAIOSFODNN7EXAMPLE"  # Raw (the key id other tools report too)
    assert (aws.path, aws.line) == ("deploy/env.sh", 3)
    assert aws.references == ["https://howtorotate.com/docs/tutorials/aws/"]
    assert aws.description is not None
    assert aws.description.startswith("AWS (Amazon Web Services)")
    assert "verified that this credential is live" in aws.description
    assert "Account: 123456789012" in aws.description
    assert "Commit: 5f1c9e2a7b3d4c6e8f0a1b2c3d4e5f6a7b8c9d0e" in aws.description
    # RawV2 and SecretParts hold the secret key; ExtraData's session_token is a credential.
    assert AWS_SECRET_KEY not in aws.description
    assert "Session token" not in aws.description

    assert (postgres.rule_id, postgres.severity, postgres.tool_severity) == (
        "Postgres",
        Severity.HIGH,
        "unverified",
    )
    assert (postgres.path, postgres.line) == ("config/database.yml", 9)
    assert postgres.description is not None
    assert "Decoded from: BASE64" in postgres.description
    assert "Verification: failed with an error" in postgres.description
    assert "Username: app" in postgres.description
    # The password (ExtraData, SecretParts, the verification error) is nowhere.
    assert PG_PASSWORD not in postgres.description
    assert "Note:" not in postgres.description


def test_a_single_finding_is_one_json_document_and_is_read_the_same() -> None:
    (github,) = findings(fixture("reports", "trufflehog", "v3-single.json"))
    assert (github.rule_id, github.severity) == ("Github", Severity.HIGH)
    assert (github.path, github.line) == ("app/settings.py", 12)
    assert github.references == [
        "https://github.com/acme/payments-api/blob/0c6d1f7a9e2b4c8d3e5f7a9b1c3d5e7f9a1b3c5d/app/settings.py#L12",
        "https://howtorotate.com/docs/tutorials/github/",
    ]


def test_early_v3_base64_raw_is_decoded_so_the_secret_meets_other_tools() -> None:
    (aws,) = findings(fixture("reports", "trufflehog", "v3-early.jsonl"))
    assert aws.secret == "AKIAIOSFODNN7EXAMPLE"
    assert aws.severity is Severity.HIGH


def test_early_v3_raw_that_is_not_base64_text_is_kept_as_written(tmp_path: Path) -> None:
    line = {
        "SourceMetadata": {"Data": {"Filesystem": {"file": "a.env"}}},
        "DetectorName": "X",
        "Raw": "not base64!",
    }
    path = tmp_path / "th.json"
    path.write_text(json.dumps(line))
    (found,) = findings(path)
    assert found.secret == "not base64!"


def test_trufflehog_and_gitleaks_finding_one_secret_in_one_file_are_one_finding() -> None:
    (gitleaks_aws,) = [
        f
        for f in findings(fixture("reports", "gitleaks", "v8.json"))
        if f.rule_id == "aws-access-token"
    ]
    trufflehog_aws = findings(fixture("reports", "trufflehog", "v3.jsonl"))[0]
    assert IdentityAssigner().fingerprint(trufflehog_aws) == IdentityAssigner().fingerprint(
        gitleaks_aws
    )


def test_v2_each_string_found_is_a_secret_and_one_secret_across_commits_is_one_finding() -> None:
    found = findings(fixture("reports", "trufflehog", "v2.jsonl"))
    assert [(f.rule_id, f.path, f.secret) for f in found] == [
        ("Generic Secret", "app/keys.py", "API_KEY = 'sw_old_Q1w2E3r4T5y6U7i8O9p0'"),
        ("Generic Secret", "app/keys.py", "API_KEY = 'sw_new_A1s2D3f4G5h6J7k8L9z0'"),
        ("Generic Secret", "app/keys.py", "API_KEY = 'sw_old_Q1w2E3r4T5y6U7i8O9p0'"),
        ("High Entropy", "ci/token.txt", "c3a5f6e9b1d2047f8e6a5b4c3d2e1f0a9b8c7d6e"),
    ]
    assert all(f.severity is Severity.HIGH and f.line is None for f in found)
    identity = IdentityAssigner()
    assert len({identity.fingerprint(f) for f in found}) == 3
    assert found[0].description is not None
    assert "Commit: 7e3f1a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f" in found[0].description
    assert "Branch: origin/main" in found[0].description
    assert "sw_new" not in found[0].description  # the diff is never copied


def test_hostile_lines_degrade_to_missing_values(tmp_path: Path) -> None:
    lines = [
        {"SourceMetadata": 5, "DetectorName": None, "Raw": 7, "Verified": "yes", "ExtraData": []},
        ["not", "an", "object"],
        {"stringsFound": "AKIA", "reason": ["x"], "path": 3},
    ]
    path = tmp_path / "th.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines))
    odd, legacy = findings(path, "trufflehog")
    assert (odd.rule_id, odd.secret, odd.path, odd.severity) == (
        "unknown",
        None,
        None,
        Severity.HIGH,
    )
    assert (legacy.rule_id, legacy.secret, legacy.path) == ("unknown", None, None)


def test_a_json_array_is_not_trufflehog_output(tmp_path: Path) -> None:
    path = tmp_path / "th.json"
    path.write_text(json.dumps([{"SourceMetadata": {}, "DetectorName": "AWS"}]))
    with pytest.raises(InputError, match="does not look like TruffleHog"):
        parse_file(path, "trufflehog")


def test_real_trufflehog_reports() -> None:
    folder = shared_data("scans", "trufflehog")
    for path in sorted(folder.iterdir()):
        records = parse_file(path)
        assert records[0] == ToolRun("trufflehog", None)

    git = findings(folder / "v3_git.json")
    assert [(f.rule_id, f.line) for f in git] == [
        ("AWS", 4),
        ("URI", 3),
        ("PrivateKey", 1),
        ("URI", 3),
    ]
    assert all(f.severity is Severity.CRITICAL and f.path == "keys" for f in git)
    assert git[0].secret == "AKIAYVP4CIPPERUVIFXG"  # base64 in this early v3 output
    assert git[1].secret == "https://admin:admin@the-internet.herokuapp.com/basic_auth"
    assert git[2].secret is not None
    assert git[2].secret.startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n")

    github = findings(folder / "v3_github.json")
    assert github[0].references == [
        "https://github.com/trufflesecurity/test_keys/blob/fbc14303ffbf8fb1c2c1914e8dda7d0121633aca/keys"
    ]

    v2 = findings(folder / "v2_many_vulns.json")
    assert len(v2) == 65
    assert {f.title for f in v2} >= {"Generic Secret", "RSA private key", "PGP private key block"}
    assert (v2[2].title, v2[2].path) == ("SSH (EC) private key", "README.md")
    assert v2[2].secret == "-----BEGIN EC PRIVATE KEY-----"
