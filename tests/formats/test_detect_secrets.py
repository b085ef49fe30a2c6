"""detect-secrets baselines: what a user sees after importing a baseline, and that a secret
found by detect-secrets (a SHA-1 only) and by gitleaks (the secret) is one finding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shieldwall.errors import InputError
from shieldwall.findings.vocabulary import Kind, Severity, Status
from shieldwall.ingest.identity import IdentityAssigner
from shieldwall.ingest.records import RawFinding, ToolRun
from tests.conftest import fixture, parse_file, shared_data


def findings(path: Path, fmt: str = "auto") -> list[RawFinding]:
    return [r for r in parse_file(path, fmt) if isinstance(r, RawFinding)]


def test_baseline_results_carry_the_hash_location_verification_and_audit() -> None:
    records = parse_file(fixture("reports", "detect-secrets", "baseline.json"))
    assert records[0] == ToolRun("detect-secrets", "1.4.0")
    keyword, aws, audited_out = (r for r in records if isinstance(r, RawFinding))

    assert keyword.kind is Kind.SECRET
    assert (keyword.rule_id, keyword.title) == ("Secret Keyword", "Secret Keyword")
    assert keyword.secret is None
    assert keyword.secret_sha1 == "fb5ac23a17a6aced646111534d2be4223a767d32"
    assert (keyword.path, keyword.line) == ("app/settings.py", 12)
    assert (keyword.severity, keyword.tool_severity) == (Severity.HIGH, None)
    assert keyword.cwe_ids == ["CWE-798"]
    assert keyword.status is None
    assert keyword.description is not None
    assert "Audit: confirmed as a real secret" in keyword.description

    assert (aws.severity, aws.tool_severity) == (Severity.CRITICAL, "verified")

    assert audited_out.status is Status.FALSE_POSITIVE
    assert audited_out.status_reason == "audited as not a secret in the baseline"
    assert audited_out.path == "tests/fixtures/users.yaml"


def test_one_secret_found_by_gitleaks_and_detect_secrets_in_one_file_is_one_finding() -> None:
    gitleaks = {f.path: f for f in _findings_of("gitleaks", "v8.json")}
    baseline = {f.path: f for f in _findings_of("detect-secrets", "baseline.json")}
    for path in ("app/settings.py", "deploy/env.sh"):
        assert gitleaks[path].secret is not None
        assert baseline[path].secret_sha1 is not None
        assert IdentityAssigner().fingerprint(gitleaks[path]) == IdentityAssigner().fingerprint(
            baseline[path]
        ), path
    # Another secret of the same file would not meet it.
    other = _findings_of("detect-secrets", "baseline.json")[0]
    other.secret_sha1 = "0" * 40
    assert IdentityAssigner().fingerprint(other) != IdentityAssigner().fingerprint(
        gitleaks["app/settings.py"]
    )


def test_old_baselines_name_the_file_by_its_key_and_bad_hashes_are_not_used() -> None:
    records = parse_file(fixture("reports", "detect-secrets", "baseline-0.14.json"))
    assert records[0] == ToolRun("detect-secrets", "0.14.3")
    keyword, hex_string = (r for r in records if isinstance(r, RawFinding))
    assert (keyword.path, keyword.line) == ("config/local.ini", 8)
    assert keyword.secret_sha1 == "0f7a136b462b257b9996c246e2e50cbd629e7928"
    assert (hex_string.rule_id, hex_string.secret_sha1) == ("Hex High Entropy String", None)


def test_an_empty_baseline_is_a_clean_scan() -> None:
    assert parse_file(fixture("reports", "detect-secrets", "empty.json")) == [
        ToolRun("detect-secrets", "1.4.0")
    ]


def test_results_that_are_not_an_object_are_refused(tmp_path: Path) -> None:
    path = tmp_path / ".secrets.baseline"
    path.write_text(json.dumps({"version": "1.4.0", "plugins_used": [], "results": []}))
    with pytest.raises(InputError, match="needs a results object keyed by file"):
        parse_file(path)


def test_hostile_results_degrade_to_missing_values(tmp_path: Path) -> None:
    results = {
        "a.py": [
            None,
            5,
            {
                "type": 3,
                "hashed_secret": 7,
                "line_number": "x",
                "is_secret": "no",
                "is_verified": "yes",
            },
        ],
        "b.py": "x",
    }
    path = tmp_path / ".secrets.baseline"
    path.write_text(json.dumps({"plugins_used": "x", "results": results}))
    records = parse_file(path)
    assert records[0] == ToolRun("detect-secrets", None)
    (odd,) = records[1:]
    assert isinstance(odd, RawFinding)
    assert (odd.rule_id, odd.secret_sha1, odd.path, odd.line, odd.status) == (
        "3",
        None,
        "a.py",
        None,
        None,
    )
    assert odd.severity is Severity.HIGH


def test_real_detect_secrets_baselines() -> None:
    folder = shared_data("scans", "detect_secrets")
    many = parse_file(folder / "many_findings.json")
    assert many[0] == ToolRun("detect-secrets", "1.0.3")
    found = [r for r in many if isinstance(r, RawFinding)]
    assert [(f.path, f.line, f.status) for f in found] == [
        ("modules_images", 151, None),
        ("modules_images", 156, None),
        ("example/pkg/docker_registry_watcher/docker_config.go", 109, None),
        (
            "example/pkg/docker_registry_watcher/docker_registry_watcher.go",
            112,
            Status.FALSE_POSITIVE,
        ),
    ]
    assert found[0].secret_sha1 == "bd564db5d5cc358eb0e3523d3e03041739f230d5"
    assert parse_file(folder / "no_findings.json") == [ToolRun("detect-secrets", "1.0.3")]


def _findings_of(folder: str, name: str) -> list[RawFinding]:
    return findings(fixture("reports", folder, name))
