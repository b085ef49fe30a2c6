"""Trivy JSON: images, filesystems (IaC and secrets), the legacy list and Kubernetes reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shieldwall.errors import InputError
from shieldwall.findings.vocabulary import Kind, Severity, Status
from shieldwall.ingest.identity import IdentityAssigner
from shieldwall.ingest.records import RawComponent, RawFinding, ToolRun
from tests.conftest import fixture, parse_file, shared_data


def trivy(name: str) -> Path:
    return fixture("reports", "trivy", name)


def findings(path: Path, fmt: str = "auto") -> list[RawFinding]:
    return [r for r in parse_file(path, fmt) if isinstance(r, RawFinding)]


def test_image_report_os_packages_are_container_findings() -> None:
    records = parse_file(trivy("image.json"))
    assert records[0] == ToolRun("trivy", "0.58.1")
    openssl, zlib, krb5, unrated = (
        f for f in findings(trivy("image.json")) if f.kind is Kind.CONTAINER
    )

    assert openssl.rule_id == "CVE-2024-13176"
    assert openssl.title == "openssl: Timing side-channel in ECDSA signature computation"
    assert (openssl.severity, openssl.tool_severity) == (Severity.MEDIUM, "MEDIUM")
    assert openssl.vulnerability_ids == ["CVE-2024-13176", "DSA-5859-1"]
    assert openssl.cwe_ids == ["CWE-385"]
    assert openssl.path == "registry.example.com/payments-api:1.4.2 (debian 12.8)"
    assert openssl.component == RawComponent(
        "libssl3",
        "3.0.15-1~deb12u1",
        "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12.8",
        "debian",
    )
    assert openssl.fixed_version == "3.0.16-1~deb12u1"
    assert openssl.references[0] == "https://avd.aquasec.com/nvd/cve-2024-13176"

    # No purl in the report: one in Trivy's own shape, namespaced by the distribution.
    assert zlib.component is not None
    assert zlib.component.purl == "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1"
    assert zlib.severity is Severity.CRITICAL
    assert zlib.fixed_version is None
    assert "The vendor will not fix it" in (zlib.description or "")
    assert zlib.status is None  # "will not fix" is still a problem to handle

    assert krb5.status is Status.NOT_AFFECTED
    assert krb5.status_reason == (
        "not affected according to Debian Security Tracker (Trivy status not_affected)"
    )

    # Not yet rated by the distribution: the NVD score rates it, and both are kept.
    assert (unrated.severity, unrated.tool_severity) == (Severity.HIGH, "UNKNOWN, CVSS 8.1")
    assert unrated.title == "CVE-2025-21502 in libssl3 3.0.15-1~deb12u1"


def test_image_report_language_packages_and_suppressed_findings() -> None:
    django, ignored, vex = (f for f in findings(trivy("image.json")) if f.kind is Kind.DEPENDENCY)

    assert django.component is not None
    assert django.component.purl == "pkg:pypi/django@4.2.7"
    # The package's own file is more precise than the target "Python".
    assert django.path == "usr/local/lib/python3.12/site-packages/Django-4.2.7.dist-info/METADATA"
    # Trivy lists one fix per release line: the installed 4.2.7 needs 4.2.10.
    assert django.fixed_version == "4.2.10"
    assert django.status is None

    assert ignored.rule_id == "CVE-2024-27351"
    assert ignored.status is Status.FALSE_POSITIVE
    assert ignored.status_reason == (
        "ignored by .trivyignore.yaml: Only reachable from the admin, which is not deployed"
    )
    assert vex.status is Status.NOT_AFFECTED
    assert vex.status_reason == (
        "not_affected by vex/payments.openvex.json: vulnerable_code_not_in_execute_path"
    )


def test_listed_packages_become_components_with_their_licenses() -> None:
    components = [r for r in parse_file(trivy("image.json")) if isinstance(r, RawComponent)]
    assert components == [
        RawComponent(
            "libssl3",
            "3.0.15-1~deb12u1",
            "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12.8",
            "debian",
            ("Apache-2.0",),
        ),
        RawComponent(
            "zlib1g",
            "1:1.2.13.dfsg-1",
            "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1",
            "debian",
            ("Zlib",),
        ),
    ]


def test_misconfigurations_are_iac_findings_identified_by_their_resource() -> None:
    dockerfile, bucket, versioning, secret = findings(trivy("filesystem-config-secrets.json"))

    assert bucket.kind is Kind.IAC
    assert bucket.rule_id == "AVD-AWS-0088"
    assert bucket.title == "Unencrypted S3 bucket."
    assert (bucket.severity, bucket.tool_severity) == (Severity.HIGH, "HIGH")
    assert (bucket.path, bucket.line, bucket.end_line) == ("infra/storage.tf", 12, 18)
    assert bucket.context == "aws_s3_bucket.invoices"
    assert (bucket.description or "").startswith("Bucket does not have encryption enabled")
    assert "Resolution: Configure bucket encryption" in (bucket.description or "")

    # An exception policy is Trivy's triage; a passed check is no finding at all.
    assert versioning.rule_id == "AVD-AWS-0090"
    assert versioning.status is Status.FALSE_POSITIVE
    assert versioning.status_reason == "excepted by a Trivy exception policy"

    # No resource, no lines: the message says where the problem is.
    assert dockerfile.rule_id == "AVD-DS-0002"
    assert (dockerfile.path, dockerfile.line) == ("Dockerfile", None)
    assert dockerfile.context == (
        "Specify at least 1 USER command in Dockerfile with non-root user as argument"
    )

    assert secret.kind is Kind.SECRET


def test_a_moved_resource_keeps_its_identity(tmp_path: Path) -> None:
    original = findings(trivy("filesystem-config-secrets.json"))[1]
    document = json.loads(trivy("filesystem-config-secrets.json").read_text())
    cause = document["Results"][1]["Misconfigurations"][0]["CauseMetadata"]
    cause["StartLine"], cause["EndLine"] = 40, 46
    moved_path = tmp_path / "moved.json"
    moved_path.write_text(json.dumps(document))
    moved = findings(moved_path)[1]
    assert (moved.rule_id, moved.line) == ("AVD-AWS-0088", 40)
    assert IdentityAssigner().fingerprint(moved) == IdentityAssigner().fingerprint(original)


def test_secrets_keep_nothing_of_the_masked_match() -> None:
    secret = findings(trivy("filesystem-config-secrets.json"))[-1]
    assert secret.kind is Kind.SECRET
    assert (secret.rule_id, secret.title) == ("aws-access-key-id", "AWS Access Key ID")
    assert (secret.severity, secret.tool_severity) == (Severity.CRITICAL, "CRITICAL")
    assert (secret.path, secret.line, secret.end_line) == ("config/settings.py", 7, 7)
    # Trivy masks the secret: there is nothing to hash, so identity is rule, file and line.
    assert (secret.secret, secret.secret_sha1, secret.snippet) == (None, None, None)
    assert "****" not in (secret.description or "") + secret.title


def test_license_results_are_not_findings() -> None:
    assert all("GPL" not in f.title for f in findings(trivy("filesystem-config-secrets.json")))
    assert len(findings(trivy("filesystem-config-secrets.json"))) == 4


def test_legacy_list_report() -> None:
    records = parse_file(trivy("legacy.json"))
    assert records[0] == ToolRun("trivy", None)
    openssl, lodash = findings(trivy("legacy.json"))
    assert openssl.kind is Kind.CONTAINER  # no Class: the alpine type says it
    assert openssl.component is not None
    assert openssl.component.purl == "pkg:apk/alpine/openssl@1.1.1c-r0"
    assert openssl.path == "alpine:3.10 (alpine 3.10.2)"
    assert lodash.kind is Kind.DEPENDENCY
    assert lodash.component is not None
    assert lodash.component.purl == "pkg:npm/lodash@4.17.4"
    assert (lodash.path, lodash.fixed_version) == ("app/package-lock.json", "4.17.12")


def test_kubernetes_report_resources_keep_their_namespace() -> None:
    records = parse_file(trivy("kubernetes.json"))
    assert records[0] == ToolRun("trivy", None)
    libcrypto, payments, staging = findings(trivy("kubernetes.json"))

    assert libcrypto.kind is Kind.CONTAINER
    assert libcrypto.component is not None
    assert libcrypto.component.purl == "pkg:apk/alpine/libcrypto3@3.1.4-r5"
    assert libcrypto.path == "registry.example.com/payments-api:1.4.2 (alpine 3.19.1)"

    assert payments.kind is Kind.IAC
    assert (payments.rule_id, payments.path, payments.line) == (
        "AVD-KSV-0012",
        "Deployment/payments-api",
        131,
    )
    assert payments.context == "payments/Deployment/payments-api"
    # The same deployment name in another namespace is another problem.
    assert staging.context == "staging/Deployment/payments-api"
    assigner = IdentityAssigner()
    assert assigner.fingerprint(payments) != assigner.fingerprint(staging)


def test_older_kubernetes_summary_report() -> None:
    apt, privileges = findings(trivy("kubernetes-summary.json"))
    assert (apt.kind, apt.rule_id, apt.fixed_version) == (
        Kind.CONTAINER,
        "CVE-2020-27350",
        "1.8.2.2",
    )
    assert (privileges.kind, privileges.rule_id) == (Kind.IAC, "KSV001")
    assert privileges.context == "default/Deployment/redis"


def test_a_report_without_results_is_a_complete_empty_run(tmp_path: Path) -> None:
    path = tmp_path / "trivy.json"
    path.write_text(
        json.dumps(
            {"SchemaVersion": 2, "ArtifactName": "alpine:3.20", "ArtifactType": "container_image"}
        )
    )
    assert parse_file(path) == [ToolRun("trivy", None)]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"SchemaVersion": 3, "Results": []}, "schema version 3 is not supported"),
        ({"SchemaVersion": 2, "Results": {"Target": "x"}}, "`Results` is not a list"),
        ({"ClusterName": "c", "Resources": "none"}, "`Resources` is not a list"),
    ],
)
def test_unsupported_reports_are_refused(tmp_path: Path, document: object, problem: str) -> None:
    path = tmp_path / "trivy.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InputError, match=problem):
        parse_file(path, "trivy")


def test_hostile_shapes_degrade_to_missing(tmp_path: Path) -> None:
    path = tmp_path / "trivy.json"
    path.write_text(
        json.dumps(
            {
                "SchemaVersion": 2,
                "ArtifactName": "x",
                "Trivy": "0.1",
                "Results": [
                    None,
                    {"Target": 5, "Class": "os-pkgs", "Vulnerabilities": [None, {"PkgName": "a"}]},
                    {
                        "Target": "go.sum",
                        "Class": "lang-pkgs",
                        "Type": "gomod",
                        "Vulnerabilities": [
                            {
                                "VulnerabilityID": "GO-2024-2687",
                                "PkgName": "golang.org/x/net",
                                "InstalledVersion": "v0.17.0",
                                "CVSS": {"nvd": {"V3Score": "9.9"}},
                                "CweIDs": "CWE-400",
                                "References": [1, "javascript:alert(1)"],
                                "Severity": None,
                            }
                        ],
                        "Misconfigurations": [{"CauseMetadata": [], "Status": 1}],
                        "Secrets": [{"StartLine": "x"}],
                    },
                ],
            }
        )
    )
    records = parse_file(path)
    assert records[0] == ToolRun("trivy", None)
    net, secret = (r for r in records if isinstance(r, RawFinding))
    assert net.component is not None
    assert net.component.purl == "pkg:golang/golang.org/x/net@v0.17.0"
    assert (net.severity, net.tool_severity, net.cwe_ids) == (Severity.MEDIUM, None, ["CWE-400"])
    assert net.references == []
    assert (secret.kind, secret.rule_id, secret.line) == (Kind.SECRET, "unknown", None)


def test_real_trivy_reports() -> None:
    folder = shared_data("scans", "trivy")
    for path in sorted(folder.iterdir()):
        if path.name == "legacy_no_vuln.json":
            # Old Trivy wrote ``null`` for "no results": a clean scan when named.
            with pytest.raises(InputError, match="empty report"):
                parse_file(path)
            assert parse_file(path, "trivy") == [ToolRun("trivy")]
        else:
            run = parse_file(path)[0]
            assert isinstance(run, ToolRun)
            assert run.tool == "trivy"

    statuses = findings(folder / "all_statuses.json")
    assert len(statuses) == 8
    assert [f.rule_id for f in statuses if f.status is Status.NOT_AFFECTED] == ["CVE-2019-18276"]

    mixed = findings(folder / "misconfigurations_and_secrets.json")
    assert [f.kind for f in mixed] == [
        Kind.DEPENDENCY,
        Kind.DEPENDENCY,
        Kind.IAC,
        Kind.SECRET,
        Kind.SECRET,
    ]
    assert all("****" not in f.title + (f.description or "") for f in mixed)

    (tomcat, *_) = findings(folder / "cvssv4_severity_source.json")
    assert parse_file(folder / "cvssv4_severity_source.json")[0] == ToolRun("trivy", "0.69.1")
    assert tomcat.fixed_version == "9.0.112"  # from "11.0.14, 10.1.49, 9.0.112" for 9.0.109

    assert len(findings(folder / "legacy_many_vulns.json")) == 93
    # The entry with only a package name has nothing to act on.
    assert len(findings(folder / "legacy_trivy_mix.json")) == 6
    kubernetes = findings(folder / "kubernetes.json")
    assert len(kubernetes) == 20
    assert {f.context for f in kubernetes if f.kind is Kind.IAC} == {
        "default/Deployment/redis-follower",
        "default/Deployment/redis-leader",
    }
    assert len(findings(folder / "issue_10991.json")) == 37
    (iam,) = findings(folder / "issue_14136.json")
    assert (iam.path, iam.context) == ("aws-credentials/main.tf", "module.aws_credentials")
    assert findings(folder / "license_scheme.json") == []
