"""VEX exports: OpenVEX and CycloneDX documents from not-affected and accepted decisions."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shieldwall.findings.vocabulary import Status
from shieldwall.ingest.records import RawComponent, RawFinding
from shieldwall.intel.vex import (
    OPENVEX_JUSTIFICATIONS,
    VexStatement,
    cyclonedx_vex_document,
    openvex_document,
)
from tests.conftest import parse_file, shared_data

DJANGO = "pkg:pypi/django@3.2.1"
NOW = datetime(2025, 9, 1, 12, 0, tzinfo=UTC)
SERIAL = "3e671687-395b-41f5-a30f-a58921a69b79"

NOT_AFFECTED = VexStatement(
    vulnerability_id="CVE-2023-36053",
    aliases=("GHSA-jh3w-4vvf-mjgr", "CVE-2023-36053", "PYSEC-2023-100", "GHSA-jh3w-4vvf-mjgr"),
    product_purl=DJANGO,
    component_name="django",
    component_version="3.2.1",
    status="not_affected",
    justification="vulnerable_code_not_in_execute_path",
    impact_statement="We never use EmailValidator or URLValidator.",
    action_statement=None,
    timestamp=datetime(2025, 8, 1, 9, 30, tzinfo=UTC),
)
ACCEPTED = VexStatement(
    vulnerability_id="CVE-2024-27351",
    aliases=("GHSA-vm8q-m57g-pff3",),
    product_purl=DJANGO,
    component_name="django",
    component_version="3.2.1",
    status="affected",
    justification=None,
    impact_statement=None,
    action_statement=(
        "Risk accepted until 2026-12-01 (exception EX-12): upgrade planned for Q4; "
        "compensating controls: WAF rule 9031"
    ),
    timestamp=datetime(2025, 8, 2, tzinfo=UTC),
)
WHOLE_PRODUCT = VexStatement(
    vulnerability_id="GO-2024-2687",
    aliases=(),
    product_purl=None,
    component_name=None,
    component_version=None,
    status="not_affected",
    justification=None,
    impact_statement="The shop ships no Go binaries.",
    action_statement=None,
    timestamp=NOW,
)
STATEMENTS = [NOT_AFFECTED, ACCEPTED, WHOLE_PRODUCT]
_ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def _openvex(statements: list[VexStatement] = STATEMENTS) -> dict[str, object]:
    return openvex_document(
        statements,
        author="Acme Security <security@acme.example>",
        product="acme-shop",
        document_id="https://acme.example/vex/acme-shop-2025-09-01",
        timestamp=NOW,
    )


def _cyclonedx(statements: list[VexStatement] = STATEMENTS) -> dict[str, object]:
    return cyclonedx_vex_document(statements, product="acme-shop", serial=SERIAL, timestamp=NOW)


def _nulls(value: object) -> list[object]:
    if isinstance(value, dict):
        return [key for key, item in value.items() if item is None] + [
            null for item in value.values() for null in _nulls(item)
        ]
    if isinstance(value, list):
        return [null for item in value for null in _nulls(item)]
    return []


# --- OpenVEX -----------------------------------------------------------------------------------


def test_openvex_document() -> None:
    document = _openvex()

    assert document["@context"] == "https://openvex.dev/ns/v0.2.0"
    assert document["@id"] == "https://acme.example/vex/acme-shop-2025-09-01"
    assert document["author"] == "Acme Security <security@acme.example>"
    assert document["timestamp"] == "2025-09-01T12:00:00Z"
    assert document["version"] == 1
    assert _nulls(document) == []
    not_affected, accepted, whole = document["statements"]
    assert not_affected == {
        "vulnerability": {
            "name": "CVE-2023-36053",
            "aliases": ["GHSA-jh3w-4vvf-mjgr", "PYSEC-2023-100"],
        },
        "products": [{"@id": DJANGO}],
        "status": "not_affected",
        "justification": "vulnerable_code_not_in_execute_path",
        "impact_statement": "We never use EmailValidator or URLValidator.",
        "timestamp": "2025-08-01T09:30:00Z",
    }
    assert accepted["status"] == "affected"
    assert accepted["action_statement"].startswith(
        "Risk accepted until 2026-12-01 (exception EX-12)"
    )
    assert "justification" not in accepted
    assert whole["products"] == [{"@id": "acme-shop"}]
    assert whole["vulnerability"] == {"name": "GO-2024-2687"}
    assert "justification" not in whole
    assert whole["impact_statement"] == "The shop ships no Go binaries."


@pytest.mark.shared_data
def test_openvex_has_the_shape_of_a_real_document() -> None:
    real = json.loads(
        shared_data("scans", "openvex", "openvex_many_vuln.json").read_text(encoding="utf-8")
    )
    ours = _openvex()

    assert set(real) - {"role"} <= set(ours)  # role is optional and free text
    real_keys = {key for statement in real["statements"] for key in statement}
    for statement in ours["statements"]:
        assert set(statement) <= real_keys
        assert isinstance(statement["vulnerability"], dict)
        assert {"@id"} == {key for product in statement["products"] for key in product}
    shared = set(real) & set(ours)
    assert {key: type(ours[key]) for key in shared} == {key: type(real[key]) for key in shared}


def test_openvex_is_valid_json_with_utc_times() -> None:
    document = json.loads(json.dumps(_openvex()))

    times = [document["timestamp"], *(s["timestamp"] for s in document["statements"])]
    assert all(_ISO_Z.match(time) for time in times)


# --- CycloneDX ---------------------------------------------------------------------------------


def test_cyclonedx_document() -> None:
    document = _cyclonedx()

    assert document["bomFormat"] == "CycloneDX"
    assert document["specVersion"] == "1.6"
    assert document["serialNumber"] == f"urn:uuid:{SERIAL}"
    assert document["version"] == 1
    assert _nulls(document) == []
    metadata = document["metadata"]
    assert metadata["timestamp"] == "2025-09-01T12:00:00Z"
    assert metadata["component"] == {
        "type": "application",
        "name": "acme-shop",
        "bom-ref": "product:acme-shop",
    }
    # Two statements about Django: one component.
    assert document["components"] == [
        {"bom-ref": DJANGO, "type": "library", "name": "django", "version": "3.2.1", "purl": DJANGO}
    ]
    not_affected, accepted, whole = document["vulnerabilities"]
    assert not_affected == {
        "id": "CVE-2023-36053",
        "source": {"name": "NVD", "url": "https://nvd.nist.gov/vuln/detail/CVE-2023-36053"},
        "references": [
            {
                "id": "GHSA-jh3w-4vvf-mjgr",
                "source": {
                    "name": "GitHub",
                    "url": "https://github.com/advisories/GHSA-jh3w-4vvf-mjgr",
                },
            },
            {
                "id": "PYSEC-2023-100",
                "source": {"name": "OSV", "url": "https://osv.dev/vulnerability/PYSEC-2023-100"},
            },
        ],
        "analysis": {
            "state": "not_affected",
            "justification": "code_not_reachable",
            "detail": "We never use EmailValidator or URLValidator.",
            "lastUpdated": "2025-08-01T09:30:00Z",
        },
        "affects": [{"ref": DJANGO}],
    }
    assert accepted["analysis"] == {
        "state": "exploitable",
        "response": ["will_not_fix"],
        "detail": ACCEPTED.action_statement,
        "lastUpdated": "2025-08-02T00:00:00Z",
    }
    assert whole["affects"] == [{"ref": "product:acme-shop"}]
    assert "justification" not in whole["analysis"]


def test_cyclonedx_refs_resolve_and_are_unique() -> None:
    other = replace(
        NOT_AFFECTED,
        product_purl=None,
        component_name="left-pad",
        component_version=None,
    )
    document = _cyclonedx([*STATEMENTS, other])

    refs = [c["bom-ref"] for c in document["components"]]
    refs.append(document["metadata"]["component"]["bom-ref"])
    assert len(refs) == len(set(refs)) == 3
    affected = [a["ref"] for v in document["vulnerabilities"] for a in v["affects"]]
    assert set(affected) == set(refs)
    left_pad = {"bom-ref": "component:left-pad", "type": "library", "name": "left-pad"}
    assert left_pad in document["components"]


def test_cyclonedx_component_named_from_its_purl() -> None:
    statement = replace(
        NOT_AFFECTED,
        product_purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        component_name=None,
        component_version=None,
    )

    (component,) = _cyclonedx([statement])["components"]

    assert (component["name"], component["version"]) == ("log4j-core", "2.14.1")


def test_cyclonedx_drops_a_purl_that_does_not_parse() -> None:
    statement = replace(NOT_AFFECTED, product_purl="django@3.2.1")

    (component,) = _cyclonedx([statement])["components"]

    assert "purl" not in component
    assert component["bom-ref"] == "component:django@3.2.1"


JUSTIFICATIONS = [
    ("component_not_present", "code_not_present"),
    ("vulnerable_code_not_present", "code_not_present"),
    ("vulnerable_code_not_in_execute_path", "code_not_reachable"),
    ("vulnerable_code_cannot_be_controlled_by_adversary", "requires_environment"),
    ("inline_mitigations_already_exist", "protected_by_mitigating_control"),
]


@pytest.mark.parametrize(("openvex", "cyclonedx"), JUSTIFICATIONS)
def test_justification_mapping(openvex: str, cyclonedx: str) -> None:
    statement = replace(NOT_AFFECTED, justification=openvex)

    (vulnerability,) = _cyclonedx([statement])["vulnerabilities"]
    (openvex_statement,) = _openvex([statement])["statements"]

    assert vulnerability["analysis"]["justification"] == cyclonedx
    assert openvex_statement["justification"] == openvex


def test_the_five_openvex_justifications_are_accepted() -> None:
    assert {openvex for openvex, _ in JUSTIFICATIONS} == OPENVEX_JUSTIFICATIONS


@pytest.mark.parametrize("serial", [SERIAL, f"urn:uuid:{SERIAL}", SERIAL.upper()])
def test_serial_number_forms(serial: str) -> None:
    document = cyclonedx_vex_document([], product="acme-shop", serial=serial, timestamp=NOW)

    assert document["serialNumber"] == f"urn:uuid:{SERIAL}"
    assert document["components"] == []
    assert document["vulnerabilities"] == []


def test_a_serial_that_is_not_a_uuid() -> None:
    with pytest.raises(ValueError):
        cyclonedx_vex_document([], product="acme-shop", serial="1", timestamp=NOW)


def test_cyclonedx_reads_back_through_the_importer(tmp_path: Path) -> None:
    """Our own CycloneDX importer (as a customer's Dependency-Track would) reads the export:
    not affected is not affected, an accepted risk is still a finding."""
    path = tmp_path / "vex.cdx.json"
    path.write_text(json.dumps(_cyclonedx()))

    findings = [r for r in parse_file(path) if isinstance(r, RawFinding)]

    by_id = {finding.vulnerability_ids[0]: finding for finding in findings}
    assert set(by_id) == {"CVE-2023-36053", "CVE-2024-27351", "GO-2024-2687"}
    not_affected = by_id["CVE-2023-36053"]
    assert not_affected.status is Status.NOT_AFFECTED
    assert not_affected.status_reason is not None
    assert "code_not_reachable" in not_affected.status_reason
    assert list(not_affected.vulnerability_ids) == [
        "CVE-2023-36053",
        "GHSA-jh3w-4vvf-mjgr",
        "PYSEC-2023-100",
    ]
    assert not_affected.component == RawComponent(
        name="django", version="3.2.1", purl=DJANGO, ecosystem="PyPI"
    )
    assert by_id["CVE-2024-27351"].status is None


# --- statements --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"justification": None, "impact_statement": None}, "needs a justification"),
        ({"justification": None, "impact_statement": ""}, "needs a justification"),
        ({"justification": "not_vulnerable"}, "not an OpenVEX justification"),
        ({"status": "fixed"}, "VEX status must be"),
        ({"status": "affected", "action_statement": None}, "needs an action statement"),
    ],
)
def test_statements_the_specifications_reject(changes: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        replace(NOT_AFFECTED, **changes)
