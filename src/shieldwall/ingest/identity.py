"""A finding's identity: the fingerprint that survives what does not change the problem.

Rules, in order (DESIGN.md, "Identity and lifecycle of a finding"):

1. A secret is the hash of the secret plus the file it is in: line moves, re-runs and other
   tools that find the same secret in the same file meet in one finding. When the tool
   redacted the secret and gave no hash, the rule and line stand in for it.
2. A vulnerable package is its package identity (ecosystem, namespace, name: no version) plus
   the canonical vulnerability id of its alias group, so two tools reporting one CVE in one
   package are one finding, whichever ids they list first.
3. Otherwise the tool's own stable ids (SARIF ``fingerprints``/``partialFingerprints`` whose
   names say they are line, location, context or match hashes, such as CodeQL's
   ``primaryLocationLineHash``) when it gives them,
4. else the tool, rule, path and the normalised snippet (or stable context, or message), with
   an occurrence number when the same text repeats in one file of one report.

Pure functions: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from shieldwall.findings.vocabulary import Kind
from shieldwall.ingest.normalize import (
    canonical_vulnerability_id,
    package_key,
    secret_hash,
    secret_sha1,
)
from shieldwall.ingest.records import RawFinding

_PLACEHOLDERS = frozenset({"", "requires login", "none", "null", "n/a", "redacted"})
# Tool ids designed to survive line moves (CodeQL's primaryLocationLineHash, Semgrep's
# matchBasedId, Flawfinder's contextHash...). Other keys tools put in partialFingerprints
# (gitleaks: commitSha, author, date; whole-file hashes) change with every commit.
_STABLE_KEY = re.compile(
    r"line.?hash|location.?hash|fingerprint|match.?based.?id|context.?hash", re.I
)


def normalize_text(value: str) -> str:
    """White space folded; what a reformat or re-indent does not change."""
    return " ".join(value.split())


def secret_digest(finding: RawFinding) -> str | None:
    if finding.secret and finding.secret.strip().lower() not in _PLACEHOLDERS:
        return secret_hash(secret_sha1(finding.secret))
    if finding.secret_sha1 and re.fullmatch(r"[0-9a-fA-F]{40}", finding.secret_sha1):
        return secret_hash(finding.secret_sha1)
    return None


def trusted_tool_fingerprints(values: Mapping[str, str]) -> str | None:
    """The tool's ids as one string, or None when it gave none worth trusting (Semgrep's
    logged-out output replaces them with "requires login")."""
    if not values:
        return None
    usable = sorted(
        (key, value.strip())
        for key, value in values.items()
        if _STABLE_KEY.search(key)
        and isinstance(value, str)
        and value.strip().lower() not in _PLACEHOLDERS
    )
    return "|".join(f"{key}={value}" for key, value in usable) or None


def identity_key(finding: RawFinding) -> tuple[str, bool]:
    """The text a fingerprint hashes, and whether repeats within one report are distinct
    problems (true only for content-based identity)."""
    if finding.kind is Kind.SECRET:
        digest = secret_digest(finding)
        if digest:
            return f"secret|{digest}|{finding.path or ''}", False
        return (
            f"secret-at|{finding.tool}|{finding.rule_id}|{finding.path or ''}|{finding.line or ''}",
            False,
        )
    component = finding.component
    if component is not None and finding.vulnerability_ids:
        package = package_key(component.purl, component.ecosystem, component.name)
        return f"package|{package}|{canonical_vulnerability_id(finding.vulnerability_ids)}", False
    tool_ids = trusted_tool_fingerprints(finding.tool_fingerprints)
    if tool_ids:
        return f"tool|{finding.tool}|{finding.rule_id}|{tool_ids}", False
    context = finding.snippet or finding.context
    if not context and component is not None:
        context = package_key(component.purl, component.ecosystem, component.name)
    content = normalize_text(context or finding.title)
    return (
        f"content|{finding.tool}|{finding.kind}|{finding.rule_id}|{finding.path or ''}|{content}",
        True,
    )


def fingerprint(key: str, occurrence: int = 1) -> str:
    """128 bits of SHA-256, as hex."""
    return _digest(key, occurrence).hex()[:32]


def _digest(key: str, occurrence: int) -> bytes:
    text = key if occurrence == 1 else f"{key}#{occurrence}"
    return hashlib.sha256(text.encode("utf-8")).digest()


class IdentityAssigner:
    """Fingerprints for one report, numbering repeats of content-based identities in report
    order (the first match in a file keeps the plain fingerprint)."""

    def __init__(self) -> None:
        # 64-bit keys: about 90 bytes per content-identified result of the report, which is
        # the only per-result memory an import keeps (a collision only misnumbers a repeat).
        self._occurrences: dict[int, int] = {}

    def fingerprint(self, finding: RawFinding) -> str:
        key, repeatable = identity_key(finding)
        first = _digest(key, 1)
        if repeatable:
            slot = int.from_bytes(first[:8])  # the key's own hash numbers its repeats
            occurrence = self._occurrences.get(slot, 0) + 1
            self._occurrences[slot] = occurrence
            if occurrence > 1:
                return fingerprint(key, occurrence)
        return first.hex()[:32]


def snippet_hash(snippet: str | None) -> str | None:
    if not snippet or not snippet.strip():
        return None
    return hashlib.sha256(normalize_text(snippet).encode("utf-8")).hexdigest()[:32]
