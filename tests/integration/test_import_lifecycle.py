"""The findings spine on SQLite and PostgreSQL: one deduplicated, tracked list per service
that stays correct as scans repeat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.builders import code_result, sarif, vuln_result, vuln_rule
from tests.conftest import Cli, fixture

ORG = fixture("inventory", "org.yaml")


@pytest.fixture
def org(cli: Cli) -> Cli:
    cli.ok("inventory", "import", ORG)
    return cli


def summary(cli: Cli, *args: str | Path) -> dict[str, int]:
    result = cli.ok("import", *args, "--json")
    return json.loads(result.out)  # type: ignore[no-any-return]


def findings(cli: Cli, *args: str) -> list[dict[str, object]]:
    return json.loads(cli.ok("findings", "list", "--format", "json", *args).out)  # type: ignore[no-any-return]


def test_first_import_creates_and_identical_reimport_changes_nothing(org: Cli) -> None:
    report = fixture("reports", "sarif", "codeql.sarif")
    first = summary(org, report, "--service", "payments-api")
    assert first == {
        "created": 3,
        "unchanged": 0,
        "updated": 0,
        "closed": 0,
        "reopened": 0,
        "total": 3,
    }
    again = summary(org, report, "--service", "payments-api")
    assert again == {
        "created": 0,
        "unchanged": 3,
        "updated": 0,
        "closed": 0,
        "reopened": 0,
        "total": 3,
    }
    rows = findings(org, "--status", "all")
    assert len(rows) == 3
    assert {r["service"] for r in rows} == {"payments-api"}
    assert all(r["tools"] == ["codeql"] for r in rows)


def test_findings_survive_line_moves(org: Cli, tmp_path: Path) -> None:
    before = sarif(
        tmp_path / "a.sarif",
        "Semgrep OSS",
        [
            code_result("sqli", "app/db.py", 10, "cur.execute('SELECT ' + q)"),
            code_result("sqli", "app/db.py", 30, "cur.execute('DELETE ' + q)"),
        ],
    )
    summary(org, before, "--service", "payments-api")
    ids = {r["id"] for r in findings(org)}
    # Someone added 25 lines at the top of the file and re-indented.
    after = sarif(
        tmp_path / "b.sarif",
        "Semgrep OSS",
        [
            code_result("sqli", "app/db.py", 35, "    cur.execute('SELECT ' + q)"),
            code_result("sqli", "app/db.py", 55, "    cur.execute('DELETE ' + q)"),
        ],
    )
    assert summary(org, after, "--service", "payments-api")["created"] == 0
    rows = findings(org)
    assert {r["id"] for r in rows} == ids
    assert sorted(r["line"] for r in rows) == [35, 55]


def test_complete_scan_closes_what_is_gone_and_reopens_what_returns(
    org: Cli, tmp_path: Path
) -> None:
    a = code_result("xss", "web/a.js", 1, "el.innerHTML = x")
    b = code_result("xss", "web/b.js", 1, "el.innerHTML = y")
    summary(org, sarif(tmp_path / "1.sarif", "semgrep", [a, b]), "--service", "web")

    closed = summary(org, sarif(tmp_path / "2.sarif", "semgrep", [a]), "--service", "web")
    assert (closed["closed"], closed["unchanged"], closed["total"]) == (1, 1, 1)
    (fixed,) = findings(org, "--status", "fixed")
    assert fixed["path"] == "web/b.js"
    assert fixed["fixed_at"] is not None
    assert fixed["status_source"] == "scanner"

    back = summary(org, sarif(tmp_path / "3.sarif", "semgrep", [a, b]), "--service", "web")
    assert (back["reopened"], back["created"]) == (1, 0)
    (regressed,) = findings(org, "--status", "reopened")
    assert regressed["id"] == fixed["id"]
    assert regressed["reopen_count"] == 1
    assert regressed["fixed_at"] is None


def test_partial_scan_never_closes(org: Cli, tmp_path: Path) -> None:
    a = code_result("r", "a.py", 1, "a()")
    b = code_result("r", "b.py", 1, "b()")
    summary(org, sarif(tmp_path / "1.sarif", "bandit", [a, b]), "--service", "ledger")
    partial = summary(
        org, sarif(tmp_path / "2.sarif", "bandit", [a]), "--service", "ledger", "--partial"
    )
    assert partial["closed"] == 0
    assert len(findings(org)) == 2


def test_an_empty_complete_scan_closes_everything_of_its_tool_only(
    org: Cli, tmp_path: Path
) -> None:
    summary(
        org,
        sarif(tmp_path / "1.sarif", "bandit", [code_result("r", "a.py", 1, "a()")]),
        "--service",
        "ledger",
    )
    summary(
        org,
        sarif(tmp_path / "2.sarif", "semgrep", [code_result("s", "b.py", 1, "b()")]),
        "--service",
        "ledger",
    )
    emptied = summary(org, sarif(tmp_path / "3.sarif", "bandit", []), "--service", "ledger")
    assert emptied["closed"] == 1
    assert [r["tools"] for r in findings(org)] == [["semgrep"]]


def test_each_branch_is_its_own_stream(org: Cli, tmp_path: Path) -> None:
    a = code_result("r", "a.py", 1, "a()")
    summary(
        org, sarif(tmp_path / "1.sarif", "bandit", [a]), "--service", "ledger", "--branch", "main"
    )
    feature = summary(
        org,
        sarif(tmp_path / "2.sarif", "bandit", []),
        "--service",
        "ledger",
        "--branch",
        "feature/x",
    )
    assert feature["closed"] == 0
    assert len(findings(org)) == 1


def test_same_cve_in_same_package_from_two_tools_is_one_finding(org: Cli, tmp_path: Path) -> None:
    trivy = sarif(
        tmp_path / "trivy.sarif",
        "Trivy",
        [vuln_result("CVE-2023-32681", "requests", "2.28.1")],
        [vuln_rule("CVE-2023-32681", "requests", "2.31.0")],
    )
    grype = sarif(
        tmp_path / "grype.sarif",
        "Grype",
        [vuln_result("CVE-2023-32681", "Requests", "2.28.1")],
        [vuln_rule("CVE-2023-32681", "Requests", "2.31.0")],
    )
    assert summary(org, trivy, "--service", "payments-api")["created"] == 1
    second = summary(org, grype, "--service", "payments-api")
    assert (second["created"], second["updated"]) == (0, 1)  # grype joins the tools
    (row,) = findings(org)
    assert row["tools"] == ["grype", "trivy"]
    assert row["vulnerability_ids"] == ["CVE-2023-32681"]
    assert row["fixed_version"] == "2.31.0"
    assert row["kind"] == "dependency"

    # Trivy stops reporting it, Grype still does: it is not fixed.
    gone_from_trivy = summary(
        org, sarif(tmp_path / "trivy2.sarif", "Trivy", []), "--service", "payments-api"
    )
    assert gone_from_trivy["closed"] == 0
    assert findings(org)[0]["status"] == "open"
    gone = summary(org, sarif(tmp_path / "grype2.sarif", "Grype", []), "--service", "payments-api")
    assert gone["closed"] == 1


def test_triage_stands_across_reimports_and_open_returns_to_the_lifecycle(
    org: Cli, tmp_path: Path
) -> None:
    report = sarif(tmp_path / "1.sarif", "semgrep", [code_result("r", "a.py", 1, "eval(x)")])
    summary(org, report, "--service", "web")
    (row,) = findings(org)
    org.ok(
        "findings",
        "triage",
        str(row["id"]),
        "--status",
        "false_positive",
        "--reason",
        "test fixture code",
    )
    again = summary(org, report, "--service", "web")
    assert again["unchanged"] == 1
    (kept,) = findings(org, "--status", "false_positive")
    assert (kept["status_source"], kept["status_reason"]) == ("person", "test fixture code")

    org.ok(
        "findings",
        "triage",
        str(row["id"]),
        "--status",
        "open",
        "--reason",
        "it is reachable after all",
    )
    assert findings(org)[0]["status"] == "open"
    closed = summary(org, sarif(tmp_path / "2.sarif", "semgrep", []), "--service", "web")
    assert closed["closed"] == 1
    history = json.loads(org.ok("findings", "show", str(row["id"]), "--format", "json").out)[
        "history"
    ]
    assert [h["action"] for h in history] == ["finding.triaged", "finding.triaged"]


def test_tool_suppressions_are_false_positives_from_the_scanner(org: Cli) -> None:
    summary(org, fixture("reports", "sarif", "codeql.sarif"), "--service", "payments-api")
    (suppressed,) = findings(org, "--status", "false_positive")
    assert suppressed["status_source"] == "scanner"
    assert suppressed["path"] == "app/tasks.py"


def test_a_report_that_fails_half_way_leaves_the_database_as_it_was(
    org: Cli, tmp_path: Path
) -> None:
    good = sarif(tmp_path / "good.sarif", "bandit", [code_result("r", "a.py", 1, "a()")])
    summary(org, good, "--service", "ledger")
    audit_before = org.ok("audit", "list", "--format", "json").out
    # Valid for its first thousands of results, then cut off mid-document.
    results = [code_result("r", f"f{i}.py", 1, f"x{i}()") for i in range(3000)]
    text = sarif(tmp_path / "big.sarif", "bandit", results).read_text()
    truncated = tmp_path / "truncated.sarif"
    truncated.write_text(text[: len(text) - 500])
    failed = org("import", truncated, "--service", "ledger")
    assert failed.code == 2
    assert failed.err.startswith(f"error: {truncated}: truncated JSON")
    assert len(findings(org, "--status", "all")) == 1
    assert org.ok("audit", "list", "--format", "json").out == audit_before


def test_imports_are_audited(org: Cli) -> None:
    summary(
        org,
        fixture("reports", "sarif", "codeql.sarif"),
        "--service",
        "payments-api",
        "--commit",
        "abc123",
    )
    (entry, *_) = json.loads(org.ok("audit", "list", "--entity", "import", "--format", "json").out)
    assert entry["action"] == "import.completed"
    assert entry["after"]["service"] == "payments-api"
    assert entry["after"]["commit"] == "abc123"
    assert entry["after"]["created"] == 3
    org.ok("audit", "verify")


def test_unknown_service_is_a_one_line_error(org: Cli) -> None:
    result = org("import", fixture("reports", "sarif", "codeql.sarif"), "--service", "nope")
    assert result.code == 2
    assert result.err.strip().count("\n") == 0
    assert "service 'nope' is not in the inventory" in result.err


def test_oversized_and_control_characters_are_fitted_to_the_store(org: Cli, tmp_path: Path) -> None:
    """PostgreSQL refuses NUL in text and enforces column lengths: a hostile report must
    neither fail half-way nor smuggle them in."""
    long_name = "n" * 5000
    rule = vuln_rule("CVE-2024-0001", long_name, "2.0")
    result = vuln_result("CVE-2024-0001", long_name, "1.0")
    result["message"]["text"] = f"Package: {long_name}\nInstalled Version: 1.0\x00beta"
    report = sarif(tmp_path / "r.sarif", "Trivy\x00", [result], [rule])
    assert summary(org, report, "--service", "ledger")["created"] == 1
    (row,) = findings(org)
    assert len(str(row["component_name"])) == 1000
    assert str(row["component_name"]).endswith("…")
    assert row["component_version"] == "1.0beta"
    assert "\\u0000" not in json.dumps(row)


def test_an_sbom_without_vulnerabilities_closes_no_findings(org: Cli, tmp_path: Path) -> None:
    """Trivy writes both vulnerability reports and plain SBOMs: importing its SBOM must not
    close what its vulnerability scan found, and a scan that lists no components must not
    wipe the SBOM's inventory."""
    scan = sarif(
        tmp_path / "trivy.sarif",
        "Trivy",
        [vuln_result("CVE-2023-32681", "requests", "2.28.1")],
        [vuln_rule("CVE-2023-32681", "requests", "2.31.0")],
    )
    summary(org, scan, "--service", "payments-api")
    bom = tmp_path / "bom.json"
    bom.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.5",
                "metadata": {"tools": {"components": [{"name": "trivy", "version": "0.51.1"}]}},
                "components": [
                    {
                        "type": "library",
                        "name": "requests",
                        "version": "2.28.1",
                        "purl": "pkg:pypi/requests@2.28.1",
                        "bom-ref": "pkg:pypi/requests@2.28.1",
                    }
                ],
            }
        )
    )
    listed = json.loads(org.ok("import", bom, "--service", "payments-api", "--json").out)
    assert listed["closed"] == 0
    assert [r["status"] for r in findings(org)] == ["open"]
    again = summary(org, scan, "--service", "payments-api")
    assert again["unchanged"] == 1
    listed_components = json.loads(
        org.ok("components", "--service", "payments-api", "--format", "json").out
    )
    assert [(c["name"], c["version"], c["tool"]) for c in listed_components] == [
        ("requests", "2.28.1", "trivy")
    ]
