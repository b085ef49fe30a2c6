"""Coverage per service and per team, from the scan streams every import keeps current.

A service is covered for a category when some stream of it counts for that category (see
``coverage.categories``), on any branch; the category's last run is the latest import of
those streams, and it is stale when that is older than ``stale_days``. Services are read in
sets: a few queries per thousand services, never one per service. Retired services are left
out of lists (their CI no longer runs) unless named.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from shieldwall.auth.policy import Principal
from shieldwall.clock import isoformat, utcnow
from shieldwall.coverage.categories import needs_findings, stream_categories
from shieldwall.errors import NotFoundError
from shieldwall.findings.models import Finding
from shieldwall.ingest.models import Component, ScanStream, Sighting
from shieldwall.inventory.models import Service, Team
from shieldwall.inventory.vocabulary import Lifecycle
from shieldwall.scan.posture.tools import Category

DEFAULT_STALE_DAYS = 30
MAX_STALE_DAYS = 3650
_CHUNK = 1000
"""Ids per ``IN`` list: well inside every engine's limit on bound parameters."""


class State(StrEnum):
    COVERED = "covered"
    """A check reported within ``stale_days``."""
    STALE = "stale"
    """A check has reported, but not within ``stale_days``."""
    MISSING = "missing"
    """No check of the category has ever reported."""


@dataclass(frozen=True)
class StreamRun:
    """A stream's latest import and what it counts for."""

    service_id: int
    tool: str
    last_run: datetime
    categories: frozenset[Category]


@dataclass(frozen=True)
class Check:
    """One category on one service."""

    category: Category
    state: State
    tools: tuple[str, ...]
    last_run: datetime | None


@dataclass(frozen=True)
class ServiceCoverage:
    service: str
    service_id: str
    team: str
    team_id: str
    tier: int
    checks: tuple[Check, ...]
    """One per category, in ``Category`` order."""
    other_tools: tuple[str, ...]
    """Tools that report on the service but count for none of the categories."""

    @property
    def covered(self) -> int:
        """Categories covered and not stale."""
        return sum(check.state is State.COVERED for check in self.checks)

    def row(self) -> dict[str, Any]:
        """The flat JSON object of the list contract (keys in the README)."""
        row: dict[str, Any] = {
            "service": self.service,
            "service_id": self.service_id,
            "team": self.team,
            "tier": self.tier,
        }
        for check in self.checks:
            row[check.category.value] = check.state.value
            row[f"{check.category.value}_tools"] = list(check.tools)
            row[f"{check.category.value}_last_run"] = isoformat(check.last_run)
        row["covered"] = self.covered
        row["other_tools"] = list(self.other_tools)
        return row


@dataclass(frozen=True)
class TeamCoverage:
    team: str
    team_id: str
    services: int
    fully_covered: int
    """Services with every category covered and none stale."""
    counts: dict[Category, dict[State, int]]
    """Per category, how many services are in each state."""

    def row(self) -> dict[str, Any]:
        """The flat JSON object of the list contract (keys in the README)."""
        row: dict[str, Any] = {
            "team": self.team,
            "team_id": self.team_id,
            "services": self.services,
            "fully_covered": self.fully_covered,
        }
        for category, states in self.counts.items():
            for state, count in states.items():
                row[f"{category.value}_{state.value}"] = count
        return row


# --- the figures (no I/O) -------------------------------------------------------------------


def checks(
    runs: Iterable[StreamRun], now: datetime, stale_days: int
) -> tuple[tuple[Check, ...], tuple[str, ...]]:
    """One service's checks from its streams' runs, and the tools that count for none."""
    stale_before = now - timedelta(days=stale_days)
    tools: dict[Category, set[str]] = {category: set() for category in Category}
    last: dict[Category, datetime] = {}
    other: set[str] = set()
    for run in runs:
        if not run.categories:
            other.add(run.tool)
        for category in run.categories:
            tools[category].add(run.tool)
            if category not in last or run.last_run > last[category]:
                last[category] = run.last_run
    found = []
    for category in Category:
        when = last.get(category)
        if when is None:
            state = State.MISSING
        else:
            state = State.STALE if when < stale_before else State.COVERED
        found.append(Check(category, state, tuple(sorted(tools[category])), when))
    # A tool that counts for a category on one branch is not "other" on another.
    counted = set().union(*tools.values())
    return tuple(found), tuple(sorted(other - counted))


def by_team(teams: Sequence[Team], services: Sequence[ServiceCoverage]) -> list[TeamCoverage]:
    """Each of ``teams`` (in order) with the coverage of its services among ``services``."""
    members: dict[str, list[ServiceCoverage]] = {team.uid: [] for team in teams}
    for service in services:
        members.setdefault(service.team_id, []).append(service)
    result = []
    for team in teams:
        own = members[team.uid]
        counts = {
            category: {
                state: sum(service.checks[index].state is state for service in own)
                for state in State
            }
            for index, category in enumerate(Category)
        }
        fully = sum(service.covered == len(Category) for service in own)
        result.append(TeamCoverage(team.name, team.uid, len(own), fully, counts))
    return result


# --- the queries ----------------------------------------------------------------------------


def select_services(
    session: Session,
    caller: Principal | None,
    teams: Sequence[str] = (),
    services: Sequence[str] = (),
) -> Select[Service]:
    """The services ``caller`` (None: the operator at the command line) may see, of the
    named teams and services; retired services are left out unless named. A name that is
    unknown or not visible is an error (a typo must not look like "not covered")."""
    _check_names(session, "team", Team.name, teams, _visible_teams(caller))
    query = select(Service)
    if caller is not None:
        query = query.where(caller.team_filter(Service.team_id))
    _check_names(session, "service", Service.name, services, query)
    if teams:
        query = query.where(Service.team.has(Team.name.in_(list(teams))))
    if services:
        query = query.where(Service.name.in_(list(services)))
    else:
        query = query.where(Service.lifecycle != Lifecycle.RETIRED.value)
    return query


def select_teams(
    session: Session, caller: Principal | None, teams: Sequence[str] = ()
) -> Select[Team]:
    """The teams ``caller`` may see, or those of them named (unknown names are an error)."""
    query = _visible_teams(caller)
    _check_names(session, "team", Team.name, teams, query)
    if teams:
        query = query.where(Team.name.in_(list(teams)))
    return query


def _visible_teams(caller: Principal | None) -> Select[Team]:
    query = select(Team)
    return query if caller is None else query.where(caller.team_filter(Team.id))


def _check_names(
    session: Session, what: str, column: Any, names: Sequence[str], visible: Select[Any]
) -> None:
    if not names:
        return
    known = set(session.scalars(visible.with_only_columns(column).where(column.in_(list(names)))))
    missing = [name for name in names if name not in known]
    if missing:
        raise NotFoundError(f"{what} {missing[0]!r} is not in the inventory")


def service_coverage(
    session: Session,
    services: Sequence[Service],
    *,
    stale_days: int = DEFAULT_STALE_DAYS,
    now: datetime | None = None,
) -> list[ServiceCoverage]:
    """The coverage of ``services`` (their teams loaded), in their order."""
    runs: dict[int, list[StreamRun]] = {service.id: [] for service in services}
    for run in _runs(session, list(runs)):
        runs[run.service_id].append(run)
    moment = now or utcnow()
    result = []
    for service in services:
        found, other = checks(runs[service.id], moment, stale_days)
        result.append(
            ServiceCoverage(
                service=service.name,
                service_id=service.uid,
                team=service.team.name,
                team_id=service.team.uid,
                tier=service.tier,
                checks=found,
                other_tools=other,
            )
        )
    return result


def team_coverage(
    session: Session,
    teams: Sequence[Team],
    *,
    stale_days: int = DEFAULT_STALE_DAYS,
    now: datetime | None = None,
) -> list[TeamCoverage]:
    """The coverage of ``teams``' services that are not retired, per team."""
    services = services_of(session, teams)
    return by_team(teams, service_coverage(session, services, stale_days=stale_days, now=now))


def services_of(session: Session, teams: Sequence[Team]) -> Sequence[Service]:
    """The services of ``teams`` that are not retired, by name, their teams loaded."""
    return session.scalars(
        select(Service)
        .where(
            Service.team_id.in_([team.id for team in teams]),
            Service.lifecycle != Lifecycle.RETIRED.value,
        )
        .options(selectinload(Service.team))
        .order_by(Service.name)
    ).all()


def _runs(session: Session, service_ids: Sequence[int]) -> Iterator[StreamRun]:
    """Every stream of the services that has run: two queries per chunk of services, one
    for the streams (and whether they list components), one for the kinds of findings of
    those whose findings decide what they count for."""
    lists = select(Component.id).where(Component.stream_id == ScanStream.id).exists()
    for chunk in _chunks(service_ids):
        streams = session.execute(
            select(
                ScanStream.id,
                ScanStream.service_id,
                ScanStream.tool,
                ScanStream.last_import_at,
                lists.label("lists"),
            ).where(ScanStream.service_id.in_(chunk), ScanStream.last_import_at.is_not(None))
        ).all()
        kinds = _kinds(session, [row.id for row in streams if needs_findings(row.tool)])
        for row in streams:
            yield StreamRun(
                service_id=row.service_id,
                tool=row.tool,
                last_run=row.last_import_at,
                categories=stream_categories(row.tool, kinds.get(row.id, ()), bool(row.lists)),
            )


def _kinds(session: Session, stream_ids: Sequence[int]) -> dict[int, set[str]]:
    """The kinds of findings each stream has ever reported (still present or not)."""
    found: dict[int, set[str]] = {}
    for chunk in _chunks(stream_ids):
        rows = session.execute(
            select(Sighting.stream_id, Finding.kind)
            .join(Finding, Finding.id == Sighting.finding_id)
            .where(Sighting.stream_id.in_(chunk))
            .distinct()
        )
        for stream_id, kind in rows:
            found.setdefault(stream_id, set()).add(kind)
    return found


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
