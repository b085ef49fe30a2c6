"""The shape of a finding in lists and exports: flat, snake_case, stable (README documents it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, PlainSerializer

from shieldwall.clock import isoformat
from shieldwall.findings.models import Finding
from shieldwall.risk.service import RiskFields

UTCTime = Annotated[datetime, PlainSerializer(isoformat, return_type=str)]


class FindingRow(BaseModel):
    id: str
    fingerprint: str
    service: str
    kind: str
    rule_id: str
    title: str
    severity: str
    tool_severity: str | None
    status: str
    status_source: str
    status_reason: str | None
    cwe_ids: list[str]
    vulnerability_ids: list[str]
    path: str | None
    line: int | None
    end_line: int | None
    purl: str | None
    component_name: str | None
    component_version: str | None
    ecosystem: str | None
    fixed_version: str | None
    secret_preview: str | None
    tools: list[str]
    first_seen: UTCTime
    last_seen: UTCTime
    fixed_at: UTCTime | None
    reopen_count: int
    priority: str | None
    """P0 to P4."""
    risk_score: float | None
    sla_due: UTCTime | None
    sla_state: str
    """on_track, due_soon, breached, accepted, met, missed, or none."""
    days_overdue: int
    kev: bool
    epss: float | None
    exception_id: str | None

    @classmethod
    def of(cls, finding: Finding, service: str, risk: RiskFields) -> FindingRow:
        return cls(
            id=finding.uid,
            fingerprint=finding.fingerprint,
            service=service,
            kind=finding.kind,
            rule_id=finding.rule_id,
            title=finding.title,
            severity=finding.severity,
            tool_severity=finding.tool_severity,
            status=finding.status,
            status_source=finding.status_source,
            status_reason=finding.status_reason,
            cwe_ids=finding.cwe_ids,
            vulnerability_ids=finding.vulnerability_ids,
            path=finding.path,
            line=finding.line,
            end_line=finding.end_line,
            purl=finding.component_purl,
            component_name=finding.component_name,
            component_version=finding.component_version,
            ecosystem=finding.ecosystem,
            fixed_version=finding.fixed_version,
            secret_preview=finding.secret_preview,
            tools=finding.tools,
            first_seen=finding.first_seen,
            last_seen=finding.last_seen,
            fixed_at=finding.fixed_at,
            reopen_count=finding.reopen_count,
            priority=f"P{finding.priority}" if finding.priority is not None else None,
            risk_score=finding.risk_score,
            sla_due=finding.sla_due,
            sla_state=risk.sla.state.value,
            days_overdue=risk.sla.days_overdue,
            kev=risk.kev,
            epss=risk.epss,
            exception_id=risk.exception_uid,
        )
