"""OWASP Threat Dragon 2 models (the JSON file Threat Dragon saves).

A Threat Dragon model is a set of diagrams (``detail.diagrams[].cells``): nodes (actors,
processes, stores), flows between them, trust boundaries drawn either as boxes
(``trust-boundary-box``) or as open curves (``trust-boundary-curve``), and free text. Each
cell's ``data`` holds what Threat Dragon asks about it (``isEncrypted``, ``isPublicNetwork``,
``protocol`` on flows; ``isALog``, ``storesCredentials`` on stores; ``outOfScope``) and the
threats written for it.

What maps, and how:

- actors become actors; processes become processes (web applications when
  ``isWebApplication``); stores become databases (log stores when ``isALog``), with
  ``isEncrypted`` and ``isSigned`` as controls and an asset for the credentials of a store
  that ``storesCredentials``;
- boundary boxes become boundaries: a node belongs to the innermost box its centre lies in,
  a box to the smallest box around it. Boundary curves do not enclose anything, so they
  cannot say which side a node is on: no boundary is made for them, and the note names the
  flows drawn across each curve, whose elements need placing in boundaries by hand;
- flows keep their protocol (read from Threat Dragon's free text), ``isEncrypted``, and
  make the components at their ends internet-facing when ``isPublicNetwork``. A flow end
  left loose near a node (a common slip when drawing) is attached to that node, and noted.

Threats written in Threat Dragon are not imported (Shieldwall's rules make the threats);
the notes count them so that they can be compared with Shieldwall's.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shieldwall.threatmodel.importers.base import (
    Draft,
    Importer,
    ImportResult,
    Reader,
    load_json,
    name,
    protocol_from_text,
    text,
    unique,
)
from shieldwall.threatmodel.vocabulary import ActorTrust, ComponentType, Feature, Protocol

_TYPE_OF_SHAPE = {
    "actor": "tm.Actor",
    "process": "tm.Process",
    "store": "tm.Store",
    "flow": "tm.Flow",
    "trust-boundary-box": "tm.BoundaryBox",
    "trust-boundary-curve": "tm.Boundary",
    "td-text-block": "tm.Text",
}
_NODES = frozenset({"tm.Actor", "tm.Process", "tm.Store"})
SNAP_DISTANCE = 25.0
"""How far (in diagram units) a loose flow end may be from a node to be attached to it."""

Point = tuple[float, float]


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    width: float
    height: float

    @property
    def centre(self) -> Point:
        return self.x + self.width / 2, self.y + self.height / 2

    @property
    def area(self) -> float:
        return self.width * self.height

    def contains(self, point: Point) -> bool:
        px, py = point
        return self.x <= px <= self.x + self.width and self.y <= py <= self.y + self.height

    def encloses(self, other: _Box) -> bool:
        return self.contains((other.x, other.y)) and self.contains(
            (other.x + other.width, other.y + other.height)
        )

    def distance(self, point: Point) -> float:
        px, py = point
        dx = max(self.x - px, 0.0, px - (self.x + self.width))
        dy = max(self.y - py, 0.0, py - (self.y + self.height))
        return math.hypot(dx, dy)


@dataclass
class _Cell:
    id: str
    kind: str
    """Threat Dragon's type: tm.Actor, tm.Process, tm.Store, tm.Flow, tm.BoundaryBox, ..."""
    data: dict[str, Any]
    raw: dict[str, Any]
    title: str
    box: _Box | None
    element_id: str = ""


def read(path: Path) -> ImportResult:
    reader = Reader(path)
    root = reader.mapping(load_json(path), "the file", optional=False)
    summary = reader.mapping(root.get("summary"), "summary")
    detail = reader.mapping(root.get("detail"), "detail", optional=False)
    diagrams = reader.records(detail.get("diagrams"), "detail.diagrams")
    if any("diagramJson" in d for d in diagrams):
        raise reader.fail("a Threat Dragon 1 model: open it in Threat Dragon 2 and save it")
    draft = Draft(path, "Threat Dragon")
    reviewer = name(detail.get("reviewer"))
    draft.model.update(
        {
            "title": name(summary.get("title")) or path.stem,
            "description": text(summary.get("description")),
            "owner": name(summary.get("owner")),
            "reviewers": [reviewer] if reviewer else None,
        }
    )
    cells = _cells(reader, diagrams)
    boxes = [c for c in cells.values() if c.kind == "tm.BoundaryBox"]
    _boundaries(draft, boxes)
    _nodes(draft, reader, cells, boxes)
    flows = _flows(draft, reader, cells)
    _curves(draft, cells, flows)
    _threats(draft, cells)
    if len(diagrams) > 1:
        draft.note(
            f"{len(diagrams)} diagrams merged into one model: an element drawn on two "
            "diagrams appears twice (merge them by hand)"
        )
    if detail.get("contributors"):
        draft.note("contributors have no place in a Shieldwall model")
    return draft.finish()


IMPORTER = Importer("threat-dragon", "OWASP Threat Dragon 2", read)


# -- cells ---------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _box(reader: Reader, cell: dict[str, Any], where: str) -> _Box | None:
    position = reader.mapping(cell.get("position"), f"{where}: position")
    size = reader.mapping(cell.get("size"), f"{where}: size")
    values = [
        _number(position.get("x")),
        _number(position.get("y")),
        _number(size.get("width")),
        _number(size.get("height")),
    ]
    if any(v is None for v in values):
        return None
    x, y, width, height = (v or 0.0 for v in values)
    return _Box(x, y, abs(width), abs(height))


def _label(reader: Reader, cell: dict[str, Any], data: dict[str, Any], where: str) -> str:
    """A cell's name: its data's, else the text drawn on it (boundary boxes keep theirs
    in ``attrs.label.text``)."""
    attrs = reader.mapping(cell.get("attrs"), f"{where}: attrs")
    for value in (
        data.get("name"),
        reader.mapping(attrs.get("text"), f"{where}: attrs.text").get("text"),
        reader.mapping(attrs.get("label"), f"{where}: attrs.label").get("text"),
    ):
        label = name(value)
        if label:
            return label
    return ""


def _cells(reader: Reader, diagrams: list[dict[str, Any]]) -> dict[str, _Cell]:
    cells: dict[str, _Cell] = {}
    for d, diagram in enumerate(diagrams):
        for c, cell in enumerate(reader.records(diagram.get("cells"), f"diagram {d}: cells")):
            where = f"diagram {d}, cell {c}"
            data = reader.mapping(cell.get("data"), f"{where}: data")
            kind = str(data.get("type") or _TYPE_OF_SHAPE.get(str(cell.get("shape")), ""))
            cell_id = cell.get("id")
            if not isinstance(cell_id, str | int) or isinstance(cell_id, bool):
                raise reader.fail(f"{where} has no id")
            if str(cell_id) in cells:
                raise reader.fail(f"two cells have the id {cell_id!r}")
            box = _box(reader, cell, where) if kind in _NODES | {"tm.BoundaryBox"} else None
            if kind == "tm.BoundaryBox" and box is None:
                raise reader.fail(f"{where}: a boundary box without a position and size")
            label = _label(reader, cell, data, where)
            cells[str(cell_id)] = _Cell(str(cell_id), kind, data, cell, label, box)
    return cells


# -- boundaries and nodes ------------------------------------------------------------------


def _innermost(boxes: list[_Cell], inside: Any) -> _Cell | None:
    """The smallest box for which ``inside(box)`` holds."""
    around = [b for b in boxes if b.box is not None and inside(b.box)]
    return min(around, key=lambda b: b.box.area if b.box else 0.0, default=None)


def _boundaries(draft: Draft, boxes: list[_Cell]) -> None:
    for box in boxes:
        box.element_id = draft.new_id(box.title or "trust-boundary", "trust-boundary")
    for box in boxes:
        assert box.box is not None
        own = box.box
        parent = _innermost(
            [b for b in boxes if b is not box],
            lambda other, own=own: other.encloses(own) and other.area > own.area,
        )
        draft.add(
            "boundaries",
            {
                "id": box.element_id,
                "name": name(box.title),
                "description": text(box.data.get("description")),
                "parent": parent.element_id if parent else None,
            },
        )


def _nodes(draft: Draft, reader: Reader, cells: dict[str, _Cell], boxes: list[_Cell]) -> None:
    actors_in_boxes, authenticating, privileges, unplaced = [], [], [], []
    for cell in cells.values():
        if cell.kind not in _NODES:
            if cell.kind not in ("tm.Flow", "tm.BoundaryBox", "tm.Boundary", "tm.Text"):
                draft.note(f"cell {cell.title or cell.id!r} of type {cell.kind!r} left out")
            continue
        fallback = cell.kind.removeprefix("tm.").lower()
        cell.element_id = draft.new_id(cell.title or fallback, fallback)
        data, where = cell.data, f"{cell.title or cell.id!r}"
        around = _innermost(boxes, lambda b, c=cell: c.box is not None and b.contains(c.box.centre))
        if cell.box is None and boxes:
            unplaced.append(where)
        if cell.kind == "tm.Actor":
            if around is not None:
                actors_in_boxes.append(f"{cell.title} ({around.title})")
            if reader.flag(data.get("providesAuthentication"), f"{where}: providesAuthentication"):
                authenticating.append(cell.title)
            draft.add(
                "actors",
                {
                    "id": cell.element_id,
                    "name": name(cell.title),
                    "description": text(data.get("description")),
                    "trust": str(ActorTrust.UNTRUSTED),
                },
            )
            continue
        controls, features, stores = [], [], []
        if cell.kind == "tm.Process":
            web = reader.flag(data.get("isWebApplication"), f"{where}: isWebApplication")
            ctype = ComponentType.WEB_APPLICATION if web else ComponentType.PROCESS
            if reader.flag(data.get("handlesCardPayment"), f"{where}: handlesCardPayment"):
                features.append(str(Feature.PAYMENTS))
            if name(data.get("privilegeLevel")):
                privileges.append(f"{cell.title} ({name(data.get('privilegeLevel'))})")
        else:
            log = reader.flag(data.get("isALog"), f"{where}: isALog")
            ctype = ComponentType.LOG_STORE if log else ComponentType.DATABASE
            if reader.flag(data.get("isEncrypted"), f"{where}: isEncrypted"):
                controls.append("encryption-at-rest")
            if reader.flag(data.get("isSigned"), f"{where}: isSigned"):
                controls.append("integrity-checks")
            if reader.flag(data.get("storesCredentials"), f"{where}: storesCredentials"):
                stores.append(_credentials(draft, cell))
        out_of_scope = reader.flag(data.get("outOfScope"), f"{where}: outOfScope")
        draft.add(
            "components",
            {
                "id": cell.element_id,
                "name": name(cell.title),
                "description": text(data.get("description")),
                "type": str(ctype),
                "boundary": around.element_id if around else None,
                "stores": stores,
                "features": features,
                "controls": controls,
                "out_of_scope": out_of_scope,
                "out_of_scope_reason": (
                    text(data.get("reasonOutOfScope")) or "out of scope in Threat Dragon"
                )
                if out_of_scope
                else None,
            },
        )
    draft.note_list(
        "actors stand outside every boundary in Shieldwall; they were drawn inside",
        actors_in_boxes,
    )
    draft.note_list(
        "actors that provide authentication (consider an identity_provider component)",
        authenticating,
    )
    draft.note_list("privilege levels have no place in a Shieldwall model", privileges)
    draft.note_list("elements without a position could not be placed in boundaries", unplaced)


def _credentials(draft: Draft, cell: _Cell) -> str:
    """The credentials a store ``storesCredentials`` holds, as an asset of their own."""
    asset_id = draft.new_id(f"{cell.element_id}-credentials", "credentials")
    draft.add(
        "assets",
        {
            "id": asset_id,
            "name": name(f"Credentials in {cell.title}"),
            "data_classes": ["credentials"],
        },
    )
    draft.note(f"{cell.title!r} stores credentials: added the asset {asset_id}")
    return asset_id


# -- flows ---------------------------------------------------------------------------------


@dataclass
class _Flow:
    title: str
    path: list[Point]
    """From the source's centre through the drawn bends to the target's centre."""


def _end(
    draft: Draft, reader: Reader, cells: dict[str, _Cell], flow: _Cell, which: str
) -> _Cell | None:
    end = reader.mapping(flow.raw.get(which), f"flow {flow.title!r}: {which}")
    if "cell" in end:
        target = cells.get(str(end["cell"]))
        if target is None:
            raise reader.fail(f"flow {flow.title or flow.id!r}: {which} {end['cell']!r} is no cell")
        return target if target.kind in _NODES else None
    point = (_number(end.get("x")), _number(end.get("y")))
    if point[0] is None or point[1] is None:
        return None
    at = (point[0], point[1])
    near = [
        (c.box.distance(at), c)
        for c in cells.values()
        if c.kind in _NODES and c.box is not None and c.box.distance(at) <= SNAP_DISTANCE
    ]
    if not near:
        return None
    nearest = min(near, key=lambda pair: pair[0])[1]
    draft.note(f"flow {flow.title!r}: its loose {which} end was attached to {nearest.title!r}")
    return nearest


def _flows(draft: Draft, reader: Reader, cells: dict[str, _Cell]) -> list[_Flow]:
    drawn: list[_Flow] = []
    loose, out_of_scope, unnamed_protocol, public = [], [], [], []
    for cell in cells.values():
        if cell.kind != "tm.Flow":
            continue
        data, where = cell.data, f"flow {cell.title or cell.id!r}"
        source = _end(draft, reader, cells, cell, "source")
        target = _end(draft, reader, cells, cell, "target")
        if source is None or target is None or source is target:
            loose.append(cell.title or cell.id)
            continue
        shown = cell.title or f"{source.title} → {target.title}"
        vertices = [
            (x, y)
            for v in reader.records(cell.raw.get("vertices"), f"{where}: vertices")
            if (x := _number(v.get("x"))) is not None and (y := _number(v.get("y"))) is not None
        ]
        ends = [c.box.centre if c.box else None for c in (source, target)]
        if ends[0] is not None and ends[1] is not None:
            drawn.append(_Flow(shown, [ends[0], *vertices, ends[1]]))
        if reader.flag(data.get("outOfScope"), f"{where}: outOfScope"):
            out_of_scope.append(shown)
            continue
        label = reader.word(data.get("protocol"), f"{where}: protocol")
        encrypted = reader.flag(data.get("isEncrypted"), f"{where}: isEncrypted")
        protocol, encrypted_value = protocol_from_text(label, encrypted)
        if protocol == Protocol.OTHER:
            unnamed_protocol.append(f"{shown} ({label or 'none given'})")
        if reader.flag(data.get("isPublicNetwork"), f"{where}: isPublicNetwork"):
            for end in (source, target):
                if end.kind == "tm.Process":
                    public.append(end.element_id)
        draft.add(
            "flows",
            {
                "name": name(cell.title),
                "description": text(data.get("description")),
                "source": source.element_id,
                "target": target.element_id,
                "protocol": str(protocol),
                "encrypted": encrypted_value,
            },
        )
    for component in draft.sections["components"]:
        if component["id"] in public:
            component["exposure"] = "internet"
    draft.note_list("flows not attached to two elements, left out", loose)
    draft.note_list("flows out of scope in Threat Dragon, left out", out_of_scope)
    draft.note_list("flows whose protocol is not known, taken as other", unnamed_protocol)
    draft.note_list("processes reached over a public network, made internet-facing", unique(public))
    return drawn


# -- boundary curves -----------------------------------------------------------------------


def _curves(draft: Draft, cells: dict[str, _Cell], flows: list[_Flow]) -> None:
    curves = [cell for cell in cells.values() if cell.kind == "tm.Boundary"]
    for number, cell in enumerate(curves, 1):
        line = _curve_points(cell)
        crossing = [
            f.title
            for f in flows
            if line
            and any(_crosses(a, b, c, d) for a, b in _pairs(f.path) for c, d in _pairs(line))
        ]
        label = f"{number} {cell.title!r}" if cell.title else str(number)
        across = f"; flows drawn across it: {', '.join(crossing)}" if crossing else ""
        draft.note(
            f"boundary curve {label} cannot say which elements are inside it, so no boundary "
            f"was made for it{across}"
        )


def _curve_points(cell: _Cell) -> list[Point]:
    points: list[Point] = []
    vertices = cell.raw.get("vertices")
    bends = vertices if isinstance(vertices, list) else []
    ends = [cell.raw.get("source"), *bends, cell.raw.get("target")]
    for point in ends:
        if isinstance(point, dict):
            x, y = _number(point.get("x")), _number(point.get("y"))
            if x is not None and y is not None:
                points.append((x, y))
    return points


def _pairs(points: list[Point]) -> list[tuple[Point, Point]]:
    return list(itertools.pairwise(points))


def _crosses(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether segment ab crosses segment cd (touching counts)."""

    def side(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    d1, d2, d3, d4 = side(c, d, a), side(c, d, b), side(a, b, c), side(a, b, d)
    return (d1 * d2 <= 0) and (d3 * d4 <= 0) and not (d1 == d2 == d3 == d4 == 0)


def _threats(draft: Draft, cells: dict[str, _Cell]) -> None:
    written = []
    for cell in cells.values():
        threats = cell.data.get("threats")
        for threat in threats if isinstance(threats, list) else []:
            if isinstance(threat, dict):
                status = name(threat.get("status")) or "no status"
                written.append(
                    f"{name(threat.get('title')) or 'untitled'} on {cell.title} ({status})"
                )
    if written:
        draft.note_list(
            f"{len(written)} threats written in Threat Dragon not imported (Shieldwall's rules "
            "make the threats; compare them)",
            written,
            limit=20,
        )
