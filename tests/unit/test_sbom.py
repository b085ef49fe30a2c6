"""`shieldwall sbom`: the lockfiles' packages as a CycloneDX 1.6 document that CycloneDX
readers (our own importer among them) take in with the same components."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shieldwall.ingest.records import RawComponent, ToolRun
from shieldwall.scan.lockfiles import LockedPackage, parse_lockfile
from shieldwall.scan.sbom import cyclonedx_sbom
from tests.conftest import fixture, parse_file

# Two lockfiles per ecosystem that pin some packages alike (lodash, @babel/core, log4j-core).
LOCKFILES = [
    "npm/v3/package-lock.json",
    "yarn/v1/yarn.lock",
    "gradle/gradle.lockfile",
    "maven/pom.xml",
    "gomod/go.mod",
    "composer/composer.lock",
    "requirements/requirements.txt",
]


@pytest.fixture(scope="module")
def packages() -> list[LockedPackage]:
    found: list[LockedPackage] = []
    for relative in LOCKFILES:
        text = fixture("lockfiles", relative).read_text(encoding="utf-8")
        found += parse_lockfile(relative, text)
    return found


def sbom(packages: list[LockedPackage], version: str | None = None) -> dict[str, Any]:
    return cyclonedx_sbom(packages, name="shop", version=version, tool_version="0.1.0")


def component(document: dict[str, Any], purl: str) -> dict[str, Any]:
    (found,) = [c for c in document["components"] if c["purl"] == purl]
    return found


def test_the_sbom_reads_back_through_the_cyclonedx_importer_with_the_same_components(
    packages: list[LockedPackage], tmp_path: Path
) -> None:
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(sbom(packages)), encoding="utf-8")
    records = parse_file(path)

    assert records[0] == ToolRun("shieldwall", "0.1.0", inventory_only=True)
    imported = [r for r in records if isinstance(r, RawComponent)]
    expected = {(p.purl, p.ecosystem, p.name, p.version) for p in packages}
    assert {(c.purl, c.ecosystem, c.name, c.version) for c in imported} == expected
    assert len(imported) == len(expected)  # the application itself is not a component


def test_a_package_pinned_by_two_lockfiles_is_one_component_with_both_places(
    packages: list[LockedPackage],
) -> None:
    document = sbom(packages)
    purls = [c["purl"] for c in document["components"]]
    assert len(purls) == len(set(purls)) == len({p.purl for p in packages})
    refs = [c["bom-ref"] for c in document["components"]] + [
        document["metadata"]["component"]["bom-ref"]
    ]
    assert len(refs) == len(set(refs))

    log4j = component(document, "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
    assert log4j["evidence"]["occurrences"] == [
        {"location": "gradle/gradle.lockfile", "line": 12},
        {"location": "maven/pom.xml"},  # a POM gives no line
    ]
    lodash = component(document, "pkg:npm/lodash@4.17.20")
    assert lodash["evidence"]["occurrences"] == [
        {"location": "npm/v3/package-lock.json"},
        {"location": "yarn/v1/yarn.lock", "line": 29},
    ]


@pytest.mark.parametrize(
    ("purl", "group", "name"),
    [
        ("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "org.apache.logging.log4j",
         "log4j-core"),
        ("pkg:npm/%40babel/core@7.22.5", "@babel", "core"),
        ("pkg:npm/lodash@4.17.20", None, "lodash"),
        ("pkg:golang/github.com/gin-gonic/gin@v1.6.3", None, "github.com/gin-gonic/gin"),
        ("pkg:composer/symfony/console@v5.4.0", None, "symfony/console"),
        ("pkg:pypi/django@3.2.0", None, "Django"),
    ],
)  # fmt: skip
def test_components_carry_group_and_name_as_cyclonedx_tools_write_them(
    packages: list[LockedPackage], purl: str, group: str | None, name: str
) -> None:
    found = component(sbom(packages), purl)
    assert (found.get("group"), found["name"], found["type"]) == (group, name, "library")


@pytest.mark.parametrize(
    ("purl", "scope"),
    [
        ("pkg:maven/junit/junit@4.13.1", "excluded"),  # test-only in Gradle and in the POM
        ("pkg:npm/jest-get-type@29.4.3", "excluded"),  # npm: dev
        ("pkg:npm/lodash@4.17.20", "required"),  # production in npm, unknown in yarn 1
        ("pkg:npm/%40babel/core@7.22.5", "required"),
        ("pkg:golang/github.com/gin-gonic/gin@v1.6.3", None),  # go.mod does not say
    ],
)
def test_development_dependencies_are_excluded_from_the_runtime_scope(
    packages: list[LockedPackage], purl: str, scope: str | None
) -> None:
    assert component(sbom(packages), purl).get("scope") == scope


def test_the_document_is_cyclonedx_1_6_with_its_metadata(packages: list[LockedPackage]) -> None:
    document = sbom(packages, version="2.3.0")
    assert (document["bomFormat"], document["specVersion"], document["version"]) == (
        "CycloneDX",
        "1.6",
        1,
    )
    assert re.fullmatch(
        r"urn:uuid:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", document["serialNumber"]
    )
    metadata = document["metadata"]
    stamped = datetime.fromisoformat(metadata["timestamp"].replace("Z", "+00:00"))
    assert stamped.tzinfo == UTC
    assert abs((datetime.now(UTC) - stamped).total_seconds()) < 60
    assert metadata["tools"]["components"] == [
        {"type": "application", "name": "Shieldwall", "version": "0.1.0"}
    ]
    assert metadata["component"] == {
        "type": "application",
        "bom-ref": "application",
        "name": "shop",
        "version": "2.3.0",
    }
    assert "version" not in sbom(packages)["metadata"]["component"]


def test_components_are_in_purl_order_whatever_the_order_of_the_lockfiles(
    packages: list[LockedPackage],
) -> None:
    forward, backward = sbom(packages), sbom(packages[::-1])
    assert forward["components"] == backward["components"]
    purls = [c["purl"] for c in forward["components"]]
    assert purls == sorted(purls)
    assert forward["serialNumber"] != backward["serialNumber"]  # each SBOM is a new document


def test_no_packages_is_an_sbom_of_nothing() -> None:
    document = sbom([])
    assert document["components"] == []
    assert document["metadata"]["component"]["name"] == "shop"
