"""``/api/v1/findings``: list (filters, keyset pages), detail, triage; scoped to the caller's
teams inside every query."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shieldwall.auth.policy import Action, Principal
from shieldwall.db.engine import Database
from shieldwall.errors import InputError
from shieldwall.findings import service as findings
from shieldwall.findings.filters import finding_filter
from shieldwall.findings.models import Finding
from shieldwall.findings.schemas import FindingRow
from shieldwall.findings.service import FindingFilter
from shieldwall.findings.vocabulary import Status
from shieldwall.web.deps import API_PREFIX, database, reading, require
from shieldwall.web.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, paginate

router = APIRouter(prefix=API_PREFIX, tags=["findings"])
Reader = Annotated[Principal, Depends(require(Action.READ))]
Triager = Annotated[Principal, Depends(require(Action.TRIAGE))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Words = Annotated[list[str] | None, Query()]


class Order(StrEnum):
    PRIORITY = "priority"
    """Most urgent first: priority, then risk score."""
    SEVERITY = "severity"
    """Most severe first, newest first within a severity."""
    NEWEST = "newest"
    OLDEST = "oldest"


ORDER_KEYS = {
    Order.PRIORITY: ((Finding.urgency, Finding.id), True),
    Order.SEVERITY: ((Finding.severity_rank, Finding.id), True),
    Order.NEWEST: ((Finding.first_seen, Finding.id), True),
    Order.OLDEST: ((Finding.first_seen, Finding.id), False),
}


def page_of_findings(
    session: Session,
    caller: Principal,
    flt: FindingFilter,
    *,
    sort: Order = Order.SEVERITY,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[FindingRow]:
    """One page of the caller's findings: the API list and the web list both use it."""
    query = select(Finding).where(*findings.conditions(session, flt, caller))
    keys, descending = ORDER_KEYS[sort]
    return paginate(
        session,
        query,
        keys,
        cursor,
        limit,
        lambda rows: findings.finding_rows(session, [(f, f.service.name) for f in rows]),
        descending=descending,
        options=[selectinload(Finding.service)],
    )


@router.get("/findings", response_model=Page[FindingRow])
def list_findings(
    caller: Reader,
    session: Annotated[Session, Depends(reading)],
    service: Words = None,
    team: Words = None,
    status: Annotated[
        list[str] | None,
        Query(description="Statuses; `active` (default: open and reopened) or `all`."),
    ] = None,
    severity: Words = None,
    kind: Words = None,
    tool: str | None = None,
    sort: Order = Order.SEVERITY,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[FindingRow]:
    """The caller's findings, filtered; every parameter but the cursor may repeat."""
    flt = finding_filter(
        services=service,
        teams=team,
        status=status,
        severity=severity,
        kind=kind,
        tool=tool,
        prefix="",
    )
    return page_of_findings(session, caller, flt, sort=sort, cursor=cursor, limit=limit)


@router.get("/findings/{finding_id}")
def get_finding(
    finding_id: str, caller: Reader, session: Annotated[Session, Depends(reading)]
) -> dict[str, Any]:
    """Everything known about one finding: where it was seen and its history."""
    return findings.finding_detail(session, finding_id, caller)


@router.get("/findings/{finding_id}/explanation")
def explain_finding(
    finding_id: str, caller: Reader, session: Annotated[Session, Depends(reading)]
) -> dict[str, Any]:
    """Why the finding has its priority: the factors, the SLA, KEV and EPSS, any exception."""
    return findings.explanation(session, finding_id, caller)


class TriageIn(BaseModel):
    status: Status = Field(description="false_positive, not_affected, or open")
    reason: str = Field(min_length=1, max_length=2000)


class BulkTriageIn(TriageIn):
    ids: list[str] = Field(min_length=1, max_length=MAX_LIMIT)


@router.post("/findings/{finding_id}/triage", response_model=FindingRow)
def triage_finding(
    finding_id: str,
    body: TriageIn,
    caller: Triager,
    db: Annotated[Database, Depends(database)],
) -> FindingRow:
    """Record a person's assessment, with the reason; it stands across re-imports."""
    with db.write() as session:
        return findings.triage(session, finding_id, body.status, body.reason, caller.actor, caller)


@router.post("/findings/triage", response_model=list[FindingRow])
def triage_findings(
    body: BulkTriageIn, caller: Triager, db: Annotated[Database, Depends(database)]
) -> list[FindingRow]:
    """Triage several findings at once: all or none (an unknown id changes nothing)."""
    if len(set(body.ids)) != len(body.ids):
        raise InputError("ids: an id appears twice")
    with db.write() as session:
        return [
            findings.triage(session, uid, body.status, body.reason, caller.actor, caller)
            for uid in body.ids
        ]
