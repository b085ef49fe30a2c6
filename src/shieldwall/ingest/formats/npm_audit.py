"""npm audit JSON (``npm audit --json``): npm 6's advisories and npm 7+'s vulnerabilities.

npm 6 keys ``advisories`` by advisory id, each naming its module, CVEs and the installed
versions it was found in. npm 7+ (``auditReportVersion: 2``) keys ``vulnerabilities`` by
package: its ``via`` holds the advisories about that package (objects) and the names of the
vulnerable packages it depends on (strings, which are findings of those packages, not of this
one). npm 7+ does not give the installed version nor CVE ids: its findings carry the GHSA id.

Both are maps, not arrays, so each is read as one item; the report-size and per-item event
limits of ``jsonstream`` bound it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from shieldwall.findings.vocabulary import Kind
from shieldwall.ingest import jsonstream
from shieldwall.ingest.normalize import (
    build_purl,
    cwe_ids,
    normalize_path,
    severity_from_text,
    vulnerability_ids,
)
from shieldwall.ingest.parsing import (
    description,
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

_TOOL = "npm-audit"
_ECOSYSTEM = "npm"
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"()\[\]]+")
_PATCHED_FROM = re.compile(r"^>=\s*v?(\d[^\s|<>=]*)$")
_VULNERABLE_BELOW = re.compile(r"<\s*v?(\d[^\s|<>=]*)$")
_PATHS_SHOWN = 20


class NpmAuditFormat:
    name = "npm-audit"
    title = "npm audit JSON (npm 6 and npm 7+)"
    syntaxes = frozenset({"json"})

    def detect(self, head: Head) -> bool:
        if head.has("auditReportVersion") and head.has("vulnerabilities"):
            return True
        if head.has("advisories") and (
            head.has("actions") or head.has("muted") or head.has("metadata")
        ):
            return True
        # npm 6 sorts ``actions`` first: a big report may show only those in its head.
        return head.has("actions.item.resolves.item.path") or _failed(head)

    def parse(self, source: ReportSource) -> Iterator[Record]:
        head = source.head()
        if _failed(head):
            code = text(head.value("error.code")) or "no code"
            summary = text(head.value("error.summary")) or "no summary"
            raise source.error(
                f"npm audit failed ({code}: {summary}); a failed audit is not an empty one, "
                "so nothing was imported"
            )
        version = head.value("auditReportVersion")
        if head.has("auditReportVersion") and version != 2:
            raise source.error(f"npm audit report version {version!r} is not supported (only 2)")
        yield ToolRun(_TOOL)
        npm7 = head.has("auditReportVersion")
        key = "vulnerabilities" if npm7 else "advisories"
        entries = None
        for _, entries in jsonstream.items(source, key):
            if not isinstance(entries, Mapping):
                break
            for name, entry in entries.items():
                if npm7:
                    yield from _npm7_findings(name, mapping(entry))
                elif (finding := _npm6_finding(mapping(entry))) is not None:
                    yield finding
        if not isinstance(entries, Mapping):
            # Importing it as "no vulnerabilities" would close every open finding.
            raise source.error(f"`{key}` is missing or not an object: not a complete npm audit")


def _failed(head: Head) -> bool:
    """``{"error": {"code": "ENOAUDIT", "summary": ...}}``: the audit did not run."""
    return head.keys("") == {"error"} and (head.has("error.code") or head.has("error.summary"))


def _npm6_finding(advisory: Mapping[str, Any]) -> RawFinding | None:
    name = text(advisory.get("module_name"))
    url = text(advisory.get("url"))
    ids = _advisory_ids(
        [*strings(advisory.get("cves")), advisory.get("github_advisory_id")],
        url,
        advisory.get("id"),
    )
    if name is None or not ids:
        return None
    found = list(iter_dicts(advisory.get("findings")))
    versions = list(dict.fromkeys(v for f in found if (v := text(f.get("version")))))
    paths = [path for f in found for path in strings(f.get("paths"))]
    version = versions[0] if versions else None
    vulnerable = text(advisory.get("vulnerable_versions"))
    patched = text(advisory.get("patched_versions"))
    severity = text(advisory.get("severity"))
    return RawFinding(
        tool=_TOOL,
        kind=Kind.DEPENDENCY,
        rule_id=rule(ids[0]),
        title=_title(advisory.get("title"), ids[0], name),
        severity=severity_from_text(severity),
        tool_severity=severity,
        description=description(
            advisory.get("overview"),
            advisory.get("recommendation"),
            vulnerable and f"Vulnerable versions: {vulnerable}",
            patched and f"Patched versions: {patched}",
            len(versions) > 1 and f"Installed versions: {', '.join(versions)}",
            _dependency_paths(paths),
        ),
        cwe_ids=cwe_ids(strings(advisory.get("cwe"))),
        vulnerability_ids=ids,
        references=references(url, _URL_IN_TEXT.findall(text(advisory.get("references")) or "")),
        component=_component(name, version),
        fixed_version=_fixed_version(patched, vulnerable),
    )


def _npm7_findings(key: str, package: Mapping[str, Any]) -> Iterator[RawFinding]:
    nodes = strings(package.get("nodes"))
    fix = package.get("fixAvailable")
    fix_target = mapping(fix)  # {name, version}: what ``npm audit fix`` would install
    for advisory in iter_dicts(package.get("via")):
        name = text(advisory.get("name")) or text(package.get("name")) or key
        url = text(advisory.get("url"))
        ids = _advisory_ids([], url, advisory.get("source"))
        if not ids:
            continue
        vulnerable = text(advisory.get("range"))
        severity = text(advisory.get("severity")) or text(package.get("severity"))
        yield RawFinding(
            tool=_TOOL,
            kind=Kind.DEPENDENCY,
            rule_id=rule(ids[0]),
            title=_title(advisory.get("title"), ids[0], name),
            severity=severity_from_text(severity),
            tool_severity=severity,
            description=description(
                vulnerable and f"Vulnerable versions: {vulnerable}",
                _fix_note(fix),
                _dependency_paths(nodes),
            ),
            cwe_ids=cwe_ids(strings(advisory.get("cwe"))),
            vulnerability_ids=ids,
            references=references(url),
            path=normalize_path(nodes[0]) if nodes else None,
            component=_component(name, None),
            fixed_version=_fixed_version(None, vulnerable)
            or (text(fix_target.get("version")) if fix_target.get("name") == name else None),
        )


def _advisory_ids(known: list[object], url: str | None, npm_id: object) -> list[str]:
    """CVE and GHSA ids (the GHSA also from the advisory URL); npm's own advisory number,
    as ``NPM-<n>``, only for old advisories that have neither, so they still have an id."""
    last_segment = url.rstrip("/").rsplit("/", 1)[-1] if url else ""
    ghsa = last_segment if last_segment.upper().startswith("GHSA-") else None
    ids = vulnerability_ids([*known, ghsa])
    if not ids and text(npm_id) and str(npm_id).isdigit():
        ids = [f"NPM-{npm_id}"]
    return ids


def _title(advisory_title: object, vuln_id: str, name: str) -> str:
    """npm's titles often leave the package out ("Command Injection"): it is added."""
    found = text(advisory_title)
    if found is None:
        return title(f"{vuln_id} in {name}")
    return title(found if name.lower() in found.lower() else f"{found} in {name}")


def _component(name: str, version: str | None) -> RawComponent:
    return RawComponent(
        name=name, version=version, purl=build_purl(_ECOSYSTEM, name, version), ecosystem=_ECOSYSTEM
    )


def _fixed_version(patched: str | None, vulnerable: str | None) -> str | None:
    """The first safe version, when a range says it plainly: ``>=1.10.2`` patched, or a
    vulnerable range that ends ``<2.6.9`` (one interval, no ``||`` alternatives)."""
    found = _PATCHED_FROM.match(patched) if patched else None
    if found is None and vulnerable and "||" not in vulnerable:
        found = _VULNERABLE_BELOW.search(vulnerable)
    return found.group(1) if found else None


def _fix_note(fix: object) -> str:
    if fix is True:
        return "A fix is available (npm audit fix)."
    target = mapping(fix)
    if text(target.get("name")) and text(target.get("version")):
        major = " (a semver-major change)" if target.get("isSemVerMajor") is True else ""
        return f"Fix: upgrade {target['name']} to {target['version']}{major}."
    return "No fix is available."


def _dependency_paths(paths: list[str]) -> str | None:
    if not paths:
        return None
    more = f"\n(and {len(paths) - _PATHS_SHOWN} more)" if len(paths) > _PATHS_SHOWN else ""
    return "Installed at:\n" + "\n".join(paths[:_PATHS_SHOWN]) + more


FORMAT = NpmAuditFormat()
