"""SPDX 2.2 and 2.3 JSON SBOMs (Syft, Trivy, GitHub's dependency graph, sbom-tool...).

An SPDX document is an inventory: its packages become components, and it has no findings.
The package the document describes (the image or repository itself) is not one of its
dependencies. SPDX 3 (JSON-LD) is a different model and is refused with a clear message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from shieldwall.ingest import jsonstream
from shieldwall.ingest.normalize import package_component, tool_name
from shieldwall.ingest.parsing import iter_dicts, mapping, strings, text
from shieldwall.ingest.records import Record, ToolRun
from shieldwall.ingest.source import Head, ReportSource

VERSIONS = frozenset({"SPDX-2.2", "SPDX-2.3"})
_BULK = ("packages", "relationships", "files", "snippets", "@graph")
_NO_LICENSE = frozenset({"NOASSERTION", "NONE"})
_SERIALISERS = frozenset({"protobom"})
_CREATOR_MAX = 300  # longer is no tool name, and the pattern below is not linear
_TOOL = re.compile(r"^\s*Tool:\s*(?P<name>.+?)(?:[-\s]v?(?P<version>\d+\.[\w.+-]*))?\s*$")


class SpdxFormat:
    name = "spdx"
    title = "SPDX 2.2/2.3 JSON SBOM"
    syntaxes = frozenset({"json"})

    def detect(self, head: Head) -> bool:
        version = head.value("spdxVersion")
        if isinstance(version, str) and version.upper().startswith("SPDX-"):
            return True
        # SPDX 3 is recognised so that it gets a clear refusal rather than "unknown format".
        return any(_is_spdx3_context(head.value(path)) for path in ("@context", "@context.item"))

    def parse(self, source: ReportSource) -> Iterator[Record]:
        document = jsonstream.outline(source, _BULK)
        if not isinstance(document, Mapping):
            raise source.error("an SPDX document must be a JSON object")
        version = text(document.get("spdxVersion"))
        if (version or "").upper().startswith("SPDX-3") or _is_spdx3_context(
            document.get("@context")
        ):
            raise source.error("SPDX 3.0 is not supported; export SPDX 2.3 JSON")
        if version not in VERSIONS:
            shown = repr(version)[:40]
            raise source.error(f"SPDX version {shown} is not supported (SPDX 2.2 or 2.3 JSON)")
        tool, version = _tool(mapping(document.get("creationInfo")).get("creators"))
        yield ToolRun(tool, version, inventory_only=True)  # SPDX lists packages, no problems
        root = _root(source, document)
        seen: set[str] = set()
        for _, package in jsonstream.objects(source, "packages.item"):
            if root and package.get("SPDXID") == root:
                continue
            name, version, purl = (
                text(package.get("name")),
                text(package.get("versionInfo")),
                _purl(package),
            )
            if not name or (purl is None and version is None):
                continue  # a file or a directory, not a package
            component = package_component(name, version, purl, licenses=_licenses(package))
            key = purl or f"{name}@{version}"
            if key not in seen:
                seen.add(key)
                yield component


def _is_spdx3_context(value: object) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and "spdx.org/rdf/3" in v for v in values)


def _tool(creators: object) -> tuple[str, str | None]:
    """``Tool: syft-1.50.0`` -> ("syft", "1.50.0"): the first tool among the creators that is
    not the library that wrote the document (GitHub lists protobom before itself)."""
    tools = [
        (tool_name(match.group("name"), "spdx"), match.group("version"))
        for match in (_TOOL.match(c) for c in strings(creators) if len(c) <= _CREATOR_MAX)
        if match
    ]
    producers = [tool for tool in tools if tool[0] not in _SERIALISERS] or tools
    return producers[0] if producers else ("spdx", None)


def _root(source: ReportSource, document: Mapping[str, Any]) -> str | None:
    """The one package the document describes (the image, the repository): the application
    itself. When a document describes several packages they are all kept: some generators
    list every top-level package there."""
    described = set(strings(document.get("documentDescribes")))
    own = text(document.get("SPDXID")) or "SPDXRef-DOCUMENT"
    for _, relation in jsonstream.items(source, "relationships.item"):
        relation = mapping(relation)
        kind = text(relation.get("relationshipType"))
        element = text(relation.get("spdxElementId"))
        related = text(relation.get("relatedSpdxElement"))
        if kind == "DESCRIBES" and element == own and related:
            described.add(related)
        elif kind == "DESCRIBED_BY" and related == own and element:
            described.add(element)
    return described.pop() if len(described) == 1 else None


def _purl(package: Mapping[str, Any]) -> str | None:
    for ref in iter_dicts(package.get("externalRefs")):
        if str(ref.get("referenceType", "")).lower() == "purl":
            return text(ref.get("referenceLocator"))
    return None


def _licenses(package: Mapping[str, Any]) -> list[str]:
    """The concluded license when someone concluded one, else the declared one."""
    for key in ("licenseConcluded", "licenseDeclared"):
        found = text(package.get(key))
        if found and found.upper() not in _NO_LICENSE:
            return [found]
    return []


FORMAT = SpdxFormat()
