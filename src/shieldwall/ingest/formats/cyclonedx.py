"""CycloneDX SBOMs (JSON 1.2 to 1.7, XML 1.0 to 1.7) with their vulnerabilities and VEX.

Trivy, Grype, cdxgen, Snyk, jake, Dependency-Track and most SBOM tools write CycloneDX. The
components are the inventory (``metadata.component`` is the application itself, not one of
its dependencies); each vulnerability becomes one finding per component it affects, and an
``analysis`` inside the BOM is the producer's own triage (VEX).

Components can number a million, possibly repeated, and vulnerabilities may come before
the components they point at: the file is read in passes (metadata, components,
vulnerabilities) keeping only a small bom-ref -> package map between them. XML is turned
into the same JSON-shaped items by ``cyclonedx_xml`` so that both syntaxes share this code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from shieldwall.findings.vocabulary import Kind, Severity, Status
from shieldwall.ingest import jsonstream
from shieldwall.ingest.formats import cyclonedx_xml
from shieldwall.ingest.normalize import (
    component_from_purl,
    cvss_score,
    cwe_ids,
    kind_for_package,
    package_component,
    severity_from_score,
    severity_from_text,
    tool_name,
    vulnerability_ids,
)
from shieldwall.ingest.parsing import (
    description,
    dig,
    iter_dicts,
    mapping,
    references,
    rule,
    sequence,
    text,
    title,
)
from shieldwall.ingest.records import RawComponent, RawFinding, Record, ToolRun
from shieldwall.ingest.source import Head, ReportSource

JSON_VERSIONS = frozenset({"1.2", "1.3", "1.4", "1.5", "1.6", "1.7"})
"""JSON exists since 1.2; minor versions only add optional fields."""

_BULK = (
    "components",
    "vulnerabilities",
    "dependencies",
    "services",
    "compositions",
    "annotations",
    "formulation",
)
_LIBRARY = re.compile(r"^cyclonedx.*\b(?:lib|library|core)\b", re.IGNORECASE)
"""The library that serialised the BOM (cyclonedx-python-lib...) is not the scanner."""
_RESOLVED = frozenset({"resolved", "resolved_with_pedigree"})
_VEX_STATUS = {"not_affected": Status.NOT_AFFECTED, "false_positive": Status.FALSE_POSITIVE}
_UPGRADE = re.compile(
    r"\b(?:upgrade|update|bump)\b\s*(?P<package>\S*).*?\bto\b(?:\s+version)?\s+(?P<rest>.+)",
    re.IGNORECASE | re.DOTALL,
)
_VERSION = re.compile(r"(?<![\w.])v?(\d(?:[\w.+~:-]*\w)?)")
_UUID = re.compile(r"^[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$", re.IGNORECASE)
"""OSS Index names its advisories by UUID: an internal key, not an alias other tools share."""
_AT_LEAST = re.compile(r"^vers:[a-z0-9.+-]+/>=\s*([^|<>=!\s]+)$", re.IGNORECASE)


class CycloneDxFormat:
    name = "cyclonedx"
    title = "CycloneDX SBOM with vulnerabilities and VEX (JSON 1.2-1.7, XML 1.0-1.7)"
    syntaxes = frozenset({"json", "xml"})

    def detect(self, head: Head) -> bool:
        if head.syntax == "xml":
            return cyclonedx_xml.spec_version(head.xml_root) is not None
        return bool(head.value("bomFormat") == "CycloneDX")

    def parse(self, source: ReportSource) -> Iterator[Record]:
        if source.head().syntax == "xml":
            document = cyclonedx_xml.metadata(source)
            scanned = cyclonedx_xml.has_vulnerabilities(source)
            components = cyclonedx_xml.components(source)
            vulnerabilities = cyclonedx_xml.vulnerabilities(source)
        else:
            document = _json_document(source)
            scanned = jsonstream.skipped(source, "vulnerabilities")
            components = _json_components(source)
            vulnerabilities = (v for _, v in jsonstream.items(source, "vulnerabilities.item"))
        bom = _Bom(dig(document, "metadata", "tools"))
        # A BOM without a vulnerabilities section is an inventory: importing it must not close
        # the findings of its tool's vulnerability scans (Trivy writes both).
        yield ToolRun(bom.tool, bom.version, inventory_only=not scanned)
        for entry, nested in components:
            component, new = bom.add(entry)
            if new and component is not None:
                yield component
            for vulnerability in nested:
                yield from bom.findings(vulnerability, component)
        for vulnerability in vulnerabilities:
            if isinstance(vulnerability, Mapping):
                yield from bom.findings(vulnerability)


def _json_document(source: ReportSource) -> Mapping[str, Any]:
    document = jsonstream.outline(source, _BULK)
    if not isinstance(document, Mapping):
        raise source.error("a CycloneDX BOM must be a JSON object")
    version = document.get("specVersion")
    if not isinstance(version, str) or version not in JSON_VERSIONS:
        shown = repr(version)[:40]
        raise source.error(f"CycloneDX specVersion {shown} is not supported (JSON 1.2 to 1.7)")
    return document


def _json_components(
    source: ReportSource,
) -> Iterator[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]]:
    """Every component, nested ones included (an image's packages sit inside the image)."""
    for _, entry in jsonstream.items(source, "components.item"):
        stack = [entry]
        while stack:
            item = stack.pop()
            if isinstance(item, Mapping):
                yield item, ()
                stack.extend(reversed(sequence(item.get("components"))))


class _Bom:
    """What a CycloneDX document has told so far: its tool, and its components by bom-ref."""

    def __init__(self, tools: object) -> None:
        self.tool, self.version = _tool(tools)
        self._by_ref: dict[str, RawComponent] = {}
        self._seen: set[str] = set()

    def add(self, entry: Mapping[str, Any]) -> tuple[RawComponent | None, bool]:
        """The entry as a component, and whether it is the first time the BOM lists it."""
        purl = text(entry.get("purl"))
        maven = purl is not None and purl.lower().startswith("pkg:maven/")
        name = _qualified_name(
            text(entry.get("name")), text(entry.get("group")), "maven" if maven else None
        )
        component = _component(
            name, text(entry.get("version")), purl, licenses=_licenses(entry.get("licenses"))
        )
        if component is None:
            return None, False
        ref = text(entry.get("bom-ref"))
        if ref is not None:
            # Trivy and Grype use the purl as bom-ref: share the string, it can be a million.
            self._by_ref.setdefault(component.purl if ref == component.purl else ref, component)
        if component.purl is None and component.version is None:
            return component, False  # a file or a lockfile (Trivy's "application"), no package
        key = component.purl or f"{component.ecosystem or ''}:{component.name}@{component.version}"
        if key in self._seen:
            return component, False
        self._seen.add(key)
        return component, True

    def findings(
        self, vulnerability: Mapping[str, Any], component: RawComponent | None = None
    ) -> Iterator[RawFinding]:
        """One finding per affected component; ``component`` when the vulnerability is
        nested in it (the XML vulnerability extension), else its ``affects`` refs."""
        analysis = mapping(vulnerability.get("analysis"))
        if text(analysis.get("state")) in _RESOLVED:
            return  # the producer says it is fixed: not a finding
        status, reason = _vex(analysis)
        own_id = text(vulnerability.get("id"))
        ids = vulnerability_ids(
            i
            for i in [own_id, *(r.get("id") for r in iter_dicts(vulnerability.get("references")))]
            if not (isinstance(i, str) and _UUID.match(i))
        )
        rule_id = rule(own_id or (ids[0] if ids else None))
        headline = ids[0] if ids else rule_id
        severity, tool_severity = _severity(vulnerability.get("ratings"))
        recommendation = text(vulnerability.get("recommendation"))
        targets = [(component, None, [])] if component is not None else self._targets(vulnerability)
        several = len(targets) > 1
        for target, ref, versions in targets:
            where = f"{target.name} {target.version or ''}".strip() if target else ref
            yield RawFinding(
                tool=self.tool,
                kind=kind_for_package(target.purl, target.ecosystem) if target else Kind.DEPENDENCY,
                rule_id=rule_id,
                title=title(f"{headline} in {where}" if where else headline),
                severity=severity,
                tool_severity=tool_severity,
                description=description(
                    vulnerability.get("description"), vulnerability.get("detail"), recommendation
                ),
                cwe_ids=cwe_ids(
                    c for c in sequence(vulnerability.get("cwes")) if isinstance(c, int | str)
                ),
                vulnerability_ids=ids,
                references=references(
                    [a.get("url") for a in iter_dicts(vulnerability.get("advisories"))],
                    dig(vulnerability, "source", "url"),
                ),
                # An unknown ref stays part of the identity so that two of them stay apart.
                context=None if target else (f"bom-ref {ref}" if ref else None),
                component=target,
                fixed_version=_fixed_version(recommendation, versions, target, several),
                status=status,
                status_reason=reason,
            )

    def _targets(
        self, vulnerability: Mapping[str, Any]
    ) -> list[tuple[RawComponent | None, str | None, list[Any]]]:
        targets: dict[str, tuple[RawComponent | None, str | None, list[Any]]] = {}
        for affect in iter_dicts(vulnerability.get("affects")):
            ref = text(affect.get("ref"))
            if ref is None:
                continue
            target = self._resolve(ref)
            key = (target.purl or target.name) if target else ref
            targets.setdefault(key, (target, ref, sequence(affect.get("versions"))))
        # A vulnerability that names no component is still reported, without one.
        return list(targets.values()) or [(None, None, [])]

    def _resolve(self, ref: str) -> RawComponent | None:
        found = self._by_ref.get(ref)
        if found is not None:
            return found
        if ref.startswith("urn:cdx:") and "#" in ref:
            # A BOM-Link to a component of another BOM (a standalone VEX document).
            ref = unquote(ref.split("#", 1)[1])
            found = self._by_ref.get(ref)
            if found is not None:
                return found
        return component_from_purl(ref)


def _component(
    name: str | None, version: str | None, purl: str | None, licenses: Iterable[str] = ()
) -> RawComponent | None:
    """A component, when the entry names one (the importer fits each field to the store)."""
    return package_component(name, version, purl, licenses=licenses) if name else None


def _tool(tools: object) -> tuple[str, str | None]:
    """The producer from ``metadata.tools``: a list of tools (1.2-1.4) or, since 1.5,
    ``{components: [...], services: [...]}``."""
    entries = [
        *iter_dicts(tools),
        *iter_dicts(dig(tools, "components")),
        *iter_dicts(dig(tools, "services")),
    ]
    named = [entry for entry in entries if text(entry.get("name"))]
    scanners = [e for e in named if not _LIBRARY.search(str(e["name"]).strip())] or named
    if not scanners:
        return "cyclonedx", None
    return tool_name(scanners[0].get("name"), "cyclonedx"), text(scanners[0].get("version"))


def _qualified_name(name: str | None, group: str | None, purl_type: str | None) -> str | None:
    """Maven shows ``group:artifact``, npm ``@scope/name``, Go ``host/path/name``."""
    if not name or not group:
        return name
    return f"{group}:{name}" if purl_type == "maven" else f"{group}/{name}"


def _licenses(value: object) -> list[str]:
    found: list[str] = []
    for choice in iter_dicts(value):
        license_ = mapping(choice.get("license"))
        name = (
            text(choice.get("expression")) or text(license_.get("id")) or text(license_.get("name"))
        )
        if name and name not in found:
            found.append(name)
    return found


def _severity(ratings: object) -> tuple[Severity, str | None]:
    """The highest of the ratings (NVD, the distribution, the vendor...): a rating's own
    severity word wins over its score, "unknown" only counts when nothing else is known."""
    best: tuple[Severity, str] | None = None
    unknown = False
    for rating in iter_dicts(ratings):
        word = text(rating.get("severity"))
        score = cvss_score(rating.get("score"))
        if word and word.lower() != "unknown":
            found = (severity_from_text(word), word)
        elif score is not None:
            found = (severity_from_score(score), text(rating.get("score")) or str(score))
        else:
            unknown = unknown or word is not None
            continue
        if best is None or found[0].rank > best[0].rank:
            best = found
    if best is not None:
        return best
    # Not yet rated is not harmless (see normalize.severity_from_text).
    return Severity.MEDIUM, "unknown" if unknown else None


def _vex(analysis: Mapping[str, Any]) -> tuple[Status | None, str | None]:
    state = text(analysis.get("state"))
    status = _VEX_STATUS.get(state or "")
    if status is None:
        return None, None  # exploitable, in_triage or no analysis: still open
    justification = text(analysis.get("justification"))
    detail = text(analysis.get("detail"))
    reason = f"CycloneDX analysis: {state}" + (f" ({justification})" if justification else "")
    return status, reason + (f": {detail}" if detail else "")


def _fixed_version(
    recommendation: str | None,
    versions: list[Any],
    target: RawComponent | None,
    several: bool,
) -> str | None:
    """The fix only when the BOM says it unambiguously: "Upgrade x to version 1.2.3"
    (Trivy), or a single unaffected version or ``>=`` range."""
    # Real recommendations are one short sentence; a long text is not parsed (regex cost).
    match = _UPGRADE.search(recommendation or "") if len(recommendation or "") <= 500 else None
    if match and target is not None:
        named = match.group("package") or ""
        # Trivy merges the components of one CVE and names only one in the text.
        if not several or named in (target.name, target.name.rsplit(":", 1)[-1]):
            found: set[str] = set(_VERSION.findall(match.group("rest")))
            if len(found) == 1:
                return found.pop()
    unaffected: set[str] = set()
    for entry in iter_dicts(versions):
        if text(entry.get("status")) != "unaffected":
            continue
        at_least = _AT_LEAST.match(text(entry.get("range")) or "")
        version = text(entry.get("version")) or (at_least.group(1) if at_least else None)
        if version:
            unaffected.add(version)
    return (unaffected.pop()) if len(unaffected) == 1 else None


FORMAT = CycloneDxFormat()
