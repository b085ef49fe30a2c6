"""Where threat models meet findings: an open finding whose CWE is an open threat's on the
same service is that threat come true. The risk engine raises its priority; the finding and
the threat model pages show the link."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.findings.models import Finding
from shieldwall.findings.vocabulary import ACTIVE_STATUSES
from shieldwall.threatmodel.models import StoredThreat, ThreatModel
from shieldwall.threatmodel.vocabulary import ThreatStatus


def open_threats_by_cwe(
    session: Session, service_ids: Iterable[int]
) -> dict[int, dict[str, list[str]]]:
    """For each service, its open threats' ids by CWE (for the risk engine)."""
    found: dict[int, dict[str, list[str]]] = {}
    rows = session.execute(
        select(StoredThreat.service_id, StoredThreat.threat_id, StoredThreat.cwe_ids).where(
            StoredThreat.service_id.in_(sorted(set(service_ids))),
            StoredThreat.status == ThreatStatus.OPEN.value,
        )
    )
    for service_id, threat_id, cwe_ids in rows:
        for cwe in cwe_ids:
            found.setdefault(service_id, {}).setdefault(cwe, []).append(threat_id)
    return found


def linked_findings(session: Session, model: ThreatModel) -> dict[str, list[Finding]]:
    """Open findings of the service whose CWE is an open threat's: by threat id."""
    by_cwe = open_threats_by_cwe(session, [model.service_id]).get(model.service_id, {})
    if not by_cwe:
        return {}
    linked: dict[str, list[Finding]] = {}
    findings = session.scalars(
        select(Finding).where(
            Finding.service_id == model.service_id,
            Finding.status.in_(sorted(s.value for s in ACTIVE_STATUSES)),
        )
    )
    mine = set(
        session.scalars(select(StoredThreat.threat_id).where(StoredThreat.model_id == model.id))
    )
    for finding in findings:
        for cwe in finding.cwe_ids or ():
            for threat_id in by_cwe.get(cwe, ()):
                if threat_id in mine:
                    linked.setdefault(threat_id, []).append(finding)
    return linked


def matching_threats(by_cwe: dict[str, list[str]], cwe_ids: Iterable[str]) -> tuple[str, ...]:
    """The threats of ``by_cwe`` (one service's) that share a CWE with a finding."""
    if not by_cwe:
        return ()
    return tuple(sorted({t for cwe in cwe_ids for t in by_cwe.get(cwe, ())}))
