"""From a model and rules to threats with stable ids and inherent and residual risk.

Pure: no I/O. The id of a threat is its rule id and its element's path
(``unencrypted-flow-across-boundary:flows/web-to-api``): the same in every version of the
model where that element still draws that rule, which is what lets threats be tracked,
diffed, accepted and linked to findings.

Risk, on a 5 × 5 matrix:

- Likelihood starts at the rule's and rises one step when the element is exposed to
  untrusted callers (internet-facing, or a flow from an untrusted source).
- Impact starts at the rule's and moves with the data at stake: the need (confidentiality
  for disclosure and privacy threats, integrity for tampering and repudiation,
  availability for denial of service, the highest of the three for spoofing and elevation
  of privilege) raises it one step at ``high`` and two at ``critical``, and lowers it one
  step at ``low``.
- Inherent risk is likelihood × impact (1–25): ``low`` up to 4, ``medium`` up to 9,
  ``high`` up to 16, ``critical`` above.
- Residual risk lowers the likelihood by the share of the rule's mitigating controls in
  place, down to ``rare`` when all are; impact stays (a control makes a breach less likely,
  not less harmful). A threat whose mitigating controls are all present is ``mitigated``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shieldwall.threatmodel.facts import Element, ModelIndex
from shieldwall.threatmodel.rules import Rule, RuleSet
from shieldwall.threatmodel.vocabulary import Category, Level, ThreatStatus

_NEED_OF: dict[Category, tuple[str, ...]] = {
    Category.INFORMATION_DISCLOSURE: ("confidentiality",),
    Category.DATA_DISCLOSURE: ("confidentiality",),
    Category.LINKING: ("confidentiality",),
    Category.IDENTIFYING: ("confidentiality",),
    Category.DETECTING: ("confidentiality",),
    Category.UNAWARENESS: ("confidentiality",),
    Category.NON_COMPLIANCE: ("confidentiality",),
    Category.TAMPERING: ("integrity",),
    Category.REPUDIATION: ("integrity",),
    Category.NON_REPUDIATION: ("confidentiality",),
    Category.DENIAL_OF_SERVICE: ("availability",),
    Category.SPOOFING: ("confidentiality", "integrity", "availability"),
    Category.ELEVATION_OF_PRIVILEGE: ("confidentiality", "integrity", "availability"),
}
_IMPACT_SHIFT = {Level.NONE: -1, Level.LOW: -1, Level.MEDIUM: 0, Level.HIGH: 1, Level.CRITICAL: 2}
BANDS = ((4, Level.LOW), (9, Level.MEDIUM), (16, Level.HIGH), (25, Level.CRITICAL))


def band(score: int) -> Level:
    return next(level for top, level in BANDS if score <= top)


@dataclass(frozen=True)
class Risk:
    likelihood: int
    impact: int

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def level(self) -> Level:
        return band(self.score)


@dataclass
class Threat:
    id: str
    rule: Rule
    element: Element
    inherent: Risk
    residual: Risk
    mitigations: dict[str, bool]
    """Each mitigating control of the rule and whether it is in place."""
    description: str
    status: ThreatStatus = ThreatStatus.OPEN
    status_note: str = ""
    treatment: Any = field(default=None, repr=False)

    @property
    def categories(self) -> list[str]:
        return [str(c) for c in self.rule.spec.categories]

    @property
    def cwe_ids(self) -> list[str]:
        return [f"CWE-{n}" for n in self.rule.spec.cwe]

    @property
    def capec_ids(self) -> list[str]:
        return [f"CAPEC-{n}" for n in self.rule.spec.capec]

    @property
    def missing_controls(self) -> list[str]:
        return [control for control, present in self.mitigations.items() if not present]


@dataclass(frozen=True)
class Exclusion:
    threat_id: str
    rule_id: str
    element: str
    reason: str


def exposed(element: Element) -> bool:
    facts = element.facts
    if element.kind == "flow":
        return bool(facts["from_untrusted"])
    if element.kind == "entry_point":
        return bool(facts["exposure"] == "internet")
    if element.kind == "actor":
        return bool(facts["trust"] == "untrusted")
    return bool(facts.get("internet_facing"))


def _need(element: Element, which: str) -> int:
    facts = element.facts
    value = facts.get(which) if element.kind == "asset" else facts.get(f"max_{which}")
    return int(value or 0)


def assess(rule: Rule, element: Element) -> tuple[Risk, Risk, dict[str, bool]]:
    likelihood = min(5, rule.likelihood + (1 if exposed(element) else 0))
    needs = {n for c in rule.spec.categories for n in _NEED_OF[c]}
    has_data = any(_need(element, n) for n in needs)
    shift = _IMPACT_SHIFT[Level(max(_need(element, n) for n in needs))] if has_data else 0
    impact = max(1, min(5, rule.impact + shift))
    inherent = Risk(likelihood, impact)
    mitigations = {control: control in element.controls for control in rule.spec.mitigations}
    if mitigations:
        share = sum(mitigations.values()) / len(mitigations)
        residual = Risk(max(1, likelihood - round((likelihood - 1) * share)), impact)
    else:
        residual = inherent
    return inherent, residual, mitigations


def generate(index: ModelIndex, rules: RuleSet) -> tuple[list[Threat], list[Exclusion]]:
    """Every rule over every element of its kind; threats in a stable order (by id)."""
    threats: list[Threat] = []
    excluded: list[Exclusion] = []
    by_kind = rules.by_kind
    for element in index.elements():
        for rule in by_kind[element.kind]:
            if not rule.test(element.facts):
                continue
            threat_id = f"{rule.id}:{element.path}"
            if rule.id in element.exclusions:
                excluded.append(
                    Exclusion(threat_id, rule.id, element.path, element.exclusions[rule.id])
                )
                continue
            inherent, residual, mitigations = assess(rule, element)
            threat = Threat(
                threat_id,
                rule,
                element,
                inherent,
                residual,
                mitigations,
                rule.describe(element.facts),
            )
            if mitigations and all(mitigations.values()):
                threat.status = ThreatStatus.MITIGATED
                threat.status_note = "all mitigating controls are in place"
            threats.append(threat)
    threats.sort(key=lambda t: t.id)
    return threats, excluded


def by_risk(threats: Iterable[Threat]) -> list[Threat]:
    """Most urgent first: open before treated, then residual, then inherent risk."""
    return sorted(
        threats,
        key=lambda t: (
            t.status != ThreatStatus.OPEN,
            -t.residual.score,
            -t.inherent.score,
            t.id,
        ),
    )
