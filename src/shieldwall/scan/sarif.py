"""SARIF 2.1.0 out of ``shieldwall scan``: one run per scanner, ``partialFingerprints`` on
every result (GitHub code scanning and Shieldwall's own import both dedupe on them), and no
raw secret anywhere: a secret result carries its rule, place, redacted preview and hashes.

Shieldwall's import reads these runs back with its SARIF parser: the secrets run by its tool
name, the dependencies run by the ``Package``/``PURL`` lines of each message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from shieldwall import __version__
from shieldwall.findings.vocabulary import Severity
from shieldwall.ingest.records import RawFinding
from shieldwall.scan.lockfiles import LockedPackage
from shieldwall.scan.secrets.engine import SecretMatch

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/shieldwall/shieldwall"
SECRETS_TOOL = "shieldwall-secrets"
DEPENDENCIES_TOOL = "shieldwall-deps"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
"""GitHub code scanning ranks security results by this property (CVSS-like)."""


def document(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": list(runs)}


def _driver(name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "version": __version__,
        "informationUri": INFORMATION_URI,
        "rules": rules,
    }


def _location(path: str, line: int | None, column: int | None = None) -> dict[str, Any]:
    region: dict[str, Any] = {}
    if line:
        region["startLine"] = line
        if column:
            region["startColumn"] = column
    physical: dict[str, Any] = {"artifactLocation": {"uri": path}}
    if region:
        physical["region"] = region
    return {"physicalLocation": physical}


def secrets_run(
    matches: Iterable[SecretMatch], *, baselined: int = 0, notes: Sequence[str] = ()
) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for match in matches:
        spec = match.rule.spec
        rules.setdefault(
            spec.id,
            {
                "id": spec.id,
                "name": spec.id,
                "shortDescription": {"text": spec.title},
                "helpUri": spec.references[0] if spec.references else INFORMATION_URI,
                "defaultConfiguration": {"level": _LEVEL[spec.severity]},
                "properties": {
                    "tags": ["security", "secret", "external/cwe/cwe-798"],
                    "security-severity": _SECURITY_SEVERITY[spec.severity],
                    "precision": {"high": "very-high", "medium": "high", "low": "medium"}[
                        spec.confidence.value
                    ],
                },
            },
        )
        where = f", added in commit {match.commit[:12]}" if match.commit else ""
        results.append(
            {
                "ruleId": spec.id,
                "level": _LEVEL[spec.severity],
                "message": {"text": f"{spec.title} ({match.preview}{where})"},
                "locations": [_location(match.path, match.line, match.column)],
                "partialFingerprints": {"secretHash/v1": match.digest},
                "properties": {
                    "confidence": match.confidence.value,
                    "preview": match.preview,
                    "secretSha1": match.sha1,
                    **({"commit": match.commit} if match.commit else {}),
                },
            }
        )
    run = {
        "tool": {"driver": _driver(SECRETS_TOOL, sorted(rules.values(), key=lambda r: r["id"]))},
        "results": results,
        "properties": {"baselined": baselined},
    }
    return _with_notes(run, notes)


def dependencies_run(
    findings: Iterable[tuple[RawFinding, LockedPackage]],
    packages: Sequence[LockedPackage],
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """The advisories matched to locked packages; the run's ``properties.components`` lists
    every package (purl), so an import also refreshes the service's components."""
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for finding, package in findings:
        rules.setdefault(
            finding.rule_id,
            {
                "id": finding.rule_id,
                "shortDescription": {"text": finding.title[:200]},
                "helpUri": finding.references[0] if finding.references else INFORMATION_URI,
                "properties": {
                    "tags": ["security", "vulnerability", "dependency"],
                    "security-severity": _SECURITY_SEVERITY[finding.severity],
                },
            },
        )
        lines = [
            f"{', '.join(finding.vulnerability_ids)} in {package.name} {package.version}",
            f"Aliases: {', '.join(finding.vulnerability_ids)}",
            f"Package: {package.name}",
            f"Installed Version: {package.version}",
            f"PURL: {package.purl}",
        ]
        if finding.fixed_version:
            lines.append(f"Fixed Version: {finding.fixed_version}")
        results.append(
            {
                "ruleId": finding.rule_id,
                "level": _LEVEL[finding.severity],
                "message": {"text": "\n".join(lines)},
                "locations": [_location(package.lockfile, package.line)],
                "partialFingerprints": {
                    "dependencyFingerprint/v1": f"{package.purl}|{finding.rule_id}"
                },
            }
        )
    run = {
        "tool": {
            "driver": _driver(DEPENDENCIES_TOOL, sorted(rules.values(), key=lambda r: r["id"]))
        },
        "results": results,
        "properties": {"components": sorted({p.purl for p in packages})},
    }
    return _with_notes(run, notes)


def _with_notes(run: dict[str, Any], notes: Sequence[str]) -> dict[str, Any]:
    """What the scanner wants the reader to know (a missing advisory store, a lockfile it
    could not read) as the invocation's notifications, where SARIF viewers show them."""
    run["invocations"] = [
        {
            "executionSuccessful": True,
            "toolExecutionNotifications": [
                {"level": "warning", "message": {"text": note}} for note in notes
            ],
        }
    ]
    return run
