"""The figures of a user's home page: open findings by severity, new and fixed this week,
and the 90-day trend of open findings, all within the caller's teams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shieldwall.auth.policy import Principal
from shieldwall.clock import utcnow
from shieldwall.findings.models import Finding
from shieldwall.findings.vocabulary import ACTIVE_STATUSES, Severity, Status
from shieldwall.inventory.models import Service

TREND_DAYS = 90
_ACTIVE = sorted(s.value for s in ACTIVE_STATUSES)


@dataclass(frozen=True)
class Dashboard:
    open_by_severity: dict[str, int]
    new_this_week: int
    fixed_this_week: int
    trend: list[tuple[date, int]]
    """Open findings at the end of each of the last 90 days, oldest first."""

    @property
    def open_total(self) -> int:
        return sum(self.open_by_severity.values())


def _utc_day(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)  # SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS...'


def dashboard(session: Session, caller: Principal) -> Dashboard:
    scope = []
    if not caller.all_teams:
        scope.append(
            Finding.service_id.in_(select(Service.id).where(caller.team_filter(Service.team_id)))
        )
    now = utcnow()
    week = now - timedelta(days=7)
    by_severity = dict.fromkeys((s.value for s in Severity), 0)
    for severity, count in session.execute(
        select(Finding.severity, func.count())
        .where(*scope, Finding.status.in_(_ACTIVE))
        .group_by(Finding.severity)
    ):
        by_severity[severity] = count
    new = session.scalar(select(func.count()).where(*scope, Finding.first_seen >= week)) or 0
    fixed = (
        session.scalar(
            select(func.count()).where(
                *scope, Finding.status == Status.FIXED.value, Finding.fixed_at >= week
            )
        )
        or 0
    )
    return Dashboard(by_severity, new, fixed, _trend(session, scope, sum(by_severity.values())))


def _trend(session: Session, scope: list[Any], open_now: int) -> list[tuple[date, int]]:
    """Walked back from today's open count: a day's end had today's open findings, less those
    first seen after it, plus those fixed after it. (Dismissals and reopenings are not dated
    separately, so this is the scanners' view of the backlog.)"""
    today = utcnow().date()
    start = today - timedelta(days=TREND_DAYS - 1)
    since = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=TREND_DAYS - 1
    )
    opened = _per_day(session, Finding.first_seen, scope, since)
    fixed = _per_day(
        session, Finding.fixed_at, [*scope, Finding.status == Status.FIXED.value], since
    )
    points: list[tuple[date, int]] = []
    level = open_now
    day = today
    while day >= start:
        points.append((day, max(level, 0)))
        key = day.isoformat()
        level += fixed.get(key, 0) - opened.get(key, 0)
        day -= timedelta(days=1)
    return points[::-1]


def _per_day(session: Session, column: Any, scope: list[Any], since: Any) -> dict[str, int]:
    day = _utc_day(session, column)
    return dict(
        session.execute(
            select(day, func.count()).where(*scope, column >= since).group_by(day)
        ).all()
    )
