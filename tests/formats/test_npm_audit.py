"""npm audit JSON (npm 6 and npm 7+): what a Node team sees after importing ``npm audit --json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shieldwall.errors import InputError
from shieldwall.findings.vocabulary import Kind, Severity
from shieldwall.ingest.records import RawComponent, RawFinding, ToolRun
from tests.conftest import fixture, parse_file, shared_data


def npm_audit(name: str) -> Path:
    return fixture("reports", "npm-audit", name)


def findings(path: Path) -> list[RawFinding]:
    return [r for r in parse_file(path) if isinstance(r, RawFinding)]


def test_npm6_advisories_become_findings_with_cves_cwes_and_fixes() -> None:
    records = parse_file(npm_audit("npm6.json"))
    assert records[0] == ToolRun("npm-audit", None)
    minimist, qs = findings(npm_audit("npm6.json"))

    # An advisory from before GitHub's database has no CVE nor GHSA: npm's number stands in.
    assert minimist.vulnerability_ids == ["NPM-1179"]
    assert minimist.title == "Prototype Pollution in minimist"  # npm left the package out
    assert (minimist.severity, minimist.tool_severity) == (Severity.LOW, "low")
    assert minimist.cwe_ids == ["CWE-471"]
    assert minimist.references == [
        "https://npmjs.com/advisories/1179",
        "https://snyk.io/vuln/SNYK-JS-MINIMIST-559764",
    ]
    assert minimist.component == RawComponent("minimist", "0.0.8", "pkg:npm/minimist@0.0.8", "npm")
    assert minimist.fixed_version is None  # two patched ranges: no single version to name
    assert "Installed at:\nmkdirp>minimist" in (minimist.description or "")

    assert qs.kind is Kind.DEPENDENCY
    assert qs.rule_id == "CVE-2022-24999"
    assert qs.vulnerability_ids == ["CVE-2022-24999", "GHSA-hrpp-h998-j3pp"]
    assert qs.title == "qs vulnerable to Prototype Pollution"
    assert qs.severity is Severity.HIGH
    assert qs.cwe_ids == ["CWE-1321"]
    assert qs.fixed_version == "6.5.3"
    # Two installed versions of one package: one finding that names both.
    assert qs.component is not None
    assert qs.component.version == "6.5.2"
    assert "Installed versions: 6.5.2, 6.2.3" in (qs.description or "")
    assert "express>qs\nbody-parser>qs\nrequest>qs" in (qs.description or "")


def test_npm7_reports_one_finding_per_advisory_and_none_for_transitive_pointers() -> None:
    found = findings(npm_audit("npm7.json"))
    # body-parser is only vulnerable "via qs": the qs advisory is the finding, once.
    assert [(f.component.name, f.rule_id) for f in found if f.component] == [
        ("@babel/traverse", "GHSA-67hx-6x53-jw92"),
        ("express", "GHSA-rv95-896h-c2vc"),
        ("qs", "GHSA-hrpp-h998-j3pp"),
        ("xmldom", "GHSA-crh6-fp67-6883"),
    ]
    babel, express, qs, xmldom = found

    assert babel.component == RawComponent(
        "@babel/traverse", None, "pkg:npm/%40babel/traverse", "npm"
    )
    assert babel.path == "node_modules/@babel/traverse"
    assert (babel.severity, babel.tool_severity) == (Severity.CRITICAL, "critical")
    assert babel.cwe_ids == ["CWE-184", "CWE-697"]
    assert babel.fixed_version == "7.23.2"
    assert "A fix is available (npm audit fix)." in (babel.description or "")

    # The advisory's own severity, not the package's worst one.
    assert (express.severity, express.tool_severity) == (Severity.MEDIUM, "moderate")
    assert express.fixed_version == "4.19.2"
    assert "Fix: upgrade express to 4.21.1." in (express.description or "")
    assert express.references == ["https://github.com/advisories/GHSA-rv95-896h-c2vc"]

    # Two vulnerable ranges: the installed version is not known, nor is the fix.
    assert qs.fixed_version is None
    assert "node_modules/qs\nnode_modules/body-parser/node_modules/qs" in (qs.description or "")

    assert xmldom.fixed_version is None
    assert "No fix is available." in (xmldom.description or "")


def test_an_audit_without_vulnerabilities_is_a_complete_empty_run() -> None:
    assert parse_file(npm_audit("npm7-clean.json")) == [ToolRun("npm-audit", None)]


def test_a_failed_audit_is_refused_rather_than_imported_as_empty() -> None:
    with pytest.raises(InputError, match=r"npm audit failed \(ENOLOCK: This command requires"):
        parse_file(npm_audit("failed.json"))


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"auditReportVersion": 3, "vulnerabilities": {}}, "report version 3 is not supported"),
        ({"auditReportVersion": 2, "vulnerabilities": []}, "`vulnerabilities` is missing"),
        (
            {"actions": [{"resolves": [{"id": 1, "path": "a>b"}]}], "metadata": {}},
            "`advisories` is missing",
        ),
    ],
)
def test_incomplete_reports_are_refused(tmp_path: Path, document: object, problem: str) -> None:
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InputError, match=problem):
        parse_file(path, "npm-audit")


def test_hostile_shapes_degrade_to_missing(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    path.write_text(
        json.dumps(
            {
                "auditReportVersion": 2,
                "vulnerabilities": {
                    "a": None,
                    "b": {"via": "c", "nodes": "node_modules/b", "fixAvailable": "yes"},
                    "c": {
                        "via": [
                            {"url": 5, "source": "x"},
                            {"url": "https://x/GHSA-aaaa-bbbb-cccc", "cwe": "CWE-79", "range": 7},
                        ]
                    },
                },
            }
        )
    )
    (found,) = findings(path)
    assert (found.rule_id, found.cwe_ids) == ("GHSA-aaaa-bbbb-cccc", ["CWE-79"])
    assert found.component is not None
    assert found.component.name == "c"


def test_real_npm_audit_reports() -> None:
    for folder in (shared_data("scans", "npm_audit"), shared_data("scans", "npm_audit_7_plus")):
        for path in sorted(folder.iterdir()):
            if path.name == "empty_with_error.json":
                with pytest.raises(InputError, match=r"npm audit failed \(ENOAUDIT"):
                    parse_file(path)
            else:
                assert parse_file(path)[0] == ToolRun("npm-audit", None)

    npm6 = shared_data("scans", "npm_audit")
    (growl,) = findings(npm6 / "one_vuln.json")
    assert (growl.title, growl.severity) == ("Command Injection in growl", Severity.CRITICAL)
    assert (growl.vulnerability_ids, growl.fixed_version) == (["CVE-2017-16042"], "1.10.2")
    assert findings(npm6 / "cwe_null.json")[0].cwe_ids == []
    multiple = findings(npm6 / "multiple_cwes.json")
    assert len(multiple) == 41
    assert any(f.cwe_ids == ["CWE-918", "CWE-1333"] for f in multiple)

    npm7 = shared_data("scans", "npm_audit_7_plus")
    first, second = findings(npm7 / "one_vuln.json")  # the string "ms" in via is not a third
    assert (first.rule_id, second.rule_id) == ("GHSA-gxpj-cx7g-858c", "GHSA-9vvw-cc9w-f27h")
    assert (first.severity, second.severity) == (Severity.MEDIUM, Severity.HIGH)
    assert first.path == "node_modules/debug"
    assert len(findings(npm6 / "many_vuln_npm7.json")) == 8
