"""CycloneDX (JSON and XML): what users of Trivy, Grype, cdxgen and syft SBOMs see after import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shieldwall.errors import InputError
from shieldwall.findings.vocabulary import Kind, Severity, Status
from shieldwall.ingest.identity import IdentityAssigner
from shieldwall.ingest.records import RawComponent, RawFinding, Record, ToolRun
from tests.conftest import fixture, parse_file, shared_data


def findings(records: list[Record]) -> list[RawFinding]:
    return [r for r in records if isinstance(r, RawFinding)]


def components(records: list[Record]) -> list[RawComponent]:
    return [r for r in records if isinstance(r, RawComponent)]


def cdx(name: str) -> list[Record]:
    return parse_file(fixture("reports", "cyclonedx", name))


def _bom(tmp_path: Path, **document: object) -> Path:
    path = tmp_path / "bom.json"
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", **document}))
    return path


def test_trivy_image_bom_gives_packages_and_one_finding_per_affected_component() -> None:
    records = cdx("trivy-image-1.5.json")
    assert records[0] == ToolRun("trivy", "0.51.1")  # 1.5 tools: {"components": [...]}

    # The image itself (metadata.component) is not a dependency; a lockfile "application"
    # with no version or purl is no package; one purl listed twice is one component.
    assert [(c.name, c.version, c.ecosystem) for c in components(records)] == [
        ("alpine", "3.19.1", None),
        ("libcrypto3", "3.1.4-r5", "Alpine"),
        ("libssl3", "3.1.4-r5", "Alpine"),
        ("requests", "2.28.1", "PyPI"),
        ("ch.qos.logback:logback-core", "1.2.13", "Maven"),
    ]
    assert components(records)[3].licenses == ("Apache-2.0",)

    crypto, ssl, requests, logback = findings(records)
    assert (crypto.kind, ssl.kind, requests.kind) == (
        Kind.CONTAINER,
        Kind.CONTAINER,
        Kind.DEPENDENCY,
    )
    assert crypto.title == "CVE-2024-0727 in libcrypto3 3.1.4-r5"
    assert crypto.vulnerability_ids == ["CVE-2024-0727"]
    assert crypto.cwe_ids == ["CWE-476"]
    # NVD says medium, Red Hat low: the highest wins, with the tool's word kept.
    assert (crypto.severity, crypto.tool_severity) == (Severity.MEDIUM, "medium")
    # Trivy merges the components of one CVE and names only one in its recommendation.
    assert (crypto.fixed_version, ssl.fixed_version) == ("3.1.4-r6", None)
    assert ssl.component is not None
    assert ssl.component.name == "libssl3"
    assert requests.fixed_version == "2.31.0"
    assert requests.references[0] == "https://avd.aquasec.com/nvd/cve-2023-32681"
    # "1.5.13, 1.3.15" is not one fix; two refs to one purl are one finding.
    assert logback.fixed_version is None
    assert logback.title == "CVE-2024-12798 in ch.qos.logback:logback-core 1.2.13"
    assert logback.severity is Severity.LOW  # "unknown" from NVD does not outrank GHSA's low


def test_vex_analysis_inside_the_bom_is_the_producers_triage() -> None:
    records = cdx("cdxgen-vex-1.6.json")
    assert records[0] == ToolRun("cdxgen", "11.1.7")
    by_id = {f.rule_id: f for f in findings(records)}
    # "resolved" means fixed: CVE-2023-45133 is not reported at all.
    assert set(by_id) == {
        "GHSA-952p-6rrq-rcjv",
        "CVE-2024-21538",
        "GHSA-grv7-fg5c-xmjg",
        "CVE-2024-99999",
    }

    micromatch = by_id["GHSA-952p-6rrq-rcjv"]
    assert micromatch.status is Status.NOT_AFFECTED
    assert micromatch.status_reason == (
        "CycloneDX analysis: not_affected (code_not_reachable): "
        "micromatch is only used by the build tooling"
    )
    assert micromatch.vulnerability_ids == ["CVE-2024-4067", "GHSA-952p-6rrq-rcjv"]
    assert micromatch.fixed_version == "4.0.8"  # "Update to version 4.0.8."
    assert micromatch.title == "CVE-2024-4067 in micromatch 4.0.5"
    assert micromatch.description is not None
    assert "ReDoS" in micromatch.description

    cross_spawn = by_id["CVE-2024-21538"]
    assert cross_spawn.status is None  # "exploitable" stays open
    assert cross_spawn.fixed_version == "7.0.5"  # the one unaffected version
    assert (cross_spawn.severity, cross_spawn.tool_severity) == (Severity.CRITICAL, "9.2")

    # A BOM-Link (a standalone VEX pointing into this BOM) finds the nested component.
    braces = by_id["GHSA-grv7-fg5c-xmjg"]
    assert braces.status is Status.FALSE_POSITIVE
    assert braces.component is not None
    assert braces.component.purl == "pkg:npm/braces@3.0.2"

    unknown = by_id["CVE-2024-99999"]
    assert unknown.component is None
    assert unknown.context == "bom-ref component-7f3a"
    assert (unknown.severity, unknown.tool_severity, unknown.status) == (
        Severity.MEDIUM,
        "unknown",
        None,
    )

    # Vulnerabilities came before the components: the refs still resolve; nested
    # components count, the application's own sub-components do not.
    assert [c.purl for c in components(records)] == [
        "pkg:npm/micromatch@4.0.5",
        "pkg:npm/cross-spawn@7.0.3",
        "pkg:npm/%40babel/traverse@7.22.5",
        "pkg:npm/braces@3.0.2",
    ]
    assert components(records)[2].name == "@babel/traverse"


def test_grype_xml_reads_like_json() -> None:
    records = cdx("grype-1.5.xml")
    assert records[0] == ToolRun("grype", "0.80.1")
    assert [c.purl for c in components(records)] == [
        "pkg:golang/golang.org/x/net@v0.17.0",
        "pkg:golang/github.com/golang-jwt/jwt/v4@v4.5.0",
    ]
    assert components(records)[1].licenses == ("MIT",)
    net, jwt = findings(records)
    assert net.title == "CVE-2023-45288 in golang.org/x/net v0.17.0"
    assert net.vulnerability_ids == ["CVE-2023-45288", "GHSA-4v7x-pqxf-cx7m"]
    assert net.cwe_ids == ["CWE-400", "CWE-770"]
    assert (net.severity, net.tool_severity) == (Severity.HIGH, "high")
    assert net.kind is Kind.DEPENDENCY
    assert jwt.status is Status.NOT_AFFECTED
    assert jwt.status_reason is not None
    assert "requires_configuration" in jwt.status_reason
    assert jwt.fixed_version == "4.5.2"


def test_vulnerability_extension_nested_in_components_of_old_grype_xml() -> None:
    records = cdx("grype-ext-1.2.xml")
    assert records[0] == ToolRun("grype", "0.13.0")
    assert [(c.name, c.version) for c in components(records)] == [
        ("Django", "2.2.18"),
        ("apt", "1.8.2.3"),
        ("idna", "2.10"),
    ]
    django, apt = findings(records)
    assert django.component is not None
    assert django.component.name == "Django"
    assert django.title == "GHSA-xgxc-v2qg-chmh in Django 2.2.18"
    assert (django.severity, django.tool_severity) == (Severity.LOW, "Low")
    assert apt.references == [
        "https://security-tracker.debian.org/tracker/CVE-2011-3374",
        "http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2011-3374",
    ]


def test_an_sbom_without_vulnerabilities_is_an_inventory_that_closes_nothing() -> None:
    records = cdx("syft-sbom-1.5.json")
    assert records[0] == ToolRun("syft", "1.16.0", inventory_only=True)
    assert not findings(records)
    # The scanned directory and a file are not packages; the OS is.
    assert [(c.name, c.version) for c in components(records)] == [
        ("flask", "3.0.3"),
        ("werkzeug", "3.0.4"),
        ("debian", "12"),
    ]


def test_tool_defaults_to_cyclonedx_and_skips_the_serialising_library(tmp_path: Path) -> None:
    assert parse_file(_bom(tmp_path))[0] == ToolRun("cyclonedx", None, inventory_only=True)
    tools = [
        {"vendor": "CycloneDX", "name": "cyclonedx-python-lib", "version": "4.2.0"},
        {"vendor": "Sonatype", "name": "jake", "version": "3.0.1"},
    ]
    assert parse_file(_bom(tmp_path, metadata={"tools": tools}))[0].tool == "jake"


def test_one_vulnerability_per_affected_component_and_package_identity(tmp_path: Path) -> None:
    vulnerability = {
        "id": "CVE-2022-42003",
        "references": [{"id": "GHSA-jjjh-jjxp-wpff"}],
        "ratings": [{"score": 7.5, "method": "CVSSv31"}],
        "affects": [
            {"ref": "a"},
            {"ref": "b", "versions": [{"range": "vers:maven/>=2.12.7.1", "status": "unaffected"}]},
            {"ref": "a"},
        ],
    }
    path = _bom(
        tmp_path,
        vulnerabilities=[vulnerability],
        components=[
            {
                "bom-ref": "a",
                "name": "jackson-databind",
                "group": "com.fasterxml.jackson.core",
                "version": "2.13.3",
                "purl": "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.3",
            },
            {
                "bom-ref": "b",
                "name": "jackson-databind",
                "group": "com.fasterxml.jackson.core",
                "version": "2.12.1",
                "purl": "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.12.1",
            },
        ],
    )
    first, second = findings(parse_file(path))
    assert [f.component.version for f in (first, second) if f.component] == ["2.13.3", "2.12.1"]
    assert (first.severity, first.tool_severity) == (Severity.HIGH, "7.5")
    assert (first.fixed_version, second.fixed_version) == (None, "2.12.7.1")
    # Same package, same CVE: the version is not part of the identity.
    identity = IdentityAssigner()
    assert identity.fingerprint(first) == identity.fingerprint(second)


def test_hostile_shapes_degrade_to_missing(tmp_path: Path) -> None:
    path = _bom(
        tmp_path,
        metadata={"tools": "grype"},
        components=[
            None,
            3,
            {"name": ["x"]},
            {"name": "ok", "version": 1, "purl": "pkg:bad", "licenses": "MIT"},
        ],
        vulnerabilities=[
            "CVE-2020-1",
            {"id": 5, "ratings": "high", "cwes": [{"x": "CWE-79"}, "79"], "affects": {"ref": "x"}},
        ],
    )
    records = parse_file(path)
    assert records[0] == ToolRun("cyclonedx", None)
    assert components(records) == [RawComponent("ok", "1", None, None)]
    (finding,) = findings(records)
    assert finding.component is None
    assert finding.cwe_ids == ["CWE-79"]


@pytest.mark.parametrize("version", ["1.1", "2.0", None])
def test_unsupported_json_versions_are_refused(tmp_path: Path, version: str | None) -> None:
    path = tmp_path / "bom.json"
    path.write_text(
        json.dumps({"bomFormat": "CycloneDX", "specVersion": version, "components": []})
    )
    with pytest.raises(InputError, match=f"CycloneDX specVersion {version!r} is not supported"):
        parse_file(path)


def test_xml_with_a_dtd_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bom.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY x "boom">]>'
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components/></bom>'
    )
    with pytest.raises(InputError, match="forbidden constructs"):
        parse_file(path, "cyclonedx")


def test_other_xml_is_not_claimed(tmp_path: Path) -> None:
    path = tmp_path / "report.xml"
    path.write_text('<bom xmlns="http://example.com/bom"><components/></bom>')
    with pytest.raises(InputError, match="does not look like CycloneDX"):
        parse_file(path, "cyclonedx")


def test_real_cyclonedx_boms() -> None:
    folder = shared_data("scans", "cyclonedx")
    for path in sorted(folder.iterdir()):
        records = parse_file(path)
        assert isinstance(records[0], ToolRun), path.name
        assert all(isinstance(r, RawComponent | RawFinding) for r in records[1:]), path.name

    log4j = findings(parse_file(folder / "log4j.json"))
    assert len(log4j) == 8
    assert log4j[0].title == "CVE-2021-44228 in log4j-core 2.13.2"
    assert (log4j[0].severity, log4j[0].status) == (Severity.CRITICAL, None)  # in_triage: open
    # The same BOM in XML gives the same findings.
    assert [f.title for f in findings(parse_file(folder / "log4j.xml"))] == [f.title for f in log4j]

    nested = parse_file(folder / "nested-component-log4j.json")
    assert [c.name for c in components(nested)] == ["testcontainer:test", "log4j-core"]
    assert len(findings(nested)) == 8

    (snyk,) = findings(parse_file(folder / "valid-vulnerability-1.4.json"))
    assert snyk.vulnerability_ids == ["CVE-2018-7489", "SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111"]
    assert snyk.status is Status.NOT_AFFECTED
    assert snyk.fixed_version is None  # "2.6.7.5, 2.8.11.1, 2.9.5 or higher" is three fixes

    trivy = parse_file(folder / "issue_9277.json")
    assert trivy[0] == ToolRun("trivy", "0.48.1")
    assert len(findings(trivy)) == 14
    assert all(f.kind is Kind.CONTAINER for f in findings(trivy))

    grype = parse_file(folder / "dd_1_15_0.xml")
    assert grype[0] == ToolRun("grype", "0.11.0")
    assert len(findings(grype)) == 381

    (cwes,) = findings(parse_file(folder / "multiple_cwes_fabricated.xml"))
    assert cwes.cwe_ids == ["CWE-79", "CWE-89"]
    (no_word,) = findings(parse_file(folder / "no-severity.json"))
    assert (no_word.severity, no_word.tool_severity) == (Severity.CRITICAL, "10.0")
