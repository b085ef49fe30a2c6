"""A gate run's result: what ``--format json`` prints and ``POST /api/v1/gate`` answers, and
what the Markdown summary, JUnit and annotations are written from."""

from __future__ import annotations

from pydantic import BaseModel


class GateItem(BaseModel):
    fingerprint: str
    outcome: str
    reason: str
    priority: str
    new: bool
    tool: str
    kind: str
    rule_id: str
    title: str
    severity: str
    path: str | None = None
    line: int | None = None
    package: str | None = None
    fixed_version: str | None = None
    vulnerability_ids: list[str] = []
    preview: str | None = None
    """A secret's redacted preview; never the secret."""


class GateResult(BaseModel):
    run: str | None = None
    """The recorded run's id (for `shieldwall gate override`)."""
    result: str
    """``pass`` or ``blocked``."""
    service: str | None
    branch: str
    commit: str | None
    base_ref: str | None
    baseline: bool
    tools: list[str]
    missing_scanners: list[str]
    missing_scanner_policy: str
    findings: int
    counts: dict[str, int]
    """Findings by outcome: block, warn, notice, excepted, triaged, suppressed, ignored."""
    blocking: list[GateItem]
    warnings: list[GateItem]
    block_priority: str
    policy_digest: str
    summary_items: int
    duration_ms: int = 0
