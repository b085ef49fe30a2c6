"""SLA clocks, as pure functions.

A finding's clock starts when it is first seen at its priority. Escalation shortens the
clock (never lengthens it); de-escalation never shortens it, and a clock already breached
stays breached: lowering a finding's priority cannot hide that its deadline passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shieldwall.findings.vocabulary import ACTIVE_STATUSES, Status
from shieldwall.risk.policy import Priority


class SlaState(StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    BREACHED = "breached"
    ACCEPTED = "accepted"
    """An exception holds the clock until it expires."""
    MET = "met"
    """Fixed by its due date."""
    MISSED = "missed"
    """Fixed after its due date."""
    NONE = "none"
    """Dismissed (false positive, not affected) or not prioritised."""


@dataclass(frozen=True, slots=True)
class Clock:
    priority: Priority
    since: datetime
    due: datetime


def next_clock(
    previous: Clock | None,
    priority: Priority,
    *,
    now: datetime,
    first_seen: datetime,
    days: Callable[[Priority], int],
) -> Clock:
    """The clock after (re)prioritising a finding at ``now``."""
    if previous is None:
        return Clock(priority, first_seen, first_seen + timedelta(days=days(priority)))
    if priority == previous.priority:
        # A policy that shortens this priority's SLA applies to running clocks; one that
        # lengthens it applies to clocks started afterwards.
        return Clock(
            priority,
            previous.since,
            min(previous.due, previous.since + timedelta(days=days(priority))),
        )
    if priority < previous.priority:  # escalation
        return Clock(priority, now, min(previous.due, now + timedelta(days=days(priority))))
    if previous.due <= now:  # de-escalating a breached finding
        return Clock(priority, now, previous.due)
    # The finding has needed at least this much attention since it was first seen.
    return Clock(priority, now, max(previous.due, first_seen + timedelta(days=days(priority))))


def restarted(priority: Priority, now: datetime, days: Callable[[Priority], int]) -> Clock:
    """A fresh clock (a regression, an expired exception under a "restart" policy)."""
    return Clock(priority, now, now + timedelta(days=days(priority)))


@dataclass(frozen=True, slots=True)
class SlaStatus:
    state: SlaState
    days_overdue: int
    days_left: int


def sla_status(
    status: str,
    due: datetime | None,
    fixed_at: datetime | None,
    now: datetime,
    remind_days_before: int,
) -> SlaStatus:
    if due is None:
        return SlaStatus(SlaState.NONE, 0, 0)
    if status == Status.FIXED:
        late = fixed_at is not None and fixed_at > due
        return SlaStatus(SlaState.MISSED if late else SlaState.MET, 0, 0)
    if status == Status.ACCEPTED:
        return SlaStatus(SlaState.ACCEPTED, 0, 0)
    if status not in ACTIVE_STATUSES:
        return SlaStatus(SlaState.NONE, 0, 0)
    if due <= now:
        return SlaStatus(SlaState.BREACHED, (now - due).days + (1 if (now - due).seconds else 0), 0)
    left = (due - now).days
    soon = due - now <= timedelta(days=remind_days_before)
    return SlaStatus(SlaState.DUE_SOON if soon else SlaState.ON_TRACK, 0, left)
