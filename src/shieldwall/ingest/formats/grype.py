"""Grype JSON (``grype -o json``): one finding per match of a vulnerability to a package.

``descriptor`` (tool and version) comes last, after the bulk of ``matches``, so the outline
leaves the matches out and they are streamed afterwards. ``ignoredMatches`` are the matches
Grype's ignore rules set aside: a VEX statement or a rule a person wrote is the tool's triage
and keeps the finding with that status; a rule that only filters on fix state
(``--only-fixed``) assesses nothing, so those matches stay open findings.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from shieldwall.findings.vocabulary import Status
from shieldwall.ingest import jsonstream
from shieldwall.ingest.normalize import (
    build_purl,
    first_positive_score,
    kind_for_package,
    lowest_fix,
    normalize_path,
    rated_severity,
    vulnerability_ids,
)
from shieldwall.ingest.parsing import (
    description,
    dig,
    iter_dicts,
    mapping,
    references,
    rule,
    strings,
    text,
    title,
)
from shieldwall.ingest.records import RawComponent, RawFinding, Record, ToolRun
from shieldwall.ingest.source import Head, ReportSource

_TOOL = "grype"
_SKIPPED = {
    "matches.item",
    "ignoredMatches.item",
    "source",  # the image's manifest and config, base64, can be large
    "descriptor.configuration",
    "descriptor.db",
}
_VEX_NOT_AFFECTED = frozenset({"not_affected", "fixed"})
_FIX_NOTES = {
    "not-fixed": "No fixed version is available yet.",
    "wont-fix": "The vendor will not fix it.",
}


class GrypeFormat:
    name = "grype"
    title = "Grype JSON"
    syntaxes = frozenset({"json"})

    def detect(self, head: Head) -> bool:
        if head.value("descriptor.name") == "grype":
            return True
        return head.has("matches.item.matchDetails") or head.has("matches.item.artifact")

    def parse(self, source: ReportSource) -> Iterator[Record]:
        document = jsonstream.outline(source, _SKIPPED)
        if not isinstance(mapping(document).get("matches"), list):
            # Importing it as "no vulnerabilities" would close every open finding.
            raise source.error("`matches` is missing or not a list: not a complete Grype report")
        yield ToolRun(_TOOL, text(dig(document, "descriptor", "version")))
        distribution = text(dig(document, "distro", "name"))
        for _, match in jsonstream.objects(source, "matches.item"):
            finding = _finding(match, distribution)
            if finding is not None:
                yield finding
        if "ignoredMatches" in document:
            for _, match in jsonstream.objects(source, "ignoredMatches.item"):
                finding = _finding(match, distribution)
                if finding is not None:
                    finding.status, finding.status_reason = _triage(match)
                    yield finding


def _finding(match: Mapping[str, Any], distribution: str | None) -> RawFinding | None:
    vuln = mapping(match.get("vulnerability"))
    artifact = mapping(match.get("artifact"))
    related = list(iter_dicts(match.get("relatedVulnerabilities")))
    vuln_id = text(vuln.get("id"))
    name = text(artifact.get("name"))
    ids = vulnerability_ids([vuln_id, *(entry.get("id") for entry in related)])
    if not ids or name is None:
        return None
    version = text(artifact.get("version"))
    package_type = text(artifact.get("type"))
    purl = text(artifact.get("purl")) or build_purl(
        package_type, name, version, distribution=distribution
    )
    severity, tool_severity = rated_severity(text(vuln.get("severity")), _cvss_score(vuln, related))
    fix = mapping(vuln.get("fix"))
    state = text(fix.get("state"))
    fixes = strings(fix.get("versions"))
    primary = vuln_id or ids[0]
    return RawFinding(
        tool=_TOOL,
        kind=kind_for_package(purl, package_type),
        rule_id=rule(primary),
        title=title(f"{primary} in {name} {version or ''}"),
        severity=severity,
        tool_severity=tool_severity,
        description=description(
            # Distribution feeds often have no text; the related NVD record does.
            text(vuln.get("description"))
            or next((d for entry in related if (d := text(entry.get("description")))), None),
            f"Fixed in: {', '.join(fixes)}" if state == "fixed" and fixes else None,
            _FIX_NOTES.get(state or ""),
        ),
        vulnerability_ids=ids,
        references=references(
            vuln.get("dataSource"),
            strings(vuln.get("urls")),
            strings(vuln.get("links")),  # Grype before 0.10
            *(strings(entry.get("urls")) for entry in related),
        ),
        path=normalize_path(dig(artifact, "locations", 0, "path")),
        component=RawComponent(
            name=name,
            version=version,
            purl=purl,
            ecosystem=package_type,
            licenses=tuple(strings(artifact.get("licenses"))),
        ),
        fixed_version=_fixed_version(match, fixes, version) if state == "fixed" else None,
    )


def _fixed_version(match: Mapping[str, Any], fixes: list[str], installed: str | None) -> str | None:
    """Grype's own pick for the installed version (``matchDetails[].fix.suggestedVersion`` in
    recent versions), else the lowest listed fix above the installed version."""
    for detail in iter_dicts(match.get("matchDetails")):
        suggested = text(dig(detail, "fix", "suggestedVersion"))
        if suggested:
            return suggested
    return lowest_fix(fixes, installed)


def _cvss_score(vuln: Mapping[str, Any], related: list[Mapping[str, Any]]) -> float | None:
    """The first base score of the match's own record, then of its related records."""
    return first_positive_score(
        score
        for record in (vuln, *related)
        for score in (
            *(dig(cvss, "metrics", "baseScore") for cvss in iter_dicts(record.get("cvss"))),
            dig(record, "cvssV3", "baseScore"),
            dig(record, "cvssV2", "baseScore"),
        )
    )


def _triage(match: object) -> tuple[Status | None, str | None]:
    rules = list(iter_dicts(mapping(match).get("appliedIgnoreRules")))
    for entry in rules:
        vex = text(entry.get("vex-status"))
        if vex in _VEX_NOT_AFFECTED:
            why = text(entry.get("vex-justification"))
            return Status.NOT_AFFECTED, f"VEX: {vex}" + (f" ({why})" if why else "")
    for entry in rules:
        if any(value for key, value in entry.items() if key != "fix-state"):
            why = text(entry.get("reason"))
            return Status.FALSE_POSITIVE, "ignored by a Grype rule" + (f": {why}" if why else "")
    return None, None


FORMAT = GrypeFormat()
