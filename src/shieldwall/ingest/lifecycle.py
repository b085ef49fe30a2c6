"""What a re-import does to a finding, as pure functions: the status transition, how the
values of several tools merge, and the digest that lets an unchanged finding be recognised
without reading its whole row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shieldwall.findings.vocabulary import (
    ACTIVE_STATUSES,
    STANDING_STATUSES,
    Severity,
    Source,
    Status,
)
from shieldwall.ingest.normalize import vulnerability_ids
from shieldwall.ingest.records import RawFinding

SCANNER_COLUMNS = (
    "kind",
    "rule_id",
    "title",
    "description",
    "severity",
    "severity_rank",
    "tool_severity",
    "cwe_ids",
    "vulnerability_ids",
    "references",
    "path",
    "line",
    "end_line",
    "snippet_hash",
    "component_purl",
    "component_name",
    "component_version",
    "ecosystem",
    "fixed_version",
    "secret_hash",
    "secret_preview",
)
"""What a report says about a finding (its identity aside)."""

STATUS_COLUMNS = (
    "status",
    "status_source",
    "status_reason",
    "status_by",
    "status_at",
    "fixed_at",
    "reopen_count",
)
UPDATE_COLUMNS = (*SCANNER_COLUMNS, "tools", "scan_digest", *STATUS_COLUMNS)

ASSESSED_COLUMNS = (
    "title",
    "severity",
    "cwe_ids",
    "vulnerability_ids",
    "fixed_version",
    "component_version",
    "tools",
)
"""A change here counts as "updated"; a line move or a reworded description is tracked
silently (it does not change the problem)."""

_LISTS = ("cwe_ids", "references")


def record_digest(raw: RawFinding) -> str:
    """A digest of what a report says about a finding, stored with it: an equal digest next
    time means an identical report of it, so its row need not be read, rebuilt or written.
    Computed from the parsed record, before any column value is built. The raw secret is
    left out (it is part of the identity already)."""
    c = raw.component
    values = (
        raw.kind.value,  # an enum's repr is slow Python code
        raw.rule_id,
        raw.title,
        raw.severity.value,
        raw.tool_severity,
        raw.description,
        tuple(raw.cwe_ids),
        tuple(raw.vulnerability_ids),
        tuple(raw.references),
        raw.path,
        raw.line,
        raw.end_line,
        raw.snippet,
        raw.context,
        raw.fixed_version,
        raw.secret_sha1,
        (c.name, c.version, c.purl, c.ecosystem) if c else None,
    )
    return hashlib.blake2b(repr(values).encode("utf-8"), digest_size=16).hexdigest()


def report_digest(digests: Sequence[str]) -> str:
    """The digest of a finding that several results of one report share, from theirs."""
    return hashlib.blake2b("|".join(digests).encode(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class StatusChange:
    status: Status
    reason: str | None
    reopened: bool


def status_change(
    status: str,
    source: str,
    scanner_status: Status | None,
    scanner_reason: str | None,
    tools: Sequence[str],
) -> StatusChange | None:
    """The transition a report causes, or None.

    A finding the scanner had closed and that is reported again is reopened (a regression).
    A status the tool asserts (a suppression) follows the tool. A person's (or VEX's)
    ``false_positive``/``not_affected``, and an exception's ``accepted``, stand across
    re-imports.
    """
    if source != Source.SCANNER and status in STANDING_STATUSES:
        return None
    if scanner_status is not None:
        target, reason = scanner_status, scanner_reason
    elif status == Status.FIXED:
        target, reason = Status.REOPENED, f"reported again by {', '.join(tools)}"
    elif status in ACTIVE_STATUSES:
        return None
    else:
        target, reason = Status.OPEN, "no longer suppressed by the tool"
    if status == target:
        return None
    return StatusChange(target, reason, reopened=target is Status.REOPENED)


def merge(row: Mapping[str, Any], incoming: Mapping[str, Any], *, shared: bool) -> dict[str, Any]:
    """The scanner columns after a report.

    A finding only this tool reports takes the report's values. One that other tools report
    too merges conservatively, so that alternating imports of two tools do not flip it back
    and forth: lists are united, the higher severity stays, known values are kept and gaps
    filled. A person's severity assessment always stands.
    """
    if not shared:
        merged = {c: incoming[c] for c in SCANNER_COLUMNS}
    else:
        merged = {c: row[c] if row[c] is not None else incoming[c] for c in SCANNER_COLUMNS}
        for column in _LISTS:
            merged[column] = list(dict.fromkeys([*row[column], *incoming[column]]))
        merged["vulnerability_ids"] = vulnerability_ids(
            [*row["vulnerability_ids"], *incoming["vulnerability_ids"]]
        )
        if Severity(incoming["severity"]).rank > Severity(row["severity"]).rank:
            merged["severity"] = incoming["severity"]
            merged["tool_severity"] = incoming["tool_severity"]  # the words of the tool that won
    if row["severity_source"] != Source.SCANNER:
        merged["severity"] = row["severity"]
    merged["severity_rank"] = Severity(merged["severity"]).rank
    return merged
