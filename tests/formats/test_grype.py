"""Grype JSON: what a team sees after importing ``grype -o json`` for an image."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shieldwall.errors import InputError
from shieldwall.findings.vocabulary import Kind, Severity, Status
from shieldwall.ingest.identity import IdentityAssigner
from shieldwall.ingest.records import RawComponent, RawFinding, ToolRun
from tests.conftest import fixture, parse_file, shared_data

IMAGE = fixture("reports", "grype", "image.json")


def findings(path: Path) -> list[RawFinding]:
    return [r for r in parse_file(path) if isinstance(r, RawFinding)]


def test_matches_become_package_findings_with_the_version_from_the_trailing_descriptor() -> None:
    records = parse_file(IMAGE)
    assert records[0] == ToolRun("grype", "0.86.1")
    openssl, django, *_ = findings(IMAGE)

    assert openssl.kind is Kind.CONTAINER
    assert openssl.rule_id == "CVE-2024-13176"
    assert openssl.title == "CVE-2024-13176 in libssl3 3.0.15-1~deb12u1"
    assert (openssl.severity, openssl.tool_severity) == (Severity.MEDIUM, "Medium")
    assert openssl.path == "/var/lib/dpkg/status.d/libssl3"
    assert openssl.component == RawComponent(
        "libssl3",
        "3.0.15-1~deb12u1",
        "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl",
        "deb",
        ("Apache-2.0",),
    )
    assert openssl.fixed_version == "3.0.16-1~deb12u1"  # Grype's suggested version
    # The distribution's record has no text; the related NVD record does.
    assert (openssl.description or "").startswith("Issue summary: A timing side-channel")
    assert openssl.references == [
        "https://security-tracker.debian.org/tracker/CVE-2024-13176",
        "https://openssl-library.org/news/secadv/20250120.txt",
    ]

    assert django.kind is Kind.DEPENDENCY
    assert django.rule_id == "GHSA-xxj9-f6rv-m3x4"
    # The related CVE is the canonical id, so pip-audit's and Trivy's reports of it meet.
    assert django.vulnerability_ids == ["CVE-2024-24680", "GHSA-xxj9-f6rv-m3x4"]
    assert django.severity is Severity.HIGH
    assert django.fixed_version == "4.2.10"  # of 3.2.24, 4.2.10, 5.0.2 for 4.2.7
    assert "Fixed in: 3.2.24, 4.2.10, 5.0.2" in (django.description or "")


def test_one_package_at_two_paths_is_one_finding() -> None:
    zlib = [f for f in findings(IMAGE) if f.rule_id == "CVE-2023-45853"]
    assert [f.path for f in zlib] == [
        "/var/lib/dpkg/status.d/zlib1g",
        "/opt/venv/lib/zlib/status",
    ]
    assigner = IdentityAssigner()
    assert assigner.fingerprint(zlib[0]) == assigner.fingerprint(zlib[1])
    first = zlib[0]
    # Grype wrote no purl: one in its own shape, namespaced by the image's distribution.
    assert first.component is not None
    assert first.component.purl == "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1"
    assert (first.severity, first.tool_severity) == (Severity.INFO, "Negligible")
    assert first.fixed_version is None
    assert "The vendor will not fix it." in (first.description or "")


def test_an_unrated_vulnerability_is_rated_by_its_cvss_score() -> None:
    jdk = next(f for f in findings(IMAGE) if f.rule_id == "CVE-2025-21502")
    assert (jdk.severity, jdk.tool_severity) == (Severity.HIGH, "Unknown, CVSS 8.1")
    assert jdk.kind is Kind.DEPENDENCY  # a binary is not an OS package


def test_ignored_matches_keep_the_tools_triage() -> None:
    krb5, curves, tar = findings(IMAGE)[-3:]

    assert krb5.status is Status.NOT_AFFECTED
    assert krb5.status_reason == "VEX: not_affected (vulnerable_code_not_present)"
    assert curves.status is Status.FALSE_POSITIVE
    assert curves.status_reason == (
        "ignored by a Grype rule: GF(2^m) curves are never used by the service"
    )
    # --only-fixed hides what has no fix; that is a filter, not an assessment.
    assert (tar.rule_id, tar.status, tar.status_reason) == ("CVE-2005-2541", None, None)


def test_a_scan_without_matches_is_a_complete_empty_run() -> None:
    path = fixture("reports", "grype", "no-matches.json")
    assert parse_file(path) == [ToolRun("grype", "0.86.1")]


def test_a_report_without_matches_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "grype.json"
    path.write_text(json.dumps({"descriptor": {"name": "grype", "version": "0.86.1"}}))
    with pytest.raises(InputError, match="`matches` is missing or not a list"):
        parse_file(path, "grype")


def test_hostile_shapes_degrade_to_missing(tmp_path: Path) -> None:
    path = tmp_path / "grype.json"
    match = {
        "vulnerability": {
            "id": "CVE-2024-0001",
            "severity": 3,
            "fix": {"state": "fixed", "versions": "1.2"},
        },
        "relatedVulnerabilities": "CVE-2024-0002",
        "matchDetails": {"matcher": "x"},
        "artifact": {
            "name": "pkg",
            "version": None,
            "type": 7,
            "locations": [None],
            "licenses": [{"value": "MIT"}],
            "purl": "not a purl",
        },
    }
    path.write_text(json.dumps({"matches": [match, None, {"artifact": {}}], "descriptor": 5}))
    (found,) = findings(path)
    assert found.vulnerability_ids == ["CVE-2024-0001"]
    assert (found.severity, found.fixed_version, found.path) == (Severity.LOW, "1.2", None)
    assert found.component == RawComponent("pkg", None, "not a purl", "7", ())


def test_real_grype_reports() -> None:
    folder = shared_data("scans", "anchore_grype")
    for path in sorted(folder.iterdir()):
        run = parse_file(path)[0]
        assert isinstance(run, ToolRun)
        assert run.tool == "grype"

    assert parse_file(folder / "check_all_fields.json")[0] == ToolRun("grype", "0.28.0")
    assert len(findings(folder / "many_vulns3.json")) == 327  # Grype 0.7: links, cvssV2
    old = findings(folder / "many_vulns3.json")[0]
    assert (old.rule_id, old.severity) == ("CVE-2019-18276", Severity.INFO)
    assert old.references == ["https://security-tracker.debian.org/tracker/CVE-2019-18276"]

    first, second = findings(folder / "same_cve_different_paths.json")
    assert first.path != second.path
    assigner = IdentityAssigner()
    assert assigner.fingerprint(first) == assigner.fingerprint(second)

    (net,) = findings(folder / "anchore_grype_epss_problem.json")  # no descriptor at all
    assert net.vulnerability_ids == ["CVE-2023-39325", "GHSA-4374-p667-p6c8"]
    assert (net.fixed_version, net.kind) == ("0.17.0", Kind.DEPENDENCY)

    assert len(findings(folder / "issue_9618.json")) == 35  # keys sorted: descriptor first
    assert findings(folder / "fix_not_available.json")[0].fixed_version is None
    assert findings(folder / "no_vuln.json") == []
