"""Listing, showing and triaging findings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import case, func, select, true
from sqlalchemy.orm import Session

from shieldwall.audit import service as audit
from shieldwall.audit.models import AuditEntry
from shieldwall.auth.policy import Principal
from shieldwall.clock import isoformat, utcnow
from shieldwall.config import get_settings
from shieldwall.errors import InputError, NotFoundError
from shieldwall.findings.models import Finding
from shieldwall.findings.schemas import FindingRow
from shieldwall.findings.vocabulary import (
    ACTIVE_STATUSES,
    ASSESSED_STATUSES,
    TRIAGE_STATUSES,
    Kind,
    Severity,
    Source,
    Status,
)
from shieldwall.ingest.models import ReportImport, ScanStream, Sighting
from shieldwall.inventory.models import Service, Team
from shieldwall.risk.policy import current_policy
from shieldwall.risk.service import explain, risk_fields

SEVERITY_ORDER = case({s.value: s.rank for s in Severity}, value=Finding.severity, else_=-1)


class SortKey(StrEnum):
    PRIORITY = "priority"
    """Priority, then risk score: the order to fix in."""
    SEVERITY = "severity"
    FIRST_SEEN = "first_seen"
    LAST_SEEN = "last_seen"
    SERVICE = "service"


@dataclass(frozen=True)
class FindingFilter:
    services: Sequence[str] = ()
    statuses: Sequence[Status] = tuple(sorted(ACTIVE_STATUSES))
    severities: Sequence[Severity] = ()
    kinds: Sequence[Kind] = ()
    tool: str | None = None
    teams: Sequence[str] = ()


def conditions(session: Session, flt: FindingFilter, caller: Principal | None = None) -> list[Any]:
    """SQL conditions on ``Finding`` for a filter, and the caller's team scope.

    Service and team conditions are subqueries on ``Finding.service_id`` so that the findings
    indexes serve them; an unknown service is an error (a typo must not look like "nothing")."""
    where: list[Any] = []
    services = select(Service.id)
    if caller is not None and not caller.all_teams:
        services = services.where(caller.team_filter(Service.team_id))
        where.append(Finding.service_id.in_(services))
    if flt.services:
        known = set(
            session.scalars(
                select(Service.name).where(
                    Service.name.in_(flt.services),
                    caller.team_filter(Service.team_id) if caller else true(),
                )
            )
        )
        missing = [name for name in flt.services if name not in known]
        if missing:
            raise NotFoundError(f"service {missing[0]!r} is not in the inventory")
        where.append(Finding.service_id.in_(select(Service.id).where(Service.name.in_(known))))
    if flt.teams:
        where.append(
            Finding.service_id.in_(
                select(Service.id).join(Team).where(Team.name.in_(list(flt.teams)))
            )
        )
    if flt.statuses:
        where.append(Finding.status.in_([s.value for s in flt.statuses]))
    if flt.severities:
        where.append(Finding.severity_rank.in_(sorted({s.rank for s in flt.severities})))
    if flt.kinds:
        where.append(Finding.kind.in_([k.value for k in flt.kinds]))
    if flt.tool:
        streams = select(ScanStream.id).where(ScanStream.tool == flt.tool)
        if caller is not None:
            visible = select(Service.id).where(caller.team_filter(Service.team_id))
            streams = streams.where(ScanStream.service_id.in_(visible))
        if session.scalar(streams.limit(1)) is None:
            raise NotFoundError(f"no report of tool {flt.tool!r} was imported")
        where.append(
            select(Sighting.finding_id)
            .join(ScanStream, ScanStream.id == Sighting.stream_id)
            .where(Sighting.finding_id == Finding.id, ScanStream.tool == flt.tool)
            .exists()
        )
    return where


def list_findings(
    session: Session,
    flt: FindingFilter,
    *,
    sort: SortKey = SortKey.SEVERITY,
    limit: int | None = None,
) -> tuple[list[FindingRow], int]:
    """The matching findings (at most ``limit``) and how many match in all."""
    query = (
        select(Finding, Service.name)
        .join(Service, Service.id == Finding.service_id)
        .where(*conditions(session, flt))
    )
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    order = {
        SortKey.SEVERITY: (SEVERITY_ORDER.desc(), Service.name, Finding.first_seen, Finding.id),
        SortKey.FIRST_SEEN: (Finding.first_seen.desc(), Finding.id),
        SortKey.LAST_SEEN: (Finding.last_seen.desc(), Finding.id),
        SortKey.SERVICE: (Service.name, SEVERITY_ORDER.desc(), Finding.id),
        SortKey.PRIORITY: (Finding.urgency.desc().nulls_last(), Finding.id),
    }[sort]
    query = query.order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    return finding_rows(session, session.execute(query).all()), total


def finding_rows(session: Session, pairs: Sequence[tuple[Finding, str]]) -> list[FindingRow]:
    """List rows for (finding, service name) pairs, their risk read in one batch."""
    policy = current_policy(get_settings().policy)
    risk = risk_fields(session, [finding for finding, _ in pairs], policy)
    return [FindingRow.of(finding, service, risk[finding.id]) for finding, service in pairs]


def get_finding(session: Session, uid: str, caller: Principal | None = None) -> tuple[Finding, str]:
    """A finding and its service's name; another team's finding is as absent as a missing one."""
    query = (
        select(Finding, Service.name)
        .join(Service, Service.id == Finding.service_id)
        .where(Finding.uid == uid)
    )
    if caller is not None:
        query = query.where(caller.team_filter(Service.team_id))
    row = session.execute(query).one_or_none()
    if row is None:
        raise NotFoundError(f"no finding with id {uid!r}")
    return row[0], row[1]


def finding_detail(session: Session, uid: str, caller: Principal | None = None) -> dict[str, Any]:
    """Everything about one finding: its row, description, where it was seen, its history."""
    finding, service = get_finding(session, uid, caller)
    streams = session.execute(
        select(
            ScanStream.tool,
            ScanStream.branch,
            Sighting.present,
            ReportImport.uid,
            ReportImport.started_at,
        )
        .join(Sighting, Sighting.stream_id == ScanStream.id)
        .join(ReportImport, ReportImport.id == Sighting.last_import_id)
        .where(Sighting.finding_id == finding.id)
        .order_by(ScanStream.tool, ScanStream.branch)
    )
    history = session.execute(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "finding", AuditEntry.entity_id == finding.uid)
        .order_by(AuditEntry.seq)
    ).scalars()
    return {
        **finding_rows(session, [(finding, service)])[0].model_dump(mode="json"),
        "description": finding.description,
        "references": finding.references,
        "snippet_hash": finding.snippet_hash,
        "status_by": finding.status_by,
        "status_at": isoformat(finding.status_at),
        "sightings": [
            {
                "tool": tool,
                "branch": branch,
                "present": present,
                "last_import": imp,
                "last_import_at": isoformat(at),
            }
            for tool, branch, present, imp, at in streams
        ],
        "history": [
            {"at": isoformat(e.at), "actor": e.actor, "action": e.action, "after": e.after}
            for e in history
        ],
    }


def explanation(session: Session, uid: str, caller: Principal | None = None) -> dict[str, Any]:
    """The finding's priority and why (``findings explain``, the API and the finding page)."""
    finding, service = get_finding(session, uid, caller)
    row = finding_rows(session, [(finding, service)])[0]
    result = explain(session, finding, current_policy(get_settings().policy))
    return {
        "id": finding.uid,
        "service": service,
        "title": finding.title,
        "status": finding.status,
        "priority": result.assessment.priority.label,
        "risk_score": result.assessment.risk_score,
        "decision": result.assessment.outcome.value,
        "exploitation": result.assessment.exploitation.value,
        "automatable": result.assessment.automatable,
        "technical_impact": "total" if result.assessment.total_impact else "partial",
        "mission_impact": result.assessment.mission.value,
        "factors": [{"name": f.name, "text": f.text, "effect": f.effect} for f in result.factors],
        "sla_due": isoformat(finding.sla_due) if finding.sla_due else None,
        "sla_state": result.sla.state.value,
        "days_overdue": result.sla.days_overdue,
        "kev": row.kev,
        "epss": row.epss,
        "exception_id": row.exception_id,
    }


def triage(
    session: Session,
    uid: str,
    status: Status,
    reason: str,
    actor: str,
    caller: Principal | None = None,
) -> FindingRow:
    """A person's assessment. ``false_positive`` and ``not_affected`` stand across re-imports;
    ``open`` hands the finding back to the scan lifecycle (fixed at once if no scan reports it)."""
    reason = reason.strip()
    if not reason:
        raise InputError("a triage needs a reason (--reason)")
    if status not in TRIAGE_STATUSES:
        raise InputError(f"triage sets false_positive, not_affected or open, not {status.value}")
    finding, service = get_finding(session, uid, caller)
    before = _assessment(finding)
    now = utcnow()
    target: Status = status
    if status is Status.OPEN:
        reported = session.scalar(
            select(func.count()).where(
                Sighting.finding_id == finding.id, Sighting.present.is_(True)
            )
        )
        target = Status.OPEN if reported else Status.FIXED
        finding.fixed_at = None if reported else now
    finding.status = target.value
    finding.status_source = Source.PERSON.value
    finding.status_reason = reason[:2000]
    finding.status_by = actor
    finding.status_at = now
    after = _assessment(finding)
    if before != after:
        audit.record(
            session,
            actor=actor,
            action="finding.triaged",
            entity_type="finding",
            entity_id=finding.uid,
            before=before,
            after=after,
        )
    return finding_rows(session, [(finding, service)])[0]


def _assessment(finding: Finding) -> dict[str, Any]:
    return {
        "status": finding.status,
        "status_source": finding.status_source,
        "status_reason": finding.status_reason,
    }


def summary_by_service(session: Session) -> list[dict[str, Any]]:
    """Per service: open findings by severity, and how many are fixed or dismissed."""
    active = [s.value for s in ACTIVE_STATUSES]
    columns = [
        func.sum(
            case((Finding.status.in_(active) & (Finding.severity == s.value), 1), else_=0)
        ).label(s.value)
        for s in Severity
    ]
    query = (
        select(
            Service.name,
            *columns,
            func.sum(case((Finding.status.in_(active), 1), else_=0)).label("open"),
            func.sum(case((Finding.status == Status.FIXED.value, 1), else_=0)).label("fixed"),
            func.sum(
                case(
                    (
                        Finding.status.in_(sorted(s.value for s in ASSESSED_STATUSES)),
                        1,
                    ),
                    else_=0,
                )
            ).label("dismissed"),
        )
        .select_from(Service)
        .outerjoin(Finding, Finding.service_id == Service.id)
        .group_by(Service.name)
        .order_by(Service.name)
    )
    return [
        {
            "service": row.name,
            **{s.value: int(getattr(row, s.value) or 0) for s in Severity},
            "open": int(row.open or 0),
            "fixed": int(row.fixed or 0),
            "dismissed": int(row.dismissed or 0),
        }
        for row in session.execute(query)
    ]
