"""OWASP TM-BOM: the threat model format of the OWASP Threat Model Library.

There is no CycloneDX threat-model type yet; the published format is the OWASP Threat Model
Library's JSON schema, version 1.0.1: https://github.com/OWASP/www-project-threat-model-library
(``threat-model.schema.json``, commit 25966fb304d9c8f44193ecee7c3262e557981784), which
Threat Dragon also reads and writes (its ``huskyai.tmbom.json`` demo). A model there is a
scope, trust zones and the trust boundaries between pairs of them, actors, components, data
stores, data sets placed on data stores, data flows, assumptions, and threats, controls and
risks that refer to each other by symbolic name.

What maps, and how:

- trust zones become boundaries (a zone that holds no component or data store is left out:
  in Shieldwall a boundary is what its members are inside of);
- actors become actors, their ``type`` giving their trust (a user is untrusted, an
  administrator privileged, a third party a partner);
- components become components (their type guessed from their titles, which TM-BOM does not
  type), data stores components of the store's type;
- data sets become assets: the data sensitivity gives the data classes, the placements where
  they are stored (an encrypted placement puts ``encryption-at-rest`` on the store);
- data flows keep their ends, ``encrypted`` and a protocol named in their title; a flow
  with sensitive data to or from a data store carries that store's data sets; a trust
  boundary's authentication and access control methods become the authentication and
  authorization of the flows that cross it, where the flow says nothing itself.

TM-BOM cannot say everything a Shieldwall model does (protocols, component types,
controls, needs, exposure). ``tmbom_export`` therefore writes Shieldwall's own description
of each element into ``extensions["github.com/shieldwall/shieldwall/tmbom"]``, keyed by
symbolic name, and this importer reads it back: what TM-BOM says (names, descriptions,
zones, flow ends, encryption, placements) wins, the extension supplies the rest, and an
element another tool added or removed is simply present or absent.

Threats, controls, risks and threat personas are not imported: Shieldwall's rules make the
threats, and their treatments live in the tracking file.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from shieldwall.threatmodel.importers.base import (
    Draft,
    Importer,
    ImportResult,
    Reader,
    as_element_id,
    encrypted_override,
    load_json,
    name,
    protocol_encrypts,
    protocol_from_text,
    text,
    unique,
)
from shieldwall.threatmodel.vocabulary import (
    ActorTrust,
    Authentication,
    Authorization,
    ComponentType,
    DataClass,
    Protocol,
)

SCHEMA_URL = (
    "https://github.com/OWASP/www-project-threat-model-library/blob/v1.0.1/threat-model.schema.json"
)
EXTENSION = "github.com/shieldwall/shieldwall/tmbom"
"""Where Shieldwall keeps what TM-BOM cannot say (named as the schema asks: a domain name
and a path, globally unique)."""

ACTOR_TRUST: dict[str, tuple[ActorTrust, bool]] = {
    "user": (ActorTrust.UNTRUSTED, True),
    "power_user": (ActorTrust.AUTHENTICATED, True),
    "administrator": (ActorTrust.PRIVILEGED, True),
    "engineer": (ActorTrust.INTERNAL, True),
    "third_party": (ActorTrust.PARTNER, False),
    "system": (ActorTrust.INTERNAL, False),
}
"""TM-BOM actor type → trust and whether a person."""
STORE_TYPES: dict[str, ComponentType] = {
    "sql": ComponentType.DATABASE,
    "document": ComponentType.DATABASE,
    "graph": ComponentType.DATABASE,
    "time_series": ComponentType.DATABASE,
    "key_value": ComponentType.CACHE,
    "object": ComponentType.OBJECT_STORAGE,
}
DATA_CLASSES: dict[str, DataClass] = {
    "pii": DataClass.PII,
    "phi": DataClass.HEALTH,
    "pci": DataClass.PAYMENT,
    "fin": DataClass.PAYMENT,
    "cred": DataClass.CREDENTIALS,
}
"""TM-BOM data sensitivity → data class (``biz``, ``ip``, ``gov`` and ``op`` have none)."""
_AUTHENTICATION = (
    ("otp", Authentication.TWO_FACTOR),
    ("biometrics", Authentication.TWO_FACTOR),
    ("public_key", Authentication.CLIENT_CERTIFICATE),
    ("sso", Authentication.SSO),
    ("social", Authentication.SSO),
    ("token", Authentication.TOKEN),
    ("password", Authentication.CREDENTIALS),
    ("challenge_response", Authentication.CREDENTIALS),
)
"""Strongest first: a boundary that accepts several methods is as strong as its best."""
_COMPONENT_WORDS: tuple[tuple[str, ComponentType], ...] = (
    (r"gateway|proxy|load.?balancer|\bwaf\b|ingress", ComponentType.GATEWAY),
    (r"\bapi\b|service\b|backend", ComponentType.API),
    (r"web|portal|front.?end|\bui\b", ComponentType.WEB_APPLICATION),
    (r"queue|broker|kafka|rabbit", ComponentType.QUEUE),
    (r"lambda|function", ComponentType.FUNCTION),
    (r"pipeline|deploy|\bci\b|build", ComponentType.CI_CD),
    (r"identity|\bauth|login|\bidp\b|keycloak|okta", ComponentType.IDENTITY_PROVIDER),
    (r"\bllm\b|language model|\bgpt", ComponentType.LLM),
)
_SECRET_STORE = re.compile(r"vault|\bkms\b|secret|key store|keystore|\bhsm\b")


def read(path: Path) -> ImportResult:
    reader = Reader(path)
    root = reader.mapping(load_json(path), "the file", optional=False)
    if not {"scope", "data_flows", "trust_zones"} & set(root):
        raise reader.fail("not a TM-BOM: no scope, trust_zones or data_flows")
    extensions = reader.mapping(root.get("extensions"), "extensions")
    own = _Own(reader, reader.mapping(extensions.get(EXTENSION), f"extensions.{EXTENSION}"))
    draft = Draft(path, "TM-BOM")
    _model(draft, reader, root, own)
    _Import(draft, reader, root, own).run()
    return draft.finish()


IMPORTER = Importer("tmbom", "OWASP TM-BOM (Threat Model Library 1.0)", read)


class _Own:
    """Shieldwall's extension: its own description of each element, by symbolic name.
    Its values are checked with the rest of the model when the import finishes; here only
    what is used as a key must be text."""

    def __init__(self, reader: Reader, data: dict[str, Any]) -> None:
        self.reader, self.data = reader, data

    def section(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        return value if isinstance(value, dict) else {}

    def entry(self, key: str, symbol: str) -> dict[str, Any] | None:
        value = self.section(key).get(symbol)
        if not isinstance(value, dict):
            return None
        if not isinstance(value.get("id", ""), str):
            raise self.reader.fail(f"extensions.{EXTENSION}.{key}.{symbol}: id is not text")
        return dict(value)

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key)
        return value if isinstance(value, list) else []


def _model(draft: Draft, reader: Reader, root: dict[str, Any], own: _Own) -> None:
    scope = reader.mapping(root.get("scope"), "scope")
    draft.model.update(
        {
            "title": name(scope.get("title")) or name(root.get("title")) or draft.path.stem,
            "description": text(root.get("description"), scope.get("description")),
            "reviewed": _date(root.get("reviewed_at")),
            **{
                k: v
                for k, v in own.section("model").items()
                if k in ("service", "owner", "reviewers")
            },
        }
    )
    left_out = [
        key
        for key in ("business_criticality", "data_sensitivity", "exposure", "tier")
        if scope.get(key)
    ]
    if left_out and not own.data:
        draft.note(f"scope {', '.join(left_out)} have no place in a Shieldwall model")


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


class _Import:
    """One pass over a TM-BOM document; symbolic names are resolved to element ids."""

    def __init__(self, draft: Draft, reader: Reader, root: dict[str, Any], own: _Own) -> None:
        self.draft, self.reader, self.root, self.own = draft, reader, root, own
        self.ids: dict[str, str] = {}
        """Symbolic name of an actor, component or data store → element id."""
        self.kinds: dict[str, str] = {}
        self.zones: dict[str, str] = {}
        """Symbolic name of a kept trust zone → boundary id."""
        self.zone_of: dict[str, str | None] = {}
        self.components: dict[str, dict[str, Any]] = {}
        self.held: dict[str, list[str]] = {}
        """Data store symbol → the asset ids placed on it."""
        self.mistyped: list[str] = []

    def records(self, key: str) -> list[dict[str, Any]]:
        return self.reader.records(self.root.get(key), key)

    def symbol(self, item: dict[str, Any], where: str) -> str:
        value = item.get("symbolic_name", item.get("id"))
        if not isinstance(value, str) or not value.strip():
            raise self.reader.fail(f"{where} has no symbolic_name")
        return value

    def new_id(self, section: str, symbol: str, fallback: str) -> str:
        entry = self.own.entry(section, symbol)
        wanted = str(entry["id"]) if entry and isinstance(entry.get("id"), str) else symbol
        return self.draft.new_id(wanted, fallback)

    def run(self) -> None:
        self._zones()
        self._actors()
        self._components()
        self._data_sets()
        self._flows()
        self._assumptions()
        self._entry_points()
        self._prune()
        self._not_imported()

    # -- elements ----------------------------------------------------------------------

    def _zones(self) -> None:
        zones = self.records("trust_zones")
        placed = {
            str(item.get("trust_zone"))
            for key in ("components", "data_stores")
            for item in self.records(key)
        }
        empty = []
        for index, zone in enumerate(zones):
            symbol = self.symbol(zone, f"trust_zones[{index}]")
            entry = self.own.entry("boundaries", symbol)
            if symbol == self.own.data.get("outside_zone"):
                continue  # what the exporter calls outside: no boundary at all
            if symbol not in placed and entry is None:
                empty.append(symbol)
                continue
            self.zones[symbol] = self.new_id("boundaries", symbol, "boundary")
        for index, zone in enumerate(zones):
            symbol = self.symbol(zone, f"trust_zones[{index}]")
            if symbol not in self.zones:
                continue
            entry = self.own.entry("boundaries", symbol) or {}
            self.draft.add(
                "boundaries",
                {
                    **entry,
                    "id": self.zones[symbol],
                    "name": self._name(zone, entry),
                    "description": text(zone.get("description")),
                },
            )
        self.draft.note_list("trust zones that hold no component or data store, left out", empty)

    def _name(
        self, item: dict[str, Any], entry: dict[str, Any], made_up: str | None = None
    ) -> str | None:
        """The TM-BOM title, unless it is only the title the exporter made up (the id, for
        a flow "source → target") for an element that has no name of its own."""
        title = name(item.get("title", item.get("name")))
        if entry and "name" not in entry and title == (made_up or entry.get("id")):
            return None
        return title

    def _actors(self) -> None:
        in_zones = []
        for index, actor in enumerate(self.records("actors")):
            symbol = self.symbol(actor, f"actors[{index}]")
            self._register(symbol, "actor", self.new_id("actors", symbol, "actor"))
            entry = self.own.entry("actors", symbol)
            kind = self.reader.word(actor.get("type"), f"actor {symbol!r}: type")
            trust, human = ACTOR_TRUST.get(kind, (ActorTrust.UNTRUSTED, True))
            if entry is None and _text_value(actor.get("trust_zone")) in self.zones:
                in_zones.append(symbol)
            self.draft.add(
                "actors",
                {
                    **(entry or {"trust": str(trust), "human": human}),
                    "id": self.ids[symbol],
                    "name": self._name(actor, entry or {}),
                    "description": text(actor.get("description")),
                },
            )
        self.draft.note_list(
            "actors stand outside every boundary in Shieldwall; their trust zones are dropped",
            in_zones,
        )

    def _register(self, symbol: str, kind: str, element_id: str) -> None:
        if symbol in self.ids:
            raise self.reader.fail(f"two elements have the symbolic name {symbol!r}")
        self.ids[symbol], self.kinds[symbol] = element_id, kind

    def _zone(self, item: dict[str, Any], where: str) -> str | None:
        zone = item.get("trust_zone")
        if zone is None or zone == self.own.data.get("outside_zone"):
            return None
        if _text_value(zone) not in self.zones:
            raise self.reader.fail(f"{where} is in trust zone {zone!r}, which is not one")
        return self.zones[str(zone)]

    def _components(self) -> None:
        guessed, parents = [], []
        for index, item in enumerate(self.records("components")):
            symbol = self.symbol(item, f"components[{index}]")
            self._register(symbol, "component", self.new_id("components", symbol, "component"))
            entry = self.own.entry("components", symbol)
            title = str(item.get("title") or "")
            ctype = next(
                (t for pattern, t in _COMPONENT_WORDS if re.search(pattern, title.lower())),
                ComponentType.PROCESS,
            )
            if entry is None and ctype != ComponentType.PROCESS:
                guessed.append(f"{symbol} ({ctype})")
            if item.get("parent_component"):
                parents.append(symbol)
            self._component(symbol, item, entry or {"type": str(ctype)}, entry)
        for index, item in enumerate(self.records("data_stores")):
            symbol = self.symbol(item, f"data_stores[{index}]")
            self._register(symbol, "data_store", self.new_id("components", symbol, "store"))
            entry = self.own.entry("components", symbol)
            kind = self.reader.word(item.get("type"), f"data store {symbol!r}: type")
            words = " ".join(str(item.get(k) or "") for k in ("title", "product")).lower()
            ctype = STORE_TYPES.get(kind, ComponentType.DATABASE)
            if _SECRET_STORE.search(words):
                ctype = ComponentType.SECRET_STORE
            product = " ".join(str(item.get(k) or "") for k in ("vendor", "product")).strip()
            base = {"type": str(ctype), "technology": name(product)}
            self._component(symbol, item, entry or base, entry)
        order = {
            s: i for i, s in enumerate(self.own.items("component_order")) if isinstance(s, str)
        }
        if order:  # TM-BOM lists components and data stores apart; Shieldwall does not
            position = {self.ids[s]: order.get(s, len(order)) for s in self.components}
            self.draft.sections["components"].sort(key=lambda c: position[c["id"]])
        self.draft.note_list("component types guessed from their titles", guessed)
        self.draft.note_list("parent components have no place in a Shieldwall model", parents)

    def _component(
        self,
        symbol: str,
        item: dict[str, Any],
        base: dict[str, Any],
        entry: dict[str, Any] | None,
    ) -> None:
        component = self.draft.add(
            "components",
            {
                **base,
                "id": self.ids[symbol],
                "name": self._name(item, entry or {}),
                "description": text(item.get("description")),
                "boundary": self._zone(item, f"{symbol!r}"),
            },
        )
        self.components[symbol] = component

    def _data_sets(self) -> None:
        lost: list[str] = []
        for index, item in enumerate(self.records("data_sets")):
            symbol = self.symbol(item, f"data_sets[{index}]")
            entry = self.own.entry("assets", symbol)
            asset_id = self.new_id("assets", symbol, "asset")
            sensitivity = self.reader.words(item.get("data_sensitivity"), f"{symbol}: sensitivity")
            classes = unique(str(DATA_CLASSES[s]) for s in sensitivity if s in DATA_CLASSES)
            self.draft.add(
                "assets",
                {
                    **(entry or {"data_classes": classes}),
                    "id": asset_id,
                    "name": self._name(item, entry or {}),
                    "description": text(item.get("description")),
                },
            )
            for p, placement in enumerate(self.reader.records(item.get("placements"), symbol)):
                store = _text_value(placement.get("data_store"))
                component = self.components.get(str(store))
                if component is None:
                    lost.append(f"{symbol} on {store}")
                    continue
                self.held.setdefault(str(store), []).append(asset_id)
                component["stores"] = unique([*_list(component.get("stores")), asset_id])
                encrypted = self.reader.flag(placement.get("encrypted"), f"{symbol}: {p}")
                if encrypted and self.own.entry("components", str(store)) is None:
                    controls = _list(component.get("controls"))
                    component["controls"] = unique([*controls, "encryption-at-rest"])
        self.draft.note_list("placements on data stores that do not exist, left out", lost)

    # -- flows -------------------------------------------------------------------------

    def _end(self, flow: dict[str, Any], key: str, where: str) -> str:
        end = self.reader.mapping(flow.get(key), f"{where}: {key}", optional=False)
        symbol = _text_value(end.get("object")) or ""
        if symbol not in self.ids:
            raise self.reader.fail(f"{where}: {key} {symbol!r} is no actor, component or store")
        said = self.reader.word(end.get("type"), f"{where}: {key}.type").rsplit("/", 1)[-1]
        if said and said != self.kinds[symbol]:
            self.mistyped.append(f"{symbol} ({said}, is a {self.kinds[symbol]})")
        return symbol

    def _flows(self) -> None:
        boundaries = self._boundary_methods()
        vague: list[str] = []
        for index, flow in enumerate(self.records("data_flows")):
            symbol = self.symbol(flow, f"data_flows[{index}]")
            where = f"data flow {symbol!r}"
            source, target = self._end(flow, "source", where), self._end(flow, "destination", where)
            if source == target:
                self.draft.note(f"{where} goes from an element to itself: left out")
                continue
            entry = self.own.entry("flows", symbol)
            encrypted = self.reader.flag(flow.get("encrypted"), f"{where}: encrypted")
            ends = {"source": self.ids[source], "target": self.ids[target]}
            if entry is not None:
                fields = {**entry, **ends, "encrypted": _encryption(entry, encrypted)}
                made_up = f"{ends['source']} → {ends['target']}"
                fields["name"] = self._name(flow, entry, made_up)
            else:
                fields = self._new_flow(symbol, flow, source, target, encrypted, boundaries)
                if flow.get("has_sensitive_data") is True and not fields.get("sends"):
                    vague.append(symbol)
            fields["description"] = text(flow.get("description"))
            self.draft.add("flows", fields)
        self.draft.note_list("flow ends whose type is wrong, found by name", unique(self.mistyped))
        self.draft.note_list(
            "flows with sensitive data but no data store at either end: which data is unknown",
            vague,
        )

    def _new_flow(
        self,
        symbol: str,
        flow: dict[str, Any],
        source: str,
        target: str,
        encrypted: bool,
        boundaries: dict[frozenset[str | None], tuple[Authentication, bool]],
    ) -> dict[str, Any]:
        protocol, encrypted_value = protocol_from_text(str(flow.get("title") or ""), encrypted)
        flow_id = as_element_id(symbol)
        default_key = f"{self.ids[source]}-to-{self.ids[target]}"
        data = [
            asset
            for end in (source, target)
            if self.kinds[end] == "data_store" and flow.get("has_sensitive_data") is True
            for asset in self.held.get(end, [])
        ]
        authentication, authorized = boundaries.get(
            frozenset({self._zone_symbol(source), self._zone_symbol(target)}),
            (Authentication.NONE, False),
        )
        authorization = Authorization.NONE
        if authorized:
            from_actor = self.kinds[source] == "actor"
            authorization = Authorization.END_USER if from_actor else Authorization.TECHNICAL_USER
        return {
            "id": None if flow_id == default_key else self.draft.new_id(symbol, "flow"),
            "name": name(flow.get("title")),
            "source": self.ids[source],
            "target": self.ids[target],
            "protocol": str(protocol),
            "encrypted": encrypted_value,
            "authentication": str(authentication),
            "authorization": str(authorization),
            "sends": unique(data),
        }

    def _zone_symbol(self, symbol: str) -> str | None:
        """The trust zone an element is in; ``None`` (outside) for actors and for zones
        the model does not define (TM-BOMs often name "public" without defining it)."""
        if self.kinds[symbol] == "actor":
            return None
        boundary = self.components[symbol].get("boundary")
        return next((z for z, b in self.zones.items() if b == boundary), None)

    def _boundary_methods(self) -> dict[frozenset[str | None], tuple[Authentication, bool]]:
        """For each pair of zones: the strongest authentication a trust boundary between
        them asks for, and whether it controls access."""
        methods: dict[frozenset[str | None], tuple[Authentication, bool]] = {}
        for index, boundary in enumerate(self.records("trust_boundaries")):
            where = f"trust_boundaries[{index}]"
            pair = frozenset(
                z if z in self.zones else None
                for z in (
                    _text_value(boundary.get("trust_zone_a")),
                    _text_value(boundary.get("trust_zone_b")),
                )
            )
            said = set(self.reader.words(boundary.get("authentication_methods"), where))
            authentication = next(
                (a for method, a in _AUTHENTICATION if method in said), Authentication.NONE
            )
            access = set(self.reader.words(boundary.get("access_control_methods"), where))
            methods[pair] = (authentication, bool(access - {"none"}))
        return methods

    # -- the rest ----------------------------------------------------------------------

    def _assumptions(self) -> None:
        ids = self.own.items("assumptions")
        items = self.records("assumptions")
        rejected = 0
        for index, item in enumerate(items):
            validity = self.reader.word(item.get("validity"), f"assumptions[{index}]")
            if validity == "rejected":
                rejected += 1
                continue
            entry = ids[index] if len(ids) == len(items) and isinstance(ids[index], dict) else {}
            self.draft.assume(item.get("description"), validity == "confirmed", entry)
        if rejected:
            self.draft.note(f"{rejected} rejected assumptions left out")

    def _entry_points(self) -> None:
        """Entry points have no TM-BOM equivalent: only Shieldwall's extension has them,
        and only those whose component is still in the model are kept."""
        components = {c["id"] for c in self.draft.sections["components"]}
        for entry in self.own.items("entry_points"):
            if isinstance(entry, dict) and _text_value(entry.get("component")) in components:
                self.draft.add("entry_points", dict(entry))

    def _prune(self) -> None:
        """Shieldwall's extension may name elements another tool has since removed from
        the TM-BOM: references to them go."""
        assets = {a["id"] for a in self.draft.sections["assets"]}
        boundaries = {b["id"] for b in self.draft.sections["boundaries"]}
        for boundary in self.draft.sections["boundaries"]:
            if _text_value(boundary.get("parent")) not in boundaries:
                boundary.pop("parent", None)
        for section, keys in (
            ("components", ("stores", "processes")),
            ("flows", ("sends", "receives")),
        ):
            for element in self.draft.sections[section]:
                for key in keys:
                    if isinstance(element.get(key), list):
                        element[key] = [a for a in element[key] if _text_value(a) in assets]

    def _not_imported(self) -> None:
        counts = {
            key: len(self.reader.items(self.root.get(key), key))
            for key in ("threats", "controls", "risks", "threat_personas")
        }
        listed = [f"{key.replace('_', ' ')} ({n})" for key, n in counts.items() if n]
        if listed:
            self.draft.note(
                f"not imported: {', '.join(listed)} (Shieldwall's rules make the threats; "
                "treatments go in the model's tracking file)"
            )


def _encryption(entry: dict[str, Any], encrypted: bool) -> bool | None:
    """The flow's ``encrypted`` as Shieldwall wrote it, unless TM-BOM now says otherwise."""
    try:
        protocol = Protocol(entry.get("protocol", Protocol.HTTPS))
    except ValueError:
        return encrypted  # the model check reports the unknown protocol
    said = entry.get("encrypted")
    said = said if isinstance(said, bool) else None
    if (protocol_encrypts(protocol) if said is None else said) == encrypted:
        return said
    return encrypted_override(protocol, encrypted)


def _text_value(value: Any) -> str | None:
    """A reference as text; anything else (a list where a name belongs) as no reference."""
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
