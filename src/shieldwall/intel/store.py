"""Loading feeds into the intelligence store, idempotently and incrementally.

- OSV: a record whose content is unchanged is skipped; a changed one replaces its row and
  its affected packages; records absent from a load stay (a load may be one ecosystem or a
  handful of files). Alias groups are rebuilt after every load.
- KEV and EPSS files are whole snapshots: what a new snapshot no longer lists is removed,
  which is how a CVE taken off the KEV catalog loses its flag.

Each load is one transaction: a bad record leaves the store as it was.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import Table, bindparam, delete, distinct, func, insert, select, update
from sqlalchemy.orm import Session

from shieldwall.clock import utcnow
from shieldwall.db.engine import execute_many
from shieldwall.ingest.normalize import canonical_vulnerability_id
from shieldwall.intel import feeds
from shieldwall.intel.cvss import best_cvss
from shieldwall.intel.matching import ecosystem_family, package_name_key
from shieldwall.intel.models import (
    Advisory,
    AdvisoryPackage,
    EpssScore,
    IntelFeed,
    KevEntry,
    VulnAlias,
)
from shieldwall.intel.osv import Advisory as OsvRecord
from shieldwall.intel.osv import iter_advisories

_ADVISORIES = cast(Table, Advisory.__table__)
_PACKAGES = cast(Table, AdvisoryPackage.__table__)
_ALIASES = cast(Table, VulnAlias.__table__)
_KEV = cast(Table, KevEntry.__table__)
_EPSS = cast(Table, EpssScore.__table__)
_BATCH = 1000

# References that point at working exploit code: OSV's EVIDENCE type, and the exploit
# archives. A proof of concept in the open counts as SSVC "public poc".
_EXPLOIT_HOSTS = frozenset({"www.exploit-db.com", "exploit-db.com", "packetstormsecurity.com"})

Progress = Callable[[int], None]
"""Called with the number of records handled since the last call."""


@dataclass
class LoadResult:
    feed: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged

    def line(self) -> str:
        return (
            f"{self.feed}: {self.total} records ({self.added} new, {self.updated} changed, "
            f"{self.unchanged} unchanged, {self.removed} removed)"
        )


# --- OSV ------------------------------------------------------------------------------------


def load_osv(
    session: Session, path: Path, *, origin: str | None = None, progress: Progress | None = None
) -> LoadResult:
    now = utcnow()
    result = LoadResult("osv")
    known = {
        row.vuln_id: (row.id, row.digest)
        for row in session.execute(select(Advisory.id, Advisory.vuln_id, Advisory.digest))
    }
    families: set[str] = set()
    batch: list[OsvRecord] = []
    for record in iter_advisories(path):
        batch.append(record)
        families.update(ecosystem_family(a.ecosystem) for a in record.affected)
        if len(batch) >= _BATCH:
            _store_advisories(session, batch, known, result, now)
            if progress:
                progress(len(batch))
            batch.clear()
    _store_advisories(session, batch, known, result, now)
    if progress and batch:
        progress(len(batch))
    rebuild_aliases(session)
    where = origin or str(path)
    for family in sorted(families):
        _record_feed(session, f"osv:{family}", where, None, None, _osv_count(session, family), now)
    return result


def _store_advisories(
    session: Session,
    records: list[OsvRecord],
    known: dict[str, tuple[int, str]],
    result: LoadResult,
    now: datetime,
) -> None:
    fresh: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for record in _last_of_each(records):
        digest = _digest(record)
        row = _advisory_row(record, digest, now)
        previous = known.get(record.id)
        if previous is None:
            fresh.append(row)
        elif previous[1] != digest:
            changed.append({**row, "_id": previous[0]})
        else:
            result.unchanged += 1
    if changed:
        session.execute(
            update(_ADVISORIES)
            .where(_ADVISORIES.c.id == bindparam("_id"))
            .values({c: bindparam(c) for c in changed[0] if c != "_id"}),
            changed,
        )
        session.execute(
            delete(_PACKAGES).where(_PACKAGES.c.advisory_id.in_([r["_id"] for r in changed]))
        )
        result.updated += len(changed)
    execute_many(session, insert(_ADVISORIES), fresh)
    ids = {row["vuln_id"]: row["_id"] for row in changed}
    if fresh:
        inserted = select(Advisory.vuln_id, Advisory.id).where(
            Advisory.vuln_id.in_([r["vuln_id"] for r in fresh])
        )
        ids.update((vuln_id, pk) for vuln_id, pk in session.execute(inserted))
        result.added += len(fresh)
    packages = [
        _package_row(ids[record.id], affected)
        for record in _last_of_each(records)
        if record.id in ids
        for affected in record.affected
    ]
    execute_many(session, insert(_PACKAGES), packages)
    for row in [*fresh, *changed]:
        known[row["vuln_id"]] = (ids[row["vuln_id"]], row["digest"])


def _last_of_each(records: list[OsvRecord]) -> list[OsvRecord]:
    """A load may name one record twice (a folder and a zip of it): the last one wins."""
    return list({record.id: record for record in records}.values())


def _digest(record: OsvRecord) -> str:
    text = json.dumps(asdict(record), default=str, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _advisory_row(record: OsvRecord, digest: str, now: datetime) -> dict[str, Any]:
    cvss = best_cvss(record.severity)
    references = list(dict.fromkeys(url for _, url in record.references))
    exploits = [
        url
        for kind, url in record.references
        if kind.upper() == "EVIDENCE" or (urlsplit(url).hostname or "") in _EXPLOIT_HOSTS
    ]
    return {
        "vuln_id": record.id,
        "aliases": list(record.aliases),
        "summary": (record.summary or "")[:1000] or None,
        "details": record.details,
        "published": record.published,
        "modified": record.modified,
        "withdrawn": record.withdrawn,
        "cvss_vector": cvss.vector if cvss else None,
        "cvss_score": cvss.base_score if cvss else None,
        "cwe_ids": list(record.cwe_ids),
        "references": references[:100],
        "exploit_references": list(dict.fromkeys(exploits))[:20],
        "digest": digest,
        "loaded_at": now,
    }


def _package_row(advisory_id: int, affected: Any) -> dict[str, Any]:
    return {
        "advisory_id": advisory_id,
        "ecosystem": affected.ecosystem[:100],
        "family": ecosystem_family(affected.ecosystem)[:100],
        "name": affected.name[:1000],
        "name_key": package_name_key(affected.ecosystem, affected.name)[:1000],
        "purl": affected.purl,
        "ranges": [
            {"type": r.type, "events": [list(event) for event in r.events]} for r in affected.ranges
        ],
        "versions": list(affected.versions),
    }


def _osv_count(session: Session, family: str) -> int:
    return int(
        session.scalar(
            select(func.count(distinct(AdvisoryPackage.advisory_id))).where(
                AdvisoryPackage.family == family
            )
        )
        or 0
    )


def rebuild_aliases(session: Session) -> int:
    """Alias groups from every advisory's id and aliases (union-find): a GHSA record that
    names a CVE and a PYSEC record that names the same CVE are one vulnerability."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for vuln_id, aliases in session.execute(select(Advisory.vuln_id, Advisory.aliases)):
        root = find(vuln_id)
        for alias in aliases:
            other = find(alias)
            if other != root:
                parent[other] = root
    members: dict[str, list[str]] = {}
    for x in list(parent):
        members.setdefault(find(x), []).append(x)
    wanted = {
        alias: canonical_vulnerability_id(group) for group in members.values() for alias in group
    }
    stored = dict(session.execute(select(VulnAlias.alias, VulnAlias.group_key)).all())
    gone = [alias for alias in stored if alias not in wanted]
    if gone:
        for start in range(0, len(gone), _BATCH):
            session.execute(
                delete(_ALIASES).where(_ALIASES.c.alias.in_(gone[start : start + _BATCH]))
            )
    moved = [
        {"_alias": a, "group_key": g} for a, g in wanted.items() if a in stored and stored[a] != g
    ]
    if moved:
        session.execute(
            update(_ALIASES)
            .where(_ALIASES.c.alias == bindparam("_alias"))
            .values(group_key=bindparam("group_key")),
            moved,
        )
    execute_many(
        session,
        insert(_ALIASES),
        [{"alias": a, "group_key": g} for a, g in wanted.items() if a not in stored],
    )
    return len(wanted)


# --- KEV and EPSS ---------------------------------------------------------------------------


def load_kev(session: Session, path: Path, *, origin: str | None = None) -> LoadResult:
    catalog = feeds.parse_kev(path)
    rows = {entry.cve_id: _kev_row(entry) for entry in catalog.entries}
    result = _replace_snapshot(session, _KEV, "cve_id", rows, LoadResult("kev"))
    _record_feed(
        session,
        "kev",
        origin or str(path),
        catalog.version,
        catalog.released.date() if catalog.released else None,
        len(rows),
        utcnow(),
    )
    return result


def _kev_row(entry: feeds.KevEntry) -> dict[str, Any]:
    return {
        "cve_id": entry.cve_id,
        "vendor": entry.vendor,
        "product": entry.product,
        "name": entry.name,
        "date_added": entry.date_added,
        "due_date": entry.due_date,
        "ransomware": entry.ransomware,
        "notes": entry.notes,
    }


def load_epss(
    session: Session, path: Path, *, origin: str | None = None, progress: Progress | None = None
) -> LoadResult:
    header, scores = feeds.read_epss(path)
    rows: dict[str, dict[str, Any]] = {}
    for count, score in enumerate(scores, 1):
        rows[score.cve_id] = {
            "cve_id": score.cve_id,
            "score": score.score,
            "percentile": score.percentile,
            "score_date": header.score_date,
        }
        if progress and count % 10_000 == 0:
            progress(10_000)
    result = _replace_snapshot(session, _EPSS, "cve_id", rows, LoadResult("epss"))
    _record_feed(
        session,
        "epss",
        origin or str(path),
        header.model_version,
        header.score_date,
        len(rows),
        utcnow(),
    )
    return result


def _replace_snapshot(
    session: Session,
    table: Table,
    key: str,
    rows: dict[str, dict[str, Any]],
    result: LoadResult,
) -> LoadResult:
    """Make ``table`` hold exactly ``rows``, writing only the differences."""
    columns = [c for c in next(iter(rows.values()), {}) if c != key]
    stored = {
        row[0]: tuple(row[1:])
        for row in session.execute(select(table.c[key], *(table.c[c] for c in columns)))
    }
    gone = [k for k in stored if k not in rows]
    for start in range(0, len(gone), _BATCH):
        session.execute(delete(table).where(table.c[key].in_(gone[start : start + _BATCH])))
    result.removed = len(gone)
    fresh = [row for k, row in rows.items() if k not in stored]
    changed = [
        {**row, "_key": k}
        for k, row in rows.items()
        if k in stored and stored[k] != tuple(row[c] for c in columns)
    ]
    execute_many(session, insert(table), fresh)
    if changed:
        session.execute(
            update(table)
            .where(table.c[key] == bindparam("_key"))
            .values({c: bindparam(c) for c in columns}),
            [{k: v for k, v in row.items() if k != key} for row in changed],
        )
    result.added, result.updated = len(fresh), len(changed)
    result.unchanged = len(rows) - len(fresh) - len(changed)
    return result


# --- status ---------------------------------------------------------------------------------


def _record_feed(
    session: Session,
    name: str,
    origin: str,
    version: str | None,
    data_date: date | None,
    records: int,
    now: datetime,
) -> None:
    feed = session.get(IntelFeed, name)
    if feed is None:
        feed = IntelFeed(name=name)
        session.add(feed)
    feed.origin, feed.version, feed.data_date = origin[:2048], version, data_date
    feed.records, feed.loaded_at = records, now


@dataclass(frozen=True)
class FeedStatus:
    name: str
    records: int
    version: str | None
    data_date: date | None
    loaded_at: datetime
    age_days: int
    origin: str
    stale: bool


# How old a feed may be before `intel status` warns: KEV changes most weekdays, EPSS daily,
# OSV continuously.
STALE_AFTER_DAYS = {"kev": 7, "epss": 3}
_OSV_STALE_DAYS = 7


def status(session: Session, now: datetime | None = None) -> list[FeedStatus]:
    now = now or utcnow()
    out = []
    for feed in session.scalars(select(IntelFeed).order_by(IntelFeed.name)):
        reference = (
            datetime.combine(feed.data_date, datetime.min.time(), tzinfo=UTC)
            if feed.data_date
            else feed.loaded_at
        )
        age = max(0, (now - reference).days)
        limit = STALE_AFTER_DAYS.get(feed.name, _OSV_STALE_DAYS)
        out.append(
            FeedStatus(
                feed.name,
                feed.records,
                feed.version,
                feed.data_date,
                feed.loaded_at,
                age,
                feed.origin,
                age > limit,
            )
        )
    return out
