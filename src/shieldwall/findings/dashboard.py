"""The figures of a user's home page: open findings by severity, new and fixed this week,
and the 90-day trend of open findings, all within the caller's teams.

Every figure is a count an index answers without reading rows (see the findings indexes):
the home page stays fast at a million findings (``make bench``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
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
_NAMES = {s.rank: s.value for s in Severity}


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


def open_by_severity(session: Session, scope: Sequence[Any] = ()) -> dict[str, int]:
    """Open (and reopened) findings per severity, most severe first. Grouped by status and
    rank, the order of the index that counts them, so nothing is sorted."""
    counts = dict.fromkeys((s.value for s in Severity), 0)
    for _status, rank, count in session.execute(
        select(Finding.status, Finding.severity_rank, func.count())
        .where(*scope, Finding.status.in_(_ACTIVE))
        .group_by(Finding.status, Finding.severity_rank)
    ):
        counts[_NAMES[rank]] += count
    return counts


def open_by_service(session: Session, service_ids: Sequence[int]) -> dict[int, int]:
    """Open (and reopened) findings of each of these services."""
    return dict(
        session.execute(
            select(Finding.service_id, func.count())
            .where(Finding.service_id.in_(service_ids), Finding.status.in_(_ACTIVE))
            .group_by(Finding.service_id)
        ).all()
    )


def dashboard(session: Session, caller: Principal) -> Dashboard:
    sqlite = session.get_bind().dialect.name == "sqlite"

    def likely(condition: Any) -> Any:
        """On SQLite, tell the planner a condition holds for most rows, so that it walks the
        index of the date range rather than the one of the condition's column."""
        return func.likely(condition) if sqlite else condition

    scope: list[Any] = []
    broad: list[Any] = []
    if not caller.all_teams:
        teams = Finding.service_id.in_(
            select(Service.id).where(caller.team_filter(Service.team_id))
        )
        scope.append(teams)
        broad.append(likely(teams))
    fixed = likely(Finding.status == Status.FIXED.value)
    week = utcnow() - timedelta(days=7)
    by_severity = open_by_severity(session, scope)
    new = session.scalar(select(func.count()).where(*broad, Finding.first_seen >= week)) or 0
    fixed_week = (
        session.scalar(select(func.count()).where(*broad, fixed, Finding.fixed_at >= week)) or 0
    )
    trend = _trend(session, broad, fixed, sum(by_severity.values()))
    return Dashboard(by_severity, new, fixed_week, trend)


def _trend(session: Session, scope: list[Any], fixed: Any, open_now: int) -> list[tuple[date, int]]:
    """Walked back from today's open count: a day's end had today's open findings, less those
    first seen after it, plus those fixed after it. (Dismissals and reopenings are not dated
    separately, so this is the scanners' view of the backlog.)"""
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    days = [midnight - timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    opened = per_day(session, Finding.first_seen, scope, days)
    closed = per_day(session, Finding.fixed_at, [*scope, fixed], days)
    points: list[tuple[date, int]] = []
    level = open_now
    for index in range(len(days) - 1, -1, -1):
        points.append((days[index].date(), max(level, 0)))
        level += closed[index] - opened[index]
    return points[::-1]


def per_day(session: Session, column: Any, scope: list[Any], days: list[datetime]) -> list[int]:
    """How many rows ``column`` dates on each day: one index range count per day, in one
    statement (a GROUP BY on the day would sort every row it groups)."""
    bounds = [*days, days[-1] + timedelta(days=1)]
    counts = [
        select(func.count()).where(*scope, column >= start, column < end).scalar_subquery()
        for start, end in pairwise(bounds)
    ]
    return list(session.execute(select(*counts)).one())
