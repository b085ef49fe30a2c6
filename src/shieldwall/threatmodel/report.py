"""Threat model reports: JSON for scripts, Markdown and HTML for design review, SARIF for
code-scanning views.

A reviewer does not read "rule R on element E" three hundred times: threats are grouped by
rule, most urgent first, each group said once with the elements it affects, what is missing
and how to fix it. Treated threats (accepted, transferred, not applicable) are listed with
who decided and until when; mitigated ones are summarised; lower-risk open ones are listed
briefly after the ones that need a decision.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jinja2 import Environment, select_autoescape

from shieldwall import __version__
from shieldwall.scan.sarif import INFORMATION_URI
from shieldwall.text import markdown_code, markdown_text, one_line
from shieldwall.threatmodel.engine import Threat
from shieldwall.threatmodel.service import Analysis
from shieldwall.threatmodel.vocabulary import Level, ThreatStatus

FORMATS = ("md", "html", "json", "sarif")
URGENT = Level.HIGH
"""Open threats at or above this residual risk lead the report; the rest are listed briefly."""
_AFFECTED_SHOWN = 8
_SARIF_LEVEL = {Level.CRITICAL: "error", Level.HIGH: "error", Level.MEDIUM: "warning"}
_SECURITY_SEVERITY = {Level.CRITICAL: "9.5", Level.HIGH: "8.0", Level.MEDIUM: "5.5"}


def threat_row(threat: Threat) -> dict[str, Any]:
    """One threat as a flat object (``report --format json`` and ``check --format json``)."""
    treatment = threat.treatment
    return {
        "id": threat.id,
        "rule_id": threat.rule.id,
        "title": threat.rule.spec.title,
        "element": threat.element.path,
        "element_name": threat.element.title,
        "element_kind": threat.element.kind,
        "categories": threat.categories,
        "cwe_ids": threat.cwe_ids,
        "capec_ids": threat.capec_ids,
        "likelihood": threat.inherent.likelihood,
        "impact": threat.inherent.impact,
        "inherent_risk": threat.inherent.level.word,
        "inherent_score": threat.inherent.score,
        "residual_risk": threat.residual.level.word,
        "residual_score": threat.residual.score,
        "status": str(threat.status),
        "status_note": threat.status_note,
        "mitigations": list(threat.mitigations),
        "missing_controls": threat.missing_controls,
        "owner": getattr(treatment, "owner", None),
        "approver": getattr(treatment, "approver", None),
        "expires": treatment.expires.isoformat() if getattr(treatment, "expires", None) else None,
        "description": threat.description,
    }


def counts(threats: Iterable[Threat]) -> dict[str, int]:
    """Threats by status, and open ones by residual risk (``open_critical``...)."""
    tally: dict[str, int] = {str(status): 0 for status in ThreatStatus}
    for level in reversed(Level):
        if level is not Level.NONE:
            tally[f"open_{level.word}"] = 0
    for threat in threats:
        tally[str(threat.status)] += 1
        if threat.status == ThreatStatus.OPEN:
            tally[f"open_{threat.residual.level.word}"] += 1
    return tally


def to_json(analysis: Analysis) -> dict[str, Any]:
    spec = analysis.model.spec
    return {
        "model": {
            "title": spec.title,
            "service": spec.service,
            "owner": spec.owner,
            "reviewed": spec.reviewed.isoformat() if spec.reviewed else None,
            "file": str(analysis.model.path),
            "assets": len(spec.assets),
            "actors": len(spec.actors),
            "boundaries": len(spec.boundaries),
            "components": len(spec.components),
            "flows": len(spec.flows),
        },
        "summary": counts(analysis.threats),
        "threats": [threat_row(t) for t in analysis.threats],
        "excluded": [
            {"id": e.threat_id, "rule_id": e.rule_id, "element": e.element, "reason": e.reason}
            for e in analysis.excluded
        ],
        "stale_treatments": analysis.stale_treatments,
        "assumptions": [{"text": a.text, "validated": a.validated} for a in spec.assumptions],
    }


@dataclass(frozen=True)
class Group:
    """The threats of one rule in one status: how a reviewer would say it once."""

    threats: tuple[Threat, ...]

    @property
    def first(self) -> Threat:
        return self.threats[0]

    @property
    def title(self) -> str:
        return self.first.rule.spec.title

    @property
    def risk(self) -> Level:
        return self.first.residual.level

    @property
    def elements(self) -> list[str]:
        return [t.element.title for t in self.threats]

    @property
    def missing(self) -> list[str]:
        return sorted({c for t in self.threats for c in t.missing_controls})

    @property
    def categories(self) -> str:
        return ", ".join(c.replace("_", " ") for c in self.first.categories)

    @property
    def ids(self) -> str:
        return ", ".join([*self.first.cwe_ids, *self.first.capec_ids])


def groups(threats: Iterable[Threat]) -> list[Group]:
    """Threats grouped by rule, keeping the order of their most urgent member."""
    grouped: dict[str, list[Threat]] = defaultdict(list)
    for threat in threats:
        grouped[threat.rule.id].append(threat)
    return [Group(tuple(members)) for members in grouped.values()]


@dataclass(frozen=True)
class Review:
    """The report's sections, shared by the Markdown and HTML renderings."""

    analysis: Analysis
    urgent: list[Group]
    minor: list[Group]
    treated: list[Threat]
    mitigated: list[Group]
    tally: dict[str, int]

    @classmethod
    def of(cls, analysis: Analysis) -> Review:
        open_threats = [t for t in analysis.threats if t.status == ThreatStatus.OPEN]
        return cls(
            analysis,
            groups(t for t in open_threats if t.residual.level >= URGENT),
            groups(t for t in open_threats if t.residual.level < URGENT),
            [
                t
                for t in analysis.threats
                if t.status not in (ThreatStatus.OPEN, ThreatStatus.MITIGATED)
            ],
            groups(t for t in analysis.threats if t.status == ThreatStatus.MITIGATED),
            counts(analysis.threats),
        )

    @property
    def verdict(self) -> str:
        tally = self.tally
        open_parts = [
            f"{tally[f'open_{level.word}']} {level.word}"
            for level in reversed(Level)
            if level is not Level.NONE and tally[f"open_{level.word}"]
        ]
        parts = [
            f"{tally['open']} open threat{'s' if tally['open'] != 1 else ''}"
            + (f" ({', '.join(open_parts)})" if open_parts else "")
        ]
        for status in ("mitigated", "accepted", "transferred", "not_applicable"):
            if tally[status]:
                parts.append(f"{tally[status]} {status.replace('_', ' ')}")
        return "; ".join(parts) + "."


def markdown(analysis: Analysis) -> str:
    review = Review.of(analysis)
    spec = analysis.model.spec
    out = [f"# Threat model review: {markdown_text(spec.title)}", ""]
    facts = []
    if spec.service:
        facts.append(f"service {markdown_code(spec.service)}")
    if spec.reviewed:
        facts.append(f"reviewed {spec.reviewed.isoformat()}")
    facts.append(
        f"{len(spec.components)} components, {len(spec.flows)} flows, "
        f"{len(spec.boundaries)} trust boundaries, {len(spec.assets)} data assets"
    )
    out += [" · ".join(facts), "", f"**Summary:** {review.verdict}", ""]
    if review.urgent:
        out += ["## Needs a decision", ""]
        out += ["| Risk | Threat | Where | Missing controls |", "|---|---|---|---|"]
        for group in review.urgent:
            out.append(
                f"| **{group.risk.word}** | {markdown_text(group.title)} | "
                f"{_affected(group)} | {', '.join(map(markdown_code, group.missing)) or '—'} |"
            )
        out.append("")
        for number, group in enumerate(review.urgent, 1):
            out += _group_section(number, group)
    else:
        out += ["No open threat at high or critical risk.", ""]
    if review.minor:
        out += ["## Lower-risk observations", ""]
        for group in review.minor:
            out.append(
                f"- **{group.risk.word}** · {markdown_text(group.title)} — {_affected(group)}"
                + (
                    f" (add {', '.join(map(markdown_code, group.missing))})"
                    if group.missing
                    else ""
                )
            )
        out.append("")
    if review.treated:
        out += ["## Accepted, transferred and not applicable", ""]
        out += [
            "| Threat | Where | Status | Decided by | Expires | Reason |",
            "|---|---|---|---|---|---|",
        ]
        for threat in review.treated:
            row = threat_row(threat)
            decided = " / ".join(filter(None, [row["owner"], row["approver"]])) or "—"
            cells = [
                markdown_text(threat.rule.spec.title),
                markdown_text(threat.element.title),
                row["status"].replace("_", " "),
                markdown_text(decided),
                row["expires"] or "—",
                markdown_text(threat.status_note),
            ]
            out.append(f"| {' | '.join(cells)} |")
        out.append("")
    if review.mitigated:
        out += ["## Mitigated by controls in the model", ""]
        for group in review.mitigated:
            controls = sorted({c for t in group.threats for c in t.mitigations})
            out.append(
                f"- {markdown_text(group.title)} — {_affected(group)} "
                f"({', '.join(map(markdown_code, controls))})"
            )
        out.append("")
    out += _tail(analysis)
    return "\n".join(out).rstrip() + "\n"


def _affected(group: Group) -> str:
    names = [markdown_text(name, 80) for name in group.elements]
    if len(names) > _AFFECTED_SHOWN:
        return ", ".join(names[:_AFFECTED_SHOWN]) + f" and {len(names) - _AFFECTED_SHOWN} more"
    return ", ".join(names)


def _group_section(number: int, group: Group) -> list[str]:
    first = group.first
    spec = first.rule.spec
    lines = [
        f"### {number}. {markdown_text(group.title)} — {group.risk.word}",
        "",
        f"*{markdown_text(group.categories)}* · {markdown_text(group.ids) or 'no CWE'}"
        f" · likelihood {first.residual.likelihood}/5, impact {first.residual.impact}/5",
        "",
        markdown_text(first.description, 2000),
        "",
    ]
    if len(group.threats) > 1:
        lines += [f"Affects {len(group.threats)} elements: {_affected(group)}.", ""]
    if spec.advice:
        lines += [f"**Fix:** {markdown_text(spec.advice, 2000)}", ""]
    if group.missing:
        lines += [
            f"Controls that would mitigate it: {', '.join(map(markdown_code, group.missing))}.",
            "",
        ]
    ids = [t.id for t in group.threats]
    shown = ", ".join(markdown_code(i, 300) for i in ids[:_AFFECTED_SHOWN])
    more = f" and {len(ids) - _AFFECTED_SHOWN} more" if len(ids) > _AFFECTED_SHOWN else ""
    lines += [f"Threat ids: {shown}{more}", ""]
    return lines


def _tail(analysis: Analysis) -> list[str]:
    out: list[str] = []
    if analysis.excluded:
        out += ["## Rules excluded on purpose", ""]
        out += [
            f"- {markdown_code(e.rule_id)} on {markdown_code(e.element)}: {markdown_text(e.reason)}"
            for e in analysis.excluded
        ]
        out.append("")
    unvalidated = [a for a in analysis.model.spec.assumptions if not a.validated]
    if unvalidated:
        out += ["## Assumptions to validate", ""]
        out += [f"- {markdown_text(a.text, 1000)}" for a in unvalidated]
        out.append("")
    if analysis.stale_treatments:
        out += ["## Tracking entries with no threat", ""]
        out += [f"- {markdown_code(i, 300)}" for i in analysis.stale_treatments]
        out.append("")
    return out


def html(analysis: Analysis) -> str:
    template = _environment().from_string(
        resources.files("shieldwall.threatmodel").joinpath("report.html").read_text("utf-8")
    )
    return template.render(
        review=Review.of(analysis),
        spec=analysis.model.spec,
        analysis=analysis,
        row=threat_row,
        version=__version__,
    )


def _environment() -> Environment:
    return Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def sarif(analysis: Analysis) -> dict[str, Any]:
    """Every threat as a SARIF result on the line of its element in the model file, with the
    threat id as its fingerprint; treated threats carry a suppression saying how."""
    rules: dict[str, dict[str, Any]] = {}
    results = []
    uri = analysis.model.path.as_posix()
    for threat in analysis.threats:
        spec = threat.rule.spec
        if spec.id not in rules:
            rules[spec.id] = {
                "id": spec.id,
                "name": spec.id,
                "shortDescription": {"text": spec.title},
                "fullDescription": {"text": one_line(spec.description)},
                "help": {"text": spec.advice or spec.title},
                **({"helpUri": str(spec.references[0])} if spec.references else {}),
                "properties": {
                    "tags": ["security", "threat-model", *threat.categories, *threat.cwe_ids],
                },
            }
        level = threat.residual.level
        result: dict[str, Any] = {
            "ruleId": spec.id,
            "level": _SARIF_LEVEL.get(level, "note"),
            "message": {"text": threat.description},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": {"startLine": analysis.model.line_of(threat.element.path)},
                    },
                    "logicalLocations": [{"fullyQualifiedName": threat.element.path}],
                }
            ],
            "partialFingerprints": {"shieldwallThreatId/v1": threat.id},
            "properties": {
                "security-severity": _SECURITY_SEVERITY.get(level, "2.0"),
                "residual_risk": level.word,
                "inherent_risk": threat.inherent.level.word,
                "status": str(threat.status),
            },
        }
        if threat.status != ThreatStatus.OPEN:
            result["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": f"{threat.status}: {threat.status_note}",
                }
            ]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "shieldwall-threatmodel",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
            }
        ],
    }


def render(analysis: Analysis, fmt: str) -> str:
    if fmt == "md":
        return markdown(analysis)
    if fmt == "html":
        return html(analysis)
    document = to_json(analysis) if fmt == "json" else sarif(analysis)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def rows(threats: Sequence[Threat]) -> list[dict[str, Any]]:
    return [threat_row(t) for t in threats]
