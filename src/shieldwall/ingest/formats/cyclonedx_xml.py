"""CycloneDX XML (1.0 to 1.7) read as the JSON-shaped items ``cyclonedx`` works on.

Besides the 1.4+ ``vulnerabilities``, older Grype and OWASP tools wrote the 1.0
vulnerability extension (``http://cyclonedx.org/schema/ext/vulnerability/1.0``), either
inside each component or at the top level: both come out in the 1.4 JSON shape.

Parsing is defusedxml's iterparse (no DTD, no entities) and each finished component or
section entry is detached from the tree once read, so memory does not grow with the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from shieldwall.ingest.parsing import text
from shieldwall.ingest.source import ReportSource

_ROOT = re.compile(r"^\{http://cyclonedx\.org/schema/bom/(1\.[0-7])\}bom$")

Item = Mapping[str, Any]


def spec_version(root: str | None) -> str | None:
    """The CycloneDX version an XML root element declares by its namespace."""
    match = _ROOT.match(root or "")
    return match.group(1) if match else None


def metadata(source: ReportSource) -> Item:
    """``{"specVersion", "metadata": {"tools"}}``; stops at the first other section, as the
    schema puts metadata first."""
    version = spec_version(source.head().xml_root)
    if version is None:
        raise source.error("not a CycloneDX XML document (root element is not a CycloneDX bom)")
    tools: list[Item] = []
    for event, path, element in _walk(source):
        if len(path) == 2 and path[1] != "metadata":
            break
        if event == "end" and path[1:] == ["metadata", "tools"]:
            tools = _tools(element)
            break
    return {"specVersion": version, "metadata": {"tools": tools}}


def components(source: ReportSource) -> Iterator[tuple[Item, Sequence[Item]]]:
    """Each component under ``components`` (nested ones included, each on its own) with the
    vulnerabilities the 1.0 extension nests in it."""
    for event, path, element in _walk(source):
        if event == "end" and path[-1] == "component" and path[1] == "components":
            nested = [_vulnerability(v) for v in _all(element, "vulnerabilities", "vulnerability")]
            yield _component(element), nested


def has_vulnerabilities(source: ReportSource) -> bool:
    """Whether the BOM has a vulnerabilities section (1.4+) or the old per-component
    extension: one without is an inventory, which must not close findings."""
    return any(
        event == "start" and path[-1] == "vulnerabilities" for event, path, _ in _walk(source)
    )


def vulnerabilities(source: ReportSource) -> Iterator[Item]:
    """The document's own vulnerabilities (1.4+, or the 1.0 extension at the top level)."""
    for event, path, element in _walk(source):
        if event == "end" and path[1:] == ["vulnerabilities", "vulnerability"]:
            yield _vulnerability(element)


def _walk(source: ReportSource) -> Iterator[tuple[str, list[str], Element]]:
    """Start and end events with the local names from the root to the element. Once its end
    event is seen, an entry of a top section (a component, a vulnerability, a dependency)
    and a component nested in one is detached from the tree."""
    names: list[str] = []
    elements: list[Element] = []
    with source.open() as stream:
        try:
            for event, element in ElementTree.iterparse(
                stream, events=("start", "end"), forbid_dtd=True
            ):
                if event == "start":
                    names.append(_local(element.tag))
                    elements.append(element)
                    if len(names) > source.max_depth:
                        raise source.error(f"XML nested deeper than {source.max_depth} levels")
                    yield event, names, element
                    continue
                yield event, names, element
                name = names.pop()
                elements.pop()
                if len(names) == 2 or (name == "component" and names[1:2] == ["components"]):
                    elements[-1].remove(element)
        except DefusedXmlException as exc:
            raise source.error(f"XML with forbidden constructs ({type(exc).__name__})") from exc
        except ElementTree.ParseError as exc:
            raise source.error(f"not valid XML: {exc}") from exc


def _component(element: Element) -> Item:
    licenses: list[Item] = []
    for choice in _all(element, "licenses", None):
        if _local(choice.tag) == "expression":
            licenses.append({"expression": text(choice.text)})
        elif _local(choice.tag) == "license":
            licenses.append({"license": {"id": _text(choice, "id"), "name": _text(choice, "name")}})
    return {
        "bom-ref": element.get("bom-ref"),
        "group": _text(element, "group"),
        "name": _text(element, "name"),
        "version": _text(element, "version"),
        "purl": _text(element, "purl"),
        "licenses": licenses,
    }


def _vulnerability(element: Element) -> Item:
    source = _child(element, "source")
    analysis = _child(element, "analysis")
    recommendations = [text(r.text) for r in _all(element, "recommendations", "recommendation")]
    affects = [
        {
            "ref": _text(target, "ref"),
            "versions": [
                {key: _text(version, key) for key in ("version", "range", "status")}
                for version in _all(target, "versions", "version")
            ],
        }
        for target in _all(element, "affects", "target")
    ]
    ref = element.get("ref")  # the 1.0 extension names the component in an attribute
    return {
        "id": _text(element, "id"),
        "source": {
            "name": _text(source, "name") or source.get("name"),
            "url": _text(source, "url"),
        }
        if source is not None
        else {},
        "references": [{"id": _text(r, "id")} for r in _all(element, "references", "reference")],
        "ratings": [_rating(r) for r in _all(element, "ratings", "rating")],
        "cwes": [text(c.text) for c in _all(element, "cwes", "cwe")],
        "description": _text(element, "description"),
        "detail": _text(element, "detail"),
        "recommendation": _text(element, "recommendation")
        or "\n".join(r for r in recommendations if r)
        or None,
        "advisories": [
            {"url": _text(a, "url") or text(a.text)}
            for a in _all(element, "advisories", "advisory")
        ],
        "analysis": {key: _text(analysis, key) for key in ("state", "justification", "detail")}
        if analysis is not None
        else {},
        "affects": affects or ([{"ref": ref}] if ref else []),
    }


def _rating(element: Element) -> Item:
    score = _child(element, "score")
    # 1.4+: <score>9.8</score>; the 1.0 extension: <score><base>9.8</base>...</score>
    value = None if score is None else _text(score, "base") or text(score.text)
    return {
        "score": value,
        "severity": _text(element, "severity"),
        "method": _text(element, "method"),
    }


def _tools(element: Element) -> list[Item]:
    """1.0-1.4 list ``tool`` elements; 1.5+ lists ``components`` and ``services``."""
    found = [
        *_all(element, None, "tool"),
        *_all(element, "components", "component"),
        *_all(element, "services", "service"),
    ]
    return [{"name": _text(tool, "name"), "version": _text(tool, "version")} for tool in found]


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(element: Element | None, name: str) -> Element | None:
    if element is None:
        return None
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _all(element: Element, container: str | None, name: str | None) -> list[Element]:
    """The children named ``name`` (any name when None) of ``container`` (or of ``element``)."""
    parent = _child(element, container) if container else element
    if parent is None:
        return []
    return [child for child in parent if name is None or _local(child.tag) == name]


def _text(element: Element | None, name: str) -> str | None:
    child = _child(element, name)
    return text(child.text) if child is not None else None
