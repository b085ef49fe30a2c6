"""Priorities and SLA clocks on stored findings.

Every path that changes what a priority depends on calls in here: an import stamps the
findings it writes (``Prioritizer``, in the import's own batches), and ``reprioritize``
recomputes stored findings after intelligence loads, inventory changes, exception
decisions or a new policy. ``refresh`` makes sure the stored values were computed with the
policy in force before anything reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, Text, bindparam, exists, select, update
from sqlalchemy.orm import Session

from shieldwall.clock import utcnow
from shieldwall.db.engine import Database
from shieldwall.exceptions.models import RiskException
from shieldwall.findings.models import Finding
from shieldwall.findings.vocabulary import ACTIVE_STATUSES, Kind, Severity, Status
from shieldwall.intel.enrichment import vulnerability_intel
from shieldwall.inventory.models import Service
from shieldwall.inventory.vocabulary import Exposure
from shieldwall.risk.engine import (
    MINUS,
    NEUTRAL,
    PLUS,
    Assessment,
    Factor,
    FindingFacts,
    ServiceContext,
    VulnIntel,
    assess,
)
from shieldwall.risk.models import RiskState
from shieldwall.risk.policy import Policy, Priority
from shieldwall.risk.sla import Clock, SlaStatus, next_clock, restarted, sla_status
from shieldwall.threatmodel.links import matching_threats, open_threats_by_cwe

_FINDINGS = cast(Table, Finding.__table__)
RISK_COLUMNS = ("priority", "risk_score", "urgency", "priority_at", "sla_due")
PRIORITISED = frozenset({*ACTIVE_STATUSES, Status.ACCEPTED})
"""Statuses whose priority is kept current (an accepted finding keeps showing its
priority; closed findings keep the one they were fixed at, for MTTR by priority)."""
_INPUT_COLUMNS = ("kind", "severity", "tool_severity", "cwe_ids", "vulnerability_ids")
_BATCH = 1000
_POLICY_KEY = "policy_digest"


def service_context(service: Service) -> ServiceContext:
    return ServiceContext(
        name=service.name,
        tier=service.tier,
        exposure=Exposure(service.exposure),
        data_classes=tuple(service.data_classes),
    )


class Prioritizer:
    """Assesses batches of finding rows (column dictionaries) against one policy at one
    instant; identical inputs are assessed once."""

    def __init__(self, session: Session, policy: Policy, now: datetime | None = None) -> None:
        self.session = session
        self.policy = policy
        self.now = now or utcnow()
        self._services: dict[int, ServiceContext] = {}
        self._threats: dict[int, dict[str, list[str]]] = {}
        self._memo: dict[tuple[FindingFacts, int], Assessment] = {}

    def context(self, service_id: int) -> ServiceContext:
        known = self._services.get(service_id)
        if known is None:
            service = self.session.get(Service, service_id)
            assert service is not None
            known = self._services[service_id] = service_context(service)
        return known

    def threats(self, service_id: int, cwe_ids: Sequence[str]) -> tuple[str, ...]:
        """The service's open threats with one of these CWEs."""
        by_cwe = self._threats.get(service_id)
        if by_cwe is None:
            found = open_threats_by_cwe(self.session, [service_id])
            by_cwe = self._threats[service_id] = found.get(service_id, {})
        return matching_threats(by_cwe, cwe_ids)

    def intel(self, rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, ...], VulnIntel]:
        return vulnerability_intel(self.session, (r["vulnerability_ids"] for r in rows))

    def assess(
        self,
        row: Mapping[str, Any],
        service_id: int,
        intel: Mapping[tuple[str, ...], VulnIntel],
    ) -> Assessment:
        facts = FindingFacts(
            kind=Kind(row["kind"]),
            severity=Severity(row["severity"]),
            tool_severity=row["tool_severity"],
            cwe_ids=tuple(row["cwe_ids"]),
            intel=intel.get(tuple(row["vulnerability_ids"])),
            threats=self.threats(service_id, row["cwe_ids"]),
        )
        key = (facts, service_id)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = assess(facts, self.context(service_id), self.policy)
        return found

    def days(self, service_id: int) -> Callable[[Priority], int]:
        """The SLA days of each priority on the service's tier."""
        tier = self.context(service_id).tier
        return lambda priority: self.policy.sla.days_for(priority, tier)

    def stamp_new(self, rows: Sequence[MutableMapping[str, Any]], service_id: int) -> None:
        """Priority and a fresh clock for new findings first seen now."""
        intel = self.intel(rows)
        days = self.days(service_id)
        # New rows share the instant, so equal assessments get equal values: built once.
        stamped: dict[Assessment, dict[str, Any]] = {}
        for row in rows:
            result = self.assess(row, service_id, intel)
            values = stamped.get(result)
            if values is None:
                clock = next_clock(
                    None, result.priority, now=self.now, first_seen=self.now, days=days
                )
                values = stamped[result] = _values(result, clock)
            row.update(values)

    def restamp(
        self,
        rows: Sequence[MutableMapping[str, Any]],
        service_id: int,
        *,
        restart: bool = False,
    ) -> None:
        """New risk values for findings whose inputs may have changed. Each row holds the
        input columns, ``first_seen`` and the current risk columns; a row marked
        ``_restart`` (a regression) gets a fresh clock."""
        intel = self.intel(rows)
        days = self.days(service_id)
        for row in rows:
            result = self.assess(row, service_id, intel)
            previous = (
                Clock(Priority(row["priority"]), row["priority_at"], row["sla_due"])
                if row["priority"] is not None
                and row["priority_at"] is not None
                and row["sla_due"] is not None
                else None
            )
            if restart or row.get("_restart"):
                clock = restarted(result.priority, self.now, days)
            else:
                clock = next_clock(
                    previous,
                    result.priority,
                    now=self.now,
                    first_seen=row["first_seen"],
                    days=days,
                )
            row.update(_values(result, clock))


def _values(result: Assessment, clock: Clock) -> dict[str, Any]:
    return {
        "priority": int(result.priority),
        "risk_score": result.risk_score,
        "urgency": result.urgency,
        "priority_at": clock.since,
        "sla_due": clock.due,
    }


def reprioritize(
    session: Session,
    policy: Policy,
    *,
    condition: Any = None,
    now: datetime | None = None,
    restart: bool = False,
) -> int:
    """Recompute the open and accepted findings matching ``condition`` (all of them when
    None); returns how many changed."""
    prioritizer = Prioritizer(session, policy, now)
    columns = [
        _FINDINGS.c.id,
        _FINDINGS.c.service_id,
        _FINDINGS.c.first_seen,
        *(_FINDINGS.c[c] for c in (*_INPUT_COLUMNS, *RISK_COLUMNS)),
    ]
    where = [_FINDINGS.c.status.in_(sorted(s.value for s in PRIORITISED))]
    if condition is not None:
        where.append(condition)
    changed = 0
    last = 0
    while True:
        rows = [
            r._asdict()
            for r in session.execute(
                select(*columns)
                .where(*where, _FINDINGS.c.id > last)
                .order_by(_FINDINGS.c.id)
                .limit(_BATCH)
            )
        ]
        if not rows:
            return changed
        last = rows[-1]["id"]
        updates: list[dict[str, Any]] = []
        by_service: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            by_service.setdefault(row["service_id"], []).append(row)
        for service_id, group in by_service.items():
            before = [{c: r[c] for c in RISK_COLUMNS} for r in group]
            prioritizer.restamp(group, service_id, restart=restart)
            updates.extend(
                {"_id": r["id"], **{c: r[c] for c in RISK_COLUMNS}}
                for r, old in zip(group, before, strict=True)
                if any(r[c] != old[c] for c in RISK_COLUMNS)
            )
        if updates:
            session.execute(
                update(_FINDINGS)
                .where(_FINDINGS.c.id == bindparam("_id"))
                .values({c: bindparam(c) for c in RISK_COLUMNS}),
                updates,
            )
            changed += len(updates)


@dataclass(frozen=True)
class Refresh:
    reason: str
    changed: int


def refresh(session: Session, policy: Policy) -> Refresh | None:
    """Bring stored priorities in line with the policy in force: everything after a policy
    change, else only findings never prioritised (imported before this version)."""
    reason = _stale(session, policy)
    if reason is None:
        return None
    if reason == _UNPRIORITISED:
        return Refresh(
            reason, reprioritize(session, policy, condition=_FINDINGS.c.urgency.is_(None))
        )
    changed = reprioritize(session, policy)
    session.merge(RiskState(name=_POLICY_KEY, value=policy.digest, updated_at=utcnow()))
    return Refresh(reason, changed)


def needs_refresh(session: Session, policy: Policy) -> bool:
    """Whether ``refresh`` has work to do (checked in a read transaction, so that readers
    only open a write transaction when they must)."""
    return _stale(session, policy) is not None


_UNPRIORITISED = "findings without a priority"


def _stale(session: Session, policy: Policy) -> str | None:
    """Why the stored priorities are not those of ``policy``, or None when they are."""
    state = session.get(RiskState, _POLICY_KEY)
    if state is None:
        return "first prioritisation"
    if state.value != policy.digest:
        return "policy changed"
    unprioritised = exists().where(
        _FINDINGS.c.status.in_(sorted(s.value for s in PRIORITISED)),
        _FINDINGS.c.urgency.is_(None),
    )
    return _UNPRIORITISED if session.scalar(select(unprioritised)) else None


def with_vulnerabilities() -> Any:
    """Findings that name a vulnerability id: those new intelligence can change."""
    return _FINDINGS.c.vulnerability_ids.cast(Text) != "[]"


@dataclass(frozen=True)
class RiskFields:
    """What a finding's list row shows of its risk, read in one batch for a page."""

    kev: bool
    epss: float | None
    sla: SlaStatus
    exception_uid: str | None


def risk_fields(
    session: Session, findings: Sequence[Finding], policy: Policy, now: datetime | None = None
) -> dict[int, RiskFields]:
    now = now or utcnow()
    intel = vulnerability_intel(session, (f.vulnerability_ids for f in findings))
    exception_ids = {f.exception_id for f in findings if f.exception_id is not None}
    uids: dict[int, str] = {}
    if exception_ids:
        query = select(RiskException.id, RiskException.uid).where(
            RiskException.id.in_(sorted(exception_ids))
        )
        uids = dict(session.execute(query).all())
    out = {}
    for finding in findings:
        known = intel.get(tuple(finding.vulnerability_ids))
        out[finding.id] = RiskFields(
            kev=known is not None and known.kev_added is not None,
            epss=known.epss if known is not None else None,
            sla=sla_status(
                finding.status,
                finding.sla_due,
                finding.fixed_at,
                now,
                policy.sla.remind_days_before,
            ),
            exception_uid=uids.get(finding.exception_id) if finding.exception_id else None,
        )
    return out


def current_priorities(db: Database, policy: Policy) -> Refresh | None:
    """``refresh`` for readers: a read transaction decides whether a write one is needed."""
    with db.read() as session:
        if not needs_refresh(session, policy):
            return None
    with db.write() as session:
        return refresh(session, policy)


@dataclass(frozen=True)
class Explanation:
    assessment: Assessment
    factors: tuple[Factor, ...]
    """The assessment's factors, then the exception and the SLA."""
    sla: SlaStatus


def explain(
    session: Session, finding: Finding, policy: Policy, now: datetime | None = None
) -> Explanation:
    """Why the finding has its priority, worked out again from the current inputs."""
    now = now or utcnow()
    prioritizer = Prioritizer(session, policy, now)
    row = {c: getattr(finding, c) for c in _INPUT_COLUMNS}
    result = prioritizer.assess(row, finding.service_id, prioritizer.intel([row]))
    factors = list(result.factors)
    if finding.exception_id is not None:
        exception = session.get(RiskException, finding.exception_id)
        if exception is not None:
            factors.append(
                Factor(
                    "exception",
                    f"accepted until {exception.expires_at.date().isoformat()} "
                    f"(exception {exception.uid}, approved by {exception.decided_by})",
                    MINUS,
                )
            )
    status = sla_status(
        finding.status, finding.sla_due, finding.fixed_at, now, policy.sla.remind_days_before
    )
    if finding.sla_due is not None and finding.priority is not None:
        days = prioritizer.days(finding.service_id)(Priority(finding.priority))
        text = f"SLA {days} days for P{finding.priority}: due {finding.sla_due.date().isoformat()}"
        if status.days_overdue:
            text += f", {status.days_overdue} days overdue"
        factors.append(Factor("sla", text, PLUS if status.days_overdue else NEUTRAL))
    return Explanation(result, tuple(factors), status)
