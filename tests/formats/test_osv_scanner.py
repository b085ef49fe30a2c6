"""OSV-Scanner JSON: one finding per alias group and package, as a user sees it after import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shieldwall.errors import InputError
from shieldwall.findings.vocabulary import Kind, Severity, Status
from shieldwall.ingest.records import RawComponent, RawFinding, Record, ToolRun
from tests.conftest import fixture, parse_file, shared_data


def findings(records: list[Record]) -> list[RawFinding]:
    return [r for r in records if isinstance(r, RawFinding)]


def components(records: list[Record]) -> list[RawComponent]:
    return [r for r in records if isinstance(r, RawComponent)]


def test_v2_groups_are_one_finding_each_with_the_richest_record() -> None:
    records = parse_file(fixture("reports", "osv-scanner", "v2-lockfiles.json"))
    assert records[0] == ToolRun("osv-scanner", None)
    assert [c.purl for c in components(records)] == [
        "pkg:npm/lodash@4.17.20",
        "pkg:npm/flot-axis@0.0.0",
        "pkg:pypi/requests@2.28.1",
        "pkg:pypi/django@3.2.4",
        "pkg:golang/golang.org/x/net@0.17.0",
    ]
    lodash, malware, requests, django, net = findings(records)

    assert lodash.title == "Command Injection in lodash"
    assert lodash.kind is Kind.DEPENDENCY
    assert (lodash.severity, lodash.tool_severity) == (Severity.HIGH, "7.2")  # max_severity
    assert lodash.cwe_ids == ["CWE-77", "CWE-94"]
    assert lodash.vulnerability_ids == ["CVE-2021-23337", "GHSA-35jh-r3h4-6jhm"]
    assert lodash.fixed_version == "4.17.21"
    assert lodash.path == "/home/runner/work/checkout/checkout/package-lock.json"

    # A known-malicious package has no rating but is no "medium".
    assert malware.severity is Severity.CRITICAL
    assert malware.cwe_ids == ["CWE-506"]
    assert malware.fixed_version is None

    # GHSA and PYSEC of one problem are one finding, told by the GHSA record.
    assert requests.rule_id == "GHSA-j8r2-6x86-q33q"
    assert requests.title == "Unintended leak of Proxy-Authorization header in requests"
    assert requests.vulnerability_ids == ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"]
    assert requests.fixed_version == "2.31.0"  # the GIT commit is no version
    assert requests.path == "/home/runner/work/checkout/checkout/api/requirements.txt"

    # No max_severity: GHSA's word. Three fixed lines: the one above 3.2.4.
    assert (django.severity, django.tool_severity) == (Severity.MEDIUM, "MODERATE")
    assert django.fixed_version == "3.2.24"

    assert net.status is Status.NOT_AFFECTED
    assert net.status_reason == "osv-scanner call analysis: the vulnerable code is not called"
    assert net.fixed_version == "0.23.0"
    assert net.vulnerability_ids[0] == "CVE-2023-45288"


def test_v1_groups_without_severity_use_the_cvss_vector() -> None:
    regex, smallvec = findings(
        parse_file(fixture("reports", "osv-scanner", "v1-groups-ids-only.json"))
    )
    assert regex.vulnerability_ids == ["CVE-2022-24713", "GHSA-m5pq-gvj9-9vr8", "RUSTSEC-2022-0013"]
    assert regex.severity is Severity.HIGH  # CVSS:3.1 .../A:H computes to 7.5
    assert regex.tool_severity == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
    assert regex.fixed_version == "1.5.5"
    # A record outside any group stands alone; unrated is not harmless.
    assert smallvec.rule_id == "RUSTSEC-2021-0003"
    assert (smallvec.severity, smallvec.tool_severity) == (Severity.MEDIUM, None)
    assert smallvec.fixed_version == "1.6.1"  # not 0.6.14, which is below 1.6.0


def test_an_empty_scan_still_closes_the_stream() -> None:
    assert parse_file(fixture("reports", "osv-scanner", "empty.json")) == [ToolRun("osv-scanner")]


def test_unsure_fixes_are_left_out(tmp_path: Path) -> None:
    affected = [
        {
            "package": {"ecosystem": "Debian:12", "name": "openssl"},
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}],
                }
            ],
        },
        {
            "package": {"ecosystem": "Debian:12", "name": "openssl"},
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [{"introduced": "0"}, {"fixed": "3.0.13-1~deb12u1"}],
                }
            ],
        },
    ]
    report = {
        "results": [
            {
                "source": {"path": "/var/lib/dpkg/status", "type": "os"},
                "packages": [
                    {
                        "package": {
                            "name": "openssl",
                            "version": "3.0.9-1",
                            "ecosystem": "Debian:12",
                        },
                        "vulnerabilities": [{"id": "DSA-5532-1", "affected": affected}],
                        "groups": [{"ids": ["DSA-5532-1"], "max_severity": "not a number"}],
                    }
                ],
            }
        ]
    }
    path = tmp_path / "osv.json"
    path.write_text(json.dumps(report))
    (finding,) = findings(parse_file(path))
    assert finding.kind is Kind.CONTAINER
    assert finding.fixed_version is None  # two Debian versions this parser cannot order
    assert finding.severity is Severity.MEDIUM


def test_a_top_level_that_is_not_a_report_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "osv.json"
    path.write_text(json.dumps({"results": {"a": 1}, "experimental_config": {}}))
    with pytest.raises(InputError, match="results list"):
        parse_file(path)


def test_real_osv_scanner_reports() -> None:
    folder = shared_data("scans", "osv_scanner")
    with pytest.raises(InputError, match="empty report"):  # osv-scanner always writes JSON
        parse_file(folder / "no_findings.json", "osv-scanner")

    many = parse_file(folder / "many_findings.json")
    assert len(findings(many)) == 37
    assert len(components(many)) == 11
    by_package = {
        (f.component.name, f.vulnerability_ids[0]): f for f in findings(many) if f.component
    }
    django = by_package[("django", "CVE-2021-35042")]
    assert (django.severity, django.fixed_version) == (Severity.CRITICAL, "3.2.5")
    assert "PYSEC-2021-109" in django.vulnerability_ids
    # A vulnerability found by commit in a git checkout is named by its repository.
    rengine = by_package[("https://github.com/yogeshojha/rengine", "CVE-2023-50094")]
    assert rengine.severity is Severity.HIGH  # computed from its CVSS 3.1 vector (8.8)

    (malicious,) = findings(parse_file(folder / "some_findings.json"))
    assert malicious.title == "Malicious code in flot-axis (npm)"
    assert malicious.severity is Severity.CRITICAL
    (cwes,) = findings(parse_file(folder / "multi_cwe_fabricated.json"))
    assert cwes.cwe_ids == ["CWE-79", "CWE-89"]
