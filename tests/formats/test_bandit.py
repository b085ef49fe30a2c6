"""Bandit JSON: what a user sees after importing ``bandit -r . -f json``."""

from __future__ import annotations

import json
from pathlib import Path

from shieldwall.findings.vocabulary import Kind, Severity
from shieldwall.ingest import registry
from shieldwall.ingest.identity import IdentityAssigner
from shieldwall.ingest.records import RawFinding, ToolRun
from shieldwall.ingest.source import ReportSource
from tests.conftest import fixture, parse_file, shared_data


def findings(path: Path) -> list[RawFinding]:
    return [r for r in parse_file(path) if isinstance(r, RawFinding)]


def fingerprints(path: Path) -> list[str]:
    assigner = IdentityAssigner()
    return [assigner.fingerprint(f) for f in findings(path)]


def test_current_bandit_results_are_code_findings_with_cwe_and_the_flagged_line() -> None:
    records = parse_file(fixture("reports", "bandit", "bandit-1.7.json"))
    assert records[0] == ToolRun("bandit", None)  # Bandit does not write its version
    sqli, shell, assertion = findings(fixture("reports", "bandit", "bandit-1.7.json"))

    assert sqli.kind is Kind.CODE
    assert sqli.rule_id == "B608"
    assert sqli.title == "Possible SQL injection vector through string-based query construction."
    assert (sqli.severity, sqli.tool_severity) == (Severity.MEDIUM, "MEDIUM")
    assert "Confidence: LOW" in (sqli.description or "")
    assert sqli.cwe_ids == ["CWE-89"]
    assert (sqli.path, sqli.line, sqli.end_line) == ("app/db.py", 14, 14)
    # Only the flagged line of the three Bandit shows, without its line number.
    assert sqli.snippet == "query = \"SELECT * FROM users WHERE name = '%s'\" % name"
    assert sqli.references[0].endswith("b608_hardcoded_sql_expressions.html")

    assert (shell.severity, shell.cwe_ids) == (Severity.HIGH, ["CWE-78"])
    assert (shell.line, shell.end_line, shell.snippet) == (28, 31, "return subprocess.run(")
    assert (assertion.rule_id, assertion.severity) == ("B101", Severity.LOW)


def test_old_bandit_without_cwe_and_with_an_undefined_severity() -> None:
    (md5,) = findings(fixture("reports", "bandit", "bandit-1.6-no-cwe.json"))
    assert md5.cwe_ids == []
    assert (md5.severity, md5.tool_severity) == (Severity.MEDIUM, "UNDEFINED")
    assert md5.snippet == "digest = hashlib.md5(data).hexdigest()"


def test_a_clean_run_is_a_tool_run_without_findings() -> None:
    assert parse_file(fixture("reports", "bandit", "bandit-empty.json")) == [ToolRun("bandit")]


def test_identity_follows_the_code_not_its_line_number(tmp_path: Path) -> None:
    report = json.loads(fixture("reports", "bandit", "bandit-1.7.json").read_text())
    for result in report["results"]:
        shift = 9
        result["line_number"] += shift
        result["line_range"] = [n + shift for n in result["line_range"]]
        result["code"] = "".join(
            f"{int(number) + shift} {rest}\n"
            for number, _, rest in (line.partition(" ") for line in result["code"].splitlines())
        )
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(report))
    assert fingerprints(moved) == fingerprints(fixture("reports", "bandit", "bandit-1.7.json"))

    report["results"][0]["code"] = report["results"][0]["code"].replace("users", "admins")
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(report))
    assert fingerprints(changed)[0] != fingerprints(moved)[0]
    assert fingerprints(changed)[1:] == fingerprints(moved)[1:]


def test_detection_picks_bandit_only() -> None:
    for name in ("bandit-1.7.json", "bandit-1.6-no-cwe.json", "bandit-empty.json"):
        source = ReportSource(fixture("reports", "bandit", name), max_size=2**20, max_depth=64)
        assert registry.resolve(source).name == "bandit"


def test_hostile_values_degrade_to_missing(tmp_path: Path) -> None:
    path = tmp_path / "bandit.json"
    path.write_text(
        json.dumps(
            {
                "errors": [],
                "generated_at": "2024-01-01T00:00:00Z",
                "metrics": {"_totals": {"SEVERITY.HIGH": 0}},
                "results": [
                    None,
                    "B101",
                    {
                        "code": ["12 x"],
                        "filename": 7,
                        "issue_cwe": "CWE-89",
                        "issue_severity": ["HIGH"],
                        "line_number": "twelve",
                        "line_range": "12",
                    },
                ],
            }
        )
    )
    (found,) = findings(path)
    assert (found.rule_id, found.title, found.severity) == ("unknown", "unknown", Severity.MEDIUM)
    assert (found.path, found.line, found.snippet, found.cwe_ids) == (None, None, None, [])


def test_real_bandit_reports() -> None:
    folder = shared_data("scans", "bandit")
    for path in sorted(folder.glob("*.json")):
        records = parse_file(path)
        assert records[0] == ToolRun("bandit")
    assert len(findings(folder / "dd.json")) == 47
    assert len(findings(folder / "many_vulns.json")) == 214
    assert findings(folder / "no_vuln.json") == []
    (assertion,) = findings(folder / "one_vuln.json")
    assert (assertion.rule_id, assertion.path, assertion.line) == ("B101", "one/one.py", 2)
    assert (assertion.snippet, assertion.severity) == ("assert False", Severity.LOW)
    md5 = findings(folder / "dd.json")[0]
    assert (md5.rule_id, md5.path, md5.line) == ("B303", "dojo/tools/acunetix/parser.py", 39)
