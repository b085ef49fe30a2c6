"""Bandit's JSON report (``bandit -f json``), from the 1.6 shape to the current one.

The report is ``{errors, generated_at, metrics, results}``. ``metrics`` holds one entry per
scanned file, so it is never read; the results are streamed. Bandit does not write its own
version into the report, and per-file ``errors`` (a file that does not parse) do not make
the run incomplete: Bandit scanned every other file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from shieldwall.findings.vocabulary import Kind
from shieldwall.ingest import jsonstream
from shieldwall.ingest.normalize import cwe_ids, normalize_path, severity_from_text
from shieldwall.ingest.parsing import (
    description,
    dig,
    integer,
    references,
    rule,
    sequence,
    text,
    title,
)
from shieldwall.ingest.records import RawFinding, Record, ToolRun
from shieldwall.ingest.source import Head, ReportSource

TOOL = "bandit"


class BanditFormat:
    name = "bandit"
    title = "Bandit JSON"
    syntaxes = frozenset({"json"})

    def detect(self, head: Head) -> bool:
        if not (head.has("generated_at") and head.has("metrics")):
            return False
        # Keys are sorted, so the per-file metrics (``"SEVERITY.HIGH"`` counters) come before
        # the results and may fill the whole head of a big report.
        return head.has("results.item.test_id") or any(
            path.startswith("metrics.") and path.endswith(".SEVERITY.HIGH") for path in head.paths
        )

    def parse(self, source: ReportSource) -> Iterator[Record]:
        yield ToolRun(TOOL)
        for _, result in jsonstream.objects(source, "results.item"):
            yield _finding(result)


def _finding(result: Mapping[str, Any]) -> RawFinding:
    rule_id = rule(result.get("test_id") or result.get("test_name"))
    severity = text(result.get("issue_severity"))
    confidence = text(result.get("issue_confidence"))
    line = integer(result.get("line_number"))
    line_range = [n for n in (integer(v) for v in sequence(result.get("line_range"))) if n]
    return RawFinding(
        tool=TOOL,
        kind=Kind.CODE,
        rule_id=rule_id,
        title=title(result.get("issue_text"), rule_id),
        severity=severity_from_text(severity),
        tool_severity=severity,
        description=description(
            result.get("issue_text"),
            f"Confidence: {confidence}" if confidence else None,
            f"Test: {rule_id} {text(result.get('test_name')) or ''}".strip(),
        ),
        cwe_ids=cwe_ids([integer(dig(result, "issue_cwe", "id"))]),
        references=references(result.get("more_info"), dig(result, "issue_cwe", "link")),
        path=normalize_path(result.get("filename")),
        line=line,
        end_line=max(line_range) if line_range else line,
        snippet=_code_line(result.get("code"), line),
    )


def _code_line(code: object, line: int | None) -> str | None:
    """The text of line ``line`` in Bandit's ``code``: a few lines, each written as
    ``"<number> <text>"``. Only the flagged line is kept, without its number, so that the
    finding's identity survives code moving up or down the file."""
    source = text(code)
    if source is None or line is None:
        return None
    prefix = f"{line} "
    for numbered in source.splitlines():
        if numbered.startswith(prefix):
            return text(numbered[len(prefix) :])
    return None


FORMAT = BanditFormat()
