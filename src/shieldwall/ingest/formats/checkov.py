"""checkov's JSON report (``checkov -o json``): misconfigurations, secrets and packages.

checkov writes one object per framework that ran (``check_type``: terraform, kubernetes,
dockerfile, secrets, sca_package...), a list of them when several did, or only a summary
when nothing was checked. All of them are one checkov run.

A misconfiguration's identity is its resource (``aws_s3_bucket.logs``), not its line, so that
editing the file above the resource changes nothing. Severities need a Prisma Cloud key; without
one checkov writes ``null`` and the finding is medium with no tool severity. A check skipped
with a ``checkov:skip`` comment is the team's own false-positive verdict. A report in which
nothing was checked while some files failed to parse is refused: importing it as a complete
scan would close every finding of the stream although nothing was looked at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

from shieldwall.findings.vocabulary import Kind, Status
from shieldwall.ingest import jsonstream
from shieldwall.ingest.normalize import (
    build_purl,
    kind_for_package,
    normalize_path,
    severity_from_text,
    vulnerability_ids,
)
from shieldwall.ingest.parsing import (
    description,
    dig,
    integer,
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

TOOL = "checkov"
_BUCKETS = ("failed_checks", "skipped_checks")
_SKIPPED = ("passed_checks", *_BUCKETS)
_UNVALIDATED = frozenset({None, "Unavailable", "Unknown", "UNAVAILABLE", "UNKNOWN"})
_SHA1 = re.compile(r"[0-9a-f]{40}", re.IGNORECASE)
# checkov's package scans name the manifest, not the ecosystem.
_MANIFESTS = {
    "requirements.txt": "pypi",
    "pipfile": "pypi",
    "pipfile.lock": "pypi",
    "poetry.lock": "pypi",
    "pyproject.toml": "pypi",
    "package.json": "npm",
    "package-lock.json": "npm",
    "yarn.lock": "npm",
    "pnpm-lock.yaml": "npm",
    "go.mod": "golang",
    "go.sum": "golang",
    "pom.xml": "maven",
    "build.gradle": "maven",
    "build.gradle.kts": "maven",
    "gemfile": "gem",
    "gemfile.lock": "gem",
    "cargo.toml": "cargo",
    "cargo.lock": "cargo",
    "composer.json": "composer",
    "composer.lock": "composer",
    "packages.config": "nuget",
}


class CheckovFormat:
    name = "checkov"
    title = "checkov JSON"
    syntaxes = frozenset({"json"})

    def detect(self, head: Head) -> bool:
        for prefix in ("", "item."):
            if isinstance(head.value(f"{prefix}check_type"), str) and (
                head.has(f"{prefix}results") or head.has(f"{prefix}summary")
            ):
                return True
        # Nothing to check: checkov prints only its summary.
        return head.has("checkov_version") and head.has("passed") and head.has("failed")

    def parse(self, source: ReportSource) -> Iterator[Record]:
        listed = source.head().value("") == "array"
        prefix = "item." if listed else ""
        skip = {f"{prefix}results.{bucket}" for bucket in _SKIPPED}
        outline = jsonstream.outline(source, skip)
        if listed != isinstance(outline, list) or not isinstance(outline, list | Mapping):
            raise source.error("expected a checkov report object or a list of them")
        reports = [mapping(report) for report in (outline if listed else [outline])]
        yield ToolRun(TOOL, _version(reports))
        found = 0
        for bucket in _BUCKETS:
            for indices, check in jsonstream.objects(source, f"{prefix}results.{bucket}.item"):
                report = reports[indices[0]] if indices else reports[0]
                found += 1
                yield _finding(check, text(report.get("check_type")))
        if not found:
            _refuse_unparsed(source, reports)


def _version(reports: list[Mapping[str, Any]]) -> str | None:
    for report in reports:
        version = text(dig(report, "summary", "checkov_version")) or text(
            report.get("checkov_version")
        )
        if version:
            return version
    return None


def _refuse_unparsed(source: ReportSource, reports: list[Mapping[str, Any]]) -> None:
    """A run that checked nothing because files did not parse is not a clean scan."""
    names: list[str] = []
    unparsed = checked = 0
    for report in reports:
        summary = mapping(report.get("summary")) or report
        checked += sum(integer(summary.get(key)) or 0 for key in ("passed", "failed", "skipped"))
        files = strings(dig(report, "results", "parsing_errors"))
        names.extend(files)
        unparsed += (
            len(files)
            or integer(summary.get("parsing_errors"))
            or integer(summary.get("parsingerrors"))
            or 0
        )
    if unparsed and not checked:
        named = f" ({', '.join(names[:3])})" if names else ""
        raise source.error(
            f"checkov checked nothing and could not parse {unparsed} file(s){named}; "
            "nothing was imported"
        )


def _finding(check: Mapping[str, Any], check_type: str | None) -> RawFinding:
    rule_id = rule(check.get("check_id") or check.get("bc_check_id"))
    outcome = mapping(check.get("check_result"))
    vulnerability = mapping(check.get("vulnerability_details"))
    path = _path(check)
    line_range = sequence(check.get("file_line_range"))
    line = integer(dig(line_range, 0))
    resource = text(check.get("resource"))
    word = (
        text(check.get("severity"))
        or text(dig(check, "severity", "name"))
        or text(vulnerability.get("severity"))
    )
    secret = check_type == "secrets"
    component, fixed_version = _package(vulnerability, path)
    kind = Kind.SECRET if secret else Kind.IAC
    if component is not None:
        kind = (
            Kind.CONTAINER
            if vulnerability.get("package_type") == "os"
            else kind_for_package(component.purl, component.ecosystem)
        )
    skipped = text(outcome.get("result")) == "SKIPPED"
    return RawFinding(
        tool=TOOL,
        kind=kind,
        rule_id=rule_id,
        title=title(
            check.get("short_description") if component else check.get("check_name"), rule_id
        ),
        severity=severity_from_text(word),
        tool_severity=word,
        description=description(
            check.get("description"),
            vulnerability.get("description"),
            "\n".join(strings(check.get("details"))),
            # A secret's resource is the secret's SHA-1: never shown, only hashed again.
            _facts(check, None if secret else resource, vulnerability),
        ),
        vulnerability_ids=vulnerability_ids([vulnerability.get("id")]) if component else [],
        references=references(check.get("guideline"), vulnerability.get("link")),
        path=path,
        line=line,
        end_line=line if secret else integer(dig(line_range, 1)),
        context=None if secret else resource,
        secret_sha1=_secret_sha1(resource) if secret else None,
        component=component,
        fixed_version=fixed_version,
        status=Status.FALSE_POSITIVE if skipped else None,
        status_reason=(
            f"skipped in checkov: {text(outcome.get('suppress_comment')) or 'no reason given'}"
            if skipped
            else None
        ),
    )


def _path(check: Mapping[str, Any]) -> str | None:
    """checkov writes repository-relative paths with a leading ``/`` (``/main.tf``)."""
    path = normalize_path(check.get("repo_file_path") or check.get("file_path"))
    return path.lstrip("/") if path else None


def _facts(
    check: Mapping[str, Any], resource: str | None, vulnerability: Mapping[str, Any]
) -> str | None:
    validation = text(check.get("validation_status"))
    facts = [
        f"{label}: {value}"
        for label, value in (
            ("Resource", resource),
            ("Category", text(check.get("bc_category"))),
            # Prisma Cloud tries found credentials; "Unavailable" means it did not.
            ("Secret validation", None if validation in _UNVALIDATED else validation),
            ("CVSS", text(vulnerability.get("cvss"))),
        )
        if value
    ]
    return "\n".join(facts) or None


def _package(
    vulnerability: Mapping[str, Any], path: str | None
) -> tuple[RawComponent | None, str | None]:
    """The vulnerable package of an ``sca_package``/``sca_image`` result."""
    name = text(vulnerability.get("package_name"))
    if name is None or text(vulnerability.get("id")) is None:
        return None, None
    version = text(vulnerability.get("package_version"))
    ecosystem = _ecosystem(path)
    component = RawComponent(name, version, build_purl(ecosystem, name, version), ecosystem)
    fixed = text(vulnerability.get("lowest_fixed_version")) or text(
        vulnerability.get("fix_version")
    )
    return component, None if fixed is None or fixed.upper() == "N/A" else fixed


def _ecosystem(path: str | None) -> str | None:
    if path is None:
        return None
    manifest = PurePosixPath(path).name.lower()
    if manifest.startswith("requirements") and manifest.endswith(".txt"):
        return "pypi"
    if manifest.endswith(".csproj"):
        return "nuget"
    return _MANIFESTS.get(manifest)


def _secret_sha1(resource: str | None) -> str | None:
    """checkov's secrets resource is detect-secrets' SHA-1 of the secret, after the commit
    that added it when git history was scanned (``<commit>:<sha1>``)."""
    if resource is None:
        return None
    digest = resource.rsplit(":", 1)[-1]
    return digest.lower() if _SHA1.fullmatch(digest) else None


FORMAT = CheckovFormat()
