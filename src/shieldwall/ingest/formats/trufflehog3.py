"""trufflehog3 (feeltheajf/trufflehog3, a Python tool separate from TruffleHog) JSON: the
current output, an array of issues (``rule {id, message, pattern, severity}``, ``path``,
``line``, ``secret``, ``context``, git metadata), and the legacy 2.x output, an array of
TruffleHog v2 records (``reason``, ``path``, ``stringsFound``...).

The rule's severity (HIGH, MEDIUM, LOW) is trufflehog3's own rating and is kept. ``context``
holds the lines around the secret, secret included, and is never read. A clean scan is ``[]``,
which gitleaks also writes: without ``--format`` it is reported as ambiguous.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from shieldwall.ingest import jsonstream
from shieldwall.ingest.formats.trufflehog import legacy_findings
from shieldwall.ingest.normalize import normalize_path
from shieldwall.ingest.parsing import integer, mapping, rule, text, title
from shieldwall.ingest.records import RawFinding, Record, ToolRun
from shieldwall.ingest.secrets import secret_finding, secret_value
from shieldwall.ingest.source import Head, ReportSource

_TOOL = "trufflehog3"


class Trufflehog3Format:
    name = "trufflehog3"
    title = "trufflehog3 JSON (current and legacy)"
    syntaxes = frozenset({"json"})

    def detect(self, head: Head) -> bool:
        if head.value("") != "array":
            return False
        current = all(head.has(f"item.{key}") for key in ("rule.id", "secret", "path"))
        legacy = all(head.has(f"item.{key}") for key in ("stringsFound", "reason", "path"))
        return current or legacy or head.is_empty_array()

    def parse(self, source: ReportSource) -> Iterator[Record]:
        if source.head().value("") != "array":
            raise source.error("a trufflehog3 report is a JSON array of issues")
        yield ToolRun(_TOOL)
        for _, item in jsonstream.objects(source, "item"):
            if isinstance(item.get("rule"), Mapping):
                yield _issue(item)
            elif "stringsFound" in item:
                yield from legacy_findings(item, _TOOL)


def _issue(item: Mapping[str, Any]) -> RawFinding:
    entry = mapping(item.get("rule"))
    rule_id = rule(entry.get("id"))
    return secret_finding(
        tool=_TOOL,
        rule_id=rule_id,
        title=title(entry.get("message"), rule_id),
        secret=secret_value(item.get("secret")),
        path=normalize_path(item.get("path")),
        # For the git history, trufflehog3 counts lines in the diff, not in the file.
        line=integer(item.get("line")),
        tool_severity=text(entry.get("severity")),
        facts=[
            ("Rule", rule_id),
            ("Branch", item.get("branch")),
            ("Commit", item.get("commit")),
            ("Author", item.get("author")),
            ("Date", item.get("date")),
            ("Commit message", item.get("message")),
        ],
    )


FORMAT = Trufflehog3Format()
