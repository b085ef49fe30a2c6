"""Trivy JSON: ``SchemaVersion: 2`` reports, the legacy top-level list, and Kubernetes reports.

A report is a list of results, one per target (an image's OS, a lockfile, a Dockerfile...),
each with bulky arrays of vulnerabilities, misconfigurations, secrets and packages. The
outline (targets without those arrays) is read first; then each array is streamed, and the
index of its enclosing result says which target an item belongs to. Kubernetes reports
(``trivy k8s``) hold the same results under each resource (``Resources`` in current versions,
``Vulnerabilities``/``Misconfigurations`` in older ones).

License results are not imported: a license policy is not a security finding in Shieldwall's
model (there is no license kind); package licenses are kept on the components instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from shieldwall.findings.vocabulary import Kind, Status
from shieldwall.ingest import jsonstream
from shieldwall.ingest.normalize import (
    build_purl,
    cwe_ids,
    first_positive_score,
    kind_for_package,
    lowest_fix,
    normalize_path,
    rated_severity,
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

_TOOL = "trivy"
_SCHEMA_RESULTS: tuple[str, ...] = ("Results.item",)
_LEGACY_RESULTS: tuple[str, ...] = ("item",)
_KUBERNETES_RESULTS: tuple[str, ...] = (
    "Resources.item.Results.item",
    "Vulnerabilities.item.Results.item",
    "Misconfigurations.item.Results.item",
)
_KUBERNETES_GROUPS = frozenset({"Resources", "Vulnerabilities", "Misconfigurations"})
_NOT_IMPORTED = ("Licenses", "CustomResources")
_VENDOR_NOTES = {
    "will_not_fix": "The vendor will not fix it (Trivy status will_not_fix).",
    "fix_deferred": "The vendor deferred the fix (Trivy status fix_deferred).",
    "end_of_life": "The vendor no longer supports this release (Trivy status end_of_life).",
    "under_investigation": "The vendor is still investigating (Trivy status under_investigation).",
}
# --show-suppressed: what .trivyignore or a VEX document did to a finding.
_MODIFIED_STATUSES = {
    "ignored": Status.FALSE_POSITIVE,
    "not_affected": Status.NOT_AFFECTED,
    "fixed": Status.NOT_AFFECTED,  # VEX "fixed": this product already contains the fix
}


class TrivyFormat:
    name = "trivy"
    title = "Trivy JSON (schema 2, legacy list, Kubernetes)"
    syntaxes = frozenset({"json"})
    empty_tool = _TOOL  # legacy Trivy wrote null when it found nothing

    def detect(self, head: Head) -> bool:
        if head.value("") == "array":
            return head.has("item.Target") and (
                head.has("item.Vulnerabilities") or head.has("item.Type")
            )
        if head.has("SchemaVersion"):
            return bool(head.keys("") & {"Results", "ArtifactName", "ArtifactType"})
        return head.has("ClusterName") and bool(head.keys("") & _KUBERNETES_GROUPS)

    def parse(self, source: ReportSource) -> Iterator[Record]:
        head = source.head()
        if head.value("") == "array":
            prefixes = _LEGACY_RESULTS
        elif head.has("SchemaVersion"):
            version = head.value("SchemaVersion")
            if version != 2:
                raise source.error(f"Trivy schema version {version!r} is not supported (only 2)")
            prefixes = _SCHEMA_RESULTS
        else:
            prefixes = _KUBERNETES_RESULTS
        document = jsonstream.outline(source, _bulk(prefixes))
        for group in {prefix.split(".")[0] for prefix in prefixes} - {"item"}:
            if mapping(document).get(group) is not None and not isinstance(document[group], list):
                # Importing it as "no vulnerabilities" would close every open finding.
                raise source.error(f"`{group}` is not a list: not a Trivy report")
        yield ToolRun(_TOOL, text(dig(document, "Trivy", "Version")))
        for prefix in prefixes:
            targets = {
                indices: _Target.of(result, resource)
                for indices, resource, result in _located(document, prefix.split("."))
            }
            for category, read in _READERS.items():
                if not any(isinstance(t.arrays.get(category), list) for t in targets.values()):
                    continue  # saves a pass over the file
                for indices, item in jsonstream.objects(source, f"{prefix}.{category}.item"):
                    target = targets.get(indices)
                    if target is not None:
                        record = read(item, target)
                        if record is not None:
                            yield record


def _bulk(prefixes: tuple[str, ...]) -> set[str]:
    """What the outline leaves out: the items of each result's arrays (their now empty lists
    still say which arrays a result has) and what is never imported."""
    skip = {"Metadata", "Resources.item.Metadata"}
    for prefix in prefixes:
        skip |= {f"{prefix}.{category}.item" for category in _READERS}
        skip |= {f"{prefix}.{key}" for key in _NOT_IMPORTED}
    return skip


def _located(
    value: Any, parts: list[str], indices: tuple[int, ...] = (), resource: Any = None
) -> Iterator[tuple[tuple[int, ...], Any, Any]]:
    """The elements at an ijson prefix in the outline, with the indices ``jsonstream.items``
    reports for their children and, in Kubernetes reports, the resource they belong to."""
    if not parts:
        yield indices, resource, value
        return
    key, *rest = parts
    if key == "item":
        for index, element in enumerate(sequence(value)):
            outer = element if rest else resource
            yield from _located(element, rest, (*indices, index), outer)
    else:
        yield from _located(mapping(value).get(key), rest, indices, resource)


@dataclass(frozen=True, slots=True)
class _Target:
    path: str | None
    result_class: str | None
    ecosystem: str | None
    resource: str | None
    """``namespace/Kind/name`` of the Kubernetes resource the result is about."""
    arrays: Mapping[str, Any]

    @classmethod
    def of(cls, result: Any, resource: Any) -> _Target:
        result = mapping(result)
        address = "/".join(
            part
            for part in (text(dig(resource, key)) for key in ("Namespace", "Kind", "Name"))
            if part
        )
        return cls(
            path=normalize_path(result.get("Target")),
            result_class=text(result.get("Class")),
            ecosystem=text(result.get("Type")),
            resource=address or None,
            arrays=result,
        )

    def purl(self, name: str, version: str | None) -> str | None:
        return build_purl(self.ecosystem, name, version, distribution=self.ecosystem)

    def package_kind(self, purl: str | None) -> Kind:
        if self.result_class == "os-pkgs":
            return Kind.CONTAINER
        if self.result_class == "lang-pkgs":
            return Kind.DEPENDENCY
        return kind_for_package(purl, self.ecosystem)


def _package(item: Mapping[str, Any], target: _Target) -> RawComponent | None:
    name = text(item.get("Name"))
    if name is None:
        return None
    version = text(item.get("Version"))
    if version and text(item.get("Release")):
        version = f"{version}-{item['Release']}"
    epoch = integer(item.get("Epoch"))
    if version and epoch:
        version = f"{epoch}:{version}"
    return RawComponent(
        name=name,
        version=version,
        purl=text(dig(item, "Identifier", "PURL")) or target.purl(name, version),
        ecosystem=target.ecosystem,
        licenses=tuple(strings(item.get("Licenses"))),
    )


def _vulnerability(item: Mapping[str, Any], target: _Target) -> RawFinding | None:
    vuln_id = text(item.get("VulnerabilityID"))
    name = text(item.get("PkgName"))
    ids = vulnerability_ids([vuln_id, *strings(item.get("VendorIDs"))])
    if not ids or name is None:
        return None  # nothing to act on (old Trivy wrote entries with only a package name)
    version = text(item.get("InstalledVersion"))
    purl = text(dig(item, "PkgIdentifier", "PURL")) or target.purl(name, version)
    fixed = text(item.get("FixedVersion"))
    vendor_status = text(item.get("Status"))
    severity, tool_severity = rated_severity(
        text(item.get("Severity")), _cvss_score(item, text(item.get("SeveritySource")))
    )
    not_affected = vendor_status == "not_affected"
    source = text(dig(item, "DataSource", "Name")) or text(item.get("SeveritySource"))
    return RawFinding(
        tool=_TOOL,
        kind=target.package_kind(purl),
        rule_id=rule(vuln_id or ids[0]),
        title=title(text(item.get("Title")) or f"{vuln_id or ids[0]} in {name} {version or ''}"),
        severity=severity,
        tool_severity=tool_severity,
        description=description(item.get("Description"), _VENDOR_NOTES.get(vendor_status or "")),
        cwe_ids=cwe_ids(strings(item.get("CweIDs"))),
        vulnerability_ids=ids,
        references=references(item.get("PrimaryURL"), strings(item.get("References"))),
        path=normalize_path(item.get("PkgPath")) or target.path,
        component=RawComponent(name=name, version=version, purl=purl, ecosystem=target.ecosystem),
        fixed_version=lowest_fix([fixed], version) if fixed else None,
        status=Status.NOT_AFFECTED if not_affected else None,
        status_reason=(
            f"not affected according to {source or 'the vendor'} (Trivy status not_affected)"
            if not_affected
            else None
        ),
    )


def _misconfiguration(item: Mapping[str, Any], target: _Target) -> RawFinding | None:
    state = text(item.get("Status")) or "FAIL"
    if state not in ("FAIL", "EXCEPTION"):
        return None  # PASS, listed with --include-non-failures
    rule_id = rule(item.get("AVDID") or item.get("ID"))  # AVDID is Trivy's own stable id
    cause = mapping(item.get("CauseMetadata"))
    word = text(item.get("Severity"))
    resolution = text(item.get("Resolution"))
    return RawFinding(
        tool=_TOOL,
        kind=Kind.IAC,
        rule_id=rule_id,
        title=title(item.get("Title"), rule_id),
        severity=severity_from_text(word),
        tool_severity=word,
        description=description(
            item.get("Message"),
            item.get("Description"),
            resolution and f"Resolution: {resolution}",
        ),
        references=references(item.get("PrimaryURL"), strings(item.get("References"))),
        path=target.path,
        line=integer(cause.get("StartLine")),
        end_line=integer(cause.get("EndLine")),
        # The resource address survives edits of its body and line moves; Kubernetes
        # results have none, and a Dockerfile check may have neither, so its message stands in.
        context=text(cause.get("Resource")) or target.resource or text(item.get("Message")),
        status=Status.FALSE_POSITIVE if state == "EXCEPTION" else None,
        status_reason="excepted by a Trivy exception policy" if state == "EXCEPTION" else None,
    )


def _secret(item: Mapping[str, Any], target: _Target) -> RawFinding:
    """Trivy masks the secret in ``Match`` and ``Code``: neither is kept, and the finding's
    identity falls back to its rule, file and line."""
    rule_id = rule(item.get("RuleID"))
    word = text(item.get("Severity"))
    category = text(item.get("Category"))
    return RawFinding(
        tool=_TOOL,
        kind=Kind.SECRET,
        rule_id=rule_id,
        title=title(item.get("Title"), rule_id),
        severity=severity_from_text(word),
        tool_severity=word,
        description=description(category and f"Category: {category}"),
        path=target.path,
        line=integer(item.get("StartLine")),
        end_line=integer(item.get("EndLine")),
    )


def _modified(item: Mapping[str, Any], target: _Target) -> RawFinding | None:
    """A finding that ``--show-suppressed`` lists as ignored (.trivyignore) or VEX-assessed."""
    read = _MODIFIED_READERS.get(text(item.get("Type")) or "")
    finding = read(mapping(item.get("Finding")), target) if read else None
    status = _MODIFIED_STATUSES.get(text(item.get("Status")) or "")
    if finding is None or status is None:
        return finding
    how = f"{item['Status']} by {text(item.get('Source')) or 'Trivy'}"
    statement = text(item.get("Statement"))
    finding.status = status
    finding.status_reason = f"{how}: {statement}" if statement else how
    return finding


def _cvss_score(item: Mapping[str, Any], preferred: str | None) -> float | None:
    sources = mapping(item.get("CVSS"))
    return first_positive_score(
        mapping(sources.get(name)).get(key)
        for name in dict.fromkeys([preferred or "", "nvd", *sources])
        for key in ("V40Score", "V3Score", "V2Score")
    )


_Reader = Callable[[Mapping[str, Any], _Target], Record | None]
_READERS: dict[str, _Reader] = {
    "Packages": _package,  # first: the components of the run, then its findings
    "Vulnerabilities": _vulnerability,
    "Misconfigurations": _misconfiguration,
    "Secrets": _secret,
    "ExperimentalModifiedFindings": _modified,
}
_MODIFIED_READERS: dict[str, Callable[[Mapping[str, Any], _Target], RawFinding | None]] = {
    "vulnerability": _vulnerability,
    "misconfiguration": _misconfiguration,
    "secret": _secret,
}

FORMAT = TrivyFormat()
