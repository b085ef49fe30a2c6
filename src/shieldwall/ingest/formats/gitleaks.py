"""gitleaks JSON reports: v8 (``RuleID``, ``Secret``, ``File``...) and v7 (``rule``,
``offender``, ``file``...), a top-level array streamed one finding at a time.

Redacted reports (``gitleaks --redact``) carry no secret: ``Secret``, ``Match`` and
``offender`` are "REDACTED", or with ``--redact=N`` a prefix of the secret followed by "...".
Such findings are kept without a secret value, so their identity falls back to the rule, the
path and the line (see identity.py): a redacted secret that moves to another line is a new
finding, and a v7 report without ``lineNumber`` identifies it by rule and path only.

An empty scan is ``[]`` in v8; gitleaks v7 wrote ``null``, which is imported as a clean
scan only with ``--format gitleaks`` (see ``shieldwall.ingest.registry``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from shieldwall.ingest import jsonstream
from shieldwall.ingest.normalize import normalize_path
from shieldwall.ingest.parsing import integer, rule, strings, text, title
from shieldwall.ingest.records import RawFinding, Record, ToolRun
from shieldwall.ingest.secrets import secret_finding, secret_value
from shieldwall.ingest.source import Head, ReportSource

_TOOL = "gitleaks"


class GitleaksFormat:
    name = "gitleaks"
    title = "gitleaks JSON (v7 and v8)"
    syntaxes = frozenset({"json"})
    empty_tool = _TOOL  # gitleaks v7 writes null when it finds nothing

    def detect(self, head: Head) -> bool:
        """The shape of the first findings; an empty array is claimed too (a clean v8 scan),
        which makes ``[]`` ambiguous without ``--format`` rather than silently attributed."""
        if head.value("") != "array":
            return False
        v8 = all(head.has(f"item.{key}") for key in ("RuleID", "Secret", "File"))
        v7 = all(head.has(f"item.{key}") for key in ("rule", "offender", "file"))
        return v8 or v7 or head.is_empty_array()

    def parse(self, source: ReportSource) -> Iterator[Record]:
        if source.head().value("") != "array":
            raise source.error("a gitleaks report is a JSON array of findings")
        yield ToolRun(_TOOL)
        for _, item in jsonstream.objects(source, "item"):
            if "RuleID" in item:
                yield _v8(item)
            elif "rule" in item or "offender" in item:
                yield _v7(item)


def _v8(item: Mapping[str, Any]) -> RawFinding:
    rule_id = rule(item.get("RuleID"))
    secret = secret_value(item.get("Secret"))
    if secret is not None and secret.endswith("..."):
        secret = None  # --redact=N keeps a prefix of the secret: hashing it would mislead
    return secret_finding(
        tool=_TOOL,
        rule_id=rule_id,
        title=title(item.get("Description"), rule_id),
        secret=secret,
        path=normalize_path(item.get("File")),
        line=integer(item.get("StartLine")),
        end_line=integer(item.get("EndLine")),
        facts=[
            ("Rule", rule_id),
            ("Commit", item.get("Commit")),
            ("Author", _author(item.get("Author"), item.get("Email"))),
            ("Date", item.get("Date")),
            ("Commit message", item.get("Message")),
            ("Tags", ", ".join(strings(item.get("Tags")))),
        ],
        links=[item.get("Link")],
    )


def _v7(item: Mapping[str, Any]) -> RawFinding:
    rule_id = rule(item.get("rule"))
    date = text(item.get("date"))
    return secret_finding(
        tool=_TOOL,
        rule_id=rule_id,
        title=title(item.get("rule"), rule_id),
        secret=secret_value(item.get("offender")),
        path=normalize_path(item.get("file")),
        line=integer(item.get("lineNumber")),
        facts=[
            ("Repository", item.get("repoURL")),
            ("Commit", item.get("commit")),
            ("Author", _author(item.get("author"), item.get("email"))),
            # Go's zero time: the finding is not from the history.
            ("Date", None if date and date.startswith("0001-01-01") else date),
            ("Commit message", item.get("commitMessage")),
            ("Tags", item.get("tags")),
        ],
        links=[item.get("leakURL")],
    )


def _author(name: object, email: object) -> str | None:
    found_name, found_email = text(name), text(email)
    if found_name and found_email:
        return f"{found_name} <{found_email}>"
    return found_name or found_email


FORMAT = GitleaksFormat()
