"""SPDX 2.2/2.3 JSON: the inventory a user sees after importing a syft or GitHub SBOM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shieldwall.errors import InputError
from shieldwall.ingest.records import RawComponent, ToolRun
from tests.conftest import fixture, parse_file, shared_data


def test_syft_packages_become_components_without_the_image_itself() -> None:
    records = parse_file(fixture("reports", "spdx", "syft-image-2.3.json"))
    assert records[0] == ToolRun("syft", "1.16.0", inventory_only=True)
    # The described image, a file and the second listing of requests are not components.
    assert records[1:] == [
        RawComponent(
            "busybox",
            "1.36.1-r15",
            "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&upstream=busybox&distro=alpine-3.19.1",
            "Alpine",
            ("GPL-2.0-only",),  # nothing concluded: the declared license
        ),
        RawComponent("requests", "2.28.1", "pkg:pypi/requests@2.28.1", "PyPI", ("Apache-2.0",)),
        RawComponent("ca-certificates-bundle", "20240226-r0", None, None, ("MPL-2.0 AND MIT",)),
    ]


def test_github_export_names_github_not_the_serialising_library() -> None:
    records = parse_file(fixture("reports", "spdx", "github-dependency-graph-2.3.json"))
    assert records[0] == ToolRun("github.com-dependency-graph", None, inventory_only=True)
    assert [r.purl for r in records[1:] if isinstance(r, RawComponent)] == [
        "pkg:npm/lodash@4.17.20",
        "pkg:githubactions/actions/checkout@4.%2A.%2A",
    ]


def test_a_document_describing_several_packages_keeps_them_all(tmp_path: Path) -> None:
    path = tmp_path / "sbom.spdx.json"
    packages = [
        {"SPDXID": f"SPDXRef-{name}", "name": name, "versionInfo": "1.0"} for name in ("a", "b")
    ]
    path.write_text(
        json.dumps(
            {
                "spdxVersion": "SPDX-2.2",
                "creationInfo": {"creators": ["Tool: trivy-0.45.1"]},
                "documentDescribes": ["SPDXRef-a", "SPDXRef-b"],
                "packages": packages,
            }
        )
    )
    records = parse_file(path)
    assert records[0] == ToolRun("trivy", "0.45.1", inventory_only=True)
    assert [r.name for r in records[1:] if isinstance(r, RawComponent)] == ["a", "b"]


def test_spdx_3_is_refused_with_what_to_do() -> None:
    with pytest.raises(InputError, match=r"SPDX 3\.0 is not supported; export SPDX 2\.3 JSON"):
        parse_file(fixture("reports", "spdx", "spdx-3.0.json"))


@pytest.mark.parametrize("version", ["SPDX-2.1", "SPDX-1.2"])
def test_other_versions_are_refused(tmp_path: Path, version: str) -> None:
    path = tmp_path / "sbom.json"
    path.write_text(json.dumps({"spdxVersion": version, "packages": []}))
    with pytest.raises(InputError, match=f"SPDX version '{version}' is not supported"):
        parse_file(path)


def test_hostile_packages_degrade_to_missing(tmp_path: Path) -> None:
    path = tmp_path / "sbom.json"
    path.write_text(
        json.dumps(
            {
                "spdxVersion": "SPDX-2.3",
                "creationInfo": {"creators": "Tool: x"},
                "relationships": "none",
                "packages": [
                    None,
                    {"name": {"a": 1}, "versionInfo": "1"},
                    {
                        "name": "ok",
                        "versionInfo": 2,
                        "externalRefs": [{"referenceType": "purl"}, 7],
                    },
                ],
            }
        )
    )
    assert parse_file(path) == [
        ToolRun("x", None, inventory_only=True),
        RawComponent("ok", "2", None, None),
    ]


def test_real_spdx_documents() -> None:
    folder = shared_data("scans", "spdx")
    with pytest.raises(InputError, match=r"SPDX 3\.0 is not supported"):
        parse_file(folder / "spdx_3_unsupported.json")
    # Tag-value is not JSON: refused with a one-line message, never an internal error.
    with pytest.raises(InputError, match="format not recognised"):
        parse_file(folder / "spdx_one_vuln.spdx")

    many = parse_file(folder / "spdx_many_vuln.json")
    assert many[0] == ToolRun("syft", "1.50.0", inventory_only=True)
    assert [(c.name, c.version, c.ecosystem) for c in many[1:] if isinstance(c, RawComponent)] == [
        ("alpine-baselayout", "3.1.2-r0", "Alpine"),
        ("alpine-keys", "2.1-r2", "Alpine"),
        ("apk-tools", "2.10.6-r0", "Alpine"),
        ("busybox", "1.30.1-r5", "Alpine"),
    ]
    for name in ("spdx_no_vuln.json", "spdx_one_vuln.json"):
        records = parse_file(folder / name)
        assert records[0] == ToolRun("syft", "1.50.0", inventory_only=True)
        assert len(records) == 4
