"""What the secret scanners' parsers (gitleaks, TruffleHog, trufflehog3, detect-secrets)
share: the one place where they build a ``RawFinding``, so that they agree on severity (a
secret the tool verified as live is critical, others high unless the tool rates them), on the
CWE, and above all on keeping the raw secret out of every field but ``secret``.
"""

from __future__ import annotations

from collections.abc import Iterable

from shieldwall.findings.vocabulary import Kind, Severity, Status
from shieldwall.ingest.normalize import severity_from_text
from shieldwall.ingest.parsing import description, references, text
from shieldwall.ingest.records import RawFinding
from shieldwall.text import one_line

HARDCODED_CREDENTIALS = "CWE-798"
_FACT_MAX = 300
_REDACTED = frozenset({"redacted", "redact"})
_ADVICE = (
    "Revoke or rotate the credential first (removing it from the code does not make it "
    "secret again), then remove it from the code, and from the history if it was shared."
)


def secret_value(value: object) -> str | None:
    """The secret as the tool wrote it (not stripped: its SHA-1 must match other tools'),
    or None when it is missing or redacted."""
    if not isinstance(value, str) or not value.strip():
        return None
    if value.strip().lower() in _REDACTED or "****" in value:
        return None
    return value


def _verification_word(verified: bool | None) -> str | None:
    if verified is None:
        return None
    return "verified" if verified else "unverified"


def secret_finding(
    *,
    tool: str,
    rule_id: str,
    title: str,
    secret: str | None,
    path: str | None,
    line: int | None,
    end_line: int | None = None,
    verified: bool | None = None,
    tool_severity: str | None = None,
    summary: object = None,
    facts: Iterable[tuple[str, object]] = (),
    sensitive: Iterable[str] = (),
    links: Iterable[object] = (),
    secret_sha1: str | None = None,
    status: Status | None = None,
    status_reason: str | None = None,
) -> RawFinding:
    """A secret finding whose text fields cannot carry the secret.

    ``facts`` are ``(label, value)`` lines for the description (commit, author...); a value
    that contains the secret or any of the ``sensitive`` strings (other secrets of the same
    record, the other half of a key pair) is left out, and so is a title, rule or link that
    contains one: the importer hashes ``secret`` and redacts it from the title and
    description, but it cannot know the other values.
    """
    hidden = [s for s in (secret, *sensitive) if s]

    def safe(value: str | None) -> str | None:
        if value is None or any(s in value for s in hidden):
            return None
        return value

    lines = []
    for label, value in facts:
        found = text(value)
        folded = one_line(found, _FACT_MAX) if found else None
        if found and folded and safe(found) and safe(folded):
            lines.append(f"{label}: {folded}")
    check: str | None = None
    if verified:
        severity = Severity.CRITICAL
        check = "The tool verified that this credential is live."
    else:
        severity = severity_from_text(tool_severity, Severity.HIGH)
        if verified is False:
            check = "The tool did not verify this credential."
    safe_rule = safe(rule_id) or "unknown"
    return RawFinding(
        tool=tool,
        kind=Kind.SECRET,
        rule_id=safe_rule,
        title=safe(title) or safe_rule,
        severity=severity,
        tool_severity=tool_severity or _verification_word(verified),
        description=description(safe(text(summary)), check, "\n".join(lines), _ADVICE),
        cwe_ids=[HARDCODED_CREDENTIALS],
        references=[link for link in references(links) if safe(link)],
        path=path,
        line=line,
        end_line=end_line
        if line is not None and end_line is not None and end_line >= line
        else None,
        secret=secret,
        secret_sha1=secret_sha1,
        status=status,
        status_reason=status_reason,
    )
