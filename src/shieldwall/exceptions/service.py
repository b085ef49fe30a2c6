"""Requesting, deciding and expiring risk exceptions.

Decision rights come from the policy (``exceptions.approvers``): by the most urgent priority
an exception covers, which roles may approve it; ``lead`` is the team's manager or champion
as the inventory names them. Nobody decides on their own request, and no exception may
last longer than the policy allows for its priority. The CLI and the API call the same
functions with the acting user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from shieldwall.audit import service as audit
from shieldwall.auth.models import User
from shieldwall.auth.policy import Principal, Role
from shieldwall.auth.service import principal_for_user
from shieldwall.clock import isoformat, utcnow
from shieldwall.db.engine import Database
from shieldwall.errors import InputError, NotFoundError
from shieldwall.exceptions.models import RiskException
from shieldwall.exceptions.vocabulary import ExceptionState
from shieldwall.findings.models import Finding
from shieldwall.findings.vocabulary import ACTIVE_STATUSES, Source, Status
from shieldwall.ids import new_uid
from shieldwall.inventory.models import Person, Service, Team
from shieldwall.risk.policy import Policy, Priority
from shieldwall.risk.service import reprioritize
from shieldwall.threatmodel.store import accepted_threat_rows

_ACTIVE = sorted(s.value for s in ACTIVE_STATUSES)
AGING_DAYS = 90
"""Exceptions older than this are reported apart: the share a manager watches."""


class DecisionRefused(InputError):
    """The policy's decision rights do not let this person decide on this exception."""


@dataclass(frozen=True)
class Subject:
    """What an exception is for: one finding, or one rule in one service."""

    finding: str | None = None
    rule: str | None = None
    service: str | None = None


def request(
    session: Session,
    requester: User,
    subject: Subject,
    *,
    reason: str,
    compensating_controls: str,
    expires: date,
    policy: Policy,
    now: datetime | None = None,
) -> RiskException:
    now = now or utcnow()
    caller = principal_for_user(requester)
    reason, controls = reason.strip(), compensating_controls.strip()
    if not reason:
        raise InputError("an exception needs a reason (--reason)")
    if not controls:
        raise InputError(
            "an exception needs the compensating controls (--compensating-controls), or 'none'"
        )
    service, finding = _subject(session, subject, caller)
    expires_at = datetime.combine(expires, time(23, 59, 59), tzinfo=UTC)
    if expires_at <= now:
        raise InputError(f"the expiry date {expires.isoformat()} is not in the future")
    pending = session.scalar(
        select(RiskException.uid).where(
            RiskException.service_id == service.id,
            RiskException.state == ExceptionState.REQUESTED.value,
            RiskException.finding_id == finding.id
            if finding
            else RiskException.rule_id == subject.rule,
        )
    )
    if pending is not None:
        # One request at a time: two would split the decision (and the approver's attention).
        raise InputError(f"exception {pending} for this is already awaiting a decision")
    priority = _priority(session, service, finding, subject.rule)
    longest = policy.exceptions.longest(priority)
    if expires_at - now > timedelta(days=longest):
        latest = (now + timedelta(days=longest)).date().isoformat()
        raise InputError(
            f"a {priority.label} exception may last at most {longest} days (until {latest})"
        )
    exception = RiskException(
        uid=new_uid(),
        service_id=service.id,
        finding_id=finding.id if finding else None,
        rule_id=subject.rule if finding is None else None,
        state=ExceptionState.REQUESTED.value,
        priority=int(priority),
        reason=reason[:4000],
        compensating_controls=controls[:4000],
        expires_at=expires_at,
        requested_by=requester.email,
        requested_at=now,
    )
    session.add(exception)
    session.flush()
    _audit(session, exception, f"user:{requester.email}", "exception.requested")
    return exception


def _subject(
    session: Session, subject: Subject, caller: Principal
) -> tuple[Service, Finding | None]:
    if (subject.finding is None) == (subject.rule is None):
        raise InputError("name either a finding (--finding) or a rule and a service (--rule)")
    if subject.finding is not None:
        row = session.execute(
            select(Finding, Service)
            .join(Service, Service.id == Finding.service_id)
            .where(Finding.uid == subject.finding, caller.team_filter(Service.team_id))
        ).one_or_none()
        if row is None:
            raise NotFoundError(f"no finding with id {subject.finding!r}")
        return row[1], row[0]
    if not subject.service:
        raise InputError("an exception for a rule names its service (--service)")
    service = session.scalars(
        select(Service).where(Service.name == subject.service, caller.team_filter(Service.team_id))
    ).one_or_none()
    if service is None:
        raise NotFoundError(f"service {subject.service!r} is not in the inventory")
    return service, None


def _priority(
    session: Session, service: Service, finding: Finding | None, rule: str | None
) -> Priority:
    """The most urgent priority the exception covers (P4 when it covers nothing yet)."""
    if finding is not None:
        return Priority(finding.priority if finding.priority is not None else 4)
    urgent = session.scalar(
        select(Finding.priority)
        .where(
            Finding.service_id == service.id,
            Finding.rule_id == rule,
            Finding.priority.is_not(None),
        )
        .order_by(Finding.priority)
        .limit(1)
    )
    return Priority(urgent if urgent is not None else 4)


def get(session: Session, uid: str, caller: Principal | None = None) -> RiskException:
    query = (
        select(RiskException)
        .join(Service, Service.id == RiskException.service_id)
        .where(RiskException.uid == uid)
    )
    if caller is not None:
        query = query.where(caller.team_filter(Service.team_id))
    found = session.scalars(query).one_or_none()
    if found is None:
        raise NotFoundError(f"no exception with id {uid!r}")
    return found


def may_decide(
    session: Session, user: User, exception: RiskException, policy: Policy
) -> str | None:
    """Why ``user`` may not decide on ``exception``, or None when they may."""
    if not user.active:
        return f"{user.email} is disabled"
    if user.email == exception.requested_by:
        return "nobody decides on their own request"
    priority = Priority(exception.priority)
    allowed = policy.exceptions.approvers_for(priority)
    team = session.get(Team, exception.service.team_id)
    assert team is not None
    on_team = user.role in (Role.ADMIN, Role.SECURITY) or any(t.id == team.id for t in user.teams)
    if user.role in allowed and on_team:
        return None
    if "lead" in allowed and _leads(session, team, user.email):
        return None
    names = ", ".join(allowed) or "nobody"
    return f"a {priority.label} exception is approved by: {names} (the policy's decision rights)"


def _leads(session: Session, team: Team, email: str) -> bool:
    leads = select(Person.email).where(Person.id.in_([team.manager_id, team.champion_id]))
    return email in set(session.scalars(leads))


def decide(
    session: Session,
    user: User,
    uid: str,
    *,
    approve: bool,
    note: str | None,
    policy: Policy,
    now: datetime | None = None,
) -> RiskException:
    now = now or utcnow()
    exception = get(session, uid, principal_for_user(user))
    if exception.state != ExceptionState.REQUESTED:
        raise InputError(f"exception {uid} is {exception.state}, not awaiting a decision")
    refusal = may_decide(session, user, exception, policy)
    if refusal is not None:
        raise DecisionRefused(f"{user.email} may not decide on exception {uid}: {refusal}")
    if approve and exception.expires_at <= now:
        raise InputError(f"exception {uid} expired before it was approved; request it again")
    exception.state = (ExceptionState.APPROVED if approve else ExceptionState.REJECTED).value
    exception.decided_by, exception.decided_at = user.email, now
    exception.decision_note = (note or "").strip()[:4000] or None
    if approve:
        accept_covered(session, exception, now)
    _audit(session, exception, f"user:{user.email}", f"exception.{exception.state}")
    return exception


def _covers(exception: RiskException) -> Any:
    if exception.finding_id is not None:
        return Finding.id == exception.finding_id
    return and_(Finding.service_id == exception.service_id, Finding.rule_id == exception.rule_id)


def accept_covered(session: Session, exception: RiskException, now: datetime) -> int:
    """Set the active findings the approved exception covers to ``accepted``."""
    result = session.execute(
        update(Finding)
        .where(_covers(exception), Finding.status.in_(_ACTIVE))
        .values(
            status=Status.ACCEPTED.value,
            status_source=Source.EXCEPTION.value,
            status_reason=f"risk accepted until {exception.expires_at.date().isoformat()} "
            f"(exception {exception.uid}): {exception.reason}"[:2000],
            status_by=exception.decided_by,
            status_at=now,
            exception_id=exception.id,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def apply_rule_exceptions(session: Session, service_id: int, now: datetime | None = None) -> int:
    """New findings of a rule that an approved exception covers in their service are
    accepted as they arrive (called after each import)."""
    now = now or utcnow()
    accepted = 0
    for exception in session.scalars(
        select(RiskException).where(
            RiskException.service_id == service_id,
            RiskException.state == ExceptionState.APPROVED.value,
            RiskException.rule_id.is_not(None),
            RiskException.expires_at > now,
        )
    ):
        accepted += accept_covered(session, exception, now)
    return accepted


def expire(session: Session, policy: Policy, now: datetime | None = None) -> list[RiskException]:
    """End approved exceptions whose date has passed: what they covered is open again, with
    a fresh SLA clock or the one it had, as the policy says."""
    now = now or utcnow()
    ended = list(
        session.scalars(
            select(RiskException).where(
                RiskException.state == ExceptionState.APPROVED.value,
                RiskException.expires_at <= now,
            )
        )
    )
    if not ended:
        return ended
    for exception in ended:
        exception.state = ExceptionState.EXPIRED.value
        session.execute(
            update(Finding)
            .where(Finding.exception_id == exception.id, Finding.status == Status.ACCEPTED.value)
            .values(
                status=Status.OPEN.value,
                status_source=Source.EXCEPTION.value,
                status_reason=f"exception {exception.uid} expired on "
                f"{exception.expires_at.date().isoformat()}",
                status_by=None,
                status_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        _audit(session, exception, "system", "exception.expired")
    reopened = Finding.exception_id.in_([e.id for e in ended])
    if policy.exceptions.on_expiry == "restart":
        reprioritize(session, policy, condition=reopened, now=now, restart=True)
    session.execute(
        update(Finding)
        .where(reopened)
        .values(exception_id=None)
        .execution_options(synchronize_session=False)
    )
    return ended


def listing(
    session: Session,
    caller: Principal | None = None,
    states: list[ExceptionState] | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    now = now or utcnow()
    query = (
        select(RiskException, Service.name, Finding.uid)
        .join(Service, Service.id == RiskException.service_id)
        .outerjoin(Finding, Finding.id == RiskException.finding_id)
        .order_by(RiskException.requested_at.desc(), RiskException.id.desc())
    )
    if caller is not None:
        query = query.where(caller.team_filter(Service.team_id))
    if states:
        query = query.where(RiskException.state.in_([s.value for s in states]))
    rows = [
        exception_view(e, service, finding, now) for e, service, finding in session.execute(query)
    ]
    # Accepted threats of threat models are risk acceptances too: one list, one aging.
    threats = accepted_threat_rows(session, caller, now)
    if states:
        threats = [row for row in threats if row["state"] in {s.value for s in states}]
    return sorted(rows + threats, key=lambda row: row["requested_at"], reverse=True)


def exception_view(
    exception: RiskException, service: str, finding_uid: str | None, now: datetime
) -> dict[str, Any]:
    return {
        "id": exception.uid,
        "kind": "finding" if finding_uid else "rule",
        "state": exception.state,
        "service": service,
        "finding_id": finding_uid,
        "rule_id": exception.rule_id,
        "priority": f"P{exception.priority}",
        "reason": exception.reason,
        "compensating_controls": exception.compensating_controls,
        "expires_at": isoformat(exception.expires_at),
        "days_left": max(0, (exception.expires_at - now).days)
        if exception.state == ExceptionState.APPROVED
        else None,
        "age_days": (now - exception.requested_at).days,
        "requested_by": exception.requested_by,
        "requested_at": isoformat(exception.requested_at),
        "decided_by": exception.decided_by,
        "decided_at": isoformat(exception.decided_at) if exception.decided_at else None,
        "decision_note": exception.decision_note,
    }


def aging(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Exception aging over approved exceptions: how many, how old, the share past 90 days."""
    approved = [r for r in rows if r["state"] == ExceptionState.APPROVED]
    old = [r for r in approved if r["age_days"] > AGING_DAYS]
    ages = sorted(r["age_days"] for r in approved)
    return {
        "approved": len(approved),
        "awaiting_decision": sum(r["state"] == ExceptionState.REQUESTED for r in rows),
        "median_age_days": ages[len(ages) // 2] if ages else 0,
        "older_than_90_days": len(old),
        "share_older_than_90_days": round(len(old) / len(approved), 3) if approved else 0.0,
    }


def _audit(session: Session, exception: RiskException, actor: str, action: str) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="exception",
        entity_id=exception.uid,
        after={
            "state": exception.state,
            "finding_id": exception.finding_id,
            "rule_id": exception.rule_id,
            "priority": f"P{exception.priority}",
            "expires_at": isoformat(exception.expires_at),
            "reason": exception.reason,
        },
    )


def expire_due(db: Database, policy: Policy) -> int:
    """``expire`` for readers, so that a queue never hides a finding whose exception has
    ended, whether or not a worker ran: a read decides whether a write is needed."""
    due = select(RiskException.id).where(
        RiskException.state == ExceptionState.APPROVED.value, RiskException.expires_at <= utcnow()
    )
    with db.read() as session:
        if session.scalar(due.limit(1)) is None:
            return 0
    with db.write() as session:
        return len(expire(session, policy))
