"""What rules can ask about each element: its own attributes and what follows from the
model around it (a flow crosses a boundary, a data store holds personal data, a component
is reached from the internet). Computed once per element; rules only read them.

``SCHEMAS`` declares every attribute with its type, and the rule loader checks conditions
against it; ``element_facts`` builds exactly those keys (a unit test holds them together).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from shieldwall.threatmodel.controls import Catalogue
from shieldwall.threatmodel.expr import (
    BOOL,
    INT,
    LEVEL,
    TEXT,
    AttrType,
    enum,
    list_of,
    node,
)
from shieldwall.threatmodel.schemas import (
    ActorSpec,
    AssetSpec,
    BoundarySpec,
    ComponentSpec,
    EntryPointSpec,
    FlowSpec,
    ThreatModelSpec,
)
from shieldwall.threatmodel.vocabulary import (
    CLIENT_TYPES,
    DATASTORE_TYPES,
    ENCRYPTED_PROTOCOLS,
    PERSONAL_DATA,
    ActorTrust,
    Authentication,
    Authorization,
    BoundaryType,
    ComponentType,
    DataClass,
    Exposure,
    Feature,
    Level,
    Protocol,
)

KINDS = ("component", "flow", "asset", "actor", "boundary", "entry_point", "model")
PATH_PREFIX = {
    "component": "components",
    "flow": "flows",
    "asset": "assets",
    "actor": "actors",
    "boundary": "boundaries",
    "entry_point": "entry_points",
    "model": "model",
}

_PROCESS_TYPES = frozenset(
    {
        ComponentType.PROCESS,
        ComponentType.WEB_APPLICATION,
        ComponentType.API,
        ComponentType.FUNCTION,
        ComponentType.GATEWAY,
        ComponentType.SCHEDULER,
        ComponentType.LLM,
    }
)
_CUSTOM_BY_DEFAULT = frozenset(
    {
        ComponentType.PROCESS,
        ComponentType.WEB_APPLICATION,
        ComponentType.API,
        ComponentType.FUNCTION,
    }
)
_LOCAL_PROTOCOLS = frozenset({Protocol.LOCAL, Protocol.IN_PROCESS})
_DEFAULT_NEEDS: dict[DataClass, Level] = {
    DataClass.PUBLIC: Level.LOW,
    DataClass.PII: Level.HIGH,
    DataClass.PAYMENT: Level.HIGH,
    DataClass.HEALTH: Level.HIGH,
    DataClass.CREDENTIALS: Level.CRITICAL,
    DataClass.SECRETS: Level.CRITICAL,
}
_CREDENTIAL_CLASSES = frozenset({DataClass.CREDENTIALS, DataClass.SECRETS})
_LOW_TRUST = frozenset({ActorTrust.UNTRUSTED, ActorTrust.AUTHENTICATED})

_DATA_CLASSES = list_of(DataClass)
_CONTROLS = list_of()  # checked against the catalogue by the rule loader instead

NODE: dict[str, AttrType] = {
    "id": TEXT,
    "name": TEXT,
    "kind": enum(["actor", "component"]),
    "type": enum([*ComponentType, "actor"]),
    "trust": enum(ActorTrust),
    "human": BOOL,
    "exposure": enum(Exposure),
    "internet_facing": BOOL,
    "is_datastore": BOOL,
    "is_client": BOOL,
    "is_process": BOOL,
    "external": BOOL,
    "custom_developed": BOOL,
    "multi_tenant": BOOL,
    "features": list_of(Feature),
    "controls": _CONTROLS,
    "boundary_type": enum([*BoundaryType, "none"]),
    "reachable_from_untrusted": BOOL,
}
"""A flow's source and target, an entry point's component: actor or component alike."""

_NODE_TYPES = list_of([*ComponentType, "actor"])

_NEEDS: dict[str, AttrType] = {
    "data_classes": _DATA_CLASSES,
    "personal_data": BOOL,
    "credentials": BOOL,
    "max_confidentiality": LEVEL,
    "max_integrity": LEVEL,
    "max_availability": LEVEL,
}

SCHEMAS: dict[str, dict[str, AttrType]] = {
    "component": {
        **{k: v for k, v in NODE.items() if k not in ("kind", "trust", "human")},
        "type": enum(ComponentType),
        "technology": TEXT,
        "boundary": TEXT,
        "in_boundary": BOOL,
        "stored_data_classes": _DATA_CLASSES,
        "stores_personal_data": BOOL,
        "stores_credentials": BOOL,
        "stored_confidentiality": LEVEL,
        **_NEEDS,
        "inbound_count": INT,
        "outbound_count": INT,
        "inbound_protocols": list_of(Protocol),
        "inbound_authentications": list_of(Authentication),
        "inbound_authorizations": list_of(Authorization),
        "inbound_source_types": _NODE_TYPES,
        "outbound_protocols": list_of(Protocol),
        "outbound_target_types": _NODE_TYPES,
        "in_exposed_zone": BOOL,
        "receives_from_untrusted": BOOL,
        "receives_unauthenticated": BOOL,
        "receives_across_boundary": BOOL,
        "called_by_humans": BOOL,
        "calls_external": BOOL,
        "calls_llm": BOOL,
        "writes_to_datastore": BOOL,
        "has_entry_points": BOOL,
    },
    "flow": {
        "id": TEXT,
        "name": TEXT,
        "protocol": enum(Protocol),
        "encrypted": BOOL,
        "network": BOOL,
        "authentication": enum(Authentication),
        "authorization": enum(Authorization),
        "readonly": BOOL,
        "usage": enum(["business", "devops"]),
        "controls": _CONTROLS,
        "sends": list_of(),
        "receives": list_of(),
        **_NEEDS,
        "crosses_boundary": BOOL,
        "boundary_types_crossed": list_of(BoundaryType),
        "from_untrusted": BOOL,
        "to_external": BOOL,
        "from_external": BOOL,
        "source": node(NODE),
        "target": node(NODE),
    },
    "asset": {
        "id": TEXT,
        "name": TEXT,
        "controls": _CONTROLS,
        "confidentiality": LEVEL,
        "integrity": LEVEL,
        "availability": LEVEL,
        "data_classes": _DATA_CLASSES,
        "personal_data": BOOL,
        "credentials": BOOL,
        "stored_in_count": INT,
        "processed_by_count": INT,
        "flow_count": INT,
        "shared_externally": BOOL,
        "sent_to_llm": BOOL,
        "crosses_boundary": BOOL,
        "stored_in_client": BOOL,
        "logged": BOOL,
    },
    "actor": {
        "id": TEXT,
        "name": TEXT,
        "controls": _CONTROLS,
        "trust": enum(ActorTrust),
        "human": BOOL,
        "outbound_count": INT,
        "reaches_datastore": BOOL,
        "unauthenticated_access": BOOL,
        "weakest_authentication": enum(Authentication),
        "sends_personal_data": BOOL,
    },
    "boundary": {
        "id": TEXT,
        "name": TEXT,
        "controls": _CONTROLS,
        "type": enum(BoundaryType),
        "nested": BOOL,
        "component_count": INT,
        "internet_facing": BOOL,
        "inbound_count": INT,
        "unauthenticated_inbound": BOOL,
        "unencrypted_inbound": BOOL,
        "holds_personal_data": BOOL,
    },
    "entry_point": {
        "id": TEXT,
        "name": TEXT,
        "controls": _CONTROLS,
        "exposure": enum(Exposure),
        "authentication": enum(Authentication),
        "component": node(NODE),
    },
    "model": {
        "id": TEXT,
        "name": TEXT,
        "controls": _CONTROLS,
        "component_count": INT,
        "flow_count": INT,
        "boundary_count": INT,
        "actor_count": INT,
        "personal_data": BOOL,
        "has_log_store": BOOL,
        "has_identity_provider": BOOL,
        "has_ci_cd": BOOL,
        "audit_logging_anywhere": BOOL,
        "unvalidated_assumptions": INT,
        "internet_facing": BOOL,
        "custom_component_count": INT,
    },
}


@dataclass(frozen=True)
class Element:
    """One element the rules look at: its path (``components/api``), kind, title, the
    controls in effect on it, the rules excluded on it, and its facts."""

    path: str
    kind: str
    title: str
    controls: frozenset[str]
    exclusions: Mapping[str, str]
    facts: Mapping[str, Any]
    spec: Any = field(repr=False, compare=False, default=None)


def _needs(assets: Iterable[AssetSpec]) -> dict[str, Any]:
    assets = list(assets)
    classes = sorted({c for a in assets for c in a.data_classes})
    return {
        "data_classes": classes,
        "personal_data": any(c in PERSONAL_DATA for c in classes),
        "credentials": any(c in _CREDENTIAL_CLASSES for c in classes),
        "max_confidentiality": max((need(a, "confidentiality") for a in assets), default=0),
        "max_integrity": max((need(a, "integrity") for a in assets), default=0),
        "max_availability": max((need(a, "availability") for a in assets), default=0),
    }


def need(asset: AssetSpec, which: str) -> int:
    """An asset's need for confidentiality, integrity or availability as a rank: what the
    model says, else what its data classes call for (integrity and availability default
    to medium, confidentiality to the most sensitive class, else medium)."""
    word = getattr(asset, which)
    if word is not None:
        return int(Level[word.upper()])
    if which != "confidentiality":
        return int(Level.MEDIUM)
    return max((int(_DEFAULT_NEEDS[c]) for c in asset.data_classes), default=int(Level.MEDIUM))


class ModelIndex:
    """A validated model with its cross-references resolved, and the facts of every
    element. Build it once per model; rules then read ``elements()``."""

    def __init__(self, spec: ThreatModelSpec, catalogue: Catalogue) -> None:
        self.spec = spec
        self.catalogue = catalogue
        self.assets = {a.id: a for a in spec.assets}
        self.actors = {a.id: a for a in spec.actors}
        self.components = {c.id: c for c in spec.components}
        self.boundaries = {b.id: b for b in spec.boundaries}
        self.flows = {f.key: f for f in spec.flows}
        self.inbound: dict[str, list[FlowSpec]] = defaultdict(list)
        self.outbound: dict[str, list[FlowSpec]] = defaultdict(list)
        for flow in spec.flows:
            self.outbound[flow.source].append(flow)
            self.inbound[flow.target].append(flow)
        self.entry_points: dict[str, list[EntryPointSpec]] = defaultdict(list)
        for entry in spec.entry_points:
            self.entry_points[entry.component].append(entry)
        self.stored_in: dict[str, list[ComponentSpec]] = defaultdict(list)
        self.processed_by: dict[str, list[ComponentSpec]] = defaultdict(list)
        self.members: dict[str, list[ComponentSpec]] = defaultdict(list)
        for component in spec.components:
            for asset_id in component.stores:
                self.stored_in[asset_id].append(component)
            for asset_id in component.processes:
                self.processed_by[asset_id].append(component)
            for boundary in self.boundary_chain(component.boundary):
                self.members[boundary.id].append(component)
        self.flows_of: dict[str, list[FlowSpec]] = defaultdict(list)
        for flow in spec.flows:
            for asset_id in {*flow.sends, *flow.receives}:
                self.flows_of[asset_id].append(flow)
        self._nodes: dict[str, dict[str, Any]] = {}
        self._crossed: dict[str, list[BoundarySpec]] = {}
        self._reached: frozenset[str] | None = None
        self._exposed_zones: frozenset[str] | None = None

    # -- shared pieces -------------------------------------------------------------------

    def boundary_chain(self, boundary_id: str | None) -> list[BoundarySpec]:
        """The boundary and its ancestors, innermost first (the loader rejects cycles)."""
        chain: list[BoundarySpec] = []
        while boundary_id is not None and boundary_id in self.boundaries:
            boundary = self.boundaries[boundary_id]
            chain.append(boundary)
            boundary_id = boundary.parent
        return chain

    def boundary_of(self, element_id: str) -> str | None:
        component = self.components.get(element_id)
        return component.boundary if component else None

    def crossed(self, flow: FlowSpec) -> list[BoundarySpec]:
        """The boundaries a flow enters or leaves: those around one end and not the other.
        An actor stands outside every boundary."""
        cached = self._crossed.get(flow.key)
        if cached is None:
            source = {b.id: b for b in self.boundary_chain(self.boundary_of(flow.source))}
            target = {b.id: b for b in self.boundary_chain(self.boundary_of(flow.target))}
            both = {**source, **target}
            cached = [b for k, b in both.items() if (k in source) != (k in target)]
            self._crossed[flow.key] = cached
        return cached

    @staticmethod
    def encrypted(flow: FlowSpec) -> bool:
        if flow.encrypted is not None:
            return flow.encrypted
        return flow.protocol in ENCRYPTED_PROTOCOLS or flow.protocol in _LOCAL_PROTOCOLS

    def is_untrusted_source(self, element_id: str) -> bool:
        actor = self.actors.get(element_id)
        if actor is not None:
            return actor.trust in _LOW_TRUST
        # A client runs on the user's device: what it sends is what the user chose to send.
        # A server that faces the internet is still ours; what it forwards is not "from"
        # an untrusted source (that is the inbound flow's threat).
        component = self.components.get(element_id)
        return component is not None and component.type in CLIENT_TYPES

    def is_external(self, element_id: str) -> bool:
        actor = self.actors.get(element_id)
        if actor is not None:
            return actor.trust == ActorTrust.PARTNER
        component = self.components.get(element_id)
        return component is not None and component.type == ComponentType.EXTERNAL_SERVICE

    def internet_facing(self, component: ComponentSpec) -> bool:
        if component.exposure == Exposure.INTERNET:
            return True
        return any(
            self.actors.get(f.source) is not None
            and self.actors[f.source].trust == ActorTrust.UNTRUSTED
            for f in self.inbound[component.id]
        ) or any(e.exposure == Exposure.INTERNET for e in self.entry_points[component.id])

    def reached(self) -> frozenset[str]:
        """The components that input from untrusted sources can reach, directly or through
        other components: one pass over the flows (breadth first), computed once.

        It starts at untrusted actors, clients, components exposed to the internet and
        those with an internet entry point, and follows flows from source to target, and
        from a queue back to a consumer that reads from it (a flow to the queue that only
        receives, or is readonly). It does not pass through data stores (stored input is
        each reader's own concern) nor external services (what a third party sends on is
        partner data, not the attacker's)."""
        if self._reached is not None:
            return self._reached
        reached: set[str] = set()
        queue: list[str] = []

        def reach(component_id: str) -> None:
            if component_id in self.components and component_id not in reached:
                reached.add(component_id)
                queue.append(component_id)

        for component in self.spec.components:
            if component.type in CLIENT_TYPES or component.exposure == Exposure.INTERNET:
                reach(component.id)
        for entry in self.spec.entry_points:
            if entry.exposure == Exposure.INTERNET:
                reach(entry.component)
        for actor in self.spec.actors:
            if actor.trust in _LOW_TRUST:
                for flow in self.outbound[actor.id]:
                    reach(flow.target)
        while queue:
            component = self.components[queue.pop()]
            if (
                component.type in DATASTORE_TYPES
                or component.type == ComponentType.EXTERNAL_SERVICE
            ):
                continue
            for flow in self.outbound[component.id]:
                reach(flow.target)
            if component.type == ComponentType.QUEUE:
                for flow in self.inbound[component.id]:
                    if flow.readonly or (flow.receives and not flow.sends):
                        reach(flow.source)
        self._reached = frozenset(reached)
        return self._reached

    def exposed_zones(self) -> frozenset[str]:
        """The innermost boundaries that hold a component facing the internet."""
        if self._exposed_zones is None:
            self._exposed_zones = frozenset(
                c.boundary
                for c in self.spec.components
                if c.boundary is not None and self.node_facts(c.id)["internet_facing"]
            )
        return self._exposed_zones

    def controls_of(self, *lists: Iterable[str]) -> frozenset[str]:
        return self.catalogue.closure(c for controls in lists for c in controls)

    def node_facts(self, element_id: str) -> dict[str, Any]:
        cached = self._nodes.get(element_id)
        if cached is not None:
            return cached
        actor = self.actors.get(element_id)
        if actor is not None:
            facts: dict[str, Any] = {
                "id": actor.id,
                "name": actor.title,
                "kind": "actor",
                "type": "actor",
                "trust": str(actor.trust),
                "human": actor.human,
                "exposure": str(
                    Exposure.INTERNET if actor.trust in _LOW_TRUST else Exposure.INTERNAL
                ),
                "internet_facing": False,
                "is_datastore": False,
                "is_client": False,
                "is_process": False,
                "external": actor.trust == ActorTrust.PARTNER,
                "custom_developed": False,
                "multi_tenant": False,
                "features": [],
                "controls": [],
                "boundary_type": "none",
                "reachable_from_untrusted": False,
            }
        else:
            component = self.components[element_id]
            chain = self.boundary_chain(component.boundary)
            facts = {
                "id": component.id,
                "name": component.title,
                "kind": "component",
                "type": str(component.type),
                "trust": None,
                "human": component.type in CLIENT_TYPES,
                "exposure": str(component.exposure),
                "internet_facing": self.internet_facing(component),
                "is_datastore": component.type in DATASTORE_TYPES,
                "is_client": component.type in CLIENT_TYPES,
                "is_process": component.type in _PROCESS_TYPES,
                "external": component.type == ComponentType.EXTERNAL_SERVICE,
                "custom_developed": custom_developed(component),
                "multi_tenant": component.multi_tenant
                or Feature.MULTI_TENANT in component.features,
                "features": sorted(str(f) for f in component.features),
                "controls": sorted(self.controls_of(component.controls)),
                "boundary_type": str(chain[0].type) if chain else "none",
                "reachable_from_untrusted": component.id in self.reached(),
            }
        self._nodes[element_id] = facts
        return facts

    # -- the elements --------------------------------------------------------------------

    def elements(self) -> Iterator[Element]:
        for component in self.spec.components:
            if not component.out_of_scope:
                yield self._component(component)
        for flow in self.spec.flows:
            # A flow from an out-of-scope client into an in-scope server is still the
            # server's way in: only flows with both ends out of scope are left out.
            if not (self._out_of_scope(flow.source) and self._out_of_scope(flow.target)):
                yield self._flow(flow)
        for asset in self.spec.assets:
            yield self._asset(asset)
        for actor in self.spec.actors:
            yield self._actor(actor)
        for boundary in self.spec.boundaries:
            yield self._boundary(boundary)
        for entry in self.spec.entry_points:
            if not self._out_of_scope(entry.component):
                yield self._entry_point(entry)
        yield self._model()

    def _out_of_scope(self, element_id: str) -> bool:
        component = self.components.get(element_id)
        return component is not None and component.out_of_scope

    def _element(
        self, kind: str, key: str, spec: Any, controls: frozenset[str], facts: dict[str, Any]
    ) -> Element:
        exclusions = {e.rule: e.reason for e in getattr(spec, "exclude", ())}
        return Element(
            "model" if kind == "model" else f"{PATH_PREFIX[kind]}/{key}",
            kind,
            facts["name"],
            controls,
            exclusions,
            facts,
            spec,
        )

    def _component(self, component: ComponentSpec) -> Element:
        facts = {
            k: v for k, v in self.node_facts(component.id).items() if k in SCHEMAS["component"]
        }
        stored = [self.assets[a] for a in component.stores if a in self.assets]
        handled = stored + [self.assets[a] for a in component.processes if a in self.assets]
        inbound, outbound = self.inbound[component.id], self.outbound[component.id]
        for flow in inbound + outbound:
            handled += [self.assets[a] for a in (*flow.sends, *flow.receives) if a in self.assets]
        stored_needs = _needs(stored)
        facts.update(
            {
                "type": str(component.type),
                "technology": component.technology or "",
                "boundary": component.boundary or "",
                "in_boundary": component.boundary is not None,
                "stored_data_classes": stored_needs["data_classes"],
                "stores_personal_data": stored_needs["personal_data"],
                "stores_credentials": stored_needs["credentials"],
                "stored_confidentiality": stored_needs["max_confidentiality"],
                **_needs(handled),
                "inbound_count": len(inbound),
                "outbound_count": len(outbound),
                "inbound_protocols": sorted({str(f.protocol) for f in inbound}),
                "inbound_authentications": sorted({str(f.authentication) for f in inbound}),
                "inbound_authorizations": sorted({str(f.authorization) for f in inbound}),
                "inbound_source_types": sorted(
                    {self.node_facts(f.source)["type"] for f in inbound}
                ),
                "outbound_protocols": sorted({str(f.protocol) for f in outbound}),
                "outbound_target_types": sorted(
                    {self.node_facts(f.target)["type"] for f in outbound}
                ),
                "in_exposed_zone": component.boundary in self.exposed_zones(),
                "receives_from_untrusted": any(self.is_untrusted_source(f.source) for f in inbound),
                "receives_unauthenticated": any(
                    f.authentication == Authentication.NONE for f in inbound
                ),
                "receives_across_boundary": any(self.crossed(f) for f in inbound),
                "called_by_humans": any(self.node_facts(f.source)["human"] for f in inbound),
                "calls_external": any(self.is_external(f.target) for f in outbound),
                "calls_llm": any(
                    self.components.get(f.target) is not None
                    and self.components[f.target].type == ComponentType.LLM
                    for f in outbound
                ),
                "writes_to_datastore": any(
                    not f.readonly and self.node_facts(f.target)["is_datastore"] for f in outbound
                ),
                "has_entry_points": bool(self.entry_points[component.id]),
            }
        )
        return self._element(
            "component", component.id, component, self.controls_of(component.controls), facts
        )

    def _flow(self, flow: FlowSpec) -> Element:
        carried = [self.assets[a] for a in (*flow.sends, *flow.receives) if a in self.assets]
        crossed = self.crossed(flow)
        source_actor = self.actors.get(flow.source)
        crosses = (
            bool(crossed)
            or (source_actor is not None and flow.target in self.components)
            or (self.actors.get(flow.target) is not None and flow.source in self.components)
        )
        target_controls = (
            self.components[flow.target].controls if flow.target in self.components else []
        )
        facts = {
            "id": flow.key,
            "name": flow.name
            or f"{self.node_facts(flow.source)['name']} → {self.node_facts(flow.target)['name']}",
            "protocol": str(flow.protocol),
            "encrypted": self.encrypted(flow),
            "network": flow.protocol not in _LOCAL_PROTOCOLS,
            "authentication": str(flow.authentication),
            "authorization": str(flow.authorization),
            "readonly": flow.readonly,
            "usage": flow.usage,
            "controls": sorted(self.controls_of(flow.controls)),
            "sends": list(flow.sends),
            "receives": list(flow.receives),
            **_needs(carried),
            "crosses_boundary": crosses,
            "boundary_types_crossed": sorted({str(b.type) for b in crossed}),
            "from_untrusted": self.is_untrusted_source(flow.source),
            "to_external": self.is_external(flow.target),
            "from_external": self.is_external(flow.source),
            "source": self.node_facts(flow.source),
            "target": self.node_facts(flow.target),
        }
        # What the receiving side enforces (it authenticates, validates, throttles) counts
        # for the flow into it.
        controls = self.controls_of(flow.controls, target_controls)
        return self._element("flow", flow.key, flow, controls, facts)

    def _asset(self, asset: AssetSpec) -> Element:
        stored_in = self.stored_in[asset.id]
        processed_by = self.processed_by[asset.id]
        flows = self.flows_of[asset.id]
        needs = _needs([asset])
        facts = {
            "id": asset.id,
            "name": asset.title,
            "controls": sorted(self.controls_of(asset.controls)),
            "confidentiality": need(asset, "confidentiality"),
            "integrity": need(asset, "integrity"),
            "availability": need(asset, "availability"),
            "data_classes": needs["data_classes"],
            "personal_data": needs["personal_data"],
            "credentials": needs["credentials"],
            "stored_in_count": len(stored_in),
            "processed_by_count": len(processed_by),
            "flow_count": len(flows),
            "shared_externally": any(
                (self.is_external(f.target) and asset.id in f.sends)
                or (self.is_external(f.source) and asset.id in f.receives)
                for f in flows
            ),
            "sent_to_llm": any(
                self.node_facts(f.target).get("type") == ComponentType.LLM and asset.id in f.sends
                for f in flows
            ),
            "crosses_boundary": any(self.crossed(f) for f in flows),
            "stored_in_client": any(c.type in CLIENT_TYPES for c in stored_in),
            "logged": any(c.type == ComponentType.LOG_STORE for c in stored_in),
        }
        return self._element("asset", asset.id, asset, self.controls_of(asset.controls), facts)

    def _actor(self, actor: ActorSpec) -> Element:
        flows = self.outbound[actor.id]
        weakest = min(
            (f.authentication for f in flows),
            key=_AUTH_STRENGTH.__getitem__,
            default=Authentication.NONE,
        )
        facts = {
            "id": actor.id,
            "name": actor.title,
            "controls": [],
            "trust": str(actor.trust),
            "human": actor.human,
            "outbound_count": len(flows),
            "reaches_datastore": any(self.node_facts(f.target)["is_datastore"] for f in flows),
            "unauthenticated_access": any(f.authentication == Authentication.NONE for f in flows),
            "weakest_authentication": str(weakest),
            "sends_personal_data": _needs(
                self.assets[a] for f in flows for a in f.sends if a in self.assets
            )["personal_data"],
        }
        return self._element("actor", actor.id, actor, frozenset(), facts)

    def _boundary(self, boundary: BoundarySpec) -> Element:
        members = self.members[boundary.id]
        member_ids = {c.id for c in members}
        inbound = [f for c in members for f in self.inbound[c.id] if f.source not in member_ids]
        facts = {
            "id": boundary.id,
            "name": boundary.title,
            "controls": [],
            "type": str(boundary.type),
            "nested": boundary.parent is not None,
            "component_count": len(members),
            "internet_facing": any(self.internet_facing(c) for c in members),
            "inbound_count": len(inbound),
            "unauthenticated_inbound": any(
                f.authentication == Authentication.NONE for f in inbound
            ),
            "unencrypted_inbound": any(not self.encrypted(f) for f in inbound),
            "holds_personal_data": any(
                _needs(self.assets[a] for a in c.stores if a in self.assets)["personal_data"]
                for c in members
            ),
        }
        return self._element("boundary", boundary.id, boundary, frozenset(), facts)

    def _entry_point(self, entry: EntryPointSpec) -> Element:
        component = self.components[entry.component]
        controls = self.controls_of(entry.controls, component.controls)
        facts = {
            "id": entry.id,
            "name": entry.title,
            "controls": sorted(controls),
            "exposure": str(entry.exposure),
            "authentication": str(entry.authentication),
            "component": self.node_facts(entry.component),
        }
        return self._element("entry_point", entry.id, entry, controls, facts)

    def _model(self) -> Element:
        spec = self.spec
        all_controls = self.controls_of(*(c.controls for c in spec.components))
        facts = {
            "id": "model",
            "name": spec.title,
            "controls": sorted(all_controls),
            "component_count": len(spec.components),
            "flow_count": len(spec.flows),
            "boundary_count": len(spec.boundaries),
            "actor_count": len(spec.actors),
            "personal_data": _needs(spec.assets)["personal_data"],
            "has_log_store": any(c.type == ComponentType.LOG_STORE for c in spec.components),
            "has_identity_provider": any(
                c.type == ComponentType.IDENTITY_PROVIDER for c in spec.components
            ),
            "has_ci_cd": any(c.type == ComponentType.CI_CD for c in spec.components),
            "audit_logging_anywhere": "audit-logging" in all_controls,
            "unvalidated_assumptions": sum(not a.validated for a in spec.assumptions),
            "internet_facing": any(self.internet_facing(c) for c in spec.components),
            "custom_component_count": sum(custom_developed(c) for c in spec.components),
        }
        return self._element("model", "model", spec, all_controls, facts)


_AUTH_STRENGTH = {
    Authentication.NONE: 0,
    Authentication.CREDENTIALS: 1,
    Authentication.API_KEY: 1,
    Authentication.SESSION: 2,
    Authentication.TOKEN: 2,
    Authentication.SSO: 3,
    Authentication.CLIENT_CERTIFICATE: 3,
    Authentication.WORKLOAD_IDENTITY: 3,
    Authentication.TWO_FACTOR: 4,
}


def custom_developed(component: ComponentSpec) -> bool:
    if component.custom_developed is not None:
        return component.custom_developed
    return component.type in _CUSTOM_BY_DEFAULT
