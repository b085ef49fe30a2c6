"""Reading a threat model file: YAML, validated against the schema, then its references
checked (a flow to an element that does not exist, a boundary inside itself, an unknown
control). Every problem names the file and line; all of them are reported at once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shieldwall.errors import InputError
from shieldwall.structured import Loc, LocatedDocument, load_yaml, read_text, validate
from shieldwall.threatmodel.controls import Catalogue, catalogue
from shieldwall.threatmodel.schemas import ThreatModelSpec

MAX_MODEL_BYTES = 20_000_000


@dataclass(frozen=True)
class LoadedModel:
    spec: ThreatModelSpec
    document: LocatedDocument

    @property
    def path(self) -> Path:
        return self.document.path

    def line_of(self, element_path: str) -> int:
        """The line where the element ``components/api`` (or ``model``) is written."""
        section, _, key = element_path.partition("/")
        for index, element in enumerate(getattr(self.spec, section, ())):
            if getattr(element, "key", getattr(element, "id", None)) == key:
                return self.document.line_of((section, index)) or 1
        return 1


def load_model(path: Path, rule_ids: frozenset[str] | None = None) -> LoadedModel:
    """Read and check the model at ``path``; ``rule_ids`` (when given) are the rules an
    exclusion may name."""
    return parse_model(path, read_text(path, MAX_MODEL_BYTES), rule_ids)


def parse_model(path: Path, text: str, rule_ids: frozenset[str] | None = None) -> LoadedModel:
    document = load_yaml(path, text)
    if not isinstance(document.data, dict):
        raise InputError.in_file(
            path, "a threat model is a mapping (see `shieldwall threatmodel schema`)", 1
        )
    spec = validate(document, ThreatModelSpec)
    problems = list(reference_problems(spec, catalogue(), rule_ids))
    if problems:
        raise InputError(
            "\n".join(
                f"{path}:{document.line_of(loc) or 1}: {problem}" for loc, problem in problems
            )
        )
    return LoadedModel(spec, document)


def reference_problems(
    spec: ThreatModelSpec, controls: Catalogue, rule_ids: frozenset[str] | None = None
) -> Iterator[tuple[Loc, str]]:
    """Everything the schema cannot see: ids unique, references resolve, no cycles."""
    owners: dict[str, str] = {}
    for section in ("assets", "actors", "boundaries", "components", "entry_points"):
        for index, element in enumerate(getattr(spec, section)):
            if element.id in owners:
                yield (
                    (section, index, "id"),
                    (f"id {element.id!r} is already used in {owners[element.id]}"),
                )
            owners.setdefault(element.id, section)
    assets = {a.id for a in spec.assets}
    nodes = {a.id for a in spec.actors} | {c.id for c in spec.components}
    boundaries = {b.id: b for b in spec.boundaries}
    components = {c.id for c in spec.components}

    def refer(
        loc: Loc, value: str, allowed: set[str] | dict[str, Any], what: str
    ) -> Iterator[tuple[Loc, str]]:
        if value not in allowed:
            yield loc, f"{'.'.join(map(str, loc[-1:]))}: no {what} has the id {value!r}"

    for index, boundary in enumerate(spec.boundaries):
        if boundary.parent is not None:
            yield from refer(
                ("boundaries", index, "parent"), boundary.parent, boundaries, "boundary"
            )
        seen, current = {boundary.id}, boundary.parent
        while current is not None and current in boundaries:
            if current in seen:
                yield ("boundaries", index, "parent"), f"boundary {boundary.id!r} is inside itself"
                break
            seen.add(current)
            current = boundaries[current].parent
    for index, component in enumerate(spec.components):
        loc: Loc = ("components", index)
        if component.boundary is not None:
            yield from refer((*loc, "boundary"), component.boundary, boundaries, "boundary")
        for key in ("stores", "processes"):
            for i, asset in enumerate(getattr(component, key)):
                yield from refer((*loc, key, i), asset, assets, "asset")
    flow_keys: dict[str, int] = {}
    for index, flow in enumerate(spec.flows):
        loc = ("flows", index)
        yield from refer((*loc, "source"), flow.source, nodes, "actor or component")
        yield from refer((*loc, "target"), flow.target, nodes, "actor or component")
        if flow.source == flow.target:
            yield (*loc, "target"), "a flow goes from one element to another, not to itself"
        for key in ("sends", "receives"):
            for i, asset in enumerate(getattr(flow, key)):
                yield from refer((*loc, key, i), asset, assets, "asset")
        if flow.key in flow_keys:
            hint = "" if flow.id else f" (two flows from {flow.source} to {flow.target} need ids)"
            yield (*loc,), f"flow id {flow.key!r} is already used{hint}"
        flow_keys.setdefault(flow.key, index)
        if flow.key in owners:
            yield (*loc,), f"flow id {flow.key!r} is already used in {owners[flow.key]}"
    for index, entry in enumerate(spec.entry_points):
        yield from refer(
            ("entry_points", index, "component"), entry.component, components, "component"
        )
    yield from _control_problems(spec, controls)
    if rule_ids is not None:
        yield from _exclusion_problems(spec, rule_ids)


def _sections(spec: ThreatModelSpec) -> Iterator[tuple[Loc, Any]]:
    for section in ("assets", "actors", "boundaries", "components", "flows", "entry_points"):
        for index, element in enumerate(getattr(spec, section)):
            yield (section, index), element


def _control_problems(spec: ThreatModelSpec, controls: Catalogue) -> Iterator[tuple[Loc, str]]:
    for loc, element in _sections(spec):
        for i, control in enumerate(getattr(element, "controls", ())):
            problem = controls.unknown(control)
            if problem:
                yield (*loc, "controls", i), problem


def _exclusion_problems(
    spec: ThreatModelSpec, rule_ids: frozenset[str]
) -> Iterator[tuple[Loc, str]]:
    for loc, element in _sections(spec):
        for i, exclusion in enumerate(element.exclude):
            if exclusion.rule not in rule_ids:
                yield (
                    (*loc, "exclude", i, "rule"),
                    (
                        f"no rule has the id {exclusion.rule!r}"
                        " (`shieldwall threatmodel rules` lists them)"
                    ),
                )
