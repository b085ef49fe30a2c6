"""VEX documents from Shieldwall's decisions: what a person assessed as not affecting the
product, and what an approved exception accepts for a time.

Published with a release, they let customers and their scanners (Trivy, Grype,
Dependency-Track) stop reporting what has already been decided. OpenVEX v0.2.0 and CycloneDX
1.6 say the same things in different words; both are built from the same statements. Pure:
the documents are plain dicts for the caller to serialise.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shieldwall import __version__
from shieldwall.clock import isoformat
from shieldwall.ingest.normalize import parse_purl

OPENVEX_CONTEXT = "https://openvex.dev/ns/v0.2.0"
CYCLONEDX_SPEC_VERSION = "1.6"
NOT_AFFECTED = "not_affected"
AFFECTED = "affected"

# OpenVEX justification -> CycloneDX's nearest. CycloneDX has no word for "the component is not
# in the product": the vulnerable code is then not present either. Code an adversary cannot
# control is only exploitable in an environment the product does not provide. Inline
# mitigations are CycloneDX's mitigating control.
_CYCLONEDX_JUSTIFICATIONS = {
    "component_not_present": "code_not_present",
    "vulnerable_code_not_present": "code_not_present",
    "vulnerable_code_not_in_execute_path": "code_not_reachable",
    "vulnerable_code_cannot_be_controlled_by_adversary": "requires_environment",
    "inline_mitigations_already_exist": "protected_by_mitigating_control",
}
OPENVEX_JUSTIFICATIONS = frozenset(_CYCLONEDX_JUSTIFICATIONS)


@dataclass(frozen=True, slots=True)
class VexStatement:
    """One decision about one vulnerability in one component (or the whole product).

    Checked on creation against what both specifications require, so that no export is a
    document its consumers would reject.
    """

    vulnerability_id: str
    aliases: tuple[str, ...]
    product_purl: str | None
    component_name: str | None
    component_version: str | None
    status: str
    """``not_affected``, or ``affected`` for a risk accepted by an exception."""
    justification: str | None
    """OpenVEX's word for why it is not affected."""
    impact_statement: str | None
    action_statement: str | None
    timestamp: datetime

    def __post_init__(self) -> None:
        if self.status not in (NOT_AFFECTED, AFFECTED):
            raise ValueError(f"VEX status must be {NOT_AFFECTED} or {AFFECTED}: {self.status!r}")
        if self.justification is not None and self.justification not in OPENVEX_JUSTIFICATIONS:
            raise ValueError(f"not an OpenVEX justification: {self.justification!r}")
        if self.status == NOT_AFFECTED and not (self.justification or self.impact_statement):
            raise ValueError("not_affected needs a justification or an impact statement")
        if self.status == AFFECTED and not self.action_statement:
            raise ValueError("affected needs an action statement")


def openvex_document(
    statements: Sequence[VexStatement],
    *,
    author: str,
    product: str,
    document_id: str,
    timestamp: datetime,
) -> dict[str, object]:
    """An OpenVEX v0.2.0 document. A statement names its component by purl; one about no
    known package names ``product``."""
    return {
        "@context": OPENVEX_CONTEXT,
        "@id": document_id,
        "author": author,
        "timestamp": isoformat(timestamp),
        "version": 1,
        "tooling": f"Shieldwall {__version__}",
        "statements": [_openvex_statement(statement, product) for statement in statements],
    }


def _openvex_statement(statement: VexStatement, product: str) -> dict[str, object]:
    vulnerability: dict[str, object] = {"name": statement.vulnerability_id}
    if aliases := _aliases(statement):
        vulnerability["aliases"] = aliases
    return _present(
        {
            "vulnerability": vulnerability,
            "products": [{"@id": statement.product_purl or product}],
            "status": statement.status,
            "justification": statement.justification,
            "impact_statement": statement.impact_statement,
            "action_statement": statement.action_statement,
            "timestamp": isoformat(statement.timestamp),
        }
    )


def cyclonedx_vex_document(
    statements: Sequence[VexStatement], *, product: str, serial: str, timestamp: datetime
) -> dict[str, object]:
    """A CycloneDX 1.6 VEX BOM: the components the statements name (once each) and one
    vulnerability per statement, affecting its component or else the product itself.

    ``serial`` is a UUID, with or without its ``urn:uuid:`` prefix.
    """
    product_ref = f"product:{product}"
    components: dict[str, dict[str, object]] = {}
    vulnerabilities: list[dict[str, object]] = []
    for statement in statements:
        component = _cyclonedx_component(statement)
        ref = product_ref
        if component is not None:
            ref = str(component["bom-ref"])
            components.setdefault(ref, component)
        vulnerabilities.append(_cyclonedx_vulnerability(statement, ref))
    return {
        "bomFormat": "CycloneDX",
        "specVersion": CYCLONEDX_SPEC_VERSION,
        "serialNumber": uuid.UUID(serial.removeprefix("urn:uuid:")).urn,
        "version": 1,
        "metadata": {
            "timestamp": isoformat(timestamp),
            "tools": {
                "components": [
                    {"type": "application", "name": "Shieldwall", "version": __version__}
                ]
            },
            "component": {"type": "application", "name": product, "bom-ref": product_ref},
        },
        "components": list(components.values()),
        "vulnerabilities": vulnerabilities,
    }


def _cyclonedx_component(statement: VexStatement) -> dict[str, object] | None:
    """The statement's component; its bom-ref is the purl (as Trivy and Grype write it), so
    statements about one package share one component. A purl that does not parse is left out:
    consumers match on it."""
    purl = parse_purl(statement.product_purl)
    name = statement.component_name or (purl.name if purl else None)
    if name is None:
        return None
    version = statement.component_version or (purl.version if purl else None)
    ref = statement.product_purl if purl else "@".join(filter(None, (f"component:{name}", version)))
    return _present(
        {
            "bom-ref": ref,
            "type": "library",
            "name": name,
            "version": version,
            "purl": statement.product_purl if purl else None,
        }
    )


def _cyclonedx_vulnerability(statement: VexStatement, ref: str) -> dict[str, object]:
    accepted = statement.status == AFFECTED
    detail = "\n".join(filter(None, (statement.impact_statement, statement.action_statement)))
    analysis = _present(
        {
            "state": "exploitable" if accepted else "not_affected",
            "justification": _CYCLONEDX_JUSTIFICATIONS.get(statement.justification or ""),
            "response": ["will_not_fix"] if accepted else None,
            "detail": detail or None,
            "lastUpdated": isoformat(statement.timestamp),
        }
    )
    vulnerability: dict[str, object] = {
        "id": statement.vulnerability_id,
        "source": _source(statement.vulnerability_id),
    }
    if aliases := _aliases(statement):
        vulnerability["references"] = [{"id": alias, "source": _source(alias)} for alias in aliases]
    vulnerability["analysis"] = analysis
    vulnerability["affects"] = [{"ref": ref}]
    return vulnerability


def _source(vulnerability_id: str) -> dict[str, str]:
    """Where an id is published. Dependency-Track matches a VEX to its vulnerabilities by
    source and id; OSV.dev indexes the other open databases' ids (PYSEC, GO, RUSTSEC...)."""
    if vulnerability_id.startswith("CVE-"):
        return {"name": "NVD", "url": f"https://nvd.nist.gov/vuln/detail/{vulnerability_id}"}
    if vulnerability_id.startswith("GHSA-"):
        return {"name": "GitHub", "url": f"https://github.com/advisories/{vulnerability_id}"}
    return {"name": "OSV", "url": f"https://osv.dev/vulnerability/{vulnerability_id}"}


def _aliases(statement: VexStatement) -> list[str]:
    return [
        alias
        for alias in dict.fromkeys(statement.aliases)
        if alias and alias != statement.vulnerability_id
    ]


def _present(fields: dict[str, object]) -> dict[str, object]:
    """Optional fields are left out rather than written as null: both schemas reject null."""
    return {key: value for key, value in fields.items() if value is not None}
