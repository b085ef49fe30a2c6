"""The gate's decision for each finding, and for the run. Pure: no I/O.

Per finding, the first of these that applies decides:

1. in a path the policy ignores: ``ignored``;
2. suppressed in the source by the tool's own marker: ``suppressed``;
3. triaged in the store as a false positive or not affected: ``triaged``;
4. covered by an approved, unexpired exception: ``excepted``;
5. a secret: ``block`` when verified live, or unverified at or above the policy's
   confidence (secrets block whether new or not: the tree exposes them already), else warn;
6. not new (in the baseline, on a line the change did not touch, or already in the store):
   a warning or a notice;
7. new and at or above the blocking priority: ``block``; else a warning or a notice.

The run is blocked when a finding blocks, or when a required scanner did not run and the
policy fails closed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from shieldwall.findings.vocabulary import Kind, Severity, Status
from shieldwall.gate.policy import GatePolicy
from shieldwall.risk.policy import Priority


class Outcome(StrEnum):
    BLOCK = "block"
    WARN = "warn"
    NOTICE = "notice"
    EXCEPTED = "excepted"
    TRIAGED = "triaged"
    SUPPRESSED = "suppressed"
    IGNORED = "ignored"


@dataclass(slots=True)
class Candidate:
    """A distinct finding of the reports, with what the gate needs of it (never a raw
    secret: ``preview`` is redacted)."""

    fingerprint: str
    tool: str
    kind: Kind
    rule_id: str
    title: str
    severity: Severity
    tool_severity: str | None
    cwe_ids: tuple[str, ...]
    vulnerability_ids: tuple[str, ...]
    path: str | None
    line: int | None
    confidence: str | None
    asserted: Status | None
    fixed_version: str | None = None
    package: str | None = None
    preview: str | None = None

    @property
    def verified(self) -> bool:
        return self.tool_severity == "verified"


@dataclass(frozen=True, slots=True)
class Cover:
    """An approved exception that covers a finding."""

    uid: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Known:
    """What the store holds for a finding's fingerprint in the service."""

    uid: str
    status: Status
    status_by: str | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """Everything the decision depends on beyond the finding itself."""

    known: Mapping[str, Known]
    finding_covers: Mapping[str, Cover]
    """Exceptions by fingerprint."""
    rule_covers: Mapping[str, Cover]
    """Exceptions of a whole rule in the service, by rule id."""
    baseline: frozenset[str] | None
    """Fingerprints of the baseline report, when one was given."""
    changed: ChangedFilter | None


class ChangedFilter(Protocol):
    """Whether a location is in the change (``gate.diff.ChangedLines``)."""

    def touches(self, path: str | None, line: int | None) -> bool: ...


@dataclass(frozen=True, slots=True)
class Verdict:
    candidate: Candidate
    outcome: Outcome
    priority: Priority
    urgency: int
    reason: str
    new: bool


_Make = Callable[[Outcome, str], Verdict]
_Categories = Callable[[str], Iterable[str]]
_DISMISSED = frozenset((Status.FALSE_POSITIVE, Status.NOT_AFFECTED))
"""Not a problem, as triaged or as the tool's marker in the source says."""


def judge(
    candidate: Candidate,
    priority: Priority,
    urgency: int,
    context: Context,
    policy: GatePolicy,
) -> Verdict:
    def verdict(outcome: Outcome, reason: str, new: bool = True) -> Verdict:
        return Verdict(candidate, outcome, priority, urgency, reason, new)

    if candidate.path and policy.ignore_paths and _ignored(candidate.path, policy.ignore_paths):
        return verdict(Outcome.IGNORED, "in a path the gate policy ignores")
    if candidate.asserted in _DISMISSED:
        return verdict(Outcome.SUPPRESSED, f"suppressed in the source ({candidate.tool})")
    known = context.known.get(candidate.fingerprint)
    if known is not None and known.status in _DISMISSED:
        by = f" by {known.status_by}" if known.status_by else ""
        words = known.status.value.replace("_", " ")
        return verdict(Outcome.TRIAGED, f"triaged as {words}{by} (finding {known.uid})", False)
    if policy.honour_exceptions:
        cover = context.finding_covers.get(candidate.fingerprint) or context.rule_covers.get(
            candidate.rule_id
        )
        if cover is not None:
            until = cover.expires_at.date().isoformat()
            return verdict(Outcome.EXCEPTED, f"risk accepted until {until} (exception {cover.uid})")
    if candidate.kind is Kind.SECRET:
        return _secret(candidate, policy, verdict)
    new, why_old = _newness(candidate, known, context, policy)
    if new and priority <= policy.blocking:
        return verdict(
            Outcome.BLOCK,
            f"new {priority.label} finding; the policy blocks {policy.blocking.label} "
            "and more urgent",
        )
    outcome = Outcome.WARN if priority <= policy.warning else Outcome.NOTICE
    if new:
        return verdict(outcome, f"{priority.label}, below the blocking priority")
    return verdict(outcome, f"{priority.label}, not new: {why_old}", False)


def _secret(candidate: Candidate, policy: GatePolicy, verdict: _Make) -> Verdict:
    rules = policy.secrets
    if candidate.verified:
        if rules.block_verified:
            return verdict(Outcome.BLOCK, "a secret the scanner verified as live")
        return verdict(Outcome.WARN, "a verified secret (the policy does not block them)")
    if candidate.confidence is None:
        if rules.unrated == "block":
            return verdict(
                Outcome.BLOCK, f"a secret ({candidate.tool} does not rate its confidence)"
            )
        return verdict(Outcome.WARN, f"a secret of unrated confidence ({candidate.tool})")
    if rules.block_confidence.admits(candidate.confidence):
        return verdict(Outcome.BLOCK, f"a {candidate.confidence}-confidence secret")
    return verdict(
        Outcome.WARN,
        f"a {candidate.confidence}-confidence secret, below the blocking confidence "
        f"({rules.block_confidence.value})",
    )


def _newness(
    candidate: Candidate, known: Known | None, context: Context, policy: GatePolicy
) -> tuple[bool, str]:
    if context.baseline is not None and candidate.fingerprint in context.baseline:
        return False, "in the baseline"
    if context.changed is not None and not context.changed.touches(candidate.path, candidate.line):
        return False, "on a line this change did not touch"
    # A fixed finding that is back is a regression: new again.
    if policy.compare_with_store and known is not None and known.status is not Status.FIXED:
        return False, f"already known (finding {known.uid}, {known.status.value})"
    return True, ""


def _ignored(path: str, patterns: Sequence[str]) -> bool:
    """A pattern ending in ``/`` names a folder at any depth; others are globs on the path
    or its file name (``*.test.js``)."""
    for pattern in patterns:
        if pattern.endswith("/"):
            if path.startswith(pattern) or f"/{pattern}" in f"/{path}":
                return True
        elif fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(
            path.rsplit("/", 1)[-1], pattern
        ):
            return True
    return False


def missing_scanners(
    policy: GatePolicy, tools: Iterable[str], categories_of: _Categories
) -> list[str]:
    """The required scanners (categories or tool names) no report's run provides."""
    ran = {tool.lower() for tool in tools}
    covered = {category for tool in ran for category in categories_of(tool)}
    return [
        required
        for required in policy.required_scanners
        if required.lower() not in ran and required.lower() not in covered
    ]
