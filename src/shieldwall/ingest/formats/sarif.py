"""SARIF 2.1.0 from any tool (CodeQL, Semgrep, Bandit, gitleaks, checkov, Trivy, Grype...).

Two passes over the file: the outline (each run's tool, rules, base URIs and artifacts,
without its results) and then the results one at a time, each paired with its run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from shieldwall.findings.vocabulary import Kind, Severity, Status
from shieldwall.ingest import jsonstream
from shieldwall.ingest.normalize import (
    build_purl,
    component_from_purl,
    cwe_ids,
    kind_for_package,
    normalize_path,
    severity_from_score,
    severity_from_text,
    tool_name,
    vulnerability_ids,
)
from shieldwall.ingest.parsing import (
    description,
    dig,
    integer,
    iter_dicts,
    labelled_lines,
    mapping,
    references,
    rule,
    sequence,
    strings,
    text,
    title,
)
from shieldwall.ingest.records import RawComponent, RawFinding, Record, ToolRun
from shieldwall.ingest.source import Head, ReportSource

_RUN_BULK = (
    "results",
    "invocations",
    "threadFlowLocations",
    "graphs",
    "logicalLocations",
    "webRequests",
    "webResponses",
    "addresses",
    "notifications",
)
_SKIPPED_KINDS = frozenset({"pass", "notApplicable", "informational"})
_LEVELS = {
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "note": Severity.LOW,
    "none": Severity.INFO,
}

SECRET_TOOLS = frozenset(
    {
        "gitleaks",
        "trufflehog",
        "detect-secrets",
        "ggshield",
        "gitguardian",
        "secretlint",
        "betterleaks",
        "kingfisher",
        "noseyparker",
        "whispers",
        "shieldwall-secrets",
    }
)
IAC_TOOLS = frozenset(
    {
        "checkov",
        "tfsec",
        "kics",
        "terrascan",
        "tflint",
        "kube-linter",
        "kubescape",
        "cfn-lint",
        "cfn_nag",
        "hadolint",
        "dockle",
        "snyk-iac",
        "trivy-config",
        "defsec",
    }
)
DEPENDENCY_TOOLS = frozenset(
    {
        "trivy",
        "grype",
        "dependency-check",
        "osv-scanner",
        "snyk",
        "snyk-open-source",
        "npm-audit",
        "pip-audit",
        "retire.js",
        "blackduck",
        "dependabot",
        "shieldwall-deps",
    }
)
WEB_TOOLS = frozenset({"zap", "owasp-zap", "burp", "burp-suite", "nuclei", "nikto", "arachni"})

_VULN_IN_TEXT = re.compile(
    r"\b(CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|PYSEC-\d{4}-\d+|GO-\d{4}-\d+|RUSTSEC-\d{4}-\d+)",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"\{(\d+)\}")


class SarifFormat:
    name = "sarif"
    title = "SARIF 2.1.0 (any tool)"
    syntaxes = frozenset({"json"})

    def detect(self, head: Head) -> bool:
        schema = str(head.value("$schema") or "").lower()
        return head.has("runs") and (head.value("version") == "2.1.0" or "sarif" in schema)

    def parse(self, source: ReportSource) -> Iterator[Record]:
        skip = {f"runs.item.{key}" for key in _RUN_BULK}
        document = mapping(jsonstream.outline(source, skip))
        version = document.get("version")
        if version != "2.1.0":
            raise source.error(f"SARIF version {version!r} is not supported (only 2.1.0)")
        runs = [_Run(run) for run in sequence(document.get("runs"))]
        for run in runs:
            yield ToolRun(run.tool, run.version)
            # Shieldwall's dependency run lists every locked package, vulnerable or not.
            for purl in strings(dig(run.properties, "components")):
                component = component_from_purl(purl)
                if component is not None:
                    yield component
        for (run_index,), result in jsonstream.objects(source, "runs.item.results.item"):
            if 0 <= run_index < len(runs):
                finding = runs[run_index].finding(result)
                if finding is not None:
                    yield finding


_NO_RULE: Mapping[str, Any] = {}
_KEY_TYPES = (str, int, type(None))
_MAX_CACHED = 100_000
"""Entries of each of a run's caches: a hostile report can make every reference distinct."""


# A result's own confidence (Shieldwall's secrets run: high, medium, low), else its rule's
# precision on SARIF's scale, whose top step is what Shieldwall calls high.
_CONFIDENCE = {"high": "high", "medium": "medium", "low": "low"}
_PRECISION = {"very-high": "high", "high": "medium", "medium": "low", "low": "low"}


@dataclass(frozen=True)
class _RuleFacts:
    short: str | None
    description: str | None
    cwe_ids: list[str]
    references: list[str]
    tags: frozenset[str]
    kind: Kind
    severity: tuple[Severity, str | None]
    by_level: bool
    """The severity comes from the rule's default level, not a score or word."""
    labels: dict[str, str]
    """``Key: value`` lines of the rule's help and description (Trivy, Grype: the package)."""
    confidence: str | None
    """From the rule's SARIF ``precision`` (very-high, high, medium, low)."""


def _severity(
    properties: Mapping[str, Any], fallback: tuple[Severity, str | None]
) -> tuple[Severity, str | None]:
    """GitHub's ``security-severity`` score, else a ``severity`` word, else the fallback."""
    score = properties.get("security-severity")
    if isinstance(score, int | float | str) and not isinstance(score, bool):
        try:
            return severity_from_score(float(score)), str(score)
        except ValueError:
            pass
    word = text(properties.get("severity"))
    if word:
        return severity_from_text(word), word
    return fallback


class _Run:
    def __init__(self, run: Any) -> None:
        driver = mapping(dig(run, "tool", "driver"))
        self.properties = mapping(dig(run, "properties"))
        self.tool = tool_name(driver.get("name"), "sarif")
        self.version = text(driver.get("semanticVersion")) or text(driver.get("version"))
        components = [driver, *iter_dicts(dig(run, "tool", "extensions"))]
        self.rules: dict[str, Mapping[str, Any]] = {}
        self.indexed: dict[tuple[int, int], Mapping[str, Any]] = {}
        for component_index, component in enumerate(components):
            for rule_index, entry in enumerate(iter_dicts(component.get("rules"))):
                self.indexed[(component_index - 1, rule_index)] = entry
                for key in (text(entry.get("id")), text(entry.get("name"))):
                    if key:
                        self.rules.setdefault(key, entry)
        self.bases = [
            uri
            for uri in (
                text(dig(base, "uri")) for base in mapping(dig(run, "originalUriBaseIds")).values()
            )
            if uri and uri.startswith("file:")
        ]
        self._facts_cache: dict[int, _RuleFacts] = {}
        self._references: dict[tuple[Any, ...], tuple[Mapping[str, Any], _RuleFacts, str]] = {}
        self._paths: dict[str, str | None] = {}
        self.artifacts = [
            text(dig(artifact, "location", "uri"))
            for artifact in sequence(mapping(run).get("artifacts"))
        ]

    def finding(self, result: Mapping[str, Any]) -> RawFinding | None:
        if result.get("kind") in _SKIPPED_KINDS or result.get("baselineState") == "absent":
            return None
        entry, facts, rule_id = self._reference(result)
        properties = mapping(result.get("properties"))
        message = self._message(result, entry)
        location = mapping(dig(result, "locations", 0, "physicalLocation"))
        region = mapping(location.get("region"))
        snippet = text(dig(region, "snippet", "text")) or text(
            dig(location, "contextRegion", "snippet", "text")
        )
        severity, tool_severity = facts.severity
        level = text(result.get("level"))
        if level and facts.by_level:  # a result's level beats its rule's default level
            severity, tool_severity = _LEVELS.get(level, Severity.MEDIUM), level
        kind, cwes, confidence = facts.kind, facts.cwe_ids, facts.confidence
        if properties or result.get("taxa"):
            # Rare: the result overrides what its rule says.
            severity, tool_severity = _severity(properties, (severity, tool_severity))
            tags = {t.lower() for t in strings(properties.get("tags"))}
            kind = self._kind(facts.tags | tags) if tags else kind
            extra = [*strings(properties.get("cwe")), *_taxa_cwes(result.get("taxa"))]
            cwes = cwe_ids([*cwes, *extra]) if extra else cwes
            confidence = _CONFIDENCE.get(str(properties.get("confidence")).lower(), confidence)
        vuln_ids: list[str] = []
        component = None
        fixed_version = None
        if kind is Kind.DEPENDENCY:
            vuln_ids = vulnerability_ids(
                [
                    *(_VULN_IN_TEXT.findall(rule_id) or _VULN_IN_TEXT.findall(message or "")),
                    # Shieldwall's dependency run names the advisory's aliases, so that its
                    # GHSA/PYSEC/GO ids meet other tools' CVE of the same vulnerability.
                    *_VULN_IN_TEXT.findall(labelled_lines(message).get("aliases", "")),
                ]
            )
            if vuln_ids:
                component, fixed_version = _component(message, facts.labels)
                if component is not None:
                    kind = kind_for_package(component.purl, component.ecosystem)
            else:
                kind = Kind.CODE
        first_line = message.strip().splitlines()[0][:300] if message and message.strip() else None
        status, reason = _suppression(result)
        return RawFinding(
            tool=self.tool,
            kind=kind,
            rule_id=rule_id,
            title=title(first_line or facts.short, rule_id),
            severity=severity,
            tool_severity=tool_severity,
            description=description(message, facts.description),
            cwe_ids=cwes,
            vulnerability_ids=vuln_ids,
            references=facts.references,
            path=self._path(location),
            line=integer(region.get("startLine")),
            end_line=integer(region.get("endLine")),
            snippet=snippet,
            tool_fingerprints=_string_map(
                result.get("fingerprints"), result.get("partialFingerprints")
            ),
            component=component,
            fixed_version=fixed_version,
            secret=(
                text(properties.get("offender")) or text(properties.get("secret")) or snippet
                if kind is Kind.SECRET
                else None
            ),
            # Shieldwall's own secrets run gives no secret, only its SHA-1 (as detect-secrets).
            secret_sha1=text(properties.get("secretSha1")) if kind is Kind.SECRET else None,
            status=status,
            status_reason=reason,
            confidence=confidence,
        )

    def _facts(self, entry: Mapping[str, Any]) -> _RuleFacts:
        """What a rule says about all its results, worked out once per rule."""
        facts = self._facts_cache.get(id(entry))
        if facts is None:
            properties = mapping(entry.get("properties"))
            tags = frozenset(t.lower() for t in strings(properties.get("tags")))
            short = text(dig(entry, "shortDescription", "text"))
            rule_id = text(entry.get("id")) or ""
            if short and rule_id and rule_id in short:
                short = None  # "Semgrep Finding: <rule id>" says nothing the rule id does not
            level = text(dig(entry, "defaultConfiguration", "level")) or "warning"
            severity = _severity(properties, (_LEVELS.get(level, Severity.MEDIUM), level))
            facts = _RuleFacts(
                short=short or text(entry.get("name")),
                description=text(dig(entry, "fullDescription", "text")),
                cwe_ids=cwe_ids(
                    [
                        *strings(properties.get("tags")),
                        *strings(properties.get("cwe")),
                        *_taxa_cwes(entry.get("relationships"), "target"),
                    ]
                ),
                references=references(entry.get("helpUri"), *strings(properties.get("references"))),
                tags=tags,
                kind=self._kind(tags),
                severity=severity,
                by_level=severity[1] == level,
                labels=labelled_lines(
                    dig(entry, "help", "text"), dig(entry, "fullDescription", "text")
                ),
                confidence=_PRECISION.get(str(properties.get("precision")).lower()),
            )
            self._facts_cache[id(entry)] = facts
        return facts

    def _reference(self, result: Mapping[str, Any]) -> tuple[Mapping[str, Any], _RuleFacts, str]:
        """The rule a result refers to, what the rule says, and the result's rule id: worked
        out once per distinct reference (a run's results repeat a few)."""
        reference = mapping(result.get("rule"))
        key = (
            result.get("ruleId"),
            result.get("ruleIndex", reference.get("index")),
            dig(reference, "toolComponent", "index"),
            reference.get("id"),
        )
        # Plain str, int and None only: as dict keys True, 1 and 1.0 are one, as references
        # they are not.
        cacheable = (
            type(key[0]) in _KEY_TYPES
            and type(key[1]) in _KEY_TYPES
            and type(key[2]) in _KEY_TYPES
            and type(key[3]) in _KEY_TYPES
        )
        found = self._references.get(key) if cacheable else None
        if found is None:
            entry = self._rule(result)
            found = (entry, self._facts(entry), rule(key[0] or key[3] or entry.get("id")))
            if cacheable and len(self._references) < _MAX_CACHED:
                self._references[key] = found
        return found

    def _rule(self, result: Mapping[str, Any]) -> Mapping[str, Any]:
        """The rule a result refers to (by index, then by id), or an empty rule."""
        reference = mapping(result.get("rule"))
        index = _index(result.get("ruleIndex", reference.get("index")))
        if index is not None:
            component = _index(dig(reference, "toolComponent", "index"))
            found = self.indexed.get((-1 if component is None else component, index))
            if found is not None:
                return found
        rule_id = text(result.get("ruleId")) or text(reference.get("id"))
        if rule_id:
            return self.rules.get(rule_id) or self.rules.get(rule_id.split("/")[0]) or _NO_RULE
        return _NO_RULE

    def _message(self, result: Mapping[str, Any], entry: Mapping[str, Any]) -> str | None:
        message = mapping(result.get("message"))
        body = text(message.get("text"))
        if body is None and text(message.get("id")):
            body = text(dig(entry, "messageStrings", message["id"], "text"))
        if body is None:
            return None
        arguments = strings(message.get("arguments")) if "arguments" in message else None
        if arguments:
            body = _PLACEHOLDER.sub(
                lambda m: (
                    arguments[int(m.group(1))] if int(m.group(1)) < len(arguments) else m.group(0)
                ),
                body,
            )
        return body

    def _kind(self, tags: frozenset[str] | set[str]) -> Kind:
        if self.tool in SECRET_TOOLS or "secret" in tags or "secrets" in tags:
            return Kind.SECRET
        if self.tool in IAC_TOOLS or "misconfiguration" in tags or "iac" in tags:
            return Kind.IAC
        if self.tool in DEPENDENCY_TOOLS or "vulnerability" in tags:
            return Kind.DEPENDENCY
        if self.tool in WEB_TOOLS:
            return Kind.WEB
        return Kind.CODE

    def _path(self, location: Mapping[str, Any]) -> str | None:
        artifact = mapping(location.get("artifactLocation"))
        uri = text(artifact.get("uri"))
        index = _index(artifact.get("index"))
        if uri is None and index is not None and index < len(self.artifacts):
            uri = self.artifacts[index]
        if uri is None:
            return None
        if uri in self._paths:  # a run's results are in far fewer files
            return self._paths[uri]
        relative = uri
        for base in self.bases:
            # An absolute URI under a declared root (the CI checkout) becomes repo-relative.
            if relative.startswith(base):
                relative = relative[len(base) :]
                break
        path = normalize_path(relative)
        if len(self._paths) < _MAX_CACHED:
            self._paths[uri] = path
        return path


def _component(
    message: str | None, rule_labels: dict[str, str]
) -> tuple[RawComponent | None, str | None]:
    """Trivy and Grype write the package into the message or rule help as ``Key: value``;
    the message's lines win."""
    labels = {**rule_labels, **labelled_lines(message)}
    fixed = labels.get("fixed version") or labels.get("fix version")
    named = component_from_purl(labels.get("purl"))
    if named is not None:
        return named, fixed
    name = labels.get("package") or labels.get("pkgname")
    if not name:
        return None, None
    version = labels.get("installed version") or labels.get("version")
    ecosystem = labels.get("type")
    component = RawComponent(
        name=name, version=version, purl=build_purl(ecosystem, name, version), ecosystem=ecosystem
    )
    return component, fixed


def _suppression(result: Mapping[str, Any]) -> tuple[Status | None, str | None]:
    suppressions = result.get("suppressions")
    if not suppressions:  # most results: no need to start the loop
        return None, None
    for suppression in iter_dicts(suppressions):
        state = suppression.get("status")
        if state in (None, "accepted"):
            how = text(suppression.get("kind")) or "suppressed"
            why = text(suppression.get("justification"))
            reason = f"suppressed by the tool ({how})" + (f": {why}" if why else "")
            return Status.FALSE_POSITIVE, reason
    return None, None


def _taxa_cwes(values: object, key: str | None = None) -> list[str]:
    found: list[str] = []
    for value in iter_dicts(values):
        target = mapping(value.get(key)) if key else value
        component = str(dig(target, "toolComponent", "name") or "").upper()
        identifier = text(target.get("id"))
        if identifier and (component == "CWE" or identifier.upper().startswith("CWE")):
            found.append(
                identifier if identifier.upper().startswith("CWE") else f"CWE-{identifier}"
            )
    return found


def _index(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _string_map(*values: object) -> dict[str, str]:
    """The string members of JSON objects, merged (a later object's win)."""
    return {str(k): v for value in values for k, v in mapping(value).items() if isinstance(v, str)}


FORMAT = SarifFormat()
