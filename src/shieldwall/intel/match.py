"""Stored components matched against the advisory store, as dependency findings.

The matches of one service and branch are imported as a complete scan by the tool
``shieldwall-intel``: the import machinery then creates the new findings, keeps the known
ones, and closes (as fixed) those whose component was upgraded or whose advisory was
withdrawn. A scanner that reports the same vulnerability in the same package meets the
match in one finding (the identity is the package and the vulnerability's canonical id).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from shieldwall.clock import utcnow
from shieldwall.config import Settings
from shieldwall.findings.vocabulary import Severity
from shieldwall.ingest.models import Component, ScanStream
from shieldwall.ingest.normalize import (
    kind_for_package,
    severity_from_score,
    vulnerability_ids,
)
from shieldwall.ingest.records import RawComponent, RawFinding, Record, ToolRun
from shieldwall.ingest.service import ImportRequest, ImportSummary, import_records
from shieldwall.intel import MATCH_TOOL
from shieldwall.intel.matching import Index, ecosystem_family, package_name_key
from shieldwall.intel.models import Advisory, AdvisoryPackage
from shieldwall.intel.osv import Affected, Range
from shieldwall.inventory.models import Service
from shieldwall.risk.policy import Policy

TOOL = MATCH_TOOL
_CHUNK = 2000


def match_service(
    session: Session, service: Service, branch: str, policy: Policy, settings: Settings
) -> ImportSummary | None:
    """Match one service's components on one branch; None when there is nothing to match
    against (no advisories loaded, no components)."""
    if session.scalar(select(Advisory.id).limit(1)) is None:
        return None
    components = _components(session, service.id, branch)
    if not components:
        return None
    index, known = advisory_index(session, components)
    request = ImportRequest(
        path=Path("advisory-match"), service=service.name, branch=branch, actor="intel:match"
    )
    return import_records(
        session,
        request,
        "osv-match",
        _records(components, index, known),
        batch_size=settings.import_batch_size,
        policy=policy,
    )


def match_all(session: Session, policy: Policy, settings: Settings) -> list[ImportSummary]:
    """Every service and branch with components: after new advisories arrive."""
    pairs = session.execute(
        select(Service, ScanStream.branch)
        .join(ScanStream, ScanStream.service_id == Service.id)
        .where(select(Component.id).where(Component.stream_id == ScanStream.id).exists())
        .distinct()
        .order_by(Service.name, ScanStream.branch)
    ).all()
    results = []
    for service, branch in pairs:
        summary = match_service(session, service, branch, policy, settings)
        if summary is not None:
            results.append(summary)
    return results


def _components(session: Session, service_id: int, branch: str) -> list[RawComponent]:
    rows = session.execute(
        select(Component.name, Component.version, Component.purl, Component.ecosystem)
        .join(ScanStream, ScanStream.id == Component.stream_id)
        .where(
            Component.service_id == service_id,
            ScanStream.branch == branch,
            ScanStream.tool != TOOL,
            Component.version.is_not(None),
            Component.ecosystem.is_not(None),
        )
        .distinct()
        .order_by(Component.ecosystem, Component.name, Component.version)
    )
    return [
        RawComponent(name=r.name, version=r.version, purl=r.purl, ecosystem=r.ecosystem)
        for r in rows
    ]


def advisory_index(
    session: Session, components: Sequence[RawComponent]
) -> tuple[Index, dict[str, Advisory]]:
    """Only the advisories of the components' packages are read."""
    keys = sorted(
        {
            (ecosystem_family(c.ecosystem or ""), package_name_key(c.ecosystem or "", c.name))
            for c in components
        }
    )
    index = Index()
    known: dict[str, Advisory] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        rows = session.execute(
            select(AdvisoryPackage, Advisory)
            .join(Advisory, Advisory.id == AdvisoryPackage.advisory_id)
            .where(
                tuple_(AdvisoryPackage.family, AdvisoryPackage.name_key).in_(chunk),
                Advisory.withdrawn.is_(None),
            )
        )
        for package, advisory in rows:
            index.add(advisory.vuln_id, _affected(package))
            known[advisory.vuln_id] = advisory
    return index, known


def _affected(package: AdvisoryPackage) -> Affected:
    return Affected(
        ecosystem=package.ecosystem,
        name=package.name,
        purl=package.purl,
        ranges=tuple(
            Range(
                type=str(r["type"]),
                events=tuple((str(k), str(v)) for k, v in r["events"]),  # type: ignore[attr-defined]
            )
            for r in package.ranges
        ),
        versions=tuple(package.versions),
    )


def _records(
    components: Sequence[RawComponent], index: Index, known: dict[str, Advisory]
) -> Iterator[Record]:
    yield ToolRun(TOOL, version=utcnow().date().isoformat())
    for component in components:
        # _components selects only components with both.
        ecosystem, version = component.ecosystem or "", component.version or ""
        for match in index.match(ecosystem, component.name, version):
            yield advisory_finding(
                component, match.advisory_id, match.fixed, known[match.advisory_id]
            )


def advisory_finding(
    component: RawComponent, advisory_id: str, fixed: str | None, known: Advisory
) -> RawFinding:
    ids = vulnerability_ids([advisory_id, *known.aliases])
    score = known.cvss_score
    severity = severity_from_score(score) if score else Severity.MEDIUM
    what = known.summary or advisory_id
    return RawFinding(
        tool=TOOL,
        kind=kind_for_package(component.purl, component.ecosystem),
        rule_id=advisory_id,
        title=f"{component.name} {component.version}: {what}",
        severity=severity,
        tool_severity=f"CVSS {score:g}" if score else "unrated",
        description=known.details,
        cwe_ids=list(known.cwe_ids),
        vulnerability_ids=ids,
        references=list(known.references),
        component=component,
        fixed_version=fixed,
    )
