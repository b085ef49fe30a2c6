"""SARIF 2.1.0: what users of CodeQL, Semgrep and gitleaks see after an import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shieldwall.errors import InputError
from shieldwall.findings.vocabulary import Kind, Severity, Status
from shieldwall.ingest.records import RawFinding, ToolRun
from tests.conftest import fixture, parse_file


def findings(path: Path) -> list[RawFinding]:
    return [r for r in parse_file(path) if isinstance(r, RawFinding)]


def test_codeql_results_carry_rule_metadata_from_driver_and_extensions() -> None:
    records = parse_file(fixture("reports", "sarif", "codeql.sarif"))
    assert records[0] == ToolRun("codeql", "2.15.3")
    sqli, logging, empty_except = findings(fixture("reports", "sarif", "codeql.sarif"))

    assert sqli.kind is Kind.CODE
    assert sqli.rule_id == "py/sql-injection"
    assert sqli.severity is Severity.HIGH  # security-severity 8.8
    assert sqli.tool_severity == "8.8"
    assert sqli.cwe_ids == ["CWE-89"]
    assert (sqli.path, sqli.line) == ("app/db.py", 42)
    assert sqli.title == "This SQL query depends on a [user-provided value](1)."
    assert "malicious SQL" in (sqli.description or "")
    assert sqli.references == [
        "https://codeql.github.com/codeql-query-help/python/py-sql-injection/"
    ]

    # The rule lives in an extension (toolComponent index 0) and the path in run.artifacts.
    assert logging.cwe_ids == ["CWE-312", "CWE-359", "CWE-532"]
    assert logging.path == "app/views.py"
    assert logging.severity is Severity.HIGH

    # An absolute URI under the declared checkout root becomes repository-relative; an
    # in-source suppression is the tool saying "not a problem".
    assert empty_except.path == "app/tasks.py"
    assert empty_except.severity is Severity.LOW
    assert empty_except.status is Status.FALSE_POSITIVE
    assert empty_except.status_reason == "suppressed by the tool (inSource): cleanup is best effort"


def test_semgrep_logged_out_placeholders_are_not_used_as_identity() -> None:
    first, second = findings(fixture("reports", "sarif", "semgrep-logged-out.sarif"))
    assert first.tool == "semgrep"
    assert first.cwe_ids == ["CWE-22"]
    assert first.severity is Severity.MEDIUM
    # "Semgrep Finding: <rule id>" is no title; the message is.
    assert first.title.startswith("Detected user input going into a path function")
    assert first.snippet == "const data = fs.readFileSync(req.query.path)"
    assert second.line == 31


def test_gitleaks_sarif_is_a_secret_with_the_secret_kept_only_in_memory() -> None:
    aws, generic = findings(fixture("reports", "sarif", "gitleaks.sarif"))
    assert aws.kind is Kind.SECRET
    assert aws.secret == "AKIAZ7VRSQ5TEXAMPLE1"
    assert aws.path == "config/settings.py"
    assert generic.rule_id == "generic-api-key"


def _sarif(tmp_path: Path, **run: object) -> Path:
    path = tmp_path / "report.sarif"
    path.write_text(json.dumps({"version": "2.1.0", "runs": [run]}))
    return path


def test_results_that_passed_or_are_absent_from_the_baseline_are_not_findings(
    tmp_path: Path,
) -> None:
    results = [
        {"ruleId": "a", "kind": "pass", "message": {"text": "fine"}},
        {"ruleId": "b", "baselineState": "absent", "message": {"text": "gone"}},
        {"ruleId": "c", "message": {"text": "real"}},
    ]
    found = findings(_sarif(tmp_path, tool={"driver": {"name": "x"}}, results=results))
    assert [f.rule_id for f in found] == ["c"]


def test_results_are_paired_with_their_own_run(tmp_path: Path) -> None:
    path = tmp_path / "two-runs.sarif"
    path.write_text(
        json.dumps(
            {
                "version": "2.1.0",
                "runs": [
                    {
                        "tool": {"driver": {"name": "Bandit"}},
                        "results": [{"ruleId": "B101", "message": {"text": "assert"}}],
                    },
                    {"tool": {"driver": {"name": "checkov"}}, "results": []},
                    {
                        "results": [{"ruleId": "CKV_AWS_20", "message": {"text": "public bucket"}}],
                        "tool": {"driver": {"name": "checkov"}},
                    },
                ],
            }
        )
    )
    records = parse_file(path)
    assert [r.tool for r in records if isinstance(r, ToolRun)] == ["bandit", "checkov", "checkov"]
    found = [r for r in records if isinstance(r, RawFinding)]
    assert [(f.tool, f.kind) for f in found] == [("bandit", Kind.CODE), ("checkov", Kind.IAC)]


def test_paths_cannot_climb_out_of_the_repository(tmp_path: Path) -> None:
    result = {
        "ruleId": "r",
        "message": {"text": "m"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "../../etc/passwd"}}}],
    }
    (found,) = findings(_sarif(tmp_path, tool={"driver": {"name": "x"}}, results=[result]))
    assert found.path == "etc/passwd"


def test_message_placeholders_are_filled_from_arguments(tmp_path: Path) -> None:
    rule = {"id": "r1", "messageStrings": {"default": {"text": "Variable {0} is unused in {1}."}}}
    result = {"ruleId": "r1", "message": {"id": "default", "arguments": ["x", "main"]}}
    (found,) = findings(
        _sarif(tmp_path, tool={"driver": {"name": "x", "rules": [rule]}}, results=[result])
    )
    assert found.title == "Variable x is unused in main."


def test_trivy_sarif_vulnerabilities_become_package_findings(tmp_path: Path) -> None:
    rule = {
        "id": "CVE-2023-32681",
        "help": {
            "text": "Vulnerability CVE-2023-32681\nSeverity: MEDIUM\nPackage: requests\nFixed Version: 2.31.0"
        },
        "properties": {"tags": ["vulnerability", "security", "MEDIUM"], "security-severity": "6.1"},
    }
    result = {
        "ruleId": "CVE-2023-32681",
        "message": {
            "text": "Package: requests\nInstalled Version: 2.28.1\nVulnerability CVE-2023-32681\nSeverity: MEDIUM\nFixed Version: 2.31.0"
        },
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "requirements.txt"}}}],
    }
    (found,) = findings(
        _sarif(tmp_path, tool={"driver": {"name": "Trivy", "rules": [rule]}}, results=[result])
    )
    assert found.kind is Kind.DEPENDENCY
    assert found.vulnerability_ids == ["CVE-2023-32681"]
    assert found.component is not None
    assert (found.component.name, found.component.version) == ("requests", "2.28.1")
    assert found.fixed_version == "2.31.0"


@pytest.mark.parametrize("version", ["2.0.0", "1.0.0"])
def test_other_sarif_versions_are_refused(tmp_path: Path, version: str) -> None:
    path = tmp_path / "old.sarif"
    path.write_text(json.dumps({"version": version, "$schema": "sarif", "runs": []}))
    with pytest.raises(InputError, match=f"SARIF version '{version}' is not supported"):
        parse_file(path)
