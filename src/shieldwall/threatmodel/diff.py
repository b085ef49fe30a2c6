"""What changed between two versions of a model, and what that does to its threats.

Elements are matched by id (flows by their id, ``SOURCE-to-TARGET`` by default), so a
renamed element is "changed", not "removed and added". Threats are matched by their stable
ids. An acceptance is invalidated when the element it was given for changed, or the
threat's residual risk rose: the approver accepted a different risk from the one there is
now, and should look again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shieldwall.text import markdown_code, markdown_text
from shieldwall.threatmodel.engine import Threat
from shieldwall.threatmodel.schemas import ThreatModelSpec
from shieldwall.threatmodel.service import Analysis
from shieldwall.threatmodel.vocabulary import ThreatStatus

_SECTIONS = ("assets", "actors", "boundaries", "components", "flows", "entry_points")


@dataclass(frozen=True)
class ElementChange:
    path: str
    change: str
    """``added``, ``removed`` or ``changed``."""
    fields: tuple[str, ...] = ()


@dataclass
class ModelDiff:
    elements: list[ElementChange] = field(default_factory=list)
    data_classes_added: list[str] = field(default_factory=list)
    data_classes_removed: list[str] = field(default_factory=list)
    threats_added: list[Threat] = field(default_factory=list)
    threats_resolved: list[Threat] = field(default_factory=list)
    threats_changed: list[tuple[Threat, Threat]] = field(default_factory=list)
    acceptances_invalidated: list[tuple[Threat, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.elements
            or self.threats_added
            or self.threats_resolved
            or self.threats_changed
            or self.data_classes_added
            or self.data_classes_removed
        )


def _elements(spec: ThreatModelSpec) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for section in _SECTIONS:
        for element in getattr(spec, section):
            key = getattr(element, "key", None) or element.id
            out[f"{section}/{key}"] = element.model_dump(mode="json", exclude_defaults=True)
    return out


def element_changes(old: ThreatModelSpec, new: ThreatModelSpec) -> list[ElementChange]:
    before, after = _elements(old), _elements(new)
    changes = [ElementChange(path, "removed") for path in before if path not in after]
    for path, now in after.items():
        then = before.get(path)
        if then is None:
            changes.append(ElementChange(path, "added"))
        elif then != now:
            names = sorted(k for k in then.keys() | now.keys() if then.get(k) != now.get(k))
            changes.append(ElementChange(path, "changed", tuple(names)))
    return sorted(changes, key=lambda c: (_SECTIONS.index(c.path.split("/")[0]), c.path))


def _data_classes(spec: ThreatModelSpec) -> set[str]:
    return {str(c) for asset in spec.assets for c in asset.data_classes}


def diff(old: Analysis, new: Analysis) -> ModelDiff:
    result = ModelDiff(element_changes(old.model.spec, new.model.spec))
    then, now = _data_classes(old.model.spec), _data_classes(new.model.spec)
    result.data_classes_added = sorted(now - then)
    result.data_classes_removed = sorted(then - now)
    before = {t.id: t for t in old.threats}
    after = {t.id: t for t in new.threats}
    result.threats_added = [t for t in new.threats if t.id not in before]
    result.threats_resolved = [t for t in old.threats if t.id not in after]
    for threat in new.threats:
        earlier = before.get(threat.id)
        if earlier is not None and (
            earlier.residual != threat.residual
            or earlier.inherent != threat.inherent
            or earlier.status != threat.status
        ):
            result.threats_changed.append((earlier, threat))
    changed = {c.path: c.fields for c in result.elements if c.change == "changed"}
    for threat in new.threats:
        if threat.status != ThreatStatus.ACCEPTED:
            continue
        earlier = before.get(threat.id)
        if threat.element.path in changed:
            fields = ", ".join(changed[threat.element.path])
            result.acceptances_invalidated.append(
                (threat, f"{threat.element.path} changed ({fields})")
            )
        elif earlier is not None and threat.residual.score > earlier.residual.score:
            result.acceptances_invalidated.append(
                (
                    threat,
                    f"residual risk rose from {earlier.residual.level.word} "
                    f"to {threat.residual.level.word}",
                )
            )
    return result


def to_json(result: ModelDiff) -> dict[str, Any]:
    def brief(threat: Threat) -> dict[str, Any]:
        return {
            "id": threat.id,
            "title": threat.rule.spec.title,
            "residual_risk": threat.residual.level.word,
            "status": str(threat.status),
        }

    return {
        "elements": [
            {"element": c.path, "change": c.change, "fields": list(c.fields)}
            for c in result.elements
        ],
        "data_classes_added": result.data_classes_added,
        "data_classes_removed": result.data_classes_removed,
        "threats_added": [brief(t) for t in result.threats_added],
        "threats_resolved": [brief(t) for t in result.threats_resolved],
        "threats_changed": [
            {
                **brief(new),
                "was_residual_risk": old.residual.level.word,
                "was_status": str(old.status),
            }
            for old, new in result.threats_changed
        ],
        "acceptances_invalidated": [
            {"id": t.id, "approver": getattr(t.treatment, "approver", None), "reason": why}
            for t, why in result.acceptances_invalidated
        ],
    }


def markdown(result: ModelDiff, old_name: str, new_name: str) -> str:
    lines = [f"# Threat model diff: {markdown_code(old_name)} → {markdown_code(new_name)}", ""]
    if result.empty:
        return "\n".join([*lines, "No change to elements, data or threats.", ""])
    if result.elements:
        lines += ["## Elements", ""]
        for change in result.elements:
            detail = f" ({', '.join(change.fields)})" if change.fields else ""
            lines.append(f"- {change.change} {markdown_code(change.path)}{markdown_text(detail)}")
        lines.append("")
    if result.data_classes_added or result.data_classes_removed:
        lines += ["## Data classes", ""]
        lines += [f"- added {markdown_code(c)}" for c in result.data_classes_added]
        lines += [f"- removed {markdown_code(c)}" for c in result.data_classes_removed]
        lines.append("")
    sections: list[tuple[str, list[Threat]]] = [
        ("New threats", result.threats_added),
        ("Resolved threats", result.threats_resolved),
    ]
    for title, threats in sections:
        if threats:
            lines += [f"## {title}", ""]
            lines += [
                f"- **{t.residual.level.word}** {markdown_text(t.rule.spec.title)} on "
                f"{markdown_text(t.element.title)} ({markdown_code(t.id, 300)})"
                for t in threats
            ]
            lines.append("")
    if result.threats_changed:
        lines += ["## Changed threats", ""]
        for old, new in result.threats_changed:
            lines.append(
                f"- {markdown_code(new.id, 300)}: {old.residual.level.word} {old.status}"
                f" → {new.residual.level.word} {new.status}"
            )
        lines.append("")
    if result.acceptances_invalidated:
        lines += ["## Acceptances to review again", ""]
        for threat, why in result.acceptances_invalidated:
            approver = getattr(threat.treatment, "approver", "")
            lines.append(
                f"- {markdown_code(threat.id, 300)} (accepted by {markdown_text(approver)}): "
                f"{markdown_text(why)}"
            )
        lines.append("")
    return "\n".join(lines)
