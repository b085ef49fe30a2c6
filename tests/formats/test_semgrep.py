"""Semgrep JSON: Semgrep Code and Supply Chain results, logged in and logged out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shieldwall.errors import InputError
from shieldwall.findings.vocabulary import Kind, Severity, Status
from shieldwall.ingest import registry
from shieldwall.ingest.identity import IdentityAssigner
from shieldwall.ingest.records import RawComponent, RawFinding, ToolRun
from shieldwall.ingest.source import ReportSource
from tests.conftest import fixture, parse_file, shared_data


def findings(path: Path) -> list[RawFinding]:
    return [r for r in parse_file(path) if isinstance(r, RawFinding)]


def fingerprints(path: Path) -> list[str]:
    assigner = IdentityAssigner()
    return [assigner.fingerprint(f) for f in findings(path)]


def semgrep_fixture(name: str) -> Path:
    return fixture("reports", "semgrep", name)


def test_code_results_carry_the_rule_metadata() -> None:
    records = parse_file(semgrep_fixture("semgrep-code.json"))
    assert records[0] == ToolRun("semgrep", "1.101.0")
    sqli, traversal = findings(semgrep_fixture("semgrep-code.json"))

    assert sqli.kind is Kind.CODE
    assert sqli.rule_id.endswith("sql-injection-using-raw")
    assert sqli.title == "Detected user input used to build a raw SQL query."
    assert "Use parameterised queries instead." in (sqli.description or "")
    assert "Likelihood: HIGH" in (sqli.description or "")
    assert (sqli.severity, sqli.tool_severity) == (Severity.HIGH, "ERROR")
    assert sqli.cwe_ids == ["CWE-89"]  # a single string, not a list
    assert (sqli.path, sqli.line, sqli.end_line) == ("app/views.py", 58, 58)
    assert sqli.snippet == 'rows = Order.objects.raw(f"SELECT * FROM orders WHERE id={order_id}")'
    assert sqli.tool_fingerprints["fingerprint"].endswith("_0")
    assert "https://sg.run/Bkx3" in sqli.references
    assert sqli.status is None

    # Newer rules rate with MEDIUM/HIGH...; a nosemgrep comment is the team's verdict.
    assert (traversal.severity, traversal.tool_severity) == (Severity.MEDIUM, "MEDIUM")
    assert traversal.cwe_ids == ["CWE-22"]
    assert traversal.status is Status.FALSE_POSITIVE
    assert traversal.status_reason == "ignored in the source with a nosemgrep comment"
    assert "Suggested fix: const file = path.join(UPLOADS, path.basename" in (
        traversal.description or ""
    )


def _moved(path: Path, tmp_path: Path, shift: int) -> Path:
    """The same report after code above every finding grew by ``shift`` lines."""

    def move(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("start", "end") and isinstance(value, dict):
                    value["line"] += shift
                else:
                    move(value)
        elif isinstance(node, list):
            for value in node:
                move(value)

    report = json.loads(path.read_text())
    move(report["results"])
    moved = tmp_path / f"moved-{path.name}"
    moved.write_text(json.dumps(report))
    return moved


def test_logged_out_results_hide_code_and_fingerprint_but_keep_their_identity(
    tmp_path: Path,
) -> None:
    run, call = findings(semgrep_fixture("semgrep-logged-out.json"))
    assert (run.snippet, run.tool_fingerprints) == (None, {})
    assert run.context == "deploy_command | run"
    assert call.context == "call | rollback_command"

    original = fingerprints(semgrep_fixture("semgrep-logged-out.json"))
    moved = _moved(semgrep_fixture("semgrep-logged-out.json"), tmp_path, -7)
    assert [f.line for f in findings(moved)] == [24, 45]
    assert fingerprints(moved) == original
    assert len(set(original)) == 2  # two matches of one rule in one file stay two findings


def test_the_real_logged_out_pair_that_moved_from_line_31_to_24_is_one_finding() -> None:
    folder = shared_data("scans", "semgrep")
    first = folder / "close_old_findings_report_line31.json"
    second = folder / "close_old_findings_report_second_run_line24.json"
    assert [f.line for f in findings(first)] == [31]
    assert [f.line for f in findings(second)] == [24]
    assert fingerprints(first) == fingerprints(second)
    # Semgrep's own id changed in the third run: it is trusted, so that is another finding.
    third = folder / "close_old_findings_report_third_run_different_unique_id.json"
    assert fingerprints(third) != fingerprints(first)


def test_supply_chain_results_are_vulnerable_packages() -> None:
    requests, semver = findings(semgrep_fixture("semgrep-supply-chain.json"))

    assert requests.kind is Kind.DEPENDENCY
    assert requests.component == RawComponent(
        "requests", "2.28.1", "pkg:pypi/requests@2.28.1", "pypi"
    )
    assert requests.vulnerability_ids == ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"]
    assert requests.fixed_version == "2.31.0"
    # The advisory's severity, not the rule's level.
    assert (requests.severity, requests.tool_severity) == (Severity.MEDIUM, "MODERATE")
    assert requests.cwe_ids == ["CWE-200"]
    assert "Reachable: yes" in (requests.description or "")
    assert "Lockfile: poetry.lock" in (requests.description or "")

    assert semver.component is not None
    assert semver.component.purl == "pkg:npm/semver@7.3.8"
    assert semver.vulnerability_ids[0] == "CVE-2022-25883"
    # Fixed in 7.5.2 and in 6.3.1: the installed 7.3.8 needs 7.5.2.
    assert semver.fixed_version == "7.5.2"
    assert semver.severity is Severity.HIGH
    assert "Dependency: transitive" in (semver.description or "")
    assert "Reachable" not in (semver.description or "")  # no reachability rule


def test_a_supply_chain_result_meets_another_scanner_reporting_the_same_cve() -> None:
    requests, _ = findings(semgrep_fixture("semgrep-supply-chain.json"))
    trivy = RawFinding(
        tool="trivy",
        kind=Kind.DEPENDENCY,
        rule_id="CVE-2023-32681",
        title="requests: Unintended leak of Proxy-Authorization header",
        severity=Severity.MEDIUM,
        vulnerability_ids=["CVE-2023-32681"],
        path="poetry.lock",
        component=RawComponent("requests", "2.28.1", "pkg:pypi/requests@2.28.1", "pypi"),
    )
    assert IdentityAssigner().fingerprint(requests) == IdentityAssigner().fingerprint(trivy)


def test_a_run_that_failed_is_refused_rather_than_closing_everything() -> None:
    with pytest.raises(InputError, match="no results and a failed run \\(Rule parse error"):
        parse_file(semgrep_fixture("semgrep-failed-run.json"))


def test_per_file_warnings_do_not_stop_a_clean_run() -> None:
    records = parse_file(semgrep_fixture("semgrep-warnings-only.json"))
    assert records == [ToolRun("semgrep", "1.101.0")]
    # ... nor a run with results.
    assert len(findings(semgrep_fixture("semgrep-code.json"))) == 2


def test_detection(tmp_path: Path) -> None:
    for path in sorted(fixture("reports", "semgrep").glob("*.json")):
        source = ReportSource(path, max_size=2**20, max_depth=64)
        assert registry.resolve(source).name == "semgrep", path.name
    # The smallest report Semgrep writes, and one whose results come after a long
    # ``paths.scanned`` (keys sorted, as Semgrep 1.30 writes them).
    bare = tmp_path / "bare.json"
    bare.write_text('{"results": [], "errors": []}')
    assert parse_file(bare) == [ToolRun("semgrep")]
    sorted_keys = tmp_path / "sorted.json"
    report = json.loads(semgrep_fixture("semgrep-code.json").read_text())
    report["paths"]["scanned"] = [f"src/file_{n}.py" for n in range(60_000)]
    sorted_keys.write_text(json.dumps(report, sort_keys=True))
    assert len(findings(sorted_keys)) == 2


def test_hostile_values_degrade_to_missing(tmp_path: Path) -> None:
    path = tmp_path / "semgrep.json"
    result = {
        "check_id": ["x"],
        "path": 3,
        "start": {"line": "a"},
        "extra": {
            "message": {"text": "x"},
            "metadata": {"cwe": 5, "references": "not a url", "sca-fix-versions": "1.0"},
            "metavars": ["$X"],
            "severity": None,
            "sca_info": {"dependency_match": {"found_dependency": {"package": ["p"]}}},
        },
    }
    path.write_text(json.dumps({"results": [result, None], "errors": "none"}))
    (found,) = findings(path)
    assert (found.rule_id, found.title, found.kind) == ("unknown", "unknown", Kind.CODE)
    assert (found.path, found.line, found.component, found.context) == (None, None, None, None)
    assert (found.severity, found.tool_severity, found.references) == (Severity.MEDIUM, None, [])


def test_real_semgrep_reports() -> None:
    folder = shared_data("scans", "semgrep")
    api_page = folder / "sca-deployments-vulns.json"
    for path in sorted(set(folder.glob("*.json")) - {api_page}):
        records = parse_file(path)
        assert isinstance(records[0], ToolRun)
        assert records[0].tool == "semgrep"
    # The Semgrep AppSec Platform's API page of supply-chain findings is another format.
    with pytest.raises(InputError, match="format not recognised"):
        parse_file(api_page)

    (csrf,) = findings(folder / "cwe_list.json")
    assert (csrf.cwe_ids, csrf.severity, csrf.tool_severity) == (["CWE-352"], Severity.LOW, "INFO")
    (cbc,) = findings(folder / "multiple_cwes_fabricated.json")
    assert cbc.cwe_ids == ["CWE-327", "CWE-696"]
    assert len(findings(folder / "many_vulns.json")) == 48
    assert parse_file(folder / "empty.json") == [ToolRun("semgrep")]

    logged_out = findings(folder / "fingerprint_test.json")
    assert [(f.snippet, dict(f.tool_fingerprints)) for f in logged_out] == [(None, {})] * 2
    assert [f.cwe_ids for f in logged_out] == [["CWE-78"], ["CWE-89"]]
    assert parse_file(folder / "fingerprint_test.json")[0] == ToolRun("semgrep", "1.100.0")
    assert fingerprints(folder / "semgrep_version_1_30_0_line_26.json") == fingerprints(
        folder / "semgrep_version_1_30_0_line_27.json"
    )
