"""Every real scanner output in ../shared/data/scans (DefectDojo's parser fixtures, 17 formats)
is imported as its own format or refused with one line naming the file; none crashes, and
importing one twice changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA, Cli, fixture, shared_data

# DefectDojo's folder names -> Shieldwall's formats (None: not supported, must be refused).
FOLDERS = {
    "anchore_grype": "grype",
    "bandit": "bandit",
    "checkov": "checkov",
    "cyclonedx": "cyclonedx",
    "detect_secrets": "detect-secrets",
    "gitleaks": "gitleaks",
    "npm_audit": "npm-audit",
    "npm_audit_7_plus": "npm-audit",
    "openvex": None,
    "osv_scanner": "osv-scanner",
    "pip_audit": "pip-audit",
    "sarif": "sarif",
    "semgrep": "semgrep",
    "spdx": "spdx",
    "trivy": "trivy",
    "trufflehog": "trufflehog",
    "trufflehog3": "trufflehog3",
}
SCANS = (
    sorted(p for p in (SHARED_DATA / "scans").rglob("*") if p.is_file())
    if SHARED_DATA.exists()
    else []
)


@pytest.fixture
def org(sqlite_cli: Cli) -> Cli:
    shared_data("scans")
    sqlite_cli.ok("inventory", "import", fixture("inventory", "org.yaml"))
    return sqlite_cli


def test_the_reference_data_is_all_there() -> None:
    folders = {p.name for p in shared_data("scans").iterdir() if p.is_dir()}
    assert folders == set(FOLDERS)
    assert len(SCANS) >= 159


@pytest.mark.shared_data
@pytest.mark.parametrize("report", SCANS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_report(org: Cli, report: Path) -> None:
    expected = FOLDERS[report.parent.name]
    first = org("import", report, "--service", "ledger", "--json")
    if first.code == 2 and "choose one with --format" in first.err and expected:
        first = org("import", report, "--service", "ledger", "--json", "--format", expected)
    assert first.code in (0, 2), first.err
    if first.code == 2:
        assert first.err.startswith(f"error: {report}: "), first.err
        assert first.err.count("\n") == 1, first.err
        return
    assert expected is not None, f"{report} was imported but no format should accept it"
    imports = json.loads(org.ok("audit", "list", "--entity", "import", "--format", "json").out)
    assert imports[0]["after"]["format"] == expected
    fmt = ["--format", expected]
    again = json.loads(org.ok("import", report, "--service", "ledger", "--json", *fmt).out)
    counts = json.loads(first.out)
    assert again == {
        **counts,
        "created": 0,
        "unchanged": counts["total"],
        "updated": 0,
        "closed": 0,
        "reopened": 0,
    }, report
