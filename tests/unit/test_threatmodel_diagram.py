"""Data-flow diagrams: what a reader of the Mermaid, DOT and SVG output would notice.

Every actor and component is drawn once, in the boundary it runs in; boundaries nest; every
flow is one arrow with its protocol; an unencrypted flow across a boundary stands out; and
names from a hostile model file stay text in every format.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import pytest
import yaml

from shieldwall.text import one_line
from shieldwall.threatmodel import diagram
from shieldwall.threatmodel.diagram import GraphvizError, dot, mermaid, svg
from shieldwall.threatmodel.model import parse_model
from shieldwall.threatmodel.schemas import ThreatModelSpec
from shieldwall.threatmodel.service import Analysis, analyse
from shieldwall.threatmodel.vocabulary import Level

FIXTURE = Path(__file__).parents[1] / "fixtures" / "threatmodels" / "diagram.yaml"
SVG = "{http://www.w3.org/2000/svg}"
HAVE_DOT = shutil.which("dot") is not None


@pytest.fixture
def graphviz() -> None:
    """Skip without Graphviz on a developer's machine; fail in CI, which must have it
    (`make test` installs it)."""
    if HAVE_DOT:
        return
    message = "Graphviz (`dot`) is not installed: `apt-get install graphviz`"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI must have it)")
    pytest.skip(message)


HOSTILE_NAMES = {
    "customer": 'Evil "q" ]) --> X; #35; end',
    "browser": "<script>alert(1)</script>",
    "gateway": "a\nend\nsubgraph pwn",
    "api": "back`tick` | pipe &amp; %%",
    "db": '\\n" -> "c_api" [color=red',
    "cache": "&nbsp; &lt;b&gt; {x}",
}
HOSTILE_BOUNDARY = '} cluster_x { "y" ]; end'


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return analyse(FIXTURE)


@pytest.fixture(scope="module")
def spec(analysis: Analysis) -> ThreatModelSpec:
    return analysis.model.spec


def _hostile_spec() -> ThreatModelSpec:
    model: dict[str, Any] = yaml.safe_load(FIXTURE.read_text())
    for section in ("actors", "components"):
        for element in model[section]:
            if element["id"] in HOSTILE_NAMES:
                element["name"] = HOSTILE_NAMES[element["id"]]
    model["boundaries"][1]["name"] = HOSTILE_BOUNDARY
    next(c for c in model["components"] if c["id"] == "gateway")["technology"] = (
        "</text><script>x</script>"
    )
    model["title"] = "<svg onload=alert(1)>"
    return parse_model(Path("hostile.yaml"), yaml.safe_dump(model)).spec


def _nodes(spec: ThreatModelSpec) -> dict[str, str | None]:
    """Every drawn element id and its boundary (``None`` for the top level)."""
    nodes: dict[str, str | None] = {a.id: None for a in spec.actors}
    nodes.update({c.id: c.boundary for c in spec.components})
    return nodes


def _chain(spec: ThreatModelSpec, boundary: str | None) -> list[str]:
    parents = {b.id: b.parent for b in spec.boundaries}
    chain = []
    while boundary is not None:
        chain.append(boundary)
        boundary = parents[boundary]
    return chain


def _display(name: str) -> str:
    return one_line(name)


# -- Mermaid ------------------------------------------------------------------------------------

_M_NODE = re.compile(r'^(\w+)(\(\[|\[\(|\[\[|\[/|\(|>)"([^"]*)"(\]\)|\)\]|\]\]|/\]|\)|\])$')
_M_EDGE = re.compile(r'^(\w+) (-->|-\.->)\|"([^"]*)"\| (\w+)$')
_M_SUBGRAPH = re.compile(r'^subgraph (\w+) \["([^"]*)"\]$')
_M_OTHER = re.compile(r"^(flowchart LR|%%[^\n]*|classDef \w+ [^\n;]+|class [\w,]+ \w+)$")


@dataclass
class Mermaid:
    nodes: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    """key -> (shape opening, label, subgraph key)"""
    subgraphs: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """key -> (label, parent key)"""
    edges: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(source, arrow, label, target)"""
    link_styles: list[int] = field(default_factory=list)
    declared: Counter[str] = field(default_factory=Counter)


def _parse_mermaid(text: str) -> Mermaid:
    """Every line must be one of the forms the generator writes: a label that broke out of
    its quotes would leave a line that matches none of them."""
    parsed = Mermaid()
    stack: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if match := _M_SUBGRAPH.match(line):
            parsed.subgraphs[match[1]] = (match[2], stack[-1] if stack else None)
            parsed.declared[match[1]] += 1
            stack.append(match[1])
        elif line == "end":
            stack.pop()
        elif match := _M_NODE.match(line):
            parsed.nodes[match[1]] = (match[2], match[3], stack[-1] if stack else None)
            parsed.declared[match[1]] += 1
        elif match := _M_EDGE.match(line):
            parsed.edges.append((match[1], match[2], match[3], match[4]))
        elif line.startswith("linkStyle"):
            parsed.link_styles += [int(n) for n in line.split()[1].split(",")]
        else:
            assert _M_OTHER.match(line), f"unexpected Mermaid line: {line!r}"
    assert not stack, "a subgraph is not closed"
    return parsed


def _mermaid_decode(label: str) -> list[str]:
    return [re.sub(r"#(\d+);", lambda m: chr(int(m[1])), part) for part in label.split("<br/>")]


def test_mermaid_draws_every_element_once_in_its_boundary(spec: ThreatModelSpec) -> None:
    parsed = _parse_mermaid(mermaid(spec))
    nodes = _nodes(spec)
    by_name = {_mermaid_decode(label)[0]: (key, sg) for key, (_, label, sg) in parsed.nodes.items()}
    assert len(parsed.nodes) == len(nodes)
    assert set(parsed.declared.values()) == {1}
    subgraph_of = {_mermaid_decode(label)[0]: key for key, (label, _) in parsed.subgraphs.items()}
    boundary_key = {b.id: subgraph_of[b.title] for b in spec.boundaries}
    assert len(parsed.subgraphs) == len(spec.boundaries)
    for element in [*spec.actors, *spec.components]:
        _, subgraph = by_name[element.title]
        inside = nodes[element.id]
        assert subgraph == (boundary_key[inside] if inside else None), element.id
    for boundary in spec.boundaries:
        parent = parsed.subgraphs[boundary_key[boundary.id]][1]
        assert parent == (boundary_key[boundary.parent] if boundary.parent else None)


def test_mermaid_shapes_follow_the_kind(spec: ThreatModelSpec) -> None:
    parsed = _parse_mermaid(mermaid(spec))
    shapes = {key: opening for key, (opening, _, _) in parsed.nodes.items()}
    assert shapes["a_customer"] == "(["  # actors: stadium
    assert shapes["c_db"] == "[("  # data stores: cylinder
    assert shapes["c_payments"] == "[["  # external services
    assert shapes["c_browser"] == "[/"  # clients
    assert shapes["c_api"] == "("  # processes: rounded


def test_mermaid_flows_are_labelled_edges_and_unencrypted_crossings_stand_out(
    spec: ThreatModelSpec,
) -> None:
    parsed = _parse_mermaid(mermaid(spec, show_threats=False))
    assert len(parsed.edges) == len(spec.flows)
    for flow, (source, arrow, label, target) in zip(spec.flows, parsed.edges, strict=True):
        assert (source[2:], target[2:]) == (flow.source, flow.target)
        decoded = _mermaid_decode(label)[0]
        assert decoded.split(" · ")[0] == str(flow.protocol)
        flagged = (flow.source, flow.target) == ("worker", "cache")
        assert (arrow == "-.->") is flagged
        assert ("unencrypted" in decoded) is flagged
    flagged_index = [f.key for f in spec.flows].index("worker-to-cache")
    assert parsed.link_styles == [flagged_index]


def test_mermaid_hostile_names_stay_inside_their_labels() -> None:
    spec = _hostile_spec()
    text = mermaid(spec)
    parsed = _parse_mermaid(text)  # every line is still one the generator writes
    assert len(parsed.edges) == len(spec.flows)
    assert len(parsed.nodes) == len(spec.actors) + len(spec.components)
    assert len(parsed.subgraphs) == len(spec.boundaries)
    for character in ("<script", "`", '-->|"X', "]) -->"):
        assert character not in text
    names = {_mermaid_decode(label)[0] for _, label, _ in parsed.nodes.values()}
    for name in HOSTILE_NAMES.values():
        assert any(_display(name).startswith(shown.rstrip("…")) for shown in names), name
    labels = {" ".join(_mermaid_decode(label)[:-1]) for _, label, _ in parsed.nodes.values()}
    assert "<script>alert(1)</script>" in labels
    subgraph_labels = [_mermaid_decode(label)[0] for label, _ in parsed.subgraphs.values()]
    assert HOSTILE_BOUNDARY in subgraph_labels


def test_mermaid_counts_open_high_and_critical_threats(spec: ThreatModelSpec) -> None:
    threats = [
        _threat("components/api", Level.CRITICAL),
        _threat("components/api", Level.HIGH),
        _threat("components/api", Level.MEDIUM),  # below high: not counted
        _threat("components/api", Level.HIGH, status="accepted"),  # treated: not counted
        _threat("flows/worker-to-cache", Level.HIGH),
    ]
    parsed = _parse_mermaid(mermaid(spec, threats))
    assert _mermaid_decode(parsed.nodes["c_api"][1])[-1] == "⚠ 2 open high/critical"
    assert "⚠" not in "".join(_mermaid_decode(parsed.nodes["c_db"][1]))
    worker_to_cache = next(e for e in parsed.edges if e[0] == "c_worker" and e[3] == "c_cache")
    assert _mermaid_decode(worker_to_cache[2])[0].endswith("⚠ 1")
    assert "class c_api threats" in mermaid(spec, threats)
    quiet = _parse_mermaid(mermaid(spec, threats, show_threats=False))
    assert "#9888;" not in quiet.nodes["c_api"][1]


def _threat(path: str, level: Level, status: str = "open") -> Any:
    """A stand-in for engine.Threat: only what the diagram reads."""
    return SimpleNamespace(
        element=SimpleNamespace(path=path), residual=SimpleNamespace(level=level), status=status
    )


# -- DOT ----------------------------------------------------------------------------------------

_DOT_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<arrow>->)|(?P<punct>[{}\[\];,=])|(?P<id>[A-Za-z0-9_.]+))',
    re.S,
)


def _dot_tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _DOT_TOKEN.match(text, position)
        assert match, f"DOT does not tokenise at {text[position:][:40]!r}"
        assert match.end() > position
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match[kind]))
        position = match.end()
    return tokens


def _dot_string(token: str) -> str:
    """A quoted DOT string as Graphviz shows it: escapes undone, ``\\n`` a line break,
    ``&amp;`` an ampersand."""
    inner = re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], token[1:-1], flags=re.S)
    return inner.replace("&amp;", "&")


@dataclass
class Dot:
    nodes: dict[str, tuple[dict[str, str], str | None]] = field(default_factory=dict)
    clusters: dict[str, tuple[dict[str, str], str | None]] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


def _parse_dot(text: str) -> Dot:
    """A small parser for the subset of DOT the generator writes: anything else (a label that
    broke out of its string) fails it."""
    tokens = _dot_tokens(text)
    parsed = Dot()
    position = 0

    def take(kind: str, value: str | None = None) -> str:
        nonlocal position
        got_kind, got = tokens[position]
        assert got_kind == kind, (kind, value, tokens[position])
        assert value is None or got == value, (kind, value, tokens[position])
        position += 1
        return got

    def attributes() -> dict[str, str]:
        found: dict[str, str] = {}
        take("punct", "[")
        while tokens[position] != ("punct", "]"):
            key = take("id")
            take("punct", "=")
            kind, value = tokens[position]
            take(kind)
            found[key] = _dot_string(value) if kind == "str" else value
            if tokens[position] == ("punct", ","):
                take("punct", ",")
        take("punct", "]")
        take("punct", ";")
        return found

    take("id", "digraph")
    take("str")
    take("punct", "{")
    stack: list[str | None] = [None]
    while position < len(tokens):
        kind, value = tokens[position]
        if (kind, value) == ("punct", "}"):
            take("punct", "}")
            stack.pop()
        elif kind == "id" and value in ("graph", "node", "edge"):
            take("id")
            found = attributes()
            if value == "graph" and stack[-1] is not None:
                parsed.clusters[stack[-1]] = (found, parsed.clusters[stack[-1]][1])
        elif kind == "id" and value == "subgraph":
            take("id")
            name = _dot_string(take("str"))
            take("punct", "{")
            parsed.clusters[name] = ({}, stack[-1])
            stack.append(name)
        else:
            source = _dot_string(take("str"))
            if tokens[position] == ("arrow", "->"):
                take("arrow")
                target = _dot_string(take("str"))
                parsed.edges.append((source, target, attributes()))
            else:
                assert source not in parsed.nodes, f"{source} declared twice"
                parsed.nodes[source] = (attributes(), stack[-1])
    assert stack == [], "unbalanced braces"
    return parsed


def test_dot_clusters_hold_exactly_their_members(spec: ThreatModelSpec) -> None:
    parsed = _parse_dot(dot(spec))
    nodes = _nodes(spec)
    assert {key[2:] for key in parsed.nodes} == set(nodes)
    for key, (_, cluster) in parsed.nodes.items():
        inside = nodes[key[2:]]
        assert cluster == (f"cluster_b_{inside}" if inside else None), key
    assert set(parsed.clusters) == {f"cluster_b_{b.id}" for b in spec.boundaries}
    for boundary in spec.boundaries:
        attrs, parent = parsed.clusters[f"cluster_b_{boundary.id}"]
        assert parent == (f"cluster_b_{boundary.parent}" if boundary.parent else None)
        assert attrs["label"].split("\n")[0] == boundary.title


def test_dot_shapes_edges_and_styles(spec: ThreatModelSpec) -> None:
    parsed = _parse_dot(dot(spec))
    assert parsed.nodes["c_db"][0]["shape"] == "cylinder"
    assert parsed.nodes["c_browser"][0]["shape"] == "parallelogram"
    assert parsed.nodes["c_payments"][0]["peripheries"] == "2"
    assert len(parsed.edges) == len(spec.flows)
    for flow, (source, target, attrs) in zip(spec.flows, parsed.edges, strict=True):
        assert (source[2:], target[2:]) == (flow.source, flow.target)
        assert attrs["label"].startswith(str(flow.protocol))
        flagged = flow.key == "worker-to-cache"
        assert (attrs.get("style") == "dashed") is flagged
        assert ("unencrypted" in attrs["label"]) is flagged


def test_dot_hostile_names_parse_back_as_written() -> None:
    spec = _hostile_spec()
    parsed = _parse_dot(dot(spec))  # the parser fails on anything that broke out of a string
    assert len(parsed.edges) == len(spec.flows)
    assert len(parsed.nodes) == len(spec.actors) + len(spec.components)
    assert len(parsed.clusters) == len(spec.boundaries)
    for element_id, name in HOSTILE_NAMES.items():
        key = ("a_" if element_id == "customer" else "c_") + element_id
        shown = " ".join(parsed.nodes[key][0]["label"].split("\n")[:-1])
        assert _display(name).startswith(shown.rstrip("…")), (shown, name)
    assert parsed.nodes["c_browser"][0]["label"].startswith("<script>alert(1)</script>\n")
    assert parsed.nodes["c_db"][0]["label"].startswith('\\n" -> "c_api" [color=red\n')
    assert parsed.clusters["cluster_b_dmz"][0]["label"].startswith(HOSTILE_BOUNDARY + "\n")


# -- SVG: the built-in layout -----------------------------------------------------------------


def _svg_root(text: str) -> Element:
    root: Element = SafeET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    for element in root.iter():
        assert element.tag.startswith(SVG), element.tag
        name = element.tag.removeprefix(SVG)
        assert name not in ("script", "foreignObject", "iframe", "object", "embed"), name
        for attribute in element.attrib:
            assert not attribute.lower().startswith("on"), attribute
    return root


def _groups(root: Element, cls: str) -> list[Element]:
    return [g for g in root.iter(f"{SVG}g") if cls in (g.get("class") or "").split()]


Box = tuple[float, float, float, float]


def _inside(inner: Box, outer: Box) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[0] + inner[2] <= outer[0] + outer[2]
        and inner[1] + inner[3] <= outer[1] + outer[3]
    )


def _apart(a: Box, b: Box) -> bool:
    return a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1]


def _builtin_boxes(root: Element) -> tuple[dict[str, Box], dict[str, Box]]:
    nodes: dict[str, Box] = {}
    for group in _groups(root, "node"):
        x, y = map(float, re.findall(r"[-\d.]+", group.get("transform", ""))[:2])
        nodes[group.get("data-element", "")] = (x, y, diagram._NODE_W, diagram._NODE_H)
    boundaries: dict[str, Box] = {}
    for group in _groups(root, "boundary"):
        rects = group.findall(f"{SVG}rect")
        assert len(rects) == 1
        r = rects[0]
        x, y, width, height = (float(r.get(k, "nan")) for k in ("x", "y", "width", "height"))
        boundaries[group.get("data-element", "")] = (x, y, width, height)
    return nodes, boundaries


def test_builtin_svg_draws_one_node_per_element_inside_its_boundaries(
    spec: ThreatModelSpec,
) -> None:
    root = _svg_root(svg(spec, engine="builtin"))
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox", ""))
    nodes, boundaries = _builtin_boxes(root)
    elements = _nodes(spec)
    assert set(nodes) == {
        *(f"actors/{a.id}" for a in spec.actors),
        *(f"components/{c.id}" for c in spec.components),
    }
    assert set(boundaries) == {f"boundaries/{b.id}" for b in spec.boundaries}
    for path, box in nodes.items():
        element_id = path.partition("/")[2]
        chain = _chain(spec, elements[element_id])
        for boundary in spec.boundaries:
            where = boundaries[f"boundaries/{boundary.id}"]
            if boundary.id in chain:
                assert _inside(box, where), (path, boundary.id)
            else:
                assert _apart(box, where), (path, boundary.id)
    for boundary in spec.boundaries:
        box = boundaries[f"boundaries/{boundary.id}"]
        if boundary.parent:
            assert _inside(box, boundaries[f"boundaries/{boundary.parent}"])
        for other in spec.boundaries:  # siblings do not overlap
            if other.id != boundary.id and other.parent == boundary.parent:
                assert _apart(box, boundaries[f"boundaries/{other.id}"])
    paths = list(nodes)
    for i, a in enumerate(paths):
        for b in paths[i + 1 :]:
            assert _apart(nodes[a], nodes[b]), (a, b)


def test_builtin_svg_flows_have_arrows_labels_and_styles(spec: ThreatModelSpec) -> None:
    root = _svg_root(svg(spec, engine="builtin", show_threats=False))
    flows = _groups(root, "flow")
    assert [g.get("data-element") for g in flows] == [f"flows/{f.key}" for f in spec.flows]
    for group in flows:
        path = group.find(f"{SVG}path")
        assert path is not None
        assert path.get("marker-end", "").startswith("url(#")
    flagged = [g.get("data-element") for g in _groups(root, "unencrypted-crossing")]
    assert flagged == ["flows/worker-to-cache"]
    labels = ["".join(g.itertext()) for g in _groups(root, "flow-label")]
    assert labels == [
        f"{f.protocol} · unencrypted" if f.key == "worker-to-cache" else str(f.protocol)
        for f in spec.flows
    ]
    shapes = {g.get("data-element"): g.get("class") for g in _groups(root, "node")}
    assert shapes["components/db"] == "node datastore"
    assert shapes["actors/customer"] == "node actor"
    assert shapes["components/payments"] == "node external"


def test_builtin_svg_escapes_hostile_text() -> None:
    spec = _hostile_spec()
    text = svg(spec, engine="builtin")
    root = _svg_root(text)
    assert "<script" not in text
    assert "<svg onload" not in text
    nodes, boundaries = _builtin_boxes(root)
    assert len(nodes) == len(spec.actors) + len(spec.components)
    assert len(boundaries) == len(spec.boundaries)
    assert len(_groups(root, "flow")) == len(spec.flows)
    titles = {g.get("data-element"): g.findtext(f"{SVG}title") or "" for g in _groups(root, "node")}
    for element_id, name in HOSTILE_NAMES.items():
        prefix = "actors" if element_id == "customer" else "components"
        assert titles[f"{prefix}/{element_id}"].startswith(_display(name) + " ("), element_id
    assert "</text><script>x</script>" in titles["components/gateway"]
    assert root.findtext(f"{SVG}title", "").startswith("<svg onload=alert(1)>")
    browser = next(
        g for g in _groups(root, "node") if g.get("data-element") == "components/browser"
    )
    assert "<script>alert(1)</script>" in "".join(t.text or "" for t in browser.iter(f"{SVG}text"))


def test_builtin_svg_shows_threat_counts(analysis: Analysis) -> None:
    root = _svg_root(svg(analysis, engine="builtin"))
    drawn = (
        {f"actors/{a.id}" for a in analysis.model.spec.actors}
        | {f"components/{c.id}" for c in analysis.model.spec.components}
        | {f"boundaries/{b.id}" for b in analysis.model.spec.boundaries}
    )
    expected = Counter(
        t.element.path
        for t in analysis.threats
        if t.status == "open" and t.residual.level >= Level.HIGH and t.element.path in drawn
    )
    shown: Counter[str] = Counter()
    for group in [*_groups(root, "node"), *_groups(root, "boundary")]:
        for badge in _groups(group, "threat-count"):
            shown[group.get("data-element", "")] += int("".join(badge.itertext()))
    assert shown == expected
    total = sum(
        1 for t in analysis.threats if t.status == "open" and t.residual.level >= Level.HIGH
    )
    assert root.findtext(f"{SVG}title", "").endswith(f"{total} open high/critical threats")


# -- SVG: Graphviz ------------------------------------------------------------------------------


@pytest.mark.usefixtures("graphviz")
def test_graphviz_svg_is_valid_and_complete(spec: ThreatModelSpec) -> None:
    root = _svg_root(svg(spec, engine="graphviz", show_threats=False))
    assert root.get("viewBox")
    clusters = _groups(root, "cluster")
    assert len(clusters) == len(spec.boundaries)
    assert len(_groups(root, "node")) == len(spec.actors) + len(spec.components)
    assert len(_groups(root, "edge")) == len(spec.flows)
    assert len(_groups(root, "unencrypted-crossing")) == 1
    assert {c.findtext(f"{SVG}title") for c in clusters} == {
        f"cluster_b_{b.id}" for b in spec.boundaries
    }


@pytest.mark.usefixtures("graphviz")
def test_graphviz_reads_the_dot_as_the_test_parser_does() -> None:
    spec = _hostile_spec()
    done = subprocess.run(
        ["dot", "-Tjson"], input=dot(spec).encode(), capture_output=True, timeout=60, check=True
    )
    graph = json.loads(done.stdout)
    objects = graph["objects"]
    clusters = {o["name"]: o for o in objects if o["name"].startswith("cluster_")}
    nodes = {o["_gvid"]: o["name"] for o in objects if not o["name"].startswith("cluster_")}
    assert len(graph["edges"]) == len(spec.flows)
    assert sorted(n[2:] for n in nodes.values()) == sorted(_nodes(spec))
    for boundary in spec.boundaries:
        members = {nodes[i][2:] for i in clusters[f"cluster_b_{boundary.id}"].get("nodes", [])}
        expected = {c.id for c in spec.components if boundary.id in _chain(spec, c.boundary)}
        assert members == expected, boundary.id


@pytest.mark.usefixtures("graphviz")
def test_graphviz_svg_escapes_hostile_text() -> None:
    spec = _hostile_spec()
    text = svg(spec, engine="graphviz")
    root = _svg_root(text)
    assert "<script" not in text
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert "<script>alert(1)</script>" in texts
    assert any(t.startswith('\\n" -> "c_api"') for t in texts)
    assert any(t.startswith("&nbsp; &lt;b&gt;") for t in texts)
    assert len(_groups(root, "node")) == len(spec.actors) + len(spec.components)
    assert len(_groups(root, "edge")) == len(spec.flows)


def _fake_dot(monkeypatch: pytest.MonkeyPatch, stdout: bytes, returncode: int = 0) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: "/usr/bin/dot")

    def run(*_args: object, **_kwargs: object) -> subprocess.CompletedProcess[bytes]:
        return subprocess.CompletedProcess(["dot"], returncode, stdout, b"Error: lost edge")

    monkeypatch.setattr(subprocess, "run", run)


def test_graphviz_output_is_sanitised(
    monkeypatch: pytest.MonkeyPatch, spec: ThreatModelSpec
) -> None:
    evil = (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"'
        b' xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10" onload="x()">'
        b'<script>alert(1)</script><g class="node" style="x"><a xlink:href="javascript:x()">'
        b'<text onclick="y()">kept</text></a><foreignObject><p>no</p></foreignObject></g></svg>'
    )
    _fake_dot(monkeypatch, evil)
    text = svg(spec, engine="graphviz")
    root = _svg_root(text)
    for gone in ("javascript", "script", "foreignObject", "onload", "onclick", "style="):
        assert gone not in text
    assert [t.text for t in root.iter(f"{SVG}text")] == ["kept"]
    assert root.get("viewBox") == "0 0 10 10"


def test_auto_falls_back_to_the_builtin_layout(
    monkeypatch: pytest.MonkeyPatch, spec: ThreatModelSpec
) -> None:
    _fake_dot(monkeypatch, b"", returncode=1)
    with pytest.raises(GraphvizError, match="lost edge"):
        svg(spec, engine="graphviz")
    assert "shieldwall-dfd" in svg(spec, engine="auto")
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(GraphvizError, match="not installed"):
        svg(spec, engine="graphviz")
    assert "shieldwall-dfd" in svg(spec)


@pytest.mark.usefixtures("graphviz")
def test_auto_uses_graphviz_when_installed(spec: ThreatModelSpec) -> None:
    assert "shieldwall-dfd" not in svg(spec)
    assert _groups(_svg_root(svg(spec)), "cluster")


# -- odd and large models -----------------------------------------------------------------------


def _unchecked(model: dict[str, Any]) -> ThreatModelSpec:
    """A spec that skipped the loader's reference checks (as an API caller might build)."""
    return ThreatModelSpec.model_validate({"shieldwall_threat_model": 1, "title": "odd", **model})


def test_cycles_unknown_references_and_deep_nesting_do_not_hang() -> None:
    depth = 1500  # deeper than Python's recursion limit
    spec = _unchecked(
        {
            "boundaries": [
                {"id": "a", "parent": "b"},
                {"id": "b", "parent": "a"},
                {"id": "c", "parent": "nowhere"},
                {"id": "self", "parent": "self"},
                *({"id": f"d{i}", "parent": f"d{i - 1}" if i else None} for i in range(depth)),
            ],
            "components": [
                {"id": "x", "type": "api", "boundary": "a"},
                {"id": "y", "type": "database", "boundary": "missing"},
                {"id": "z", "type": "process", "boundary": f"d{depth - 1}"},
            ],
            "flows": [
                {"source": "x", "target": "y"},
                {"source": "y", "target": "x", "id": "back"},
                {"source": "x", "target": "ghost"},
                {"source": "x", "target": "x", "id": "loop"},
                {"source": "z", "target": "x"},
            ],
        }
    )
    parsed = _parse_mermaid(mermaid(spec))
    assert len(parsed.subgraphs) == depth + 4
    assert len(parsed.edges) == 4  # the flow to an unknown element is left out
    assert len(_parse_dot(dot(spec)).clusters) == depth + 4
    root = _svg_root(svg(spec, engine="builtin"))
    assert len(_groups(root, "boundary")) == depth + 4
    assert len(_groups(root, "flow")) == 4


def test_empty_model() -> None:
    spec = _unchecked({})
    assert _parse_mermaid(mermaid(spec)).nodes == {}
    assert _parse_dot(dot(spec)).nodes == {}
    root = _svg_root(svg(spec, engine="builtin"))
    assert "No actors or components" in "".join(root.itertext())


def _large_model(
    components: int = 1000, flows: int = 3000, boundaries: int = 60
) -> ThreatModelSpec:
    rnd = random.Random(20240601)
    kinds = ["process", "api", "database", "queue", "external_service", "browser", "cache"]
    model: dict[str, Any] = {
        "boundaries": [
            {"id": f"b{i}", "parent": f"b{rnd.randrange(i)}" if i and rnd.random() < 0.6 else None}
            for i in range(boundaries)
        ],
        "actors": [{"id": f"a{i}"} for i in range(10)],
        "components": [
            {
                "id": f"c{i}",
                "type": rnd.choice(kinds),
                "boundary": f"b{rnd.randrange(boundaries)}" if rnd.random() < 0.8 else None,
            }
            for i in range(components)
        ],
    }
    ids = [f"c{i}" for i in range(components)] + [f"a{i}" for i in range(10)]
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < flows:
        source, target = rnd.choice(ids), rnd.choice(ids)
        if source != target:
            pairs.add((source, target))
    model["flows"] = [
        {"source": s, "target": t, "protocol": rnd.choice(["https", "http", "sql"])}
        for s, t in sorted(pairs)
    ]
    return _unchecked(model)


def test_a_large_model_completes_in_every_format() -> None:
    spec = _large_model()
    parsed = _parse_mermaid(mermaid(spec))
    assert (len(parsed.nodes), len(parsed.edges)) == (1010, 3000)
    parsed_dot = _parse_dot(dot(spec))
    assert (len(parsed_dot.nodes), len(parsed_dot.edges)) == (1010, 3000)
    root = _svg_root(svg(spec, engine="builtin"))
    assert len(_groups(root, "node")) == 1010
    assert len(_groups(root, "flow")) == 3000
    assert len(_groups(root, "boundary")) == 60
    # auto does not hand a model this size to Graphviz
    assert "shieldwall-dfd" in svg(spec)
