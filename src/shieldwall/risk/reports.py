"""SLA reporting and reminders.

``sla_report``: per team and priority, what is open, breached and due soon, and the mean
time to remediate (MTTR) of the findings fixed in a window. ``reminders``: the notices to
send before and on breach and before an exception expires, each sent once (the
``reminders`` table remembers what went out).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.clock import utcnow
from shieldwall.exceptions.models import Reminder, RiskException
from shieldwall.exceptions.vocabulary import ExceptionState
from shieldwall.findings.models import Finding
from shieldwall.findings.vocabulary import ACTIVE_STATUSES, Status
from shieldwall.inventory.models import Person, Service, Team
from shieldwall.notify import Notice
from shieldwall.risk.policy import Policy
from shieldwall.risk.sla import SlaState, sla_status

_ACTIVE = sorted(s.value for s in ACTIVE_STATUSES)
_CHUNK = 5000


def sla_report(
    session: Session,
    policy: Policy,
    *,
    team: str | None = None,
    window_days: int = 90,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    now = now or utcnow()
    since = now - timedelta(days=window_days)
    query = (
        select(
            Team.name,
            Finding.priority,
            Finding.status,
            Finding.sla_due,
            Finding.first_seen,
            Finding.fixed_at,
        )
        .join(Service, Service.id == Finding.service_id)
        .join(Team, Team.id == Service.team_id)
        .where(
            Finding.priority.is_not(None),
            (Finding.status.in_([*_ACTIVE, Status.ACCEPTED.value]))
            | ((Finding.status == Status.FIXED.value) & (Finding.fixed_at >= since)),
        )
    )
    if team is not None:
        query = query.where(Team.name == team)
    groups: dict[tuple[str, int | None], dict[str, Any]] = defaultdict(
        lambda: {
            "open": 0,
            "breached": 0,
            "due_soon": 0,
            "accepted": 0,
            "fixed": 0,
            "met": 0,
            "days": [],
        }
    )
    for name, priority, status, due, first_seen, fixed_at in session.execute(query):
        group = groups[(name, priority)]
        state = sla_status(status, due, fixed_at, now, policy.sla.remind_days_before).state
        if status == Status.FIXED:
            group["fixed"] += 1
            group["met"] += state is SlaState.MET
            if fixed_at is not None:
                group["days"].append((fixed_at - first_seen).total_seconds() / 86400)
        elif state is SlaState.ACCEPTED:
            group["accepted"] += 1
        else:
            group["open"] += 1
            group["breached"] += state is SlaState.BREACHED
            group["due_soon"] += state is SlaState.DUE_SOON
    return [
        {
            "team": name,
            "priority": f"P{priority}",
            "open": g["open"],
            "breached": g["breached"],
            "due_soon": g["due_soon"],
            "accepted": g["accepted"],
            "fixed": g["fixed"],
            "mttr_days": round(sum(g["days"]) / len(g["days"]), 1) if g["days"] else None,
            "fixed_within_sla": round(g["met"] / g["fixed"], 3) if g["fixed"] else None,
        }
        for (name, priority), g in sorted(groups.items())
    ]


@dataclass
class _Batch:
    kind: str
    team: str
    recipients: set[str] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


def reminders(
    session: Session, policy: Policy, base_url: str | None, now: datetime | None = None
) -> list[tuple[Notice, list[str]]]:
    """The notices due now, one per team and kind, each with the reminder keys it covers
    (recorded with ``mark_sent`` once it went out)."""
    now = now or utcnow()
    due = [*_sla_candidates(session, policy, now), *_expiry_candidates(session, policy, now)]
    keys = [c.key for c in due]
    sent = {
        key
        for start in range(0, len(keys), _CHUNK)
        for key in session.scalars(
            select(Reminder.key).where(Reminder.key.in_(keys[start : start + _CHUNK]))
        )
    }
    batches: dict[tuple[str, str], _Batch] = {}
    for candidate in due:
        if candidate.key in sent:
            continue
        batch = batches.setdefault(
            (candidate.kind, candidate.team), _Batch(candidate.kind, candidate.team)
        )
        batch.recipients.update(r for r in candidate.recipients if r)
        batch.keys.append(candidate.key)
        batch.lines.append(candidate.line)
    return [(_notice(b, base_url), b.keys) for b in batches.values()]


@dataclass(frozen=True)
class _Candidate:
    kind: str
    team: str
    key: str
    """What the reminder is about and the date it warns of: sent once."""
    recipients: tuple[str | None, ...]
    line: str


def _sla_candidates(session: Session, policy: Policy, now: datetime) -> Iterator[_Candidate]:
    soon = now + timedelta(days=policy.sla.remind_days_before)
    findings = session.execute(
        select(Finding, Service.name, Team.name, Person.email)
        .join(Service, Service.id == Finding.service_id)
        .join(Team, Team.id == Service.team_id)
        .outerjoin(Person, Person.id == Team.manager_id)
        .where(Finding.status.in_(_ACTIVE), Finding.sla_due <= soon)
        .order_by(Finding.sla_due)
    )
    for finding, service, team, manager in findings:
        assert finding.sla_due is not None
        kind = "sla_breached" if finding.sla_due <= now else "sla_due_soon"
        due = finding.sla_due.date().isoformat()
        yield _Candidate(
            kind,
            team,
            f"{kind}:{finding.uid}:{due}",
            (manager,),
            f"P{finding.priority} {finding.uid} on {service}, due {due}: {finding.title[:120]}",
        )


def _expiry_candidates(session: Session, policy: Policy, now: datetime) -> Iterator[_Candidate]:
    expiring = session.execute(
        select(RiskException, Service.name, Team.name, Person.email)
        .join(Service, Service.id == RiskException.service_id)
        .join(Team, Team.id == Service.team_id)
        .outerjoin(Person, Person.id == Team.manager_id)
        .where(
            RiskException.state.in_([ExceptionState.APPROVED.value, ExceptionState.EXPIRED.value]),
            RiskException.expires_at <= now + timedelta(days=policy.exceptions.remind_days_before),
            RiskException.expires_at > now - timedelta(days=1),
        )
    )
    for exception, service, team, manager in expiring:
        expired = exception.state == ExceptionState.EXPIRED
        kind = "exception_expired" if expired else "exception_expiring"
        yield _Candidate(
            kind,
            team,
            f"{kind}:{exception.uid}",
            (manager, exception.requested_by),
            f"exception {exception.uid} on {service} "
            f"{'expired' if expired else 'expires'} {exception.expires_at.date().isoformat()}",
        )


_SUBJECTS = {
    "sla_breached": "{n} finding(s) of team {team} breached their SLA",
    "sla_due_soon": "{n} finding(s) of team {team} are due within days",
    "exception_expiring": "{n} exception(s) of team {team} expire soon",
    "exception_expired": "{n} exception(s) of team {team} expired: the findings are open again",
}


def _notice(batch: _Batch, base_url: str | None) -> Notice:
    url = f"{base_url.rstrip('/')}/findings?sort=priority" if base_url else None
    return Notice(
        kind=batch.kind,
        subject=_SUBJECTS[batch.kind].format(n=len(batch.lines), team=batch.team),
        body="\n".join(batch.lines),
        url=url,
        recipients=tuple(sorted(batch.recipients)),
        fields={"team": batch.team, "count": str(len(batch.lines))},
    )


def mark_sent(session: Session, keys: Sequence[str], now: datetime | None = None) -> None:
    now = now or utcnow()
    session.add_all(Reminder(key=key[:300], sent_at=now) for key in keys)
