"""The SLA burn-down: how many open findings may still be open on each coming day without
breaching an SLA, against where the recent fixing pace leads.

Both lines start at today's open findings that have an SLA. "Allowed" steps down as due dates
pass (it starts below "open" by what is breached already); "projected" falls by the average
number fixed a day over the last four weeks. Where projected stays above allowed, SLAs will be
breached at that pace, by the gap between the two. The projection assumes fixes go to what is
due first, so the gap it shows is the least that will be breached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shieldwall.clock import utcnow
from shieldwall.findings.dashboard import per_day
from shieldwall.findings.models import Finding
from shieldwall.findings.vocabulary import ACTIVE_STATUSES, Status

HORIZON_DAYS = 56
PACE_DAYS = 28
_ACTIVE = sorted(s.value for s in ACTIVE_STATUSES)


@dataclass(frozen=True)
class Burndown:
    today: date
    open_now: int
    """Open findings with an SLA."""
    breached_now: int
    pace: float
    """Findings fixed a day, averaged over the last ``PACE_DAYS`` days."""
    allowed: list[int]
    """At most this many may be open at the start (index 0) and at the end of each of the
    next ``HORIZON_DAYS`` days without breaching an SLA."""

    @property
    def projected(self) -> list[float]:
        """Open findings at the same points, at the recent pace."""
        return [max(self.open_now - self.pace * day, 0.0) for day in range(len(self.allowed))]

    @property
    def breached_at_horizon(self) -> int:
        """How many will be past due at the end of the horizon at the recent pace (at least)."""
        return max(round(self.projected[-1] - self.allowed[-1]), 0)

    @property
    def horizon(self) -> date:
        return self.today + timedelta(days=len(self.allowed) - 1)


def burndown(session: Session, scope: Sequence[Any]) -> Burndown:
    """The burn-down of the findings ``scope`` (conditions on ``Finding``) selects."""
    now = utcnow()
    with_sla = [*scope, Finding.sla_due.is_not(None)]
    active = [*with_sla, Finding.status.in_(_ACTIVE)]
    open_now, breached_now, fixed = session.execute(
        select(
            select(func.count()).where(*active).scalar_subquery(),
            select(func.count()).where(*active, Finding.sla_due < now).scalar_subquery(),
            select(func.count())
            .where(
                *with_sla,
                Finding.status == Status.FIXED.value,
                Finding.fixed_at >= now - timedelta(days=PACE_DAYS),
            )
            .scalar_subquery(),
        )
    ).one()
    coming_due = per_day(
        session, Finding.sla_due, active, [now + timedelta(days=n) for n in range(HORIZON_DAYS)]
    )
    due_by = accumulate(coming_due, initial=breached_now)
    return Burndown(
        today=now.date(),
        open_now=open_now,
        breached_now=breached_now,
        pace=fixed / PACE_DAYS,
        allowed=[open_now - due for due in due_by],
    )
