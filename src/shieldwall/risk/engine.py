"""Prioritisation: a finding, its vulnerability's intelligence and its service's context in;
a priority, a risk score and the factors that decided them out. Pure: no I/O.

The decision is SSVC's (see ``risk.ssvc``): exploitation (active when in KEV; a public
proof of concept when EPSS reaches the policy's threshold or an advisory links to an
exploit), automatable and technical impact (from CVSS, else from the rule's severity and
CWE), mission impact (the service's tier, raised by sensitive data). The outcome and the
service's exposure give the priority. The risk score orders findings within a priority.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shieldwall.findings.vocabulary import Kind, Severity
from shieldwall.intel.cvss import CvssFacts
from shieldwall.inventory.vocabulary import Exposure
from shieldwall.risk.policy import Exploitation, Level, Outcome, Policy, Priority
from shieldwall.risk.ssvc import decide

PLUS, MINUS, NEUTRAL = "+", "-", "·"

# What a severity stands for when there is no CVSS score: the middle of its CVSS band.
_SEVERITY_SCORE = {
    Severity.CRITICAL: 9.5,
    Severity.HIGH: 8.0,
    Severity.MEDIUM: 5.5,
    Severity.LOW: 2.5,
    Severity.INFO: 0.0,
}
_LEVELS = (Level.LOW, Level.MEDIUM, Level.HIGH)

# Risk score weights (sum 100): exploitation evidence first, then impact, then context.
_EXPLOITATION_POINTS = {Exploitation.ACTIVE: 40.0, Exploitation.POC: 25.0, Exploitation.NONE: 0.0}
_EPSS_POINTS = 15.0
_IMPACT_POINTS = 25.0
_AUTOMATABLE_POINTS = 5.0
_MISSION_POINTS = {Level.HIGH: 10.0, Level.MEDIUM: 5.0, Level.LOW: 0.0}
_EXPOSURE_POINTS = {Exposure.INTERNET: 5.0, Exposure.PARTNER: 2.5, Exposure.INTERNAL: 0.0}
_RANSOMWARE_POINTS = 5.0


@dataclass(frozen=True, slots=True)
class VulnIntel:
    """What the intelligence store knows about a vulnerability's alias group."""

    key: str
    """The group's canonical id."""
    aliases: tuple[str, ...] = ()
    kev_added: date | None = None
    kev_due: date | None = None
    ransomware: bool = False
    epss: float | None = None
    """The highest EPSS of the group's ids."""
    epss_percentile: float | None = None
    epss_date: date | None = None
    cvss: CvssFacts | None = None
    exploit_references: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceContext:
    name: str
    tier: int
    exposure: Exposure
    data_classes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FindingFacts:
    kind: Kind
    severity: Severity
    tool_severity: str | None
    cwe_ids: tuple[str, ...]
    intel: VulnIntel | None = None
    threats: tuple[str, ...] = ()
    """Open threats in the service's threat models with one of the finding's CWEs."""


@dataclass(frozen=True, slots=True)
class Factor:
    """One line of an explanation: what was considered, its value, and which way it
    pushed (``+`` more urgent, ``-`` less, ``·`` considered without effect)."""

    name: str
    text: str
    effect: str

    def __str__(self) -> str:
        return f"{self.text} ({self.effect})"


@dataclass(frozen=True, slots=True)
class Assessment:
    priority: Priority
    risk_score: float
    outcome: Outcome
    exploitation: Exploitation
    automatable: bool
    total_impact: bool
    mission: Level
    factors: tuple[Factor, ...]

    @property
    def urgency(self) -> int:
        """Priority and risk score as one number, higher first (what queues sort by)."""
        return (4 - int(self.priority)) * 1000 + round(self.risk_score * 10)


def assess(facts: FindingFacts, service: ServiceContext, policy: Policy) -> Assessment:
    factors: list[Factor] = []
    if facts.intel is not None or facts.kind in (Kind.DEPENDENCY, Kind.CONTAINER):
        exploitation = _vulnerability_exploitation(facts.intel, policy, factors)
        automatable, total, score = _vulnerability_impact(facts, exploitation, factors)
    elif facts.kind is Kind.SECRET:
        exploitation, automatable, total, score = _secret(facts, policy, factors)
    else:
        exploitation, automatable, total, score = _weakness(facts, policy, factors)
    mission = _mission(service, policy, factors)
    outcome = decide(exploitation, automatable, total, mission)
    priority = policy.decision.priority(outcome, service.exposure)
    decision = (
        f"SSVC: exploitation {exploitation}, automatable {'yes' if automatable else 'no'}, "
        f"technical impact {'total' if total else 'partial'}, mission impact {mission} "
        f"-> {outcome}; {outcome} with the service {_exposure_words(service.exposure)}: "
        f"{priority.label}"
    )
    factors.append(Factor("decision", decision, NEUTRAL))
    priority = _threat_model(facts, priority, factors)
    priority = _floors(facts, service, policy, exploitation, priority, factors)
    risk = _risk_score(facts, exploitation, automatable, score, mission, service)
    return Assessment(
        priority=priority,
        risk_score=risk,
        outcome=outcome,
        exploitation=exploitation,
        automatable=automatable,
        total_impact=total,
        mission=mission,
        factors=tuple(factors),
    )


def _vulnerability_exploitation(
    intel: VulnIntel | None, policy: Policy, factors: list[Factor]
) -> Exploitation:
    if intel is None:
        factors.append(Factor("exploitation", "no intelligence on this vulnerability", NEUTRAL))
        return Exploitation.NONE
    exploitation = Exploitation.NONE
    if intel.kev_added is not None:
        exploitation = Exploitation.ACTIVE
        text = f"in KEV since {intel.kev_added.isoformat()}"
        if intel.kev_due is not None:
            text += f", federal due date {intel.kev_due.isoformat()}"
        if intel.ransomware:
            text += ", used in ransomware campaigns"
        factors.append(Factor("kev", text, PLUS))
    else:
        factors.append(Factor("kev", "not in KEV", NEUTRAL))
    threshold = policy.exploitation.epss_poc_threshold
    if intel.epss is not None:
        text = f"EPSS {intel.epss:.2f}"
        if intel.epss_percentile is not None:
            text += f", {_ordinal(int(intel.epss_percentile * 100))} percentile"
        likely = intel.epss >= threshold
        if likely and exploitation is Exploitation.NONE:
            exploitation = Exploitation.POC
            text += f" (at least {threshold:g}: treated as a public proof of concept)"
        factors.append(Factor("epss", text, PLUS if likely else NEUTRAL))
    else:
        factors.append(Factor("epss", "no EPSS score", NEUTRAL))
    if intel.exploit_references:
        if exploitation is Exploitation.NONE:
            exploitation = Exploitation.POC
        factors.append(
            Factor("exploit", f"public exploit referenced: {intel.exploit_references[0]}", PLUS)
        )
    return exploitation


def _vulnerability_impact(
    facts: FindingFacts, exploitation: Exploitation, factors: list[Factor]
) -> tuple[bool, bool, float]:
    cvss = facts.intel.cvss if facts.intel is not None else None
    if cvss is None:
        score = _SEVERITY_SCORE[facts.severity]
        total = facts.severity is Severity.CRITICAL
        factors.append(
            Factor(
                "impact",
                f"no CVSS vector: severity {facts.severity} taken as "
                f"{'total' if total else 'partial'} technical impact",
                PLUS if total else NEUTRAL,
            )
        )
        return False, total, score
    traits = [
        word
        for flag, word in (
            (cvss.network, "network"),
            (cvss.no_privileges, "no privileges"),
            (cvss.no_user_interaction, "no user interaction"),
        )
        if flag
    ]
    text = f"CVSS {cvss.base_score:g} ({cvss.vector})"
    if exploitation is Exploitation.NONE and cvss.base_score >= 7.0:
        factors.append(Factor("cvss", f"{text} but no known exploitation", NEUTRAL))
    else:
        factors.append(
            Factor("cvss", text, PLUS if cvss.total_impact or cvss.base_score >= 9 else NEUTRAL)
        )
    factors.append(
        Factor(
            "automatable",
            "automatable: " + ", ".join(traits)
            if cvss.automatable
            else "not automatable" + (f" ({', '.join(traits)} only)" if traits else ""),
            PLUS if cvss.automatable else NEUTRAL,
        )
    )
    return cvss.automatable, cvss.total_impact, cvss.base_score


def _secret(
    facts: FindingFacts, policy: Policy, factors: list[Factor]
) -> tuple[Exploitation, bool, bool, float]:
    live = _live_credential(facts)
    exploitation = policy.secrets.verified if live else policy.secrets.unverified
    factors.append(
        Factor(
            "secret",
            "credential verified as live by the scanner"
            if live
            else "credential in the code, not verified as live",
            PLUS,
        )
    )
    # Whoever holds a credential uses it over the network with no help: automatable, and
    # it grants whatever the credential grants.
    return exploitation, True, True, _SEVERITY_SCORE[Severity.CRITICAL if live else facts.severity]


def _weakness(
    facts: FindingFacts, policy: Policy, factors: list[Factor]
) -> tuple[Exploitation, bool, bool, float]:
    rules = policy.code
    exploitation = rules.exploitation_by_severity.get(facts.severity, Exploitation.NONE)
    cwes = [c for c in facts.cwe_ids if c]
    total_cwes = sorted(set(cwes) & rules.total_impact_cwes)
    automatable = bool(set(cwes) & rules.automatable_cwes)
    if total_cwes:
        total = True
        why = f"{total_cwes[0]} gives total technical impact"
    else:
        total = facts.severity.rank >= rules.total_impact_severity.rank and not cwes
        why = f"severity {facts.severity}" + (f", {', '.join(cwes[:3])}" if cwes else ", no CWE")
        why += " taken as " + ("total" if total else "partial") + " technical impact"
    factors.append(Factor("weakness", f"{facts.kind} finding: {why}", PLUS if total else NEUTRAL))
    if exploitation is not Exploitation.NONE:
        factors.append(
            Factor(
                "exploitation",
                f"severity {facts.severity} taken as {exploitation} exploitation",
                PLUS,
            )
        )
    if automatable:
        factors.append(Factor("automatable", "weakness exploitable remotely without help", PLUS))
    return exploitation, automatable, total, _SEVERITY_SCORE[facts.severity]


def _mission(service: ServiceContext, policy: Policy, factors: list[Factor]) -> Level:
    rules = policy.mission_impact
    level = rules.by_tier.get(service.tier, Level.LOW)
    sensitive = [d for d in service.data_classes if d in rules.sensitive_data]
    if sensitive and level is not Level.HIGH:
        level = _LEVELS[_LEVELS.index(level) + 1]
    words = [f"{_exposure_words(service.exposure)}", f"tier {service.tier}"]
    if sensitive:
        words.append("holds " + ", ".join(f"{d} data" for d in sensitive))
    effect = PLUS if level is Level.HIGH or service.exposure is Exposure.INTERNET else NEUTRAL
    if level is Level.LOW and service.exposure is Exposure.INTERNAL:
        effect = MINUS
    factors.append(
        Factor(
            "service", f"service {service.name}: {', '.join(words)}: mission impact {level}", effect
        )
    )
    return level


def _threat_model(facts: FindingFacts, priority: Priority, factors: list[Factor]) -> Priority:
    """A finding that is an open threat of the service's threat model come true is raised
    one step, to P1 at most (P0 stays for what is being exploited now)."""
    if not facts.threats:
        return priority
    shown = ", ".join(facts.threats[:3])
    if len(facts.threats) > 3:
        shown += f" and {len(facts.threats) - 3} more"
    raised = Priority(priority - 1) if priority > Priority.P1 else priority
    outcome = f"raised one step to {raised.label}" if raised != priority else "no higher"
    factors.append(
        Factor(
            "threat_model",
            f"matches open threat {shown} in the service's threat model (same CWE): {outcome}",
            PLUS if raised != priority else NEUTRAL,
        )
    )
    return raised


def _floors(
    facts: FindingFacts,
    service: ServiceContext,
    policy: Policy,
    exploitation: Exploitation,
    priority: Priority,
    factors: list[Factor],
) -> Priority:
    """The policy's bounds after the decision table."""
    if (
        facts.kind is Kind.SECRET
        and _live_credential(facts)
        and service.exposure is Exposure.INTERNET
    ):
        floor = Priority.parse(policy.secrets.live_on_internet)
        if floor < priority:
            factors.append(
                Factor(
                    "floor", f"live credential on an internet-facing service: {floor.label}", PLUS
                )
            )
            priority = floor
    if facts.severity is Severity.INFO and exploitation is Exploitation.NONE:
        ceiling = Priority.parse(policy.decision.info_at_most)
        if ceiling > priority:
            factors.append(
                Factor("ceiling", f"informational finding: at most {ceiling.label}", MINUS)
            )
            priority = ceiling
    return priority


def _risk_score(
    facts: FindingFacts,
    exploitation: Exploitation,
    automatable: bool,
    impact_score: float,
    mission: Level,
    service: ServiceContext,
) -> float:
    intel = facts.intel
    score = _EXPLOITATION_POINTS[exploitation]
    if intel is not None:
        score += _EPSS_POINTS * (intel.epss or 0.0)
        score += _RANSOMWARE_POINTS if intel.ransomware else 0.0
    score += _IMPACT_POINTS * impact_score / 10.0
    score += _AUTOMATABLE_POINTS if automatable else 0.0
    score += _MISSION_POINTS[mission] + _EXPOSURE_POINTS[service.exposure]
    return round(min(score, 100.0), 1)


def _live_credential(facts: FindingFacts) -> bool:
    # The secret scanners' parsers make a verified secret critical (ingest.secrets).
    return facts.severity is Severity.CRITICAL or (facts.tool_severity or "") == "verified"


def _exposure_words(exposure: Exposure) -> str:
    return {
        Exposure.INTERNET: "internet-exposed",
        Exposure.PARTNER: "partner-facing",
        Exposure.INTERNAL: "internal",
    }[exposure]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
