"""pip-audit JSON (``pip-audit -f json``), in both of its shapes.

Old versions write a top-level list of dependencies; current ones an object with
``dependencies`` (and ``fixes`` when ``--fix`` ran). Each dependency lists its ``vulns``; one
that could not be audited carries a ``skip_reason`` instead. pip-audit rates nothing, so its
findings start at medium (unrated is not harmless) with no tool severity, until enrichment or
a person rates them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from shieldwall.findings.vocabulary import Kind, Severity
from shieldwall.ingest import jsonstream
from shieldwall.ingest.normalize import (
    build_purl,
    lowest_fix,
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

_TOOL = "pip-audit"
_ECOSYSTEM = "PyPI"
_DEPENDENCY_KEYS = ("vulns", "skip_reason")


class PipAuditFormat:
    name = "pip-audit"
    title = "pip-audit JSON"
    syntaxes = frozenset({"json"})

    def detect(self, head: Head) -> bool:
        if head.value("") == "array":
            # The old shape; ``[]`` is how it says "no dependencies", so it is claimed too.
            return not head.has("item") or _is_dependency(head, "item")
        if not head.has("dependencies") or not head.keys("") <= {"dependencies", "fixes"}:
            return False
        return not head.has("dependencies.item") or _is_dependency(head, "dependencies.item")

    def parse(self, source: ReportSource) -> Iterator[Record]:
        document = jsonstream.outline(source, {"item", "dependencies.item", "fixes"})
        if isinstance(document, list):
            prefix = "item"
        elif isinstance(mapping(document).get("dependencies"), list):
            prefix = "dependencies.item"
        else:
            # Importing it as "no vulnerabilities" would close every open finding.
            raise source.error("`dependencies` is not a list: not a pip-audit report")
        yield ToolRun(_TOOL)
        for _, dependency in jsonstream.objects(source, prefix):
            yield from _dependency(dependency)


def _is_dependency(head: Head, prefix: str) -> bool:
    return head.has(f"{prefix}.name") and any(
        head.has(f"{prefix}.{key}") for key in _DEPENDENCY_KEYS
    )


def _dependency(dependency: Mapping[str, Any]) -> Iterator[Record]:
    name = text(dependency.get("name"))
    if name is None:
        return
    version = text(dependency.get("version"))
    component = RawComponent(
        name=name,
        version=version,
        purl=build_purl(_ECOSYSTEM, name, version),
        ecosystem=_ECOSYSTEM,
    )
    yield component
    if dependency.get("skip_reason") is not None:
        return  # not audited (not on PyPI, editable...): pip-audit lists no vulns for it
    for vuln in iter_dicts(dependency.get("vulns")):
        ids = vulnerability_ids([vuln.get("id"), *strings(vuln.get("aliases"))])
        if not ids:
            continue
        primary = text(vuln.get("id")) or ids[0]
        fixes = strings(vuln.get("fix_versions"))
        yield RawFinding(
            tool=_TOOL,
            kind=Kind.DEPENDENCY,
            rule_id=rule(primary),
            title=title(f"{primary} in {name} {version or ''}"),
            severity=Severity.MEDIUM,  # pip-audit rates nothing
            description=description(
                vuln.get("description"),
                f"Fixed in: {', '.join(fixes)}" if fixes else "No fixed version is known.",
            ),
            vulnerability_ids=ids,
            references=references(f"https://osv.dev/vulnerability/{primary}"),
            component=component,
            fixed_version=lowest_fix(fixes, version),
        )


FORMAT = PipAuditFormat()
