"""Semgrep's JSON report (``semgrep --json``): Semgrep Code and Semgrep Supply Chain results.

Identity has to survive Semgrep's logged-out mode, which replaces ``extra.fingerprint`` and
``extra.lines`` with "requires login". A real fingerprint (Semgrep's match-based id, which
ignores line numbers) is passed on as the tool's id; the matched code is the snippet; when
both are hidden, the values the rule's metavariables matched stand in for the code, and
failing those the importer falls back to the message with an occurrence number.

A report with no results is a clean scan, unless Semgrep also reports an error of level
``error`` (invalid rules or configuration, a crash): that run scanned nothing, and importing
it as complete would close every open finding of the stream, so it is refused. Per-file
errors (level ``warn``: a file that does not parse, a timeout) do not stop the import.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from shieldwall.findings.vocabulary import Kind, Severity, Status
from shieldwall.ingest import jsonstream
from shieldwall.ingest.normalize import (
    build_purl,
    cwe_ids,
    kind_for_package,
    lowest_fix,
    normalize_path,
    severity_from_text,
    vulnerability_ids,
)
from shieldwall.ingest.parsing import (
    description,
    dig,
    integer,
    iter_dicts,
    mapping,
    references,
    rule,
    strings,
    text,
    title,
)
from shieldwall.ingest.records import RawComponent, RawFinding, Record, ToolRun
from shieldwall.ingest.source import Head, ReportSource

TOOL = "semgrep"
_HIDDEN = "requires login"
_TOP_KEYS = frozenset(
    {
        "version",
        "results",
        "errors",
        "paths",
        "time",
        "explanations",
        "interfile_languages_used",
        "skipped_rules",
        "engine_requested",
        "rules_by_engine",
        "profiling_results",
    }
)
_BULK = frozenset(_TOP_KEYS - {"version"})
# Semgrep's rule severities before 1.7x (ERROR, WARNING, INFO) read like log levels; newer
# rules use CRITICAL/HIGH/MEDIUM/LOW, which ``severity_from_text`` already understands.
_LEVELS = {
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "info": Severity.LOW,
    "experiment": Severity.INFO,
    "inventory": Severity.INFO,
}


class SemgrepFormat:
    name = "semgrep"
    title = "Semgrep JSON (Code and Supply Chain)"
    syntaxes = frozenset({"json"})

    def detect(self, head: Head) -> bool:
        if head.has("results.item.check_id"):
            return head.has("results.item.extra") or head.has("results.item.start")
        top = head.keys()
        if "errors" not in top or not top <= _TOP_KEYS:
            return False
        # No result in the head: an empty run, or results behind a long ``paths.scanned``.
        return head.has("paths.scanned") or (head.has("results") and not head.has("results.item"))

    def parse(self, source: ReportSource) -> Iterator[Record]:
        document = mapping(jsonstream.outline(source, _BULK))
        yield ToolRun(TOOL, text(document.get("version")))
        found = 0
        for _, result in jsonstream.objects(source, "results.item"):
            found += 1
            yield _finding(result)
        if not found:
            fatal = _fatal_error(source)
            if fatal is not None:
                raise source.error(
                    f"Semgrep reports no results and a failed run ({fatal}); nothing was imported"
                )


def _finding(result: Mapping[str, Any]) -> RawFinding:
    extra = mapping(result.get("extra"))
    metadata = mapping(extra.get("metadata"))
    rule_id = rule(result.get("check_id"))
    message = text(extra.get("message"))
    severity, tool_severity = _severity(extra, metadata)
    dependency = _Dependency(extra, metadata)
    status, reason = (
        (Status.FALSE_POSITIVE, "ignored in the source with a nosemgrep comment")
        if extra.get("is_ignored") is True
        else (None, None)
    )
    snippet = _visible(extra.get("lines"))
    fingerprint = _visible(extra.get("fingerprint"))
    return RawFinding(
        tool=TOOL,
        kind=dependency.kind,
        rule_id=rule_id,
        title=title(message.splitlines()[0] if message else None, rule_id),
        severity=severity,
        tool_severity=tool_severity,
        description=description(message, *dependency.facts(), *_facts(extra, metadata)),
        cwe_ids=cwe_ids(strings(metadata.get("cwe"))),
        vulnerability_ids=dependency.vulnerability_ids,
        references=references(
            metadata.get("source"),
            strings(metadata.get("references")),
            metadata.get("shortlink"),
        ),
        path=normalize_path(result.get("path")),
        line=integer(dig(result, "start", "line")),
        end_line=integer(dig(result, "end", "line")),
        snippet=snippet,
        context=None if snippet else _metavariables(extra),
        tool_fingerprints={"fingerprint": fingerprint} if fingerprint else {},
        component=dependency.component,
        fixed_version=dependency.fixed_version,
        status=status,
        status_reason=reason,
    )


class _Dependency:
    """What a Supply Chain result (``extra.sca_info``) says about the vulnerable package."""

    def __init__(self, extra: Mapping[str, Any], metadata: Mapping[str, Any]) -> None:
        self.sca = mapping(extra.get("sca_info"))
        self.match = mapping(self.sca.get("dependency_match"))
        found = mapping(self.match.get("found_dependency"))
        name = text(found.get("package"))
        self.component: RawComponent | None = None
        self.fixed_version: str | None = None
        self.vulnerability_ids: list[str] = []
        self.kind = Kind.CODE
        self.transitivity = text(found.get("transitivity"))
        self.lockfile = text(found.get("lockfile_path")) or text(self.match.get("lockfile"))
        if name is None:
            return
        version = text(found.get("version"))
        ecosystem = text(found.get("ecosystem")) or text(
            dig(self.match, "dependency_pattern", "ecosystem")
        )
        purl = build_purl(ecosystem, name, version)
        self.component = RawComponent(name, version, purl, ecosystem)
        self.kind = kind_for_package(purl, ecosystem)
        self.vulnerability_ids = vulnerability_ids(
            [
                *strings(metadata.get("sca-vuln-database-identifier")),
                *strings(metadata.get("cve")),
                *strings(metadata.get("ghsa")),
            ]
        )
        self.fixed_version = _fix_version(metadata.get("sca-fix-versions"), name, version)

    def facts(self) -> list[str]:
        if self.component is None:
            return []
        facts = [f"Package: {self.component.name} {self.component.version or ''}".rstrip()]
        if self.lockfile:
            facts.append(f"Lockfile: {self.lockfile}")
        if self.transitivity:
            facts.append(f"Dependency: {self.transitivity}")
        if self.sca.get("reachability_rule") is True:
            reachable = self.sca.get("reachable") is True
            facts.append(
                "Reachable: yes, the code uses the vulnerable part of the package"
                if reachable
                else "Reachable: no use of the vulnerable part of the package was found"
            )
        return ["\n".join(facts)]


def _severity(extra: Mapping[str, Any], metadata: Mapping[str, Any]) -> tuple[Severity, str | None]:
    """Supply Chain advisories carry the advisory's own severity (``sca-severity``: CRITICAL,
    HIGH, MODERATE, LOW), more telling than the rule's level."""
    word = text(metadata.get("sca-severity")) or text(extra.get("severity"))
    if word is None:
        return Severity.MEDIUM, None
    return _LEVELS.get(word.lower()) or severity_from_text(word), word


def _facts(extra: Mapping[str, Any], metadata: Mapping[str, Any]) -> list[str]:
    facts = [
        f"{label}: {value}"
        for label, value in (
            ("Confidence", text(metadata.get("confidence"))),
            ("Likelihood", text(metadata.get("likelihood"))),
            ("Impact", text(metadata.get("impact"))),
            ("OWASP", "; ".join(strings(metadata.get("owasp"))) or None),
            ("Validation", _validation(extra.get("validation_state"))),
            ("Suggested fix", text(extra.get("fix"))),
        )
        if value
    ]
    return ["\n".join(facts)] if facts else []


def _validation(state: object) -> str | None:
    """Semgrep Secrets checks whether a found credential works: CONFIRMED_VALID matters."""
    value = text(state)
    if value is None or value.upper() == "NO_VALIDATOR":
        return None
    return value.lower().replace("_", " ")


def _visible(value: object) -> str | None:
    """The value unless logged-out Semgrep hid it."""
    found = text(value)
    return None if found is None or found.lower() == _HIDDEN else found


def _metavariables(extra: Mapping[str, Any]) -> str | None:
    """What the rule's metavariables matched, sorted: the matched code's stand-in when the
    code itself is hidden (it names the same expression wherever it moves in the file)."""
    values = sorted(
        value
        for value in (
            text(mapping(metavar).get("abstract_content"))
            for metavar in mapping(extra.get("metavars")).values()
        )
        if value
    )
    return " | ".join(values) or None


def _fix_version(fixes: object, package: str, installed: str | None) -> str | None:
    """``sca-fix-versions`` is a list of ``{package: version}``, one per fixed release line
    (``semver`` is fixed in 7.5.2 and in 6.3.1): the fix is the lowest one above the
    installed version."""
    candidates = [
        found
        for entry in iter_dicts(fixes)
        for key, value in entry.items()
        if key.lower() == package.lower() and (found := text(value))
    ]
    return lowest_fix(candidates, installed)


def _fatal_error(source: ReportSource) -> str | None:
    """The first error Semgrep rates ``error`` (not a per-file ``warn``), as one line."""
    for _, error in jsonstream.objects(source, "errors.item"):
        if text(error.get("level")) == "error":
            kind = text(error.get("type")) or "error"
            message = text(error.get("message"))
            return title(f"{kind}: {message}" if message else kind)[:300]
    return None


FORMAT = SemgrepFormat()
