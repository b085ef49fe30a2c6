"""OSV-Scanner JSON (``osv-scanner --format json``, v1 and v2).

For each scanned source (a lockfile, an SBOM, a git checkout) the tool lists the vulnerable
packages with the full OSV records and ``groups``: the ids that are aliases of one problem
(GHSA + PYSEC + CVE). A group is one finding per package, described by its richest record.

Two passes: the outline (each result's source, without its packages), then the packages one
at a time, each paired with its source by index.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from shieldwall.findings.vocabulary import Severity, Status
from shieldwall.ingest import jsonstream
from shieldwall.ingest.normalize import (
    build_purl,
    cvss_score,
    cvss_vector_score,
    cwe_ids,
    kind_for_package,
    normalize_path,
    package_component,
    package_key,
    severity_from_score,
    severity_from_text,
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

TOOL = "osv-scanner"
_VERSION_RANGES = frozenset({"ECOSYSTEM", "SEMVER"})
"""GIT ranges give commits, not versions one can upgrade to."""
_NUMERIC = re.compile(r"^v?(\d{1,9}(?:\.\d{1,9}){0,20})$")
"""Plain dotted numbers, short enough to be versions (``int()`` refuses huge digit runs)."""
_NOT_CALLED = "osv-scanner call analysis: the vulnerable code is not called"


class OsvScannerFormat:
    name = "osv-scanner"
    title = "OSV-Scanner JSON"
    syntaxes = frozenset({"json"})

    def detect(self, head: Head) -> bool:
        if head.has("results.item.packages.item.package") or head.has("results.item.packageSource"):
            return True
        # An empty scan is only {"results": [], "experimental_config": {...}}.
        return head.has("results") and head.has("experimental_config")

    def parse(self, source: ReportSource) -> Iterator[Record]:
        document = jsonstream.outline(source, {"results.item.packages"})
        if not isinstance(document, Mapping) or not isinstance(document.get("results"), list):
            raise source.error("an OSV-Scanner report is a JSON object with a results list")
        sources = [
            mapping(mapping(result).get("source") or mapping(result).get("packageSource"))
            for result in document["results"]
        ]
        yield ToolRun(TOOL)
        seen: set[str] = set()
        for (index,), entry in jsonstream.objects(source, "results.item.packages.item"):
            scanned = sources[index] if 0 <= index < len(sources) else {}
            package = _Package(entry, scanned)
            if package.component is None:
                continue
            component = package.component
            key = component.purl or f"{component.ecosystem}:{component.name}@{component.version}"
            if key not in seen:
                seen.add(key)
                yield component
            yield from package.findings()


class _Package:
    """One vulnerable package of one source, with its OSV records and alias groups."""

    def __init__(self, entry: Mapping[str, Any], scanned: Mapping[str, Any]) -> None:
        info = mapping(entry.get("package"))
        self.records = {
            found: record
            for record in iter_dicts(entry.get("vulnerabilities"))
            if (found := text(record.get("id")))
        }
        self.groups = list(iter_dicts(entry.get("groups")))
        self.version = text(info.get("version")) or text(info.get("commit"))
        self.ecosystem = text(info.get("ecosystem"))
        name = text(info.get("name")) or self._repository() or text(scanned.get("path"))
        self.component: RawComponent | None = (
            package_component(
                name, self.version, build_purl(self.ecosystem, name, self.version), self.ecosystem
            )
            if name
            else None
        )
        self.path = normalize_path(scanned.get("path"))

    def findings(self) -> Iterator[RawFinding]:
        grouped = {i for group in self.groups for i in strings(group.get("ids"))}
        # Older versions have no groups; a record missing from every group stands alone.
        alone = [{"ids": [i]} for i in self.records if i not in grouped]
        for group in [*self.groups, *alone]:
            finding = self._finding(group)
            if finding is not None:
                yield finding

    def _finding(self, group: Mapping[str, Any]) -> RawFinding | None:
        component = self.component
        group_ids = strings(group.get("ids"))
        records = [self.records[i] for i in group_ids if i in self.records]
        ids = vulnerability_ids(
            [
                *group_ids,
                *strings(group.get("aliases")),
                *(a for record in records for a in strings(record.get("aliases"))),
            ]
        )
        if component is None or not ids:
            return None
        richest = max(records, key=_richness, default={})
        rule_id = rule(richest.get("id") or (group_ids[0] if group_ids else ids[0]))
        severity, tool_severity = _severity(group, records)
        if tool_severity is None and any(i.startswith("MAL-") for i in ids):
            # OSV's malicious-packages records carry no rating: an installed one means the
            # machine that installed it is compromised.
            severity = Severity.CRITICAL
        status = _call_analysis(group.get("experimentalAnalysis"))
        return RawFinding(
            tool=TOOL,
            kind=kind_for_package(component.purl, component.ecosystem),
            rule_id=rule_id,
            title=title(richest.get("summary"), f"{ids[0]} in {_label(component)}"),
            severity=severity,
            tool_severity=tool_severity,
            description=description(richest.get("details")),
            cwe_ids=cwe_ids(c for record in records for c in _record_cwes(record)),
            vulnerability_ids=ids,
            references=references(
                *(
                    [r.get("url") for r in iter_dicts(record.get("references"))]
                    for record in sorted(records, key=_richness, reverse=True)
                )
            ),
            path=self.path,
            component=component,
            fixed_version=_fixed_version(records, component, self.version),
            status=status,
            status_reason=_NOT_CALLED if status else None,
        )

    def _repository(self) -> str | None:
        """A package found by commit (a git checkout) is named by its repository."""
        for record in self.records.values():
            for affected in iter_dicts(record.get("affected")):
                for found in iter_dicts(affected.get("ranges")):
                    if found.get("type") == "GIT" and text(found.get("repo")):
                        return text(found.get("repo"))
        return None


def _label(component: RawComponent) -> str:
    return f"{component.name} {component.version}" if component.version else component.name


def _richness(record: Mapping[str, Any]) -> tuple[bool, bool, int]:
    """GHSA records usually carry a summary and a severity word; PYSEC ones often neither."""
    return (
        text(record.get("summary")) is not None,
        text(dig(record, "database_specific", "severity")) is not None,
        len(text(record.get("details")) or ""),
    )


def _record_cwes(record: Mapping[str, Any]) -> list[object]:
    found: list[object] = list(strings(dig(record, "database_specific", "cwe_ids")))
    for affected in iter_dicts(record.get("affected")):
        found.extend(
            text(cwe.get("cweId")) for cwe in iter_dicts(dig(affected, "database_specific", "cwes"))
        )
    return found


def _severity(
    group: Mapping[str, Any], records: Sequence[Mapping[str, Any]]
) -> tuple[Severity, str | None]:
    """The group's ``max_severity`` (a CVSS score), else the advisories' words (GHSA's
    "MODERATE"), else a score computed from a CVSS v3 vector."""
    best = cvss_score(group.get("max_severity"))
    if best is not None:
        return severity_from_score(best), text(group.get("max_severity"))
    words = [w for r in records if (w := text(dig(r, "database_specific", "severity")))]
    if words:
        word = max(words, key=lambda w: severity_from_text(w).rank)
        return severity_from_text(word), word
    vectors: list[tuple[float, str]] = []
    for record in records:
        for entry in iter_dicts(record.get("severity")):
            vector = text(entry.get("score"))
            score = cvss_vector_score(vector)
            if score is not None and vector:
                vectors.append((score, vector))
    if vectors:
        score, vector = max(vectors)
        return severity_from_score(score), vector
    return Severity.MEDIUM, None  # unrated is not harmless


def _call_analysis(analysis: object) -> Status | None:
    """osv-scanner's call analysis (Go, Rust): when no id of the group is called, the
    vulnerable code is not reachable from the project."""
    called = [
        value["called"]
        for value in mapping(analysis).values()
        if isinstance(value, Mapping) and isinstance(value.get("called"), bool)
    ]
    return Status.NOT_AFFECTED if called and not any(called) else None


def _fixed_version(
    records: Sequence[Mapping[str, Any]], component: RawComponent, installed: str | None
) -> str | None:
    """The lowest ``fixed`` event above the installed version among the ranges that may hold
    it. Versions are compared only when both are plain dotted numbers; otherwise a fix is
    given only when there is a single candidate."""
    key = package_key(None, component.ecosystem, component.name)
    candidates: list[str] = []
    for record in records:
        for affected in iter_dicts(record.get("affected")):
            package = mapping(affected.get("package"))
            name = text(package.get("name"))
            if not name or package_key(None, text(package.get("ecosystem")), name) != key:
                continue
            listed = strings(affected.get("versions"))
            for found in iter_dicts(affected.get("ranges")):
                if text(found.get("type")) not in _VERSION_RANGES:
                    continue
                introduced: str | None = None
                for event in iter_dicts(found.get("events")):
                    introduced = text(event.get("introduced")) or introduced
                    fixed = text(event.get("fixed"))
                    if fixed and _may_hold(introduced, fixed, installed, listed):
                        candidates.append(fixed)
    distinct = list(dict.fromkeys(candidates))
    version = _numeric(installed)
    numbers = [_numeric(c) for c in distinct]
    if version is not None and distinct and all(n is not None for n in numbers):
        above = [(n, c) for n, c in zip(numbers, distinct, strict=True) if n and n > version]
        return min(above)[1] if above else None
    return distinct[0] if len(distinct) == 1 else None


def _may_hold(introduced: str | None, fixed: str, installed: str | None, listed: list[str]) -> bool:
    low, high, version = _numeric(introduced or "0"), _numeric(fixed), _numeric(installed)
    if low is not None and high is not None and version is not None:
        return low <= version < high
    # Cannot compare: the record's enumerated versions say whether it is in, if it has them.
    return installed in listed if listed else True


def _numeric(version: str | None) -> tuple[int, ...] | None:
    """``1.2.0`` -> (1, 2): dotted numbers compared as such, trailing zeros dropped."""
    match = _NUMERIC.match(version or "")
    if match is None:
        return None
    numbers = [int(part) for part in match.group(1).split(".")]
    while numbers and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


FORMAT = OsvScannerFormat()
