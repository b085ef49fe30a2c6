"""What a format parser yields: tool runs, findings and components, as plain data.

Parsers translate a tool's vocabulary into these records; everything after (identity,
deduplication, lifecycle, storage) is shared and never sees the report itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shieldwall.findings.vocabulary import Kind, Severity, Status


@dataclass(frozen=True, slots=True)
class ToolRun:
    """A tool's run in the report. Its stream is closed by a complete import even when the
    run reported nothing, so parsers yield one per run before its findings."""

    tool: str
    version: str | None = None
    inventory_only: bool = False
    """The run lists components and does not look for problems (an SBOM without a
    vulnerabilities section): importing it refreshes the components and closes nothing."""


@dataclass(frozen=True, slots=True)
class RawComponent:
    name: str
    version: str | None = None
    purl: str | None = None
    ecosystem: str | None = None
    licenses: Sequence[str] = ()


@dataclass(slots=True)
class RawFinding:
    """Parsers name every field (``RawFinding(tool=..., ...)``); the pipeline rebuilds
    records from their fields in order."""

    tool: str
    kind: Kind
    rule_id: str
    title: str
    severity: Severity
    tool_severity: str | None = None
    description: str | None = None
    cwe_ids: Sequence[str] = ()
    vulnerability_ids: Sequence[str] = ()
    references: Sequence[str] = ()
    path: str | None = None
    line: int | None = None
    end_line: int | None = None
    snippet: str | None = None
    """The code at the location; only its hash is stored."""
    context: str | None = None
    """A stable description of where the problem is when there is no snippet (an IaC
    resource, a URL and parameter); used for identity."""
    tool_fingerprints: Mapping[str, str] = field(default_factory=dict)
    component: RawComponent | None = None
    fixed_version: str | None = None
    secret: str | None = None
    """The raw secret, in memory only: hashed and redacted before anything is stored."""
    secret_sha1: str | None = None
    """A tool's SHA-1 of the secret, when the tool does not give the secret (detect-secrets)."""
    status: Status | None = None
    """A status the tool asserts (a suppression in source becomes ``false_positive``)."""
    status_reason: str | None = None
    confidence: str | None = None
    """How sure the tool is (high, medium, low), when it says: the gate blocks secrets by
    it. Not stored: it describes the tool's judgement, not the problem."""


Record = ToolRun | RawFinding | RawComponent
