"""A checked model and its threats as an OWASP TM-BOM document.

The format is the OWASP Threat Model Library's JSON schema 1.0.1 (see
``importers.tmbom`` for the source and what each part means). The model's elements become
trust zones, actors, components, data stores, data sets and data flows; the threats become
threats (with their CWE and CAPEC ids), risks (likelihood, impact, score and band, residual
after the controls in place) and controls (each mitigating control of the catalogue, once
where it is in place and once where it is missing, linked to the threats it answers).

Symbolic names are derived from the model's ids (``web_app`` becomes ``web-app``; a threat
``unencrypted-flow-across-boundary:flows/web-to-api`` becomes
``unencrypted-flow-across-boundary--flows-web-to-api``), so they stay the same from one
export of a model to the next.

What TM-BOM cannot say (component types, protocols, authentication, controls, CIA needs,
exposure, entry points, threat status and treatment) goes into
``extensions["github.com/shieldwall/shieldwall/tmbom"]``, keyed by symbolic name, which
``importers.tmbom`` reads back: a Shieldwall model survives the round trip unchanged.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from shieldwall.threatmodel.controls import catalogue
from shieldwall.threatmodel.engine import Risk, Threat, exposed
from shieldwall.threatmodel.facts import ModelIndex, need
from shieldwall.threatmodel.importers.base import unique
from shieldwall.threatmodel.importers.tmbom import ACTOR_TRUST, DATA_CLASSES, EXTENSION, SCHEMA_URL
from shieldwall.threatmodel.schemas import ComponentSpec, FlowSpec, ThreatModelSpec
from shieldwall.threatmodel.service import Analysis
from shieldwall.threatmodel.vocabulary import (
    DATASTORE_TYPES,
    ActorTrust,
    Authentication,
    Category,
    ComponentType,
    Level,
)

_LIKELIHOOD = {1: "rare", 2: "unlikely", 3: "possible", 4: "likely", 5: "certain"}
_IMPACT = {1: "negligible", 2: "minor", 3: "moderate", 4: "major", 5: "severe"}
_DEGREE = {
    Level.NONE: "minimal",
    Level.LOW: "low",
    Level.MEDIUM: "moderate",
    Level.HIGH: "high",
    Level.CRITICAL: "maximal",
}
_TIER = {"maximal": "mission_critical", "high": "business_critical", "moderate": "important"}
_STORE_TYPE = {
    ComponentType.DATABASE: "sql",
    ComponentType.CACHE: "key_value",
    ComponentType.SECRET_STORE: "key_value",
    ComponentType.OBJECT_STORAGE: "object",
    ComponentType.FILE_SYSTEM: "object",
    ComponentType.LOG_STORE: "time_series",
}
_SENSITIVITY = {str(c): s for s, c in DATA_CLASSES.items() if s != "fin"} | {"secrets": "cred"}
_ACTOR_TYPE = {(trust, human): kind for kind, (trust, human) in reversed(list(ACTOR_TRUST.items()))}
_AUTHENTICATION_METHOD = {
    Authentication.CREDENTIALS: "password",
    Authentication.SESSION: "token",
    Authentication.TOKEN: "token",
    Authentication.API_KEY: "token",
    Authentication.CLIENT_CERTIFICATE: "public_key",
    Authentication.TWO_FACTOR: "otp",
    Authentication.SSO: "sso",
    Authentication.WORKLOAD_IDENTITY: "public_key",
}
_ORGANISATIONAL = frozenset({Category.UNAWARENESS, Category.NON_COMPLIANCE})
"""Privacy threats that come from how the organisation works, not from an adversary."""


def export_tmbom(analysis: Analysis) -> dict[str, Any]:
    """The model and its threats as a TM-BOM document (a JSON-ready mapping)."""
    return _Export(analysis).document()


def symbol(value: str) -> str:
    """A model id or threat id as a TM-BOM symbolic name (``^[0-9a-z-]+$``)."""
    return re.sub(r"-{3,}", "--", re.sub(r"[^0-9a-z-]", "-", value.lower().replace(":", "--")))


def _dump(spec: BaseModel) -> dict[str, Any]:
    return spec.model_dump(mode="json", exclude_defaults=True)


def _risk(risk: Risk) -> dict[str, Any]:
    return {
        "likelihood": _LIKELIHOOD[risk.likelihood],
        "impact": _IMPACT[risk.impact],
        "score": risk.score,
        "level": risk.level.word,
    }


class _Export:
    def __init__(self, analysis: Analysis) -> None:
        self.spec: ThreatModelSpec = analysis.model.spec
        self.index: ModelIndex = analysis.index
        self.taken: set[str] = set()
        self.symbols: dict[str, str] = {}
        """Element id or flow key → symbolic name."""
        for section in ("boundaries", "actors", "components", "assets"):
            for element in getattr(self.spec, section):
                self.symbols[element.id] = self._unique(symbol(element.id))
        for flow in self.spec.flows:
            self.symbols[flow.key] = self._unique(symbol(flow.key))
        self.outside = self._unique("outside")
        self.threats = sorted(analysis.threats, key=lambda t: t.id)
        self.threat_symbols = {t.id: self._unique(symbol(t.id)) for t in self.threats}

    def _unique(self, wanted: str) -> str:
        candidate, number = wanted, 1
        while candidate in self.taken:
            number += 1
            candidate = f"{wanted}-{number}"
        self.taken.add(candidate)
        return candidate

    def zone(self, element_id: str) -> str:
        boundary = self.index.boundary_of(element_id)
        return self.symbols[boundary] if boundary else self.outside

    def document(self) -> dict[str, Any]:
        spec = self.spec
        document: dict[str, Any] = {
            "$schema": SCHEMA_URL,
            "version": "1",
            "scope": self._scope(),
        }
        if spec.description:
            document["description"] = spec.description
        if spec.reviewed:
            document["reviewed_at"] = spec.reviewed.isoformat()
        components = [c for c in spec.components if c.type not in DATASTORE_TYPES]
        stores = [c for c in spec.components if c.type in DATASTORE_TYPES]
        document |= {
            "trust_zones": self._zones(),
            "trust_boundaries": self._crossings(),
            "actors": [self._actor(a) for a in spec.actors],
            "components": [self._component(c) for c in components],
            "data_stores": [self._store(c) for c in stores],
            "data_sets": [self._data_set(a) for a in spec.assets],
            "data_flows": [self._flow(f) for f in spec.flows],
            "assumptions": [
                {
                    "description": a.text,
                    "validity": "confirmed" if a.validated else "unconfirmed",
                }
                for a in spec.assumptions
            ],
            "threat_personas": self._personas(),
            "threats": [self._threat(t) for t in self.threats],
            "controls": self._controls(),
            "risks": [self._risk_entry(t) for t in self.threats],
            "extensions": {EXTENSION: self._extension()},
        }
        return document

    # -- the model -----------------------------------------------------------------------

    def _scope(self) -> dict[str, Any]:
        """TM-BOM asks for a scope the model only implies: how critical (the highest need
        of its data), how sensitive (its data classes), how exposed (internet-facing
        components or untrusted actors)."""
        spec = self.spec
        needs = [
            need(asset, which)
            for asset in spec.assets
            for which in ("confidentiality", "integrity", "availability")
        ]
        criticality = _DEGREE[Level(max(needs, default=Level.LOW))]
        sensitivity = sorted(
            {
                _SENSITIVITY[str(c)]
                for a in spec.assets
                for c in a.data_classes
                if str(c) in _SENSITIVITY
            }
        )
        exposed = any(self.index.internet_facing(c) for c in spec.components) or any(
            a.trust == ActorTrust.UNTRUSTED for a in spec.actors
        )
        return {
            "title": spec.title,
            "description": spec.description or spec.title,
            "business_criticality": criticality,
            "data_sensitivity": sensitivity,
            "exposure": "external" if exposed else "internal",
            "tier": _TIER.get(criticality, "non_critical"),
        }

    def _zones(self) -> list[dict[str, Any]]:
        zones = [
            {
                "symbolic_name": self.symbols[b.id],
                "title": b.title,
                "description": b.description or "",
            }
            for b in self.spec.boundaries
        ]
        zones.append(
            {
                "symbolic_name": self.outside,
                "title": "Outside",
                "description": "Outside every trust boundary of the model: its actors, and the "
                "internet",
            }
        )
        return zones

    def _crossings(self) -> list[dict[str, Any]]:
        """A trust boundary for each pair of zones that flows cross, with the
        authentication and access control those flows use."""
        pairs: dict[tuple[str, str], list[FlowSpec]] = {}
        for flow in self.spec.flows:
            a, b = sorted((self.zone(flow.source), self.zone(flow.target)))
            if a != b:
                pairs.setdefault((a, b), []).append(flow)
        crossings = []
        for (a, b), flows in sorted(pairs.items()):
            methods = sorted({_AUTHENTICATION_METHOD.get(f.authentication, "none") for f in flows})
            access = "rbac" if any(f.authorization != "none" for f in flows) else "none"
            crossings.append(
                {
                    "trust_zone_a": a,
                    "trust_zone_b": b,
                    "access_control_methods": [access],
                    "authentication_methods": methods,
                }
            )
        return crossings

    def _actor(self, actor: Any) -> dict[str, Any]:
        kind = _ACTOR_TYPE.get((actor.trust, actor.human)) or _ACTOR_TYPE.get(
            (actor.trust, not actor.human), "user"
        )
        return {
            "symbolic_name": self.symbols[actor.id],
            "title": actor.title,
            "description": actor.description or "",
            "type": kind,
            "trust_zone": self.outside,
        }

    def _component(self, component: ComponentSpec) -> dict[str, Any]:
        return {
            "symbolic_name": self.symbols[component.id],
            "title": component.title,
            "description": component.description or "",
            "trust_zone": self.zone(component.id),
        }

    def _store(self, component: ComponentSpec) -> dict[str, Any]:
        store = {
            "symbolic_name": self.symbols[component.id],
            "title": component.title,
            "description": component.description or "",
            "type": _STORE_TYPE.get(component.type, "sql"),
            "trust_zone": self.zone(component.id),
        }
        if component.technology:
            store["product"] = component.technology
        return store

    def _data_set(self, asset: Any) -> dict[str, Any]:
        placements = [
            {
                "data_store": self.symbols[c.id],
                "encrypted": "encryption-at-rest"
                in self.index.controls_of(asset.controls, c.controls),
            }
            for c in self.spec.components
            if asset.id in c.stores and c.type in DATASTORE_TYPES
        ]
        return {
            "symbolic_name": self.symbols[asset.id],
            "title": asset.title,
            "description": asset.description or "",
            "placements": placements,
            "data_sensitivity": sorted(
                {_SENSITIVITY[str(c)] for c in asset.data_classes if str(c) in _SENSITIVITY}
            ),
        }

    def _end(self, element_id: str) -> dict[str, str]:
        component = self.index.components.get(element_id)
        if component is None:
            kind = "actor"
        else:
            kind = "data_store" if component.type in DATASTORE_TYPES else "component"
        return {"type": kind, "object": self.symbols[element_id]}

    def _flow(self, flow: FlowSpec) -> dict[str, Any]:
        carried = [self.index.assets[a] for a in (*flow.sends, *flow.receives)]
        return {
            "symbolic_name": self.symbols[flow.key],
            "title": flow.title,
            "description": flow.description or "",
            "source": self._end(flow.source),
            "destination": self._end(flow.target),
            "has_sensitive_data": any(
                need(a, "confidentiality") >= Level.HIGH or a.data_classes for a in carried
            ),
            "encrypted": self.index.encrypted(flow),
        }

    # -- the threats ---------------------------------------------------------------------

    def _persona(self, threat: Threat) -> str:
        return "external-attacker" if exposed(threat.element) else "insider"

    def _personas(self) -> list[dict[str, Any]]:
        used = {self._persona(t) for t in self.threats}
        personas = {
            "external-attacker": {
                "symbolic_name": "external-attacker",
                "title": "External attacker",
                "description": "Anyone who can reach the element from outside: the internet "
                "or an untrusted actor",
                "is_person": True,
                "skill_level": "engineer",
                "access_level": "anonymous",
                "malicious_intent": True,
                "applicability_to_org": "high",
            },
            "insider": {
                "symbolic_name": "insider",
                "title": "Insider or compromised component",
                "description": "Someone or something already inside the system's boundaries",
                "is_person": True,
                "skill_level": "insider",
                "access_level": "user",
                "malicious_intent": True,
                "applicability_to_org": "moderate",
            },
        }
        return [personas[key] for key in sorted(used)]

    def _affected(self, threat: Threat) -> list[str]:
        kind, _, key = threat.element.path.partition("/")
        if kind == "entry_points":
            entry = next((e for e in self.spec.entry_points if e.id == key), None)
            key = entry.component if entry else ""
        return [self.symbols[key]] if key in self.symbols else []

    def _threat(self, threat: Threat) -> dict[str, Any]:
        categories = threat.rule.spec.categories
        organisational = all(c in _ORGANISATIONAL for c in categories)
        entry: dict[str, Any] = {
            "symbolic_name": self.threat_symbols[threat.id],
            "title": threat.rule.spec.title,
            "description": threat.description,
            "threat_persona": self._persona(threat),
            "event": ", ".join(str(c).replace("_", " ") for c in categories),
            "sources": ["human_error" if organisational else "adversary"],
            "attack_mechanisms": [{"capec_id": n} for n in threat.rule.spec.capec],
            "weaknesses": [{"cwe_id": n} for n in threat.rule.spec.cwe],
        }
        affected = self._affected(threat)
        if affected:
            entry["components_affected"] = affected
        return entry

    def _controls(self) -> list[dict[str, Any]]:
        """Each mitigating control twice: ``active`` for the threats where it is in place,
        ``suggested`` for those where it is missing; the priority is the highest residual
        risk among them."""
        titles = catalogue().controls
        entries: dict[tuple[str, bool], list[Threat]] = {}
        for threat in self.threats:
            for control, present in threat.mitigations.items():
                entries.setdefault((control, present), []).append(threat)
        controls = []
        for (control, present), threats in sorted(entries.items()):
            title = titles[control].title if control in titles else control
            where = ", ".join(unique(t.element.title for t in threats))
            controls.append(
                {
                    "symbolic_name": f"{control}-{'in-place' if present else 'missing'}",
                    "title": title,
                    "description": f"{'In place on' if present else 'Missing on'}: {where}",
                    "threats": [self.threat_symbols[t.id] for t in threats],
                    "status": "active" if present else "suggested",
                    "priority": max(t.residual.level for t in threats).word,
                }
            )
        return controls

    def _risk_entry(self, threat: Threat) -> dict[str, Any]:
        in_place = sum(threat.mitigations.values())
        return {
            "symbolic_name": f"risk-{self.threat_symbols[threat.id]}",
            "title": threat.rule.spec.title,
            "description": threat.description,
            "threats": [self.threat_symbols[threat.id]],
            **_risk(threat.residual),
            "impact_description": (
                f"inherent risk {threat.inherent.score} ({threat.inherent.level.word}); "
                f"residual {threat.residual.score} ({threat.residual.level.word}) with "
                f"{in_place} of {len(threat.mitigations)} mitigating controls in place; "
                f"status {threat.status}"
            ),
        }

    # -- what TM-BOM cannot say ----------------------------------------------------------

    def _extension(self) -> dict[str, Any]:
        spec = self.spec
        model = {k: v for k, v in _dump(spec).items() if k in ("service", "owner", "reviewers")}
        return {
            "format": "Shieldwall threat model elements, keyed by TM-BOM symbolic name",
            "outside_zone": self.outside,
            "model": model,
            "boundaries": {self.symbols[b.id]: _dump(b) for b in spec.boundaries},
            "actors": {self.symbols[a.id]: _dump(a) for a in spec.actors},
            "components": {self.symbols[c.id]: _dump(c) for c in spec.components},
            "component_order": [self.symbols[c.id] for c in spec.components],
            "assets": {self.symbols[a.id]: _dump(a) for a in spec.assets},
            "flows": {self.symbols[f.key]: _dump(f) for f in spec.flows},
            "entry_points": [_dump(e) for e in spec.entry_points],
            "assumptions": [{"id": a.id} if a.id else {} for a in spec.assumptions],
            "threats": {self.threat_symbols[t.id]: self._threat_state(t) for t in self.threats},
        }

    @staticmethod
    def _threat_state(threat: Threat) -> dict[str, Any]:
        state: dict[str, Any] = {
            "id": threat.id,
            "rule": threat.rule.id,
            "element": threat.element.path,
            "status": str(threat.status),
            "categories": threat.categories,
            "cwe": threat.cwe_ids,
            "capec": threat.capec_ids,
            "inherent": _risk(threat.inherent),
            "residual": _risk(threat.residual),
            "mitigations": dict(threat.mitigations),
        }
        if threat.status_note:
            state["status_note"] = threat.status_note
        return state
