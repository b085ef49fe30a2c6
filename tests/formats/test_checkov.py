"""checkov JSON: misconfigurations, secrets and packages from every framework checkov runs."""

from __future__ import annotations

import json
from pathlib import Path

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


def checkov_fixture(name: str) -> Path:
    return fixture("reports", "checkov", name)


def test_failed_and_skipped_terraform_checks() -> None:
    records = parse_file(checkov_fixture("checkov-terraform.json"))
    assert records[0] == ToolRun("checkov", "3.2.255")
    logging, public_acl, replication = findings(checkov_fixture("checkov-terraform.json"))

    assert logging.kind is Kind.IAC
    assert logging.rule_id == "CKV_AWS_18"
    assert logging.title == "Ensure the S3 bucket has access logging enabled"
    # No Prisma Cloud key, no severity: medium, and nothing pretends checkov said so.
    assert (logging.severity, logging.tool_severity) == (Severity.MEDIUM, None)
    # The repository-relative path, without checkov's leading slash.
    assert (logging.path, logging.line, logging.end_line) == ("infra/s3.tf", 1, 3)
    assert logging.context == "aws_s3_bucket.logs"
    assert logging.snippet is None
    assert logging.references == [
        "https://docs.prismacloud.io/en/enterprise-edition/policy-reference/aws-policies/"
        "s3-policies/s3-13-enable-logging"
    ]

    assert (public_acl.severity, public_acl.tool_severity) == (Severity.HIGH, "HIGH")
    assert "The bucket ACL grants READ to AllUsers" in (public_acl.description or "")
    assert public_acl.status is None

    assert replication.rule_id == "CKV_AWS_144"
    assert replication.status is Status.FALSE_POSITIVE
    assert (
        replication.status_reason == "skipped in checkov: logs are rebuilt from the source region"
    )


def test_identity_is_the_resource_not_its_lines(tmp_path: Path) -> None:
    report = json.loads(checkov_fixture("checkov-terraform.json").read_text())
    for check in report["results"]["failed_checks"] + report["results"]["skipped_checks"]:
        check["file_line_range"] = [n + 20 for n in check["file_line_range"]]
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(report))
    assert [f.line for f in findings(moved)] == [21, 30, 21]
    assert fingerprints(moved) == fingerprints(checkov_fixture("checkov-terraform.json"))

    report["results"]["failed_checks"][0]["resource"] = "aws_s3_bucket.audit"
    renamed = tmp_path / "renamed.json"
    renamed.write_text(json.dumps(report))
    assert fingerprints(renamed)[0] != fingerprints(moved)[0]


def test_a_list_of_frameworks_is_one_checkov_run() -> None:
    records = parse_file(checkov_fixture("checkov-frameworks.json"))
    assert [r for r in records if isinstance(r, ToolRun)] == [ToolRun("checkov", "3.2.255")]
    deployment, _secret, package = findings(checkov_fixture("checkov-frameworks.json"))

    assert (deployment.kind, deployment.context) == (Kind.IAC, "Deployment.default.web")
    assert deployment.path == "k8s/web.yaml"

    assert package.kind is Kind.DEPENDENCY
    assert package.component == RawComponent(
        "requests", "2.28.1", "pkg:pypi/requests@2.28.1", "pypi"
    )
    assert package.vulnerability_ids == ["CVE-2023-32681"]
    assert package.fixed_version == "2.31.0"
    assert package.title == "CVE-2023-32681 - requests: 2.28.1"
    assert (package.path, package.line) == ("requirements.txt", None)  # checkov says line 0


def test_a_checkov_secret_is_known_by_its_sha1_and_meets_other_tools() -> None:
    secret = findings(checkov_fixture("checkov-frameworks.json"))[1]
    assert secret.kind is Kind.SECRET
    assert secret.title == "AWS Access Key"
    assert secret.secret is None  # checkov redacts it
    assert secret.secret_sha1 == "c92c772fe7d191222ded1b5768117301ce099c50"
    assert (secret.path, secret.line, secret.end_line) == ("config/settings.py", 3, 3)
    # The SHA-1 is hashed again before it is stored: it must not leak through the text.
    assert secret.secret_sha1 not in (secret.description or "")

    gitleaks = RawFinding(
        tool="gitleaks",
        kind=Kind.SECRET,
        rule_id="aws-access-token",
        title="AWS Access Key",
        severity=Severity.HIGH,
        path="config/settings.py",
        line=9,
        secret="AKIAZ7VRSQ5TEXAMPLE1",
    )
    assert IdentityAssigner().fingerprint(secret) == IdentityAssigner().fingerprint(gitleaks)


def test_a_summary_alone_is_a_clean_run() -> None:
    assert parse_file(checkov_fixture("checkov-summary-only.json")) == [
        ToolRun("checkov", "3.2.255")
    ]


def test_a_run_where_nothing_parsed_is_refused() -> None:
    with pytest.raises(InputError, match=r"could not parse 1 file\(s\) \(/ci/infra/main.tf\)"):
        parse_file(checkov_fixture("checkov-unparsable.json"))


def test_parse_errors_beside_real_checks_do_not_stop_the_import(tmp_path: Path) -> None:
    report = json.loads(checkov_fixture("checkov-terraform.json").read_text())
    report["results"]["parsing_errors"] = ["/ci/infra/broken.tf"]
    report["results"]["failed_checks"] = report["results"]["skipped_checks"] = []
    path = tmp_path / "passed-only.json"
    path.write_text(json.dumps(report))
    assert parse_file(path) == [ToolRun("checkov", "3.2.255")]  # one check passed


def test_detection() -> None:
    for path in sorted(fixture("reports", "checkov").glob("*.json")):
        source = ReportSource(path, max_size=2**20, max_depth=64)
        assert registry.resolve(source).name == "checkov", path.name


def test_hostile_values_degrade_to_missing(tmp_path: Path) -> None:
    path = tmp_path / "checkov.json"
    check = {
        "check_id": ["CKV_AWS_1"],
        "file_line_range": "1-3",
        "resource": {"name": "x"},
        "severity": 3,
        "check_result": "FAILED",
        "vulnerability_details": {"id": 5, "package_name": None},
    }
    path.write_text(
        json.dumps([{"check_type": "terraform", "results": {"failed_checks": [None, 5, check]}}])
    )
    records = parse_file(path)
    assert records[0] == ToolRun("checkov")
    (found,) = [r for r in records if isinstance(r, RawFinding)]
    assert (found.rule_id, found.kind, found.component) == ("unknown", Kind.IAC, None)
    assert (found.path, found.line, found.context, found.status) == (None, None, None, None)


def test_real_checkov_reports() -> None:
    folder = shared_data("scans", "checkov")
    for path in sorted(folder.glob("*.json")):
        records = parse_file(path)
        assert isinstance(records[0], ToolRun)
        assert records[0].tool == "checkov"
    assert parse_file(folder / "checkov-report-0-vuln.json") == [ToolRun("checkov", "1.0.467")]
    assert parse_file(folder / "checkov2-report-0-vuln.json") == [ToolRun("checkov", "2.1.269")]

    mixed = findings(folder / "checkov-report-multiple-check_type.json")
    assert len(mixed) == 13
    assert mixed[0].path == "infra/terraform/aws/db-app.tf"
    assert (mixed[0].rule_id, mixed[0].context) == ("CKV_AWS_161", "aws_db_instance.default")
    docker = [f for f in mixed if f.rule_id.startswith("CKV_DOCKER")]
    assert [(f.path, f.line) for f in docker] == [
        ("infra/terraform/aws/resources/Dockerfile", None)
    ] * 2

    rated = {f.rule_id: f.severity for f in findings(folder / "checkov-report-severity.json")}
    assert rated == {
        "CKV_GCP_29": Severity.MEDIUM,
        "CKV_GCP_62": Severity.MEDIUM,
        "CKV_GCP_78": Severity.LOW,
        "CKV_GCP_28": Severity.HIGH,
    }
