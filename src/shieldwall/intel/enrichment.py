"""What the store knows about the vulnerabilities of a batch of findings, in a few queries.

A finding lists the ids its tool gave (a CVE, a GHSA, a PYSEC id...). Each id is resolved
to its alias group, and the group's values are combined: KEV if any id is listed, the
highest EPSS, the newest-standard CVSS vector of the group's advisories.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.ingest.normalize import canonical_vulnerability_id
from shieldwall.intel.cvss import CvssFacts, parse_cvss
from shieldwall.intel.models import Advisory, EpssScore, KevEntry, VulnAlias
from shieldwall.risk.engine import VulnIntel

_CHUNK = 5000


def vulnerability_intel(
    session: Session, id_lists: Iterable[Sequence[str]]
) -> dict[tuple[str, ...], VulnIntel]:
    """Intelligence for each list of ids (keyed by the list as a tuple)."""
    lists = {tuple(ids) for ids in id_lists if ids}
    if not lists:
        return {}
    ids = {i for ids in lists for i in ids}
    group_of = dict(_pairs(session, VulnAlias.alias, ids))
    groups = {group_of.get(i, i) for i in ids}
    members: dict[str, set[str]] = defaultdict(set)
    for alias, group in _pairs(session, VulnAlias.group_key, groups):
        members[group].add(alias)
    for i in ids:
        members[group_of.get(i, i)].add(i)
    everything = {m for group in groups for m in members[group]}
    kev = {
        row.cve_id: row
        for chunk in _chunks(everything)
        for row in session.scalars(select(KevEntry).where(KevEntry.cve_id.in_(chunk)))
    }
    epss = {
        row.cve_id: row
        for chunk in _chunks(everything)
        for row in session.scalars(select(EpssScore).where(EpssScore.cve_id.in_(chunk)))
    }
    advisories = [
        row
        for chunk in _chunks(everything)
        for row in session.execute(
            select(Advisory.vuln_id, Advisory.cvss_vector, Advisory.exploit_references).where(
                Advisory.vuln_id.in_(chunk)
            )
        )
    ]
    vectors = {row.vuln_id: row.cvss_vector for row in advisories if row.cvss_vector}
    exploits = {row.vuln_id: row.exploit_references for row in advisories if row.exploit_references}
    out: dict[tuple[str, ...], VulnIntel] = {}
    for key in lists:
        names = sorted({m for i in key for m in members[group_of.get(i, i)]})
        listed = sorted((kev[n] for n in names if n in kev), key=lambda e: e.date_added)
        scores = [epss[n] for n in names if n in epss]
        top = max(scores, key=lambda s: s.score, default=None)
        out[key] = VulnIntel(
            key=canonical_vulnerability_id(names),
            aliases=tuple(names),
            kev_added=listed[0].date_added if listed else None,
            kev_due=listed[0].due_date if listed else None,
            ransomware=any(e.ransomware for e in listed),
            epss=top.score if top else None,
            epss_percentile=top.percentile if top else None,
            epss_date=top.score_date if top else None,
            cvss=_best([vectors[n] for n in names if n in vectors]),
            exploit_references=tuple(
                dict.fromkeys(url for n in names for url in exploits.get(n, ()))
            ),
        )
    return out


def _best(vectors: list[str]) -> CvssFacts | None:
    """The newest standard first (v4, v3.1, v3.0, v2), the higher score among equals."""
    facts = [f for f in (_parsed(v) for v in vectors) if f is not None]
    return max(facts, key=lambda f: (f.version, f.base_score), default=None)


@lru_cache(maxsize=16_384)
def _parsed(vector: str) -> CvssFacts | None:
    return parse_cvss(vector)


def _pairs(session: Session, column: object, values: set[str]) -> list[tuple[str, str]]:
    return [
        (row.alias, row.group_key)
        for chunk in _chunks(values)
        for row in session.execute(
            select(VulnAlias.alias, VulnAlias.group_key).where(column.in_(chunk))  # type: ignore[attr-defined]
        )
    ]


def _chunks(values: set[str]) -> Iterable[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]
