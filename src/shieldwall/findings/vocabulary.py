"""Kinds, severities, statuses and where a value came from."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    CODE = "code"
    DEPENDENCY = "dependency"
    SECRET = "secret"  # noqa: S105 - a kind of finding, not a password
    IAC = "iac"
    CONTAINER = "container"
    WEB = "web"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """4 for critical down to 0 for info, for sorting and thresholds."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class Status(StrEnum):
    OPEN = "open"
    REOPENED = "reopened"
    FIXED = "fixed"
    FALSE_POSITIVE = "false_positive"
    NOT_AFFECTED = "not_affected"
    ACCEPTED = "accepted"
    """An approved exception accepts the risk until it expires."""


ACTIVE_STATUSES = frozenset({Status.OPEN, Status.REOPENED})
"""Statuses of a problem that still needs work; a complete scan closes these when gone."""

ASSESSED_STATUSES = frozenset({Status.FALSE_POSITIVE, Status.NOT_AFFECTED})
"""Assessments that stand across re-imports when a person (or VEX) made them. A person who
sets a finding back to ``open`` returns it to the scan lifecycle."""

STANDING_STATUSES = ASSESSED_STATUSES | {Status.ACCEPTED}
"""Statuses set by a person or an exception that a re-import does not change."""

CLOSABLE_STATUSES = ACTIVE_STATUSES | {Status.ACCEPTED}
"""What a complete scan that no longer reports a finding closes as fixed: an accepted risk
whose problem has gone is fixed all the same."""

TRIAGE_STATUSES = (Status.FALSE_POSITIVE, Status.NOT_AFFECTED, Status.OPEN)


class Source(StrEnum):
    """Provenance of a status or severity value."""

    SCANNER = "scanner"  # the parser, or the scan lifecycle (fixed, reopened)
    RULE = "rule"  # a Shieldwall rule or policy
    PERSON = "person"  # a person's assessment (triage)
    VEX = "vex"  # a VEX statement
    EXCEPTION = "exception"  # an approved risk exception (accepted), or its expiry
