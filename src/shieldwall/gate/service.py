"""A gate run: read the reports, look up what the store knows about the service and its
findings, decide (``gate.evaluate``), and record the run.

The reports are read with the importers' parsers and identified with the importers'
fingerprints, so "already known", "in the baseline" and "covered by an exception" mean the
same finding an import would store. Nothing of a report is written but the run and the
findings that blocked it.
"""

from __future__ import annotations

import gc
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shieldwall.audit import service as audit
from shieldwall.clock import isoformat, utcnow
from shieldwall.config import Settings
from shieldwall.coverage.categories import stream_categories
from shieldwall.db.engine import Database
from shieldwall.errors import InputError
from shieldwall.exceptions.models import RiskException
from shieldwall.exceptions.vocabulary import ExceptionState
from shieldwall.findings.models import Finding
from shieldwall.findings.vocabulary import Status
from shieldwall.gate.diff import ChangedLines
from shieldwall.gate.evaluate import (
    Candidate,
    Context,
    Cover,
    Known,
    Outcome,
    Verdict,
    judge,
    missing_scanners,
)
from shieldwall.gate.models import GateBlock, GateRun
from shieldwall.gate.policy import GatePolicy
from shieldwall.gate.schemas import GateItem, GateResult
from shieldwall.ids import new_uid
from shieldwall.ingest import registry
from shieldwall.ingest.identity import IdentityAssigner
from shieldwall.ingest.normalize import redact_secret
from shieldwall.ingest.records import RawComponent, RawFinding, ToolRun
from shieldwall.ingest.source import ReportSource
from shieldwall.intel.enrichment import vulnerability_intel
from shieldwall.inventory.models import Service
from shieldwall.inventory.vocabulary import Exposure
from shieldwall.risk.engine import Assessment, FindingFacts, ServiceContext, assess
from shieldwall.risk.policy import Policy
from shieldwall.risk.service import service_context
from shieldwall.threatmodel.links import matching_threats, open_threats_by_cwe

MAX_RECORDED_BLOCKS = 1000
"""Blocking findings kept per run (the most urgent): a first gate on a large service can
block on thousands, and friction is measured per run, not per finding."""
MAX_LISTED = 1000
"""Blocking findings and warnings each listed in a result (all are counted)."""
_CHUNK = 1000
_WHOLE_SERVICE = 5 * _CHUNK
_KNOWN_COLUMNS = (
    Finding.fingerprint,
    Finding.uid,
    Finding.status,
    Finding.status_by,
    Finding.exception_id,
)
_STATUSES = {status.value: status for status in Status}
"""``Status(value)`` as a dict lookup: a hundred thousand enum calls take 50 ms."""


@dataclass(frozen=True)
class GateRequest:
    reports: Sequence[Path]
    service: str | None = None
    branch: str = ""
    commit: str | None = None
    baseline: Sequence[Path] = ()
    changed: ChangedLines | None = None
    actor: str = "cli"


@dataclass
class ReadReports:
    """The distinct findings of the reports, and which tools ran."""

    candidates: dict[str, Candidate] = field(default_factory=dict)
    tools: dict[str, set[str]] = field(default_factory=dict)
    """Each tool that ran, with the kinds of findings it reported (``component`` when it
    listed components): what it counts for as a scanner."""


def read_reports(paths: Iterable[Path], settings: Settings) -> ReadReports:
    read = ReadReports()
    for path in paths:
        source = ReportSource(
            path, max_size=settings.max_report_size, max_depth=settings.max_json_depth
        )
        fmt = registry.resolve(source)
        assigner = IdentityAssigner()  # numbers repeats per report, as an import does
        tool = fmt.name
        for record in fmt.parse(source):
            if isinstance(record, RawFinding):
                read.tools.setdefault(record.tool, set()).add(record.kind.value)
                _add(read.candidates, assigner.fingerprint(record), record)
            elif isinstance(record, ToolRun):
                tool = record.tool
                read.tools.setdefault(tool, set())
            elif isinstance(record, RawComponent):
                read.tools.setdefault(tool, set()).add("component")
    return read


def fingerprints(paths: Iterable[Path], settings: Settings) -> frozenset[str]:
    return frozenset(read_reports(paths, settings).candidates)


def _add(candidates: dict[str, Candidate], fingerprint: str, raw: RawFinding) -> None:
    """One candidate per fingerprint: where tools agree on a finding, the strongest word on
    a secret (verified, then confidence) stands."""
    found = candidates.get(fingerprint)
    if found is not None:
        if raw.tool_severity == "verified":
            found.tool_severity = "verified"
        if _rank(raw.confidence) > _rank(found.confidence):
            found.confidence = raw.confidence
        return
    component = raw.component
    candidates[fingerprint] = Candidate(
        fingerprint=fingerprint,
        tool=raw.tool,
        kind=raw.kind,
        rule_id=raw.rule_id,
        title=raw.title,
        severity=raw.severity,
        tool_severity=raw.tool_severity,
        cwe_ids=tuple(raw.cwe_ids),
        vulnerability_ids=tuple(raw.vulnerability_ids),
        path=raw.path,
        line=raw.line,
        confidence=raw.confidence,
        asserted=raw.status,
        fixed_version=raw.fixed_version,
        package=_package(component),
        preview=redact_secret(raw.secret) if raw.secret else None,
    )


def _package(component: RawComponent | None) -> str | None:
    if component is None:
        return None
    return f"{component.name}@{component.version}" if component.version else component.name


_CONFIDENCE_RANK = {"low": 1, "medium": 2, "high": 3}


def _rank(confidence: str | None) -> int:
    return _CONFIDENCE_RANK.get(confidence or "", 0)


def run_gate(
    db: Database,
    request: GateRequest,
    policy: GatePolicy,
    risk_policy: Policy,
    settings: Settings,
) -> GateResult:
    """Decide and record; the result says what blocked and why."""
    # The run's candidates, rows and verdicts are freed when ``_run_gate`` returns, before
    # the collector is back: it then has none of them to pass over.
    with _collector_paused():
        return _run_gate(db, request, policy, risk_policy, settings)


def _run_gate(
    db: Database,
    request: GateRequest,
    policy: GatePolicy,
    risk_policy: Policy,
    settings: Settings,
) -> GateResult:
    started = time.perf_counter()
    if not request.reports:
        raise InputError("give at least one report")
    read = read_reports(request.reports, settings)
    baseline = fingerprints(request.baseline, settings) if request.baseline else None
    now = utcnow()
    # Decided in a read transaction; only the record takes the write lock (SQLite has one).
    with db.read() as session:
        service = (
            session.scalar(select(Service).where(Service.name == request.service))
            if request.service
            else None
        )
        context = _context(session, service, read.candidates, baseline, request, now)
        service_facts = service_context(service) if service else _unknown(policy, request)
        threats = open_threats_by_cwe(session, [service.id]).get(service.id, {}) if service else {}
        verdicts = _verdicts(session, read, context, service_facts, threats, policy, risk_policy)
    missing = missing_scanners(
        policy,
        read.tools,
        lambda tool: stream_categories(
            tool, read.tools.get(tool, ()), "component" in read.tools.get(tool, ())
        ),
    )
    result = _result(request, policy, read, verdicts, missing)
    result.duration_ms = round((time.perf_counter() - started) * 1000)
    with db.write() as session:
        _record(session, service.id if service else None, request, policy, result, verdicts, now)
    return result


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off during a gate run. A large report makes millions of
    short-lived containers and keeps a hundred thousand candidates, rows and verdicts, none
    of them in a reference cycle: the collector's passes over them cost a sixth of the run
    and free nothing. Reference counting frees what is dropped as usual."""
    if not gc.isenabled():  # already off (by the embedding program, or a concurrent gate)
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _unknown(policy: GatePolicy, request: GateRequest) -> ServiceContext:
    unknown = policy.unknown_service
    return ServiceContext(
        name=request.service or "(no service)",
        tier=unknown.tier,
        exposure=Exposure(unknown.exposure),
        data_classes=tuple(unknown.data_classes),
    )


def _context(
    session: Session,
    service: Service | None,
    candidates: dict[str, Candidate],
    baseline: frozenset[str] | None,
    request: GateRequest,
    now: datetime,
) -> Context:
    known: dict[str, Known] = {}
    finding_covers: dict[str, Cover] = {}
    rule_covers: dict[str, Cover] = {}
    if service is not None:
        exceptions = session.execute(
            select(
                RiskException.id,
                RiskException.uid,
                RiskException.rule_id,
                RiskException.expires_at,
            ).where(
                RiskException.service_id == service.id,
                RiskException.state == ExceptionState.APPROVED.value,
                RiskException.expires_at > now,
            )
        ).all()
        by_id = {row.id: Cover(row.uid, row.expires_at) for row in exceptions}
        rule_covers = {row.rule_id: by_id[row.id] for row in exceptions if row.rule_id is not None}
        rows = _known_rows(session, service.id, list(candidates))
        for fingerprint, uid, status, status_by, exception_id in rows:
            if fingerprint not in candidates:
                continue
            known[fingerprint] = Known(uid, _STATUSES[status], status_by)
            if exception_id in by_id:
                finding_covers[fingerprint] = by_id[exception_id]
    return Context(known, finding_covers, rule_covers, baseline, request.changed)


def _known_rows(session: Session, service_id: int, fingerprints: list[str]) -> Iterator[Any]:
    """The service's findings with these fingerprints: looked up in batches for a usual
    report, read in one pass over the service's findings for a large one (a hundred
    thousand lookups cost more than reading the service's rows once)."""
    query = select(*_KNOWN_COLUMNS).where(Finding.service_id == service_id)
    # Plain rows through the session's connection: the ORM's result processing would
    # double the cost of a large read, and these columns need none of it.
    connection = session.connection()
    if len(fingerprints) > _WHOLE_SERVICE:
        yield from connection.execute(query)
        return
    for start in range(0, len(fingerprints), _CHUNK):
        chunk = fingerprints[start : start + _CHUNK]
        yield from connection.execute(query.where(Finding.fingerprint.in_(chunk)))


def _verdicts(
    session: Session,
    read: ReadReports,
    context: Context,
    service: ServiceContext,
    threats: dict[str, list[str]],
    policy: GatePolicy,
    risk_policy: Policy,
) -> list[Verdict]:
    """Each candidate judged at the priority the store would give it: the same risk engine,
    with the service's open threat-model threats by CWE (``threats``)."""
    intel = vulnerability_intel(
        session, (c.vulnerability_ids for c in read.candidates.values() if c.vulnerability_ids)
    )
    memo: dict[tuple[Any, ...], Assessment] = {}
    verdicts = []
    for candidate in read.candidates.values():
        key = (
            candidate.kind,
            candidate.severity,
            candidate.tool_severity,
            candidate.cwe_ids,
            candidate.vulnerability_ids,
        )
        assessment = memo.get(key)
        if assessment is None:
            facts = FindingFacts(
                kind=candidate.kind,
                severity=candidate.severity,
                tool_severity=candidate.tool_severity,
                cwe_ids=candidate.cwe_ids,
                intel=intel.get(candidate.vulnerability_ids),
                threats=matching_threats(threats, candidate.cwe_ids),
            )
            assessment = memo[key] = assess(facts, service, risk_policy)
        verdicts.append(judge(candidate, assessment.priority, assessment.urgency, context, policy))
    verdicts.sort(key=lambda v: (-v.urgency, v.candidate.path or "", v.candidate.line or 0))
    return verdicts


def _result(
    request: GateRequest,
    policy: GatePolicy,
    read: ReadReports,
    verdicts: Sequence[Verdict],
    missing: Sequence[str],
) -> GateResult:
    counts = {outcome.value: 0 for outcome in Outcome}
    blocking: list[GateItem] = []
    warnings: list[GateItem] = []
    for verdict in verdicts:
        counts[verdict.outcome.value] += 1
        if verdict.outcome is Outcome.BLOCK and len(blocking) < MAX_LISTED:
            blocking.append(_item(verdict))
        elif verdict.outcome is Outcome.WARN and len(warnings) < MAX_LISTED:
            warnings.append(_item(verdict))
    fails_closed = bool(missing) and policy.missing_scanner == "fail-closed"
    blocked = counts[Outcome.BLOCK.value] > 0 or fails_closed
    return GateResult(
        result="blocked" if blocked else "pass",
        service=request.service,
        branch=request.branch,
        commit=request.commit,
        base_ref=request.changed.base if request.changed else None,
        baseline=bool(request.baseline),
        tools=sorted(read.tools),
        missing_scanners=list(missing),
        missing_scanner_policy=policy.missing_scanner,
        findings=len(verdicts),
        counts=counts,
        blocking=blocking,
        warnings=warnings,
        block_priority=policy.block_priority,
        policy_digest=policy.digest,
        summary_items=policy.summary_items,
    )


def _item(verdict: Verdict) -> GateItem:
    c = verdict.candidate
    return GateItem(
        fingerprint=c.fingerprint,
        outcome=verdict.outcome.value,
        reason=verdict.reason,
        priority=verdict.priority.label,
        new=verdict.new,
        tool=c.tool,
        kind=c.kind.value,
        rule_id=c.rule_id,
        title=c.title,
        severity=c.severity.value,
        path=c.path,
        line=c.line,
        package=c.package,
        fixed_version=c.fixed_version,
        vulnerability_ids=list(c.vulnerability_ids),
        preview=c.preview,
    )


def _record(
    session: Session,
    service_id: int | None,
    request: GateRequest,
    policy: GatePolicy,
    result: GateResult,
    verdicts: Sequence[Verdict],
    now: datetime,
) -> None:
    run = GateRun(
        uid=new_uid(),
        service_id=service_id,
        service_name=(request.service or "")[:200],
        branch=request.branch[:255],
        commit=request.commit,
        base_ref=result.base_ref[:255] if result.base_ref else None,
        result=result.result,
        findings=result.findings,
        blocking=result.counts[Outcome.BLOCK.value],
        warnings=result.counts[Outcome.WARN.value],
        excepted=result.counts[Outcome.EXCEPTED.value],
        tools=result.tools,
        missing_scanners=result.missing_scanners,
        policy_digest=policy.digest,
        actor=request.actor[:200],
        decided_at=now,
        duration_ms=result.duration_ms,
    )
    session.add(run)
    session.flush()
    blocks = [v for v in verdicts if v.outcome is Outcome.BLOCK][:MAX_RECORDED_BLOCKS]
    if blocks:
        session.execute(
            insert(GateBlock),
            [
                {
                    "run_id": run.id,
                    "fingerprint": v.candidate.fingerprint,
                    "tool": v.candidate.tool[:100],
                    "rule_id": v.candidate.rule_id[:500],
                    "title": v.candidate.title[:1000],
                    "path": (v.candidate.path or None) and v.candidate.path[:4096],
                    "line": v.candidate.line,
                    "reason": v.reason[:500],
                }
                for v in blocks
            ],
        )
    audit.record(
        session,
        actor=request.actor,
        action="gate.run",
        entity_type="gate_run",
        entity_id=run.uid,
        after={
            "service": run.service_name,
            "branch": run.branch,
            "commit": run.commit,
            "result": run.result,
            "blocking": run.blocking,
            "missing_scanners": run.missing_scanners,
        },
    )
    result.run = run.uid


def override(session: Session, uid: str, actor: str, reason: str) -> GateRun:
    """Let a blocked run through: who and why are recorded, and count as friction."""
    run = session.scalar(select(GateRun).where(GateRun.uid == uid))
    if run is None:
        raise InputError(f"no gate run {uid[:40]!r}")
    if run.result != "blocked":
        raise InputError(f"gate run {uid} passed: there is nothing to override")
    if run.overridden_at is not None:
        raise InputError(f"gate run {uid} was overridden already by {run.overridden_by}")
    reason = " ".join(reason.split())
    if len(reason) < 10:
        raise InputError("say why the block is overridden (at least 10 characters)")
    run.overridden_by = actor[:320]
    run.overridden_at = utcnow()
    run.override_reason = reason[:2000]
    audit.record(
        session,
        actor=actor,
        action="gate.override",
        entity_type="gate_run",
        entity_id=run.uid,
        after={"reason": run.override_reason, "overridden_at": isoformat(run.overridden_at)},
    )
    return run


def run_rows(
    session: Session, *, service: str | None = None, limit: int = 100, caller: Any = None
) -> list[dict[str, Any]]:
    query = select(GateRun).order_by(GateRun.decided_at.desc(), GateRun.id.desc()).limit(limit)
    if service:
        query = query.where(GateRun.service_name == service)
    if caller is not None:
        query = query.outerjoin(Service, GateRun.service_id == Service.id).where(
            caller.team_filter(Service.team_id)
        )
    return [
        {
            "run": run.uid,
            "service": run.service_name,
            "branch": run.branch,
            "commit": run.commit,
            "result": run.result,
            "blocking": run.blocking,
            "warnings": run.warnings,
            "missing_scanners": ",".join(run.missing_scanners),
            "decided_at": isoformat(run.decided_at),
            "overridden_by": run.overridden_by,
        }
        for run in session.scalars(query)
    ]


def friction(
    session: Session, *, days: int = 30, now: datetime | None = None, caller: Any = None
) -> list[dict[str, Any]]:
    """Per service over the last ``days``: runs, blocked runs, overrides, blocked runs
    whose blocking findings were all later triaged false positive, and the median hours
    from a block to the next passing run of the same branch (or its override)."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    query = (
        select(GateRun)
        .where(GateRun.decided_at >= since)
        .order_by(GateRun.service_name, GateRun.branch, GateRun.decided_at, GateRun.id)
    )
    if caller is not None:
        query = query.outerjoin(Service, GateRun.service_id == Service.id).where(
            caller.team_filter(Service.team_id)
        )
    runs = list(session.scalars(query))
    false_positive = _false_positive_runs(session, [r.id for r in runs if r.result == "blocked"])
    by_service: dict[str, list[GateRun]] = defaultdict(list)
    for run in runs:
        by_service[run.service_name].append(run)
    rows = []
    for name, service_runs in sorted(by_service.items()):
        blocked = [r for r in service_runs if r.result == "blocked"]
        unblocked = _hours_to_unblock(service_runs)
        waits = [wait for wait in unblocked.values() if wait is not None]
        rows.append(
            {
                "service": name,
                "runs": len(service_runs),
                "blocked": len(blocked),
                "block_rate": round(len(blocked) / len(service_runs), 3),
                "overridden": sum(1 for r in blocked if r.overridden_at is not None),
                "false_positive_blocks": sum(1 for r in blocked if r.id in false_positive),
                "median_hours_to_unblock": round(median(waits), 2) if waits else None,
                "still_blocked": len(unblocked) - len(waits),
            }
        )
    return rows


def _hours_to_unblock(runs: Sequence[GateRun]) -> dict[int, float | None]:
    """For each blocked run (by id), the hours until what let its branch through: the
    branch's next passing run or the run's override, whichever came first; None while
    neither has happened. ``runs`` are in time order."""
    next_pass: dict[str, datetime] = {}
    hours: dict[int, float | None] = {}
    for run in reversed(runs):
        if run.result == "pass":
            next_pass[run.branch] = run.decided_at
            continue
        ends = [end for end in (next_pass.get(run.branch), run.overridden_at) if end is not None]
        hours[run.id] = (min(ends) - run.decided_at).total_seconds() / 3600 if ends else None
    return hours


def _false_positive_runs(session: Session, run_ids: list[int]) -> set[int]:
    """Blocked runs all of whose recorded blocks are now triaged as false positives (or
    not affected) in the run's service: blocks that should not have happened."""
    if not run_ids:
        return set()
    blocks: dict[int, int] = defaultdict(int)
    wrong: dict[int, int] = defaultdict(int)
    for chunk in _int_chunks(run_ids):
        rows = session.execute(
            select(GateBlock.run_id, Finding.status)
            .join(GateRun, GateRun.id == GateBlock.run_id)
            .outerjoin(
                Finding,
                (Finding.service_id == GateRun.service_id)
                & (Finding.fingerprint == GateBlock.fingerprint),
            )
            .where(GateBlock.run_id.in_(chunk))
        ).all()
        for run_id, status in rows:
            blocks[run_id] += 1
            if status in (Status.FALSE_POSITIVE.value, Status.NOT_AFFECTED.value):
                wrong[run_id] += 1
    return {run_id for run_id, count in blocks.items() if wrong[run_id] == count}


def _int_chunks(values: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
