"""Data-flow diagrams of a threat model: Mermaid, Graphviz DOT and SVG.

Every function takes either an ``Analysis`` (from ``service.analyse``: the diagram then shows,
on each element, how many of its threats are open at high or critical residual risk) or a bare
``ThreatModelSpec``, with an optional list of threats to count instead. The spec need not have
been through the loader's reference checks: unknown boundaries, boundary cycles and flows to
elements that do not exist are drawn around (or left out), never followed forever.

What the three formats share:

- trust boundaries are nested clusters (per ``parent``); a component sits in its innermost
  boundary; actors stand outside every boundary;
- shapes by kind: actors are pills, processes rounded boxes, data stores cylinders,
  external services double-edged boxes, clients slanted boxes, queues flags; out-of-scope
  components are greyed out;
- flows are arrows labelled with their protocol; a network flow that is not encrypted and
  crosses a trust boundary (the ``unencrypted-flow-across-boundary`` rule's condition) is red
  and dashed and says "unencrypted".

Every name comes from a file someone else wrote, so every piece of text is escaped for the
format it lands in: Mermaid entity codes (``#34;``) for anything but letters, digits and a few
harmless marks; DOT quoted strings with backslashes, quotes and ampersands escaped; XML escaping
in SVG. Identifiers in Mermaid and DOT are never user text: they are derived from element ids
(``c_api``, ``b_dmz``), reduced to ``[A-Za-z0-9_]`` and made unique.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as SafeET

from shieldwall.errors import ShieldwallError
from shieldwall.text import one_line
from shieldwall.threatmodel.schemas import ThreatModelSpec
from shieldwall.threatmodel.vocabulary import (
    CLIENT_TYPES,
    DATASTORE_TYPES,
    ENCRYPTED_PROTOCOLS,
    ComponentType,
    Level,
    Protocol,
    ThreatStatus,
)

if TYPE_CHECKING:
    from shieldwall.threatmodel.engine import Threat
    from shieldwall.threatmodel.service import Analysis

__all__ = ["Engine", "GraphvizError", "dot", "mermaid", "svg"]

Engine = Literal["auto", "graphviz", "builtin"]
Shape = Literal["actor", "process", "datastore", "external", "client", "queue"]

GRAPHVIZ_TIMEOUT = 30.0
"""Seconds ``dot`` may take before ``svg`` gives up on it (``auto`` then falls back to the
built-in layout)."""
GRAPHVIZ_MAX_ELEMENTS = 400
"""Above this many actors, components and flows together, ``auto`` does not try Graphviz: its
cluster layout grows much faster than linearly and would only hit the timeout."""

_LOCAL_PROTOCOLS = frozenset({Protocol.LOCAL, Protocol.IN_PROCESS})
_RED = "#c62828"


class GraphvizError(ShieldwallError):
    """Graphviz was asked for and is missing, failed or took too long."""


# -- the diagram every format draws --------------------------------------------------------


@dataclass
class _Node:
    id: str
    key: str
    path: str
    shape: Shape
    name: str
    detail: str
    boundary: str | None
    out_of_scope: bool = False
    threats: int = 0


@dataclass
class _Boundary:
    id: str
    key: str
    path: str
    name: str
    detail: str
    parent: str | None
    members: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    threats: int = 0


@dataclass
class _Edge:
    index: int
    key: str
    path: str
    source: str
    target: str
    protocol: str
    name: str
    flagged: bool
    """A network flow, not encrypted, that crosses a trust boundary."""
    threats: int = 0

    @property
    def label(self) -> str:
        return f"{self.protocol} · unencrypted" if self.flagged else self.protocol


@dataclass
class _Diagram:
    title: str
    nodes: dict[str, _Node]
    boundaries: dict[str, _Boundary]
    edges: list[_Edge]
    roots: list[tuple[str, str]]
    """Top level, in order: ``("node", id)`` and ``("boundary", id)``."""
    counted: bool
    """Whether threats were given (so that counts mean something)."""
    total_threats: int


def _text(value: object, max_length: int = 200) -> str:
    """One line of display text: control characters, bidi overrides, lone surrogates and
    XML non-characters removed, white space folded."""
    text = one_line(str(value), max_length)
    return "".join(
        ch for ch in text if not ("\ud800" <= ch <= "\udfff" or ch in ("\ufffe", "\uffff"))
    )


def _words(value: str) -> str:
    return value.replace("_", " ")


def _wrap(value: str, width: int, lines: int = 2) -> list[str]:
    """``value`` over at most ``lines`` lines of ``width`` characters, cut with an ellipsis."""
    wrapped = textwrap.wrap(value, width, break_long_words=True, break_on_hyphens=False) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        last = wrapped[-1]
        wrapped[-1] = (last[: width - 1] if len(last) >= width else last) + "…"
    return wrapped


class _Keys:
    """Identifiers safe in Mermaid and DOT, derived from element ids and unique."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def make(self, prefix: str, element_id: str) -> str:
        base = f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', element_id)[:80]}"
        key, n = base, 1
        while key in self.used:
            n += 1
            key = f"{base}_{n}"
        self.used.add(key)
        return key


def _shape(component_type: ComponentType) -> Shape:
    if component_type in DATASTORE_TYPES:
        return "datastore"
    if component_type in CLIENT_TYPES:
        return "client"
    if component_type == ComponentType.EXTERNAL_SERVICE:
        return "external"
    if component_type == ComponentType.QUEUE:
        return "queue"
    return "process"


def _boundary_parents(spec: ThreatModelSpec) -> dict[str, str | None]:
    """Each boundary's parent, with unknown parents dropped and cycles cut (linear)."""
    ids = [b.id for b in spec.boundaries]
    known = set(ids)
    parent: dict[str, str | None] = {}
    for b in spec.boundaries:
        if b.id not in parent:
            parent[b.id] = b.parent if b.parent in known and b.parent != b.id else None
    state: dict[str, int] = {}
    for start in ids:
        path: list[str] = []
        current: str | None = start
        while current is not None and current not in state:
            state[current] = 1
            path.append(current)
            current = parent[current]
        if current is not None and state[current] == 1:
            parent[path[-1]] = None  # the link that closes a cycle
        for b_id in path:
            state[b_id] = 2
    return parent


def _threat_counts(
    spec: ThreatModelSpec, threats: Iterable[Threat] | None
) -> tuple[dict[str, int], int]:
    """Open threats at high or critical residual risk, per element path, and in total.
    An entry point's threats count for its component."""
    counts: dict[str, int] = defaultdict(int)
    total = 0
    entry_component = {e.id: e.component for e in spec.entry_points}
    for threat in threats or ():
        if threat.status != ThreatStatus.OPEN or threat.residual.level < Level.HIGH:
            continue
        total += 1
        path = threat.element.path
        kind, _, element_id = path.partition("/")
        if kind == "entry_points" and element_id in entry_component:
            path = f"components/{entry_component[element_id]}"
        counts[path] += 1
    return counts, total


def _build(source: Analysis | ThreatModelSpec, threats: Iterable[Threat] | None) -> _Diagram:
    if isinstance(source, ThreatModelSpec):
        spec = source
    else:
        spec = source.model.spec
        if threats is None:
            threats = source.threats
    counted = threats is not None
    counts, total = _threat_counts(spec, threats)
    keys = _Keys()
    parents = _boundary_parents(spec)

    boundaries: dict[str, _Boundary] = {}
    for b in spec.boundaries:
        if b.id in boundaries:
            continue
        path = f"boundaries/{b.id}"
        boundaries[b.id] = _Boundary(
            b.id,
            keys.make("b", b.id),
            path,
            _text(b.title),
            _words(str(b.type)),
            parents[b.id],
            threats=counts.get(path, 0),
        )
    nodes: dict[str, _Node] = {}
    for actor in spec.actors:
        if actor.id in nodes:
            continue
        path = f"actors/{actor.id}"
        kind = "actor" if actor.human else "system actor"
        nodes[actor.id] = _Node(
            actor.id,
            keys.make("a", actor.id),
            path,
            "actor",
            _text(actor.title),
            f"{kind} · {_words(str(actor.trust))}",
            None,
            threats=counts.get(path, 0),
        )
    for component in spec.components:
        if component.id in nodes:
            continue
        path = f"components/{component.id}"
        detail = _words(str(component.type))
        if component.technology:
            detail = f"{detail} · {_text(component.technology, 60)}"
        if component.out_of_scope:
            detail = f"{detail} · out of scope"
        boundary = component.boundary if component.boundary in boundaries else None
        nodes[component.id] = _Node(
            component.id,
            keys.make("c", component.id),
            path,
            _shape(component.type),
            _text(component.title),
            detail,
            boundary,
            component.out_of_scope,
            counts.get(path, 0),
        )

    chains: dict[str | None, frozenset[str]] = {None: frozenset()}

    def chain(boundary_id: str | None) -> frozenset[str]:
        found = chains.get(boundary_id)
        if found is None:
            walk: list[str] = []
            current = boundary_id
            while current is not None and current not in chains:
                walk.append(current)
                current = boundaries[current].parent
            found = chains[current]
            for b_id in reversed(walk):
                found = found | {b_id}
                chains[b_id] = found
        return found

    edges: list[_Edge] = []
    actor_ids = {a.id for a in spec.actors}
    for flow in spec.flows:
        if flow.source not in nodes or flow.target not in nodes:
            continue
        start, end = nodes[flow.source], nodes[flow.target]
        crosses = bool(chain(start.boundary) ^ chain(end.boundary)) or (
            (flow.source in actor_ids) != (flow.target in actor_ids)
        )
        encrypted = (
            flow.encrypted
            if flow.encrypted is not None
            else flow.protocol in ENCRYPTED_PROTOCOLS or flow.protocol in _LOCAL_PROTOCOLS
        )
        network = flow.protocol not in _LOCAL_PROTOCOLS
        path = f"flows/{flow.key}"
        edges.append(
            _Edge(
                len(edges),
                flow.key,
                path,
                flow.source,
                flow.target,
                _text(flow.protocol, 40),
                _text(flow.title),
                network and not encrypted and crosses,
                counts.get(path, 0),
            )
        )

    roots: list[tuple[str, str]] = []
    for node in nodes.values():
        if node.boundary is None:
            roots.append(("node", node.id))
        else:
            boundaries[node.boundary].members.append(node.id)
    for b_id, parent in parents.items():
        if parent is None:
            roots.append(("boundary", b_id))
        else:
            boundaries[parent].children.append(b_id)
    return _Diagram(_text(spec.title), nodes, boundaries, edges, roots, counted, total)


def _walk(diagram: _Diagram) -> Iterator[tuple[Literal["open", "node", "close"], str, int]]:
    """The nesting, depth first and without recursion (boundaries may nest deeply):
    ``("open", boundary)``, ``("node", node)``, ``("close", boundary)`` with the depth."""
    stack: list[tuple[str | None, Iterator[tuple[str, str]]]] = [(None, iter(diagram.roots))]
    while stack:
        owner, items = stack[-1]
        item = next(items, None)
        if item is None:
            stack.pop()
            if owner is not None:
                yield "close", owner, len(stack) - 1
            continue
        kind, element_id = item
        if kind == "node":
            yield "node", element_id, len(stack) - 1
        else:
            boundary = diagram.boundaries[element_id]
            yield "open", element_id, len(stack) - 1
            inner = [("node", n) for n in boundary.members]
            inner += [("boundary", b) for b in boundary.children]
            stack.append((element_id, iter(inner)))


def _threat_line(count: int) -> str:
    return f"⚠ {count} open high/critical" if count else ""


def _node_lines(node: _Node, width: int, show_threats: bool) -> list[str]:
    lines = [*_wrap(node.name, width), *_wrap(node.detail, width + 6, 1)]
    if show_threats and node.threats:
        lines.append(_threat_line(node.threats))
    return lines


def _boundary_lines(boundary: _Boundary, width: int, show_threats: bool) -> list[str]:
    lines = [*_wrap(boundary.name, width), f"trust boundary · {boundary.detail}"]
    if show_threats and boundary.threats:
        lines.append(_threat_line(boundary.threats))
    return lines


def _edge_label(edge: _Edge, show_threats: bool) -> str:
    if show_threats and edge.threats:
        return f"{edge.label} · ⚠ {edge.threats}"
    return edge.label


# -- Mermaid ----------------------------------------------------------------------------------

_MERMAID_PLAIN = frozenset(" .,_/:+=?!'-")
_MERMAID_SHAPES: dict[Shape, tuple[str, str]] = {
    "actor": ("([", "])"),
    "process": ("(", ")"),
    "datastore": ("[(", ")]"),
    "external": ("[[", "]]"),
    "client": ("[/", "/]"),
    "queue": (">", "]"),
}
_MERMAID_CLASSES: dict[str, str] = {
    "actor": "fill:#fff4e0,stroke:#a35f00,color:#222",
    "process": "fill:#eaf1ff,stroke:#2f5fb3,color:#222",
    "datastore": "fill:#e9f7ec,stroke:#2e7d32,color:#222",
    "external": "fill:#f1f1f1,stroke:#555,color:#222",
    "client": "fill:#f4ecff,stroke:#6a3fb3,color:#222",
    "queue": "fill:#fff9db,stroke:#8a7300,color:#222",
    "outOfScope": "fill:#fafafa,stroke:#aaa,color:#888,stroke-dasharray:3 3",
    "threats": f"stroke:{_RED},stroke-width:3px",
    "boundary": "fill:#f7f8fa,stroke:#7a869a,stroke-dasharray:6 4,color:#333",
}


def _mermaid_text(value: str) -> str:
    """Text inside a quoted Mermaid label: letters, digits and a few marks as they are,
    everything else (quotes, brackets, ``#``, ``;``, ``<``, ``>``, backticks, ``&``, ``|``,
    ``%``, symbols) as a numeric entity code ``#NN;``, which Mermaid shows as the character.
    """
    return "".join(
        ch if (ch.isalnum() and ch.isprintable()) or ch in _MERMAID_PLAIN else f"#{ord(ch)};"
        for ch in value
    )


def _mermaid_label(lines: Sequence[str]) -> str:
    return '"' + "<br/>".join(_mermaid_text(line) for line in lines if line) + '"'


def mermaid(
    source: Analysis | ThreatModelSpec,
    threats: Iterable[Threat] | None = None,
    *,
    show_threats: bool = True,
) -> str:
    """The model as a Mermaid ``flowchart LR``.

    ``source`` is an ``Analysis`` (its threats are counted unless ``threats`` is given) or a
    ``ThreatModelSpec`` (counted against ``threats`` when given). Boundaries are nested
    ``subgraph``s, flows are edges in the order of the model's flows (so edge ``n`` is the
    model's ``n``-th drawable flow, which ``linkStyle`` relies on), an unencrypted flow across
    a boundary is a dotted red edge. With ``show_threats``, an element with open threats at
    high or critical residual risk says how many and has a red border (class ``threats``).
    Mermaid's renderer limits edges (500 by default): a very large model needs its
    ``maxEdges`` raised, or the SVG.
    """
    diagram = _build(source, threats)
    out = [
        "flowchart LR",
        "%% Data-flow diagram generated by Shieldwall. Labels are escaped; ids derive from"
        " element ids.",
    ]
    out += [f"  classDef {name} {style}" for name, style in _MERMAID_CLASSES.items()]
    by_class: dict[str, list[str]] = defaultdict(list)
    for event, element_id, depth in _walk(diagram):
        indent = "  " * (min(depth, 16) + 1)
        if event == "open":
            boundary = diagram.boundaries[element_id]
            label = _mermaid_label(_boundary_lines(boundary, 40, show_threats))
            out.append(f"{indent}subgraph {boundary.key} [{label}]")
            by_class["threats" if show_threats and boundary.threats else "boundary"].append(
                boundary.key
            )
        elif event == "close":
            out.append(f"{indent}end")
        else:
            node = diagram.nodes[element_id]
            opening, closing = _MERMAID_SHAPES[node.shape]
            label = _mermaid_label(_node_lines(node, 28, show_threats))
            out.append(f"{indent}{node.key}{opening}{label}{closing}")
            by_class["outOfScope" if node.out_of_scope else node.shape].append(node.key)
            if show_threats and node.threats:
                by_class["threats"].append(node.key)
    flagged: list[str] = []
    for edge in diagram.edges:
        source_key = diagram.nodes[edge.source].key
        target_key = diagram.nodes[edge.target].key
        arrow = "-.->" if edge.flagged else "-->"
        label = _mermaid_label([_edge_label(edge, show_threats)])
        out.append(f"  {source_key} {arrow}|{label}| {target_key}")
        if edge.flagged:
            flagged.append(str(edge.index))
    if flagged:
        out.append(f"  linkStyle {','.join(flagged)} stroke:{_RED},stroke-width:2px,color:{_RED}")
    for name, members in by_class.items():
        out.append(f"  class {','.join(members)} {name}")
    return "\n".join(out) + "\n"


# -- Graphviz DOT -----------------------------------------------------------------------------

_FONT = "Helvetica,Arial,sans-serif"
_DOT_SHAPES: dict[Shape, str] = {
    "actor": 'shape=box, style="rounded,filled", fillcolor="#fff4e0", color="#a35f00"',
    "process": 'shape=box, style="rounded,filled", fillcolor="#eaf1ff", color="#2f5fb3"',
    "datastore": 'shape=cylinder, style=filled, fillcolor="#e9f7ec", color="#2e7d32"',
    "external": 'shape=box, peripheries=2, style=filled, fillcolor="#f1f1f1", color="#555555"',
    "client": 'shape=parallelogram, style=filled, fillcolor="#f4ecff", color="#6a3fb3"',
    "queue": 'shape=cds, style=filled, fillcolor="#fff9db", color="#8a7300"',
}


def _dot_text(value: str) -> str:
    """Text inside a DOT quoted string: backslashes first (so ``\\n`` in a name is not a
    line break), then quotes; ``&`` as ``&amp;`` because Graphviz decodes entities in labels
    (and would pass ``&nbsp;`` through to its SVG, which no XML parser then reads)."""
    return value.replace("&", "&amp;").replace("\\", "\\\\").replace('"', '\\"')


def _dot_label(lines: Sequence[str]) -> str:
    return '"' + "\\n".join(_dot_text(line) for line in lines if line) + '"'


def dot(
    source: Analysis | ThreatModelSpec,
    threats: Iterable[Threat] | None = None,
    *,
    show_threats: bool = True,
) -> str:
    """The model as a Graphviz ``digraph`` laid out left to right.

    ``source`` and ``threats`` as for ``mermaid``. Boundaries are nested
    ``subgraph cluster_...``; every label is a quoted string (never an HTML-like label), so a
    name cannot add attributes, nodes or edges. Elements with open threats at high or critical
    residual risk get a red border and a count; unencrypted flows across a boundary are red,
    dashed and labelled.
    """
    return _dot(_build(source, threats), show_threats)


def _dot(diagram: _Diagram, show_threats: bool) -> str:
    title = diagram.title
    if show_threats and diagram.counted:
        title = f"{title} — {diagram.total_threats} open high/critical threats"
    out = [
        'digraph "threat_model" {',
        f'  graph [rankdir=LR, fontname="{_FONT}", fontsize=13, labelloc=t, labeljust=l,'
        f" nodesep=0.35, ranksep=0.8, label={_dot_label([title])}];",
        f'  node [fontname="{_FONT}", fontsize=10, margin="0.15,0.06"];',
        f'  edge [fontname="{_FONT}", fontsize=9, color="#555555", arrowsize=0.7];',
    ]
    for event, element_id, depth in _walk(diagram):
        indent = "  " * (min(depth, 16) + 1)
        if event == "open":
            boundary = diagram.boundaries[element_id]
            threat_style = (
                f', color="{_RED}", penwidth=2' if show_threats and boundary.threats else ""
            )
            out.append(f'{indent}subgraph "cluster_{boundary.key}" {{')
            out.append(
                f"{indent}  graph [label={_dot_label(_boundary_lines(boundary, 40, show_threats))},"
                ' style="rounded,dashed,filled", fillcolor="#7a869a10", color="#7a869a",'
                f' fontsize=11, class="boundary"{threat_style}];'
            )
        elif event == "close":
            out.append(f"{indent}}}")
        else:
            node = diagram.nodes[element_id]
            attributes = _DOT_SHAPES[node.shape]
            if node.out_of_scope:
                attributes = attributes.replace("style=", 'fontcolor="#888888", style=', 1)
                attributes += ', color="#aaaaaa"'
            if show_threats and node.threats:
                attributes += f', color="{_RED}", penwidth=2'
            label = _dot_label(_node_lines(node, 28, show_threats))
            out.append(f'{indent}"{node.key}" [label={label}, {attributes}, class="{node.shape}"];')
    for edge in diagram.edges:
        attributes = f"label={_dot_label([_edge_label(edge, show_threats)])}"
        if edge.flagged:
            attributes += (
                f', color="{_RED}", fontcolor="{_RED}", style=dashed, penwidth=1.6,'
                ' class="flow unencrypted-crossing"'
            )
        else:
            attributes += ', class="flow"'
        source_key = diagram.nodes[edge.source].key
        target_key = diagram.nodes[edge.target].key
        out.append(f'  "{source_key}" -> "{target_key}" [{attributes}];')
    out.append("}")
    return "\n".join(out) + "\n"


# -- SVG ----------------------------------------------------------------------------------------


def svg(
    source: Analysis | ThreatModelSpec,
    threats: Iterable[Threat] | None = None,
    *,
    engine: Engine = "auto",
    show_threats: bool = True,
    timeout: float = GRAPHVIZ_TIMEOUT,
) -> str:
    """The model as a standalone SVG document (no XML declaration, so it can also be inlined
    in HTML), with a ``viewBox`` so it scales.

    ``source`` and ``threats`` as for ``mermaid``. ``engine``:

    - ``graphviz`` renders ``dot(...)`` with the Graphviz ``dot`` program (found on
      ``PATH``), and raises ``GraphvizError`` when it is missing, fails or takes longer than
      ``timeout`` seconds;
    - ``builtin`` lays the diagram out in pure Python (layered, left to right, boundaries
      as nested rounded rectangles): always available, linear-ish in the model's size;
    - ``auto`` uses Graphviz when it is installed and the model has at most
      ``GRAPHVIZ_MAX_ELEMENTS`` actors, components and flows, and falls back to the built-in
      layout otherwise (also when Graphviz fails).
    """
    if engine not in ("auto", "graphviz", "builtin"):
        raise ValueError(f"unknown diagram engine {engine!r}")
    diagram = _build(source, threats)
    if engine != "builtin":
        size = len(diagram.nodes) + len(diagram.edges)
        program = shutil.which("dot")
        if engine == "graphviz" or (program and size <= GRAPHVIZ_MAX_ELEMENTS):
            try:
                return _graphviz_svg(_dot(diagram, show_threats), timeout)
            except GraphvizError:
                if engine == "graphviz":
                    raise
    return _builtin_svg(diagram, show_threats)


_SVG_NS = "http://www.w3.org/2000/svg"
_GRAPHVIZ_ELEMENTS = frozenset(
    {"svg", "g", "title", "desc", "polygon", "polyline", "path", "ellipse", "circle", "rect"}
    | {"line", "text", "tspan", "defs", "linearGradient", "radialGradient", "stop"}
)


def _graphviz_svg(dot_source: str, timeout: float) -> str:
    """Render with Graphviz, then sanitise.

    The DOT is ours, every label in it escaped, and Graphviz XML-escapes text in its SVG, so
    the output should hold nothing but shapes and text. It is still parsed (defusedxml: no
    entity expansion) and rebuilt keeping only the shape and text elements Graphviz draws
    with, without event handlers, links or ``style`` attributes: defence in depth against a
    Graphviz escaping bug or an unexpected version, since the web UI inlines this SVG. The
    rebuild also drops the XML declaration, DOCTYPE and comments.
    """
    program = shutil.which("dot")
    if program is None:
        raise GraphvizError(
            "Graphviz is not installed (no `dot` on PATH): install it, or use the built-in layout"
        )
    try:
        done = subprocess.run(  # noqa: S603 - Graphviz with fixed arguments, DOT on stdin, no shell
            [program, "-Tsvg"],
            input=dot_source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise GraphvizError(f"Graphviz took longer than {timeout:g} s") from error
    except OSError as error:
        raise GraphvizError(f"Graphviz could not run: {error}") from error
    if done.returncode != 0:
        problem = _text(done.stderr.decode("utf-8", "replace"), 300) or "no message"
        raise GraphvizError(f"Graphviz failed (exit {done.returncode}): {problem}")
    try:
        root = SafeET.fromstring(done.stdout)
    except Exception as error:  # defusedxml raises its own errors besides ParseError
        raise GraphvizError(f"Graphviz wrote SVG that does not parse: {error}") from error
    _sanitise(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def _sanitise(root: ET.Element) -> None:
    if root.tag != f"{{{_SVG_NS}}}svg":
        raise GraphvizError("Graphviz wrote something other than SVG")
    stack = [root]
    while stack:
        element = stack.pop()
        kept: list[ET.Element] = []
        pending = list(element)
        while pending:
            child = pending.pop(0)
            namespace, _, name = child.tag.rpartition("}")
            if namespace != f"{{{_SVG_NS}":
                continue
            if name == "a":  # a link (from a URL or tooltip) keeps its drawing, not the link
                pending[0:0] = list(child)
            elif name in _GRAPHVIZ_ELEMENTS:
                kept.append(child)
        for child in list(element):
            element.remove(child)
        element.extend(kept)
        stack.extend(kept)
        # Only SVG elements and plain attributes are left: write them without prefixes.
        element.tag = element.tag.rpartition("}")[2]
        for attribute in list(element.attrib):
            local = attribute.lower()
            if local.startswith(("on", "{")) or local in ("href", "style", "xmlns"):
                del element.attrib[attribute]
    root.set("xmlns", _SVG_NS)


# -- the built-in layout ------------------------------------------------------------------

_NODE_W = 168
_NODE_H = 58
_V_GAP = 24
_COL_GAP = 104
_PAD = 14
_LABEL_H = 36
_PAD_BOTTOM = 14
_MARGIN = 20
_TITLE_H = 36
_LEGEND_H = 52
_CHAR_W = 6.6
_SMALL_CHAR_W = 5.6
_PASSES = 3
_NAME_CHARS = 22

_FILLS: dict[Shape, tuple[str, str]] = {
    "actor": ("#fff4e0", "#a35f00"),
    "process": ("#eaf1ff", "#2f5fb3"),
    "datastore": ("#e9f7ec", "#2e7d32"),
    "external": ("#f1f1f1", "#555555"),
    "client": ("#f4ecff", "#6a3fb3"),
    "queue": ("#fff9db", "#8a7300"),
}
_BOUNDARY_STROKES = ("#5b6b84", "#8a5a9e", "#3f7f7f", "#9e6b3f")


def _ranks(order: Sequence[str], successors: dict[str, list[str]]) -> dict[str, int]:
    """Longest path from the sources, after reversing the edges that close cycles (found by
    a depth-first search from the sources first, without recursion). Linear."""
    indegree: dict[str, int] = dict.fromkeys(order, 0)
    for targets in successors.values():
        for target in targets:
            indegree[target] += 1
    starts = [n for n in order if indegree[n] == 0] + list(order)
    state: dict[str, int] = {}
    postorder: list[str] = []
    back: set[tuple[str, str]] = set()
    for start in starts:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(successors[start]))]
        while stack:
            node, pending = stack[-1]
            for target in pending:
                seen = state.get(target)
                if seen is None:
                    state[target] = 1
                    stack.append((target, iter(successors[target])))
                    break
                if seen == 1:
                    back.add((node, target))
            else:
                state[node] = 2
                postorder.append(node)
                stack.pop()
    forward: dict[str, list[str]] = defaultdict(list)
    for node, targets in successors.items():
        for target in targets:
            if (node, target) in back:
                forward[target].append(node)
            else:
                forward[node].append(target)
    rank = dict.fromkeys(order, 0)
    for node in reversed(postorder):
        for target in forward[node]:
            rank[target] = max(rank[target], rank[node] + 1)
    return rank


@dataclass
class _Layout:
    columns: int
    column_x: list[float]
    rank: dict[str, int]
    node_y: dict[str, float]
    boundary_box: dict[str, tuple[float, float, float, float]]
    height: float
    width: float


def _layout(diagram: _Diagram) -> _Layout:
    nodes = diagram.nodes
    boundaries = diagram.boundaries
    order = list(nodes)
    successors: dict[str, list[str]] = {n: [] for n in order}
    neighbours: dict[str, list[str]] = {n: [] for n in order}
    seen_pairs: set[tuple[str, str]] = set()
    for edge in diagram.edges:
        if edge.source == edge.target:
            continue
        neighbours[edge.source].append(edge.target)
        neighbours[edge.target].append(edge.source)
        if (edge.source, edge.target) not in seen_pairs:
            seen_pairs.add((edge.source, edge.target))
            successors[edge.source].append(edge.target)
    rank = _ranks(order, successors)
    columns = max(rank.values(), default=0) + 1

    # Boundaries deepest first (for sizes) and shallowest first (for positions).
    depth: dict[str, int] = {}
    for b_id in boundaries:
        walk: list[str] = []
        current: str | None = b_id
        while current is not None and current not in depth:
            walk.append(current)
            current = boundaries[current].parent
        base = depth[current] if current is not None else -1
        for offset, w_id in enumerate(reversed(walk), start=1):
            depth[w_id] = base + offset
    deepest_first = sorted(boundaries, key=lambda b: -depth[b])

    # The columns each boundary spans; an empty boundary sits at its parent's first column.
    lo: dict[str, int] = {}
    hi: dict[str, int] = {}
    for b_id in deepest_first:
        boundary = boundaries[b_id]
        spans = [rank[n] for n in boundary.members]
        spans += [lo[c] for c in boundary.children if c in lo]
        spans += [hi[c] for c in boundary.children if c in hi]
        if spans:
            lo[b_id], hi[b_id] = min(spans), max(spans)
    for b_id in reversed(deepest_first):
        if b_id not in lo:
            parent = boundaries[b_id].parent
            lo[b_id] = hi[b_id] = lo[parent] if parent is not None else 0
    # How many boundary edges stack up left and right of each column.
    k_left: dict[str, int] = {}
    k_right: dict[str, int] = {}
    left_need = [0] * columns
    right_need = [0] * columns
    for b_id in deepest_first:
        children = boundaries[b_id].children
        k_left[b_id] = 1 + max((k_left[c] for c in children if lo[c] == lo[b_id]), default=0)
        k_right[b_id] = 1 + max((k_right[c] for c in children if hi[c] == hi[b_id]), default=0)
        left_need[lo[b_id]] = max(left_need[lo[b_id]], k_left[b_id])
        right_need[hi[b_id]] = max(right_need[hi[b_id]], k_right[b_id])
    column_x: list[float] = []
    x = float(_MARGIN)
    for column in range(columns):
        x += left_need[column] * _PAD
        column_x.append(x)
        x += _NODE_W + right_need[column] * _PAD + _COL_GAP
    width = x - _COL_GAP + _MARGIN

    # Items of each container (None is the top level), packed column by column.
    items: dict[str | None, list[tuple[str, str]]] = {None: list(diagram.roots)}
    for b_id, boundary in boundaries.items():
        items[b_id] = [("node", n) for n in boundary.members]
        items[b_id] += [("boundary", c) for c in boundary.children]
    containers: list[str | None] = [*deepest_first, None]
    local_y: dict[tuple[str, str], float] = {}
    height: dict[str, float] = {}
    node_y: dict[str, float] = {}
    boundary_y: dict[str, float] = {}

    def pack() -> float:
        top_height = 0.0
        for container in containers:
            first, last = (0, columns - 1) if container is None else (lo[container], hi[container])
            skyline = [0.0] * (last - first + 1)
            for item in items[container]:
                kind, element_id = item
                if kind == "node":
                    column = rank[element_id] - first
                    local_y[item] = skyline[column]
                    skyline[column] += _NODE_H + _V_GAP
                else:
                    a, b = lo[element_id] - first, hi[element_id] - first
                    y = max(skyline[a : b + 1])
                    local_y[item] = y
                    skyline[a : b + 1] = [y + height[element_id] + _V_GAP] * (b - a + 1)
            content = max(max(skyline, default=0.0) - _V_GAP, 0.0)
            if container is None:
                top_height = content
            else:
                height[container] = _LABEL_H + max(content, _NODE_H / 2) + _PAD_BOTTOM
        # Top down: absolute positions.
        for container in reversed(containers):
            top = _MARGIN + _TITLE_H if container is None else boundary_y[container] + _LABEL_H
            for item in items[container]:
                kind, element_id = item
                if kind == "node":
                    node_y[element_id] = top + local_y[item]
                else:
                    boundary_y[element_id] = top + local_y[item]
        return top_height

    weight = {n: len(neighbours[n]) for n in order}
    members_of: dict[str, list[str]] = {b: [] for b in boundaries}
    for node in nodes.values():
        current = node.boundary
        while current is not None:
            members_of[current].append(node.id)
            current = boundaries[current].parent
    content_height = pack()
    for _ in range(_PASSES):
        # Barycentres: the mean height of each item's neighbours, then items sorted by it.
        pull = {n: sum(node_y[m] for m in neighbours[n]) for n in order}
        for container in containers:
            keyed = []
            for position, item in enumerate(items[container]):
                kind, element_id = item
                members = [element_id] if kind == "node" else members_of[element_id]
                count = sum(weight[m] for m in members)
                current_y = node_y[element_id] if kind == "node" else boundary_y[element_id]
                mean = sum(pull[m] for m in members) / count if count else current_y
                keyed.append((mean, current_y, position, item))
            keyed.sort(key=lambda k: k[:3])
            items[container] = [k[3] for k in keyed]
        content_height = pack()

    boxes: dict[str, tuple[float, float, float, float]] = {}
    for b_id in boundaries:
        left = column_x[lo[b_id]] - k_left[b_id] * _PAD
        right = column_x[hi[b_id]] + _NODE_W + k_right[b_id] * _PAD
        boxes[b_id] = (left, boundary_y[b_id], right - left, height[b_id])
    total_height = _MARGIN + _TITLE_H + content_height + _MARGIN + _LEGEND_H
    return _Layout(columns, column_x, rank, node_y, boxes, total_height, width)


def _fmt(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _node_svg(node: _Node, x: float, y: float, show_threats: bool) -> list[str]:
    fill, stroke = _FILLS[node.shape]
    w, h = _NODE_W, _NODE_H
    look = f'fill="{fill}" stroke="{stroke}" stroke-width="1.3"'
    if node.out_of_scope:
        look = 'fill="#fafafa" stroke="#aaaaaa" stroke-width="1.2" stroke-dasharray="4 3"'
    if show_threats and node.threats:
        look = look.replace(f'stroke="{stroke}"', f'stroke="{_RED}"').replace(
            'stroke-width="1.3"', 'stroke-width="2.4"'
        )
    f = _fmt
    title = f"{node.name} ({node.path}) — {node.detail}"
    if node.threats:
        title += f" — {node.threats} open high/critical threats"
    out = [
        f"<g class={quoteattr(f'node {node.shape}')} data-element={quoteattr(node.path)}"
        f' transform="translate({f(x)} {f(y)})">',
        f"<title>{escape(title)}</title>",
    ]
    x = y = 0.0  # drawn in the group's own coordinates
    outline = look[look.index("stroke=") :]
    text_x = x + w / 2
    chars = _NAME_CHARS
    if node.shape == "actor":
        out.append(f'<rect x="{f(x)}" y="{f(y)}" width="{w}" height="{h}" rx="{h / 2}" {look}/>')
        # A small person: head and shoulders.
        out.append(
            f'<circle cx="{f(x + 20)}" cy="{f(y + 21)}" r="5" fill="none" stroke="{stroke}"/>'
            f'<path d="M{f(x + 11)} {f(y + 39)}a9 9 0 0 1 18 0" fill="none" stroke="{stroke}"/>'
        )
        text_x += 10
        chars -= 3
    elif node.shape == "datastore":
        ry = 7
        out.append(
            f'<path d="M{f(x)} {f(y + ry)}a{w / 2} {ry} 0 0 1 {w} 0v{h - 2 * ry}'
            f'a{w / 2} {ry} 0 0 1 {-w} 0z" {look}/>'
            f'<path d="M{f(x)} {f(y + ry)}a{w / 2} {ry} 0 0 0 {w} 0" fill="none" {outline}/>'
        )
    elif node.shape == "external":
        out.append(
            f'<rect x="{f(x)}" y="{f(y)}" width="{w}" height="{h}" {look}/>'
            f'<path d="M{f(x + 7)} {f(y)}v{h}M{f(x + w - 7)} {f(y)}v{h}" fill="none" {outline}/>'
        )
        chars -= 1
    elif node.shape == "client":
        s = 12
        points = f"{f(x + s)},{f(y)} {f(x + w)},{f(y)} {f(x + w - s)},{f(y + h)} {f(x)},{f(y + h)}"
        out.append(f'<polygon points="{points}" {look}/>')
        chars -= 2
    elif node.shape == "queue":
        s = 14
        points = (
            f"{f(x)},{f(y)} {f(x + w - s)},{f(y)} {f(x + w)},{f(y + h / 2)}"
            f" {f(x + w - s)},{f(y + h)} {f(x)},{f(y + h)}"
        )
        out.append(f'<polygon points="{points}" {look}/>')
        text_x -= 5
        chars -= 2
    else:
        out.append(f'<rect x="{f(x)}" y="{f(y)}" width="{w}" height="{h}" rx="10" {look}/>')
    name_lines = _wrap(node.name, chars)
    detail = _wrap(node.detail, int(chars * _CHAR_W / _SMALL_CHAR_W), 1)[0]
    lines = len(name_lines) + 1
    first = y + h / 2 - (lines - 1) * 7 + 4
    colour = "#888888" if node.out_of_scope else "#1d1d1d"
    for i, line in enumerate(name_lines):
        out.append(
            f'<text x="{f(text_x)}" y="{f(first + i * 14)}" text-anchor="middle" font-size="12"'
            f' font-weight="600" fill="{colour}">{escape(line)}</text>'
        )
    out.append(
        f'<text x="{f(text_x)}" y="{f(first + len(name_lines) * 14)}" text-anchor="middle"'
        f' font-size="10" fill="#666666">{escape(detail)}</text>'
    )
    if show_threats and node.threats:
        out.append(_badge(x + w - 6, y + 4, node.threats))
    out.append("</g>")
    return out


def _badge(cx: float, cy: float, count: int) -> str:
    text = str(count) if count < 100 else "99+"
    r = 9 if len(text) == 1 else 11
    return (
        f'<g class="threat-count"><circle cx="{_fmt(cx)}" cy="{_fmt(cy)}" r="{r}"'
        f' fill="{_RED}" stroke="#ffffff" stroke-width="1.5"/>'
        f'<text x="{_fmt(cx)}" y="{_fmt(cy + 3.5)}" text-anchor="middle" font-size="10"'
        f' font-weight="700" fill="#ffffff">{text}</text></g>'
    )


def _bezier_mid(
    p0: tuple[float, float],
    p1: tuple[float, float],
    p2: tuple[float, float],
    p3: tuple[float, float],
) -> tuple[float, float]:
    return (
        (p0[0] + 3 * p1[0] + 3 * p2[0] + p3[0]) / 8,
        (p0[1] + 3 * p1[1] + 3 * p2[1] + p3[1]) / 8,
    )


def _builtin_svg(diagram: _Diagram, show_threats: bool) -> str:
    layout = _layout(diagram)
    f = _fmt
    nodes = diagram.nodes
    node_x = {n: layout.column_x[layout.rank[n]] for n in nodes}
    node_y = layout.node_y

    title = diagram.title
    if show_threats and diagram.counted:
        title = f"{title} — {diagram.total_threats} open high/critical threats"
    legend = (
        "pill: actor · rounded: process · cylinder: data store · double-edged: external"
        " service · slanted: client · flag: queue"
    )
    width = max(
        layout.width,
        _MARGIN * 2 + len(title) * 8.0,
        _MARGIN * 2 + len(legend) * _SMALL_CHAR_W,
        420.0,
    )
    height = layout.height
    out = [
        f'<svg xmlns="{_SVG_NS}" viewBox="0 0 {f(width)} {f(height)}" width="{f(width)}"'
        f' height="{f(height)}" role="img" font-family="{_FONT}" class="shieldwall-dfd">',
        f"<title>{escape(title)}</title>",
        "<defs>",
        '<marker id="sw-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8"'
        ' markerHeight="8" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z"'
        ' fill="#555555"/></marker>',
        '<marker id="sw-arrow-red" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8"'
        f' markerHeight="8" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z"'
        f' fill="{_RED}"/></marker>',
        "</defs>",
        f'<rect x="0" y="0" width="{f(width)}" height="{f(height)}" fill="#ffffff"/>',
        f'<text x="{_MARGIN}" y="{_MARGIN + 16}" font-size="16" font-weight="700"'
        f' fill="#1d1d1d">{escape(title)}</text>',
    ]

    # Boundaries, outermost first so the inner ones are drawn on top.
    for event, b_id, depth in _walk(diagram):
        if event != "open":
            continue
        boundary = diagram.boundaries[b_id]
        x, y, w, h = layout.boundary_box[b_id]
        stroke = _BOUNDARY_STROKES[depth % len(_BOUNDARY_STROKES)]
        has_threats = show_threats and boundary.threats > 0
        edge_colour, edge_width = (_RED, 2.0) if has_threats else (stroke, 1.3)
        chars = max(int((w - 24) / _CHAR_W), 4)
        name = _wrap(boundary.name, chars, 1)[0]
        detail = _wrap(f"trust boundary · {boundary.detail}", int((w - 24) / _SMALL_CHAR_W), 1)[0]
        title_text = f"{boundary.name} ({boundary.path}) — trust boundary · {boundary.detail}"
        if boundary.threats:
            title_text += f" — {boundary.threats} open high/critical threats"
        out += [
            f'<g class="cluster boundary" data-element={quoteattr(boundary.path)}>',
            f"<title>{escape(title_text)}</title>",
            f'<rect x="{f(x)}" y="{f(y)}" width="{f(w)}" height="{f(h)}" rx="12"'
            f' fill="{stroke}" fill-opacity="0.06"'
            f' stroke="{edge_colour}" stroke-width="{edge_width}"'
            ' stroke-dasharray="7 4"/>',
            f'<text x="{f(x + 12)}" y="{f(y + 16)}" font-size="12" font-weight="700"'
            f' fill="{stroke}">{escape(name)}</text>',
            f'<text x="{f(x + 12)}" y="{f(y + 29)}" font-size="10" fill="{stroke}">'
            f"{escape(detail)}</text>",
        ]
        if has_threats:
            out.append(_badge(x + w - 14, y + 14, boundary.threats))
        out.append("</g>")

    # Edges: each end gets a port on the node's side, spread by the other end's height.
    ports: dict[tuple[str, str], list[tuple[float, int]]] = defaultdict(list)
    geometry: dict[int, tuple[bool, bool]] = {}
    for edge in diagram.edges:
        if edge.source == edge.target:
            continue
        forward = layout.rank[edge.target] > layout.rank[edge.source]
        geometry[edge.index] = (forward, False)
        out_side, in_side = ("right", "left") if forward else ("left", "right")
        ports[(edge.source, out_side)].append((node_y[edge.target], edge.index))
        ports[(edge.target, in_side)].append((node_y[edge.source], edge.index))
    port_y: dict[tuple[str, int], float] = {}
    for (node_id, _side), ends in ports.items():
        ends.sort()
        step = _NODE_H / (len(ends) + 1)
        for i, (_, index) in enumerate(ends, start=1):
            port_y[(node_id, index)] = node_y[node_id] + step * i

    paths: list[str] = []
    labels: list[str] = []
    for edge in diagram.edges:
        colour = _RED if edge.flagged else "#555555"
        marker = "sw-arrow-red" if edge.flagged else "sw-arrow"
        dash = ' stroke-dasharray="6 4"' if edge.flagged else ""
        sx, sy = node_x[edge.source], node_y[edge.source]
        if edge.source == edge.target:
            start = (sx + _NODE_W * 0.55, sy)
            end = (sx + _NODE_W * 0.8, sy)
            c1, c2 = (start[0], sy - 40), (end[0], sy - 40)
        else:
            forward = geometry[edge.index][0]
            tx = node_x[edge.target]
            y1 = port_y[(edge.source, edge.index)]
            y2 = port_y[(edge.target, edge.index)]
            if forward:
                start, end = (sx + _NODE_W, y1), (tx, y2)
                bend = max(40.0, (end[0] - start[0]) / 2)
                c1, c2 = (start[0] + bend, y1), (end[0] - bend, y2)
            else:
                start, end = (sx, y1), (tx + _NODE_W, y2)
                bend = max(40.0, (start[0] - end[0]) / 2)
                c1, c2 = (start[0] - bend, y1), (end[0] + bend, y2)
        d = (
            f"M{f(start[0])} {f(start[1])}C{f(c1[0])} {f(c1[1])} {f(c2[0])} {f(c2[1])}"
            f" {f(end[0])} {f(end[1])}"
        )
        classes = "edge flow unencrypted-crossing" if edge.flagged else "edge flow"
        stroke_width = 1.8 if edge.flagged else 1.2
        title_text = f"{edge.name} ({edge.path}) — {edge.label}"
        if edge.threats:
            title_text += f" — {edge.threats} open high/critical threats"
        paths.append(
            f"<g class={quoteattr(classes)} data-element={quoteattr(edge.path)}>"
            f"<title>{escape(title_text)}</title>"
            f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{stroke_width}"'
            f'{dash} marker-end="url(#{marker})"/></g>'
        )
        mx, my = _bezier_mid(start, c1, c2, end)
        text = _edge_label(edge, show_threats)
        text_w = len(text) * _SMALL_CHAR_W + 8
        labels.append(
            f'<g class="flow-label"><rect x="{f(mx - text_w / 2)}" y="{f(my - 8)}"'
            f' width="{f(text_w)}" height="14" rx="3" fill="#ffffff" fill-opacity="0.85"/>'
            f'<text x="{f(mx)}" y="{f(my + 3)}" text-anchor="middle" font-size="10"'
            f' fill="{colour}">{escape(text)}</text></g>'
        )
    out += paths
    for node_id, node in nodes.items():
        out += _node_svg(node, node_x[node_id], node_y[node_id], show_threats)
    out += labels

    # The legend.
    y = height - _LEGEND_H + 14
    out += [
        '<g class="legend">',
        f'<path d="M{_MARGIN} {f(y)}h36" stroke="#555555" stroke-width="1.2"'
        ' marker-end="url(#sw-arrow)"/>',
        f'<text x="{_MARGIN + 44}" y="{f(y + 4)}" font-size="10" fill="#444444">flow'
        " (protocol)</text>",
        f'<path d="M{_MARGIN + 130} {f(y)}h36" stroke="{_RED}" stroke-width="1.8"'
        ' stroke-dasharray="6 4" marker-end="url(#sw-arrow-red)"/>',
        f'<text x="{_MARGIN + 174}" y="{f(y + 4)}" font-size="10" fill="{_RED}">unencrypted'
        " flow across a trust boundary</text>",
    ]
    if show_threats and diagram.counted:
        out += [
            _badge(_MARGIN + 444, y, 1),
            f'<text x="{_MARGIN + 458}" y="{f(y + 4)}" font-size="10" fill="#444444">open'
            " threats at high or critical residual risk</text>",
        ]
    out += [
        f'<text x="{_MARGIN}" y="{f(y + 24)}" font-size="10" fill="#666666">'
        f"{escape(legend)}</text>",
        "</g>",
    ]
    if not nodes:
        out.append(
            f'<text x="{_MARGIN}" y="{_MARGIN + _TITLE_H + 14}" font-size="12"'
            ' fill="#666666">No actors or components in this model.</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"
